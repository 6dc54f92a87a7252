//! `bulletin send`: the newsletter through a real SMTP server (`smtp_sink`),
//! over real processes of the built binary, on SQLite and PostgreSQL.

use std::collections::{HashMap, HashSet};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use bulletin_core::token::{Purpose, verify};
use bulletin_store::Store;
use serde_json::{Value, json};

use crate::{Archive, text, write};
use bulletin_test_support::smtp::{Received, SmtpSink};

const FROM: &str = "news@bulletin.example.org";
const BASE_URL: &str = "http://127.0.0.1:8080";
/// "Central Asia & South Caucasus Bulletin — Issue 1, March 7 2024", the dash
/// as an RFC 2047 encoded word.
const SUBJECT: &str =
    "Central Asia & South Caucasus Bulletin =?utf-8?b?4oCU?= Issue 1, March 7 2024";

/// The sentences of a story's paragraphs, made up for these tests.
fn paragraphs(story: &str, n: usize) -> Vec<String> {
    let words = ["one", "two", "three", "four", "five"];
    (0..n)
        .map(|k| {
            format!(
                "The {story} story says in paragraph {} that the harbour timetable changed.",
                words[k]
            )
        })
        .collect()
}

fn story(slug: &str, headline: &str, issue: u32, access: &str, body: Vec<String>) -> Value {
    json!({
        "slug": slug,
        "headline": headline,
        "dateline": {"places": ["Baku"], "date": "2024-03-05", "year_inferred": false,
                     "credit": "The Bulletin"},
        "body": body,
        "tags": [],
        "countries": ["AZ"],
        "issue": {"number": issue, "date": if issue == 1 { "2024-03-07" } else { "2024-03-14" }},
        "first_published": false,
        "copyright": {"holder": "Central Asia & South Caucasus Bulletin", "year": 2024},
        "access": access,
        "url": ""
    })
}

/// A complete backup: issue 1 published (a public story, then a
/// subscribers' story of four paragraphs), issue 2 a draft with one draft
/// story. `short` makes issue 1 one short public story (for the big runs).
fn backup(short: bool) -> String {
    let mut open = story(
        "open-story",
        "Open story for everyone",
        1,
        "public",
        paragraphs("open", 2),
    );
    let locked = story(
        "locked-story",
        "Locked story for subscribers",
        1,
        "subscribers",
        paragraphs("locked", 4),
    );
    let draft = story(
        "draft-story",
        "Draft story in the next issue",
        2,
        "public",
        paragraphs("draft", 2),
    );
    let with_times = |mut s: Value| {
        let record = s.as_object_mut().unwrap();
        record.insert("created_at".into(), json!("2024-03-07T10:00:00Z"));
        record.insert("updated_at".into(), json!("2024-03-07T10:00:00Z"));
        record.insert("revisions".into(), json!([]));
        s
    };
    let mut first_issue = vec!["open-story", "locked-story"];
    let mut stories = vec![with_times(open.clone()), with_times(locked)];
    if short {
        open["body"] = json!(["A short story."]);
        first_issue = vec!["open-story"];
        stories = vec![with_times(open)];
    }
    // The sections in the order a backup has them (json! would sort them).
    let publication = json!({"name": "Central Asia & South Caucasus Bulletin",
        "credit": "The Bulletin", "base_url": BASE_URL, "time_zone": "UTC",
        "copyright": "Copyright the {holder} {year}"});
    let issues = json!([
        {"number": 1, "date": "2024-03-07", "status": "published", "publish_at": null,
         "stories": first_issue},
        {"number": 2, "date": "2024-03-14", "status": "draft", "publish_at": null,
         "stories": []}
    ]);
    let drafts = json!([
        {"story": draft, "status": "draft", "publish_at": null, "issue_position": 1,
         "created_at": 1_709_805_600, "updated_at": 1_709_805_600}
    ]);
    format!(
        "{{\"format\":\"bulletin-backup\",\"version\":1,\"publication\":{publication},\
         \"tags\":[],\"users\":[],\"subscribers\":[],\"issues\":{issues},\
         \"stories\":{},\"drafts\":{drafts},\"history\":[],\"redirects\":[]}}",
        Value::from(stories)
    )
}

