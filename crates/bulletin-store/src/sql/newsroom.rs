//! [`Newsroom`] over one backend: staff sessions and API tokens, sign-in
//! throttling, the desk, saving and publishing stories, and the audit log. Its
//! issue methods are in [`super::issues`].

use async_trait::async_trait;
use bulletin_core::staff::Role;
use bulletin_core::{IssueRef, Story};
use sqlx::Row as _;

use super::{
    BackendStore, DbRow, add_history, audit, corrupt, draft_of, free_slug, insert_draft,
    issue_head, issues, next_draft_position, not_found, number, parse_date, public_story,
    publish_draft_in, refused, story_from_content, tag_pattern, text_pattern, update_draft,
    version,
};
use crate::{
    Actor, ApiToken, AttemptLimit, AuditEntry, DeskEntry, DeskQuery, DeskState, DeskStory,
    HistoryEntry, ImportTx, IssueDesk, IssueSummary, Newsroom, Reservation, Result, SaveOutcome,
    Session, StoreError,
};

// Both lists name their table `x`, so that filters apply to either.
pub(super) const DESK_DRAFTS: &str = "SELECT x.slug, x.headline, x.dateline_date, x.issue_number,
        'draft' AS state, x.updated_at AS sort_at,
        (SELECT h.actor FROM story_history h
         WHERE h.slug = x.slug AND h.number = 1 AND h.user_id IS NOT NULL) AS author,
        x.status AS waiting, x.publish_at AS publish_at
     FROM drafts x";
pub(super) const DESK_STORIES: &str = "SELECT x.slug, x.headline,
        CAST(x.dateline_date AS TEXT) AS dateline_date, x.issue_number,
        'published' AS state, 0 AS sort_at,
        (SELECT h.actor FROM story_history h
         WHERE h.slug = x.slug AND h.number = 1 AND h.user_id IS NOT NULL) AS author,
        'publish' AS waiting, CAST(NULL AS BIGINT) AS publish_at
     FROM stories x";

pub(super) fn desk_entry(row: &DbRow) -> Result<DeskEntry> {
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

fn api_token_row(row: &DbRow) -> Result<ApiToken> {
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

#[async_trait]
impl Newsroom for BackendStore {
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
            role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
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

    async fn delete_expired_sessions(&self, created_before: i64, seen_before: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM sessions WHERE created_at < $1 OR last_seen_at < $2")
                .bind(created_before)
                .bind(seen_before)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
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

    async fn api_token(&self, token_hash: &str, now: i64) -> Result<Option<(ApiToken, Session)>> {
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
            role: Role::parse(&role).ok_or_else(|| corrupt(format_args!("role {role:?}")))?,
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

    async fn reserve_attempt(
        &self,
        limits: &[AttemptLimit<'_>],
        now: i64,
        since: i64,
    ) -> Result<Reservation> {
        super::throttle::reserve(self, limits, now, since).await
    }

    async fn release_attempt(&self, id: i64) -> Result<()> {
        super::throttle::release(self, id).await
    }

    async fn record_login_failure(&self, key: &str, at: i64, forget_before: i64) -> Result<()> {
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
        let n: i64 =
            sqlx::query_scalar("SELECT count(*) FROM login_failures WHERE key = $1 AND at >= $2")
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
        let text = q
            .text
            .as_deref()
            .filter(|t| !t.is_empty())
            .map(text_pattern);
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
                    let Some((date, _)) = issue_head(&mut import.tx, r.number).await? else {
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
            audit(
                &mut import.tx,
                actor,
                "create",
                "story",
                &story.slug,
                "",
                now,
            )
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
            let by = history.last().map(|h| h.actor.clone()).unwrap_or_default();
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
            add_history(
                &mut import.tx,
                &old,
                1,
                &Actor::system("import"),
                "import",
                now,
            )
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
        let position: i64 = sqlx::query_scalar(
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
        issues::issue_list(self).await
    }

    async fn issue_desk(&self, number: u32) -> Result<Option<IssueDesk>> {
        issues::issue_desk(self, number).await
    }

    async fn create_issue(
        &self,
        number: u32,
        date: Option<bulletin_core::Date>,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        issues::create_issue(self, number, date, actor, now).await
    }

    async fn set_issue_date(
        &self,
        number: u32,
        date: Option<bulletin_core::Date>,
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        issues::set_issue_date(self, number, date, actor, now).await
    }

    async fn set_issue_stories(
        &self,
        number: u32,
        slugs: &[String],
        actor: &Actor,
        now: i64,
    ) -> Result<()> {
        issues::set_issue_stories(self, number, slugs, actor, now).await
    }

    async fn publish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<u64> {
        issues::publish_issue(self, number, actor, now).await
    }

    async fn schedule_issue(&self, number: u32, at: i64, actor: &Actor, now: i64) -> Result<()> {
        issues::schedule_issue(self, number, at, actor, now).await
    }

    async fn unpublish_issue(&self, number: u32, actor: &Actor, now: i64) -> Result<()> {
        issues::unpublish_issue(self, number, actor, now).await
    }

    async fn publish_due(&self, now: i64) -> Result<Vec<u32>> {
        issues::publish_due(self, now).await
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
