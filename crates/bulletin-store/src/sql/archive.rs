//! [`Archive`] over one backend, and the import transaction's archive methods:
//! tags, drafts and redirects brought by imports, a backup's reads, and its
//! restore.

use bulletin_core::backup::{
    BackupDraft, BackupHistory, BackupIssue, BackupRevision, BackupStory, BackupSubscriber,
    BackupUser, DRAFT_STATUSES, Redirect, backup_time,
};
use bulletin_core::{Publication, Story, Tag};
use sqlx::Row as _;

use super::{
    BackendImport, BackendStore, Dialect, Tx, add_history, corrupt, date_cast, free_slug,
    issue_head, next_draft_position, number, publish_draft_in, refused, story_content,
    story_from_content, tags_json, time_cast,
};
use crate::import_plan::TxCache;
use crate::{
    Actor, Archive, ImportTx, NewDraft, PutOutcome, RestorePart, Result, StoreError, import_actor,
};

/// A time column as RFC 3339 text, whatever the backend keeps.
fn time_text(column: &str) -> String {
    <BackendStore as Dialect>::time_text(column)
}

fn time_of(text: &str, what: &str) -> Result<String> {
    backup_time(text).ok_or_else(|| corrupt(format_args!("{what} time {text:?}")))
}

fn json_story(json: bulletin_core::StoryJson) -> Result<Story> {
    let slug = json.slug.clone();
    Story::try_from(json).map_err(|source| StoreError::InvalidStory { slug, source })
}

async fn log_change(tx: &mut Tx, entity: &str, key: &str, op: &str) -> Result<()> {
    super::log_change(tx, entity, key, op).await
}

impl BackendImport {
    pub(crate) async fn put_tags_sql(&mut self, tags: Vec<Tag>) -> Result<()> {
        let now = jiff::Timestamp::now().to_string();
        for tag in tags {
            let existing: Option<String> =
                sqlx::query_scalar("SELECT description FROM tags WHERE name = $1")
                    .bind(&tag.name)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            match existing {
                Some(description) => {
                    if !tag.description.is_empty() && tag.description != description {
                        sqlx::query("UPDATE tags SET description = $1 WHERE name = $2")
                            .bind(&tag.description)
                            .bind(&tag.name)
                            .execute(&mut *self.tx)
                            .await?;
                        log_change(&mut self.tx, "tag", &tag.name, "update").await?;
                    }
                }
                None => {
                    // The slug asked for, if it is a slug and free.
                    let mut base = bulletin_core::slugify(&tag.slug);
                    if base != tag.slug || base.is_empty() {
                        base = bulletin_core::slugify(&tag.name);
                    }
                    if base.is_empty() {
                        base = "tag".to_owned();
                    }
                    let like = format!("{}%", base.replace(['%', '_'], ""));
                    let taken: Vec<String> =
                        sqlx::query_scalar("SELECT slug FROM tags WHERE slug LIKE $1")
                            .bind(&like)
                            .fetch_all(&mut *self.tx)
                            .await?;
                    let slug = bulletin_core::unique_slug(&base, |s| taken.iter().any(|t| t == s));
                    let sql = format!(
                        "INSERT INTO tags (name, slug, description, created_at)
                         VALUES ($1, $2, $3, {})",
                        time_cast("$4")
                    );
                    sqlx::query(sqlx::AssertSqlSafe(sql))
                        .bind(&tag.name)
                        .bind(&slug)
                        .bind(&tag.description)
                        .bind(&now)
                        .execute(&mut *self.tx)
                        .await?;
                    log_change(&mut self.tx, "tag", &tag.name, "insert").await?;
                }
            }
        }
        // put_stories caches tag ids and slugs; start it afresh.
        self.cache = TxCache::default();
        Ok(())
    }