/// An archive restored from [`backup`], sending through `sink`, with these
/// subscribers (CSV lines `email,name,plan[,status]`).
pub(crate) fn newsletter(
    archive: &Archive,
    sink: Option<&SmtpSink>,
    short: bool,
    subscribers: &str,
) {
    let file = write(&archive.path("backup.json"), backup(short));
    archive.run_ok(&["import", &file]);
    if let Some(sink) = sink {
        configure(archive, &sink.url());
    }
    let csv = write(
        &archive.path("subscribers.csv"),
        format!("email,name,plan,status\n{subscribers}"),
    );
    archive.run_ok(&["subscribers", "import", &csv]);
}

pub(crate) fn configure(archive: &Archive, url: &str) {
    write(
        &archive.path("bulletin.toml"),
        format!(
            "[smtp]\nurl = \"{url}\"\nfrom = \"{FROM}\"\nfrom_name = \"The Bulletin\"\n\
             per_second = 1000000\n"
        ),
    );
}

fn send(archive: &Archive, args: &[&str]) -> Output {
    let mut all = vec!["send"];
    all.extend_from_slice(args);
    archive.run(&all)
}

fn send_ok(archive: &Archive, args: &[&str]) -> String {
    let out = send(archive, args);
    let log = text(&out.stderr);
    assert!(
        out.status.success(),
        "[{}] bulletin send {args:?} failed:\n{log}",
        archive.name()
    );
    log
}

/// Runs `f` on the archive's store, opened from the test.
fn with_store<T>(archive: &Archive, f: impl AsyncFnOnce(&dyn Store) -> T) -> T {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = bulletin_store::open(&archive.url()).await.unwrap();
        f(store.as_ref()).await
    })
}

/// The queue says issue `n` is done (`sent` sent, nothing waiting or
/// claimed), and the sink, once its sessions are over, holds exactly `sent`
/// messages: nothing more arrived after the sender was done.
fn assert_settled(archive: &Archive, sink: &SmtpSink, n: u32, sent: u64) {
    let p = with_store(archive, async |s| s.send_progress(n).await.unwrap());
    assert_eq!(
        (p.sent, p.queued, p.sending),
        (sent, 0, 0),
        "[{}] {p:?}",
        archive.name()
    );
    sink.wait_until_idle();
    assert_eq!(sink.count() as u64, sent, "[{}]", archive.name());
}

/// How far ahead `bulletin send --clock-ahead-seconds` must run the queue's
/// clock for Unix second `t` to have passed (a row is due once its time is not
/// after the current second).
fn clock_ahead_past(t: i64) -> String {
    (t + 1 - jiff::Timestamp::now().as_second())
        .max(0)
        .to_string()
}

