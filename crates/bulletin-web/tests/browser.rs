//! The corpus tag archive in a real browser: headless Chromium driven over
//! WebDriver (Debian's chromedriver, started here on a free port), at a desktop and
//! a phone viewport. Screenshots land in `target/browser/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulletin_store::StoryQuery;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::support;

/// A viewport the page is checked at.
struct Viewport {
    name: &'static str,
    width: u32,
    height: u32,
    mobile: bool,
}

const VIEWPORTS: [Viewport; 2] = [
    Viewport {
        name: "desktop",
        width: 1280,
        height: 900,
        mobile: false,
    },
    Viewport {
        name: "phone",
        width: 390,
        height: 844,
        mobile: true,
    },
];

/// chromedriver on a free port, in its own process group; dropping it kills the
/// group (chromedriver and any Chromium left behind), also when a check panics.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Chromedriver {
    async fn start(exe: &Path) -> Chromedriver {
        use std::os::unix::process::CommandExt;
        let port = support::free_port();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("chromedriver.log");
        let child = Command::new(exe)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let mut driver = Chromedriver {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = driver.child.try_wait() {
                panic!("chromedriver exited ({status}):\n{}", driver.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port} within 30 s:\n{}",
                driver.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        driver
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The group id is chromedriver's own pid (process_group(0) above).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Chrome DevTools Protocol call through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The browser's console since the last call (chromedriver's `se/log`, fed by
/// `goog:loggingPrefs`).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

async fn cdp(client: &Client, cmd: &'static str, params: Value) -> Value {
    client
        .issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"))
}

/// Console entries since the last call, as (level, message).
async fn console(client: &Client) -> Vec<(String, String)> {
    let entries = client.issue_cmd(BrowserLog).await.unwrap();
    entries
        .as_array()
        .unwrap_or_else(|| panic!("browser log: {entries}"))
        .iter()
        .map(|e| {
            (
                e["level"].as_str().unwrap_or_default().to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn errors(entries: &[(String, String)]) -> Vec<&str> {
    entries
        .iter()
        .filter(|(level, _)| level == "SEVERE")
        .map(|(_, message)| message.as_str())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tag_archive_in_chromium() {
    let hint = "apt-get install chromium chromium-driver";
    let Some(chromedriver) =
        support::tool("chromedriver", &["/usr/lib/chromium/chromedriver"], hint)
    else {
        return;
    };
    let Some(chromium) = support::tool("chromium", &["/usr/lib/chromium/chromium"], hint) else {
        return;
    };
    let Some(text) = super::corpus() else { return };

    let site = super::searchable_site().await;
    super::import(site.store.as_ref(), &text).await;
    site.index().await;
    let doc = bulletin_text::read_str(&text).unwrap();
    let tag = doc.tag.clone().expect("the corpus names its tag");
    let path = format!("/tag/{}/", bulletin_core::slugify(&tag));
    assert_eq!(path, "/tag/political-rights/");
    // Page 1, as the store orders it: newest first.
    let first_page = site
        .store
        .stories(&StoryQuery {
            tag: Some(tag.clone()),
            limit: 10,
            ..StoryQuery::default()
        })
        .await
        .unwrap()
        .stories;
    assert_eq!(first_page.len(), 10.min(doc.stories.len()));
    assert!(
        first_page
            .windows(2)
            .all(|w| w[0].dateline.date >= w[1].dateline.date),
        "the store's order is newest first"
    );
    let expected: Vec<String> = first_page.iter().map(|s| s.headline.clone()).collect();
    for headline in &expected {
        assert!(
            doc.stories.iter().any(|s| &s.headline == headline),
            "{headline:?} is not in the corpus"
        );
    }

    let shots = support::target_dir().join("browser");
    std::fs::create_dir_all(&shots).unwrap();

    let profile = tempfile::tempdir().unwrap();
    let driver = Chromedriver::start(&chromedriver).await;
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                format!("--user-data-dir={}", profile.path().display()),
                "--window-size=1280,900",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-quic",
                "--hide-scrollbars",
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await
        .unwrap_or_else(|e| panic!("no WebDriver session: {e}\n{}", driver.log_text()));

    let hash = bulletin_core::staff::hash_password(EDITOR_PASSWORD, &[3; 16]).unwrap();
    site.store
        .create_user(
            "editor@example.org",
            bulletin_core::staff::Role::Editor,
            &hash,
        )
        .await
        .unwrap();
    let page = format!("http://{}{path}", site.addr);
    let base = format!("http://{}", site.addr);
    let session = client.clone();
    let checks = tokio::spawn(async move {
        check_pages(session.clone(), page.clone(), expected, shots.clone()).await;
        search_from_the_header(session.clone(), page, shots.clone()).await;
        newsroom(session, base, shots).await;
    });
    let outcome = checks.await;
    let _ = client.close().await;
    drop(driver);
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

async fn check_pages(client: Client, page: String, expected: Vec<String>, shots: PathBuf) {
    // The console check must be able to fail: an error logged on purpose shows up.
    client
        .goto("data:text/html,<title>probe</title><script>console.error('bulletin-probe')</script>")
        .await
        .unwrap();
    let probe = console(&client).await;
    assert!(
        errors(&probe).iter().any(|m| m.contains("bulletin-probe")),
        "the browser log does not report console errors: {probe:?}"
    );

    for viewport in &VIEWPORTS {
        let name = viewport.name;
        cdp(
            &client,
            "Emulation.setDeviceMetricsOverride",
            json!({
                "width": viewport.width,
                "height": viewport.height,
                "deviceScaleFactor": 1,
                "mobile": viewport.mobile,
            }),
        )
        .await;
        client.goto(&page).await.unwrap();

        let h1 = client.find_all(Locator::Css("h1")).await.unwrap();
        assert_eq!(h1.len(), 1, "{name}: one h1");
        assert_eq!(
            h1[0].text().await.unwrap().trim(),
            "Tag Archives: political rights",
            "{name}: h1"
        );

        let mut headlines = Vec::new();
        for h2 in client
            .find_all(Locator::Css("main article h2"))
            .await
            .unwrap()
        {
            assert!(
                h2.is_displayed().await.unwrap(),
                "{name}: a hidden headline"
            );
            headlines.push(h2.text().await.unwrap().trim().to_owned());
        }
        assert_eq!(
            headlines, expected,
            "{name}: the stories of page 1, newest first"
        );

        let size = client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth];",
                vec![],
            )
            .await
            .unwrap();
        let (scroll_width, inner_width) = (size[0].as_u64().unwrap(), size[1].as_u64().unwrap());
        let width = u64::from(viewport.width);
        // Chromium's mobile emulation widens the layout viewport to fit content that
        // overflows, so compare with the device width too.
        assert!(
            scroll_width <= inner_width.min(width),
            "{name}: horizontal overflow: scrollWidth {scroll_width}, innerWidth \
             {inner_width}, viewport {width}"
        );
        // Laid out at the device width (meta viewport), not a zoomed-out desktop one.
        assert_eq!(inner_width, width, "{name}: layout viewport width");

        let shot = shots.join(format!("tag-{name}.png"));
        std::fs::write(&shot, full_page_png(&client).await).unwrap();
        println!("{name}: screenshot {}", shot.display());

        let log = console(&client).await;
        for (level, message) in &log {
            println!("{name}: console {level}: {message}");
        }
        let errors = errors(&log);
        assert!(errors.is_empty(), "{name}: console errors: {errors:#?}");
    }
}

/// A reader types a name into the header's search box and submits the form (no
/// JavaScript involved), then narrows the results by a country link.
async fn search_from_the_header(client: Client, page: String, shots: PathBuf) {
    client.goto(&page).await.unwrap();
    let form = client
        .form(Locator::Css("header form[role=search]"))
        .await
        .unwrap();
    form.set_by_name("q", "Alma-Ata").await.unwrap();
    form.submit().await.unwrap();
    // Submitting starts the navigation; wait for it to land.
    let url = wait_for_path(&client, "/search").await;
    assert_eq!(url.path(), "/search");
    assert_eq!(url.query(), Some("q=Alma-Ata"));
    let hits = client
        .find_all(Locator::Css("ol.hits li h2"))
        .await
        .unwrap();
    assert!(hits.len() >= 3, "Alma-Ata finds the Almaty stories");
    let marks = client.find_all(Locator::Css("ol.hits mark")).await.unwrap();
    assert!(!marks.is_empty());
    assert_eq!(marks[0].text().await.unwrap(), "Almaty");
    std::fs::write(shots.join("search.png"), full_page_png(&client).await).unwrap();
    client
        .find(Locator::LinkText("Kazakhstan"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let url = client.current_url().await.unwrap();
    assert!(url.query().unwrap().contains("country=KZ"), "{url}");
    let status = client.find(Locator::Css("[role=status]")).await.unwrap();
    assert!(status.text().await.unwrap().contains("stor"));
    let log = console(&client).await;
    let errors = errors(&log);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

const EDITOR_PASSWORD: &str = "a long enough password";

/// An editor signs in, writes a story with a dateline, puts it in a new issue,
/// publishes the issue, and finds the story on its tag page and in the feed.
async fn newsroom(client: Client, base: String, shots: PathBuf) {
    client.goto(&format!("{base}/admin/")).await.unwrap();
    let url = wait_for_path(&client, "/admin/login").await;
    assert_eq!(url.path(), "/admin/login", "the newsroom asks to sign in");
    let form = client.form(Locator::Css("form.admin-form")).await.unwrap();
    form.set_by_name("email", "editor@example.org")
        .await
        .unwrap();
    form.set_by_name("password", EDITOR_PASSWORD).await.unwrap();
    form.submit().await.unwrap();
    assert_eq!(wait_for_path(&client, "/admin/").await.path(), "/admin/");

    client
        .goto(&format!("{base}/admin/stories/new"))
        .await
        .unwrap();
    let headline = "Editors in Tbilisi test the newsroom";
    let form = client.form(Locator::Css("form.admin-form")).await.unwrap();
    form.set_by_name("headline", headline).await.unwrap();
    form.set_by_name("places", "Tbilisi").await.unwrap();
    form.set_by_name("date", "2021-08-02").await.unwrap();
    form.set_by_name(
        "body",
        "A first paragraph written in the browser.\n\nA second one.",
    )
    .await
    .unwrap();
    form.set_by_name("tags", "political rights").await.unwrap();
    form.submit_with(Locator::Css("button[value=preview]"))
        .await
        .unwrap();
    // The preview shows the dateline as the site will, before anything is saved.
    let preview = client
        .wait()
        .for_element(Locator::Css(".preview .dateline"))
        .await
        .unwrap();
    assert_eq!(
        preview.text().await.unwrap(),
        "TBILISI/AUG. 2 2021 (The Bulletin)"
    );
    std::fs::write(
        shots.join("newsroom-preview.png"),
        full_page_png(&client).await,
    )
    .unwrap();
    let form = client.form(Locator::Css("form.admin-form")).await.unwrap();
    form.submit_with(Locator::Css("button[value=save]"))
        .await
        .unwrap();
    let slug = "editors-in-tbilisi-test-the-newsroom";
    let saved = wait_for_path(&client, &format!("/admin/stories/{slug}")).await;
    assert_eq!(saved.path(), format!("/admin/stories/{slug}"));

    client.goto(&format!("{base}/admin/issues")).await.unwrap();
    let form = client.form(Locator::Css("form.filters")).await.unwrap();
    form.set_by_name("number", "600").await.unwrap();
    form.set_by_name("date", "2021-08-05").await.unwrap();
    form.submit().await.unwrap();
    assert_eq!(
        wait_for_path(&client, "/admin/issues/600").await.path(),
        "/admin/issues/600"
    );
    let form = client.form(Locator::Css("form.add-story")).await.unwrap();
    form.set_by_name("add", slug).await.unwrap();
    form.submit().await.unwrap();
    client
        .wait()
        .for_element(Locator::Css("ol.issue-stories li"))
        .await
        .unwrap();
    client
        .find(Locator::XPath("//button[normalize-space()='Publish now']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .wait()
        .for_element(Locator::Css("h1 .status.published"))
        .await
        .unwrap();
    std::fs::write(
        shots.join("newsroom-issue.png"),
        full_page_png(&client).await,
    )
    .unwrap();

    client
        .goto(&format!("{base}/tag/political-rights/"))
        .await
        .unwrap();
    let link = client.find(Locator::LinkText(headline)).await.unwrap();
    link.click().await.unwrap();
    let story = wait_for_path(&client, &format!("/2021/08/02/{slug}/")).await;
    assert_eq!(story.path(), format!("/2021/08/02/{slug}/"));
    let text = client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("published in issue 600"), "{text}");
    client.goto(&format!("{base}/feed/")).await.unwrap();
    assert!(client.source().await.unwrap().contains(headline));
    let log = console(&client).await;
    let errors = errors(&log);
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The whole page, not only the viewport.
async fn full_page_png(client: &Client) -> Vec<u8> {
    use base64::Engine;
    let metrics = cdp(client, "Page.getLayoutMetrics", json!({})).await;
    let size = &metrics["cssContentSize"];
    let shot = cdp(
        client,
        "Page.captureScreenshot",
        json!({
            "format": "png",
            "captureBeyondViewport": true,
            "clip": {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            },
        }),
    )
    .await;
    base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().expect("screenshot data"))
        .unwrap()
}

/// The current URL once its path is `path` (up to 10 s), else the last one seen.
async fn wait_for_path(client: &Client, path: &str) -> url::Url {
    let mut url = client.current_url().await.unwrap();
    for _ in 0..100 {
        if url.path() == path {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        url = client.current_url().await.unwrap();
    }
    url
}
