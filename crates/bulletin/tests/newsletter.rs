//! The whole story over real processes: a running `bulletin serve` and a real
//! SMTP server (aiosmtpd). A reader subscribes on the site and confirms by the
//! link in the message; `bulletin send` delivers the issue; the links in the
//! newsletter work against the running site (one-click unsubscribe by POST,
//! as RFC 8058 describes, and the page a GET shows); a paying reader signed
//! in by a magic link reads the whole story, a free one does not.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};

use serde_json::{Value, json};

use crate::{Archive, text, write};
use bulletin_test_support::smtp::{Received, SmtpSink};

const LEAD: &str = "The ferry timetable for the Caspian crossing changed this week.";
const WITHHELD: &str = "Only paying readers learn that the fares doubled overnight.";

/// A complete backup: issue 7 published, with one subscribers' story.
pub(crate) fn backup(base_url: &str) -> String {
    let story = json!({
        "slug": "caspian-ferry-timetable-changes",
        "headline": "Caspian ferry timetable changes",
        "dateline": {"places": ["Baku"], "date": "2024-03-05", "year_inferred": false,
                     "credit": "The Bulletin"},
        "body": [LEAD, WITHHELD],
        "tags": [], "countries": ["AZ"],
        "issue": {"number": 7, "date": "2024-03-07"},
        "first_published": false,
        "copyright": {"holder": "Example Test Letter", "year": 2024},
        "access": "subscribers", "url": "",
        "created_at": "2024-03-07T10:00:00Z", "updated_at": "2024-03-07T10:00:00Z",
        "revisions": []
    });
    let publication = json!({"name": "Example Test Letter", "credit": "The Bulletin",
        "base_url": base_url, "time_zone": "UTC",
        "copyright": "Copyright the {holder} {year}"});
    let issues = json!([{"number": 7, "date": "2024-03-07", "status": "published",
        "publish_at": null, "stories": ["caspian-ferry-timetable-changes"]}]);
    format!(
        "{{\"format\":\"bulletin-backup\",\"version\":1,\"publication\":{publication},\
         \"tags\":[],\"users\":[],\"subscribers\":[],\"issues\":{issues},\
         \"stories\":[{story}],\"drafts\":[],\"history\":[],\"redirects\":[]}}"
    )
}

/// Issue 7 of [`backup`] (its links to `http://127.0.0.1:8080`) in `archive`,
/// with `readers` as active subscribers on the free plan.
pub(crate) fn issue_seven_for(archive: &Archive, readers: impl IntoIterator<Item = String>) {
    let backup = backup("http://127.0.0.1:8080");
    archive.run_ok(&["import", &write(&archive.path("backup.json"), backup)]);
    let csv: String = std::iter::once("email,plan\n".to_owned())
        .chain(readers.into_iter().map(|r| format!("{r},free\n")))
        .collect();
    let csv = write(&archive.path("readers.csv"), csv);
    archive.run_ok(&["subscribers", "import", &csv, "--status", "active"]);
}

/// `bulletin serve` on `port`; stopped when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn serve(archive: &Archive, port: u16) -> Server {
    let mut child = archive
        .command()
        // The base URL is this machine's: mail work needs --dev.
        .args(["serve", "--dev", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("bulletin is serving"));
    assert!(ready, "the server did not start");
    // Keep reading its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Server(child)
}

/// One HTTP exchange: (status, headers with lowercase names, body).
pub(crate) fn http(
    port: u16,
    method: &str,
    target: &str,
    headers: &[String],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    let body = if head.to_lowercase().contains("transfer-encoding: chunked") {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, headers, body)
}

fn dechunk(mut raw: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = raw.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        raw = &rest[size + 2..];
    }
}

pub(crate) fn cookie(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_owned())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
}

pub(crate) fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

pub(crate) fn form_headers(cookie: &str) -> Vec<String> {
    vec![
        "Content-Type: application/x-www-form-urlencoded".into(),
        "Sec-Fetch-Site: same-origin".into(),
        format!("Cookie: {cookie}"),
    ]
}

/// Opens a link from a message (a page with one button) and presses the
/// button; the response to the press.
fn follow(port: u16, link: &str) -> (u16, Vec<(String, String)>, String) {
    let path = link.split_once(&format!("127.0.0.1:{port}")).unwrap().1;
    let (status, headers, page) = http(port, "GET", path, &[], "");
    assert_eq!(status, 200, "{page}");
    let form_cookie = cookie(&headers, "bulletin_form").unwrap();
    let token = field(&page, "form_token");
    http(
        port,
        "POST",
        path,
        &form_headers(&form_cookie),
        &format!("form_token={token}"),
    )
}

