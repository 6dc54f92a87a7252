//! Following the store's change log: catching up, rebuilding, and a task that
//! keeps catching up.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use bulletin_core::{IssueStatus, Story};
use bulletin_store::{PublicSite, StoreError, StoryQuery};
use tantivy::Term;

use crate::index::payload;
use crate::schema::story_document;
use crate::{SearchError, SearchIndex, Writer};

/// Past this many changes behind, catching up reads the whole store instead.
const REBUILD_AFTER: i64 = 100_000;
/// Stories read from the store at a time.
const BATCH: u32 = 2_000;

impl SearchIndex {
    /// Applies every change the store logged since the index's last commit (or
    /// rebuilds, when far behind or when the store is not the one indexed).
    /// Returns the sequence the index now reflects.
    pub async fn catch_up<S: PublicSite + ?Sized>(&self, store: &S) -> Result<i64, SearchError> {
        let _one = self.inner.updating.lock().await;
        if !self.is_writer() && !self.refresh_from_disk()? {
            return Ok(self.applied_seq());
        }
        loop {
            let applied = self.applied_seq();
            let head = store.last_change().await?;
            metrics::gauge!("bulletin_index_lag_changes").set((head - applied).max(0) as f64);
            if head == applied {
                return Ok(applied);
            }
            if head < applied || head - applied > REBUILD_AFTER {
                return self.rebuild_locked(store, &mut |_, _| {}).await;
            }
            let changes = store.changes_since(applied, 5_000).await?;
            let Some(last) = changes.last().map(|c| c.seq) else {
                // Nothing logged after `applied` although the head is later:
                // sequence numbers of rolled-back writes. Nothing to apply.
                self.commit(Vec::new(), head).await?;
                continue;
            };
            let mut slugs = BTreeSet::new();
            let mut issues = BTreeSet::new();
            for change in &changes {
                match change.entity.as_str() {
                    "story" => {
                        slugs.insert(change.key.clone());
                    }
                    "issue" => {
                        if let Ok(n) = change.key.parse::<u32>() {
                            issues.insert(n);
                        }
                    }
                    _ => {}
                }
            }
            let mut statuses = IssueStatuses::default();
            for n in issues {
                if let Some(issue) = store.issue(n).await? {
                    slugs.extend(issue.stories.iter().cloned());
                    statuses.0.insert(n, Some(issue.status));
                }
            }
            let mut updates = Vec::with_capacity(slugs.len());
            for slug in slugs {
                let story = match store.story(&slug).await? {
                    Some(story) if statuses.is_public(store, &story).await? => Some(story),
                    _ => None,
                };
                updates.push((slug, story));
            }
            if let Err(e) = self.commit(updates, last).await {
                self.rollback().await;
                return Err(e);
            }
        }
    }

