//! What an operator watches (issue 17): `/healthz`, `/readyz` and the
//! Prometheus metrics of `serve --metrics-addr`, scraped over TCP and read by
//! the exposition format's rules; probes stay out of the access log.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bulletin_test_support::wait_until;

use crate::newsletter::{Server, http};
use crate::{Archive, text};

/// A running `serve`: its port, its metrics port, and every line it logged.
pub(crate) struct Running {
    _server: Server,
    pub(crate) port: u16,
    pub(crate) metrics: Option<u16>,
    log: Arc<Mutex<Vec<String>>>,
}

impl Running {
    /// Waits until a logged line contains `needle` (the log is read by another thread).
    fn wait_for_log(&self, needle: &str) {
        wait_until(
            &format!("{needle:?} in the log"),
            Duration::from_secs(30),
            || self.log.lock().unwrap().iter().any(|l| l.contains(needle)),
        );
    }
}

fn port_of(line: &str, marker: &str) -> Option<u16> {
    let rest = line.split(marker).nth(1)?;
    rest.split('/').next()?.rsplit(':').next()?.parse().ok()
}

pub(crate) fn start(mut cmd: Command, args: &[&str]) -> Running {
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .env("BULLETIN_LOG", "warn,bulletin::access=info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut metrics = None;
    let mut port = None;
    for line in lines.by_ref().map_while(Result::ok) {
        metrics = metrics.or_else(|| port_of(&line, "metrics at http://"));
        if let Some(p) = port_of(&line, "bulletin is serving http://") {
            port = Some(p);
            break;
        }
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&log);
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            keep.lock().unwrap().push(line);
        }
    });
    Running {
        _server: Server(child),
        port: port.expect("the server starts"),
        metrics,
        log,
    }
}

/// The samples of a Prometheus text exposition (`name{labels}` → value),
/// checked against the format as it is read: every sample's family has a
/// `# TYPE` line before it, and every value is a number.
fn parse_exposition(body: &str) -> BTreeMap<String, f64> {
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = BTreeMap::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            types.insert(name.to_owned(), kind.to_owned());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample is SERIES VALUE");
        let name = series.split('{').next().unwrap();
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| {
                name.strip_suffix(s)
                    .filter(|f| types.get(*f).is_some_and(|k| k == "histogram"))
            })
            .unwrap_or(name);
        assert!(types.contains_key(family), "no # TYPE before {line}");
        if let Some(labels) = series.strip_prefix(name)
            && !labels.is_empty()
        {
            assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
        }
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("not a number: {line}"));
        samples.insert(series.to_owned(), value);
    }
    samples
}

fn scrape(port: u16) -> BTreeMap<String, f64> {
    let (status, headers, body) = http(port, "GET", "/metrics", &[], "");
    assert_eq!(status, 200, "{body}");
    let content_type = headers
        .iter()
        .find(|(n, _)| n == "content-type")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse_exposition(&body)
}

/// The sum of every series of the metric `name` at `port` (all labels).
pub(crate) fn metric_sum(port: u16, name: &str) -> f64 {
    scrape(port)
        .iter()
        .filter(|(series, _)| series.split('{').next() == Some(name))
        .map(|(_, v)| v)
        .sum()
}

/// One series of the metrics at `port`, 0 while it has not been recorded.
pub(crate) fn metric(port: u16, series: &str) -> f64 {
    scrape(port).get(series).copied().unwrap_or(0.0)
}

fn sample(samples: &BTreeMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("{series} not in {:#?}", samples.keys().collect::<Vec<_>>()))
}

/// An archive of a few generated stories.
fn archive() -> Archive {
    let archive = Archive::sqlite();
    let file = archive.path("gen.txt");
    archive.run_ok(&[
        "gen",
        "--stories",
        "30",
        "--seed",
        "7",
        "-o",
        &file.display().to_string(),
    ]);
    archive.run_ok(&["import", &file.display().to_string()]);
    archive
}