    pub(crate) async fn put_drafts_sql(
        &mut self,
        drafts: Vec<NewDraft>,
        now: i64,
    ) -> Result<Vec<String>> {
        let actor = import_actor();
        let mut slugs = Vec::with_capacity(drafts.len());
        for draft in drafts {
            if !DRAFT_STATUSES.contains(&draft.status) {
                return Err(corrupt(format_args!("draft status {:?}", draft.status)));
            }
            let mut story = draft.story;
            // The same draft imported again (a second run of the same
            // export) is left alone rather than doubled.
            let same: Option<String> =
                sqlx::query_scalar("SELECT content FROM drafts WHERE slug = $1")
                    .bind(&story.slug)
                    .fetch_optional(&mut *self.tx)
                    .await?;
            if same
                .is_some_and(|c| story_from_content(&story.slug, &c).ok().as_ref() == Some(&story))
            {
                slugs.push(story.slug);
                continue;
            }
            story.slug = free_slug(&mut self.tx, &story.slug).await?;
            story
                .validate()
                .map_err(|source| StoreError::InvalidStory {
                    slug: story.slug.clone(),
                    source,
                })?;
            // A draft naming an issue waits in it; the issue is made
            // (as a draft) if it does not exist.
            let (issue_number, position) = match story.issue {
                Some(r) => {
                    if issue_head(&mut self.tx, r.number).await?.is_none() {
                        let sql = format!(
                            "INSERT INTO issues (number, date, status, created_at, updated_at)
                             VALUES ($1, {}, 'draft', {}, {})",
                            date_cast("$2"),
                            time_cast("$3"),
                            time_cast("$3")
                        );
                        sqlx::query(sqlx::AssertSqlSafe(sql))
                            .bind(i64::from(r.number))
                            .bind(r.date.map(|d| d.to_string()))
                            .bind(jiff::Timestamp::now().to_string())
                            .execute(&mut *self.tx)
                            .await?;
                        log_change(&mut self.tx, "issue", &r.number.to_string(), "insert").await?;
                    }
                    (
                        i64::from(r.number),
                        next_draft_position(&mut self.tx, r.number).await?,
                    )
                }
                None => (-1, 0),
            };
            insert_draft_row(
                &mut self.tx,
                &story,
                draft.status,
                draft.publish_at,
                issue_number,
                position,
                (now, now),
            )
            .await?;
            add_history(&mut self.tx, &story, 1, &actor, "import", now).await?;
            slugs.push(story.slug);
        }
        Ok(slugs)
    }

    pub(crate) async fn put_redirects_sql(
        &mut self,
        redirects: Vec<Redirect>,
        now: i64,
    ) -> Result<()> {
        // The last word for each address wins, as row-by-row upserts
        // would give; one statement may not touch a row twice.
        let mut latest: std::collections::HashMap<String, String> =
            std::collections::HashMap::with_capacity(redirects.len());
        let mut order: Vec<String> = Vec::with_capacity(redirects.len());
        for r in redirects {
            if r.from == r.to {
                continue;
            }
            if latest.insert(r.from.clone(), r.to).is_none() {
                order.push(r.from);
            }
        }
        let pairs: Vec<(String, String)> = order
            .into_iter()
            .filter_map(|from| latest.remove(&from).map(|to| (from, to)))
            .collect();
        if pairs.is_empty() {
            return Ok(());
        }
        // Many rows a statement: a round trip per 300 redirects.
        for chunk in pairs.chunks(300) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
                .collect();
            let sql = format!(
                "INSERT INTO redirects (from_path, to_path, created_at) VALUES {}
                 ON CONFLICT (from_path) DO UPDATE SET to_path = excluded.to_path",
                rows.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (from, to) in chunk {
                query = query.bind(from).bind(to).bind(now);
            }
            query.execute(&mut *self.tx).await?;
        }
        // One entry per batch: caches keyed by the change log see
        // the new addresses; search ignores the entity.
        log_change(&mut self.tx, "redirects", "", "update").await?;
        Ok(())
    }

    pub(crate) async fn restore_sql(&mut self, part: RestorePart) -> Result<()> {
        match part {
            RestorePart::Publication(p) => self.restore_publication(&p).await,
            RestorePart::Users(users) => self.restore_users(users).await,
            RestorePart::Subscribers(list) => self.restore_subscribers(list).await,
            RestorePart::Issues(issues) => self.restore_issues(issues).await,
            RestorePart::Stories(stories) => self.restore_stories(stories).await,
            RestorePart::Drafts(drafts) => self.restore_drafts(drafts).await,
            RestorePart::History(history) => self.restore_history(history).await,
            RestorePart::IssueOrder(issues) => self.restore_issue_order(issues).await,
        }
    }

    async fn restore_publication(&mut self, p: &Publication) -> Result<()> {
        let sql = format!(
            "UPDATE publication SET name = $1, credit = $2, base_url = $3,
                 time_zone = $4, copyright = $5, updated_at = {}
             WHERE id = 1",
            time_cast("$6")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&p.name)
            .bind(&p.credit)
            .bind(&p.base_url)
            .bind(&p.time_zone)
            .bind(&p.copyright)
            .bind(jiff::Timestamp::now().to_string())
            .execute(&mut *self.tx)
            .await?;
        log_change(&mut self.tx, "publication", "", "update").await
    }

