//! Several instances, proven (issue 17): three `bulletin serve` processes, each
//! with its own data directory, on one PostgreSQL database, behind Debian's
//! nginx as a load balancer on loopback (`scripts/cluster.sh` sets up the same
//! by hand). What one instance's store changes reaches every instance's pages,
//! feeds and search; a staff session made on one works on the others; and
//! one instance stopped (SIGTERM) and started again under load through nginx
//! fails no request.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulletin_test_support::smtp::SmtpSink;
use bulletin_test_support::wait_until;

use crate::newsletter::{Server, cookie, field, form_headers, http};
use crate::{Archive, text, write};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `serve` on `port` with `extra` arguments, once it listens.
fn serve_on(archive: &Archive, port: u16, extra: &[&str]) -> Server {
    let mut child = archive
        .command()
        .args([
            "serve",
            "--addr",
            &format!("127.0.0.1:{port}"),
            "--trusted-proxy",
            "127.0.0.1",
        ])
        .args(extra)
        .env("BULLETIN_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let ready = lines
        .by_ref()
        .map_while(Result::ok)
        .any(|l| l.contains("bulletin is serving"));
    assert!(ready, "instance on {port} did not start");
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    Server(child)
}

/// `serve` on `port` with `extra` arguments and Prometheus metrics on a port
/// of their own: the server and the metrics port.
fn serve_with_metrics(archive: &Archive, port: u16, extra: &[&str]) -> (Server, u16) {
    let metrics = free_port();
    let address = format!("127.0.0.1:{metrics}");
    let mut args = extra.to_vec();
    args.extend(["--metrics-addr", &address]);
    (serve_on(archive, port, &args), metrics)
}

/// The `outcome="ok"` scheduler runs an instance has counted.
fn scheduler_runs(metrics: u16) -> f64 {
    crate::ops::metric(metrics, "bulletin_scheduler_runs_total{outcome=\"ok\"}")
}

/// nginx in front of `upstreams`, on `port`, as the deployment guide sets it
/// up (retrying the next instance on an error or a 502/503); stopped when dropped.
struct Nginx {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx(binary: &std::path::Path, port: u16, upstreams: &[u16]) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let servers: String = upstreams
        .iter()
        .map(|p| format!("        server 127.0.0.1:{p} max_fails=0;\n"))
        .collect();
    // Run as root, nginx's workers would drop to `nobody`, which cannot write
    // to this folder: keep them as the test's user.
    let root = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").unwrap()) == 0;
    let user = if root { "user root;" } else { "" };
    let config = format!(
        "{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 2048; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    upstream bulletin {{
{servers}        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://bulletin;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $remote_addr;
            proxy_connect_timeout 1s;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_next_upstream_tries 3;
        }}
    }}
}}
"
    );
    let conf = write(&dir.path().join("nginx.conf"), config);
    let child = Command::new(binary)
        .args(["-p", &d.to_string(), "-c", &conf])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("nginx to listen", Duration::from_secs(20), || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    Nginx { child, _dir: dir }
}

/// Waits until `path` on `port` answers 200 with `needle` in its body.
fn until_seen(port: u16, path: &str, needle: &str) {
    wait_until(
        &format!("{needle:?} at {path} on {port}"),
        Duration::from_secs(20),
        || {
            let (status, _, body) = http(port, "GET", path, &[], "");
            status == 200 && body.contains(needle)
        },
    );
}

/// An admin account, `editor@example.org`, made from the command line.
pub(crate) fn add_admin(archive: &Archive) {
    let mut add = archive.command();
    add.args(["user", "add", "editor@example.org", "--role", "admin"])
        .stdin(Stdio::piped());
    let mut child = add
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        child.stdin.as_mut().unwrap(),
        b"correct horse battery staple\n",
    )
    .unwrap();
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

/// Signs the admin in on `port`; the session cookie.
pub(crate) fn sign_in(port: u16) -> String {
    let (_, headers, page) = http(port, "GET", "/admin/login", &[], "");
    let form = cookie(&headers, "bulletin_form").unwrap();
    let token = field(&page, "form_token");
    let (status, headers, body) = http(
        port,
        "POST",
        "/admin/login",
        &form_headers(&form),
        "form_token=TOKEN&email=editor%40example.org&password=correct+horse+battery+staple"
            .replace("TOKEN", &token)
            .as_str(),
    );
    assert_eq!(status, 303, "{body}");
    cookie(&headers, "bulletin_session").expect("a staff session")
}