fn statuses(archive: &Archive) -> HashMap<String, String> {
    text(&archive.run_ok(&["subscribers", "list", "--json"]).stdout)
        .lines()
        .map(|l| {
            let s: Value = serde_json::from_str(l).unwrap();
            (
                s["email"].as_str().unwrap().to_owned(),
                s["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What the access rule lets each reader see of the subscribers' story.
fn assert_copy(m: &Received, paid: bool) {
    let parts = m.parts();
    assert_eq!(parts.len(), 2, "{}", m.data);
    assert!(parts[0].0.starts_with("text/plain"), "{:?}", parts[0].0);
    assert!(parts[1].0.starts_with("text/html"), "{:?}", parts[1].0);
    let locked = paragraphs("locked", 4);
    for (kind, body) in &parts {
        assert!(
            body.contains(&locked[0]),
            "{kind}: the lead is always there"
        );
        for later in &locked[1..] {
            assert_eq!(
                body.contains(later.as_str()),
                paid,
                "{kind} for {} ({}): {later:?}",
                m.to(),
                if paid { "paid" } else { "free" }
            );
            if !paid {
                assert!(!m.data.contains(later.as_str()), "{}", m.to());
            }
        }
        for open in paragraphs("open", 2) {
            assert!(body.contains(&open), "{kind}: public stories are whole");
        }
    }
}

#[test]
fn every_subscriber_gets_one_message_with_their_copy_and_their_link() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        newsletter(
            &archive,
            Some(&sink),
            false,
            "paid1@example.org,Paid One,paid,\n\
             paid2@example.org,,paid,\n\
             free1@example.org,Free One,free,\n\
             free2@example.org,,free,\n\
             gone@example.org,Gone,paid,unsubscribed\n\
             later@example.org,Later,paid,pending\n",
        );
        let log = send_ok(&archive, &["1"]);
        assert!(
            log.contains("issue 1: 4 sent, 0 failed, 0 waiting to retry"),
            "[{}] {log}",
            archive.name()
        );
        let mail = sink.wait_for(4);
        assert_eq!(mail.len(), 4, "[{}]", archive.name());
        let to: HashSet<&str> = mail.iter().map(Received::to).collect();
        let expected: HashSet<&str> = [
            "paid1@example.org",
            "paid2@example.org",
            "free1@example.org",
            "free2@example.org",
        ]
        .into();
        assert_eq!(to, expected, "only active subscribers");

        let secret = with_store(&archive, async |s| {
            s.site_secret(bulletin_mail::links::TOKEN_SECRET, "unused", 0)
                .await
                .unwrap()
        });
        let mut links = HashSet::new();
        let mut ids = HashSet::new();
        for m in &mail {
            let to = m.to();
            assert_eq!(m.mail_from, FROM);
            assert_eq!(
                m.header("From").as_deref(),
                Some("\"The Bulletin\" <news@bulletin.example.org>")
            );
            let shown_to = m.header("To").unwrap();
            assert!(shown_to.contains(to), "{shown_to}");
            if to == "paid1@example.org" {
                assert_eq!(shown_to, "\"Paid One\" <paid1@example.org>");
            }
            assert_eq!(m.header("Subject").as_deref(), Some(SUBJECT));
            assert_eq!(
                m.header("List-Unsubscribe-Post").as_deref(),
                Some("List-Unsubscribe=One-Click")
            );
            assert_eq!(
                m.header("List-Id").as_deref(),
                Some("<newsletter.127.0.0.1>")
            );
            assert!(
                m.header("Content-Type")
                    .unwrap()
                    .starts_with("multipart/alternative;")
            );
            // The Message-ID was fixed at queueing: issue-1-SUBSCRIBER.
            let id = m.message_id();
            let key = id
                .strip_prefix("<issue-1-")
                .and_then(|k| k.strip_suffix("@bulletin.example.org>"))
                .unwrap_or_else(|| panic!("Message-ID {id}"));
            assert!(key.parse::<u64>().is_ok(), "{id}");
            assert!(ids.insert(id.clone()));
            // The recipient's own signed unsubscribe link, in the header and
            // in both parts.
            let header = m.header("List-Unsubscribe").unwrap();
            let url = header
                .strip_prefix('<')
                .and_then(|u| u.strip_suffix('>'))
                .unwrap();
            let token = url
                .strip_prefix(&format!("{BASE_URL}/unsubscribe/"))
                .unwrap_or_else(|| panic!("{url}"));
            let claims = verify(
                secret.as_bytes(),
                token,
                Purpose::Unsubscribe,
                2_000_000_000,
            )
            .unwrap_or_else(|e| panic!("{to}: {e:?}"));
            assert_eq!(claims.email, to);
            assert_eq!(claims.nonce, format!("issue-1-{key}"));
            assert!(verify(b"another secret", token, Purpose::Unsubscribe, 0).is_err());
            for (kind, body) in m.parts() {
                assert!(body.contains(url), "{kind} of {to} lacks its link");
            }
            assert!(links.insert(url.to_owned()), "links differ per recipient");
            assert_copy(m, to.starts_with("paid"));
        }

        // Done: running again sends nothing more.
        let log = send_ok(&archive, &["1"]);
        assert!(log.contains("0 recipients queued now"), "{log}");
        assert!(log.contains("issue 1: 4 sent, 0 failed"), "{log}");
        assert_eq!(sink.count(), 4);

        // A subscriber who joins later gets only their own message.
        let csv = write(
            &archive.path("new.csv"),
            "email,plan\nnewcomer@example.org,free\n",
        );
        archive.run_ok(&["subscribers", "import", &csv]);
        let log = send_ok(&archive, &["1"]);
        assert!(log.contains("1 recipients queued now"), "{log}");
        assert!(log.contains("issue 1: 5 sent"), "{log}");
        let mail = sink.wait_for(5);
        assert_eq!(mail.len(), 5);
        assert_eq!(mail[4].to(), "newcomer@example.org");
        assert_copy(&mail[4], false);
        // The sender has exited and recorded everyone as sent: once the
        // sink's sessions are over, its record is final.
        assert_settled(&archive, &sink, 1, 5);
    }
}

#[test]
fn deferred_addresses_are_retried_and_refused_ones_bounce() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[
            "--tempfail",
            "^(later|never)@",
            "--tempfail-times",
            "1",
            "--bounce",
            "^nobody@",
        ]) else {
            return;
        };
        newsletter(
            &archive,
            Some(&sink),
            true,
            "ok@example.org,,free,\n\
             later@example.org,,paid,\n\
             nobody@example.org,,paid,\n",
        );
        // The default first retry, a minute on: it cannot come due while this
        // run still works; the next run moves the queue's clock past it.
        let log = send_ok(&archive, &["1"]);
        assert!(
            log.contains("issue 1: 1 sent, 1 failed, 1 waiting to retry (next at "),
            "[{}] {log}",
            archive.name()
        );
        assert!(
            log.contains("run `bulletin send 1` again after then"),
            "{log}"
        );
        assert!(
            log.contains("nobody@example.org: permanent error (550)"),
            "{log}"
        );
        assert!(
            log.contains("later@example.org: transient error (451)"),
            "{log}"
        );
        let status = statuses(&archive);
        assert_eq!(status["nobody@example.org"], "bounced");
        assert_eq!(status["later@example.org"], "active");
        let got: Vec<String> = sink.messages().iter().map(|m| m.to().to_owned()).collect();
        assert_eq!(got, ["ok@example.org"]);

        // Once due, the deferred message goes, once: the first run after
        // the retry time the queue recorded sends it.
        let p = with_store(&archive, async |s| s.send_progress(1).await.unwrap());
        let due = p.next_retry_at.expect("a retry is scheduled");
        let ahead = clock_ahead_past(due);
        let log = send_ok(
            &archive,
            &["1", "--retry-seconds", "1", "--clock-ahead-seconds", &ahead],
        );
        assert!(
            log.contains("issue 1: 2 sent, 1 failed, 0 waiting to retry"),
            "[{}] {log}",
            archive.name()
        );
        let mut got: Vec<String> = sink.messages().iter().map(|m| m.to().to_owned()).collect();
        got.sort();
        assert_eq!(got, ["later@example.org", "ok@example.org"]);
        send_ok(&archive, &["1"]);
        sink.wait_until_idle();
        assert_eq!(sink.count(), 2);
    }
}

