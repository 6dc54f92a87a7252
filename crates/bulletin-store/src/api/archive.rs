//! The archive's way in and out: old addresses (redirects), drafts and tags brought
//! by imports, stories scheduled one by one, and the complete backup (read here,
//! restored through [`crate::ImportTx::restore`]).

use async_trait::async_trait;
use bulletin_core::backup::{
    BackupDraft, BackupHistory, BackupIssue, BackupStory, BackupSubscriber, BackupUser, Redirect,
};
use bulletin_core::{Publication, Story};

use crate::Actor;
use crate::Result;

/// A story an import brings in that is not public.
#[derive(Debug, Clone)]
pub struct NewDraft {
    pub story: Story,
    /// One of [`bulletin_core::backup::DRAFT_STATUSES`].
    pub status: &'static str,
    /// For "future": when it goes live (Unix seconds).
    pub publish_at: Option<i64>,
}

/// One part of a backup being restored, in the order a backup holds them.
#[derive(Debug, Clone)]
pub enum RestorePart {
    Publication(Publication),
    Users(Vec<BackupUser>),
    Subscribers(Vec<BackupSubscriber>),
    /// Created with their status and date; their story order is set by
    /// [`RestorePart::IssueOrder`] once the stories are in.
    Issues(Vec<BackupIssue>),
    Stories(Vec<BackupStory>),
    Drafts(Vec<BackupDraft>),
    History(Vec<BackupHistory>),
    IssueOrder(Vec<BackupIssue>),
}

/// Reads for redirects and backups, and the scheduler's per-story publishing.
#[async_trait]
pub trait Archive: Send + Sync {
    /// Where an old address (as [`Redirect::from`]) now lives, if that page is
    /// live: a redirect to a story that is not public (unpublished, deleted) or
    /// to a tag without public stories is answered as if it were not there.
    async fn redirect(&self, from: &str) -> Result<Option<String>>;
    /// Every stored redirect, live or not (for backups), ordered by `from`
    /// (byte order), after `after`, at most `limit`.
    async fn redirects(&self, after: &str, limit: u32) -> Result<Vec<Redirect>>;
    /// The redirects [`Archive::redirect`] would follow, as
    /// [`Archive::redirects`] pages them.
    async fn live_redirects(&self, after: &str, limit: u32) -> Result<Vec<Redirect>>;
    /// True when the store holds nothing but a publication: no story, draft,
    /// issue, tag, staff account, subscriber or redirect. Restoring a backup needs this.
    async fn is_empty(&self) -> Result<bool>;
    /// Every issue with its scheduled time and public stories, by number.
    async fn backup_issues(&self) -> Result<Vec<BackupIssue>>;
    /// Every staff account, oldest first, with its password hash.
    async fn backup_users(&self) -> Result<Vec<BackupUser>>;
    /// The backup records of `stories` (public stories as [`crate::Store::stories`]
    /// read them, a page at a time): each with its times and revisions, in the
    /// same order. Two queries a page, whatever its size.
    async fn backup_stories(&self, stories: Vec<Story>) -> Result<Vec<BackupStory>>;
    /// Drafts in storage order (by id), after the draft with id `after` (0: from
    /// the start), with their ids for the next call.
    async fn backup_drafts(&self, after: i64, limit: u32) -> Result<Vec<(i64, BackupDraft)>>;
    /// The newsroom's history by slug and number, after `after`.
    async fn backup_history(
        &self,
        after: Option<(String, u32)>,
        limit: u32,
    ) -> Result<Vec<BackupHistory>>;
    /// Publishes the drafts whose "future" time is at or before `now`: each is
    /// claimed once (several instances may run this), then published as
    /// [`crate::Newsroom::publish_story`] would; one that cannot be (its issue is
    /// not published) goes back to being a draft, with an audit entry saying why.
    /// Returns the slugs published.
    async fn publish_due_stories(&self, now: i64) -> Result<Vec<String>>;
}

/// Who imports are attributed to in the history and audit log.
pub fn import_actor() -> Actor {
    Actor::system("import")
}