/// The link starting with `prefix` in a plain-text message.
fn link_in(message: &Received, prefix: &str) -> String {
    let text: String = message
        .parts()
        .into_iter()
        .filter(|(content_type, _)| content_type.starts_with("text/plain"))
        .map(|(_, body)| body)
        .collect();
    let start = text
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {text}"));
    text[start..].split_whitespace().next().unwrap().to_owned()
}

fn subscribe(port: u16, sink: &SmtpSink, email: &str) -> String {
    let (_, headers, page) = http(port, "GET", "/subscribe/", &[], "");
    let form_cookie = cookie(&headers, "bulletin_form").unwrap();
    let token = field(&page, "form_token");
    let before = sink.count();
    let (status, _, page) = http(
        port,
        "POST",
        "/subscribe/",
        &form_headers(&form_cookie),
        &format!("form_token={token}&email={}", email.replace('@', "%40")),
    );
    assert_eq!(status, 200, "{page}");
    let mail = sink.wait_for(before + 1);
    let confirmation = mail.last().unwrap();
    assert_eq!(confirmation.to(), email);
    let link = link_in(
        confirmation,
        &format!("http://127.0.0.1:{port}/subscribe/confirm/"),
    );
    let (status, headers, _) = follow(port, &link);
    assert_eq!(status, 303);
    cookie(&headers, "bulletin_reader").expect("signed in after confirming")
}

