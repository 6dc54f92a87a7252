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
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