    async fn restore_users(&mut self, users: Vec<BackupUser>) -> Result<()> {
        let sql = format!(
            "INSERT INTO users (email, role, password_hash, disabled, created_at, updated_at)
             VALUES ($1, $2, $3, ($4 <> 0), {t}, {t})",
            t = time_cast("$5")
        );
        for user in users {
            let created = time_of(&user.created_at, "account")?;
            // No hash in the backup: an impossible one, so the account
            // cannot sign in until `bulletin user passwd` sets one.
            let hash = user.password_hash.unwrap_or_else(|| "!".to_owned());
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(&user.email)
                .bind(user.role.as_str())
                .bind(&hash)
                .bind(i64::from(user.disabled))
                .bind(&created)
                .execute(&mut *self.tx)
                .await
                .map_err(|e| crate::rows::duplicate(e, "account", &user.email))?;
        }
        Ok(())
    }

    async fn restore_subscribers(&mut self, list: Vec<BackupSubscriber>) -> Result<()> {
        for s in list {
            sqlx::query(
                "INSERT INTO subscribers (email, name, status, plan, created_at,
                     updated_at, confirmed_at, unsubscribed_at)
                 VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
            )
            .bind(&s.email)
            .bind(&s.name)
            .bind(s.status.as_str())
            .bind(s.plan.as_str())
            .bind(s.created_at)
            .bind(s.confirmed_at)
            .bind(s.unsubscribed_at)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| crate::rows::duplicate(e, "subscriber", &s.email))?;
        }
        Ok(())
    }

    async fn restore_issues(&mut self, issues: Vec<BackupIssue>) -> Result<()> {
        let sql = format!(
            "INSERT INTO issues (number, date, status, publish_at, created_at, updated_at)
             VALUES ($1, {}, $3, $4, {t}, {t})",
            date_cast("$2"),
            t = time_cast("$5")
        );
        let now = jiff::Timestamp::now().to_string();
        for issue in issues {
            sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(i64::from(issue.number))
                .bind(issue.date.map(|d| d.to_string()))
                .bind(issue.status.as_str())
                .bind(issue.publish_at)
                .bind(&now)
                .execute(&mut *self.tx)
                .await
                .map_err(|e| crate::rows::duplicate(e, "issue", &issue.number.to_string()))?;
            log_change(&mut self.tx, "issue", &issue.number.to_string(), "insert").await?;
        }
        self.cache = TxCache::default();
        Ok(())
    }

    async fn restore_stories(&mut self, stories: Vec<BackupStory>) -> Result<()> {
        let slugs: Vec<String> = stories.iter().map(|s| s.story.slug.clone()).collect();
        let outcomes = self
            .put_stories(stories.iter().map(|s| s.story.clone()).collect())
            .await?;
        for (slug, outcome) in slugs.iter().zip(outcomes) {
            match outcome {
                PutOutcome::New { slug: got } if &got == slug => {}
                other => {
                    return Err(refused(format!(
                        "story {slug:?} could not be restored as it was ({other:?}): \
                         two stories in the backup share a slug or a headline, \
                         date and issue"
                    )));
                }
            }
        }
        let times = format!(
            "UPDATE stories SET created_at = {}, updated_at = {} WHERE slug = $3",
            time_cast("$1"),
            time_cast("$2")
        );
        let revision = format!(
            "INSERT INTO revisions (story_id, number, content, replaced_at)
             SELECT id, $2, CAST($3 AS {}), {} FROM stories WHERE slug = $1",
            <BackendStore as Dialect>::JSON_TYPE,
            time_cast("$4")
        );
        for s in stories {
            sqlx::query(sqlx::AssertSqlSafe(times.clone()))
                .bind(time_of(&s.created_at, "story")?)
                .bind(time_of(&s.updated_at, "story")?)
                .bind(&s.story.slug)
                .execute(&mut *self.tx)
                .await?;
            for r in s.revisions {
                let content = story_content(&json_story(r.story)?)?;
                sqlx::query(sqlx::AssertSqlSafe(revision.clone()))
                    .bind(&s.story.slug)
                    .bind(i64::from(r.number))
                    .bind(content)
                    .bind(time_of(&r.replaced_at, "revision")?)
                    .execute(&mut *self.tx)
                    .await?;
            }
        }
        Ok(())
    }

    async fn restore_drafts(&mut self, drafts: Vec<BackupDraft>) -> Result<()> {
        for d in drafts {
            if !DRAFT_STATUSES.contains(&d.status.as_str()) {
                return Err(refused(format!(
                    "draft {:?} has status {:?}; expected one of {}",
                    d.story.slug,
                    d.status,
                    DRAFT_STATUSES.join(", ")
                )));
            }
            let story = json_story(d.story)?;
            let issue = story.issue.map_or(-1, |r| i64::from(r.number));
            if let Some(r) = story.issue
                && issue_head(&mut self.tx, r.number).await?.is_none()
            {
                return Err(refused(format!(
                    "draft {:?} waits in issue {}, which the backup does not list",
                    story.slug, r.number
                )));
            }
            insert_draft_row(
                &mut self.tx,
                &story,
                &d.status,
                d.publish_at,
                issue,
                d.issue_position,
                (d.created_at, d.updated_at),
            )
            .await
            .map_err(|e| match e {
                StoreError::Database(e) => crate::rows::duplicate(e, "story", &story.slug),
                other => other,
            })?;
        }
        Ok(())
    }

    async fn restore_history(&mut self, history: Vec<BackupHistory>) -> Result<()> {
        for h in history {
            let story = json_story(h.story)?;
            sqlx::query(
                "INSERT INTO story_history (slug, number, content, user_id, actor, action, at)
                 VALUES ($1, $2, $3, (SELECT id FROM users WHERE email = $4), $5, $6, $7)",
            )
            .bind(&h.slug)
            .bind(i64::from(h.number))
            .bind(story_content(&story)?)
            .bind(&h.user)
            .bind(&h.actor)
            .bind(&h.action)
            .bind(h.at)
            .execute(&mut *self.tx)
            .await
            .map_err(|e| {
                crate::rows::duplicate(e, "history entry", &format!("{} {}", h.slug, h.number))
            })?;
        }
        Ok(())
    }

    async fn restore_issue_order(&mut self, issues: Vec<BackupIssue>) -> Result<()> {
        // Restoring stories moved each issue's date to its stories' footers, as
        // an import does; the backup's own date for the issue is the one kept
        // (they differ when the stories of one issue disagree about its date).
        let date = format!(
            "UPDATE issues SET date = {} WHERE number = $2",
            date_cast("$1")
        );
        for issue in issues {
            sqlx::query(sqlx::AssertSqlSafe(date.clone()))
                .bind(issue.date.map(|d| d.to_string()))
                .bind(i64::from(issue.number))
                .execute(&mut *self.tx)
                .await?;
            for (i, slug) in issue.stories.iter().enumerate() {
                let done = sqlx::query("UPDATE stories SET issue_position = $1 WHERE slug = $2")
                    .bind(i64::try_from(i + 1).unwrap_or(i64::MAX))
                    .bind(slug)
                    .execute(&mut *self.tx)
                    .await?
                    .rows_affected();
                if done == 0 {
                    return Err(refused(format!(
                        "issue {} lists story {slug:?}, which the backup does not hold",
                        issue.number
                    )));
                }
            }
        }
        Ok(())
    }
}