#[test]
fn an_address_that_is_always_deferred_is_given_up() {
    let archive = Archive::sqlite();
    let Some(sink) = SmtpSink::start(&["--tempfail", "^never@"]) else {
        return;
    };
    newsletter(
        &archive,
        Some(&sink),
        true,
        "never@example.org,,free,\nok@example.org,,free,\n",
    );
    // No wait between attempts: all of them in this one run.
    let log = send_ok(&archive, &["1", "--retry-seconds", "0"]);
    assert!(
        log.contains("issue 1: 1 sent, 1 failed, 0 waiting"),
        "{log}"
    );
    assert!(log.contains("gave up after 8 attempts"), "{log}");
    assert_eq!(statuses(&archive)["never@example.org"], "bounced");
    assert_eq!(sink.count(), 1);
}

#[test]
fn refusals_send_and_write_nothing() {
    let Some(sink) = SmtpSink::start(&[]) else {
        return;
    };
    let archive = Archive::sqlite();
    newsletter(&archive, None, false, "r@example.org,,paid,\n");
    let refused = |args: &[&str], why: &str| {
        let out = send(&archive, args);
        let log = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {log}");
        assert!(log.contains(why), "{args:?}: {log}");
    };
    refused(&["1"], "no SMTP server is configured. Add an [smtp] table");
    refused(&["1", "--dry-run"], "no SMTP server is configured");
    configure(&archive, &sink.url());
    refused(&["99"], "there is no issue 99");
    refused(
        &["2"],
        "issue 2 is draft: publish it before sending it (a test send to one address",
    );
    refused(&["2", "--dry-run"], "issue 2 is draft");
    refused(&["1", "--to", "not an address"], "not an email address");
    refused(
        &["1", "--to", "a@example.org\r\nBcc: all@example.org"],
        "line break",
    );
    // A base URL that cannot carry one-click unsubscribe stops the send
    // before anything is queued or any address marked.
    let mut publication = with_store(&archive, async |s| s.publication().await.unwrap());
    publication.base_url = "http://bulletin.example.org".into();
    with_store(&archive, async |s| {
        s.set_publication(&publication).await.unwrap()
    });
    refused(&["1"], "nothing was queued");
    // Every refused run has exited; once the sink holds no session, nothing
    // more can arrive from them.
    sink.wait_until_idle();
    assert_eq!(sink.count(), 0);
    for n in [1, 2, 99] {
        let p = with_store(&archive, async |s| s.send_progress(n).await.unwrap());
        assert_eq!(p.total(), 0, "issue {n}");
    }
    assert_eq!(statuses(&archive)["r@example.org"], "active");
}

