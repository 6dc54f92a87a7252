//! Crash tests: SIGKILL a process at seeded random moments while it restores a
//! backup, publishes issues, runs the scheduler, rebuilds the search index or
//! sends a newsletter, on SQLite and PostgreSQL. After every kill the store
//! opens, the operation is all or nothing (per issue, per backup, per message),
//! running it again finishes it, and the search index catches up to exactly
//! what a fresh index of the store holds.
//!
//! The moment of each kill is drawn from a seeded generator
//! (`BULLETIN_CRASH_SEED`, printed on failure), within the time the operation
//! took when it ran to the end once. Publishing and the scheduler run in a child
//! process that is this test binary itself (`child`, ignored unless asked for),
//! so the kill hits the store's own transaction code.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bulletin_search::{SearchIndex, SearchRequest, Sort};
use bulletin_store::{Actor, DeskState, Store};
use bulletin_test_support::smtp::SmtpSink;

use crate::{Archive, text};

/// Kills per operation and backend.
const KILLS: u32 = 10;
/// The line a child prints once its store is open and the work begins.
const STARTED: &str = "crash-child: started";

/// A small deterministic generator (SplitMix64): the same seed, the same kills.
struct Moments(u64);

impl Moments {
    fn new(salt: u64) -> Moments {
        let seed = std::env::var("BULLETIN_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(16);
        eprintln!("crash seed {seed} (BULLETIN_CRASH_SEED)");
        Moments(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A moment within `span`.
    fn within(&mut self, span: Duration) -> Duration {
        let micros = span.as_micros().max(1) as u64;
        Duration::from_micros(self.next() % micros)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn with_store<T>(url: &str, f: impl AsyncFnOnce(&dyn Store) -> T) -> T {
    runtime().block_on(async {
        let store = bulletin_store::open(url).await.unwrap();
        f(store.as_ref()).await
    })
}

/// A generated archive of `stories` stories, imported.
fn generated(archive: &Archive, stories: u32) {
    let file = archive.path("archive.txt");
    let file = file.to_str().unwrap();
    archive.run_ok(&[
        "gen",
        "--stories",
        &stories.to_string(),
        "--seed",
        "5",
        "-o",
        file,
    ]);
    archive.run_ok(&["import", file]);
}

/// Waits for the child to say it started, then kills it after `delay`.
/// Returns whether it had already finished by then.
fn kill_after(mut child: Child, delay: Duration) -> bool {
    wait_started(&mut child);
    kill_at(child, delay)
}

/// Kills the child `delay` from now; whether it had already finished.
fn kill_at(mut child: Child, delay: Duration) -> bool {
    // Not synchronisation: the kill's random moment.
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill(); // SIGKILL
    child.wait().unwrap();
    finished
}

fn wait_started(child: &mut Child) {
    let out = child.stdout.take().expect("the child's stdout is piped");
    let mut lines = BufReader::new(out).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains(STARTED) {
            // Keep reading, so the child never writes into a closed pipe.
            std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
            return;
        }
    }
    panic!("the child exited before it started its work");
}

/// Runs a child to the end; how long its work took after it started. `log`
/// says what went wrong when it fails.
fn run_to_end(mut child: Child, log: impl Fn() -> String) -> Duration {
    wait_started(&mut child);
    let started = Instant::now();
    let status = child.wait().unwrap();
    assert!(status.success(), "the child failed: {status}: {}", log());
    started.elapsed()
}

// ---------------------------------------------------------------------------
// Publishing and the scheduler: a child process that is this test binary.

/// The child's entry point: opens the store and publishes, as told by its
/// environment. Run only by the crash tests, which kill it.
#[test]
#[ignore = "the child process of the crash tests, which start it themselves"]
fn child() {
    let url = std::env::var("BULLETIN_CRASH_STORE").expect("run by the crash tests");
    let work = std::env::var("BULLETIN_CRASH_WORK").expect("run by the crash tests");
    let now: i64 = std::env::var("BULLETIN_CRASH_NOW")
        .unwrap()
        .parse()
        .unwrap();
    runtime().block_on(async {
        let store = bulletin_store::open(&url).await.unwrap();
        let actor = Actor::system("crash-test");
        // What an editor finishing the job would publish: the issues not live.
        let issues: Vec<u32> = store
            .issue_statuses()
            .await
            .unwrap()
            .into_iter()
            .filter(|(_, status)| *status != bulletin_core::IssueStatus::Published)
            .map(|(n, _)| n)
            .collect();
        println!("{STARTED}");
        match work.as_str() {
            "publish" => {
                for n in issues {
                    store.publish_issue(n, &actor, now).await.unwrap();
                }
            }
            "scheduler" => {
                store.publish_due(now).await.unwrap();
            }
            other => panic!("unknown work {other}"),
        }
    });
}

/// Where a child of this process doing `work` writes its standard error.
fn child_log(work: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("bulletin-crash-{}-{work}.log", std::process::id()))
}

fn child_failure(work: &str) -> impl Fn() -> String {
    let path = child_log(work);
    move || std::fs::read_to_string(&path).unwrap_or_default()
}

fn spawn_child(url: &str, work: &str, now: i64) -> Child {
    let log = child_log(work);
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "crash::child",
            "--ignored",
            "--nocapture",
            "--quiet",
        ])
        .env("BULLETIN_CRASH_STORE", url)
        .env("BULLETIN_CRASH_WORK", work)
        .env("BULLETIN_CRASH_NOW", now.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap()
}

/// Takes every issue back to draft; scheduled for `at` when given.
fn take_down(url: &str, schedule_at: Option<i64>, now: i64) {
    with_store(url, async |store| {
        let actor = Actor::system("crash-test");
        for (n, _) in store.issue_statuses().await.unwrap() {
            store.unpublish_issue(n, &actor, now).await.unwrap();
            if let Some(at) = schedule_at {
                store.schedule_issue(n, at, &actor, now).await.unwrap();
            }
        }
    })
}

/// Every issue is either wholly live or wholly not; returns how many are live.
fn issues_whole(url: &str, name: &str) -> (usize, usize) {
    with_store(url, async |store| {
        let mut live = 0;
        let statuses = store.issue_statuses().await.unwrap();
        for (n, _) in &statuses {
            let desk = store.issue_desk(*n).await.unwrap().unwrap();
            let published = desk.status == bulletin_core::IssueStatus::Published;
            let states: Vec<DeskState> = desk.stories.iter().map(|s| s.state).collect();
            let want = if published {
                DeskState::Published
            } else {
                DeskState::Draft
            };
            assert!(
                states.iter().all(|s| *s == want),
                "[{name}] issue {n} is {:?} but its stories are {states:?}",
                desk.status
            );
            live += usize::from(published);
        }
        (live, statuses.len())
    })
}

fn publishing_survives_kills(work: &str, salt: u64) {
    for archive in Archive::each() {
        let name = archive.name();
        let url = archive.url();
        generated(&archive, 400);
        let stories = with_store(&url, async |s| s.counts().await.unwrap().stories);
        let now = 1_900_000_000;
        let schedule = (work == "scheduler").then_some(now - 60);
        // The index follows the store from here on.
        index_matches_store(&archive);
        take_down(&url, schedule, now - 120);
        let span = run_to_end(spawn_child(&url, work, now), child_failure(work));
        let mut moments = Moments::new(salt);
        let mut partial = 0;
        for kill in 0..KILLS {
            take_down(&url, schedule, now - 120);
            let delay = moments.within(span);
            let finished = kill_after(spawn_child(&url, work, now), delay);
            let (live, all) = issues_whole(&url, name);
            partial += u32::from(live > 0 && live < all);
            eprintln!(
                "[{name}] {work}: kill {kill} after {delay:?} of {span:?}: {live} of {all} issues live{}",
                if finished { " (it had finished)" } else { "" }
            );
            index_matches_store(&archive);
            // Running it again finishes the work.
            run_to_end(spawn_child(&url, work, now), child_failure(work));
            let (live, all) = issues_whole(&url, name);
            assert_eq!(live, all, "[{name}] {work} again publishes every issue");
            let now_stories = with_store(&url, async |s| s.counts().await.unwrap().stories);
            assert_eq!(now_stories, stories, "[{name}] every story is live again");
            index_matches_store(&archive);
        }
        // Kills that all land before or after the work prove nothing.
        assert!(
            partial > 0,
            "[{name}] {work}: no kill landed in the middle (seed and span above)"
        );
    }
}

#[test]
fn publishing_issues_survives_kills() {
    publishing_survives_kills("publish", 1);
}

#[test]
fn the_scheduler_survives_kills() {
    publishing_survives_kills("scheduler", 2);
}

// ---------------------------------------------------------------------------
// The search index.

/// The data directory's index, once caught up, answers as a fresh index of the
/// store does: the same number of stories and the same counts per country, tag
/// and year for every query here.
fn index_matches_store(archive: &Archive) {
    let name = archive.name();
    let fresh_dir = tempfile::tempdir().unwrap();
    with_store(&archive.url(), async |store| {
        let index = SearchIndex::open(&archive.path("search")).unwrap();
        let seq = index.catch_up(store).await.unwrap();
        assert_eq!(seq, store.last_change().await.unwrap(), "[{name}]");
        let fresh = SearchIndex::open(fresh_dir.path()).unwrap();
        fresh.rebuild(store, &mut |_, _| {}).await.unwrap();
        let stories = store.counts().await.unwrap().stories;
        assert_eq!(
            index.num_stories(),
            stories,
            "[{name}] stories in the index"
        );
        assert_eq!(fresh.num_stories(), stories, "[{name}] stories, fresh");
        for q in ["", "court", "detained OR arrested", "-election"] {
            let request = SearchRequest {
                q: q.to_owned(),
                sort: Sort::Newest,
                limit: 10,
                facets: true,
                ..SearchRequest::default()
            };
            let mine = index.search(&request).unwrap();
            let theirs = fresh.search(&request).unwrap();
            assert_eq!(mine.total, theirs.total, "[{name}] {q:?}: total");
            assert_eq!(
                serde_json::to_value(&mine.facets).unwrap(),
                serde_json::to_value(&theirs.facets).unwrap(),
                "[{name}] {q:?}: counts per country, tag and year"
            );
        }
    });
}

#[test]
fn reindex_survives_kills() {
    for archive in Archive::each() {
        let name = archive.name();
        generated(&archive, 1_000);
        let reindex = || {
            archive
                .command()
                .arg("reindex")
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let started = Instant::now();
        assert!(reindex().wait().unwrap().success());
        let span = started.elapsed();
        let mut moments = Moments::new(3);
        for kill in 0..KILLS {
            let delay = moments.within(span);
            let finished = kill_at(reindex(), delay);
            eprintln!(
                "[{name}] reindex: kill {kill} after {delay:?} of {span:?}{}",
                if finished { " (it had finished)" } else { "" }
            );
            index_matches_store(&archive);
            // And a search from the command line agrees.
            let out = archive.run(&["search", "court", "--json"]);
            assert!(
                out.status.success(),
                "[{name}] search after a killed reindex: {}",
                text(&out.stderr)
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Restoring a backup.

/// The two backups are the same, or the first line where they differ.
fn assert_same_backup(got: &str, want: &str, what: &str) {
    if got == want {
        return;
    }
    let cut = |l: &str| l.chars().take(300).collect::<String>();
    let (g, w): (Vec<&str>, Vec<&str>) = (got.lines().collect(), want.lines().collect());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert_eq!(cut(a), cut(b), "{what}: backups differ at line {}", i + 1);
        assert_eq!(a, b, "{what}: backups differ at line {}", i + 1);
    }
    panic!("{what}: {} lines against {}", g.len(), w.len());
}

#[test]
fn restore_survives_kills() {
    for archive in Archive::each() {
        let name = archive.name();
        generated(&archive, 1_000);
        let backup = archive.path("backup.json");
        let backup = backup.to_str().unwrap().to_owned();
        archive.run_ok(&["export", "--format", "json", "-o", &backup]);
        let original = archive.export(&["--format", "json"]);
        let fresh = || {
            if archive.database.is_some() {
                Archive::postgres().expect("PostgreSQL was there a moment ago")
            } else {
                Archive::sqlite()
            }
        };
        let restore = |into: &Archive| {
            into.command()
                .args(["import", &backup])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        let target = fresh();
        let started = Instant::now();
        assert!(restore(&target).wait().unwrap().success());
        let span = started.elapsed();
        assert_same_backup(&target.export(&["--format", "json"]), &original, name);
        let mut moments = Moments::new(4);
        let mut outcomes = BTreeMap::<&str, u32>::new();
        for kill in 0..KILLS {
            let target = fresh();
            let delay = moments.within(span);
            let finished = kill_at(restore(&target), delay);
            // The store opens, and holds nothing or everything.
            let after = target.run(&["export", "--format", "json"]);
            assert!(
                after.status.success(),
                "[{name}] the store after a killed restore: {}",
                text(&after.stderr)
            );
            let after = text(&after.stdout);
            let outcome = if after == original {
                "complete"
            } else {
                let stories =
                    with_store(&target.url(), async |s| s.counts().await.unwrap().stories);
                assert_eq!(stories, 0, "[{name}] kill {kill}: a partial restore");
                // Nothing half-restored stands in the way of a second try.
                target.run_ok(&["import", &backup]);
                assert_same_backup(&target.export(&["--format", "json"]), &original, name);
                "nothing"
            };
            *outcomes.entry(outcome).or_default() += 1;
            eprintln!(
                "[{name}] restore: kill {kill} after {delay:?} of {span:?}: {outcome}{}",
                if finished { " (it had finished)" } else { "" }
            );
            index_matches_store(&target);
        }
        eprintln!("[{name}] restore outcomes: {outcomes:?}");
    }
}

// ---------------------------------------------------------------------------
// Sending: the newsletter, killed ten times on its way.

#[test]
fn sending_survives_kills() {
    const N: usize = 2_000;
    const WORKERS: usize = 4;
    for archive in Archive::each() {
        let name = archive.name();
        let Some(sink) = SmtpSink::start(&[]) else {
            return;
        };
        crate::send::newsletter(&archive, Some(&sink), true, &crate::send::many(N));
        let mut moments = Moments::new(5);
        // Ten increasing counts of messages at which to kill.
        let mut at: Vec<usize> = (0..KILLS)
            .map(|_| 1 + (moments.next() % (N as u64 - 1)) as usize)
            .collect();
        at.sort_unstable();
        let mut killed_at = Vec::new();
        for (run, &target) in at.iter().enumerate() {
            // Each run's clock is an hour past the last, so it takes over the
            // claims the killed run left without waiting for their lease.
            let ahead = (run as i64) * 3_600;
            let mut child = archive
                .command()
                .args(["send", "1", "--workers", &WORKERS.to_string()])
                .args(["--clock-ahead-seconds", &ahead.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(300);
            while sink.count() < target && child.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "[{name}] only {}", sink.count());
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = child.kill();
            child.wait().unwrap();
            sink.wait_until_idle();
            killed_at.push(sink.count());
        }
        let ahead = (KILLS as i64) * 3_600;
        let out = archive.run_ok(&["send", "1", "--clock-ahead-seconds", &ahead.to_string()]);
        let log = text(&out.stderr);
        assert!(
            log.contains(&format!("issue 1: {N} sent, 0 failed, 0 waiting to retry")),
            "[{name}] {log}"
        );
        let mail = sink.messages();
        let by = crate::send::copies(&mail);
        assert_eq!(by.len(), N, "[{name}] everyone got the issue");
        let mut twice = 0;
        for (to, copies) in &by {
            if copies.len() > 1 {
                twice += copies.len() - 1;
                let ids: std::collections::HashSet<&str> =
                    copies.iter().map(|c| c.1.as_str()).collect();
                assert_eq!(
                    ids.len(),
                    1,
                    "[{name}] {to}: sent again as the same message"
                );
            }
        }
        // At most one message per worker of each killed run is sent again.
        assert!(
            twice <= WORKERS * KILLS as usize,
            "[{name}] {twice} sent again after {KILLS} kills"
        );
        eprintln!("[{name}] send: killed at {killed_at:?} of {N}; {twice} sent again");
    }
}
