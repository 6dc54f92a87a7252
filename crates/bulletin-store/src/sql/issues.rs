//! Issues in the newsroom: listing, building, dating, ordering, publishing,
//! scheduling and unpublishing them. [`super::newsroom`]'s `Newsroom`
//! implementation passes its issue methods here.

use std::collections::HashSet;

use bulletin_core::{IssueRef, IssueStatus};
use sqlx::Row as _;

use super::newsroom::{DESK_DRAFTS, DESK_STORIES, desk_entry};
use super::{
    BackendStore, audit, corrupt, date_cast, date_of, draft_of, insert_draft, issue_head,
    issue_status, not_found, number, public_story, publish_in, refused, story_content, time_cast,
};
use crate::{Actor, DeskState, ImportTx, IssueDesk, IssueSummary, Result, StoreError};

pub(super) async fn issue_list(store: &BackendStore) -> Result<Vec<IssueSummary>> {
    let sql = format!(
        "SELECT i.number, {} AS date, i.status, i.publish_at,
             (SELECT count(*) FROM stories s WHERE s.issue_id = i.id)
             + (SELECT count(*) FROM drafts d WHERE d.issue_number = i.number)
             AS n
         FROM issues i ORDER BY i.number DESC",
        "CAST(i.date AS TEXT)"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(&store.pool)
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

pub(super) async fn issue_desk(store: &BackendStore, number: u32) -> Result<Option<IssueDesk>> {
    let sql = format!(
        "SELECT {} AS date, status, publish_at FROM issues WHERE number = $1",
        "CAST(date AS TEXT)"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(number))
        .fetch_optional(&store.pool)
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
    .fetch_all(&store.pool)
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<String, _>("slug")?,
            r.try_get::<i64, _>("issue_position")?,
        ))
    })
    .collect::<Result<std::collections::HashMap<String, i64>>>()?;
    let mut stories = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(i64::from(number))
        .fetch_all(&store.pool)
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

pub(super) async fn create_issue(
    store: &BackendStore,
    number: u32,
    date: Option<bulletin_core::Date>,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let mut import = store.begin_newsroom().await?;
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
    audit(
        &mut import.tx,
        actor,
        "create",
        "issue",
        &number.to_string(),
        "",
        now,
    )
    .await?;
    import.tx.commit().await?;
    Ok(())
}

pub(super) async fn set_issue_date(
    store: &BackendStore,
    number: u32,
    date: Option<bulletin_core::Date>,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let mut import = store.begin_newsroom().await?;
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
    let slugs: Vec<String> = sqlx::query_scalar("SELECT slug FROM drafts WHERE issue_number = $1")
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
    let detail = date
        .map(|d| d.to_string())
        .unwrap_or_else(|| "unknown".into());
    audit(
        &mut import.tx,
        actor,
        "date",
        "issue",
        &number.to_string(),
        &detail,
        now,
    )
    .await?;
    import.tx.commit().await?;
    Ok(())
}

pub(super) async fn set_issue_stories(
    store: &BackendStore,
    number: u32,
    slugs: &[String],
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let mut import = store.begin_newsroom().await?;
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
        let Some((mut story, issue_number, _)) = draft_of(&mut import.tx, slug).await? else {
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

pub(super) async fn publish_issue(
    store: &BackendStore,
    number: u32,
    actor: &Actor,
    now: i64,
) -> Result<u64> {
    let mut import = store.begin_newsroom().await?;
    let n = publish_in(&mut import, number, false, actor, now)
        .await?
        .unwrap_or(0);
    import.tx.commit().await?;
    Ok(n)
}

pub(super) async fn schedule_issue(
    store: &BackendStore,
    number: u32,
    at: i64,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let mut import = store.begin_newsroom().await?;
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
    sqlx::query("UPDATE issues SET status = 'scheduled', publish_at = $2 WHERE number = $1")
        .bind(i64::from(number))
        .bind(at)
        .execute(&mut *import.tx)
        .await?;
    let when = jiff::Timestamp::from_second(at)
        .map(|t| t.to_string())
        .unwrap_or_default();
    audit(
        &mut import.tx,
        actor,
        "schedule",
        "issue",
        &number.to_string(),
        &when,
        now,
    )
    .await?;
    import.tx.commit().await?;
    Ok(())
}

pub(super) async fn unpublish_issue(
    store: &BackendStore,
    number: u32,
    actor: &Actor,
    now: i64,
) -> Result<()> {
    let mut import = store.begin_newsroom().await?;
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
        insert_draft(&mut import.tx, &story, i64::from(number), position, now).await?;
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

pub(super) async fn publish_due(store: &BackendStore, now: i64) -> Result<Vec<u32>> {
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT number FROM issues WHERE status = 'scheduled' AND publish_at <= $1
         ORDER BY publish_at, number",
    )
    .bind(now)
    .fetch_all(&store.pool)
    .await?;
    let mut published = Vec::new();
    for n in due {
        let n = number(n, "issue number")?;
        let mut import = store.begin_newsroom().await?;
        let claimed = publish_in(&mut import, n, true, &Actor::system("scheduler"), now).await?;
        import.tx.commit().await?;
        if claimed.is_some() {
            published.push(n);
        }
    }
    Ok(published)
}
