//! The newsroom over real HTTP: sign-in, sessions, CSRF, throttling, the role ×
//! action matrix, edit conflicts, publishing and what visitors see.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bulletin_core::staff::Role;
use bulletin_store::{Actor, Store};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{MovableClock, Reply, Site, site_with};

pub(super) const PASSWORD: &str = "correct horse battery staple";

/// A browser in miniature: keeps cookies, sends forms.
struct Client<'a> {
    site: &'a Site,
    cookies: HashMap<String, String>,
}

impl<'a> Client<'a> {
    fn new(site: &'a Site) -> Client<'a> {
        Client {
            site,
            cookies: HashMap::new(),
        }
    }

    async fn send(&mut self, method: &str, target: &str, body: &[u8], extra: &[&str]) -> Reply {
        let mut stream = tokio::net::TcpStream::connect(self.site.addr)
            .await
            .unwrap();
        let mut head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.site.addr,
            body.len()
        );
        if method == "POST" {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", jar.join("; ")));
        }
        for h in extra {
            head.push_str(h);
            head.push_str("\r\n");
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let reply = super::parse_reply(&raw);
        for (name, value) in &reply.headers {
            if name == "set-cookie" {
                let pair = value.split(';').next().unwrap();
                let (k, v) = pair.split_once('=').unwrap();
                if v.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        reply
    }

    async fn get(&mut self, path: &str) -> Reply {
        self.send("GET", path, b"", &[]).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Reply {
        self.post_with(path, form, &[]).await
    }

    async fn post_with(&mut self, path: &str, form: &[(&str, &str)], extra: &[&str]) -> Reply {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        self.send("POST", path, body.as_bytes(), extra).await
    }

    /// Signs in through the form; panics unless it worked.
    async fn sign_in(&mut self, email: &str) {
        let reply = self.try_sign_in(email, PASSWORD).await;
        assert_eq!(reply.status, 303, "{}", reply.text());
        assert_eq!(reply.header("location"), Some("/admin/"));
    }

    async fn try_sign_in(&mut self, email: &str, password: &str) -> Reply {
        let page = self.get("/admin/login").await;
        let token = hidden(&page.text(), "form_token");
        self.post(
            "/admin/login",
            &[
                ("form_token", &token),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// The CSRF token of a page the client may see.
    async fn csrf(&mut self) -> String {
        let page = self.get("/admin/stories/new").await;
        assert_eq!(page.status, 200, "{}", page.text());
        hidden(&page.text(), "csrf")
    }
}

/// The value of the hidden field `name` in a page.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} field in {page}"))
        + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

async fn add_user(store: &dyn Store, email: &str, role: Role) -> i64 {
    let hash = bulletin_core::staff::hash_password(PASSWORD, &[7; 16]).unwrap();
    store.create_user(email, role, &hash).await.unwrap().id
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/").replace("&quot;", "\"")
}

pub(super) async fn newsroom_site(options: bulletin_web::Options) -> Site {
    let site = site_with(None, options).await;
    add_user(site.store.as_ref(), "admin@example.org", Role::Admin).await;
    add_user(site.store.as_ref(), "editor@example.org", Role::Editor).await;
    add_user(site.store.as_ref(), "writer@example.org", Role::Contributor).await;
    site
}

fn story_form<'a>(csrf: &'a str, headline: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("headline", headline),
        ("places", "Baku/Almaty"),
        ("date", "2021-07-18"),
        ("credit", ""),
        (
            "body",
            "First paragraph of the draft.\r\n\r\nSecond paragraph.",
        ),
        ("tags", "political rights"),
        ("access", "public"),
        ("issue", ""),
        ("action", "save"),
    ]
}

/// Creates a draft through the editor; its slug.
async fn write_draft(client: &mut Client<'_>, headline: &str) -> String {
    let csrf = client.csrf().await;
    let reply = client
        .post("/admin/stories/new", &story_form(&csrf, headline))
        .await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let location = reply.header("location").unwrap();
    location
        .strip_prefix("/admin/stories/")
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn first_run_setup_link_makes_one_admin() {
    let site = site_with(
        None,
        bulletin_web::Options {
            setup_token: Some("first-run-token".into()),
            ..Default::default()
        },
    )
    .await;
    let mut c = Client::new(&site);
    assert_eq!(c.get("/admin/setup?token=wrong").await.status, 404);
    let page = c.get("/admin/setup?token=first-run-token").await;
    assert_eq!(page.status, 200);
    let form_token = hidden(&page.text(), "form_token");
    let good = [
        ("token", "first-run-token"),
        ("form_token", form_token.as_str()),
        ("email", "Boss@Example.org"),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    // Without the form's cookie (another site posting it): refused.
    let mut stranger = Client::new(&site);
    assert_eq!(stranger.post("/admin/setup", &good).await.status, 403);
    // A short password is refused with the rule.
    let mut short = good;
    short[3] = ("password", "short");
    short[4] = ("confirm", "short");
    let reply = c.post("/admin/setup", &short).await;
    assert_eq!(reply.status, 422);
    assert!(reply.text().contains("12"), "{}", reply.text());
    let page = c.get("/admin/setup?token=first-run-token").await;
    let form_token = hidden(&page.text(), "form_token");
    let mut good = good;
    good[1] = ("form_token", form_token.as_str());
    let reply = c.post("/admin/setup", &good).await;
    assert_eq!(reply.status, 303, "{}", reply.text());
    let cookie = reply
        .headers
        .iter()
        .find(|(n, v)| n == "set-cookie" && v.starts_with("bulletin_session="))
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert_eq!(c.get("/admin/").await.status, 200);
    let users = site.store.users().await.unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        (users[0].email.as_str(), users[0].role),
        ("boss@example.org", Role::Admin)
    );
    // The link works once.
    assert_eq!(
        c.get("/admin/setup?token=first-run-token").await.status,
        404
    );
    assert_eq!(stranger.post("/admin/setup", &good).await.status, 404);
}

#[tokio::test]
async fn sessions_fixation_logout_and_everywhere() {
    let site = newsroom_site(Default::default()).await;
    let mut anonymous = Client::new(&site);
    let reply = anonymous.get("/admin/").await;
    assert_eq!(reply.status, 303);
    assert!(
        reply
            .header("location")
            .unwrap()
            .starts_with("/admin/login")
    );

    let mut c = Client::new(&site);
    let wrong = c
        .try_sign_in("editor@example.org", "wrong password!!")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Wrong address or password."));
    // A session id planted before signing in is not adopted.
    c.cookies
        .insert("bulletin_session".into(), "planted-by-attacker".into());
    c.sign_in("editor@example.org").await;
    let first = c.cookies["bulletin_session"].clone();
    assert_ne!(first, "planted-by-attacker");
    assert_eq!(c.get("/admin/").await.status, 200);
    // Signing in again makes a new id, and the old one stops working.
    c.sign_in("editor@example.org").await;
    let second = c.cookies["bulletin_session"].clone();
    assert_ne!(first, second);
    let mut old = Client::new(&site);
    old.cookies.insert("bulletin_session".into(), first);
    assert_eq!(old.get("/admin/").await.status, 303);

    // Sign out: the cookie is cleared and the id is dead server-side.
    let csrf = c.csrf().await;
    let reply = c.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, 303);
    assert!(!c.cookies.contains_key("bulletin_session"));
    let mut replay = Client::new(&site);
    replay
        .cookies
        .insert("bulletin_session".into(), second.clone());
    assert_eq!(replay.get("/admin/").await.status, 303);

    // Sign out everywhere ends every session of the account.
    let mut laptop = Client::new(&site);
    let mut phone = Client::new(&site);
    laptop.sign_in("admin@example.org").await;
    phone.sign_in("admin@example.org").await;
    let csrf = laptop.csrf().await;
    let reply = laptop
        .post("/admin/logout-everywhere", &[("csrf", &csrf)])
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(phone.get("/admin/").await.status, 303);
    // No password or session id reaches a page.
    let page = phone.get("/admin/login").await.text();
    assert!(!page.contains(PASSWORD));
}

#[tokio::test]
async fn sessions_expire_idle_and_absolute() {
    // Time moves by the test's clock: no waiting.
    let clock = Arc::new(MovableClock::default());
    let site = newsroom_site(bulletin_web::Options {
        sessions: bulletin_web::admin::auth::SessionPolicy {
            idle: Duration::from_secs(1),
            max_age: Duration::from_secs(3600),
            secure_cookies: true,
        },
        clock: clock.clone(),
        ..Default::default()
    })
    .await;
    let mut c = Client::new(&site);
    let page = c.get("/admin/login").await;
    let token = hidden(&page.text(), "form_token");
    let reply = c
        .post(
            "/admin/login",
            &[
                ("form_token", &token),
                ("email", "editor@example.org"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert!(
        reply.headers.iter().any(|(n, v)| n == "set-cookie"
            && v.starts_with("bulletin_session=")
            && v.contains("Secure")),
        "HTTPS sites get Secure cookies"
    );
    assert_eq!(c.get("/admin/").await.status, 200);
    clock.advance(2);
    let reply = c.get("/admin/").await;
    assert_eq!(reply.status, 303);
    assert!(reply.header("location").unwrap().contains("expired=1"));
    let page = c.get(reply.header("location").unwrap()).await;
    assert!(page.text().contains("Your session expired"));

    let clock = Arc::new(MovableClock::default());
    let site = newsroom_site(bulletin_web::Options {
        sessions: bulletin_web::admin::auth::SessionPolicy {
            idle: Duration::from_secs(3600),
            max_age: Duration::from_secs(1),
            secure_cookies: false,
        },
        clock: clock.clone(),
        ..Default::default()
    })
    .await;
    let mut c = Client::new(&site);
    c.sign_in("editor@example.org").await;
    assert_eq!(c.get("/admin/").await.status, 200);
    clock.advance(2);
    assert_eq!(c.get("/admin/").await.status, 303);
}

#[tokio::test]
async fn csrf_is_required_on_every_post() {
    let site = newsroom_site(Default::default()).await;
    let mut c = Client::new(&site);
    c.sign_in("editor@example.org").await;
    let csrf = c.csrf().await;
    let count = || async { site.store.desk(&Default::default()).await.unwrap().1 };
    for (form, extra) in [
        (story_form("", "No token"), vec![]),
        (story_form("forged-token", "Forged"), vec![]),
        (
            story_form(&csrf, "Cross-site"),
            vec!["Sec-Fetch-Site: cross-site"],
        ),
        (
            story_form(&csrf, "Other origin"),
            vec!["Origin: https://evil.example"],
        ),
    ] {
        let reply = c.post_with("/admin/stories/new", &form, &extra).await;
        assert_eq!(reply.status, 403, "{}", reply.text());
        assert!(reply.text().contains("nothing was changed"));
    }
    assert_eq!(count().await, 0, "nothing saved");
    // Same-origin requests with the token pass.
    let reply = c
        .post_with(
            "/admin/stories/new",
            &story_form(&csrf, "Good"),
            &["Sec-Fetch-Site: same-origin"],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(count().await, 1);
    // Another session's token is no good here.
    let mut other = Client::new(&site);
    other.sign_in("admin@example.org").await;
    let reply = other
        .post("/admin/stories/new", &story_form(&csrf, "Stolen token"))
        .await;
    assert_eq!(reply.status, 403);
    // The sign-in form has its own token.
    let mut fresh = Client::new(&site);
    let reply = fresh
        .post(
            "/admin/login",
            &[("email", "editor@example.org"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(reply.status, 403);
    assert!(!fresh.cookies.contains_key("bulletin_session"));
}

#[tokio::test]
async fn lockout_after_repeated_failures() {
    let site = newsroom_site(bulletin_web::Options {
        login_limits: bulletin_web::admin::auth::LoginLimits {
            per_account: 3,
            per_address: 5,
            window: Duration::from_secs(900),
        },
        ..Default::default()
    })
    .await;
    let mut c = Client::new(&site);
    for _ in 0..3 {
        let reply = c
            .try_sign_in("editor@example.org", "not the password")
            .await;
        assert_eq!(reply.status, 401);
    }
    // Locked: even the right password is refused, with a clear message.
    let reply = c.try_sign_in("editor@example.org", PASSWORD).await;
    assert_eq!(reply.status, 429);
    assert!(
        reply.text().contains("locked. Try again in 15 minutes"),
        "{}",
        reply.text()
    );
    // An address that does not exist locks the same way (nothing revealed).
    for _ in 0..2 {
        c.try_sign_in("nobody@example.org", "whatever at all").await;
    }
    // That made 5 failures from this address: now the address is refused.
    let reply = c.try_sign_in("admin@example.org", PASSWORD).await;
    assert_eq!(reply.status, 429);
    assert!(reply.text().contains("from your address"));
    assert_eq!(
        site.store
            .login_failures("account:editor@example.org", 0)
            .await
            .unwrap(),
        3
    );
}

#[tokio::test]
async fn a_sign_in_lockout_ends_when_its_window_has_passed() {
    let clock = Arc::new(MovableClock::default());
    let site = newsroom_site(bulletin_web::Options {
        login_limits: bulletin_web::admin::auth::LoginLimits {
            per_account: 2,
            per_address: 100,
            window: Duration::from_secs(900),
        },
        clock: clock.clone(),
        ..Default::default()
    })
    .await;
    let mut c = Client::new(&site);
    for _ in 0..2 {
        let reply = c
            .try_sign_in("editor@example.org", "not the password")
            .await;
        assert_eq!(reply.status, 401);
    }
    let reply = c.try_sign_in("editor@example.org", PASSWORD).await;
    assert_eq!(reply.status, 429);
    // Still locked just inside the window, open once it has passed.
    clock.advance(899);
    let reply = c.try_sign_in("editor@example.org", PASSWORD).await;
    assert_eq!(reply.status, 429);
    clock.advance(2);
    c.sign_in("editor@example.org").await;
}

/// Everything the newsroom can do, with the least role each needs.
#[tokio::test]
async fn role_by_action_matrix() {
    #[derive(Clone, Copy, PartialEq, Eq, Debug)]
    enum Who {
        Anonymous,
        Contributor,
        Editor,
        Admin,
    }
    let rank = |w: Who| match w {
        Who::Anonymous => 0,
        Who::Contributor => 1,
        Who::Editor => 2,
        Who::Admin => 3,
    };
    for who in [Who::Anonymous, Who::Contributor, Who::Editor, Who::Admin] {
        let site = newsroom_site(Default::default()).await;
        let store = site.store.clone();
        // The same starting point for every role: the writer's draft, two
        // editor drafts, a public story and a draft issue.
        let mut writer = Client::new(&site);
        writer.sign_in("writer@example.org").await;
        let own = write_draft(&mut writer, "Writer's draft").await;
        let mut editor = Client::new(&site);
        editor.sign_in("editor@example.org").await;
        let theirs = write_draft(&mut editor, "Editor's draft").await;
        let doomed = write_draft(&mut editor, "Draft to delete").await;
        let public = write_draft(&mut editor, "Public story").await;
        let actor = Actor::system("test");
        store.publish_story(&public, &actor, 1).await.unwrap();
        store
            .create_issue(10, Some("2021-07-22".parse().unwrap()), &actor, 1)
            .await
            .unwrap();

        let mut c = Client::new(&site);
        match who {
            Who::Anonymous => {}
            Who::Contributor => c.sign_in("writer@example.org").await,
            Who::Editor => c.sign_in("editor@example.org").await,
            Who::Admin => c.sign_in("admin@example.org").await,
        }
        // Anonymous visitors have no token; they get a dummy one.
        let csrf = if who == Who::Anonymous {
            "none".to_owned()
        } else {
            c.csrf().await
        };
        let save = story_form(&csrf, "Edited headline");
        // (method, path, form, least role that may do it)
        type Action<'a> = (&'a str, String, Vec<(&'a str, &'a str)>, Who);
        let actions: Vec<Action> = vec![
            ("GET", "/admin/".into(), vec![], Who::Contributor),
            ("GET", "/admin/stories/new".into(), vec![], Who::Contributor),
            (
                "POST",
                "/admin/stories/new".into(),
                story_form(&csrf, "New one"),
                Who::Contributor,
            ),
            (
                "GET",
                format!("/admin/stories/{own}"),
                vec![],
                Who::Contributor,
            ),
            (
                "POST",
                format!("/admin/stories/{own}"),
                [save.clone(), vec![("version", "1")]].concat(),
                Who::Contributor,
            ),
            (
                "GET",
                format!("/admin/stories/{own}/history"),
                vec![],
                Who::Contributor,
            ),
            (
                "GET",
                format!("/admin/stories/{theirs}"),
                vec![],
                Who::Editor,
            ),
            (
                "POST",
                format!("/admin/stories/{theirs}"),
                [save.clone(), vec![("version", "1")]].concat(),
                Who::Editor,
            ),
            (
                "GET",
                format!("/admin/stories/{public}"),
                vec![],
                Who::Editor,
            ),
            (
                "POST",
                format!("/admin/stories/{theirs}/restore"),
                vec![("csrf", &csrf), ("number", "1"), ("version", "2")],
                Who::Editor,
            ),
            (
                "POST",
                format!("/admin/stories/{public}/unpublish"),
                vec![("csrf", &csrf)],
                Who::Editor,
            ),
            (
                "POST",
                format!("/admin/stories/{public}/publish"),
                vec![("csrf", &csrf)],
                Who::Editor,
            ),
            (
                "POST",
                format!("/admin/stories/{doomed}/delete"),
                vec![("csrf", &csrf)],
                Who::Editor,
            ),
            ("GET", "/admin/issues".into(), vec![], Who::Editor),
            (
                "POST",
                "/admin/issues".into(),
                vec![("csrf", &csrf), ("number", "11"), ("date", "2021-07-29")],
                Who::Editor,
            ),
            ("GET", "/admin/issues/10".into(), vec![], Who::Editor),
            (
                "POST",
                "/admin/issues/10".into(),
                vec![("csrf", &csrf), ("add", &theirs)],
                Who::Editor,
            ),
            (
                "POST",
                "/admin/issues/10/schedule".into(),
                vec![("csrf", &csrf), ("at", "2099-01-01T09:00")],
                Who::Editor,
            ),
            (
                "POST",
                "/admin/issues/10/publish".into(),
                vec![("csrf", &csrf)],
                Who::Editor,
            ),
            (
                "POST",
                "/admin/issues/10/unpublish".into(),
                vec![("csrf", &csrf)],
                Who::Editor,
            ),
            ("GET", "/admin/audit".into(), vec![], Who::Editor),
            ("GET", "/admin/users".into(), vec![], Who::Admin),
            (
                "POST",
                "/admin/users".into(),
                vec![
                    ("csrf", &csrf),
                    ("action", "add"),
                    ("email", "new@example.org"),
                    ("role", "editor"),
                    ("password", PASSWORD),
                ],
                Who::Admin,
            ),
            (
                "POST",
                "/admin/users".into(),
                vec![
                    ("csrf", &csrf),
                    ("action", "disable"),
                    ("email", "writer@example.org"),
                ],
                Who::Admin,
            ),
        ];
        let audit_before = store.audit_log(0, 500).await.unwrap().len();
        for (method, path, form, needs) in actions {
            let reply = if method == "GET" {
                c.get(&path).await
            } else {
                c.post(&path, &form).await
            };
            let what = format!("{who:?} {method} {path}");
            if who == Who::Anonymous {
                assert_eq!(reply.status, 303, "{what}");
                assert!(
                    reply
                        .header("location")
                        .unwrap()
                        .starts_with("/admin/login"),
                    "{what}"
                );
            } else if rank(who) < rank(needs) {
                assert_eq!(reply.status, 403, "{what}: {}", reply.text());
            } else {
                assert!(
                    reply.status == 200 || reply.status == 303,
                    "{what}: {} {}",
                    reply.status,
                    reply.text()
                );
                if let Some(location) = reply.header("location") {
                    assert!(!location.starts_with("/admin/login"), "{what}");
                }
            }
        }
        // What was refused left no trace.
        let audit_after = store.audit_log(0, 500).await.unwrap().len();
        match who {
            Who::Anonymous => {
                assert_eq!(audit_after, audit_before);
                assert!(store.story(&public).await.unwrap().is_some());
            }
            Who::Contributor => {
                // Only the contributor's own new draft was logged.
                assert_eq!(audit_after, audit_before + 1);
                assert!(store.story(&public).await.unwrap().is_some());
                assert!(store.desk_story(&doomed).await.unwrap().is_some());
                assert_eq!(store.users().await.unwrap().len(), 3);
            }
            Who::Editor | Who::Admin => {
                assert!(store.desk_story(&doomed).await.unwrap().is_none());
                assert_eq!(
                    store
                        .desk_story(&theirs)
                        .await
                        .unwrap()
                        .unwrap()
                        .story
                        .issue
                        .map(|i| i.number),
                    Some(10)
                );
            }
        }
        if who == Who::Admin {
            assert_eq!(store.users().await.unwrap().len(), 4);
            assert!(
                store
                    .user_credentials("writer@example.org")
                    .await
                    .unwrap()
                    .unwrap()
                    .0
                    .disabled
            );
            // A disabled account's session ends at once.
            assert_eq!(writer.get("/admin/").await.status, 303);
        }
    }
}

#[tokio::test]
async fn second_save_of_the_same_story_is_a_conflict() {
    let site = newsroom_site(Default::default()).await;
    let mut alice = Client::new(&site);
    alice.sign_in("editor@example.org").await;
    let slug = write_draft(&mut alice, "Shared story").await;
    let mut bob = Client::new(&site);
    bob.sign_in("admin@example.org").await;
    // Both open version 1.
    let page_a = alice.get(&format!("/admin/stories/{slug}")).await.text();
    let page_b = bob.get(&format!("/admin/stories/{slug}")).await.text();
    assert_eq!(hidden(&page_a, "version"), "1");
    assert_eq!(hidden(&page_b, "version"), "1");
    let csrf_a = hidden(&page_a, "csrf");
    let mut form_a = story_form(&csrf_a, "Shared story");
    let csrf_b = hidden(&page_b, "csrf");
    let mut form_b = story_form(&csrf_b, "Shared story");
    form_a.push(("version", "1"));
    form_b.push(("version", "1"));
    form_a[5] = ("body", "Alice's new first paragraph.");
    form_b[5] = ("body", "Bob's different first paragraph.");
    let reply = alice.post(&format!("/admin/stories/{slug}"), &form_a).await;
    assert_eq!(reply.status, 303);
    let reply = bob.post(&format!("/admin/stories/{slug}"), &form_b).await;
    assert_eq!(reply.status, 409, "{}", reply.text());
    let page = unescape(&reply.text());
    assert!(page.contains("editor@example.org saved this story while you were editing it"));
    assert!(
        page.contains("Alice&#x27;s new first paragraph.")
            || page.contains("Alice's new first paragraph.")
    );
    // Bob's text is still in his form, and the page offers version 2 to save on.
    assert!(
        page.contains("Bob&#x27;s different first paragraph.")
            || page.contains("Bob's different first paragraph.")
    );
    assert_eq!(hidden(&page, "version"), "2");
    let desk = site.store.desk_story(&slug).await.unwrap().unwrap();
    assert_eq!(desk.story.body, ["Alice's new first paragraph."]);
    // Saving on top of version 2 is Bob's deliberate choice, and it works.
    form_b.pop();
    form_b.push(("version", "2"));
    assert_eq!(
        bob.post(&format!("/admin/stories/{slug}"), &form_b)
            .await
            .status,
        303
    );
    let history = site.store.history(&slug).await.unwrap();
    assert_eq!(history.len(), 3);
    // The history page diffs any two versions, and restores.
    let page = bob
        .get(&format!("/admin/stories/{slug}/history?a=2&b=3"))
        .await
        .text();
    let page = unescape(&page);
    assert!(page.contains("class=\"removed\">Alice"), "{page}");
    assert!(page.contains("class=\"added\">Bob"), "{page}");
    let reply = bob
        .post(
            &format!("/admin/stories/{slug}/restore"),
            &[("csrf", &csrf_b), ("number", "2"), ("version", "3")],
        )
        .await;
    assert_eq!(reply.status, 303);
    let desk = site.store.desk_story(&slug).await.unwrap().unwrap();
    assert_eq!(
        (desk.version, desk.story.body.clone()),
        (4, vec!["Alice's new first paragraph.".to_owned()])
    );
}

#[tokio::test]
async fn bad_input_is_refused_and_nothing_is_half_saved() {
    let site = newsroom_site(Default::default()).await;
    let mut c = Client::new(&site);
    c.sign_in("editor@example.org").await;
    let csrf = c.csrf().await;
    let long = "h".repeat(10_000);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (story_form(&csrf, ""), "Headline: write one."),
        (story_form(&csrf, &long), "10000 characters is too long"),
        (
            [story_form(&csrf, "Bad date"), vec![]]
                .concat()
                .into_iter()
                .map(|(k, v)| {
                    if k == "date" {
                        (k, "2021-02-30")
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            "is not a date",
        ),
        (
            story_form(&csrf, "No body")
                .into_iter()
                .map(|(k, v)| if k == "body" { (k, " \r\n ") } else { (k, v) })
                .collect(),
            "at least one paragraph",
        ),
        (
            story_form(&csrf, "Bad place")
                .into_iter()
                .map(|(k, v)| {
                    if k == "places" {
                        (k, "Baku (AZ)")
                    } else {
                        (k, v)
                    }
                })
                .collect(),
            "Dateline place",
        ),
    ];
    for (form, expected) in cases {
        let reply = c.post("/admin/stories/new", &form).await;
        assert_eq!(reply.status, 422, "{expected}");
        assert!(
            unescape(&reply.text()).contains(expected),
            "{expected}: {}",
            reply.text()
        );
    }
    assert_eq!(site.store.desk(&Default::default()).await.unwrap().1, 0);

    // Markup in every field comes back escaped, in the form and the preview.
    let script = "<script>alert(1)</script>";
    let mut form = story_form(&csrf, script);
    for (k, v) in form.iter_mut() {
        if matches!(*k, "places" | "body" | "tags" | "credit") {
            *v = "<b onmouseover=x>";
        }
    }
    let reply = c
        .post(
            "/admin/stories/new",
            &[form.clone(), vec![("action", "preview")]]
                .concat()
                .into_iter()
                .filter(|(k, v)| *k != "action" || *v == "preview")
                .collect::<Vec<_>>(),
        )
        .await;
    let page = reply.text();
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(!page.contains("<b onmouseover"), "{page}");
    assert!(page.contains("&lt;script&gt;"));
    let reply = c.post("/admin/stories/new", &form).await;
    assert_eq!(reply.status, 303);
    let slug = reply
        .header("location")
        .unwrap()
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let page = c.get(&format!("/admin/stories/{slug}")).await.text();
    assert!(!page.contains("<script>alert") && !page.contains("<b onmouseover"));
    let list = c.get("/admin/").await.text();
    assert!(!list.contains("<script>alert"));

    // Issues: a duplicate number, a story in two issues, a bad date.
    let create = |n: &'static str, d: &'static str| {
        vec![("csrf", csrf.as_str()), ("number", n), ("date", d)]
    };
    assert_eq!(
        c.post("/admin/issues", &create("5", "2021-07-22"))
            .await
            .status,
        303
    );
    let reply = c.post("/admin/issues", &create("5", "2021-07-22")).await;
    assert_eq!(reply.status, 409);
    assert!(reply.text().contains("Issue 5 exists already."));
    assert_eq!(
        c.post("/admin/issues", &create("6", "2021-13-01"))
            .await
            .status,
        422
    );
    assert_eq!(
        c.post("/admin/issues", &create("zero", "")).await.status,
        422
    );
    assert_eq!(c.post("/admin/issues", &create("6", "")).await.status, 303);
    assert_eq!(
        c.post("/admin/issues/5", &[("csrf", &csrf), ("add", &slug)])
            .await
            .status,
        303
    );
    let reply = c
        .post("/admin/issues/6", &[("csrf", &csrf), ("add", &slug)])
        .await;
    assert_eq!(reply.status, 409);
    assert!(
        reply.text().contains("already in issue 5"),
        "{}",
        reply.text()
    );
    // Publishing an issue without a date says what to do; the builder sets one.
    let reply = c.post("/admin/issues/6/publish", &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, 409);
    assert!(reply.text().contains("has no date"));
    let reply = c
        .post(
            "/admin/issues/6/date",
            &[("csrf", &csrf), ("date", "2021-02-30")],
        )
        .await;
    assert_eq!(reply.status, 422);
    let reply = c
        .post(
            "/admin/issues/6/date",
            &[("csrf", &csrf), ("date", "2021-07-29")],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        site.store.issue_desk(6).await.unwrap().unwrap().date,
        Some("2021-07-29".parse().unwrap())
    );
    // An issue number out of sequence is warned about.
    assert_eq!(
        c.post("/admin/issues", &create("48", "2021-06-16"))
            .await
            .status,
        303
    );
    let page = c.get("/admin/issues/48").await.text();
    assert!(page.contains("skips numbers"), "{page}");
    assert_eq!(
        c.post("/admin/issues", &create("7", "2021-06-23"))
            .await
            .status,
        303
    );
    let page = c.get("/admin/issues/7").await.text();
    assert!(
        page.contains("below the highest issue number, 48"),
        "{page}"
    );
    // The next number in sequence gets no warning.
    c.post("/admin/issues", &create("49", "2021-06-30")).await;
    let page = c.get("/admin/issues/49").await;
    assert_eq!(page.status, 200);
    assert!(!page.text().contains("class=\"notice\""), "{}", page.text());
    assert_eq!(c.get("/admin/issues/999").await.status, 404);
    assert_eq!(c.get("/admin/stories/no-such-story").await.status, 404);

    // An oversized body is refused before it is read.
    let huge = "x".repeat(3 * 1024 * 1024);
    let reply = c
        .post(
            "/admin/stories/new",
            &[("csrf", &csrf), ("headline", "Huge"), ("body", &huge)],
        )
        .await;
    assert_eq!(reply.status, 413);
}

/// What visitors see: nothing of a draft, then the issue once it is published.
#[tokio::test]
async fn visitors_see_only_what_is_published() {
    let site = newsroom_site(Default::default()).await;
    let mut c = Client::new(&site);
    c.sign_in("editor@example.org").await;
    let csrf = c.csrf().await;
    let slug = write_draft(&mut c, "Draft that must not leak").await;
    let url = "/2021/07/18/draft-that-must-not-leak/";
    assert_eq!(slug, "draft-that-must-not-leak");
    let mut visitor = Client::new(&site);
    let public_paths = [
        "/",
        "/tag/political-rights/",
        "/feed/",
        "/feed/atom/",
        "/sitemap.xml",
        "/country/az/",
        "/2021/07/",
    ];
    let leaks = |text: &str| text.contains("must-not-leak") || text.contains("must not leak");
    assert_eq!(visitor.get(url).await.status, 404);
    for path in public_paths {
        let reply = visitor.get(path).await;
        assert!(!leaks(&reply.text()), "{path} shows the draft");
    }
    // In a draft issue: the issue page is not found either.
    assert_eq!(
        c.post(
            "/admin/issues",
            &[("csrf", &csrf), ("number", "12"), ("date", "2021-07-22")]
        )
        .await
        .status,
        303
    );
    assert_eq!(
        c.post("/admin/issues/12", &[("csrf", &csrf), ("add", &slug)])
            .await
            .status,
        303
    );
    assert_eq!(visitor.get("/issue/12/").await.status, 404);
    assert_eq!(visitor.get("/issue/12/feed/").await.status, 404);
    assert!(!leaks(&visitor.get("/issue/").await.text()));

    // Published: on its page, its tag page, the feed and the issue.
    let reply = c.post("/admin/issues/12/publish", &[("csrf", &csrf)]).await;
    assert_eq!(reply.status, 303);
    let page = visitor.get(url).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("published in issue 12"),
        "{}",
        page.text()
    );
    assert!(leaks(&visitor.get("/tag/political-rights/").await.text()));
    assert!(leaks(&visitor.get("/feed/").await.text()));
    assert_eq!(visitor.get("/issue/12/").await.status, 200);
    let audit = site.store.audit_log(0, 10).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), audit[0].actor.as_str()),
        ("publish", "editor@example.org")
    );

    // Unpublished again: gone from every page at once.
    assert_eq!(
        c.post("/admin/issues/12/unpublish", &[("csrf", &csrf)])
            .await
            .status,
        303
    );
    assert_eq!(visitor.get(url).await.status, 404);
    for path in public_paths {
        assert!(
            !leaks(&visitor.get(path).await.text()),
            "{path} after unpublishing"
        );
    }
}

#[tokio::test]
async fn a_scheduled_issue_goes_live_at_its_time() {
    // The scheduler reads the test's clock: its time comes when the test moves it.
    let clock = Arc::new(MovableClock::default());
    let site = newsroom_site(Default::default()).await;
    let actor = Actor::system("test");
    let store = &site.store;
    store
        .create_issue(20, Some("2021-07-22".parse().unwrap()), &actor, 1)
        .await
        .unwrap();
    let mut c = Client::new(&site);
    c.sign_in("editor@example.org").await;
    let slug = write_draft(&mut c, "Scheduled story").await;
    store
        .set_issue_stories(20, std::slice::from_ref(&slug), &actor, 1)
        .await
        .unwrap();
    let now = bulletin_web::clock::Clock::now(clock.as_ref()).as_second();
    store
        .schedule_issue(20, now + 2, &actor, now)
        .await
        .unwrap();
    let scheduler = bulletin_web::spawn_scheduler_with(
        store.clone(),
        Duration::from_millis(200),
        clock.clone(),
    );
    let mut visitor = Client::new(&site);
    assert_eq!(
        visitor.get("/2021/07/18/scheduled-story/").await.status,
        404
    );
    clock.advance(2);
    let mut live = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if visitor.get("/2021/07/18/scheduled-story/").await.status == 200 {
            live = true;
            break;
        }
    }
    scheduler.abort();
    assert!(live, "the scheduled issue did not go live");
    let when = store.audit_log(0, 10).await.unwrap();
    assert_eq!(
        (when[0].action.as_str(), when[0].actor.as_str()),
        ("publish", "scheduler")
    );
    assert!(when[0].at >= now + 2);
}

// ---------------------------------------------------------------------------------
// The staff API

/// One API call with a bearer token and a JSON body; the status and the JSON
/// answer (`Null` when there is none), and the content type.
async fn api(
    site: &Site,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value, String) {
    let mut c = Client::new(site);
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let mut extra: Vec<&str> = vec!["Content-Type: application/json"];
    if let Some(a) = &auth {
        extra.push(a);
    }
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let reply = c.send(method, path, body.as_bytes(), &extra).await;
    let json = if reply.body.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::from_slice(&reply.body)
            .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {}", reply.text()))
    };
    let content_type = reply.header("content-type").unwrap_or("").to_owned();
    (reply.status, json, content_type)
}

/// Makes a token through the admin page; the token as shown once.
async fn make_token(c: &mut Client<'_>, name: &str, scopes: &[&str]) -> String {
    let csrf = c.csrf().await;
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("action", "create"),
        ("name", name),
    ];
    for s in scopes {
        form.push(("scope", s));
    }
    let reply = c.post("/admin/tokens", &form).await;
    assert_eq!(reply.status, 200, "{}", reply.text());
    let page = reply.text();
    let start = page.find("<code class=\"token\">").unwrap() + "<code class=\"token\">".len();
    page[start..start + page[start..].find('<').unwrap()].to_owned()
}

fn story_json(headline: &str) -> serde_json::Value {
    serde_json::json!({
        "headline": headline,
        "dateline": { "places": ["Bishkek"], "date": "2021-08-09" },
        "body": ["A lead paragraph from the API.", "A second paragraph."],
        "tags": ["political rights"],
    })
}

#[tokio::test]
async fn staff_api_with_tokens() {
    let site = newsroom_site(Default::default()).await;
    let mut editor = Client::new(&site);
    editor.sign_in("editor@example.org").await;
    let token = make_token(&mut editor, "wire importer", &["read", "write", "publish"]).await;
    assert!(token.starts_with("bt_"));
    // Only a hash is stored.
    let listed = editor.get("/admin/tokens").await.text();
    assert!(!listed.contains(&token), "a token is shown once");

    // No token, a bad one, or the session cookie: 401 with a problem body.
    let (status, problem, content_type) =
        api(&site, "GET", "/api/v1/admin/stories", None, None).await;
    assert_eq!(
        (status, content_type.as_str()),
        (401, "application/problem+json")
    );
    assert!(problem["detail"].as_str().unwrap().contains("Bearer"));
    assert_eq!(
        api(
            &site,
            "GET",
            "/api/v1/admin/stories",
            Some("bt_forged"),
            None
        )
        .await
        .0,
        401
    );
    let cookie_only = editor.get("/api/v1/admin/stories").await;
    assert_eq!(cookie_only.status, 401, "the API takes no cookies");

    // Write a draft, read it, save on its version, conflict on an old one.
    let (status, created, _) = api(
        &site,
        "POST",
        "/api/v1/admin/stories",
        Some(&token),
        Some(story_json("Bishkek wire story")),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let slug = created["slug"].as_str().unwrap().to_owned();
    assert_eq!(created["version"], 1);
    let (status, got, _) = api(
        &site,
        "GET",
        &format!("/api/v1/admin/stories/{slug}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(got["state"], "draft");
    assert_eq!(got["story"]["dateline"]["places"][0], "Bishkek");
    assert_eq!(got["story"]["countries"][0], "KG");
    let mut edit = story_json("Bishkek wire story");
    edit["body"][0] = "A corrected lead.".into();
    edit["version"] = 1.into();
    let (status, saved, _) = api(
        &site,
        "PUT",
        &format!("/api/v1/admin/stories/{slug}"),
        Some(&token),
        Some(edit.clone()),
    )
    .await;
    assert_eq!((status, saved["version"].as_u64()), (200, Some(2)));
    let (status, conflict, content_type) = api(
        &site,
        "PUT",
        &format!("/api/v1/admin/stories/{slug}"),
        Some(&token),
        Some(edit),
    )
    .await;
    assert_eq!(
        (status, content_type.as_str()),
        (409, "application/problem+json")
    );
    assert_eq!(conflict["current"]["version"], 2);
    assert_eq!(conflict["current"]["story"]["body"][0], "A corrected lead.");

    // Bad input: each a problem with the right status, nothing written.
    let before = site.store.desk(&Default::default()).await.unwrap().1;
    for (body, status) in [
        (serde_json::json!("not an object"), 400),
        (
            serde_json::json!({ "headline": "x", "dateline": { "date": "2021-08-09" }, "body": ["p"], "colour": "red" }),
            400,
        ),
        (
            serde_json::json!({ "headline": "", "dateline": { "date": "2021-08-09" }, "body": ["p"] }),
            422,
        ),
        (
            serde_json::json!({ "headline": "x", "dateline": { "date": "2021-02-30" }, "body": ["p"] }),
            422,
        ),
        (
            serde_json::json!({ "headline": "<script>x</script>", "dateline": { "date": "2021-08-09" }, "body": ["a\n\nb"] }),
            422,
        ),
    ] {
        let (got, problem, content_type) = api(
            &site,
            "POST",
            "/api/v1/admin/stories",
            Some(&token),
            Some(body.clone()),
        )
        .await;
        assert_eq!(
            (got, content_type.as_str()),
            (status, "application/problem+json"),
            "{body}: {problem}"
        );
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        site.store.desk(&Default::default()).await.unwrap().1,
        before
    );

    // An issue through the API: create, arrange, publish; the story is public.
    let (status, issue, _) = api(
        &site,
        "POST",
        "/api/v1/admin/issues",
        Some(&token),
        Some(serde_json::json!({ "number": 30, "date": "2021-08-12" })),
    )
    .await;
    assert_eq!((status, issue["status"].as_str()), (201, Some("draft")));
    assert_eq!(
        api(
            &site,
            "POST",
            "/api/v1/admin/issues",
            Some(&token),
            Some(serde_json::json!({ "number": 30 }))
        )
        .await
        .0,
        409
    );
    let (status, issue, _) = api(
        &site,
        "PUT",
        "/api/v1/admin/issues/30/stories",
        Some(&token),
        Some(serde_json::json!({ "stories": [slug] })),
    )
    .await;
    assert_eq!(status, 200, "{issue}");
    assert_eq!(issue["stories"][0]["slug"], slug.as_str());
    let (status, dated, _) = api(
        &site,
        "PUT",
        "/api/v1/admin/issues/30/date",
        Some(&token),
        Some(serde_json::json!({ "date": "2021-08-13" })),
    )
    .await;
    assert_eq!((status, dated["date"].as_str()), (200, Some("2021-08-13")));
    let (status, bad, _) = api(
        &site,
        "POST",
        "/api/v1/admin/issues/30/schedule",
        Some(&token),
        Some(serde_json::json!({ "at": "tomorrow" })),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
    let (status, published, _) = api(
        &site,
        "POST",
        "/api/v1/admin/issues/30/publish",
        Some(&token),
        None,
    )
    .await;
    assert_eq!(
        (status, published["stories_published"].as_u64()),
        (200, Some(1))
    );
    let mut visitor = Client::new(&site);
    assert_eq!(
        visitor.get(&format!("/2021/08/09/{slug}/")).await.status,
        200
    );
    let (status, audit, _) = api(&site, "GET", "/api/v1/admin/audit", Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(audit["entries"][0]["action"], "publish");
    assert_eq!(audit["entries"][0]["actor"], "editor@example.org");

    // Revoked: refused at once.
    let page = editor.get("/admin/tokens").await.text();
    let id = hidden(&page, "id");
    let csrf = hidden(&page, "csrf");
    let reply = editor
        .post(
            "/admin/tokens",
            &[("csrf", &csrf), ("action", "revoke"), ("id", &id)],
        )
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        api(&site, "GET", "/api/v1/admin/stories", Some(&token), None)
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn api_tokens_are_limited_by_scope_and_role() {
    let site = newsroom_site(Default::default()).await;
    let mut editor = Client::new(&site);
    editor.sign_in("editor@example.org").await;
    let read_only = make_token(&mut editor, "reader", &["read"]).await;
    let (status, problem, _) = api(
        &site,
        "POST",
        "/api/v1/admin/stories",
        Some(&read_only),
        Some(story_json("Nope")),
    )
    .await;
    assert_eq!(status, 403);
    assert!(problem["detail"].as_str().unwrap().contains("write scope"));
    assert_eq!(
        api(
            &site,
            "GET",
            "/api/v1/admin/stories",
            Some(&read_only),
            None
        )
        .await
        .0,
        200
    );

    // A contributor's token with every scope still cannot publish or see issues.
    let mut writer = Client::new(&site);
    writer.sign_in("writer@example.org").await;
    let token = make_token(&mut writer, "everything", &["read", "write", "publish"]).await;
    let (status, created, _) = api(
        &site,
        "POST",
        "/api/v1/admin/stories",
        Some(&token),
        Some(story_json("Contributor draft")),
    )
    .await;
    assert_eq!(status, 201);
    let slug = created["slug"].as_str().unwrap();
    let got = site.store.desk_story(slug).await.unwrap().unwrap();
    assert!(got.story.tags.is_empty(), "contributors do not tag");
    let (status, problem, _) = api(
        &site,
        "POST",
        &format!("/api/v1/admin/stories/{slug}/publish"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("role (contributor)")
    );
    assert_eq!(
        api(&site, "GET", "/api/v1/admin/issues", Some(&token), None)
            .await
            .0,
        403
    );
    // Nor open another person's draft.
    let (_, other, _) = api(
        &site,
        "POST",
        "/api/v1/admin/stories",
        Some(&make_token(&mut editor, "w", &["write"]).await),
        Some(story_json("Editor draft")),
    )
    .await;
    let other = other["slug"].as_str().unwrap();
    assert_eq!(
        api(
            &site,
            "GET",
            &format!("/api/v1/admin/stories/{other}"),
            Some(&token),
            None
        )
        .await
        .0,
        403
    );
    assert!(site.store.story(slug).await.unwrap().is_none());
}

/// Every operation the OpenAPI description lists is routed (no 404 or 405),
/// and the description is valid JSON of OpenAPI 3.1.
#[tokio::test]
async fn the_openapi_description_matches_the_routes() {
    let site = newsroom_site(Default::default()).await;
    let (status, doc, content_type) = api(&site, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 14, "{}", paths.len());
    let mut operations = 0;
    for (path, item) in paths {
        let concrete = path
            .replace("{slug}", "no-such-story")
            .replace("{number}", "999");
        for method in ["get", "post", "put", "delete"] {
            let Some(op) = item.get(method) else { continue };
            operations += 1;
            let body = (method == "post" || method == "put").then(|| serde_json::json!({}));
            let (status, _, _) = api(&site, &method.to_uppercase(), &concrete, None, body).await;
            assert!(status != 404 && status != 405, "{method} {path}: {status}");
            // Staff operations say so, and answer 401 without a token.
            if op.get("security").is_some() {
                assert_eq!(status, 401, "{method} {path}");
            }
        }
    }
    assert!(operations >= 18, "{operations}");
}

/// Every kind of newsroom page, as a signed-in admin sees it (and the sign-in
/// and setup pages), for the HTML validator: (name, HTML).
pub(super) async fn pages_to_validate() -> Vec<(String, String)> {
    let site = newsroom_site(bulletin_web::Options {
        setup_token: Some("validate-setup".into()),
        ..Default::default()
    })
    .await;
    let mut pages = Vec::new();
    let mut anonymous = Client::new(&site);
    pages.push((
        "login".into(),
        anonymous.get("/admin/login?expired=1").await.text(),
    ));
    pages.push((
        "setup".into(),
        anonymous
            .get("/admin/setup?token=validate-setup")
            .await
            .text(),
    ));
    let wrong = anonymous
        .try_sign_in("admin@example.org", "wrong password!!")
        .await;
    pages.push(("login-refused".into(), wrong.text()));

    let mut c = Client::new(&site);
    c.sign_in("admin@example.org").await;
    let slug = write_draft(&mut c, "A draft to validate").await;
    let csrf = c.csrf().await;
    let mut preview = story_form(&csrf, "A <b>preview</b>");
    preview.retain(|(k, _)| *k != "action");
    preview.push(("action", "preview"));
    pages.push((
        "preview".into(),
        c.post("/admin/stories/new", &preview).await.text(),
    ));
    pages.push((
        "refused-story".into(),
        c.post("/admin/stories/new", &story_form(&csrf, ""))
            .await
            .text(),
    ));
    let mut save = story_form(&csrf, "A draft to validate");
    save[5] = ("body", "Changed once.");
    save.push(("version", "1"));
    c.post(&format!("/admin/stories/{slug}"), &save).await;
    save[5] = ("body", "Changed from an old version.");
    pages.push((
        "conflict".into(),
        c.post(&format!("/admin/stories/{slug}"), &save)
            .await
            .text(),
    ));
    c.post(
        "/admin/issues",
        &[("csrf", &csrf), ("number", "40"), ("date", "2021-08-01")],
    )
    .await;
    c.post("/admin/issues/40", &[("csrf", &csrf), ("add", &slug)])
        .await;
    c.post(
        "/admin/issues",
        &[("csrf", &csrf), ("number", "41"), ("date", "2021-08-08")],
    )
    .await;
    for path in [
        "/admin/?note=saved",
        "/admin/stories/new",
        &format!("/admin/stories/{slug}?note=saved"),
        &format!("/admin/stories/{slug}/history?a=1&b=2"),
        "/admin/issues",
        "/admin/issues/40",
        "/admin/issues/41",
        "/admin/audit",
        "/admin/users",
        "/admin/subscribers",
        "/admin/subscribers?status=active&plan=paid",
        "/admin/stories/no-such-story",
    ] {
        pages.push((path.to_owned(), c.get(path).await.text()));
    }
    c.post("/admin/issues/40/publish", &[("csrf", &csrf)]).await;
    pages.push((
        "published-issue".into(),
        c.get("/admin/issues/40").await.text(),
    ));
    site.store
        .add_subscriber(
            &bulletin_store::NewSubscriber {
                email: "reader@example.org".into(),
                name: "A Reader".into(),
                plan: bulletin_core::subscriber::Plan::Free,
                status: bulletin_core::subscriber::SubscriberStatus::Active,
            },
            0,
        )
        .await
        .unwrap();
    site.store.queue_issue(40, 0).await.unwrap();
    pages.push((
        "issue-being-sent".into(),
        c.get("/admin/issues/40").await.text(),
    ));
    pages.push((
        "subscribers".into(),
        c.get("/admin/subscribers").await.text(),
    ));
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("action", "create"),
        ("name", "validator"),
    ];
    form.push(("scope", "read"));
    pages.push((
        "token-made".into(),
        c.post("/admin/tokens", &form).await.text(),
    ));
    pages.push((
        "forbidden".into(),
        c.post("/admin/stories/new", &story_form("forged", "x"))
            .await
            .text(),
    ));
    pages
}

/// Admins change plans (page and API, audited); editors preview the
/// newsletter as each plan gets it and follow the send queue; neither page
/// is open to a role below.
#[tokio::test]
async fn subscribers_plans_previews_and_send_progress() {
    use bulletin_core::subscriber::{Plan, SubscriberStatus};
    let site = newsroom_site(Default::default()).await;
    let text = "Grain exports resume from the port\n\n\
        POTI/MAY 3 2022 (The Bulletin) \u{2014} Opening paragraph for everyone.\n\n\
        Closing paragraph for paying readers.\n\nENDS\n\n\
        \u{2014} This story was published in issue 520 of the Example Bulletin, on May 5 2022\n\n\
        \u{2014} Copyright the Example Bulletin 2022\n";
    let mut stories = bulletin_text::read_str(text).unwrap().stories;
    stories[0].access = bulletin_core::Access::Subscribers;
    let mut tx = site.store.begin_import().await.unwrap();
    tx.put_stories(stories).await.unwrap();
    tx.commit().await.unwrap();
    for email in ["one@example.org", "two@example.org"] {
        site.store
            .add_subscriber(
                &bulletin_store::NewSubscriber {
                    email: email.into(),
                    name: String::new(),
                    plan: Plan::Free,
                    status: SubscriberStatus::Active,
                },
                0,
            )
            .await
            .unwrap();
    }

    let mut admin = Client::new(&site);
    admin.sign_in("admin@example.org").await;
    let list = admin.get("/admin/subscribers").await;
    assert_eq!(list.status, 200);
    assert!(list.text().contains("one@example.org"));
    let csrf = admin.csrf().await;
    let changed = admin
        .post(
            "/admin/subscribers",
            &[
                ("csrf", &csrf),
                ("email", "one@example.org"),
                ("plan", "paid"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.text());
    let one = site
        .store
        .subscriber("one@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(one.plan, Plan::Paid);
    let audit = site.store.audit_log(0, 10).await.unwrap();
    assert!(
        audit.iter().any(|e| e.action == "plan"
            && e.key == "one@example.org"
            && e.detail == "free to paid"),
        "{audit:?}"
    );
    // Without the CSRF token: nothing changes.
    let forged = admin
        .post(
            "/admin/subscribers",
            &[("email", "two@example.org"), ("plan", "paid")],
        )
        .await;
    assert_eq!(forged.status, 403);

    let mut editor = Client::new(&site);
    editor.sign_in("editor@example.org").await;
    assert_eq!(editor.get("/admin/subscribers").await.status, 403);

    // The API: admins only, scopes as everywhere.
    let admin_token = make_token(&mut admin, "plans", &["read", "write"]).await;
    let editor_token = make_token(&mut editor, "reader", &["read", "write"]).await;
    let (status, body, _) = api(
        &site,
        "PUT",
        "/api/v1/admin/subscribers/two@example.org/plan",
        Some(&admin_token),
        Some(serde_json::json!({ "plan": "paid" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["plan"], "paid");
    for (plan, expected) in [("gold", 422), ("paid", 404)] {
        let target = if expected == 404 {
            "/api/v1/admin/subscribers/nobody@example.org/plan"
        } else {
            "/api/v1/admin/subscribers/two@example.org/plan"
        };
        let (status, body, content_type) = api(
            &site,
            "PUT",
            target,
            Some(&admin_token),
            Some(serde_json::json!({ "plan": plan })),
        )
        .await;
        assert_eq!(status, expected, "{body}");
        assert_eq!(content_type, "application/problem+json");
    }
    let (status, _, _) = api(
        &site,
        "PUT",
        "/api/v1/admin/subscribers/two@example.org/plan",
        Some(&editor_token),
        Some(serde_json::json!({ "plan": "free" })),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = api(
        &site,
        "GET",
        "/api/v1/admin/subscribers",
        Some(&editor_token),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, list, _) = api(
        &site,
        "GET",
        "/api/v1/admin/subscribers?plan=paid",
        Some(&admin_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list["total"], 2);
    let (status, _, _) = api(
        &site,
        "GET",
        "/api/v1/admin/subscribers?plan=gold",
        Some(&admin_token),
        None,
    )
    .await;
    assert_eq!(status, 400);

    // The newsletter preview, per plan; the issue page shows the queue.
    let free = editor.get("/admin/issues/520/newsletter?as=free").await;
    assert_eq!(free.status, 200);
    assert!(
        free.header("content-security-policy")
            .unwrap()
            .contains("style-src 'unsafe-inline'")
    );
    assert!(
        !free
            .header("content-security-policy")
            .unwrap()
            .contains("script")
    );
    assert!(free.text().contains("Opening paragraph for everyone."));
    assert!(
        !free
            .text()
            .contains("Closing paragraph for paying readers.")
    );
    let paid = editor
        .get("/admin/issues/520/newsletter?as=paid&part=text")
        .await;
    assert!(
        paid.header("content-type")
            .unwrap()
            .starts_with("text/plain")
    );
    assert!(
        paid.text()
            .contains("Closing paragraph for paying readers.")
    );
    let mut writer = Client::new(&site);
    writer.sign_in("writer@example.org").await;
    assert_eq!(writer.get("/admin/issues/520/newsletter").await.status, 403);
    assert_eq!(
        editor.get("/admin/issues/9999/newsletter").await.status,
        404
    );

    let page = editor.get("/admin/issues/520").await.text();
    assert!(page.contains("Not sent yet"), "{page}");
    let csrf = editor.csrf().await;
    let queued = editor
        .post("/admin/issues/520/send", &[("csrf", &csrf)])
        .await;
    assert_eq!(queued.status, 303, "{}", queued.text());
    // Twice: nobody is queued twice.
    editor
        .post("/admin/issues/520/send", &[("csrf", &csrf)])
        .await;
    assert_eq!(site.store.send_progress(520).await.unwrap().total(), 2);
    // A contributor cannot, and without the form token nobody can.
    assert_eq!(writer.post("/admin/issues/520/send", &[]).await.status, 403);
    let page = editor.get("/admin/issues/520").await.text();
    assert!(page.contains("0 sent, 0 failed, 2 waiting, of 2"), "{page}");
    let (status, progress, _) = api(
        &site,
        "GET",
        "/api/v1/admin/issues/520/sends",
        Some(&editor_token),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(progress["total"], 2);
    assert_eq!(progress["queued"], 2);
}
