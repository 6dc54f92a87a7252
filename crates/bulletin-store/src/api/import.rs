//! Writes of archive content from outside the newsroom: imports and restores
//! through an all-or-nothing [`ImportTx`], and the publication's settings.

use async_trait::async_trait;
use bulletin_core::backup::Redirect;
use bulletin_core::{IssueStatus, Publication, Story, Tag};

use crate::{NewDraft, NewSubscriber, RestorePart, Result, SubscriberPut};

/// What `put_stories` did with one story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// Stored for the first time, under this (possibly `-2`-suffixed) slug.
    New { slug: String },
    /// Content differed; the earlier version was kept as a revision.
    Updated { slug: String },
    /// Identical to what is stored; nothing written.
    Unchanged { slug: String },
}

/// A story and the identity its source gives it: a WordPress post's ID on its
/// site, a Markdown file's path (`None`: the story has no source identity, as
/// bulletin text has none, and is matched on [`Story::natural_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedStory {
    pub story: Story,
    pub source: Option<String>,
}

/// Writes that every follower of the change log sees: imports, restores and the
/// publication's settings.
#[async_trait]
pub trait Import: Send + Sync {
    async fn set_publication(&self, publication: &Publication) -> Result<()>;

    /// Starts one all-or-nothing write: nothing is visible until `commit`, and
    /// dropping the transaction without committing discards everything.
    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>>;
}

/// An open all-or-nothing write.
#[async_trait]
pub trait ImportTx: Send {
    /// Inserts or updates stories, matched on [`Story::natural_key`]. New stories
    /// get a unique slug (`-2`, `-3` on collision); updated ones keep theirs and the
    /// earlier version becomes a revision; identical ones are left alone. Issues
    /// named by the stories are created or updated (a known date is never replaced
    /// by an unknown one); tags are created as needed. Outcomes are in input order.
    async fn put_stories(&mut self, stories: Vec<Story>) -> Result<Vec<PutOutcome>>;
    /// As [`put_stories`](ImportTx::put_stories), but a story with a source
    /// identity is matched on that identity alone: "updated" and "unchanged" mean
    /// the same source item imported again, and two items that share a natural
    /// key (two posts of one day under one slug) stay two stories, the later one
    /// under the next free slug (`-2`). A story stored without an identity (by an
    /// import from before identities were kept) whose natural key matches is
    /// taken as that item, once, and keeps the identity from then on.
    async fn put_sourced_stories(&mut self, stories: Vec<SourcedStory>) -> Result<Vec<PutOutcome>>;
    /// Deletes the story with this slug, its revisions and its index rows, and
    /// logs a `delete` change. `false` when there is no such story.
    async fn delete_story(&mut self, slug: &str) -> Result<bool>;
    /// Creates tags that do not exist (under their own slug when it is free) and
    /// sets the description of those that do, when one is given.
    async fn put_tags(&mut self, tags: Vec<Tag>) -> Result<()>;
    /// Adds stories that are not public to the newsroom, each under a free slug
    /// (returned in order), as version 1 of its history ("import"); one identical
    /// to the draft under its slug is not added again. A draft naming
    /// an issue waits in it (made as a draft issue if missing).
    async fn put_drafts(&mut self, drafts: Vec<NewDraft>, now: i64) -> Result<Vec<String>>;
    /// Adds old addresses (a later one for the same `from` replaces the earlier).
    async fn put_redirects(&mut self, redirects: Vec<Redirect>, now: i64) -> Result<()>;
    /// Restores one part of a backup into an empty store (see [`Archive::is_empty`](crate::Archive::is_empty));
    /// parts come in [`RestorePart`]'s order.
    async fn restore(&mut self, part: RestorePart) -> Result<()>;
    /// Adds or updates subscribers by address (outcomes in input order). An
    /// address known as unsubscribed or bounced keeps its status: an import is
    /// not consent.
    async fn put_subscribers(
        &mut self,
        subscribers: Vec<NewSubscriber>,
        now: i64,
    ) -> Result<Vec<SubscriberPut>>;
    /// Sets an issue's status, clears any scheduled time (only
    /// [`Newsroom::schedule_issue`](crate::Newsroom::schedule_issue) sets one) and logs an `update` change of the
    /// issue (its stories' visibility follows it). `false` when there is no such
    /// issue.
    async fn set_issue_status(&mut self, number: u32, status: IssueStatus) -> Result<bool>;
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
}
