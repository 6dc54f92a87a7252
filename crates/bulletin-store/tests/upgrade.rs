//! Upgrades (issue 17): migrations are additive, so the previous release keeps
//! working on a store the new one migrated; a store can be required current
//! (`serve --no-migrate`) and migrated apart (`bulletin migrate`).

use std::path::{Path, PathBuf};

use bulletin_store::{Migrations, StoreError};
use bulletin_test_support::TempPostgres;

/// The first migration under the additive rule (issue 17). Before it, 0002
/// reshaped the side tables and 0011 replaced `login_failures` with
/// `throttle_keys`: an upgrade across those stops every instance first.
const FIRST_ADDITIVE: i64 = 14;

fn migrations(backend: &str) -> Vec<(i64, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut all: Vec<(i64, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let version = name.split('_').next().unwrap().parse().unwrap();
            (version, p)
        })
        .collect();
    all.sort();
    all
}

/// The statements of a migration, comments removed.
fn statements(sql: &str) -> Vec<String> {
    let text: String = sql
        .lines()
        .map(|l| l.split("--").next().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    text.split(';')
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|s| !s.is_empty())
        .collect()
}

/// Why a statement could break a reader or writer of the previous schema, if it could.
fn not_additive(statement: &str) -> Option<&'static str> {
    let s = statement.to_ascii_uppercase();
    if s.starts_with("CREATE TABLE")
        || s.starts_with("CREATE INDEX")
        || s.starts_with("CREATE UNIQUE INDEX")
    {
        return None;
    }
    if s.starts_with("INSERT INTO") {
        return None;
    }
    if let Some(column) = s.strip_prefix("ALTER TABLE") {
        let Some((_, column)) = column.split_once(" ADD COLUMN ") else {
            return Some("an ALTER TABLE other than ADD COLUMN");
        };
        // An old INSERT names only the columns it knows: a new NOT NULL
        // column needs a default.
        if column.contains("NOT NULL") && !column.contains("DEFAULT") {
            return Some("a NOT NULL column without a DEFAULT");
        }
        return None;
    }
    Some("neither CREATE TABLE, CREATE INDEX, INSERT nor ADD COLUMN")
}

#[test]
fn migrations_are_additive() {
    for backend in ["sqlite", "postgres"] {
        let all = migrations(backend);
        assert!(all.len() >= 14, "{backend}: {all:?}");
        for (version, path) in all.iter().filter(|(v, _)| *v >= FIRST_ADDITIVE) {
            let sql = std::fs::read_to_string(path).unwrap();
            for statement in statements(&sql) {
                if let Some(why) = not_additive(&statement) {
                    panic!(
                        "{}: migration {version} has {why}: {statement}",
                        path.display()
                    );
                }
            }
        }
    }
    // The rule itself refuses what it should.
    assert!(not_additive("DROP TABLE stories").is_some());
    assert!(not_additive("ALTER TABLE stories RENAME COLUMN a TO b").is_some());
    assert!(not_additive("ALTER TABLE p ADD COLUMN x TEXT NOT NULL").is_some());
    assert!(not_additive("ALTER TABLE p ADD COLUMN x TEXT NOT NULL DEFAULT ''").is_none());
}

/// A folder with this release's migrations up to and including `last`.
fn migrations_up_to(backend: &str, last: i64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (version, path) in migrations(backend) {
        if version <= last {
            std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// The previous release's statements on the publication row (before 0014),
/// as it sent them: its read, its write, and its seed.
const PREVIOUS_READ: &str =
    "SELECT name, credit, base_url, time_zone, copyright FROM publication WHERE id = 1";
const PREVIOUS_WRITE: &str = "UPDATE publication SET name = 'Old Release', credit = 'Old', \
     base_url = 'https://old.example.org', time_zone = 'UTC', copyright = 'c {holder} {year}' WHERE id = 1";

/// On a store at `url` migrated to the newest schema (and reached through
/// `$pool`): the previous release opens it (its migrations, tolerating the
/// newer one) and runs its statements; the new release then reads what it
/// wrote. A macro: the same steps on either backend's pool type.
macro_rules! previous_release_works {
    ($backend:expr, $url:expr, $pool:expr) => {{
        use sqlx::Row as _;
        let newest = migrations($backend).last().unwrap().0;
        let old = migrations_up_to($backend, newest - 1);
        let mut migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
        migrator.set_ignore_missing(true);
        migrator.run($pool).await.unwrap();
        let row = sqlx::query(PREVIOUS_READ).fetch_one($pool).await.unwrap();
        let name: String = row.try_get("name").unwrap();
        assert!(!name.is_empty());
        sqlx::query(PREVIOUS_WRITE).execute($pool).await.unwrap();
        let store = bulletin_store::open($url).await.unwrap();
        let p = store.publication().await.unwrap();
        assert_eq!(
            (p.name.as_str(), p.base_url.as_str()),
            ("Old Release", "https://old.example.org")
        );
        assert_eq!(p.language, "en", "the new column keeps its default");
    }};
}

/// A store at the schema before the newest migration: required current, it
/// is refused naming the missing one; migrated, it is current.
async fn behind_then_migrated(backend: &str, url: &str) {
    let newest = migrations(backend).last().unwrap().0;
    match bulletin_store::open_with(url, Migrations::Require).await {
        Err(StoreError::SchemaBehind { missing }) => assert_eq!(missing, [newest]),
        Err(e) => panic!("{backend}: {e}"),
        Ok(_) => panic!("{backend}: a store behind was opened as current"),
    }
    let store = bulletin_store::open(url).await.unwrap();
    let status = store.schema_status().await.unwrap();
    assert!(status.is_current(), "{status:?}");
    assert_eq!(status.applied.last(), Some(&newest));
    assert!(status.newer().is_empty());
    drop(
        bulletin_store::open_with(url, Migrations::Require)
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn sqlite_upgrade_one_release() {
    use std::str::FromStr;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/upgrade.db", dir.path().display());
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let newest = migrations("sqlite").last().unwrap().0;
    let old = migrations_up_to("sqlite", newest - 1);
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    behind_then_migrated("sqlite", &url).await;
    previous_release_works!("sqlite", &url, &pool);
    pool.close().await;
}

#[tokio::test]
async fn postgres_upgrade_one_release() {
    let Some(db) = TempPostgres::create_or_skip().await else {
        return;
    };
    let url = db.schema("upgrade").await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let newest = migrations("postgres").last().unwrap().0;
    let old = migrations_up_to("postgres", newest - 1);
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&pool)
        .await
        .unwrap();
    behind_then_migrated("postgres", &url).await;
    previous_release_works!("postgres", &url, &pool);
    pool.close().await;
    db.drop_now().await;
}
