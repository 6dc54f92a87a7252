//! Sweeps over every route the router has (`bulletin_web::route_table`), so a
//! route added later is covered without anyone remembering to list it: every
//! state-changing route refuses a missing, a forged and a foreign form token;
//! the OpenAPI description and the API's routes match both ways.

use std::collections::BTreeSet;

use axum::http::Method;
use bulletin_core::staff::Role;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::token::{Claims, Purpose, sign};
use bulletin_store::NewSubscriber;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{Reply, Site, site_with};

/// The one state-changing route that takes no form token, on purpose:
/// RFC 8058's one-click unsubscribe, which mail providers post without
/// cookies; its signed link is the authority, and it only unsubscribes.
const NO_FORM_TOKEN: &[&str] = &["/unsubscribe/{token}"];

/// How a route proves a form came from this site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proof {
    /// The staff session's CSRF token (every `/admin/` form).
    StaffSession,
    /// The reader session's CSRF token (the account page).
    ReaderSession,
    /// A double-submit cookie, before any session exists.
    FormCookie,
    /// Bearer tokens only, never cookies (the staff API).
    Bearer,
    /// The documented exception.
    Exempt,
}

fn proof_of(path: &str) -> Proof {
    match path {
        p if NO_FORM_TOKEN.contains(&p) => Proof::Exempt,
        p if p.starts_with("/api/") => Proof::Bearer,
        "/admin/login" | "/admin/setup" => Proof::FormCookie,
        p if p.starts_with("/admin/") => Proof::StaffSession,
        "/subscribe/"
        | "/account/sign-in/"
        | "/subscribe/confirm/{token}"
        | "/account/sign-in/{token}" => Proof::FormCookie,
        "/account/" => Proof::ReaderSession,
        other => panic!(
            "{other} changes something and is not in this sweep: say how it proves its forms \
             come from this site"
        ),
    }
}

/// Every route that is not a GET.
fn changing_routes() -> Vec<(Method, &'static str)> {
    let table = bulletin_web::route_table();
    assert!(table.len() > 60, "{} routes", table.len());
    table
        .into_iter()
        .filter(|(m, _)| *m != Method::GET && *m != Method::HEAD)
        .collect()
}

async fn send(site: &Site, method: &Method, target: &str, headers: &[String], body: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(site.addr).await.unwrap();
    let mut head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
        site.addr,
        body.len()
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
    super::parse_reply(&raw)
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    page[start..][..page[start..].find('"').unwrap()].to_owned()
}

fn set_cookie(reply: &Reply, name: &str) -> String {
    reply
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .filter_map(|(_, v)| v.split(';').next())
        .find(|c| c.starts_with(&format!("{name}=")) && c.len() > name.len() + 1)
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_owned()
}

/// A form page's double-submit pair: (the cookie, the field's token).
async fn form_pair(site: &Site, path: &str) -> (String, String) {
    let page = send(site, &Method::GET, path, &[], "").await;
    assert_eq!(page.status, 200, "{path}: {}", page.text());
    (
        set_cookie(&page, "bulletin_form"),
        hidden(&page.text(), "form_token"),
    )
}

const PASSWORD: &str = "correct horse battery staple";

