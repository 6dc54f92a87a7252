//! Limits under parallel requests, over real HTTP (issue 16): a burst of
//! posts from one client is counted as it arrives, so no more are checked or
//! mailed than the limits allow; and reader mail is queued, so no answer
//! waits for the SMTP server.

use std::sync::Arc;
use std::time::Duration;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_store::NewSubscriber;
use tokio::sync::Semaphore;

use super::Site;
use super::admin::{PASSWORD, newsroom_site};
use super::readers::{form, post, reader_site_with};

/// Posts `bodies` to `path` all at once, with one form cookie; the statuses.
async fn burst(site: &Site, path: &str, cookie: &str, bodies: Vec<String>) -> Vec<u16> {
    let replies = join_all(
        bodies
            .iter()
            .map(|body| post(site, path, cookie, body))
            .collect(),
    )
    .await;
    replies.iter().map(|r| r.status).collect()
}

/// Polls every future together on this task, so the requests are in flight
/// at once (the server runs them on its own tasks).
async fn join_all<F: std::future::Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

fn login_body(token: &str, email: &str, password: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("form_token", token),
            ("email", email),
            ("password", password),
        ])
        .finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sign_ins_are_checked_no_more_than_the_limits_allow() {
    const PER_ACCOUNT: u64 = 5;
    const PER_ADDRESS: u64 = 12;
    let site = newsroom_site(bulletin_web::Options {
        login_limits: bulletin_web::admin::auth::LoginLimits {
            per_account: PER_ACCOUNT,
            per_address: PER_ADDRESS,
            window: Duration::from_secs(900),
        },
        ..Default::default()
    })
    .await;
    let (token, cookie) = form(&site, "/admin/login").await;
    // 30 wrong passwords for one account at once: 401 means the password was
    // checked, 429 that the attempt was refused before.
    let wrong = (0..30)
        .map(|_| login_body(&token, "editor@example.org", "not the password"))
        .collect();
    let statuses = burst(&site, "/admin/login", &cookie, wrong).await;
    assert_eq!(
        count(&statuses, 401),
        5,
        "checked against a limit of 5 per account: {statuses:?}"
    );
    assert_eq!(count(&statuses, 429), 25, "{statuses:?}");
    // The right password after the limit is refused too.
    let right = post(
        &site,
        "/admin/login",
        &cookie,
        &login_body(&token, "editor@example.org", PASSWORD),
    )
    .await;
    assert_eq!(right.status, 429, "{}", right.text());
    assert!(right.headers.iter().all(|(n, _)| n != "location"));

    // Then wrong passwords for 30 different accounts: the address has 12 - 5
    // = 7 attempts left.
    let spread = (0..30)
        .map(|i| login_body(&token, &format!("nobody{i}@example.org"), "guess"))
        .collect();
    let statuses = burst(&site, "/admin/login", &cookie, spread).await;
    assert_eq!(
        count(&statuses, 401),
        7,
        "checked against 12 per address: {statuses:?}"
    );
    let right = post(
        &site,
        "/admin/login",
        &cookie,
        &login_body(&token, "admin@example.org", PASSWORD),
    )
    .await;
    assert_eq!(right.status, 429, "{}", right.text());
    assert!(
        right.text().contains("from your address"),
        "{}",
        right.text()
    );
}

/// A subscriber who confirmed their address, made through the store.
async fn confirmed(site: &Site, email: &str) {
    let new = NewSubscriber {
        email: email.to_owned(),
        name: "A Reader".to_owned(),
        plan: Plan::Free,
        status: SubscriberStatus::Pending,
    };
    site.store.add_subscriber(&new, 0).await.unwrap();
    site.store
        .set_subscriber_status(email, SubscriberStatus::Active, 0)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_sign_in_links_are_mailed_no_more_than_the_limit() {
    let (site, outbox) = reader_site_with(None).await;
    confirmed(&site, "reader@example.org").await;
    let (token, cookie) = form(&site, "/account/sign-in/").await;
    let bodies = (0..30)
        .map(|_| format!("form_token={token}&email=reader%40example.org"))
        .collect();
    let statuses = burst(&site, "/account/sign-in/", &cookie, bodies).await;
    // The limits: 3 messages an hour to one address, 10 requests from one
    // client; the address's is the lower.
    assert_eq!(count(&statuses, 200), 3, "{statuses:?}");
    assert_eq!(count(&statuses, 429), 27, "{statuses:?}");
    let delivered = outbox.to("reader@example.org").await;
    assert_eq!(delivered.len(), 3, "messages delivered to one address");
    assert!(
        delivered
            .iter()
            .all(|m| m.contains("/account/sign-in/") && m.contains("Your sign-in link"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_mail_is_queued_and_the_answer_does_not_wait_for_smtp() {
    // The SMTP server greets nobody until the test opens the gate.
    let gate = Arc::new(Semaphore::new(0));
    let (site, outbox) = reader_site_with(Some(Arc::clone(&gate))).await;
    confirmed(&site, "known@example.org").await;
    let ask = async |email: &str| {
        let (token, cookie) = form(&site, "/account/sign-in/").await;
        post(
            &site,
            "/account/sign-in/",
            &cookie,
            &format!("form_token={token}&email={}", email.replace('@', "%40")),
        )
        .await
    };
    // Answered while the SMTP server holds every session unanswered: the
    // answer did not wait for it. The link waits in the queue.
    let known = ask("known@example.org").await;
    assert_eq!(known.status, 200, "{}", known.text());
    assert_eq!(site.store.notices_waiting().await.unwrap(), 1);
    // An unknown address: the same page, and nothing queued.
    let unknown = ask("nobody@example.org").await;
    assert_eq!(unknown.status, 200);
    assert_eq!(unknown.text(), known.text());
    assert_eq!(site.store.notices_waiting().await.unwrap(), 1);
    // Open the gate: the queued link is delivered, to the known address only.
    gate.add_permits(1_000);
    let messages = outbox.messages().await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0, vec!["<known@example.org>".to_owned()]);
    assert!(messages[0].1.contains("/account/sign-in/"));
}
