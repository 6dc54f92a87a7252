//! The SQL text that differs between the backends, for the SQL both share
//! (`src/sql/`): column types, date and time formatting, byte-order sorting,
//! and the few whole queries each database answers its own way.

/// What the shared SQL needs to know of a backend's SQL.
pub(crate) trait Dialect {
    /// "sqlite" or "postgres".
    const NAME: &'static str;
    /// One boolean: whether sqlx's table of applied migrations exists.
    const MIGRATIONS_TABLE_EXISTS: &'static str;
    /// The type of `issues.date`.
    const DATE_TYPE: &'static str;
    /// The type of the older tables' times (`created_at`, `changes.at`), which
    /// take RFC 3339 text.
    const TIME_TYPE: &'static str;
    /// `FOR UPDATE SKIP LOCKED` where the backend has row locks (PostgreSQL), so
    /// that workers claiming rows pass over each other's; empty for SQLite, whose
    /// writers take turns.
    const SKIP_LOCKED: &'static str;
    /// The statement that opens a transaction which takes row locks as it goes
    /// (the throttle's): `BEGIN IMMEDIATE` on SQLite, whose writers take turns
    /// from the start (a deferred transaction could fail to upgrade), plain
    /// `BEGIN` on PostgreSQL, where the rows it upserts are the locks.
    const BEGIN_LOCKING: &'static str;
    /// The type of `revisions.content`.
    const JSON_TYPE: &'static str;
    /// ` COLLATE "C"` where ORDER BY needs it to sort text in byte order (as
    /// SQLite always does), whatever the database's collation.
    const BYTE_ORDER: &'static str;
    /// The columns of `stories` that a story is read from, dates as text.
    const STORY_COLUMNS: &'static str;
    /// [`Dialect::STORY_COLUMNS`] of `stories s`, for listings that join it.
    const LIST_COLUMNS: &'static str;
    /// `id, number, date, status` of `issues`, the date as text.
    const ISSUE_COLUMNS: &'static str;
    /// `seq, entity, key, op, at` of `changes`, `at` as RFC 3339 text.
    const CHANGE_COLUMNS: &'static str;
    /// `id, email, role, disabled, created_at` of `users`, `created_at` as
    /// RFC 3339 text.
    const USER_COLUMNS: &'static str;
    /// The ORDER BY of the newest published issue: latest date first, issues of
    /// unknown date after all dated ones, then highest number.
    const LATEST_ISSUE_ORDER: &'static str;
    /// (a date in the month, stories) for every day with stories.
    const MONTHS: &'static str;
    /// A story's revisions by slug (`$1`): `number`, `content` as text,
    /// `replaced_at` as RFC 3339 text, oldest first.
    const REVISIONS: &'static str;
    /// The table sizes (`stories`, `issues`, `tags`, `revisions`) and the first
    /// and last dateline dates as text.
    const COUNTS: &'static str;
    /// (slug, dateline date, `updated_at` as RFC 3339) of `$1` stories by id
    /// after skipping `$2`.
    const STORY_INDEX: &'static str;
    /// Put before a column that must not pick an index (see
    /// [`crate::listing::Piece::Unindexed`]): `+` on SQLite.
    const UNINDEXED_PREFIX: &'static str;
    /// Put after a bound `YYYY-MM-DD` parameter compared with a date column.
    const DATE_PARAM_CAST: &'static str;
    /// True when the publication row differs from `$1`..`$5` (name, credit,
    /// base URL, time zone, copyright).
    const PUBLICATION_DIFFERS: &'static str;
    /// `column` (one of those times) as RFC 3339 text in UTC.
    fn time_text(column: &str) -> String;
    /// The time now, for an older table's time, as parameter `$param`
    /// (SQLite: the clock's text, bound) or as SQL (PostgreSQL: `now()`).
    fn now_sql(param: usize) -> String;
    /// The value to bind for [`Dialect::now_sql`]'s parameter, `None` where
    /// there is none.
    fn clock() -> Option<String>;
}