#[test]
fn three_instances_on_one_postgresql_behind_nginx() {
    let Some(nginx_bin) =
        bulletin_test_support::tool("nginx", "apt-get install nginx-light (.ci/run does)")
    else {
        return;
    };
    let Some(a) = Archive::postgres() else {
        return;
    };
    let b = Archive::on_database(a.url());
    let c = Archive::on_database(a.url());
    let file = a.path("gen.txt").display().to_string();
    a.run_ok(&["gen", "--stories", "30", "--seed", "11", "-o", &file]);
    a.run_ok(&["import", &file]);
    add_admin(&a);

    let ports = [free_port(), free_port(), free_port()];
    let archives = [&a, &b, &c];
    let (mut servers, metrics): (Vec<Server>, Vec<u16>) = archives
        .iter()
        .zip(ports)
        .map(|(x, p)| serve_with_metrics(x, p, &[]))
        .unzip();
    let a_metrics = metrics[0];
    let front = free_port();
    let _nginx = nginx(&nginx_bin, front, &ports);

    // A story that reaches the store (here through A's data directory) is on
    // every instance's pages, feed and search.
    let one = write(
        &a.path("one.txt"),
        "Caspian pipeline quarrel\n\nBAKU/MARCH 5 2024 (The Bulletin) \u{2014} Zanzibarite engineers disagreed about the quinquennial pipeline survey.\n\nENDS\n\n\u{2014} This story was published in issue 900 of the Central Asia & South Caucasus Bulletin, on March 7 2024\n\n\u{2014} Copyright the Central Asia & South Caucasus Bulletin 2024\n",
    );
    let imported = Instant::now();
    a.run_ok(&["import", &one]);
    let story = "/2024/03/05/caspian-pipeline-quarrel/";
    let mut slowest = Duration::ZERO;
    for port in ports {
        for (path, needle) in [
            (story, "Zanzibarite"),
            ("/feed/", "Caspian pipeline quarrel"),
            ("/search/?q=zanzibarite", "caspian-pipeline-quarrel"),
        ] {
            until_seen(port, path, needle);
        }
        slowest = slowest.max(imported.elapsed());
    }
    eprintln!(
        "cluster: the new story was on all three instances {slowest:?} after its import ended"
    );
    until_seen(front, story, "Zanzibarite");

    // A staff session made on A works on B and C.
    let session = sign_in(ports[0]);
    for port in &ports[1..] {
        let (status, _, body) = http(*port, "GET", "/admin/", &[format!("Cookie: {session}")], "");
        assert_eq!(
            status, 200,
            "the session made on A is not known on {port}: {body}"
        );
    }

    // One instance stopped with SIGTERM and started again while wrk goes
    // through nginx: no request fails.
    let lua = write(
        &a.path("mix.lua"),
        format!(
            "local paths = {{\"/\", \"{story}\", \"/feed/\", \"/search/?q=pipeline\", \"/tag/\"}}\n\
             local i = 0\nrequest = function() i = i + 1 return wrk.format(\"GET\", paths[(i % #paths) + 1]) end\n"
        ),
    );
    let wrk = bulletin_test_support::tool("wrk", "apt-get install wrk (.ci/run does)").unwrap();
    let load = Command::new(wrk)
        .args([
            "-t2",
            "-c64",
            "-d8s",
            "--timeout",
            "10s",
            "-s",
            &lua,
            &format!("http://127.0.0.1:{front}/"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The restart falls inside the 8 s run, once A has served a thousand
    // requests of it, so there is load before and after it.
    wait_until("load through nginx", Duration::from_secs(20), || {
        crate::ops::metric_sum(a_metrics, "bulletin_http_requests_total") >= 1000.0
    });
    let mut stopped = servers.remove(1);
    let pid = stopped.0.id();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = stopped.0.wait().unwrap();
    assert!(
        status.success(),
        "B did not stop cleanly on SIGTERM: {status}"
    );
    servers.insert(1, serve_on(&b, ports[1], &[]));
    let out = load.wait_with_output().unwrap();
    let report = text(&out.stdout) + &text(&out.stderr);
    eprintln!("cluster: wrk through nginx during B's restart:\n{report}");
    let requests: u64 = report
        .lines()
        .find_map(|l| {
            l.trim()
                .split(" requests in ")
                .next()
                .filter(|_| l.contains(" requests in "))
        })
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no request count in {report}"));
    assert!(requests > 100, "{report}");
    assert!(!report.contains("Non-2xx or 3xx responses"), "{report}");
    assert!(!report.contains("Socket errors"), "{report}");
}

/// A newsletter queued through instance A's newsroom is sent by the three
/// instances' standing senders together: each subscriber gets exactly one
/// message, and each instance sends some (the SMTP sink records the EHLO name
/// each instance's `[smtp] url` gives). A scheduled issue goes live once
/// although all three schedulers run after it is due.
#[test]
fn a_newsletter_and_a_scheduled_issue_go_out_once_across_three_instances() {
    let Some(sink) = SmtpSink::start(&[]) else {
        return;
    };
    let Some(a) = Archive::postgres() else {
        return;
    };
    let b = Archive::on_database(a.url());
    let c = Archive::on_database(a.url());
    // Issue 7 published; issue 8 scheduled to go live in a few seconds.
    // (Spliced in as text: a backup's keys keep their order.)
    let due = jiff::Timestamp::now().as_second() + 4;
    let backup = crate::newsletter::backup("http://127.0.0.1:8080").replacen(
        "\"issues\":[",
        &format!(
            "\"issues\":[{{\"number\": 8, \"date\": \"2024-03-14\", \"status\": \"scheduled\", \"publish_at\": {due}, \"stories\": []}},"
        ),
        1,
    );
    assert!(backup.contains("\"scheduled\""));
    a.run_ok(&["import", &write(&a.path("backup.json"), backup)]);
    const READERS: usize = 40;
    let csv: String = std::iter::once("email,plan\n".to_owned())
        .chain((0..READERS).map(|i| format!("reader{i}@example.org,free\n")))
        .collect();
    a.run_ok(&[
        "subscribers",
        "import",
        &write(&a.path("readers.csv"), csv),
        "--status",
        "active",
    ]);
    add_admin(&a);
    // Slow enough (4 a second each) that all three standing senders, ticking
    // every 5 s, find work left.
    for (archive, name) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        write(
            &archive.path("bulletin.toml"),
            format!(
                "[smtp]\nurl = \"{}/instance-{name}.example.org\"\nfrom = \"news@example.org\"\nper_second = 4\n",
                sink.url()
            ),
        );
    }
    let ports = [free_port(), free_port(), free_port()];
    let (_servers, metrics): (Vec<Server>, Vec<u16>) = [&a, &b, &c]
        .iter()
        .zip(ports)
        .map(|(x, p)| serve_with_metrics(x, p, &["--dev"]))
        .unzip();

    let session = sign_in(ports[0]);
    let cookie_header = format!("Cookie: {session}");
    let (_, _, page) = http(
        ports[0],
        "GET",
        "/admin/issues/7",
        std::slice::from_ref(&cookie_header),
        "",
    );
    let csrf = field(&page, "csrf");
    let (status, _, page) = http(
        ports[0],
        "POST",
        "/admin/issues/7/send",
        &form_headers(&session),
        &format!("csrf={csrf}"),
    );
    assert_eq!(status, 303, "{page}");

    // Done when the newsroom (here B's) says so; then the sink holds it all.
    let done = format!("{READERS} sent, 0 failed, 0 waiting, of {READERS}");
    wait_until(
        "the newsletter to be sent",
        Duration::from_secs(120),
        || {
            let (_, _, page) = http(
                ports[1],
                "GET",
                "/admin/issues/7",
                std::slice::from_ref(&cookie_header),
                "",
            );
            page.contains(&done)
        },
    );
    sink.wait_until_idle();
    let mail = sink.messages();
    let recipients: std::collections::BTreeSet<&str> = mail.iter().map(|m| m.to()).collect();
    assert_eq!(mail.len(), READERS, "{} messages", mail.len());
    assert_eq!(recipients.len(), READERS);
    let mut by_instance: std::collections::BTreeMap<&str, usize> =
        std::collections::BTreeMap::new();
    for message in &mail {
        *by_instance.entry(message.helo.as_str()).or_default() += 1;
    }
    eprintln!("cluster: messages sent by each instance: {by_instance:?}");
    for name in [
        "instance-a.example.org",
        "instance-b.example.org",
        "instance-c.example.org",
    ] {
        assert!(
            by_instance.contains_key(name),
            "{name} sent nothing: {by_instance:?}"
        );
    }

    // The scheduled issue went live once: wait until every instance's
    // scheduler has run twice more after it was due (all three had their
    // chance), then the audit log holds one publication of issue 8.
    wait_until("issue 8 to be due", Duration::from_secs(30), || {
        jiff::Timestamp::now().as_second() > due
    });
    let after_due: Vec<f64> = metrics.iter().map(|m| scheduler_runs(*m)).collect();
    wait_until(
        "every scheduler to run twice more",
        Duration::from_secs(60),
        || {
            metrics
                .iter()
                .zip(&after_due)
                .all(|(m, before)| scheduler_runs(*m) >= before + 2.0)
        },
    );
    let (_, _, audit) = http(
        ports[2],
        "GET",
        "/admin/audit",
        std::slice::from_ref(&cookie_header),
        "",
    );
    let published = audit.matches("<td>publish</td><td>issue 8</td>").count();
    assert_eq!(published, 1, "{audit}");
    for port in ports {
        let (status, _, page) = http(port, "GET", "/issue/8/", &[], "");
        assert_eq!(status, 200, "issue 8 on {port}: {page}");
    }
}