/// A staff session: (cookie, its CSRF token).
async fn staff_session(site: &Site, email: &str) -> (String, String) {
    let (form_cookie, token) = form_pair(site, "/admin/login").await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("form_token", token.as_str()),
            ("email", email),
            ("password", PASSWORD),
        ])
        .finish();
    let reply = send(
        site,
        &Method::POST,
        "/admin/login",
        &[format!("Cookie: {form_cookie}")],
        &body,
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let session = set_cookie(&reply, "bulletin_session");
    let page = send(
        site,
        &Method::GET,
        "/admin/stories/new",
        &[format!("Cookie: {session}")],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    let csrf = hidden(&page.text(), "csrf");
    (session, csrf)
}

/// A reader session made in the store: (cookie, its CSRF token).
async fn reader_session(site: &Site, email: &str, id: &str, csrf: &str) -> (String, String) {
    let now = jiff::Timestamp::now().as_second();
    let subscriber = site
        .store
        .add_subscriber(
            &NewSubscriber {
                email: email.to_owned(),
                name: String::new(),
                plan: Plan::Free,
                status: SubscriberStatus::Active,
            },
            now,
        )
        .await
        .unwrap();
    site.store
        .create_reader_session(
            &bulletin_web::admin::auth::id_hash(id),
            subscriber.id,
            csrf,
            now,
        )
        .await
        .unwrap();
    (format!("bulletin_reader={id}"), csrf.to_owned())
}

/// What the audit log, the desk, the users and the subscribers hold: a
/// refused request must change none of it.
async fn footprint(site: &Site) -> String {
    let store = &site.store;
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        store.audit_log(0, 1000).await.unwrap().len(),
        store.desk(&Default::default()).await.unwrap().1,
        store.users().await.unwrap(),
        store
            .subscribers(&bulletin_store::SubscriberQuery {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .iter()
            .map(|s| (s.email.clone(), s.status, s.plan))
            .collect::<Vec<_>>(),
        store.issue_list().await.unwrap().len(),
    )
}

#[tokio::test]
async fn every_changing_route_refuses_missing_forged_and_foreign_tokens() {
    let mailer = bulletin_mail::Mailer::new(&bulletin_mail::SmtpSettings {
        // Nothing listens here: nothing in this sweep may get as far as sending.
        url: "smtp://127.0.0.1:9".into(),
        from: "news@bulletin.example.org".into(),
        from_name: None,
        list_id: None,
        per_second: 100,
        dkim: Vec::new(),
        bounce_address: None,
    })
    .unwrap();
    let site = site_with(
        None,
        bulletin_web::Options {
            setup_token: Some("sweep-setup".into()),
            mailer: Some(mailer),
            ..Default::default()
        },
    )
    .await;
    let hash = bulletin_core::staff::hash_password(PASSWORD, &[7; 16]).unwrap();
    for email in ["admin@example.org", "other@example.org"] {
        site.store
            .create_user(email, Role::Admin, &hash)
            .await
            .unwrap();
    }
    let (staff, staff_csrf) = staff_session(&site, "admin@example.org").await;
    let (_, other_staff_csrf) = staff_session(&site, "other@example.org").await;
    let (reader, _) = reader_session(&site, "reader@example.org", "reader-id", "reader-csrf").await;
    let (_, other_reader_csrf) =
        reader_session(&site, "other-reader@example.org", "other-id", "other-csrf").await;
    // Links signed with the site's secret, so the form check is what answers.
    let secret = site
        .store
        .site_secret(bulletin_mail::links::TOKEN_SECRET, "sweep-secret", 0)
        .await
        .unwrap();
    let expires = jiff::Timestamp::now().as_second() + 3600;
    let link = |purpose| {
        sign(
            secret.as_bytes(),
            &Claims::new(purpose, "reader@example.org", expires, "sweep-nonce"),
        )
    };

    let mut seen = BTreeSet::new();
    let mut exempt = Vec::new();
    for (method, pattern) in changing_routes() {
        seen.insert((method.to_string(), pattern));
        let target = pattern
            .replace("{slug}", "some-story")
            .replace("{number}", "1")
            .replace("{email}", "reader@example.org")
            .replace(
                "{token}",
                &link(if pattern.starts_with("/subscribe/confirm/") {
                    Purpose::Confirm
                } else {
                    Purpose::SignIn
                }),
            );
        let proof = proof_of(pattern);
        if proof == Proof::Exempt {
            exempt.push(pattern);
            continue;
        }
        if proof == Proof::Bearer {
            // A signed-in browser's cookie and CSRF token are worth nothing
            // here: only a bearer token is.
            let reply = send(
                &site,
                &method,
                &target,
                &[
                    format!("Cookie: {staff}"),
                    format!("X-CSRF-Token: {staff_csrf}"),
                ],
                "{}",
            )
            .await;
            assert_eq!(reply.status, 401, "{method} {pattern}: {}", reply.text());
            continue;
        }
        let before = footprint(&site).await;
        // (what is sent, why it must fail)
        let mut attempts: Vec<(Vec<String>, String, &str)> = Vec::new();
        match proof {
            Proof::StaffSession => {
                let cookie = vec![format!("Cookie: {staff}")];
                attempts.push((cookie.clone(), String::new(), "missing"));
                attempts.push((cookie.clone(), "csrf=forged-token".into(), "forged"));
                attempts.push((cookie, format!("csrf={other_staff_csrf}"), "foreign"));
            }
            Proof::ReaderSession => {
                let cookie = vec![format!("Cookie: {reader}")];
                attempts.push((cookie.clone(), "action=stop".into(), "missing"));
                attempts.push((cookie.clone(), "action=stop&csrf=forged".into(), "forged"));
                attempts.push((
                    cookie,
                    format!("action=stop&csrf={other_reader_csrf}"),
                    "foreign",
                ));
            }
            Proof::FormCookie => {
                let page = match pattern {
                    "/admin/setup" => "/admin/setup?token=sweep-setup".to_owned(),
                    p if p.contains("{token}") => target.clone(),
                    p => p.to_owned(),
                };
                let (cookie, _) = form_pair(&site, &page).await;
                let (_, foreign) = form_pair(&site, &page).await;
                let fields =
                    "token=sweep-setup&email=reader%40example.org&password=x&confirm=x".to_owned();
                let cookie = vec![format!("Cookie: {cookie}")];
                attempts.push((cookie.clone(), fields.clone(), "missing"));
                attempts.push((
                    cookie.clone(),
                    format!("{fields}&form_token=forged"),
                    "forged",
                ));
                attempts.push((cookie, format!("{fields}&form_token={foreign}"), "foreign"));
            }
            Proof::Bearer | Proof::Exempt => unreachable!(),
        }
        for (headers, body, why) in attempts {
            let reply = send(&site, &method, &target, &headers, &body).await;
            assert_eq!(
                reply.status,
                403,
                "{method} {pattern} with a {why} token: {}",
                reply.text()
            );
            if proof == Proof::StaffSession {
                assert!(
                    reply.text().contains("nothing was changed"),
                    "{method} {pattern}: {}",
                    reply.text()
                );
            }
        }
        assert_eq!(
            footprint(&site).await,
            before,
            "{method} {pattern} changed something"
        );
    }
    assert_eq!(exempt, NO_FORM_TOKEN, "the documented exception is routed");
    assert!(seen.len() >= 30, "{} changing routes", seen.len());
}

/// Every `/api/v1` route is in the OpenAPI description, and every operation
/// it describes is routed, with the same method and path.
#[tokio::test]
async fn the_openapi_description_and_the_routes_match_both_ways() {
    let site = site_with(None, Default::default()).await;
    let reply = send(&site, &Method::GET, "/api/v1/openapi.json", &[], "").await;
    let doc: serde_json::Value = serde_json::from_slice(&reply.body).unwrap();
    let mut described = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                described.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = bulletin_web::route_table()
        .into_iter()
        .filter(|(_, path)| path.starts_with("/api/"))
        .map(|(m, path)| (m.to_string(), path.to_owned()))
        .collect();
    let undescribed: Vec<_> = routed.difference(&described).collect();
    assert!(
        undescribed.is_empty(),
        "routed, not described: {undescribed:?}"
    );
    let unrouted: Vec<_> = described.difference(&routed).collect();
    assert!(unrouted.is_empty(), "described, not routed: {unrouted:?}");
    assert!(routed.len() >= 20, "{}", routed.len());
}

/// A theme folder holding a file named like every admin template, flat and
/// in the folders the templates live in, changes no admin page: the newsroom
/// renders from its own compiled-in templates.
#[tokio::test]
async fn a_theme_cannot_replace_any_admin_template() {
    const MARK: &str = "THEME-WAS-HERE";
    let names: Vec<String> =
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/admin"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
    assert!(names.len() >= 13, "{names:?}");
    let theme = tempfile::tempdir().unwrap();
    for folder in ["", "admin", "templates/admin", "site", "reader"] {
        let dir = theme.path().join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        for name in &names {
            std::fs::write(dir.join(name), format!("<p>{MARK}</p>")).unwrap();
            let bare = name.trim_start_matches("admin_");
            if folder == "admin" {
                std::fs::write(dir.join(bare), format!("<p>{MARK}</p>")).unwrap();
            }
        }
    }
    let plain = site_with(
        None,
        bulletin_web::Options {
            setup_token: Some("theme-setup".into()),
            ..Default::default()
        },
    )
    .await;
    let themed = site_with(
        Some(theme.path()),
        bulletin_web::Options {
            setup_token: Some("theme-setup".into()),
            ..Default::default()
        },
    )
    .await;
    let hash = bulletin_core::staff::hash_password(PASSWORD, &[7; 16]).unwrap();
    let mut sessions = Vec::new();
    for site in [&plain, &themed] {
        site.store
            .create_user("admin@example.org", Role::Admin, &hash)
            .await
            .unwrap();
        sessions.push(staff_session(site, "admin@example.org").await);
    }
    // Tokens differ per session; everything else must not.
    let masked = |page: &str, csrf: &str| {
        let mut page = page.replace(csrf, "CSRF");
        let marker = "name=\"form_token\" value=\"";
        if let Some(start) = page.find(marker) {
            let start = start + marker.len();
            let end = start + page[start..].find('"').unwrap();
            page.replace_range(start..end, "TOKEN");
        }
        page
    };
    let mut compared = 0;
    for (method, pattern) in bulletin_web::route_table() {
        if method != Method::GET || !pattern.starts_with("/admin") {
            continue;
        }
        let target = match pattern {
            "/admin/setup" => "/admin/setup?token=theme-setup".to_owned(),
            p => p
                .replace("{slug}", "no-such-story")
                .replace("{number}", "1"),
        };
        let mut pages = Vec::new();
        for (site, (session, csrf)) in [&plain, &themed].into_iter().zip(&sessions) {
            let reply = send(
                site,
                &Method::GET,
                &target,
                &[format!("Cookie: {session}")],
                "",
            )
            .await;
            assert!(!reply.text().contains(MARK), "{target}: {}", reply.text());
            pages.push((reply.status, masked(&reply.text(), csrf)));
        }
        assert_eq!(pages[0], pages[1], "{target}");
        compared += 1;
    }
    assert!(compared >= 10, "{compared}");
}

/// A reader's session ends after 30 idle days: the clock moves, nobody waits.
#[tokio::test]
async fn a_reader_session_ends_when_idle() {
    let clock = std::sync::Arc::new(super::MovableClock::default());
    let site = site_with(
        None,
        bulletin_web::Options {
            clock: clock.clone(),
            ..Default::default()
        },
    )
    .await;
    let (cookie, _) = reader_session(&site, "idle@example.org", "idle-id", "idle-csrf").await;
    let account = || async {
        send(
            &site,
            &Method::GET,
            "/account/",
            &[format!("Cookie: {cookie}")],
            "",
        )
        .await
    };
    assert_eq!(account().await.status, 200);
    clock.advance(30 * 24 * 3600 + 60);
    let reply = account().await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(reply.header("location"), Some("/account/sign-in/"));
}