#[test]
fn dry_run_writes_nothing_and_a_test_send_goes_to_one_address() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        newsletter(
            &archive,
            Some(&sink),
            false,
            "p1@example.org,,paid,\np2@example.org,,paid,\nf1@example.org,,free,\n\
             off@example.org,,free,unsubscribed\n",
        );
        let log = send_ok(&archive, &["1", "--dry-run"]);
        assert!(
            log.contains("dry run: issue 1 would go to 3 subscribers (1 free, 2 paid): "),
            "[{}] {log}",
            archive.name()
        );
        assert!(log.contains("nothing was sent or written"), "{log}");
        let bytes: u64 = log
            .split("paid): ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{log}"));
        assert!(bytes > 3 * 1000, "{log}");
        let p = with_store(&archive, async |s| s.send_progress(1).await.unwrap());
        assert_eq!(p.total(), 0, "the dry run queued nothing");

        // A test send: one message, to that address only, not queued.
        let log = send_ok(&archive, &["1", "--to", "editor@example.org"]);
        assert!(log.contains("the paid subscribers' copy"), "{log}");
        let mail = sink.wait_for(1);
        assert_eq!(mail.len(), 1);
        assert_eq!(mail[0].to(), "editor@example.org");
        assert_copy(&mail[0], true);
        send_ok(
            &archive,
            &["1", "--to", "editor@example.org", "--as", "free"],
        );
        let mail = sink.wait_for(2);
        assert_copy(&mail[1], false);
        // An issue still in draft can be previewed this way, drafts included.
        send_ok(&archive, &["2", "--to", "editor@example.org"]);
        let mail = sink.wait_for(3);
        let (_, text_part) = &mail[2].parts()[0];
        assert!(
            text_part.contains(&paragraphs("draft", 2)[1]),
            "{text_part}"
        );
        // The test sends have exited: once the sink holds no session, its
        // record is final.
        sink.wait_until_idle();
        assert_eq!(sink.count(), 3);
        let p = with_store(&archive, async |s| s.send_progress(1).await.unwrap());
        assert_eq!(p.total(), 0, "test sends are not queued");
    }
}

#[test]
fn an_unreachable_server_stops_the_run_and_loses_nothing() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        newsletter(
            &archive,
            None,
            true,
            &(0..20)
                .map(|i| format!("r{i}@example.org,,free,\n"))
                .collect::<String>(),
        );
        // A port nothing listens on, and a password that must never show.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        configure(&archive, &format!("smtp://user:hunter2@127.0.0.1:{port}"));
        let out = send(&archive, &["1"]);
        let log = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "[{}] {log}", archive.name());
        assert!(
            log.contains(&format!(
                "cannot reach the SMTP server smtp://user:***@127.0.0.1:{port} (3 tries in a row)"
            )),
            "{log}"
        );
        assert!(log.contains("went back to the queue"), "{log}");
        assert!(!log.contains("hunter2"), "{log}");
        assert!(!text(&out.stdout).contains("hunter2"));
        let p = with_store(&archive, async |s| s.send_progress(1).await.unwrap());
        assert_eq!((p.sent, p.failed, p.sending), (0, 0, 0));
        assert_eq!(p.queued, 20);

        // The server is back: everyone gets their message, once, at once
        // (nothing was tried, so nothing waits for a retry).
        configure(&archive, &sink.url());
        let log = send_ok(&archive, &["1"]);
        assert!(
            log.contains("issue 1: 20 sent, 0 failed, 0 waiting"),
            "{log}"
        );
        let mail = sink.wait_for(20);
        let to: HashSet<&str> = mail.iter().map(Received::to).collect();
        assert_eq!((mail.len(), to.len()), (20, 20));
    }
}

/// `n` active subscribers, half of them paid.
pub(crate) fn many(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "reader{i:05}@example.org,Reader {i},{},\n",
                if i % 2 == 0 { "paid" } else { "free" }
            )
        })
        .collect()
}

