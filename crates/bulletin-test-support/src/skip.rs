//! The skip policy: fail unless skipping was asked for, and count what was skipped.

use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};

static SKIPPED: AtomicUsize = AtomicUsize::new(0);
static REPORT_AT_EXIT: Once = Once::new();

/// Whether a missing prerequisite may be skipped: `BULLETIN_ALLOW_SKIP=1`, and not
/// under `CI=true` (CI must run everything).
pub fn skips_allowed() -> bool {
    allowed(
        std::env::var("BULLETIN_ALLOW_SKIP").ok().as_deref(),
        std::env::var("CI").ok().as_deref(),
    )
}

fn allowed(allow_skip: Option<&str>, ci: Option<&str>) -> bool {
    allow_skip == Some("1") && ci != Some("true")
}

/// How many skips this process has counted so far.
pub fn skips() -> usize {
    SKIPPED.load(Ordering::SeqCst)
}

/// `what` is missing and `how` says how to provide it. Panics with both, unless
/// skipping is allowed: then prints a `SKIP:` line, counts it and returns (the
/// caller then returns from its test).
#[track_caller]
pub fn skip_or_fail(what: &str, how: &str) {
    if !skips_allowed() {
        let ci = if std::env::var("CI").as_deref() == Ok("true") {
            " (CI=true: nothing may be skipped)"
        } else {
            " (or set BULLETIN_ALLOW_SKIP=1 to skip such tests, counted)"
        };
        panic!("{what}: {how}{ci}");
    }
    SKIPPED.fetch_add(1, Ordering::SeqCst);
    REPORT_AT_EXIT.call_once(|| {
        // SAFETY: `report` is an `extern "C" fn()` that only formats and writes to
        // stderr; registering it has no other precondition.
        unsafe {
            libc::atexit(report);
        }
    });
    println!("SKIP: {what} ({how})");
}

extern "C" fn report() {
    let n = SKIPPED.load(Ordering::SeqCst);
    let program = std::env::args()
        .next()
        .and_then(|p| {
            std::path::Path::new(&p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    // eprintln! could panic if stderr is closed; a panic here would abort.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "BULLETIN_ALLOW_SKIP: {n} test(s) skipped for missing prerequisites in {program}"
    );
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn skipping_is_opt_in_and_never_under_ci() {
        assert!(!allowed(None, None));
        assert!(!allowed(Some("0"), None));
        assert!(!allowed(Some("yes"), None));
        assert!(allowed(Some("1"), None));
        assert!(allowed(Some("1"), Some("false")));
        assert!(!allowed(Some("1"), Some("true")));
        assert!(!allowed(None, Some("true")));
    }
}
