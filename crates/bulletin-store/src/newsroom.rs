//! The newsroom's part of the store: staff sessions, sign-in throttling, stories
//! that are not public, the history of every save, issues being built, scheduled
//! publishing and the audit log.
//!
//! The invariant that keeps visitors away from unpublished work: the `stories`
//! table holds only public stories. Everything else (drafts, unpublished stories,
//! stories waiting in an issue that is not published) lives in `drafts`, which no
//! public read touches. Publishing moves stories from `drafts` into `stories`
//! through [`crate::ImportTx::put_stories`], so the change log, the search index and
//! every cache follow as they do for an import; unpublishing moves them back.
//!
//! The SQL here is one text for both backends (`$N` parameters, BIGINT times in
//! Unix seconds); [`newsroom_impl!`] expands it for each.

use async_trait::async_trait;
use bulletin_core::staff::Role;
use bulletin_core::{Date, IssueStatus, Story, StoryJson};

use crate::Result;
use crate::common::corrupt;

/// A signed-in staff session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: i64,
    pub email: String,
    pub role: Role,
    pub csrf_token: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
}

/// A staff API token as listed (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// Space-separated: read, write, publish.
    pub scopes: String,
    /// Unix seconds.
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked: bool,
}

/// Who does something: a staff account, or the system ("scheduler", "cli").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// The account's address, or the system part's name.
    pub name: String,
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Actor {
        Actor {
            user_id: Some(id),
            name: email.to_owned(),
        }
    }

    pub fn system(name: &str) -> Actor {
        Actor {
            user_id: None,
            name: name.to_owned(),
        }
    }
}

/// Where a story is: public (`stories`) or not (`drafts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeskState {
    Draft,
    Published,
}

impl DeskState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeskState::Draft => "draft",
            DeskState::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<DeskState> {
        match s {
            "draft" => Some(DeskState::Draft),
            "published" => Some(DeskState::Published),
            _ => None,
        }
    }
}

/// One line of the newsroom's story list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskEntry {
    pub slug: String,
    pub headline: String,
    pub date: Date,
    pub issue: Option<u32>,
    pub state: DeskState,
    /// Who created it in the newsroom (`None` for imported stories).
    pub author: Option<String>,
    /// For a draft, how it waits: "draft", "pending" (for review), "private"
    /// (staff only) or "future" (goes live at `publish_at`), as an import from
    /// WordPress left it; "publish" for a published story.
    pub waiting: String,
    /// For "future": when the scheduler publishes it (Unix seconds).
    pub publish_at: Option<i64>,
}

/// Which stories the newsroom lists; every filter that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeskQuery {
    pub state: Option<DeskState>,
    /// Tag name.
    pub tag: Option<String>,
    pub issue: Option<u32>,
    /// The creator's address.
    pub author: Option<String>,
    /// Part of the headline, any case.
    pub text: Option<String>,
    pub offset: u32,
    /// Page size, at most 500 (0 means 50).
    pub limit: u32,
}

/// A story as the editor opens it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskStory {
    pub story: Story,
    pub state: DeskState,
    /// The number of its latest save (0: never saved in the newsroom). A save
    /// must name it; see [`Newsroom::save_story`].
    pub version: u32,
    pub author: Option<String>,
}

/// One save of a story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub number: u32,
    pub story: Story,
    pub actor: String,
    /// create, save, restore or import (the imported text, kept on first edit).
    pub action: String,
    /// Unix seconds.
    pub at: i64,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub key: String,
    pub detail: String,
}

/// What [`Newsroom::save_story`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SaveOutcome {
    Saved {
        slug: String,
        version: u32,
    },
    /// Someone saved since the version the editor started from: nothing was
    /// written. `current` is the story as it is now; `base` as the editor had it.
    Conflict {
        current: Box<DeskStory>,
        base: Option<Box<Story>>,
        by: String,
    },
}

/// An issue as the issue builder shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueDesk {
    pub number: u32,
    pub date: Option<Date>,
    pub status: IssueStatus,
    /// Unix seconds, when scheduled.
    pub publish_at: Option<i64>,
    /// Its stories in issue order, public and not.
    pub stories: Vec<DeskEntry>,
}

/// One line of the issue list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueSummary {
    pub number: u32,
    pub date: Option<Date>,
    pub status: IssueStatus,
    pub publish_at: Option<i64>,
    pub stories: u64,
}

/// The newsroom's reads and writes. Every write that changes what is public also
/// logs changes (through the import machinery) and an audit entry, in the same
/// transaction.
#[async_trait]
pub trait Newsroom: Send + Sync {
    // Sessions. Times are Unix seconds, passed in so that tests can move the clock.

