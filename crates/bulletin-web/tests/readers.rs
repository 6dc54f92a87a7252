//! Readers over real HTTP, with the site's mail going over real SMTP to a
//! recording server on a loopback port: subscribing with double opt-in,
//! magic-link sign-in, the account page, one-click unsubscribe, the private
//! feed, and the access rule for a signed-in paying reader.

use std::sync::{Arc, Mutex, OnceLock};

use bulletin_core::Access;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::token::{Claims, Purpose, sign};
use bulletin_store::Store;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::{Reply, Site, request, site_with};

/// One message the recording SMTP server was given: (recipients, text).
pub(super) type Received = (Vec<String>, String);

/// What the recording SMTP server was given. The site only queues reader
/// mail; reading what was given first waits until the queue is delivered.
#[derive(Clone, Default)]
pub(super) struct Outbox {
    received: Arc<Mutex<Vec<Received>>>,
    store: Arc<OnceLock<Arc<dyn Store>>>,
}

impl Outbox {
    /// Waits until no notice is queued or being sent: each delivered one is
    /// in the record (the recorder keeps a message before it answers 250,
    /// and a notice leaves the queue only after that answer).
    pub(super) async fn settle(&self) {
        let store = self.store.get().expect("the outbox knows the site's store");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while store.notices_waiting().await.unwrap() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "reader mail was not delivered within a minute"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    pub(super) async fn messages(&self) -> Vec<Received> {
        self.settle().await;
        self.received.lock().unwrap().clone()
    }

    /// The messages to `to`, decoded enough to find links in.
    pub(super) async fn to(&self, to: &str) -> Vec<String> {
        self.messages()
            .await
            .into_iter()
            .filter(|(rcpt, _)| rcpt.iter().any(|r| r.contains(to)))
            .map(|(_, data)| unfold(&data))
            .collect()
    }
}

/// Undoes quoted-printable soft line breaks and `=3D`, which is all a link in
/// a plain-text notice can be wrapped in.
fn unfold(data: &str) -> String {
    data.replace("=\r\n", "").replace("=3D", "=")
}

/// An SMTP server that accepts everything and records it (RFC 5321, enough
/// for lettre).
/// Each session waits for a permit of `gate`, when given, before it greets
/// the client: until the test adds permits, a client is held unanswered.
pub(super) async fn smtp_server(gate: Option<Arc<Semaphore>>) -> (u16, Outbox) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let outbox = Outbox::default();
    let record = outbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let record = record.clone();
            let gate = gate.clone();
            tokio::spawn(async move {
                if let Some(gate) = gate {
                    gate.acquire().await.unwrap().forget();
                }
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read);
                let _ = write.write_all(b"220 localhost recorder\r\n").await;
                let mut rcpt = Vec::new();
                let mut line = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let upper = line.trim_end().to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250-localhost\r\n250 8BITMIME\r\n"
                    } else if upper.starts_with("RCPT TO:") {
                        rcpt.push(line.trim_end()[8..].to_owned());
                        b"250 OK\r\n"
                    } else if upper == "DATA" {
                        let _ = write.write_all(b"354 go ahead\r\n").await;
                        let mut data = String::new();
                        loop {
                            line.clear();
                            if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                                return;
                            }
                            if line == ".\r\n" {
                                break;
                            }
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                        }
                        record
                            .received
                            .lock()
                            .unwrap()
                            .push((std::mem::take(&mut rcpt), data));
                        b"250 queued\r\n"
                    } else if upper == "QUIT" {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, outbox)
}

async fn reader_site() -> (Site, Outbox) {
    reader_site_with(None).await
}

