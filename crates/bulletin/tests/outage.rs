//! PostgreSQL going away under a running `serve` (issue 17), on a server of
//! the test's own ([`OwnPostgres`]) so stopping it disturbs no other test:
//! pages the cache holds keep being served, what needs the store gets a 503
//! with `Retry-After` (HTML for the site, problem JSON for the API), nothing
//! hangs past the request timeout, and everything recovers without a restart
//! of bulletin.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bulletin_test_support::OwnPostgres;

use crate::newsletter::http;
use crate::ops::start;
use crate::{Archive, text};

/// Waits until `path` answers 200 again.
fn until_ok(port: u16, path: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, _, body) = http(port, "GET", path, &[], "");
        if status == 200 {
            return;
        }
        assert_eq!(status, 503, "{path}: {body}");
        assert!(Instant::now() < deadline, "{path} never recovered: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
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
