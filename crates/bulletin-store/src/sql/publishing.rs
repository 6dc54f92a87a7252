//! The newsroom's steps inside one write transaction: versions and history,
//! drafts, free slugs, and publishing (drafts move into `stories` through the
//! import transaction, so the change log follows).

use bulletin_core::{IssueRef, IssueStatus, Story};
use sqlx::Row as _;

use super::{
    BackendImport, BackendStore, Dialect, Tx, audit, corrupt, date_of, issue_status, not_found,
    number, refused, story_content, story_from_content, story_row, tags_json,
};
use crate::import_plan::TxCache;
use crate::{Actor, ImportTx, PutOutcome, Result, StoreError};

/// The public story with this slug, read inside `tx`.
pub(super) async fn public_story(tx: &mut Tx, slug: &str) -> Result<Option<Story>> {
    let sql = format!(
        "SELECT {} FROM stories WHERE slug = $1",
        <BackendStore as Dialect>::STORY_COLUMNS
    );
    match sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(slug)
        .fetch_optional(&mut **tx)
        .await?
    {
        Some(row) => Ok(Some(story_row(&row)?.into_story()?)),
        None => Ok(None),
    }
}

pub(super) async fn version(tx: &mut Tx, slug: &str) -> Result<u32> {
    let n: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(number), 0) FROM story_history WHERE slug = $1")
            .bind(slug)
            .fetch_one(&mut **tx)
            .await?;
    number(n, "version")
}

pub(super) async fn add_history(
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
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Refused(format!(
            "story {:?} was saved by someone else at the same moment",
            story.slug
        )),
        _ => e.into(),
    })?;
    Ok(())
}

pub(super) async fn draft_of(tx: &mut Tx, slug: &str) -> Result<Option<(Story, i64, i64)>> {
    let row =
        sqlx::query("SELECT content, issue_number, issue_position FROM drafts WHERE slug = $1")
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

pub(super) async fn insert_draft(
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

pub(super) async fn update_draft(tx: &mut Tx, story: &Story, now: i64) -> Result<()> {
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
pub(super) async fn issue_head(
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
            Ok(Some((
                date_of(row.try_get("date")?)?,
                issue_status(&status)?,
            )))
        }
        None => Ok(None),
    }
}

/// Where a draft added to issue `number` goes: after its last draft.
pub(super) async fn next_draft_position(tx: &mut Tx, number: u32) -> Result<i64> {
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
pub(super) async fn free_slug(tx: &mut Tx, base: &str) -> Result<String> {
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
pub(super) async fn go_public(import: &mut BackendImport, stories: Vec<Story>) -> Result<()> {
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
                return Err(corrupt(format_args!("publishing {slug:?} gave {other:?}")));
            }
        }
    }
    Ok(())
}

/// Moves an issue's drafts into `stories` and marks it published.
/// `claim`: only if it is still scheduled (the scheduler's claim).
/// `None` when the claim found it no longer scheduled.
pub(super) async fn publish_in(
    import: &mut BackendImport,
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
        story
            .validate()
            .map_err(|source| StoreError::InvalidStory {
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
pub(super) async fn publish_draft_in(
    import: &mut BackendImport,
    slug: &str,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let Some((mut story, issue_number, _)) = draft_of(&mut import.tx, slug).await? else {
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
    story
        .validate()
        .map_err(|source| StoreError::InvalidStory {
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

impl BackendStore {
    pub(super) async fn begin_newsroom(&self) -> Result<BackendImport> {
        Ok(BackendImport {
            tx: self.begin_write().await?,
            cache: TxCache::default(),
        })
    }
}
