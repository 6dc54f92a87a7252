//! Scratch PostgreSQL databases for tests (this crate's and the other crates'),
//! so that no SQL is written outside `bulletin-store`.

use sqlx::Connection;

use crate::Result;

/// A database of its own for one test run, dropped when this value is dropped
/// (also while a test unwinds).
pub struct TempPostgres {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TempPostgres {
    /// Creates `bulletin_test_<pid>_<nanos>` on the server of `admin_url`.
    pub async fn create(admin_url: &str) -> Result<TempPostgres> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("bulletin_test_{}_{}", std::process::id(), nanos);
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        // The name is made above from digits and underscores only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = with_database(admin_url, &name);
        Ok(TempPostgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
            dropped: false,
        })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A fresh schema in the scratch database; the returned URL puts it first on
    /// the search path. `schema` must be a plain identifier.
    pub async fn schema(&self, schema: &str) -> Result<String> {
        assert!(
            schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
            "schema names are plain identifiers"
        );
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let sep = if self.url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{}{sep}options=-c%20search_path%3D{schema}",
            self.url
        ))
    }

    /// Drops the database now rather than at drop time.
    pub async fn drop_now(mut self) {
        drop_database(&self.admin_url, &self.name).await;
        self.dropped = true;
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Not on the caller's runtime: it may be unwinding, or there may be none.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&admin_url, &name));
            }
        })
        .join();
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[host_start..]
        .find('/')
        .map(|i| host_start + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Implements [`crate::Newsroom`], [`crate::Archive`], [`crate::Subscribers`] and
/// [`crate::Outbox`] for a test double by passing every call to
/// `self.$field` (an `Arc<dyn Store>`), for doubles that change only what
/// [`crate::Store`] reads.
///
/// ```ignore
/// bulletin_store::delegate_newsroom!(Flaky, inner);
/// ```
#[macro_export]
macro_rules! delegate_newsroom {
    ($double:ty, $field:ident) => {
        #[async_trait::async_trait]
        impl $crate::Newsroom for $double {
            async fn create_session(
                &self,
                id_hash: &str,
                user_id: i64,
                csrf_token: &str,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field
                    .create_session(id_hash, user_id, csrf_token, now)
                    .await
            }
            async fn session(&self, id_hash: &str) -> $crate::Result<Option<$crate::Session>> {
                self.$field.session(id_hash).await
            }
            async fn touch_session(&self, id_hash: &str, now: i64) -> $crate::Result<()> {
                self.$field.touch_session(id_hash, now).await
            }
            async fn delete_session(&self, id_hash: &str) -> $crate::Result<()> {
                self.$field.delete_session(id_hash).await
            }
            async fn delete_user_sessions(&self, user_id: i64) -> $crate::Result<u64> {
                self.$field.delete_user_sessions(user_id).await
            }
            async fn delete_expired_sessions(
                &self,
                created_before: i64,
                seen_before: i64,
            ) -> $crate::Result<u64> {
                self.$field
                    .delete_expired_sessions(created_before, seen_before)
                    .await
            }
            async fn create_api_token(
                &self,
                user_id: i64,
                name: &str,
                token_hash: &str,
                scopes: &str,
                now: i64,
            ) -> $crate::Result<$crate::ApiToken> {
                self.$field
                    .create_api_token(user_id, name, token_hash, scopes, now)
                    .await
            }
            async fn api_token(
                &self,
                token_hash: &str,
                now: i64,
            ) -> $crate::Result<Option<($crate::ApiToken, $crate::Session)>> {
                self.$field.api_token(token_hash, now).await
            }
            async fn api_tokens(&self, user_id: i64) -> $crate::Result<Vec<$crate::ApiToken>> {
                self.$field.api_tokens(user_id).await
            }
            async fn revoke_api_token(
                &self,
                user_id: i64,
                id: i64,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.revoke_api_token(user_id, id, now).await
            }
            async fn set_issue_date(
                &self,
                number: u32,
                date: Option<bulletin_core::Date>,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.set_issue_date(number, date, actor, now).await
            }
            async fn record_login_failure(
                &self,
                key: &str,
                at: i64,
                forget_before: i64,
            ) -> $crate::Result<()> {
                self.$field
                    .record_login_failure(key, at, forget_before)
                    .await
            }
            async fn login_failures(&self, key: &str, since: i64) -> $crate::Result<u64> {
                self.$field.login_failures(key, since).await
            }
            async fn clear_login_failures(&self, key: &str) -> $crate::Result<()> {
                self.$field.clear_login_failures(key).await
            }
            async fn desk(
                &self,
                query: &$crate::DeskQuery,
            ) -> $crate::Result<(Vec<$crate::DeskEntry>, u64)> {
                self.$field.desk(query).await
            }
            async fn desk_story(&self, slug: &str) -> $crate::Result<Option<$crate::DeskStory>> {
                self.$field.desk_story(slug).await
            }
            async fn save_story(
                &self,
                story: bulletin_core::Story,
                base: Option<u32>,
                action: &str,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<$crate::SaveOutcome> {
                self.$field
                    .save_story(story, base, action, actor, now)
                    .await
            }
            async fn history(&self, slug: &str) -> $crate::Result<Vec<$crate::HistoryEntry>> {
                self.$field.history(slug).await
            }
            async fn publish_story(
                &self,
                slug: &str,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.publish_story(slug, actor, now).await
            }
            async fn unpublish_story(
                &self,
                slug: &str,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.unpublish_story(slug, actor, now).await
            }
            async fn delete_desk_story(
                &self,
                slug: &str,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.delete_desk_story(slug, actor, now).await
            }
            async fn issue_list(&self) -> $crate::Result<Vec<$crate::IssueSummary>> {
                self.$field.issue_list().await
            }
            async fn issue_desk(&self, number: u32) -> $crate::Result<Option<$crate::IssueDesk>> {
                self.$field.issue_desk(number).await
            }
            async fn create_issue(
                &self,
                number: u32,
                date: Option<bulletin_core::Date>,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.create_issue(number, date, actor, now).await
            }
            async fn set_issue_stories(
                &self,
                number: u32,
                slugs: &[String],
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field
                    .set_issue_stories(number, slugs, actor, now)
                    .await
            }
            async fn publish_issue(
                &self,
                number: u32,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<u64> {
                self.$field.publish_issue(number, actor, now).await
            }
            async fn schedule_issue(
                &self,
                number: u32,
                at: i64,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.schedule_issue(number, at, actor, now).await
            }
            async fn unpublish_issue(
                &self,
                number: u32,
                actor: &$crate::Actor,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field.unpublish_issue(number, actor, now).await
            }
            async fn publish_due(&self, now: i64) -> $crate::Result<Vec<u32>> {
                self.$field.publish_due(now).await
            }
            async fn record_audit(
                &self,
                actor: &$crate::Actor,
                action: &str,
                entity: &str,
                key: &str,
                detail: &str,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field
                    .record_audit(actor, action, entity, key, detail, now)
                    .await
            }
            async fn audit_log(
                &self,
                offset: u32,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::AuditEntry>> {
                self.$field.audit_log(offset, limit).await
            }
        }
        #[async_trait::async_trait]
        impl $crate::Archive for $double {
            async fn redirect(&self, from: &str) -> $crate::Result<Option<String>> {
                self.$field.redirect(from).await
            }
            async fn redirects(
                &self,
                after: &str,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::Redirect>> {
                self.$field.redirects(after, limit).await
            }
            async fn is_empty(&self) -> $crate::Result<bool> {
                self.$field.is_empty().await
            }
            async fn backup_issues(
                &self,
            ) -> $crate::Result<Vec<bulletin_core::backup::BackupIssue>> {
                self.$field.backup_issues().await
            }
            async fn backup_users(&self) -> $crate::Result<Vec<bulletin_core::backup::BackupUser>> {
                self.$field.backup_users().await
            }
            async fn backup_stories(
                &self,
                stories: Vec<bulletin_core::Story>,
            ) -> $crate::Result<Vec<bulletin_core::backup::BackupStory>> {
                self.$field.backup_stories(stories).await
            }
            async fn backup_drafts(
                &self,
                after: i64,
                limit: u32,
            ) -> $crate::Result<Vec<(i64, bulletin_core::backup::BackupDraft)>> {
                self.$field.backup_drafts(after, limit).await
            }
            async fn backup_history(
                &self,
                after: Option<(String, u32)>,
                limit: u32,
            ) -> $crate::Result<Vec<bulletin_core::backup::BackupHistory>> {
                self.$field.backup_history(after, limit).await
            }
            async fn publish_due_stories(&self, now: i64) -> $crate::Result<Vec<String>> {
                self.$field.publish_due_stories(now).await
            }
        }
        #[async_trait::async_trait]
        impl $crate::Subscribers for $double {
            async fn add_subscriber(
                &self,
                new: &$crate::NewSubscriber,
                now: i64,
            ) -> $crate::Result<bulletin_core::subscriber::Subscriber> {
                self.$field.add_subscriber(new, now).await
            }
            async fn subscriber(
                &self,
                email: &str,
            ) -> $crate::Result<Option<bulletin_core::subscriber::Subscriber>> {
                self.$field.subscriber(email).await
            }
            async fn set_subscriber_status(
                &self,
                email: &str,
                status: bulletin_core::subscriber::SubscriberStatus,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.set_subscriber_status(email, status, now).await
            }
            async fn set_subscriber_plan(
                &self,
                email: &str,
                plan: bulletin_core::subscriber::Plan,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.set_subscriber_plan(email, plan, now).await
            }
            async fn subscribers(
                &self,
                query: &$crate::SubscriberQuery,
            ) -> $crate::Result<Vec<bulletin_core::subscriber::Subscriber>> {
                self.$field.subscribers(query).await
            }
            async fn count_subscribers(
                &self,
                query: &$crate::SubscriberQuery,
            ) -> $crate::Result<u64> {
                self.$field.count_subscribers(query).await
            }
            async fn site_secret(
                &self,
                name: &str,
                candidate: &str,
                now: i64,
            ) -> $crate::Result<String> {
                self.$field.site_secret(name, candidate, now).await
            }
            async fn spend_token(
                &self,
                nonce: &str,
                expires_at: i64,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.spend_token(nonce, expires_at, now).await
            }
            async fn set_subscriber_name(
                &self,
                email: &str,
                name: &str,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.set_subscriber_name(email, name, now).await
            }
            async fn create_reader_session(
                &self,
                id_hash: &str,
                subscriber_id: i64,
                csrf_token: &str,
                now: i64,
            ) -> $crate::Result<()> {
                self.$field
                    .create_reader_session(id_hash, subscriber_id, csrf_token, now)
                    .await
            }
            async fn reader_session(
                &self,
                id_hash: &str,
            ) -> $crate::Result<Option<$crate::ReaderSession>> {
                self.$field.reader_session(id_hash).await
            }
            async fn touch_reader_session(&self, id_hash: &str, now: i64) -> $crate::Result<()> {
                self.$field.touch_reader_session(id_hash, now).await
            }
            async fn delete_reader_session(&self, id_hash: &str) -> $crate::Result<()> {
                self.$field.delete_reader_session(id_hash).await
            }
            async fn delete_reader_sessions(&self, subscriber_id: i64) -> $crate::Result<u64> {
                self.$field.delete_reader_sessions(subscriber_id).await
            }
            async fn feed_nonce(&self, email: &str) -> $crate::Result<Option<String>> {
                self.$field.feed_nonce(email).await
            }
            async fn set_feed_nonce(
                &self,
                email: &str,
                nonce: Option<&str>,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.set_feed_nonce(email, nonce, now).await
            }
        }
        #[async_trait::async_trait]
        impl $crate::Outbox for $double {
            async fn queue_issue(&self, issue: u32, now: i64) -> $crate::Result<u64> {
                self.$field.queue_issue(issue, now).await
            }
            async fn claim_sends(
                &self,
                worker: &str,
                limit: u32,
                now: i64,
                lease: i64,
            ) -> $crate::Result<Vec<$crate::SendJob>> {
                self.$field.claim_sends(worker, limit, now, lease).await
            }
            async fn claim_issue_sends(
                &self,
                issue: u32,
                worker: &str,
                limit: u32,
                now: i64,
                lease: i64,
            ) -> $crate::Result<Vec<$crate::SendJob>> {
                self.$field
                    .claim_issue_sends(issue, worker, limit, now, lease)
                    .await
            }
            async fn record_send(
                &self,
                id: i64,
                worker: &str,
                outcome: &$crate::SendOutcome,
                now: i64,
            ) -> $crate::Result<bool> {
                self.$field.record_send(id, worker, outcome, now).await
            }
            async fn record_sends(
                &self,
                outcomes: &[(i64, $crate::SendOutcome)],
                worker: &str,
                now: i64,
            ) -> $crate::Result<Vec<bool>> {
                self.$field.record_sends(outcomes, worker, now).await
            }
            async fn release_sends(&self, ids: &[i64], worker: &str) -> $crate::Result<u64> {
                self.$field.release_sends(ids, worker).await
            }
            async fn send_progress(&self, issue: u32) -> $crate::Result<$crate::SendProgress> {
                self.$field.send_progress(issue).await
            }
            async fn issues_with_due_sends(
                &self,
                now: i64,
                lease: i64,
            ) -> $crate::Result<Vec<u32>> {
                self.$field.issues_with_due_sends(now, lease).await
            }
            async fn preview_sends(
                &self,
                issue: u32,
                after: i64,
                limit: u32,
            ) -> $crate::Result<Vec<$crate::SendJob>> {
                self.$field.preview_sends(issue, after, limit).await
            }
        }
    };
}
