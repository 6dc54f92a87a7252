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

use async_trait::async_trait;
use bulletin_core::staff::Role;
use bulletin_core::{Date, IssueStatus, Story};

use crate::Result;

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

    // Sign-in throttling, per key ("account:EMAIL", "address:IP"); the site's
    // reader forms count their requests the same way.

    /// Counts one attempt under every limit's key, or under none: atomically,
    /// also across instances on one database, so parallel requests cannot all
    /// read a count below the limit before any of them is counted. First
    /// forgets each key's attempts older than `since`; then, if some key has
    /// `max` or more attempts at or after `since`, counts nothing and answers
    /// [`Reservation::Refused`] with the first such limit's index; otherwise
    /// counts one attempt at `now` under each key. Callers reserve before the
    /// work the limit guards (checking a password, sending a message).
    async fn reserve_attempt(
        &self,
        limits: &[AttemptLimit<'_>],
        now: i64,
        since: i64,
    ) -> Result<Reservation>;
    /// Gives back one attempt [`Newsroom::reserve_attempt`] counted (a sign-in
    /// that succeeded). Unknown ids are ignored.
    async fn release_attempt(&self, id: i64) -> Result<()>;
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

/// One limit an attempt counts against: at most `max` attempts under `key`
/// within the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttemptLimit<'a> {
    pub key: &'a str,
    pub max: u64,
}

/// What [`Newsroom::reserve_attempt`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// Counted under every key: one attempt id per limit, in the limits' order.
    Granted(Vec<i64>),
    /// The limit at this index was already reached; nothing was counted.
    Refused(usize),
}