/// A site whose reader mail goes to a recording SMTP server (held by `gate`,
/// when given), delivered by the same notice loop `bulletin serve` runs.
pub(super) async fn reader_site_with(gate: Option<Arc<Semaphore>>) -> (Site, Outbox) {
    let (port, outbox) = smtp_server(gate).await;
    let mailer = bulletin_mail::Mailer::new(&bulletin_mail::SmtpSettings {
        url: format!("smtp://127.0.0.1:{port}"),
        from: "news@bulletin.example.org".into(),
        from_name: Some("The Test Letter".into()),
        list_id: None,
        per_second: 100,
        dkim: Vec::new(),
        bounce_address: None,
    })
    .unwrap();
    let wake = Arc::new(tokio::sync::Notify::new());
    let site = site_with(
        None,
        bulletin_web::Options {
            mailer: Some(mailer.clone()),
            mail_queued: Arc::clone(&wake),
            ..Default::default()
        },
    )
    .await;
    tokio::spawn(bulletin_mail::sender::keep_delivering_notices(
        Arc::clone(&site.store),
        mailer,
        wake,
        std::time::Duration::from_secs(1),
        |e| panic!("the notice queue failed: {e}"),
    ));
    outbox.store.set(Arc::clone(&site.store)).ok().unwrap();
    // Links in messages point at this server.
    let mut publication = site.store.publication().await.unwrap();
    publication.base_url = format!("http://{}", site.addr);
    site.store.set_publication(&publication).await.unwrap();
    (site, outbox)
}

const LEAD: &str = "Lead paragraph everyone may read.";
const PAID_ONE: &str = "Second paragraph only paying readers see.";
const PAID_TWO: &str = "Third paragraph, also for paying readers.";

/// One subscribers' story with three paragraphs; its address.
async fn paid_story(site: &Site) -> String {
    let text = format!(
        "Ferry fares rise on the Caspian\n\n\
         AKTAU/MAY 3 2022 (The Bulletin) \u{2014} {LEAD}\n\n{PAID_ONE}\n\n{PAID_TWO}\n\nENDS\n\n\
         \u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\n\
         \u{2014} Copyright the Example Bulletin 2022\n"
    );
    let mut stories = bulletin_text::read_str(&text).unwrap().stories;
    stories[0].access = Access::Subscribers;
    let url = stories[0].url();
    let mut tx = site.store.begin_import().await.unwrap();
    tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
    url
}

fn cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.split(';').next().unwrap_or("").to_owned())
        .collect()
}

fn cookie(reply: &Reply, name: &str) -> Option<String> {
    cookies(reply)
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .filter(|c| c.len() > name.len() + 1)
}