async fn insert_draft_row(
    tx: &mut Tx,
    story: &Story,
    status: &str,
    publish_at: Option<i64>,
    issue_number: i64,
    position: i64,
    (created_at, updated_at): (i64, i64),
) -> Result<()> {
    sqlx::query(
        "INSERT INTO drafts (slug, headline, dateline_date, tags, issue_number,
             issue_position, content, status, publish_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&story.slug)
    .bind(&story.headline)
    .bind(story.dateline.date.to_string())
    .bind(tags_json(story))
    .bind(issue_number)
    .bind(position)
    .bind(story_content(story)?)
    .bind(status)
    .bind(publish_at)
    .bind(created_at)
    .bind(updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether redirect `r` leads to a page that answers: a public story at its own
/// date, or a tag that a public story has. A story unpublished or deleted (or a
/// tag left without public stories) keeps its redirects, which come back with
/// it; until then its old addresses are 404s and do not reveal its slug. A
/// target of another kind (a backup may carry any path) is taken as it is.
/// `story_url` and the tag pages make the addresses matched here.
const LIVE_TARGET: &str = "CASE
    WHEN r.to_path LIKE '/tag/%/' THEN EXISTS (
        SELECT 1 FROM tags t JOIN story_tags st ON st.tag_id = t.id
        WHERE t.slug = substr(r.to_path, 6, length(r.to_path) - 6))
    WHEN r.to_path LIKE '/____/__/__/%/' THEN EXISTS (
        SELECT 1 FROM stories s
        WHERE s.slug = substr(r.to_path, 13, length(r.to_path) - 13)
          AND replace(CAST(s.dateline_date AS TEXT), '-', '/') = substr(r.to_path, 2, 10))
    ELSE 1 = 1
END";

#[async_trait::async_trait]
impl Archive for BackendStore {
    async fn redirect(&self, from: &str) -> Result<Option<String>> {
        let sql =
            format!("SELECT r.to_path FROM redirects r WHERE r.from_path = $1 AND {LIVE_TARGET}");
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(from)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn live_redirects(&self, after: &str, limit: u32) -> Result<Vec<Redirect>> {
        let sql = format!(
            "SELECT r.from_path, r.to_path FROM redirects r WHERE r.from_path > $1 AND {LIVE_TARGET}
             ORDER BY r.from_path LIMIT $2"
        );
        let rows: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(from, to)| Redirect { from, to })
            .collect())
    }

    async fn redirects(&self, after: &str, limit: u32) -> Result<Vec<Redirect>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT from_path, to_path FROM redirects WHERE from_path > $1
             ORDER BY from_path LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(from, to)| Redirect { from, to })
            .collect())
    }

    async fn is_empty(&self) -> Result<bool> {
        let any: i64 = sqlx::query_scalar(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM stories LIMIT 1) a)
                  + (SELECT count(*) FROM (SELECT 1 FROM drafts LIMIT 1) b)
                  + (SELECT count(*) FROM (SELECT 1 FROM issues LIMIT 1) c)
                  + (SELECT count(*) FROM (SELECT 1 FROM tags LIMIT 1) d)
                  + (SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) e)
                  + (SELECT count(*) FROM (SELECT 1 FROM redirects LIMIT 1) f)
                  + (SELECT count(*) FROM (SELECT 1 FROM subscribers LIMIT 1) g)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(any == 0)
    }

    async fn backup_issues(&self) -> Result<Vec<BackupIssue>> {
        let times: Vec<(i64, Option<i64>)> =
            sqlx::query_as("SELECT CAST(number AS BIGINT), publish_at FROM issues")
                .fetch_all(&self.pool)
                .await?;
        let times: std::collections::HashMap<i64, Option<i64>> = times.into_iter().collect();
        Ok(crate::PublicSite::issues(self)
            .await?
            .into_iter()
            .map(|i| BackupIssue {
                publish_at: times.get(&i64::from(i.number)).copied().flatten(),
                number: i.number,
                date: i.date,
                status: i.status,
                stories: i.stories,
            })
            .collect())
    }

    async fn backup_users(&self) -> Result<Vec<BackupUser>> {
        let sql = format!(
            "SELECT email, role, password_hash, CAST(CASE WHEN disabled THEN 1 ELSE 0 END AS BIGINT) AS disabled,
                 {} AS created_at
             FROM users ORDER BY id",
            time_text("created_at")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get("role")?;
                let disabled: i64 = row.try_get("disabled")?;
                let created: String = row.try_get("created_at")?;
                Ok(BackupUser {
                    email: row.try_get("email")?,
                    role: bulletin_core::staff::Role::parse(&role)
                        .ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
                    disabled: disabled != 0,
                    created_at: time_of(&created, "account")?,
                    password_hash: Some(row.try_get("password_hash")?),
                })
            })
            .collect()
    }

    async fn backup_stories(&self, stories: Vec<Story>) -> Result<Vec<BackupStory>> {
        if stories.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=stories.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT id, slug, {} AS created_text, {} AS updated_text FROM stories
             WHERE slug IN ({})",
            time_text("created_at"),
            time_text("updated_at"),
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for story in &stories {
            query = query.bind(&story.slug);
        }
        let mut rows: std::collections::HashMap<String, (i64, String, String)> =
            std::collections::HashMap::new();
        for row in query.fetch_all(&self.pool).await? {
            let created: String = row.try_get("created_text")?;
            let updated: String = row.try_get("updated_text")?;
            rows.insert(row.try_get("slug")?, (row.try_get("id")?, created, updated));
        }
        let ids: Vec<i64> = rows.values().map(|r| r.0).collect();
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT story_id, CAST(number AS BIGINT) AS number,
                 CAST(content AS TEXT) AS content, {} AS replaced_text
             FROM revisions WHERE story_id IN ({}) ORDER BY story_id, number",
            time_text("replaced_at"),
            marks.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(*id);
        }
        let mut revisions: std::collections::HashMap<i64, Vec<BackupRevision>> =
            std::collections::HashMap::new();
        for r in query.fetch_all(&self.pool).await? {
            let story_id: i64 = r.try_get("story_id")?;
            let content: String = r.try_get("content")?;
            let replaced: String = r.try_get("replaced_text")?;
            revisions.entry(story_id).or_default().push(BackupRevision {
                number: number(r.try_get("number")?, "revision number")?,
                replaced_at: time_of(&replaced, "revision")?,
                story: story_from_content("revision", &content)?.to_json(),
            });
        }
        stories
            .into_iter()
            .map(|story| {
                let Some((id, created, updated)) = rows.get(&story.slug) else {
                    return Err(crate::StoreError::NotFound {
                        what: "story",
                        key: story.slug,
                    });
                };
                Ok(BackupStory {
                    created_at: time_of(created, "story")?,
                    updated_at: time_of(updated, "story")?,
                    revisions: revisions.remove(id).unwrap_or_default(),
                    story,
                })
            })
            .collect()
    }

    async fn backup_drafts(&self, after: i64, limit: u32) -> Result<Vec<(i64, BackupDraft)>> {
        let rows = sqlx::query(
            "SELECT id, slug, content, status, publish_at,
                 CAST(issue_position AS BIGINT) AS issue_position,
                 created_at, updated_at
             FROM drafts WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let slug: String = row.try_get("slug")?;
                let content: String = row.try_get("content")?;
                Ok((
                    row.try_get("id")?,
                    BackupDraft {
                        story: story_from_content(&slug, &content)?.to_json(),
                        status: row.try_get("status")?,
                        publish_at: row.try_get("publish_at")?,
                        issue_position: row.try_get("issue_position")?,
                        created_at: row.try_get("created_at")?,
                        updated_at: row.try_get("updated_at")?,
                    },
                ))
            })
            .collect()
    }

    async fn backup_history(
        &self,
        after: Option<(String, u32)>,
        limit: u32,
    ) -> Result<Vec<BackupHistory>> {
        let (slug, number_after) = after.unwrap_or_default();
        let rows = sqlx::query(
            "SELECT h.slug, h.number, h.content, u.email, h.actor, h.action, h.at
             FROM story_history h LEFT JOIN users u ON u.id = h.user_id
             WHERE h.slug > $1 OR (h.slug = $1 AND h.number > $2)
             ORDER BY h.slug, h.number LIMIT $3",
        )
        .bind(&slug)
        .bind(i64::from(number_after))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let slug: String = row.try_get("slug")?;
                let content: String = row.try_get("content")?;
                Ok(BackupHistory {
                    story: story_from_content(&slug, &content)?.to_json(),
                    number: number(row.try_get("number")?, "history number")?,
                    user: row.try_get("email")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    at: row.try_get("at")?,
                    slug,
                })
            })
            .collect()
    }

    async fn publish_due_stories(&self, now: i64) -> Result<Vec<String>> {
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM drafts WHERE status = 'future' AND publish_at <= $1
             ORDER BY publish_at, id",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let scheduler = Actor::system("scheduler");
        let mut published = Vec::new();
        for slug in due {
            let mut import = self.begin_newsroom().await?;
            // The claim: only one instance turns it back into a draft.
            let claimed = sqlx::query(
                "UPDATE drafts SET status = 'draft', publish_at = NULL
                 WHERE slug = $1 AND status = 'future'",
            )
            .bind(&slug)
            .execute(&mut *import.tx)
            .await?
            .rows_affected();
            if claimed == 0 {
                continue;
            }
            match publish_draft_in(&mut import, &slug, &scheduler, now).await {
                Ok(()) => {
                    import.tx.commit().await?;
                    published.push(slug);
                }
                Err(StoreError::Refused(why)) => {
                    // Keep the claim (it stays a draft) and say why.
                    drop(import);
                    let mut import = self.begin_newsroom().await?;
                    let reclaimed = sqlx::query(
                        "UPDATE drafts SET status = 'draft', publish_at = NULL
                         WHERE slug = $1 AND status = 'future'",
                    )
                    .bind(&slug)
                    .execute(&mut *import.tx)
                    .await?
                    .rows_affected();
                    if reclaimed == 0 {
                        continue; // another instance got there first
                    }
                    super::audit(
                        &mut import.tx,
                        &scheduler,
                        "schedule-failed",
                        "story",
                        &slug,
                        &why,
                        now,
                    )
                    .await?;
                    import.tx.commit().await?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(published)
    }
}
