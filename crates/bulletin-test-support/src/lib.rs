//! What bulletin's tests share, and the one policy for anything a test needs but
//! the machine lacks.
//!
//! A test that needs `../shared` (the corpus and fixtures beside the checkout),
//! PostgreSQL or a program fails, saying how to provide it. Only
//! `BULLETIN_ALLOW_SKIP=1` (and never under `CI=true`) turns that into a skip: a
//! `SKIP:` line, counted, and the count printed when the test process exits.
//!
//! ```no_run
//! use bulletin_test_support::{shared, TempPostgres};
//!
//! # async fn example() {
//! // Panics with a how-to message, or returns None only when skipping is allowed.
//! let Some(corpus) = shared("corpus/tag-archive-political-rights.txt") else { return };
//! let Some(pg) = TempPostgres::create_or_skip().await else { return };
//! println!("{} {}", corpus.display(), pg.url());
//! # }
//! ```

// Test code: a panic here is how a test reports a broken prerequisite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod own_postgres;
mod postgres;
mod skip;
pub mod smtp;
pub mod work;

use std::path::PathBuf;

pub use own_postgres::OwnPostgres;
pub use postgres::{TempPostgres, postgres_url};
pub use skip::{skip_or_fail, skips, skips_allowed};

/// Waits until `done()` holds, checking it every few milliseconds for up to
/// `timeout`; panics naming `what` otherwise. The one way tests wait for
/// something another process does (a page, a log line, a counter).
#[track_caller]
pub fn wait_until(what: &str, timeout: std::time::Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + timeout;
    let mut pause = std::time::Duration::from_millis(5);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(100));
    }
}

/// The folder `shared/` beside the checkout (`<workspace>/../shared`).
pub fn shared_root() -> PathBuf {
    let workspace = workspace_root();
    match workspace.parent() {
        Some(parent) => parent.join("shared"),
        None => workspace.join("../shared"),
    }
}

/// `../shared/<relative>` when it exists. When it does not: a panic saying how to
/// provide it, or (with `BULLETIN_ALLOW_SKIP=1`) a counted skip and `None`.
#[track_caller]
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = shared_root().join(relative);
    if path.exists() {
        return Some(path);
    }
    skip_or_fail(
        &format!("{} is absent", path.display()),
        "the tests read the corpus and fixtures from the `shared` folder beside the \
         checkout: put it there (a sibling of the workspace folder)",
    );
    None
}

/// The program `name` on `PATH`. When it is missing: a panic saying `how` to
/// install it, or (with `BULLETIN_ALLOW_SKIP=1`) a counted skip and `None`.
#[track_caller]
pub fn tool(name: &str, how: &str) -> Option<PathBuf> {
    if let Some(found) = on_path(name) {
        return Some(found);
    }
    skip_or_fail(&format!("the program `{name}` is not on PATH"), how);
    None
}

/// The program `name` on `PATH`, if there is one (no policy: for optional uses).
pub fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The workspace folder (the checkout).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // crates/bulletin-test-support → the workspace, two levels up.
    match manifest.ancestors().nth(2) {
        Some(workspace) => workspace.to_path_buf(),
        None => manifest.join("../.."),
    }
}

/// Feeds every file of `fuzz/corpus/TARGET/` (the minimised corpus a fuzz
/// campaign keeps, committed) to `run`, the function the fuzz target calls:
/// each input a campaign found, crashes included, stays a test on stable.
pub fn replay_fuzz_corpus(target: &str, run: impl Fn(&[u8])) {
    let dir = workspace_root().join("fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        assert!(outcome.is_ok(), "{} fails", path.display());
        count += 1;
    }
    assert!(count > 0, "{} holds no inputs", dir.display());
}