    async fn commit(
        &self,
        updates: Vec<(String, Option<Story>)>,
        seq: i64,
    ) -> Result<(), SearchError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let f = this.inner.fields;
            let mut guard = this
                .inner
                .writer
                .lock()
                .map_err(|_| SearchError::Task("search writer poisoned".into()))?;
            let Some(w) = guard.as_mut() else {
                return Err(SearchError::Locked(this.inner.root.clone()));
            };
            for (slug, story) in updates {
                w.writer.delete_term(Term::from_field_text(f.slug, &slug));
                if let Some(story) = story {
                    w.writer.add_document(story_document(&f, &story))?;
                }
            }
            let mut commit = w.writer.prepare_commit()?;
            commit.set_payload(&payload(seq));
            commit.commit()?;
            drop(guard);
            this.set_snapshot(seq)
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Rebuilds the index from the whole store; searches see the old index until
    /// the new one is committed. `progress(done, total)` is called as it goes.
    pub async fn rebuild<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        let _one = self.inner.updating.lock().await;
        if !self.is_writer() && !self.refresh_from_disk()? {
            return Err(SearchError::Locked(self.inner.root.clone()));
        }
        let seq = self.rebuild_locked(store, progress).await?;
        drop(_one);
        // Whatever changed while the store was being read.
        self.catch_up(store).await.map(|s| s.max(seq))
    }

    async fn rebuild_locked<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        let outcome = self.rebuild_uncommitted(store, progress).await;
        if outcome.is_err() {
            // Nothing half-done may reach a later commit.
            self.rollback().await;
        }
        outcome
    }

    /// Undoes what the writer holds uncommitted.
    async fn rollback(&self) {
        let undone = self
            .blocking(|w| {
                w.writer.rollback()?;
                Ok(())
            })
            .await;
        if let Err(e) = undone {
            tracing::error!(error = %e, "cannot roll back the search index writer");
        }
    }

    async fn rebuild_uncommitted<S: PublicSite + ?Sized>(
        &self,
        store: &S,
        progress: &mut (dyn FnMut(u64, u64) + Send),
    ) -> Result<i64, SearchError> {
        // Changes after this sequence may or may not be in what is read; the next
        // catch-up applies them again, which is harmless.
        let seq = store.last_change().await?;
        let total = store.counts().await?.stories;
        self.blocking(|w| {
            w.writer.delete_all_documents()?;
            Ok(())
        })
        .await?;
        let mut statuses = IssueStatuses(
            store
                .issue_statuses()
                .await?
                .into_iter()
                .map(|(n, status)| (n, Some(status)))
                .collect(),
        );
        let mut query = StoryQuery {
            limit: BATCH,
            ..StoryQuery::default()
        };
        let mut done = 0u64;
        progress(0, total);
        loop {
            let page = store.stories(&query).await?;
            done += page.stories.len() as u64;
            let mut docs = Vec::with_capacity(page.stories.len());
            for story in page.stories {
                if statuses.is_public(store, &story).await? {
                    docs.push(story);
                }
            }
            let f = self.inner.fields;
            self.blocking(move |w| {
                for story in &docs {
                    w.writer.add_document(story_document(&f, story))?;
                }
                Ok(())
            })
            .await?;
            progress(done, total.max(done));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        self.blocking(move |w| {
            let mut commit = w.writer.prepare_commit()?;
            commit.set_payload(&payload(seq));
            commit.commit()?;
            Ok(())
        })
        .await?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.set_snapshot(seq))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))??;
        Ok(seq)
    }

    async fn blocking<F>(&self, work: F) -> Result<(), SearchError>
    where
        F: FnOnce(&mut Writer) -> Result<(), SearchError> + Send + 'static,
    {
        let this = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = this
                .inner
                .writer
                .lock()
                .map_err(|_| SearchError::Task("search writer poisoned".into()))?;
            match guard.as_mut() {
                Some(w) => work(w).map_err(|e| e.explained(&this.inner.root)),
                None => Err(SearchError::Locked(this.inner.root.clone())),
            }
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))?
    }

    /// Keeps the index caught up with `store`, checking every `every`, until the
    /// returned task is aborted.
    pub fn follow<S: PublicSite + ?Sized + 'static>(
        &self,
        store: Arc<S>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut failures = 0u32;
            loop {
                let pause = every * (1 << failures.min(6));
                tokio::time::sleep(pause).await;
                match this.catch_up(&*store).await {
                    Ok(_) => failures = 0,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(error = %e, "search index could not catch up");
                    }
                }
            }
        })
    }
}

/// Published-issue status of each issue met, looked up once.
#[derive(Default)]
struct IssueStatuses(HashMap<u32, Option<IssueStatus>>);

impl IssueStatuses {
    /// Only stories of published issues (or of none) are for visitors.
    async fn is_public<S: PublicSite + ?Sized>(
        &mut self,
        store: &S,
        story: &Story,
    ) -> Result<bool, StoreError> {
        let Some(issue) = story.issue else {
            return Ok(true);
        };
        let status = match self.0.get(&issue.number) {
            Some(status) => *status,
            None => {
                let status = store.issue(issue.number).await?.map(|i| i.status);
                self.0.insert(issue.number, status);
                status
            }
        };
        Ok(matches!(status, None | Some(IssueStatus::Published)))
    }
}
