//! The skip policy, seen from outside: this binary runs itself as a child with a
//! missing prerequisite, once without and once with `BULLETIN_ALLOW_SKIP=1`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure report

use std::process::Command;

const MISSING: &str = "no/such/file-for-the-policy-test";

/// Run only as a child of the tests below (it needs a file that never exists).
#[test]
#[ignore = "a child process of the policy tests"]
fn child_needs_a_missing_shared_file() {
    let found = bulletin_test_support::shared(MISSING);
    assert!(found.is_none(), "the file was expected to be absent");
}

fn run_child(allow_skip: bool) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--ignored",
        "--exact",
        "child_needs_a_missing_shared_file",
        "--nocapture",
    ])
    .env_remove("CI")
    .env_remove("BULLETIN_ALLOW_SKIP");
    if allow_skip {
        cmd.env("BULLETIN_ALLOW_SKIP", "1");
    }
    cmd.output().unwrap()
}

#[test]
fn a_missing_prerequisite_fails_with_how_to_provide_it() {
    let out = run_child(false);
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child passed:\n{all}");
    assert!(all.contains(MISSING), "the message names the file:\n{all}");
    assert!(
        all.contains("beside the"),
        "the message says where to put it:\n{all}"
    );
    assert!(
        all.contains("BULLETIN_ALLOW_SKIP=1"),
        "the message names the opt-in:\n{all}"
    );
}

#[test]
fn with_allow_skip_it_is_skipped_and_counted_at_exit() {
    let out = run_child(true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the child failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("SKIP:"), "a skip line:\n{stdout}");
    assert!(
        stderr.contains("1 test(s) skipped"),
        "the count at exit:\n{stderr}"
    );
}

#[test]
fn under_ci_nothing_may_be_skipped() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_needs_a_missing_shared_file"])
        .env("CI", "true")
        .env("BULLETIN_ALLOW_SKIP", "1")
        .output()
        .unwrap();
    let all =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the child passed under CI:\n{all}");
    assert!(all.contains("CI=true"), "{all}");
}

#[tokio::test]
async fn a_scratch_database_exists_until_dropped() {
    use sqlx::Connection;
    let Some(pg) = bulletin_test_support::TempPostgres::create_or_skip().await else {
        return;
    };
    let url = pg.url().to_owned();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let one: (i32,) = sqlx::query_as("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one.0, 1);
    conn.close().await.unwrap();
    pg.drop_now().await;
    assert!(
        sqlx::PgConnection::connect(&url).await.is_err(),
        "the database is gone after drop_now"
    );
}
