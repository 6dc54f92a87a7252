//! [`Import`] and [`ImportTx`] over one backend. Stories go through the import
//! planner ([`crate::import_plan`]) and the backend's batch writer; deleting a
//! story, an issue's status and the publication's settings are the backend's
//! own (their SQL differs); the rest is in [`super::archive`] and
//! [`super::subscribers`].

use async_trait::async_trait;
use bulletin_core::backup::Redirect;
use bulletin_core::{IssueStatus, Publication, Story, Tag};

use super::{BackendImport, BackendStore, batch_writer, corrupt, delete_story, writes};
use crate::import_plan::{self, TxCache};
use crate::{
    Import, ImportTx, NewDraft, NewSubscriber, PutOutcome, RestorePart, Result, SourcedStory,
    SubscriberPut,
};

#[async_trait]
impl Import for BackendStore {
    async fn set_publication(&self, publication: &Publication) -> Result<()> {
        writes::set_publication(self, publication).await
    }

    async fn begin_import(&self) -> Result<Box<dyn ImportTx + '_>> {
        Ok(Box::new(BackendImport {
            tx: self.begin_write().await?,
            cache: TxCache::default(),
        }))
    }
}

#[async_trait]
impl ImportTx for BackendImport {
    async fn put_stories(&mut self, stories: Vec<Story>) -> Result<Vec<PutOutcome>> {
        let stories = stories
            .into_iter()
            .map(|story| SourcedStory {
                story,
                source: None,
            })
            .collect();
        self.put_sourced_stories(stories).await
    }

    async fn put_sourced_stories(&mut self, stories: Vec<SourcedStory>) -> Result<Vec<PutOutcome>> {
        let batches = import_plan::prepare(stories)?;
        let total = batches.iter().map(Vec::len).sum();
        let mut out = vec![None; total];
        let mut writer = batch_writer(&mut self.tx);
        for batch in &batches {
            if let Err(e) =
                import_plan::put_batch(&mut writer, &mut self.cache, batch, &mut out).await
            {
                // The caches may no longer match the database.
                self.cache = TxCache::default();
                return Err(e);
            }
        }
        out.into_iter()
            .map(|o| o.ok_or_else(|| corrupt("a story got no outcome")))
            .collect()
    }

    async fn put_tags(&mut self, tags: Vec<Tag>) -> Result<()> {
        self.put_tags_sql(tags).await
    }

    async fn put_drafts(&mut self, drafts: Vec<NewDraft>, now: i64) -> Result<Vec<String>> {
        self.put_drafts_sql(drafts, now).await
    }

    async fn put_redirects(&mut self, redirects: Vec<Redirect>, now: i64) -> Result<()> {
        self.put_redirects_sql(redirects, now).await
    }

    async fn restore(&mut self, part: RestorePart) -> Result<()> {
        self.restore_sql(part).await
    }

    async fn put_subscribers(
        &mut self,
        subscribers: Vec<NewSubscriber>,
        now: i64,
    ) -> Result<Vec<SubscriberPut>> {
        self.put_subscribers_sql(subscribers, now).await
    }

    async fn delete_story(&mut self, slug: &str) -> Result<bool> {
        delete_story(self, slug).await
    }

    async fn set_issue_status(&mut self, number: u32, status: IssueStatus) -> Result<bool> {
        writes::set_issue_status(self, number, status).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        Ok(self.tx.commit().await?)
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        Ok(self.tx.rollback().await?)
    }
}
