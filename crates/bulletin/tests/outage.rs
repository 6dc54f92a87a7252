//! PostgreSQL going away under a running `serve` (issue 17), on a server of
//! the test's own ([`OwnPostgres`]) so stopping it disturbs no other test:
//! pages the cache holds keep being served, what needs the store gets a 503
//! with `Retry-After` (HTML for the site, problem JSON for the API), nothing
//! hangs past the request timeout, and everything recovers without a restart
//! of bulletin.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bulletin_test_support::{OwnPostgres, wait_until};

use crate::newsletter::http;
use crate::ops::start;
use crate::{Archive, text};

/// Waits until `path` answers 200 again (a 503 meanwhile).
fn until_ok(port: u16, path: &str) {
    wait_until(
        &format!("{path} to answer 200"),
        Duration::from_secs(60),
        || {
            let (status, _, body) = http(port, "GET", path, &[], "");
            assert!(status == 200 || status == 503, "{path}: {status} {body}");
            status == 200
        },
    );
}

fn retry_after(headers: &[(String, String)]) -> Option<&str> {
    headers
        .iter()
        .find(|(n, _)| n == "retry-after")
        .map(|(_, v)| v.as_str())
}

#[test]
fn serve_rides_out_postgresql_stopping_and_restarting() {
    let Some(pg) = OwnPostgres::start_or_skip() else {
        return;
    };
    let archive = Archive::on_database(pg.url());
    let file = archive.path("gen.txt").display().to_string();
    archive.run_ok(&["gen", "--stories", "40", "--seed", "3", "-o", &file]);
    archive.run_ok(&["import", &file]);
    let backup: serde_json::Value =
        serde_json::from_str(&archive.export(&["--format", "json"])).unwrap();
    let story = backup["stories"][0]["url"].as_str().unwrap().to_owned();
    let running = start(archive.command(), &[]);
    let port = running.port;

    // The home page is rendered and kept; the story page never asked for.
    let (_, _, home) = http(port, "GET", "/", &[], "");
    let (status, _, again) = http(port, "GET", "/", &[], "");
    assert_eq!((status, &again), (200, &home));

    pg.stop();
    let (status, _, stale) = http(port, "GET", "/", &[], "");
    assert_eq!(status, 200, "a kept page is still served: {stale}");
    assert_eq!(stale, home);
    let (status, headers, body) = http(port, "GET", &story, &[], "");
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after(&headers), Some("5"), "{headers:?}");
    let (status, headers, body) = http(
        port,
        "GET",
        "/api/v1/admin/stories",
        &["Authorization: Bearer bt_not_a_real_token".into()],
        "",
    );
    assert_eq!(status, 503, "{body}");
    assert_eq!(retry_after(&headers), Some("5"), "{headers:?}");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["status"], 503, "{problem}");
    assert_eq!(http(port, "GET", "/readyz", &[], "").0, 503);
    assert_eq!(http(port, "GET", "/healthz", &[], "").0, 200);

    pg.start();
    until_ok(port, &story);
    until_ok(port, "/readyz");

    // A restart under load: every answer is a page or a clean 503, none waits
    // past the request timeout, and the server is still there afterwards.
    let stop = Arc::new(AtomicBool::new(false));
    let paths = [
        "/".to_owned(),
        story.clone(),
        "/feed/".into(),
        "/search/?q=the".into(),
    ];
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let stop = Arc::clone(&stop);
            let paths = paths.clone();
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut i = w;
                while !stop.load(Ordering::Relaxed) {
                    let path = &paths[i % paths.len()];
                    let sent = Instant::now();
                    let (status, headers, _) = http(port, "GET", path, &[], "");
                    let took = sent.elapsed();
                    let retry = retry_after(&headers).map(str::to_owned);
                    seen.push((path.clone(), status, retry, took));
                    i += 1;
                }
                seen
            })
        })
        .collect();
    pg.restart();
    until_ok(port, &story);
    until_ok(port, "/feed/");
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(!seen.is_empty());
    for (path, status, retry, took) in &seen {
        match status {
            200 => {}
            503 => assert_eq!(retry.as_deref(), Some("5"), "{path}"),
            other => panic!("{path} answered {other}"),
        }
        // The request timeout is 15 s; the pool gives up after 3 s.
        assert!(*took < Duration::from_secs(15), "{path} took {took:?}");
    }
    assert_eq!(http(port, "GET", "/readyz", &[], "").0, 200);
    let out = archive.run_ok(&["search", "the", "--json"]);
    assert!(!text(&out.stdout).is_empty());
}

/// The standing sender across a PostgreSQL stop in the middle of a
/// newsletter: it pauses while the database is away and finishes when it is
/// back; every subscriber gets the issue exactly once. (Before the recorder
/// waited for the database, an outcome lost in the outage left its row to be
/// sent again when the claim's lease ran out: 31 messages for 30 readers.)
#[test]
fn the_standing_sender_pauses_and_resumes_across_a_stop() {
    use bulletin_test_support::smtp::SmtpSink;
    let Some(sink) = SmtpSink::start(&[]) else {
        return;
    };
    let Some(pg) = OwnPostgres::start_or_skip() else {
        return;
    };
    let archive = Archive::on_database(pg.url());
    const READERS: usize = 30;
    crate::newsletter::issue_seven_for(
        &archive,
        (0..READERS).map(|i| format!("reader{i}@example.org")),
    );
    crate::cluster::add_admin(&archive);
    crate::write(
        &archive.path("bulletin.toml"),
        format!(
            "[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 5\n",
            sink.url()
        ),
    );
    let running = start(
        archive.command(),
        &["--dev", "--metrics-addr", "127.0.0.1:0"],
    );
    let port = running.port;
    let session = crate::cluster::sign_in(port);
    let cookie = format!("Cookie: {session}");
    let (_, _, page) = http(
        port,
        "GET",
        "/admin/issues/7",
        std::slice::from_ref(&cookie),
        "",
    );
    let csrf = crate::newsletter::field(&page, "csrf");
    let (status, _, page) = http(
        port,
        "POST",
        "/admin/issues/7/send",
        &crate::newsletter::form_headers(&session),
        &format!("csrf={csrf}"),
    );
    assert_eq!(status, 303, "{page}");
    // Some sent, then the database goes away for a while.
    sink.wait_for(5);
    pg.stop();
    let during = sink.count();
    // The database stays away until the sender has met the outage (an
    // outcome it could not record yet).
    let metrics = running.metrics.expect("metrics address printed");
    wait_until(
        "the sender to meet the outage",
        Duration::from_secs(60),
        || crate::ops::metric(metrics, "bulletin_mail_record_retries_total") >= 1.0,
    );
    pg.start();
    let done = format!("{READERS} sent, 0 failed, 0 waiting, of {READERS}");
    wait_until(
        "the newsletter to be sent",
        Duration::from_secs(120),
        || {
            let (_, _, page) = http(
                port,
                "GET",
                "/admin/issues/7",
                std::slice::from_ref(&cookie),
                "",
            );
            page.contains(&done)
        },
    );
    sink.wait_until_idle();
    let mail = sink.messages();
    let recipients: std::collections::BTreeSet<&str> = mail.iter().map(|m| m.to()).collect();
    eprintln!(
        "outage: {} messages before the stop, {} in all",
        during,
        mail.len()
    );
    assert_eq!(recipients.len(), READERS);
    assert_eq!(mail.len(), READERS, "some reader got the issue twice");
}
