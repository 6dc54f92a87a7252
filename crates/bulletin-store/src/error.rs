//! The store's one error type.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("invalid story {slug:?}: {source}")]
    InvalidStory {
        slug: String,
        source: bulletin_core::ModelError,
    },
    /// A [`StoryQuery::after`] that no [`StoryPage::next`] produced.
    #[error("invalid page cursor {0:?}")]
    BadCursor(String),
    /// A value that must be unique is taken.
    #[error("{what} {key:?} already exists")]
    Duplicate { what: &'static str, key: String },
    #[error("there is no {what} {key:?}")]
    NotFound { what: &'static str, key: String },
    /// A newsroom action that the state of things does not allow; the message
    /// says why and what to do instead.
    #[error("{0}")]
    Refused(String),
    /// Opened with [`crate::Migrations::Require`], the store lacks migrations
    /// this release needs.
    #[error(
        "the store's schema is behind this release of bulletin (migrations {missing:?} are not applied): \
         run `bulletin migrate` first (instances of the previous release keep working meanwhile)"
    )]
    SchemaBehind { missing: Vec<i64> },
    /// The database could not be reached just now (what a caller saw of an
    /// earlier failure it shares).
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The file system holding the store has no room left.
    #[error("no space left on the device holding {}: free some space and try again ({source})", path.display())]
    DiskFull {
        path: std::path::PathBuf,
        source: Box<StoreError>,
    },
}

impl StoreError {
    /// Whether the database could not be reached or is going away (a
    /// restart, a closed or exhausted pool, a connection lost): worth trying
    /// again shortly, unlike a wrong query or a refusal. The site answers
    /// these 503 with `Retry-After`.
    pub fn is_unavailable(&self) -> bool {
        let e = match self {
            StoreError::Database(e) => e,
            StoreError::Unavailable(_) => return true,
            _ => return false,
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin
            // shutdown, crash shutdown, cannot connect now), 53300 (too many
            // connections).
            sqlx::Error::Database(db) => db
                .code()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P") || c == "53300"),
            _ => false,
        }
    }
}

/// Whether the file system holding `dir` refuses a small write for want of
/// space: what an I/O failure of SQLite or of the search index really was.
pub fn disk_is_full(dir: &std::path::Path) -> bool {
    let probe = dir.join(".space-probe");
    let written = std::fs::write(&probe, [0u8; 64 * 1024]);
    let _ = std::fs::remove_file(&probe);
    matches!(written, Err(e) if e.kind() == std::io::ErrorKind::StorageFull)
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