    async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: i64,
    ) -> Result<()>;
    /// The session with this id hash, if its account is still enabled.
    async fn session(&self, id_hash: &str) -> Result<Option<Session>>;
    async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()>;
    async fn delete_session(&self, id_hash: &str) -> Result<()>;
    /// Signs an account out everywhere; how many sessions ended.
    async fn delete_user_sessions(&self, user_id: i64) -> Result<u64>;
    /// Removes sessions created before `created_before` or idle since before
    /// `seen_before`.
    async fn delete_expired_sessions(&self, created_before: i64, seen_before: i64) -> Result<u64>;

    // Staff API tokens; only their SHA-256 is stored.

    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        scopes: &str,
        now: i64,
    ) -> Result<ApiToken>;
    /// The token with this hash and its account, as a session, if neither the
    /// token is revoked nor the account disabled. Notes the time of use.
    async fn api_token(&self, token_hash: &str, now: i64) -> Result<Option<(ApiToken, Session)>>;
    /// An account's tokens, newest first.
    async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>>;
    /// `false` when the account has no such token.
    async fn revoke_api_token(&self, user_id: i64, id: i64, now: i64) -> Result<bool>;

    // Sign-in throttling, per key ("account:EMAIL", "address:IP").

    /// Records a failure and forgets failures older than `forget_before`.
    async fn record_login_failure(&self, key: &str, at: i64, forget_before: i64) -> Result<()>;
    async fn login_failures(&self, key: &str, since: i64) -> Result<u64>;
    async fn clear_login_failures(&self, key: &str) -> Result<()>;

    // Stories.

    /// The newsroom's story list (drafts first, then newest first) and the total.
    async fn desk(&self, query: &DeskQuery) -> Result<(Vec<DeskEntry>, u64)>;
    async fn desk_story(&self, slug: &str) -> Result<Option<DeskStory>>;
    /// Saves a story. `base: None` creates a draft (its slug made unique from
    /// `story.slug` among every story, public or not, past or present).
    /// `base: Some(v)` updates the story `story.slug`, whose version must still be
    /// `v`: otherwise nothing is written and the outcome is a conflict. A public
    /// story stays public (the earlier text becomes a revision, as on import); a
    /// draft stays a draft. `action` is "save" or "restore".
    async fn save_story(
        &self,
        story: Story,
        base: Option<u32>,
        action: &str,
        actor: &Actor,
        now: i64,
    ) -> Result<SaveOutcome>;
    /// Every save of a story, oldest first.
    async fn history(&self, slug: &str) -> Result<Vec<HistoryEntry>>;
    /// Makes a draft public. Its issue, if any, must be published (else publish
    /// the issue).
    async fn publish_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()>;
    /// Takes a public story down: it becomes a draft again.
    async fn unpublish_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()>;
    /// Deletes a story, public or not. Its history stays, for the record.
    async fn delete_desk_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()>;

    // Issues.

    async fn issue_list(&self) -> Result<Vec<IssueSummary>>;
    async fn issue_desk(&self, number: u32) -> Result<Option<IssueDesk>>;
    /// A new draft issue. A taken number is [`crate::StoreError::Duplicate`].
    async fn create_issue(
        &self,
        number: u32,
        date: Option<Date>,
        actor: &Actor,
        now: i64,
    ) -> Result<()>;
    /// Sets (or clears) the date of an issue that is not published; its drafts'
    /// footers follow.
    async fn set_issue_date(
        &self,
        number: u32,
        date: Option<Date>,
        actor: &Actor,
        now: i64,
    ) -> Result<()>;
    /// Sets the drafts of an issue that is not published: exactly `slugs`, in this
    /// order. Drafts left out leave the issue; a story in another issue, or a
    /// public one, is refused.
    async fn set_issue_stories(
        &self,
        number: u32,
        slugs: &[String],
        actor: &Actor,
        now: i64,
    ) -> Result<()>;
    /// Publishes an issue now, with all its drafts; how many stories went live.
    async fn publish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<u64>;
    /// Schedules an issue that is not published to go live at `at`.
    async fn schedule_issue(&self, number: u32, at: i64, actor: &Actor, now: i64) -> Result<()>;
    /// Takes a published or scheduled issue back to draft; its public stories
    /// become drafts.
    async fn unpublish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<()>;
    /// Publishes every scheduled issue whose time has come. Each is claimed by a
    /// conditional update inside the publishing transaction, so with several
    /// instances on one database each issue goes live exactly once.
    async fn publish_due(&self, now: i64) -> Result<Vec<u32>>;

    // The audit log.

    async fn record_audit(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        key: &str,
        detail: &str,
        now: i64,
    ) -> Result<()>;
    /// Newest first.
    async fn audit_log(&self, offset: u32, limit: u32) -> Result<Vec<AuditEntry>>;
}

/// A stored story JSON, as it was saved (not re-validated: rules may have
/// tightened since).
pub(crate) fn story_from_content(what: &str, content: &str) -> Result<Story> {
    let json: StoryJson =
        serde_json::from_str(content).map_err(|e| corrupt(format_args!("{what}: {e}")))?;
    Ok(Story {
        slug: json.slug,
        headline: json.headline,
        dateline: json.dateline,
        body: json.body,
        tags: json.tags,
        countries: json.countries,
        issue: json.issue,
        first_published: json.first_published,
        copyright: json.copyright,
        access: json.access,
    })
}

pub(crate) fn story_content(story: &Story) -> Result<String> {
    serde_json::to_string(&story.to_json())
        .map_err(|e| corrupt(format_args!("story {}: {e}", story.slug)))
}

pub(crate) fn tags_json(story: &Story) -> String {
    serde_json::to_string(&story.tags).unwrap_or_else(|_| "[]".to_owned())
}

/// `%"name"%` for `tags LIKE ... ESCAPE '\'`: the tag as a JSON string, with
/// LIKE's wildcards escaped.
pub(crate) fn tag_pattern(tag: &str) -> String {
    let json = serde_json::to_string(tag).unwrap_or_default();
    let mut out = String::from("%");
    for c in json.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `%text%` for `lower(headline) LIKE ... ESCAPE '\'`.
pub(crate) fn text_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub(crate) fn number(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| corrupt(format_args!("{what} {n}")))
}