#[test]
fn probes_and_metrics_tell_the_operator_what_happens() {
    let archive = archive();
    let running = start(archive.command(), &["--metrics-addr", "127.0.0.1:0"]);
    let (port, metrics) = (
        running.port,
        running.metrics.expect("metrics address printed"),
    );

    let (status, headers, body) = http(port, "GET", "/healthz", &[], "");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert!(
        headers.contains(&("cache-control".into(), "no-store".into())),
        "{headers:?}"
    );
    let (status, _, body) = http(port, "GET", "/readyz", &[], "");
    assert_eq!(status, 200, "{body}");
    let ready: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    for check in ["store", "schema", "index"] {
        assert_eq!(ready["checks"][check]["ok"], true, "{check}: {ready}");
    }
    assert_eq!(ready["checks"]["index"]["lag"], 0, "{ready}");

    // Two home pages (rendered, then from the cache), a missing page, a search.
    for _ in 0..2 {
        assert_eq!(http(port, "GET", "/", &[], "").0, 200);
    }
    assert_eq!(
        http(port, "GET", "/no/such/page/at/all/here/", &[], "").0,
        404
    );
    assert_eq!(http(port, "GET", "/search/?q=the", &[], "").0, 200);
    running.wait_for_log("path=/search/");

    let samples = scrape(metrics);
    let home = r#"route="/",status="200""#;
    assert_eq!(
        sample(&samples, &format!("bulletin_http_requests_total{{{home}}}")),
        2.0
    );
    assert_eq!(
        sample(
            &samples,
            r#"bulletin_http_request_duration_seconds_count{route="/"}"#
        ),
        2.0
    );
    assert_eq!(
        sample(
            &samples,
            r#"bulletin_http_request_duration_seconds_bucket{route="/",le="+Inf"}"#
        ),
        2.0
    );
    assert!(sample(&samples, r#"bulletin_page_cache_total{result="hit"}"#) >= 1.0);
    assert!(sample(&samples, r#"bulletin_page_cache_total{result="miss"}"#) >= 1.0);
    assert_eq!(
        sample(
            &samples,
            r#"bulletin_http_requests_total{route="(no route)",status="404"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &samples,
            r#"bulletin_search_duration_seconds_count{outcome="ok"}"#
        ),
        1.0
    );
    assert_eq!(
        sample(
            &samples,
            r#"bulletin_http_requests_total{route="/healthz",status="200"}"#
        ),
        1.0
    );
    assert_eq!(sample(&samples, "bulletin_index_lag_changes"), 0.0);
    assert_eq!(sample(&samples, "bulletin_store_up"), 1.0);
    assert_eq!(
        sample(&samples, r#"bulletin_mail_queue_depth{kind="newsletter"}"#),
        0.0
    );
    assert_eq!(
        sample(&samples, r#"bulletin_mail_queue_depth{kind="reader"}"#),
        0.0
    );
    let idle = sample(&samples, r#"bulletin_store_connections{state="idle"}"#);
    let in_use = sample(&samples, r#"bulletin_store_connections{state="in_use"}"#);
    assert!(
        idle >= 0.0 && in_use >= 0.0 && idle + in_use >= 1.0,
        "{idle} {in_use}"
    );
    assert!(sample(&samples, r#"bulletin_scheduler_runs_total{outcome="ok"}"#) >= 1.0);

    // Probes are answered but not logged; pages are logged.
    let log = running.log.lock().unwrap().clone();
    assert!(log.iter().any(|l| l.contains("path=/ ")), "{log:?}");
    assert!(
        !log.iter()
            .any(|l| l.contains("/healthz") || l.contains("/readyz")),
        "{log:?}"
    );

    // The site's own port does not serve the metrics.
    assert_eq!(http(port, "GET", "/metrics", &[], "").0, 404);
}

#[test]
fn probes_are_logged_when_asked() {
    let archive = archive();
    let running = start(archive.command(), &["--log-probes"]);
    assert_eq!(http(running.port, "GET", "/readyz", &[], "").0, 200);
    running.wait_for_log("path=/readyz");
    assert!(running.metrics.is_none());
}

/// `psql` on the server's admin database: the test's own statements.
fn psql(sql: &str) {
    let out = Command::new("psql")
        .arg(bulletin_test_support::postgres_url())
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .expect("psql (Debian postgresql-client) runs");
    assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
}

#[test]
fn readyz_says_when_the_store_is_gone_and_when_it_is_back() {
    let Some(archive) = Archive::postgres() else {
        return;
    };
    let url = archive.url();
    let database = url
        .rsplit('/')
        .next()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let running = start(archive.command(), &[]);
    assert_eq!(http(running.port, "GET", "/readyz", &[], "").0, 200);
    // The database stops taking connections, and those it had are ended.
    psql(&format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false; \
         SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"
    ));
    let (status, headers, body) = http(running.port, "GET", "/readyz", &[], "");
    assert_eq!(status, 503, "{body}");
    assert!(
        headers.contains(&("retry-after".into(), "5".into())),
        "{headers:?}"
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["checks"]["store"]["ok"], false, "{answer}");
    // The process itself is fine.
    assert_eq!(http(running.port, "GET", "/healthz", &[], "").0, 200);
    psql(&format!(
        "ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true"
    ));
    // Ready again, without a restart: the pool reconnects.
    wait_until("ready again", Duration::from_secs(30), || {
        http(running.port, "GET", "/readyz", &[], "").0 == 200
    });
}