/// The value of the hidden field `name` in a page.
fn field(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no field {name} in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

pub(super) async fn post(site: &Site, path: &str, cookie: &str, body: &str) -> Reply {
    let mut headers = vec![
        "Content-Type: application/x-www-form-urlencoded".to_owned(),
        format!("Content-Length: {}", body.len()),
        "Sec-Fetch-Site: same-origin".to_owned(),
    ];
    if !cookie.is_empty() {
        headers.push(format!("Cookie: {cookie}"));
    }
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    request_with_body(site, "POST", path, &refs, body).await
}

async fn request_with_body(
    site: &Site,
    method: &str,
    target: &str,
    headers: &[&str],
    body: &str,
) -> Reply {
    use tokio::io::AsyncReadExt;
    let mut stream = tokio::net::TcpStream::connect(site.addr).await.unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        site.addr
    );
    for h in headers {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.push_str(body);
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    crate::parse_reply(&raw)
}

async fn get_with(site: &Site, path: &str, cookie: &str) -> Reply {
    let header = format!("Cookie: {cookie}");
    let headers: Vec<&str> = if cookie.is_empty() {
        vec![]
    } else {
        vec![header.as_str()]
    };
    request(site, "GET", path, &headers).await
}

/// A form page's token and the cookie that goes with it.
pub(super) async fn form(site: &Site, path: &str) -> (String, String) {
    let page = request(site, "GET", path, &[]).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let token = field(&page.text(), "form_token");
    let cookie = cookie(&page, "bulletin_form").expect("a form cookie");
    (token, cookie)
}

/// The private feed's path on the account page (minijinja writes `/` as `&#x2f;`).
fn feed_path(account: &str) -> Option<String> {
    let page = account.replace("&#x2f;", "/");
    let start = page.find("/feed/private/")?;
    Some(page[start..][..page[start..].find('"')?].to_owned())
}

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The link after `prefix` in the newest message to `to`.
async fn link(outbox: &Outbox, to: &str, prefix: &str) -> String {
    let messages = outbox.to(to).await;
    let last = messages.last().unwrap_or_else(|| panic!("no mail to {to}"));
    let start = last
        .find(prefix)
        .unwrap_or_else(|| panic!("no {prefix} in {last}"));
    last[start..].split_whitespace().next().unwrap().to_owned()
}

/// Subscribes `email` through the form and the confirmation link; returns
/// the session cookie.
async fn subscribe_and_confirm(site: &Site, outbox: &Outbox, email: &str) -> String {
    let (token, form_cookie) = form(site, "/subscribe/").await;
    let reply = post(
        site,
        "/subscribe/",
        &form_cookie,
        &format!("form_token={token}&email={}&name=A+Reader", encode(email)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    assert!(reply.text().contains("Check your inbox"));
    // The address is kept, and written to, in lowercase.
    let email = email.to_lowercase();
    let email = email.as_str();
    let base = format!("http://{}", site.addr);
    let confirm = link(outbox, email, &format!("{base}/subscribe/confirm/")).await;
    let path = confirm.strip_prefix(&base).unwrap().to_owned();
    // A GET shows a button and changes nothing (mail scanners open links).
    let (token, form_cookie) = form(site, &path).await;
    assert_eq!(
        site.store.subscriber(email).await.unwrap().unwrap().status,
        SubscriberStatus::Pending
    );
    let reply = post(site, &path, &form_cookie, &format!("form_token={token}")).await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/account/?welcome"));
    let session = cookie(&reply, "bulletin_reader").expect("a reader session");
    let subscriber = site.store.subscriber(email).await.unwrap().unwrap();
    assert_eq!(subscriber.status, SubscriberStatus::Active);
    assert_eq!(subscriber.name, "A Reader");
    // The link works once.
    let (token, form_cookie) = match request(site, "GET", &path, &[]).await {
        r if r.status == 400 => (String::new(), String::new()),
        r => (
            field(&r.text(), "form_token"),
            cookie(&r, "bulletin_form").unwrap(),
        ),
    };
    let again = post(site, &path, &form_cookie, &format!("form_token={token}")).await;
    assert_eq!(again.status, 400, "{}", again.text());
    session
}

#[tokio::test]
async fn double_opt_in_then_the_access_rule_follows_the_plan() {
    let (site, outbox) = reader_site().await;
    let url = paid_story(&site).await;
    let session = subscribe_and_confirm(&site, &outbox, "Reader@Example.org").await;
    let email = "reader@example.org";

    // The confirmation message: one recipient, the right sender and subject.
    let messages = outbox.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, vec!["<reader@example.org>".to_owned()]);
    assert!(messages[0].1.contains("The Test Letter"));
    assert!(messages[0].1.contains("<news@bulletin.example.org>"));
    assert!(messages[0].1.contains("Subject: Confirm your subscription"));

    // Signed in on a free plan: the lead only, an invitation, and a private page.
    let free = get_with(&site, &url, &session).await;
    assert_eq!(free.status, 200);
    assert_eq!(free.header("cache-control"), Some("private, no-store"));
    let text = free.text();
    assert!(text.contains(LEAD) && !text.contains(PAID_ONE) && !text.contains(PAID_TWO));
    assert!(
        text.contains("<a href=\"/account/\">Your account</a>"),
        "{text}"
    );

    // Staff make the plan paid: the same session reads everything at once.
    site.store
        .set_subscriber_plan(email, Plan::Paid, 0)
        .await
        .unwrap();
    let paid = get_with(&site, &url, &session).await;
    let text = paid.text();
    assert!(text.contains(PAID_ONE) && text.contains(PAID_TWO), "{text}");
    assert!(text.contains("<div class=\"paywall\">"));
    assert!(!text.contains("for subscribers. "));
    assert_eq!(paid.header("cache-control"), Some("private, no-store"));
    assert!(paid.header("etag").is_none());
    let ld = text
        .split("<script type=\"application/ld+json\">")
        .nth(1)
        .and_then(|rest| rest.split("</script>").next())
        .unwrap();
    let ld: serde_json::Value = serde_json::from_str(ld).unwrap();
    // Being paid for does not make the story free.
    assert_eq!(ld["isAccessibleForFree"], false);
    assert!(ld["articleBody"].as_str().unwrap().contains(PAID_TWO));

    // The anonymous page right after is still the anonymous one, from the
    // cache or not, and so is every anonymous output.
    for _ in 0..2 {
        let anonymous = get_with(&site, &url, "").await.text();
        assert!(!anonymous.contains(PAID_ONE) && !anonymous.contains(PAID_TWO));
    }
    // A made-up or stale cookie is simply anonymous.
    let forged = get_with(&site, &url, "bulletin_reader=made-up").await;
    assert_eq!(forged.status, 200);
    assert!(!forged.text().contains(PAID_ONE));

    // Signing out ends the session.
    let account = get_with(&site, "/account/", &session).await;
    assert_eq!(account.status, 200);
    assert!(account.text().contains(email));
    let csrf = field(&account.text(), "csrf");
    let out = post(
        &site,
        "/account/",
        &session,
        &format!("csrf={csrf}&action=sign-out"),
    )
    .await;
    assert_eq!(out.status, 303);
    let after = get_with(&site, &url, &session).await.text();
    assert!(!after.contains(PAID_ONE));
    let account = get_with(&site, "/account/", &session).await;
    assert_eq!(account.status, 303);
    assert_eq!(account.header("location"), Some("/account/sign-in/"));
}

#[tokio::test]
async fn magic_links_sign_in_once_and_reveal_no_addresses() {
    let (site, outbox) = reader_site().await;
    subscribe_and_confirm(&site, &outbox, "known@example.org").await;
    let before = outbox.messages().await.len();

    // An unknown address gets the same page and no mail.
    let (token, form_cookie) = form(&site, "/account/sign-in/").await;
    let unknown = post(
        &site,
        "/account/sign-in/",
        &form_cookie,
        &format!("form_token={token}&email=nobody%40example.org"),
    )
    .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(outbox.messages().await.len(), before);

    let (token, form_cookie) = form(&site, "/account/sign-in/").await;
    let known = post(
        &site,
        "/account/sign-in/",
        &form_cookie,
        &format!("form_token={token}&email=known%40example.org"),
    )
    .await;
    assert_eq!(known.status, 200);
    assert_eq!(unknown.text(), known.text());
    let base = format!("http://{}", site.addr);
    let link = link(
        &outbox,
        "known@example.org",
        &format!("{base}/account/sign-in/"),
    )
    .await;
    let path = link.strip_prefix(&base).unwrap().to_owned();
    let (token, form_cookie) = form(&site, &path).await;
    let signed = post(&site, &path, &form_cookie, &format!("form_token={token}")).await;
    assert_eq!(signed.status, 303);
    assert!(cookie(&signed, "bulletin_reader").is_some());
    // Spent: a second use, or a replay of the same form, is refused.
    let replay = post(&site, &path, &form_cookie, &format!("form_token={token}")).await;
    assert_eq!(replay.status, 400);
    assert!(cookie(&replay, "bulletin_reader").is_none());
}

#[tokio::test]
async fn forged_expired_and_misused_tokens_are_refused() {
    let (site, _outbox) = reader_site().await;
    let secret = site
        .store
        .site_secret(bulletin_mail::links::TOKEN_SECRET, "candidate", 0)
        .await
        .unwrap();
    let now = jiff::Timestamp::now().as_second();
    let sign_for = |purpose, expires| {
        sign(
            secret.as_bytes(),
            &Claims::new(purpose, "reader@example.org", expires, "n-1"),
        )
    };
    let expired = sign_for(Purpose::Confirm, now - 10);
    let wrong_purpose = sign_for(Purpose::Unsubscribe, 0);
    let forged = sign(
        b"another secret",
        &Claims::new(Purpose::Confirm, "reader@example.org", now + 600, "n-2"),
    );
    for token in [expired, wrong_purpose, forged, "v1.garbage".to_owned()] {
        let page = request(&site, "GET", &format!("/subscribe/confirm/{token}"), &[]).await;
        assert_eq!(page.status, 400, "{token}");
        assert!(page.text().contains("This link does not work"));
    }
    let confirm_as_sign_in = sign_for(Purpose::Confirm, now + 600);
    let page = request(
        &site,
        "GET",
        &format!("/account/sign-in/{confirm_as_sign_in}"),
        &[],
    )
    .await;
    assert_eq!(page.status, 400);
    // A very long token costs nothing and is refused.
    let long = format!("v1.{}", "x".repeat(900));
    assert_eq!(
        request(&site, "GET", &format!("/unsubscribe/{long}"), &[])
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn one_click_unsubscribe_as_rfc_8058_describes() {
    let (site, outbox) = reader_site().await;
    subscribe_and_confirm(&site, &outbox, "leaving@example.org").await;
    let secret = site
        .store
        .site_secret(bulletin_mail::links::TOKEN_SECRET, "unused", 0)
        .await
        .unwrap();
    let url = bulletin_mail::links::unsubscribe_url(
        &format!("http://{}", site.addr),
        secret.as_bytes(),
        "leaving@example.org",
        "issue-1-1",
    );
    let path = url.split_once(&site.addr.to_string()).unwrap().1.to_owned();
    // GET only asks.
    let page = request(&site, "GET", &path, &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("leaving@example.org"));
    assert!(
        page.text()
            .contains("name=\"List-Unsubscribe\" value=\"One-Click\"")
    );
    let status = || async {
        site.store
            .subscriber("leaving@example.org")
            .await
            .unwrap()
            .unwrap()
            .status
    };
    assert_eq!(status().await, SubscriberStatus::Active);
    // A POST without the one-click body does nothing.
    let empty = request_with_body(
        &site,
        "POST",
        &path,
        &[
            "Content-Type: application/x-www-form-urlencoded",
            "Content-Length: 0",
        ],
        "",
    )
    .await;
    assert_eq!(empty.status, 400);
    assert_eq!(status().await, SubscriberStatus::Active);
    // The mail client's POST: no cookie, no form token, from another site.
    let body = "List-Unsubscribe=One-Click";
    let length = format!("Content-Length: {}", body.len());
    let done = request_with_body(
        &site,
        "POST",
        &path,
        &[
            "Content-Type: application/x-www-form-urlencoded",
            &length,
            "Sec-Fetch-Site: cross-site",
        ],
        body,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(status().await, SubscriberStatus::Unsubscribed);
    // Again: still fine, still unsubscribed.
    let again = request_with_body(
        &site,
        "POST",
        &path,
        &["Content-Type: application/x-www-form-urlencoded", &length],
        body,
    )
    .await;
    assert_eq!(again.status, 200);
    assert_eq!(status().await, SubscriberStatus::Unsubscribed);
    // RFC 8058's own example posts multipart/form-data.
    subscribe_and_confirm(&site, &outbox, "multi@example.org").await;
    let url = bulletin_mail::links::unsubscribe_url(
        &format!("http://{}", site.addr),
        secret.as_bytes(),
        "multi@example.org",
        "issue-1-2",
    );
    let multi_path = url.split_once(&site.addr.to_string()).unwrap().1.to_owned();
    let body = "--FormBoundary\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--FormBoundary--\r\n";
    let length = format!("Content-Length: {}", body.len());
    let done = request_with_body(
        &site,
        "POST",
        &multi_path,
        &[
            "Content-Type: multipart/form-data; boundary=FormBoundary",
            &length,
        ],
        body,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(
        site.store
            .subscriber("multi@example.org")
            .await
            .unwrap()
            .unwrap()
            .status,
        SubscriberStatus::Unsubscribed
    );
    // Signing up again needs a new confirmation: the address stays out until then.
    let (token, form_cookie) = form(&site, "/subscribe/").await;
    post(
        &site,
        "/subscribe/",
        &form_cookie,
        &format!("form_token={token}&email=leaving%40example.org"),
    )
    .await;
    assert_eq!(status().await, SubscriberStatus::Unsubscribed);
    assert!(
        outbox
            .to("leaving@example.org")
            .await
            .last()
            .unwrap()
            .contains("/subscribe/confirm/"),
        "a new confirmation"
    );
}

#[tokio::test]
async fn bad_sign_ups_are_refused_and_floods_limited() {
    let (site, outbox) = reader_site().await;
    // No form token, or another site's post: refused, nothing stored or sent.
    let bare = post(&site, "/subscribe/", "", "email=x%40example.org").await;
    assert_eq!(bare.status, 403);
    let (token, form_cookie) = form(&site, "/subscribe/").await;
    let body = format!("form_token={token}&email=x%40example.org");
    let length = format!("Content-Length: {}", body.len());
    let cookie_header = format!("Cookie: {form_cookie}");
    let cross = request_with_body(
        &site,
        "POST",
        "/subscribe/",
        &[
            "Content-Type: application/x-www-form-urlencoded",
            &length,
            &cookie_header,
            "Sec-Fetch-Site: cross-site",
        ],
        &body,
    )
    .await;
    assert_eq!(cross.status, 403);
    // Malformed addresses and header injection in names or addresses.
    for (email, name) in [
        ("not-an-address", "A"),
        ("a%40example.org%0D%0ABcc%3A+all%40example.org", "A"),
        ("b%40example.org", "A+Reader%0D%0ABcc%3A+all%40example.org"),
        ("c%40example.org", "%3Cscript%3E"),
    ] {
        let (token, form_cookie) = form(&site, "/subscribe/").await;
        let reply = post(
            &site,
            "/subscribe/",
            &form_cookie,
            &format!("form_token={token}&email={email}&name={name}"),
        )
        .await;
        assert_eq!(reply.status, 422, "{email} {name}: {}", reply.text());
        assert!(!reply.text().contains("<script>"));
    }
    assert_eq!(
        site.store
            .count_subscribers(&Default::default())
            .await
            .unwrap(),
        0
    );
    assert!(outbox.messages().await.is_empty());
    // Duplicate sign-ups: one row; past three messages an hour, no more mail.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let (token, form_cookie) = form(&site, "/subscribe/").await;
        let reply = post(
            &site,
            "/subscribe/",
            &form_cookie,
            &format!("form_token={token}&email=twice%40example.org"),
        )
        .await;
        statuses.push(reply.status);
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    assert_eq!(outbox.to("twice@example.org").await.len(), 3);
    assert_eq!(
        site.store
            .count_subscribers(&Default::default())
            .await
            .unwrap(),
        1
    );
    // A flood of different addresses from one client stops at the limit.
    let mut limited = false;
    for i in 0..12 {
        let (token, form_cookie) = form(&site, "/subscribe/").await;
        let reply = post(
            &site,
            "/subscribe/",
            &form_cookie,
            &format!("form_token={token}&email=flood{i}%40example.org"),
        )
        .await;
        limited |= reply.status == 429;
    }
    assert!(limited, "a flood from one address is limited");
    assert!(outbox.messages().await.len() <= 3 + 10);
}

#[tokio::test]
async fn the_private_feed_is_full_text_revocable_and_paid_only() {
    let (site, outbox) = reader_site().await;
    paid_story(&site).await;
    let session = subscribe_and_confirm(&site, &outbox, "feeds@example.org").await;
    let account = get_with(&site, "/account/", &session).await.text();
    assert!(
        !account.contains("Your private feed"),
        "free plans have none"
    );
    assert_eq!(feed_path(&account), None);
    let csrf = field(&account, "csrf");
    // A free reader cannot make one.
    post(
        &site,
        "/account/",
        &session,
        &format!("csrf={csrf}&action=new-feed"),
    )
    .await;
    assert_eq!(
        site.store.feed_nonce("feeds@example.org").await.unwrap(),
        None
    );

    site.store
        .set_subscriber_plan("feeds@example.org", Plan::Paid, 0)
        .await
        .unwrap();
    // Wrong CSRF token: refused.
    let forged = post(&site, "/account/", &session, "csrf=wrong&action=new-feed").await;
    assert_eq!(forged.status, 403);
    let made = post(
        &site,
        "/account/",
        &session,
        &format!("csrf={csrf}&action=new-feed"),
    )
    .await;
    assert_eq!(made.status, 303);
    let account = get_with(&site, "/account/", &session).await.text();
    let path = feed_path(&account).expect("a feed address");
    let reply = get_with(&site, &path, "").await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("private, no-store"));
    let xml = reply.text();
    assert!(xml.contains(PAID_ONE) && xml.contains(PAID_TWO), "{xml}");
    // The public feed stays short.
    let public = get_with(&site, "/feed/", "").await.text();
    assert!(!public.contains(PAID_ONE));

    // A new address revokes the old one.
    post(
        &site,
        "/account/",
        &session,
        &format!("csrf={csrf}&action=new-feed"),
    )
    .await;
    assert_eq!(get_with(&site, &path, "").await.status, 404);
    let account = get_with(&site, "/account/", &session).await.text();
    let fresh = feed_path(&account).unwrap();
    assert_eq!(get_with(&site, &fresh, "").await.status, 200);
    // Losing the paid plan closes it.
    site.store
        .set_subscriber_plan("feeds@example.org", Plan::Free, 0)
        .await
        .unwrap();
    assert_eq!(get_with(&site, &fresh, "").await.status, 404);
}

#[tokio::test]
async fn without_mail_the_forms_say_they_are_closed() {
    let site = crate::site(None).await;
    let page = request(&site, "GET", "/subscribe/", &[]).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Sign-ups are closed"));
    assert_eq!(page.header("cache-control"), Some("private, no-store"));
    assert!(!page.text().contains("name=\"email\""), "no form to fill");
    let reply = post(&site, "/subscribe/", "", "email=a%40example.org").await;
    assert_eq!(reply.status, 503);
    assert_eq!(
        site.store
            .count_subscribers(&Default::default())
            .await
            .unwrap(),
        0
    );
}

/// Every reader page, as the validator should see them: (name, HTML).
pub(super) async fn pages_to_validate() -> Vec<(String, String)> {
    let (site, outbox) = reader_site().await;
    let url = paid_story(&site).await;
    let mut pages = Vec::new();
    for path in ["/subscribe/", "/account/sign-in/"] {
        pages.push((
            path.to_owned(),
            request(&site, "GET", path, &[]).await.text(),
        ));
    }
    let (token, form_cookie) = form(&site, "/subscribe/").await;
    let refused = post(
        &site,
        "/subscribe/",
        &form_cookie,
        &format!("form_token={token}&email=not-an-address"),
    )
    .await;
    pages.push(("subscribe-refused".into(), refused.text()));
    let bad = request(&site, "GET", "/subscribe/confirm/v1.bad.link", &[]).await;
    pages.push(("bad-link".into(), bad.text()));
    let session = subscribe_and_confirm(&site, &outbox, "valid@example.org").await;
    pages.push((
        "account-free".into(),
        get_with(&site, "/account/", &session).await.text(),
    ));
    site.store
        .set_subscriber_plan("valid@example.org", Plan::Paid, 0)
        .await
        .unwrap();
    let account = get_with(&site, "/account/", &session).await.text();
    let csrf = field(&account, "csrf");
    post(
        &site,
        "/account/",
        &session,
        &format!("csrf={csrf}&action=new-feed"),
    )
    .await;
    pages.push((
        "account-paid".into(),
        get_with(&site, "/account/", &session).await.text(),
    ));
    pages.push((
        "story-paid".into(),
        get_with(&site, &url, &session).await.text(),
    ));
    let secret = site
        .store
        .site_secret(bulletin_mail::links::TOKEN_SECRET, "unused", 0)
        .await
        .unwrap();
    let unsubscribe = bulletin_mail::links::unsubscribe_url(
        "http://x",
        secret.as_bytes(),
        "valid@example.org",
        "n",
    );
    let path = unsubscribe.strip_prefix("http://x").unwrap();
    pages.push((
        "unsubscribe".into(),
        request(&site, "GET", path, &[]).await.text(),
    ));
    pages
}