/// The newsroom over one backend: `$store` the store type, `$import` its import
/// transaction type (fields `tx` and `cache`).
macro_rules! newsroom_impl {
    ($store:ident, $import:ident) => {
        mod newsroom_sql {
            use std::collections::HashSet;

            use async_trait::async_trait;
            use bulletin_core::staff::Role;
            use bulletin_core::{IssueRef, IssueStatus, Story};
            use sqlx::Row as _;

            use super::{$import, $store};
            use crate::common::{TxCache, corrupt, parse_date};
            use crate::newsroom::{
                Actor, ApiToken, AuditEntry, DeskEntry, DeskQuery, DeskState, DeskStory, HistoryEntry,
                IssueDesk, IssueSummary, Newsroom, SaveOutcome, Session, number,
                story_content, story_from_content, tag_pattern, tags_json, text_pattern,
            };
            use crate::{ImportTx, PutOutcome, Result, StoreError};

            type Tx = sqlx::Transaction<'static, <$store as crate::newsroom::Backend>::Db>;

            fn refused(message: String) -> StoreError {
                StoreError::Refused(message)
            }

            fn not_found(what: &'static str, key: impl ToString) -> StoreError {
                StoreError::NotFound {
                    what,
                    key: key.to_string(),
                }
            }

            fn issue_status(s: &str) -> Result<IssueStatus> {
                IssueStatus::parse(s).ok_or_else(|| corrupt(format_args!("issue status {s:?}")))
            }

            fn date_of(s: Option<String>) -> Result<Option<bulletin_core::Date>> {
                s.as_deref().map(parse_date).transpose()
            }

            // Both lists name their table `x`, so that filters apply to either.
            const DESK_DRAFTS: &str = "SELECT x.slug, x.headline, x.dateline_date, x.issue_number,
                    'draft' AS state, x.updated_at AS sort_at,
                    (SELECT h.actor FROM story_history h
                     WHERE h.slug = x.slug AND h.number = 1 AND h.user_id IS NOT NULL) AS author,
                    x.status AS waiting, x.publish_at AS publish_at
                 FROM drafts x";
            const DESK_STORIES: &str = "SELECT x.slug, x.headline,
                    CAST(x.dateline_date AS TEXT) AS dateline_date, x.issue_number,
                    'published' AS state, 0 AS sort_at,
                    (SELECT h.actor FROM story_history h
                     WHERE h.slug = x.slug AND h.number = 1 AND h.user_id IS NOT NULL) AS author,
                    'publish' AS waiting, CAST(NULL AS BIGINT) AS publish_at
                 FROM stories x";

            /// `CAST(expr AS <the backend's type of issues.date>)`.
            fn date_cast(expr: &str) -> String {
                format!("CAST({expr} AS {})", <$store as crate::newsroom::Backend>::DATE_TYPE)
            }

            /// `CAST(expr AS <the backend's type of created_at and changes.at>)`.
            fn time_cast(expr: &str) -> String {
                format!("CAST({expr} AS {})", <$store as crate::newsroom::Backend>::TIME_TYPE)
            }

            /// The public story with this slug, read inside `tx`.
            async fn public_story(tx: &mut Tx, slug: &str) -> Result<Option<Story>> {
                let sql = format!("SELECT {} FROM stories WHERE slug = $1", super::STORY_COLUMNS);
                match sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(slug)
                    .fetch_optional(&mut **tx)
                    .await?
                {
                    Some(row) => Ok(Some(super::story_row(&row)?.into_story()?)),
                    None => Ok(None),
                }
            }

            fn desk_entry(row: &<<$store as crate::newsroom::Backend>::Db as sqlx::Database>::Row) -> Result<DeskEntry> {
                let issue: i64 = row.try_get("issue_number")?;
                let state: String = row.try_get("state")?;
                let date: String = row.try_get("dateline_date")?;
                Ok(DeskEntry {
                    slug: row.try_get("slug")?,
                    headline: row.try_get("headline")?,
                    date: parse_date(&date)?,
                    issue: u32::try_from(issue).ok(),
                    state: DeskState::parse(&state)
                        .ok_or_else(|| corrupt(format_args!("desk state {state:?}")))?,
                    author: row.try_get("author")?,
                    waiting: row.try_get("waiting")?,
                    publish_at: row.try_get("publish_at")?,
                })
            }

            fn api_token_row(
                row: &<<$store as crate::newsroom::Backend>::Db as sqlx::Database>::Row,
            ) -> Result<ApiToken> {
                let revoked: Option<i64> = row.try_get("revoked_at")?;
                Ok(ApiToken {
                    id: row.try_get("id")?,
                    user_id: row.try_get("user_id")?,
                    name: row.try_get("name")?,
                    scopes: row.try_get("scopes")?,
                    created_at: row.try_get("created_at")?,
                    last_used_at: row.try_get("last_used_at")?,
                    revoked: revoked.is_some(),
                })
            }

            async fn audit(
                tx: &mut Tx,
                actor: &Actor,
                action: &str,
                entity: &str,
                key: &str,
                detail: &str,
                now: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO audit_log (at, user_id, actor, action, entity, key, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(now)
                .bind(actor.user_id)
                .bind(&actor.name)
                .bind(action)
                .bind(entity)
                .bind(key)
                .bind(detail)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn version(tx: &mut Tx, slug: &str) -> Result<u32> {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(number), 0) FROM story_history WHERE slug = $1",
                )
                .bind(slug)
                .fetch_one(&mut **tx)
                .await?;
                number(n, "version")
            }

            async fn add_history(
                tx: &mut Tx,
                story: &Story,
                number: u32,
                actor: &Actor,
                action: &str,
                now: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO story_history (slug, number, content, user_id, actor, action, at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&story.slug)
                .bind(i64::from(number))
                .bind(story_content(story)?)
                .bind(actor.user_id)
                .bind(&actor.name)
                .bind(action)
                .bind(now)
                .execute(&mut **tx)
                .await
                .map_err(|e| match &e {
                    // Two saves raced past the version check (PostgreSQL
                    // without the write lock would get here): the loser conflicts.
                    sqlx::Error::Database(db) if db.is_unique_violation() => {
                        StoreError::Refused(format!(
                            "story {:?} was saved by someone else at the same moment",
                            story.slug
                        ))
                    }
                    _ => e.into(),
                })?;
                Ok(())
            }

            async fn draft_of(tx: &mut Tx, slug: &str) -> Result<Option<(Story, i64, i64)>> {
                let row = sqlx::query(
                    "SELECT content, issue_number, issue_position FROM drafts WHERE slug = $1",
                )
                .bind(slug)
                .fetch_optional(&mut **tx)
                .await?;
                match row {
                    Some(row) => {
                        let content: String = row.try_get("content")?;
                        Ok(Some((
                            story_from_content(slug, &content)?,
                            row.try_get("issue_number")?,
                            row.try_get("issue_position")?,
                        )))
                    }
                    None => Ok(None),
                }
            }

            async fn insert_draft(
                tx: &mut Tx,
                story: &Story,
                issue_number: i64,
                position: i64,
                now: i64,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO drafts (slug, headline, dateline_date, tags, issue_number,
                         issue_position, content, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
                )
                .bind(&story.slug)
                .bind(&story.headline)
                .bind(story.dateline.date.to_string())
                .bind(tags_json(story))
                .bind(issue_number)
                .bind(position)
                .bind(story_content(story)?)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            async fn update_draft(tx: &mut Tx, story: &Story, now: i64) -> Result<()> {
                sqlx::query(
                    "UPDATE drafts SET headline = $2, dateline_date = $3, tags = $4,
                         content = $5, updated_at = $6
                     WHERE slug = $1",
                )
                .bind(&story.slug)
                .bind(&story.headline)
                .bind(story.dateline.date.to_string())
                .bind(tags_json(story))
                .bind(story_content(story)?)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                Ok(())
            }

            /// Issue number, date and status.
            async fn issue_head(
                tx: &mut Tx,
                number: u32,
            ) -> Result<Option<(Option<bulletin_core::Date>, IssueStatus)>> {
                let sql = format!(
                    "SELECT {} AS date, status FROM issues WHERE number = $1",
                    "CAST(date AS TEXT)"
                );
                let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(i64::from(number))
                    .fetch_optional(&mut **tx)
                    .await?;
                match row {
                    Some(row) => {
                        let status: String = row.try_get("status")?;
                        Ok(Some((date_of(row.try_get("date")?)?, issue_status(&status)?)))
                    }
                    None => Ok(None),
                }
            }

            /// Where a draft added to issue `number` goes: after its last draft.
            async fn next_draft_position(tx: &mut Tx, number: u32) -> Result<i64> {
                let max: i64 = sqlx::query_scalar(
                    "SELECT COALESCE(MAX(issue_position), 0) FROM drafts WHERE issue_number = $1",
                )
                .bind(i64::from(number))
                .fetch_one(&mut **tx)
                .await?;
                Ok(max + 1)
            }

            /// A slug free among public stories, drafts and every story that ever
            /// had a history (so a new story never inherits an old one's saves).
            /// Point lookups on the three slug indexes, candidate by candidate:
            /// cheap however large the archive (a prefix scan was not, on SQLite).
            async fn free_slug(tx: &mut Tx, base: &str) -> Result<String> {
                let base = if base.is_empty() { "story" } else { base };
                for n in 1u64.. {
                    let candidate = if n == 1 {
                        base.to_owned()
                    } else {
                        format!("{base}-{n}")
                    };
                    let taken: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM (
                             SELECT 1 AS x FROM stories WHERE slug = $1
                             UNION ALL SELECT 1 FROM drafts WHERE slug = $1
                             UNION ALL SELECT 1 FROM story_history WHERE slug = $1
                         ) AS t",
                    )
                    .bind(&candidate)
                    .fetch_one(&mut **tx)
                    .await?;
                    if taken == 0 {
                        return Ok(candidate);
                    }
                }
                Err(corrupt("no free slug"))
            }

            /// Puts `stories` (drafts, in order) into `stories` inside `import`,
            /// checking that each goes in as new under its own slug.
            async fn go_public(import: &mut $import, stories: Vec<Story>) -> Result<()> {
                if stories.is_empty() {
                    return Ok(());
                }
                let keys: Vec<String> = stories.iter().map(Story::natural_key).collect();
                for (story, key) in stories.iter().zip(&keys) {
                    let other: Option<String> =
                        sqlx::query_scalar("SELECT slug FROM stories WHERE natural_key = $1")
                            .bind(key)
                            .fetch_optional(&mut *import.tx)
                            .await?;
                    if let Some(other) = other {
                        return Err(refused(format!(
                            "{:?} has the same headline, date and issue as the published \
                             story {other:?}: change one of them first",
                            story.headline
                        )));
                    }
                }
                let slugs: Vec<String> = stories.iter().map(|s| s.slug.clone()).collect();
                let outcomes = import.put_stories(stories).await?;
                for (slug, outcome) in slugs.iter().zip(outcomes) {
                    match outcome {
                        PutOutcome::New { slug: got } if &got == slug => {}
                        other => {
                            return Err(corrupt(format_args!(
                                "publishing {slug:?} gave {other:?}"
                            )));
                        }
                    }
                }
                Ok(())
            }

            /// Moves an issue's drafts into `stories` and marks it published.
            /// `claim`: only if it is still scheduled (the scheduler's claim).
            /// `None` when the claim found it no longer scheduled.
            async fn publish_in(
                import: &mut $import,
                number: u32,
                claim: bool,
                actor: &Actor,
                now: i64,
            ) -> Result<Option<u64>> {
                let head = issue_head(&mut import.tx, number).await?;
                let Some((date, status)) = head else {
                    return Err(not_found("issue", number));
                };
                if claim {
                    let claimed = sqlx::query(
                        "UPDATE issues SET status = 'published', publish_at = NULL
                         WHERE number = $1 AND status = 'scheduled'",
                    )
                    .bind(i64::from(number))
                    .execute(&mut *import.tx)
                    .await?
                    .rows_affected();
                    if claimed == 0 {
                        return Ok(None);
                    }
                } else if status == IssueStatus::Published {
                    return Err(refused(format!("issue {number} is already published")));
                }
                let Some(date) = date else {
                    return Err(refused(format!(
                        "issue {number} has no date: give it one before publishing"
                    )));
                };
                let rows = sqlx::query(
                    "SELECT slug, content FROM drafts WHERE issue_number = $1
                     ORDER BY issue_position, id",
                )
                .bind(i64::from(number))
                .fetch_all(&mut *import.tx)
                .await?;
                let mut stories = Vec::with_capacity(rows.len());
                for row in &rows {
                    let slug: String = row.try_get("slug")?;
                    let content: String = row.try_get("content")?;
                    let mut story = story_from_content(&slug, &content)?;
                    story.issue = Some(IssueRef {
                        number,
                        date: Some(date),
                    });
                    story.validate().map_err(|source| StoreError::InvalidStory {
                        slug: slug.clone(),
                        source,
                    })?;
                    stories.push(story);
                }
                let n = stories.len() as u64;
                // Published first: stories go public into published issues only.
                // (This logs the issue change that search and caches follow.)
                import
                    .set_issue_status(number, IssueStatus::Published)
                    .await?;
                go_public(import, stories).await?;
                sqlx::query("DELETE FROM drafts WHERE issue_number = $1")
                    .bind(i64::from(number))
                    .execute(&mut *import.tx)
                    .await?;
                audit(
                    &mut import.tx,
                    actor,
                    "publish",
                    "issue",
                    &number.to_string(),
                    &format!("{n} stories"),
                    now,
                )
                .await?;
                Ok(Some(n))
            }

            /// Moves one draft into `stories` (its issue, if any, must be published).
            async fn publish_draft_in(
                import: &mut $import,
                slug: &str,
                actor: &Actor,
                now: i64,
            ) -> Result<()> {
                let Some((mut story, issue_number, _)) = draft_of(&mut import.tx, slug).await?
                else {
                    return Err(match public_story(&mut import.tx, slug).await? {
                        Some(_) => refused(format!("story {slug:?} is already published")),
                        None => not_found("story", slug),
                    });
                };
                if let Ok(n) = u32::try_from(issue_number) {
                    match issue_head(&mut import.tx, n).await? {
                        Some((date, IssueStatus::Published)) => {
                            story.issue = Some(IssueRef { number: n, date });
                        }
                        _ => {
                            return Err(refused(format!(
                                "story {slug:?} is in issue {n}, which is not published: \
                                 publish the issue"
                            )));
                        }
                    }
                }
                story.validate().map_err(|source| StoreError::InvalidStory {
                    slug: slug.to_owned(),
                    source,
                })?;
                go_public(import, vec![story]).await?;
                sqlx::query("DELETE FROM drafts WHERE slug = $1")
                    .bind(slug)
                    .execute(&mut *import.tx)
                    .await?;
                audit(&mut import.tx, actor, "publish", "story", slug, "", now).await?;
                Ok(())
            }

            impl $store {
                async fn begin_newsroom(&self) -> Result<$import> {
                    Ok($import {
                        tx: self.begin_write().await?,
                        cache: TxCache::default(),
                    })
                }
            }

            #[async_trait]
            impl Newsroom for $store {
                async fn create_session(
                    &self,
                    id_hash: &str,
                    user_id: i64,
                    csrf_token: &str,
                    now: i64,
                ) -> Result<()> {
                    sqlx::query(
                        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at,
                             last_seen_at)
                         VALUES ($1, $2, $3, $4, $4)",
                    )
                    .bind(id_hash)
                    .bind(user_id)
                    .bind(csrf_token)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                    Ok(())
                }

                async fn session(&self, id_hash: &str) -> Result<Option<Session>> {
                    let row = sqlx::query(
                        "SELECT s.user_id, u.email, u.role, s.csrf_token, s.created_at,
                                s.last_seen_at
                         FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.id_hash = $1 AND NOT u.disabled",
                    )
                    .bind(id_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let role: String = row.try_get("role")?;
                    Ok(Some(Session {
                        user_id: row.try_get("user_id")?,
                        email: row.try_get("email")?,
                        role: Role::parse(&role)
                            .ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
                        csrf_token: row.try_get("csrf_token")?,
                        created_at: row.try_get("created_at")?,
                        last_seen_at: row.try_get("last_seen_at")?,
                    }))
                }

                async fn touch_session(&self, id_hash: &str, now: i64) -> Result<()> {
                    sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
                        .bind(id_hash)
                        .bind(now)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn delete_session(&self, id_hash: &str) -> Result<()> {
                    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
                        .bind(id_hash)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn delete_user_sessions(&self, user_id: i64) -> Result<u64> {
                    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                        .bind(user_id)
                        .execute(&self.pool)
                        .await?
                        .rows_affected())
                }

                async fn delete_expired_sessions(
                    &self,
                    created_before: i64,
                    seen_before: i64,
                ) -> Result<u64> {
                    Ok(sqlx::query(
                        "DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2",
                    )
                    .bind(created_before)
                    .bind(seen_before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
                }

                async fn create_api_token(
                    &self,
                    user_id: i64,
                    name: &str,
                    token_hash: &str,
                    scopes: &str,
                    now: i64,
                ) -> Result<ApiToken> {
                    let row = sqlx::query(
                        "INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at)
                         VALUES ($1, $2, $3, $4, $5)
                         RETURNING id, user_id, name, scopes, created_at, last_used_at, revoked_at",
                    )
                    .bind(user_id)
                    .bind(name)
                    .bind(token_hash)
                    .bind(scopes)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?;
                    api_token_row(&row)
                }

                async fn api_token(
                    &self,
                    token_hash: &str,
                    now: i64,
                ) -> Result<Option<(ApiToken, Session)>> {
                    let row = sqlx::query(
                        "SELECT t.id, t.user_id, t.name, t.scopes, t.created_at, t.last_used_at,
                                t.revoked_at, u.email, u.role
                         FROM api_tokens t JOIN users u ON u.id = t.user_id
                         WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND NOT u.disabled",
                    )
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let token = api_token_row(&row)?;
                    // One write a minute at most per token.
                    if token.last_used_at.is_none_or(|t| now - t >= 60) {
                        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
                            .bind(token.id)
                            .bind(now)
                            .execute(&self.pool)
                            .await?;
                    }
                    let role: String = row.try_get("role")?;
                    let session = Session {
                        user_id: token.user_id,
                        email: row.try_get("email")?,
                        role: Role::parse(&role)
                            .ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
                        csrf_token: String::new(),
                        created_at: token.created_at,
                        last_seen_at: now,
                    };
                    Ok(Some((token, session)))
                }

                async fn api_tokens(&self, user_id: i64) -> Result<Vec<ApiToken>> {
                    let rows = sqlx::query(
                        "SELECT id, user_id, name, scopes, created_at, last_used_at, revoked_at
                         FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
                    )
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter().map(api_token_row).collect()
                }

                async fn revoke_api_token(&self, user_id: i64, id: i64, now: i64) -> Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE api_tokens SET revoked_at = $3
                         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                    )
                    .bind(id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?
                    .rows_affected()
                        > 0)
                }

                async fn record_login_failure(
                    &self,
                    key: &str,
                    at: i64,
                    forget_before: i64,
                ) -> Result<()> {
                    sqlx::query("DELETE FROM login_failures WHERE key = $1 AND at < $2")
                        .bind(key)
                        .bind(forget_before)
                        .execute(&self.pool)
                        .await?;
                    sqlx::query("INSERT INTO login_failures (key, at) VALUES ($1, $2)")
                        .bind(key)
                        .bind(at)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn login_failures(&self, key: &str, since: i64) -> Result<u64> {
                    let n: i64 = sqlx::query_scalar(
                        "SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2",
                    )
                    .bind(key)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }

                async fn clear_login_failures(&self, key: &str) -> Result<()> {
                    sqlx::query("DELETE FROM login_failures WHERE key = $1")
                        .bind(key)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                }

                async fn desk(&self, q: &DeskQuery) -> Result<(Vec<DeskEntry>, u64)> {
                    // Filters in a fixed order with fixed parameter numbers; an unset
                    // filter binds NULL and drops out.
                    let filters = " WHERE ($1 IS NULL OR x.tags LIKE $1 ESCAPE '\\')
                          AND ($2 IS NULL OR x.issue_number = $2)
                          AND ($3 IS NULL OR lower(x.headline) LIKE $3 ESCAPE '\\')
                          AND ($4 IS NULL OR EXISTS (SELECT 1 FROM story_history h
                               WHERE h.slug = x.slug AND h.number = 1 AND h.actor = $4
                               AND h.user_id IS NOT NULL))";
                    let drafts = format!("{DESK_DRAFTS}{filters}");
                    let stories = format!("{DESK_STORIES}{filters}");
                    let inner = match q.state {
                        Some(DeskState::Draft) => drafts,
                        Some(DeskState::Published) => stories,
                        None => format!("{drafts} UNION ALL {stories}"),
                    };
                    let limit = match q.limit {
                        0 => 50,
                        n => n.min(500),
                    };
                    let tag = q.tag.as_deref().map(tag_pattern);
                    let issue = q.issue.map(i64::from);
                    let text = q.text.as_deref().filter(|t| !t.is_empty()).map(text_pattern);
                    let author = q.author.clone();
                    let list = format!(
                        "SELECT * FROM ({inner}) AS y
                         ORDER BY state, sort_at DESC, dateline_date DESC, slug
                         LIMIT $5 OFFSET $6"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(list))
                        .bind(tag.clone())
                        .bind(issue)
                        .bind(text.clone())
                        .bind(author.clone())
                        .bind(i64::from(limit))
                        .bind(i64::from(q.offset))
                        .fetch_all(&self.pool)
                        .await?;
                    let entries = rows.iter().map(desk_entry).collect::<Result<Vec<_>>>()?;
                    let count = format!("SELECT count(*) FROM ({inner}) AS y");
                    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count))
                        .bind(tag)
                        .bind(issue)
                        .bind(text)
                        .bind(author)
                        .fetch_one(&self.pool)
                        .await?;
                    Ok((entries, u64::try_from(total).unwrap_or(0)))
                }

                async fn desk_story(&self, slug: &str) -> Result<Option<DeskStory>> {
                    // One read transaction, so the story and its version agree.
                    let mut tx = self.pool.begin().await?;
                    let found = match draft_of(&mut tx, slug).await? {
                        Some((story, _, _)) => Some((story, DeskState::Draft)),
                        None => public_story(&mut tx, slug)
                            .await?
                            .map(|s| (s, DeskState::Published)),
                    };
                    let Some((story, state)) = found else {
                        return Ok(None);
                    };
                    let version = version(&mut tx, slug).await?;
                    let author: Option<String> = sqlx::query_scalar(
                        "SELECT actor FROM story_history
                         WHERE slug = $1 AND number = 1 AND user_id IS NOT NULL",
                    )
                    .bind(slug)
                    .fetch_optional(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(Some(DeskStory {
                        story,
                        state,
                        version,
                        author,
                    }))
                }

                async fn save_story(
                    &self,
                    mut story: Story,
                    base: Option<u32>,
                    action: &str,
                    actor: &Actor,
                    now: i64,
                ) -> Result<SaveOutcome> {
                    let invalid = |story: &Story, source| StoreError::InvalidStory {
                        slug: story.slug.clone(),
                        source,
                    };
                    let mut import = self.begin_newsroom().await?;
                    let Some(base) = base else {
                        // A new draft, in its issue if it names one.
                        story.slug = free_slug(&mut import.tx, &story.slug).await?;
                        story.validate().map_err(|e| invalid(&story, e))?;
                        let (issue_number, position) = match story.issue {
                            Some(r) => {
                                // In a published issue too: it waits as a draft
                                // until it is published itself.
                                let Some((date, _)) =
                                    issue_head(&mut import.tx, r.number).await?
                                else {
                                    return Err(not_found("issue", r.number));
                                };
                                story.issue = Some(IssueRef {
                                    number: r.number,
                                    date,
                                });
                                (
                                    i64::from(r.number),
                                    next_draft_position(&mut import.tx, r.number).await?,
                                )
                            }
                            None => (-1, 0),
                        };
                        insert_draft(&mut import.tx, &story, issue_number, position, now).await?;
                        add_history(&mut import.tx, &story, 1, actor, "create", now).await?;
                        audit(&mut import.tx, actor, "create", "story", &story.slug, "", now)
                            .await?;
                        import.tx.commit().await?;
                        return Ok(SaveOutcome::Saved {
                            slug: story.slug,
                            version: 1,
                        });
                    };
                    let current = version(&mut import.tx, &story.slug).await?;
                    if current != base {
                        drop(import);
                        let Some(now_story) = self.desk_story(&story.slug).await? else {
                            return Err(not_found("story", &story.slug));
                        };
                        let history = self.history(&story.slug).await?;
                        let base_story = history
                            .iter()
                            .find(|h| h.number == base)
                            .map(|h| Box::new(h.story.clone()));
                        let by = history
                            .last()
                            .map(|h| h.actor.clone())
                            .unwrap_or_default();
                        return Ok(SaveOutcome::Conflict {
                            current: Box::new(now_story),
                            base: base_story,
                            by,
                        });
                    }
                    // A story keeps its issue here: the issue builder moves a
                    // draft, and moving a public story is unpublishing it.
                    let (old, is_draft) = match draft_of(&mut import.tx, &story.slug).await? {
                        Some((old, issue_number, _)) => {
                            story.issue = match u32::try_from(issue_number) {
                                Ok(n) => {
                                    let date = issue_head(&mut import.tx, n).await?.and_then(|h| h.0);
                                    Some(IssueRef { number: n, date })
                                }
                                Err(_) => None,
                            };
                            (old, true)
                        }
                        None => {
                            let Some(old) = public_story(&mut import.tx, &story.slug).await? else {
                                return Err(not_found("story", &story.slug));
                            };
                            story.issue = old.issue;
                            (old, false)
                        }
                    };
                    story.validate().map_err(|e| invalid(&story, e))?;
                    // On its first edit, the text as imported becomes version 1.
                    let next = if current == 0 {
                        add_history(&mut import.tx, &old, 1, &Actor::system("import"), "import", now)
                            .await?;
                        2
                    } else {
                        current + 1
                    };
                    if is_draft {
                        update_draft(&mut import.tx, &story, now).await?;
                    } else {
                        // Point the stored row at the new natural key, so that
                        // put_stories updates it (keeping the slug and the old
                        // text as a revision) instead of adding a story.
                        let key = story.natural_key();
                        let other: Option<String> = sqlx::query_scalar(
                            "SELECT slug FROM stories WHERE natural_key = $1 AND slug <> $2",
                        )
                        .bind(&key)
                        .bind(&story.slug)
                        .fetch_optional(&mut *import.tx)
                        .await?;
                        if let Some(other) = other {
                            return Err(refused(format!(
                                "the published story {other:?} already has this headline, \
                                 date and issue"
                            )));
                        }
                        sqlx::query("UPDATE stories SET natural_key = $1 WHERE slug = $2")
                            .bind(&key)
                            .bind(&story.slug)
                            .execute(&mut *import.tx)
                            .await?;
                        import.put_stories(vec![story.clone()]).await?;
                    }
                    add_history(&mut import.tx, &story, next, actor, action, now).await?;
                    import.tx.commit().await?;
                    Ok(SaveOutcome::Saved {
                        slug: story.slug,
                        version: next,
                    })
                }

                async fn history(&self, slug: &str) -> Result<Vec<HistoryEntry>> {
                    let rows = sqlx::query(
                        "SELECT number, content, actor, action, at FROM story_history
                         WHERE slug = $1 ORDER BY number",
                    )
                    .bind(slug)
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let content: String = row.try_get("content")?;
                            Ok(HistoryEntry {
                                number: number(row.try_get("number")?, "history number")?,
                                story: story_from_content(slug, &content)?,
                                actor: row.try_get("actor")?,
                                action: row.try_get("action")?,
                                at: row.try_get("at")?,
                            })
                        })
                        .collect()
                }

                async fn publish_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    publish_draft_in(&mut import, slug, actor, now).await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn unpublish_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    let Some(story) = public_story(&mut import.tx, slug).await? else {
                        return Err(match draft_of(&mut import.tx, slug).await? {
                            Some(_) => refused(format!("story {slug:?} is not published")),
                            None => not_found("story", slug),
                        });
                    };
                    let position: i64 =
                        sqlx::query_scalar(
                            "SELECT CAST(issue_position AS BIGINT) FROM stories WHERE slug = $1",
                        )
                            .bind(slug)
                            .fetch_one(&mut *import.tx)
                            .await?;
                    let issue = story.issue.map_or(-1, |r| i64::from(r.number));
                    import.delete_story(slug).await?;
                    insert_draft(&mut import.tx, &story, issue, position, now).await?;
                    audit(&mut import.tx, actor, "unpublish", "story", slug, "", now).await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn delete_desk_story(&self, slug: &str, actor: &Actor, now: i64) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    let draft = sqlx::query("DELETE FROM drafts WHERE slug = $1")
                        .bind(slug)
                        .execute(&mut *import.tx)
                        .await?
                        .rows_affected();
                    let public = import.delete_story(slug).await?;
                    if draft == 0 && !public {
                        return Err(not_found("story", slug));
                    }
                    audit(&mut import.tx, actor, "delete", "story", slug, "", now).await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn issue_list(&self) -> Result<Vec<IssueSummary>> {
                    let sql = format!(
                        "SELECT i.number, {} AS date, i.status, i.publish_at,
                             (SELECT count(*) FROM stories s WHERE s.issue_id = i.id)
                             + (SELECT count(*) FROM drafts d WHERE d.issue_number = i.number)
                             AS n
                         FROM issues i ORDER BY i.number DESC",
                        "CAST(i.date AS TEXT)"
                    );
                    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            let status: String = row.try_get("status")?;
                            let n: i64 = row.try_get("n")?;
                            Ok(IssueSummary {
                                number: number(row.try_get("number")?, "issue number")?,
                                date: date_of(row.try_get("date")?)?,
                                status: issue_status(&status)?,
                                publish_at: row.try_get("publish_at")?,
                                stories: u64::try_from(n).unwrap_or(0),
                            })
                        })
                        .collect()
                }

                async fn issue_desk(&self, number: u32) -> Result<Option<IssueDesk>> {
                    let sql = format!(
                        "SELECT {} AS date, status, publish_at FROM issues WHERE number = $1",
                        "CAST(date AS TEXT)"
                    );
                    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(i64::from(number))
                    .fetch_optional(&self.pool)
                    .await?;
                    let Some(row) = row else { return Ok(None) };
                    let status: String = row.try_get("status")?;
                    let sql = format!(
                        "SELECT * FROM ({DESK_DRAFTS} WHERE x.issue_number = $1) AS a
                         UNION ALL SELECT * FROM ({DESK_STORIES} WHERE x.issue_number = $1) AS b"
                    );
                    let mut positions = sqlx::query(
                        "SELECT slug, issue_position FROM drafts WHERE issue_number = $1
                         UNION ALL SELECT slug, CAST(issue_position AS BIGINT) FROM stories
                         WHERE issue_number = $1",
                    )
                    .bind(i64::from(number))
                    .fetch_all(&self.pool)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get::<String, _>("slug")?, r.try_get::<i64, _>("issue_position")?)))
                    .collect::<Result<std::collections::HashMap<String, i64>>>()?;
                    let mut stories = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(i64::from(number))
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(desk_entry)
                        .collect::<Result<Vec<_>>>()?;
                    // Public stories first (they went out in that order), then drafts.
                    stories.sort_by_key(|e| {
                        (
                            e.state == DeskState::Draft,
                            positions.remove(&e.slug).unwrap_or(i64::MAX),
                        )
                    });
                    Ok(Some(IssueDesk {
                        number,
                        date: date_of(row.try_get("date")?)?,
                        status: issue_status(&status)?,
                        publish_at: row.try_get("publish_at")?,
                        stories,
                    }))
                }

                async fn create_issue(
                    &self,
                    number: u32,
                    date: Option<bulletin_core::Date>,
                    actor: &Actor,
                    now: i64,
                ) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    let at = jiff::Timestamp::from_second(now)
                        .map_err(|e| corrupt(format_args!("time {now}: {e}")))?
                        .to_string();
                    let sql = format!(
                        "INSERT INTO issues (number, date, status, created_at, updated_at)
                         SELECT $1, {}, 'draft', {t}, {t}
                         WHERE NOT EXISTS (SELECT 1 FROM issues WHERE number = $1)",
                        date_cast("$2"),
                        t = time_cast("$3"),
                    );
                    let inserted = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(i64::from(number))
                    .bind(date.map(|d| d.to_string()))
                    .bind(&at)
                    .execute(&mut *import.tx)
                    .await?
                    .rows_affected();
                    if inserted == 0 {
                        return Err(StoreError::Duplicate {
                            what: "issue",
                            key: number.to_string(),
                        });
                    }
                    let sql = format!(
                        "INSERT INTO changes (entity, key, op, at) VALUES ('issue', $1, 'insert', {})",
                        time_cast("$2")
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(number.to_string())
                    .bind(&at)
                    .execute(&mut *import.tx)
                    .await?;
                    audit(&mut import.tx, actor, "create", "issue", &number.to_string(), "", now)
                        .await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn set_issue_date(
                    &self,
                    number: u32,
                    date: Option<bulletin_core::Date>,
                    actor: &Actor,
                    now: i64,
                ) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    match issue_head(&mut import.tx, number).await? {
                        None => return Err(not_found("issue", number)),
                        Some((_, IssueStatus::Published)) => {
                            return Err(refused(format!(
                                "issue {number} is published: unpublish it to change its date"
                            )));
                        }
                        Some(_) => {}
                    }
                    let sql = format!(
                        "UPDATE issues SET date = {} WHERE number = $1",
                        date_cast("$2")
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(i64::from(number))
                        .bind(date.map(|d| d.to_string()))
                        .execute(&mut *import.tx)
                        .await?;
                    let slugs: Vec<String> =
                        sqlx::query_scalar("SELECT slug FROM drafts WHERE issue_number = $1")
                            .bind(i64::from(number))
                            .fetch_all(&mut *import.tx)
                            .await?;
                    for slug in slugs {
                        if let Some((mut story, _, _)) = draft_of(&mut import.tx, &slug).await? {
                            story.issue = Some(IssueRef { number, date });
                            sqlx::query("UPDATE drafts SET content = $2 WHERE slug = $1")
                                .bind(&slug)
                                .bind(story_content(&story)?)
                                .execute(&mut *import.tx)
                                .await?;
                        }
                    }
                    let detail = date.map(|d| d.to_string()).unwrap_or_else(|| "unknown".into());
                    audit(&mut import.tx, actor, "date", "issue", &number.to_string(), &detail, now)
                        .await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn set_issue_stories(
                    &self,
                    number: u32,
                    slugs: &[String],
                    actor: &Actor,
                    now: i64,
                ) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    let Some((date, status)) = issue_head(&mut import.tx, number).await? else {
                        return Err(not_found("issue", number));
                    };
                    if status == IssueStatus::Published {
                        return Err(refused(format!(
                            "issue {number} is published: unpublish it to change its stories"
                        )));
                    }
                    let mut seen = HashSet::new();
                    for slug in slugs {
                        if !seen.insert(slug) {
                            return Err(refused(format!("story {slug:?} is listed twice")));
                        }
                    }
                    // Out first, then in, in order.
                    let current: Vec<String> =
                        sqlx::query_scalar("SELECT slug FROM drafts WHERE issue_number = $1")
                            .bind(i64::from(number))
                            .fetch_all(&mut *import.tx)
                            .await?;
                    for slug in current.iter().filter(|s| !seen.contains(s)) {
                        if let Some((mut story, _, _)) = draft_of(&mut import.tx, slug).await? {
                            story.issue = None;
                            sqlx::query(
                                "UPDATE drafts SET issue_number = -1, issue_position = 0,
                                     content = $2, updated_at = $3 WHERE slug = $1",
                            )
                            .bind(slug)
                            .bind(story_content(&story)?)
                            .bind(now)
                            .execute(&mut *import.tx)
                            .await?;
                        }
                    }
                    for (i, slug) in slugs.iter().enumerate() {
                        let Some((mut story, issue_number, _)) =
                            draft_of(&mut import.tx, slug).await?
                        else {
                            return Err(match public_story(&mut import.tx, slug).await? {
                                Some(s) => refused(format!(
                                    "story {slug:?} is already published{}",
                                    s.issue
                                        .map(|r| format!(" in issue {}", r.number))
                                        .unwrap_or_default()
                                )),
                                None => not_found("story", slug),
                            });
                        };
                        if issue_number >= 0 && issue_number != i64::from(number) {
                            return Err(refused(format!(
                                "story {slug:?} is already in issue {issue_number}: \
                                 take it out of that issue first"
                            )));
                        }
                        story.issue = Some(IssueRef { number, date });
                        sqlx::query(
                            "UPDATE drafts SET issue_number = $2, issue_position = $3,
                                 content = $4, updated_at = $5 WHERE slug = $1",
                        )
                        .bind(slug)
                        .bind(i64::from(number))
                        .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                        .bind(story_content(&story)?)
                        .bind(now)
                        .execute(&mut *import.tx)
                        .await?;
                    }
                    audit(
                        &mut import.tx,
                        actor,
                        "arrange",
                        "issue",
                        &number.to_string(),
                        &slugs.join(" "),
                        now,
                    )
                    .await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn publish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<u64> {
                    let mut import = self.begin_newsroom().await?;
                    let n = publish_in(&mut import, number, false, actor, now)
                        .await?
                        .unwrap_or(0);
                    import.tx.commit().await?;
                    Ok(n)
                }

                async fn schedule_issue(
                    &self,
                    number: u32,
                    at: i64,
                    actor: &Actor,
                    now: i64,
                ) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    match issue_head(&mut import.tx, number).await? {
                        None => return Err(not_found("issue", number)),
                        Some((_, IssueStatus::Published)) => {
                            return Err(refused(format!("issue {number} is already published")));
                        }
                        Some((None, _)) => {
                            return Err(refused(format!(
                                "issue {number} has no date: give it one before scheduling"
                            )));
                        }
                        Some(_) => {}
                    }
                    if at <= now {
                        return Err(refused("that time has passed: publish now instead".into()));
                    }
                    sqlx::query(
                        "UPDATE issues SET status = 'scheduled', publish_at = $2 WHERE number = $1",
                    )
                    .bind(i64::from(number))
                    .bind(at)
                    .execute(&mut *import.tx)
                    .await?;
                    let when = jiff::Timestamp::from_second(at)
                        .map(|t| t.to_string())
                        .unwrap_or_default();
                    audit(&mut import.tx, actor, "schedule", "issue", &number.to_string(), &when, now)
                        .await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn unpublish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<()> {
                    let mut import = self.begin_newsroom().await?;
                    match issue_head(&mut import.tx, number).await? {
                        None => return Err(not_found("issue", number)),
                        Some((_, IssueStatus::Draft)) => {
                            return Err(refused(format!("issue {number} is not published")));
                        }
                        Some(_) => {}
                    }
                    let rows = sqlx::query(
                        "SELECT slug, CAST(issue_position AS BIGINT) AS issue_position
                         FROM stories WHERE issue_number = $1 ORDER BY 2, id",
                    )
                    .bind(i64::from(number))
                    .fetch_all(&mut *import.tx)
                    .await?;
                    for row in &rows {
                        let slug: String = row.try_get("slug")?;
                        let position: i64 = row.try_get("issue_position")?;
                        let Some(story) = public_story(&mut import.tx, &slug).await? else {
                            continue;
                        };
                        import.delete_story(&slug).await?;
                        insert_draft(&mut import.tx, &story, i64::from(number), position, now)
                            .await?;
                    }
                    import.set_issue_status(number, IssueStatus::Draft).await?;
                    audit(
                        &mut import.tx,
                        actor,
                        "unpublish",
                        "issue",
                        &number.to_string(),
                        &format!("{} stories", rows.len()),
                        now,
                    )
                    .await?;
                    import.tx.commit().await?;
                    Ok(())
                }

                async fn publish_due(&self, now: i64) -> Result<Vec<u32>> {
                    let due: Vec<i64> = sqlx::query_scalar(
                        "SELECT number FROM issues WHERE status = 'scheduled' AND publish_at <= $1
                         ORDER BY publish_at, number",
                    )
                    .bind(now)
                    .fetch_all(&self.pool)
                    .await?;
                    let mut published = Vec::new();
                    for n in due {
                        let n = number(n, "issue number")?;
                        let mut import = self.begin_newsroom().await?;
                        let claimed =
                            publish_in(&mut import, n, true, &Actor::system("scheduler"), now)
                                .await?;
                        import.tx.commit().await?;
                        if claimed.is_some() {
                            published.push(n);
                        }
                    }
                    Ok(published)
                }

                async fn record_audit(
                    &self,
                    actor: &Actor,
                    action: &str,
                    entity: &str,
                    key: &str,
                    detail: &str,
                    now: i64,
                ) -> Result<()> {
                    let mut tx = self.pool.begin().await?;
                    audit(&mut tx, actor, action, entity, key, detail, now).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn audit_log(&self, offset: u32, limit: u32) -> Result<Vec<AuditEntry>> {
                    let rows = sqlx::query(
                        "SELECT id, at, actor, action, entity, key, detail FROM audit_log
                         ORDER BY id DESC LIMIT $1 OFFSET $2",
                    )
                    .bind(i64::from(limit.clamp(1, 500)))
                    .bind(i64::from(offset))
                    .fetch_all(&self.pool)
                    .await?;
                    rows.iter()
                        .map(|row| {
                            Ok(AuditEntry {
                                id: row.try_get("id")?,
                                at: row.try_get("at")?,
                                actor: row.try_get("actor")?,
                                action: row.try_get("action")?,
                                entity: row.try_get("entity")?,
                                key: row.try_get("key")?,
                                detail: row.try_get("detail")?,
                            })
                        })
                        .collect()
                }
            }

            crate::archive::archive_sql!($store, $import);
            crate::subscribers::subscribers_sql!($store, $import);
            crate::outbox::outbox_sql!($store);
        }
    };
}

pub(crate) use newsroom_impl;

/// What [`newsroom_impl!`] needs to know of a backend.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// The type of `issues.date`.
    const DATE_TYPE: &'static str;
    /// The type of the older tables' times (`created_at`, `changes.at`), which
    /// take RFC 3339 text.
    const TIME_TYPE: &'static str;
    /// `FOR UPDATE SKIP LOCKED` where the backend has row locks (PostgreSQL), so
    /// that workers claiming rows pass over each other's; empty for SQLite, whose
    /// writers take turns.
    const SKIP_LOCKED: &'static str;
    /// The type of `revisions.content`.
    const JSON_TYPE: &'static str;
    /// `column` (one of those times) as RFC 3339 text in UTC.
    fn time_text(column: &str) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(tag_pattern("50% off"), "%\"50\\% off\"%");
        assert_eq!(text_pattern("A_b"), "%a\\_b%");
    }
}