fn statuses(archive: &Archive) -> HashMap<String, (String, String)> {
    let list: Vec<Value> = text(&archive.run_ok(&["subscribers", "list", "--json"]).stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    list.into_iter()
        .map(|s| {
            (
                s["email"].as_str().unwrap().to_owned(),
                (
                    s["status"].as_str().unwrap().to_owned(),
                    s["plan"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

#[test]
fn subscribe_on_the_site_receive_the_issue_and_unsubscribe_from_it() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let file = write(&archive.path("backup.json"), backup(&base));
        archive.run_ok(&["import", &file]);
        write(
            &archive.path("bulletin.toml"),
            format!(
                "[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 1000\n",
                sink.url()
            ),
        );
        let _server = serve(&archive, port);

        let free_session = subscribe(port, &sink, "free@example.org");
        let paid_session = subscribe(port, &sink, "paid@example.org");
        let csv = write(
            &archive.path("plans.csv"),
            "email,plan\npaid@example.org,paid\n",
        );
        archive.run_ok(&["subscribers", "import", &csv]);
        let now = statuses(&archive);
        assert_eq!(now["free@example.org"], ("active".into(), "free".into()));
        assert_eq!(now["paid@example.org"], ("active".into(), "paid".into()));

        // The site: the paying reader's page has the whole story.
        let story = "/2024/03/05/caspian-ferry-timetable-changes/";
        let (_, _, page) = http(port, "GET", story, &[format!("Cookie: {paid_session}")], "");
        assert!(page.contains(WITHHELD), "[{}] {page}", archive.name());
        let (_, _, page) = http(port, "GET", story, &[format!("Cookie: {free_session}")], "");
        assert!(page.contains(LEAD) && !page.contains(WITHHELD));
        let (_, _, page) = http(port, "GET", story, &[], "");
        assert!(!page.contains(WITHHELD));

        // The newsletter: one message each, each with its reader's copy.
        let before = sink.count();
        let out = archive.run_ok(&["send", "7"]);
        assert!(
            text(&out.stdout).contains("2 sent") || text(&out.stderr).contains("2 sent"),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        let mail = sink.wait_for(before + 2);
        let issue_mail: Vec<&Received> = mail[before..].iter().collect();
        assert_eq!(issue_mail.len(), 2);
        let by_reader: HashMap<&str, &Received> = issue_mail.iter().map(|m| (m.to(), *m)).collect();
        let free = by_reader["free@example.org"];
        let paid = by_reader["paid@example.org"];
        let all_text = |m: &Received| {
            m.parts()
                .into_iter()
                .map(|(_, body)| body)
                .collect::<String>()
        };
        assert!(all_text(paid).contains(WITHHELD));
        assert!(all_text(free).contains(LEAD) && !all_text(free).contains(WITHHELD));

        // The free reader's unsubscribe link, from List-Unsubscribe, works
        // against the running site: a GET only asks, the one-click POST acts.
        let header = free.header("list-unsubscribe").unwrap();
        let link = header.trim_start_matches('<').trim_end_matches('>');
        assert!(link.starts_with(&format!("{base}/unsubscribe/")), "{link}");
        assert_eq!(link, link_in(free, &format!("{base}/unsubscribe/")));
        assert_eq!(
            free.header("list-unsubscribe-post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
        let path = link.strip_prefix(&base).unwrap();
        let (status, _, page) = http(port, "GET", path, &[], "");
        assert_eq!(status, 200);
        assert!(page.contains("free@example.org"));
        assert_eq!(statuses(&archive)["free@example.org"].0, "active");
        let (status, _, _) = http(
            port,
            "POST",
            path,
            &["Content-Type: application/x-www-form-urlencoded".into()],
            "List-Unsubscribe=One-Click",
        );
        assert_eq!(status, 200);
        assert_eq!(statuses(&archive)["free@example.org"].0, "unsubscribed");
        // The paying reader's link is theirs alone.
        let paid_link = link_in(paid, &format!("{base}/unsubscribe/"));
        assert_ne!(paid_link, link);
        assert_eq!(statuses(&archive)["paid@example.org"].0, "active");

        // Sending again sends nothing more.
        let before = sink.count();
        archive.run_ok(&["send", "7"]);
        assert_eq!(sink.count(), before, "[{}]", archive.name());
    }
}

/// "An editor publishes an issue and every subscriber gets exactly one
/// correct email": the newsroom's button queues it, the running site sends it.
#[test]
fn an_editor_sends_the_issue_from_the_newsroom_and_the_site_delivers_it() {
    const PASSWORD: &str = "a long enough editor password";
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let file = write(
            &archive.path("backup.json"),
            backup(&format!("http://127.0.0.1:{port}")),
        );
        archive.run_ok(&["import", &file]);
        let csv = write(
            &archive.path("list.csv"),
            "email,plan,status\na@example.org,free,active\nb@example.org,paid,active\n\
             c@example.org,free,pending\nd@example.org,paid,unsubscribed\n",
        );
        archive.run_ok(&["subscribers", "import", &csv]);
        let mut add = archive
            .command()
            .args(["user", "add", "editor@example.org", "--role", "editor"])
            .stdin(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        add.stdin
            .take()
            .unwrap()
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .unwrap();
        assert!(add.wait().unwrap().success());
        write(
            &archive.path("bulletin.toml"),
            format!(
                "[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 1000\n",
                sink.url()
            ),
        );
        let _server = serve(&archive, port);

        // Sign in to the newsroom.
        let (_, headers, page) = http(port, "GET", "/admin/login", &[], "");
        let form_cookie = cookie(&headers, "bulletin_form").unwrap();
        let token = field(&page, "form_token");
        let (status, headers, page) = http(
            port,
            "POST",
            "/admin/login",
            &form_headers(&form_cookie),
            &format!(
                "form_token={token}&email=editor%40example.org&password={}",
                PASSWORD.replace(' ', "+")
            ),
        );
        assert_eq!(status, 303, "{page}");
        let session = cookie(&headers, "bulletin_session").unwrap();
        let (_, _, page) = http(
            port,
            "GET",
            "/admin/issues/7",
            &[format!("Cookie: {session}")],
            "",
        );
        let csrf = field(&page, "csrf");
        let (status, _, page) = http(
            port,
            "POST",
            "/admin/issues/7/send",
            &form_headers(&session),
            &format!("csrf={csrf}"),
        );
        assert_eq!(status, 303, "{page}");

        // The running site's sender delivers one message to each active
        // subscriber, and nobody else.
        sink.wait_for(2);
        // The issue page shows it done...
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let (_, _, page) = http(
                port,
                "GET",
                "/admin/issues/7",
                &[format!("Cookie: {session}")],
                "",
            );
            if page.contains("2 sent, 0 failed, 0 waiting, of 2") {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{page}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        // ...and with the queue done, the sink holds everything there is.
        let mail = sink.messages();
        let mut to: Vec<&str> = mail.iter().map(Received::to).collect();
        to.sort_unstable();
        assert_eq!(
            to,
            ["a@example.org", "b@example.org"],
            "[{}]",
            archive.name()
        );
        let copy = |who: &str| {
            mail.iter()
                .find(|m| m.to() == who)
                .unwrap()
                .parts()
                .into_iter()
                .map(|(_, body)| body)
                .collect::<String>()
        };
        assert!(!copy("a@example.org").contains(WITHHELD));
        assert!(copy("b@example.org").contains(WITHHELD));
    }
}