/// Every recipient's copies: (position in the sink's record, Message-ID).
pub(crate) fn copies(mail: &[Received]) -> HashMap<String, Vec<(usize, String)>> {
    let mut by = HashMap::<String, Vec<(usize, String)>>::new();
    for (i, m) in mail.iter().enumerate() {
        by.entry(m.to().to_owned())
            .or_default()
            .push((i, m.message_id()));
    }
    by
}

#[test]
fn two_senders_share_the_queue_without_double_sends() {
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        newsletter(&archive, Some(&sink), true, &many(1500));
        let spawn = || {
            archive
                .command()
                .args(["send", "1", "--workers", "3"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (a, b) = (spawn(), spawn());
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "[{}] {}",
                archive.name(),
                text(&out.stderr)
            );
        }
        let mail = sink.wait_for(1500);
        let by = copies(&mail);
        assert_eq!(by.len(), 1500, "[{}]", archive.name());
        let twice: Vec<_> = by.iter().filter(|(_, c)| c.len() > 1).collect();
        assert!(
            twice.is_empty(),
            "[{}] sent twice: {twice:?}",
            archive.name()
        );
    }
}

/// The crash test: SIGKILL the sender in the middle of 10,000 recipients,
/// start it again, and check by the SMTP server's record that everyone got
/// exactly one message. The only duplicates allowed are the documented
/// window: a message the server accepted whose row was not yet recorded, at
/// most one per worker of the killed process, sent again under the same
/// Message-ID by the next run.
#[test]
fn a_killed_sender_restarts_without_losing_or_duplicating() {
    const N: usize = 10_000;
    const WORKERS: usize = 4;
    for archive in Archive::each() {
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        newsletter(&archive, Some(&sink), true, &many(N));
        let log = archive.path("first-run.log");
        let mut first = archive
            .command()
            .args(["send", "1", "--workers", &WORKERS.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(300);
        while sink.count() < 2_000 {
            assert!(
                first.try_wait().unwrap().is_none(),
                "[{}] the sender stopped before it was killed: {}",
                archive.name(),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            assert!(Instant::now() < deadline, "only {} sent", sink.count());
            std::thread::sleep(Duration::from_millis(5));
        }
        first.kill().unwrap(); // SIGKILL
        first.wait().unwrap();
        // Whatever the server accepted from the killed process is recorded
        // once the sink has closed the sessions the process left behind.
        sink.wait_until_idle();
        let killed_at = sink.count();
        assert!(
            killed_at < N,
            "[{}] killed too late: {killed_at} already sent",
            archive.name()
        );

        // The restart takes over the dead claims once their lease passes.
        let log = send_ok(&archive, &["1", "--lease-seconds", "2"]);
        assert!(
            log.contains(&format!("issue 1: {N} sent, 0 failed, 0 waiting to retry")),
            "[{}] {log}",
            archive.name()
        );
        let mail = sink.messages();
        let by = copies(&mail);
        let expected: HashSet<String> = (0..N)
            .map(|i| format!("reader{i:05}@example.org"))
            .collect();
        let got: HashSet<String> = by.keys().cloned().collect();
        assert_eq!(got, expected, "[{}] everyone, nobody else", archive.name());
        let ids: HashSet<&str> = by.values().map(|c| c[0].1.as_str()).collect();
        assert_eq!(ids.len(), N, "one Message-ID per recipient");
        let mut twice = 0;
        for (to, c) in &by {
            if c.len() == 1 {
                continue;
            }
            twice += 1;
            assert_eq!(c.len(), 2, "{to}: {c:?}");
            assert_eq!(c[0].1, c[1].1, "{to}: sent again as the same message");
            assert!(
                c[0].0 < killed_at && c[1].0 >= killed_at,
                "{to}: once by the killed sender, once by the restart: {c:?}"
            );
        }
        assert!(
            twice <= WORKERS,
            "[{}] {twice} sent twice: more than one per worker of the killed sender",
            archive.name()
        );
        eprintln!(
            "[{}] killed after {killed_at} of {N}; {twice} sent twice (at most {WORKERS})",
            archive.name()
        );
        let p = with_store(&archive, async |s| s.send_progress(1).await.unwrap());
        assert_eq!((p.sent, p.sending, p.queued, p.failed), (N as u64, 0, 0, 0));
    }
}
