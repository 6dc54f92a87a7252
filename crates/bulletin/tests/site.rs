//! The publication's settings (issue 17): the layers (store, bulletin.toml,
//! environment, flags) and where each value came from; bad values stop
//! start-up naming their origin; mail work needs a public `base_url`; and
//! every link in every mail points at the configured `base_url`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use bulletin_test_support::smtp::{Received, SmtpSink};

use crate::newsletter::{Server, cookie, field, form_headers, http};
use crate::{Archive, text, write};

/// `bulletin site show`'s line for `key`.
fn shown(archive: &Archive, extra: impl FnOnce(&mut Command), key: &str) -> String {
    let mut cmd = archive.command();
    extra(&mut cmd);
    let out = cmd.args(["site", "show"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
        .lines()
        .find(|l| l.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("{key} in {}", text(&out.stdout)))
        .to_owned()
}

fn no_env(_: &mut Command) {}

#[test]
fn settings_come_in_layers_and_say_where_they_came_from() {
    for archive in Archive::each() {
        let name = archive.name();
        // The default, then the store.
        let line = shown(&archive, no_env, "base_url");
        assert!(
            line.contains("\"http://127.0.0.1:8080\"") && line.contains("(default"),
            "[{name}] {line}"
        );
        let out = archive.run_ok(&["site", "set", "base_url", "https://stored.example.org/"]);
        assert!(
            text(&out.stdout).contains("\"https://stored.example.org\""),
            "{}",
            text(&out.stdout)
        );
        let line = shown(&archive, no_env, "base_url");
        assert!(
            line.contains("\"https://stored.example.org\"") && line.contains("(store"),
            "[{name}] {line}"
        );

        // bulletin.toml's [site] over the store; the environment over the
        // file; a flag over the environment.
        write(
            &archive.path("bulletin.toml"),
            "[site]\nbase_url = \"https://file.example.org\"\ntime_zone = \"Asia/Almaty\"\n",
        );
        let line = shown(&archive, no_env, "base_url");
        assert!(
            line.contains("\"https://file.example.org\"") && line.contains("bulletin.toml [site]"),
            "[{name}] {line}"
        );
        let env = |c: &mut Command| {
            c.env("BULLETIN_BASE_URL", "https://env.example.org");
        };
        let line = shown(&archive, env, "base_url");
        assert!(
            line.contains("\"https://env.example.org\"")
                && line.contains("environment BULLETIN_BASE_URL"),
            "[{name}] {line}"
        );
        let flag = |c: &mut Command| {
            c.env("BULLETIN_BASE_URL", "https://env.example.org")
                .args(["--base-url", "https://flag.example.org"]);
        };
        let line = shown(&archive, flag, "base_url");
        assert!(
            line.contains("\"https://flag.example.org\"") && line.contains("flag --base-url"),
            "[{name}] {line}"
        );
        let line = shown(&archive, no_env, "time_zone");
        assert!(
            line.contains("\"Asia/Almaty\"") && line.contains("bulletin.toml"),
            "[{name}] {line}"
        );

        // Showing writes nothing; `site set` under a higher layer warns.
        let out = archive.run_ok(&["site", "set", "base_url", "https://again.example.org"]);
        assert!(
            text(&out.stderr).contains("bulletin.toml [site] also sets base_url"),
            "[{name}] {}",
            text(&out.stderr)
        );

        // A command that works on the store puts the layers in force there,
        // so every output (here the backup's publication) agrees.
        let mut cmd = archive.command();
        cmd.env("BULLETIN_LANGUAGE", "ru").args([
            "--site",
            "sender_name=The Desk",
            "export",
            "--format",
            "json",
        ]);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let backup: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let p = &backup["publication"];
        assert_eq!(p["base_url"], "https://file.example.org", "[{name}] {p}");
        assert_eq!(p["time_zone"], "Asia/Almaty");
        assert_eq!(p["language"], "ru");
        assert_eq!(p["sender_name"], "The Desk");
        // Once the file no longer says, the value last stored is back in force.
        std::fs::remove_file(archive.path("bulletin.toml")).unwrap();
        let line = shown(&archive, no_env, "base_url");
        assert!(
            line.contains("\"https://file.example.org\"") && line.contains("(store"),
            "[{name}] {line}"
        );
    }
}

#[test]
fn bad_settings_stop_start_up_naming_where_they_came_from() {
    let archive = Archive::sqlite();
    let refused = |cmd: &mut Command, wanted: &[&str]| {
        let out = cmd
            .args(["serve", "--addr", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = text(&out.stderr);
        for want in wanted {
            assert!(err.contains(want), "{want:?} in {err}");
        }
    };
    refused(
        archive
            .command()
            .env("BULLETIN_BASE_URL", "news.example.org"),
        &[
            "environment BULLETIN_BASE_URL: base_url:",
            "not an absolute http:// or https:// address",
        ],
    );
    refused(
        archive
            .command()
            .args(["--site", "language=english please"]),
        &["flag --site: language:", "not a language tag"],
    );
    refused(
        archive.command().args(["--site", "colour=blue"]),
        &["no setting \"colour\"", "base_url"],
    );
    let config = write(
        &archive.path("bulletin.toml"),
        "[site]\ntime_zone = \"Mars/Olympus\"\n",
    );
    refused(
        &mut archive.command(),
        &[&format!("{config} [site]: time_zone:"), "Mars/Olympus"],
    );
    write(
        &archive.path("bulletin.toml"),
        "[site]\nbase_url = \"https://news.example.org/archive/\"\n",
    );
    refused(&mut archive.command(), &["has a path"]);
    std::fs::remove_file(archive.path("bulletin.toml")).unwrap();
    let out = archive.run(&["site", "set", "default_access", "everyone"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("default_access:"),
        "{}",
        text(&out.stderr)
    );
}

/// `bulletin.toml` with an `[smtp]` table (the server is never reached) and
/// an optional `[site]` base_url.
fn smtp_config(archive: &Archive, smtp: &str, base_url: Option<&str>) -> String {
    let site = base_url.map_or(String::new(), |u| format!("[site]\nbase_url = \"{u}\"\n"));
    write(
        &archive.path("bulletin.toml"),
        format!("{site}[smtp]\nurl = \"{smtp}\"\nfrom = \"news@example.org\"\n"),
    )
}

/// Starts `serve` on a free port with `args`; `Ok` (with its port) once it
/// listens, `Err(its stderr)` if it exits instead.
fn start(mut cmd: Command, args: &[&str]) -> Result<(Server, u16), String> {
    let mut child = cmd
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut log = String::new();
    for line in lines.by_ref().map_while(Result::ok) {
        if let Some(rest) = line.split("bulletin is serving http://").nth(1) {
            let port = rest.split('/').next().unwrap().rsplit(':').next().unwrap();
            let port = port.parse().unwrap();
            std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
            return Ok((Server(child), port));
        }
        log.push_str(&line);
        log.push('\n');
    }
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "serve exited successfully without serving: {log}"
    );
    Err(log)
}

#[test]
fn mail_work_needs_a_public_base_url() {
    let archive = Archive::sqlite();
    smtp_config(&archive, "smtp://mailer:hunter2@127.0.0.1:2525", None);
    // Missing: refused, with what to do.
    let err = start(archive.command(), &[]).err().expect("serve refuses");
    assert!(
        err.contains("base_url is not set") && err.contains("--dev"),
        "{err}"
    );
    // `config check` says the same, exits 1, and never shows the password.
    let out = archive.run(&["config", "check"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = text(&out.stdout);
    assert!(report.contains("problem: [smtp] is set"), "{report}");
    assert!(
        report.contains("smtp://mailer:***@127.0.0.1:2525"),
        "{report}"
    );
    assert!(
        !report.contains("hunter2") && !text(&out.stderr).contains("hunter2"),
        "{report}"
    );
    // Loopback: refused too, naming where it came from.
    let with_env = || {
        let mut cmd = archive.command();
        cmd.env("BULLETIN_BASE_URL", "http://localhost:8080");
        cmd
    };
    let err = start(with_env(), &[]).err().expect("serve refuses");
    assert!(
        err.contains("http://localhost:8080") && err.contains("environment BULLETIN_BASE_URL"),
        "{err}"
    );
    // --dev allows it; so does a public address.
    drop(start(with_env(), &["--dev"]).expect("serves with --dev"));
    smtp_config(
        &archive,
        "smtp://mailer:hunter2@127.0.0.1:2525",
        Some("https://news.example.org"),
    );
    drop(start(archive.command(), &[]).expect("serves with a public base_url"));
    let out = archive.run_ok(&["config", "check"]);
    let report = text(&out.stdout);
    assert!(report.trim_end().ends_with("ok"), "{report}");
    assert!(!report.contains("hunter2"), "{report}");
}

#[test]
fn send_refuses_links_to_this_machine_through_another_server() {
    let archive = Archive::sqlite();
    let backup = crate::newsletter::backup("http://127.0.0.1:8080");
    let file = write(&archive.path("backup.json"), backup);
    archive.run_ok(&["import", &file]);
    // Never reached: the send stops before connecting.
    smtp_config(&archive, "smtp://mail.example.org:587", None);
    for args in [
        &["send", "7"][..],
        &["send", "7", "--to", "editor@example.org"],
    ] {
        let out = archive.run(args);
        assert!(!out.status.success(), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains("http://127.0.0.1:8080, this machine's own address")
                && err.contains("Nothing was sent or queued"),
            "{args:?}: {err}"
        );
    }
    // A public address passes this check (a dry run connects to nothing).
    let out = archive.run(&[
        "--base-url",
        "https://news.example.org",
        "send",
        "7",
        "--dry-run",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Every http(s) address in a message's parts and `List-Unsubscribe`.
fn links(message: &Received) -> Vec<String> {
    let mut all: String = message
        .parts()
        .into_iter()
        .map(|(_, body)| body + " ")
        .collect();
    all.push_str(&message.header("list-unsubscribe").unwrap_or_default());
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        for (at, _) in all.match_indices(scheme) {
            let end = all[at..]
                .find(|c: char| c.is_whitespace() || "\"'<>".contains(c))
                .map_or(all.len(), |n| at + n);
            found.push(all[at..end].to_owned());
        }
    }
    found
}

fn all_at(message: &Received, base: &str, what: &str) -> Vec<String> {
    let found = links(message);
    assert!(!found.is_empty(), "{what}: no links");
    for link in &found {
        assert!(
            link.starts_with(&format!("{base}/")),
            "{what}: {link} is not under {base}"
        );
    }
    found
}

#[test]
fn every_link_in_every_mail_points_at_the_configured_base_url() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        // The store says this machine; bulletin.toml says the public address.
        let backup = crate::newsletter::backup("http://127.0.0.1:8080");
        let file = write(&archive.path("backup.json"), backup);
        archive.run_ok(&["import", &file]);
        let base = "https://news.example.org";
        write(
            &archive.path("bulletin.toml"),
            format!(
                "[site]\nbase_url = \"{base}\"\n[smtp]\nurl = \"{}\"\nfrom = \"news@example.org\"\nper_second = 1000\n",
                sink.url()
            ),
        );
        let (_server, port) = start(archive.command(), &[]).expect("serves");

        // Sign-up confirmation.
        let (_, headers, page) = http(port, "GET", "/subscribe/", &[], "");
        let form = cookie(&headers, "bulletin_form").unwrap();
        let token = field(&page, "form_token");
        let (status, _, page) = http(
            port,
            "POST",
            "/subscribe/",
            &form_headers(&form),
            &format!("form_token={token}&email=reader%40example.org"),
        );
        assert_eq!(status, 200, "{page}");
        let mail = sink.wait_for(1);
        let confirm = all_at(&mail[0], base, "confirmation")
            .into_iter()
            .find(|l| l.contains("/subscribe/confirm/"))
            .expect("a confirmation link");
        // The link works on this server (reached here by its path).
        let path = confirm.strip_prefix(base).unwrap();
        let (status, headers, page) = http(port, "GET", path, &[], "");
        assert_eq!(status, 200, "{page}");
        let form = cookie(&headers, "bulletin_form").unwrap();
        let token = field(&page, "form_token");
        let (status, _, _) = http(
            port,
            "POST",
            path,
            &form_headers(&form),
            &format!("form_token={token}"),
        );
        assert_eq!(status, 303);

        // A sign-in link.
        let (_, headers, page) = http(port, "GET", "/account/sign-in/", &[], "");
        let form = cookie(&headers, "bulletin_form").unwrap();
        let token = field(&page, "form_token");
        let (status, _, page) = http(
            port,
            "POST",
            "/account/sign-in/",
            &form_headers(&form),
            &format!("form_token={token}&email=reader%40example.org"),
        );
        assert_eq!(status, 200, "{page}");
        let mail = sink.wait_for(2);
        all_at(&mail[1], base, "sign-in link");

        // The newsletter and a test send.
        archive.run_ok(&["send", "7"]);
        archive.run_ok(&["send", "7", "--to", "editor@example.org"]);
        let mail = sink.wait_for(4);
        for message in &mail[2..] {
            let found = all_at(message, base, "newsletter");
            assert!(
                found.iter().any(|l| l.contains("/unsubscribe/")),
                "{found:?}"
            );
        }
    }
}

#[test]
fn migrate_apart_then_serve_without_migrating() {
    for archive in Archive::each() {
        let name = archive.name();
        // A store never migrated: `serve --no-migrate` refuses it, saying what to run.
        let err = start(archive.command(), &["--no-migrate"])
            .err()
            .expect("serve --no-migrate refuses a store behind");
        assert!(
            err.contains("schema is behind") && err.contains("bulletin migrate"),
            "[{name}] {err}"
        );
        let migrations = std::fs::read_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../bulletin-store/migrations/sqlite"
        ))
        .unwrap()
        .count();
        let newest = format!("{migrations:04}");
        let out = text(&archive.run_ok(&["migrate"]).stdout);
        assert!(
            out.contains(&format!("now at migration {migrations} (applied 0001,"))
                && out.contains(&format!(", {newest})")),
            "[{name}] {out}"
        );
        let out = text(&archive.run_ok(&["migrate"]).stdout);
        assert!(
            out.contains(&format!("is current (migration {migrations})")),
            "[{name}] {out}"
        );
        let (_server, port) = start(archive.command(), &["--no-migrate"]).expect("serves");
        let (status, _, _) = http(port, "GET", "/", &[], "");
        assert_eq!(status, 200, "[{name}]");
    }
}
