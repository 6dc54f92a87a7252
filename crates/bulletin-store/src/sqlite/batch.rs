//! SQLite's batch writer for the import planner: JSON arrays unpacked by
//! `json_each` where one parameter can carry a whole batch, and multi-row
//! `VALUES` chunked under SQLite's limit on bound parameters elsewhere.

use std::collections::HashMap;

use async_trait::async_trait;
use bulletin_core::Story;
use sqlx::query_builder::Separated;
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{QueryBuilder, Row as _, Sqlite};

use super::SqliteStore;
use super::sql::{all_tag_slugs, loaded_issue, stories_by_id, tag_ids};
use crate::Result;
use crate::dialect::Dialect;
use crate::import_plan::{BatchWriter, Existing, LoadedIssue, NewChange, Row};
use crate::rows::{corrupt, issue_number};

/// SQLite's limit on bound parameters per statement.
const MAX_VARS: usize = 32766;

fn json_array(items: &[&str]) -> String {
    // Serialising strings cannot fail.
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_owned())
}

/// Runs `INSERT ... VALUES (...), (...) [tail]` over `items`, as many rows per
/// statement as the parameter limit allows; returns any `RETURNING` rows.
async fn insert_values<T>(
    conn: &mut SqliteConnection,
    head: &str,
    columns: usize,
    tail: &str,
    items: &[T],
    mut bind: impl FnMut(&mut Separated<'_, Sqlite, &'static str>, &T),
) -> Result<Vec<SqliteRow>> {
    let mut rows = Vec::new();
    for chunk in items.chunks((MAX_VARS / columns).max(1)) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(head);
        qb.push_values(chunk, |mut sep, item| bind(&mut sep, item));
        qb.push(tail);
        rows.extend(qb.build().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Runs `head (?, ?, ...) tail` over `items` in chunks.
async fn select_in<T: Clone + Send + for<'q> sqlx::Encode<'q, Sqlite> + sqlx::Type<Sqlite>>(
    conn: &mut SqliteConnection,
    head: &str,
    tail: &str,
    items: &[T],
) -> Result<Vec<SqliteRow>> {
    let mut rows = Vec::new();
    for chunk in items.chunks(MAX_VARS - 10) {
        let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(head);
        qb.push(" (");
        let mut sep = qb.separated(", ");
        for item in chunk {
            sep.push_bind(item.clone());
        }
        qb.push(")");
        qb.push(tail);
        rows.extend(qb.build().fetch_all(&mut *conn).await?);
    }
    Ok(rows)
}

/// Writes one import's batches inside its transaction.
pub(super) struct SqliteBatch<'t> {
    conn: &'t mut SqliteConnection,
    /// The time every row of the import is stamped with.
    now: String,
}

impl<'t> SqliteBatch<'t> {
    pub(super) fn new(conn: &'t mut SqliteConnection, now: String) -> SqliteBatch<'t> {
        SqliteBatch { conn, now }
    }

    /// The stories whose `column` (natural_key or source_key) is one of `values`.
    async fn lookup_by(&mut self, column: &'static str, values: &[&str]) -> Result<Vec<Existing>> {
        // One JSON row instead of a row per story: sqlx hands SQLite rows over one by
        // one between threads, which costs more than the query itself.
        let sql = format!(
            "SELECT json_group_array(json_array(s.id, s.natural_key, s.source_key, s.slug,
                                                s.content_hash, s.issue_id, s.issue_number,
                                                s.issue_position))
             FROM json_each(?) k CROSS JOIN stories s ON s.{column} = k.value"
        );
        let json: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(json_array(values))
            .fetch_one(&mut *self.conn)
            .await?;
        type Tuple = (
            i64,
            String,
            Option<String>,
            String,
            i64,
            Option<i64>,
            i64,
            i64,
        );
        let rows: Vec<Tuple> =
            serde_json::from_str(&json).map_err(|e| corrupt(format_args!("lookup: {e}")))?;
        Ok(rows
            .into_iter()
            .map(
                |(id, key, source, slug, hash, issue_id, issue_number, position)| Existing {
                    id,
                    key,
                    source,
                    slug,
                    hash,
                    issue_id,
                    issue_number,
                    position,
                },
            )
            .collect())
    }
}

#[async_trait]
impl BatchWriter for SqliteBatch<'_> {
    async fn lookup_existing(&mut self, keys: &[&str]) -> Result<Vec<Existing>> {
        self.lookup_by("natural_key", keys).await
    }

    async fn lookup_sources(&mut self, sources: &[&str]) -> Result<Vec<Existing>> {
        self.lookup_by("source_key", sources).await
    }

    async fn set_sources(&mut self, sources: &[(i64, &str)]) -> Result<()> {
        insert_values(
            self.conn,
            "WITH v(id, source_key) AS (",
            2,
            ") UPDATE stories SET source_key = v.source_key FROM v WHERE stories.id = v.id",
            sources,
            |sep, (id, source)| {
                sep.push_bind(*id).push_bind(source.to_string());
            },
        )
        .await?;
        Ok(())
    }

    async fn load_issues(&mut self, numbers: &[u32]) -> Result<Vec<LoadedIssue>> {
        let numbers: Vec<i64> = numbers.iter().map(|n| i64::from(*n)).collect();
        let rows = select_in(
            self.conn,
            "SELECT i.id, i.number, i.date, i.status,
                    coalesce((SELECT max(s.issue_position) FROM stories s WHERE s.issue_id = i.id), 0)
                        AS max_position
             FROM issues i WHERE i.number IN",
            "",
            &numbers,
        )
        .await?;
        rows.iter().map(loaded_issue).collect()
    }

    async fn insert_issues(&mut self, issues: &[(u32, Option<String>)]) -> Result<Vec<(i64, u32)>> {
        let now = self.now.clone();
        let rows = insert_values(
            self.conn,
            "INSERT INTO issues (number, date, status, created_at, updated_at) ",
            4,
            " RETURNING id, number",
            issues,
            |sep, (number, date)| {
                sep.push_bind(i64::from(*number))
                    .push_bind(date.clone())
                    .push("'published'")
                    .push_bind(now.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, issue_number(row.try_get("number")?)?)))
            .collect()
    }

    async fn update_issue_date(&mut self, id: i64, date: &str) -> Result<()> {
        sqlx::query("UPDATE issues SET date = ?, updated_at = ? WHERE id = ?")
            .bind(date)
            .bind(&self.now)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn load_tags(&mut self, names: &[&str]) -> Result<Vec<(i64, String)>> {
        let rows = select_in(
            self.conn,
            "SELECT id, name FROM tags WHERE name IN",
            "",
            names,
        )
        .await?;
        tag_ids(&rows)
    }

    async fn all_tag_slugs(&mut self) -> Result<Vec<String>> {
        all_tag_slugs(self.conn).await
    }

    async fn insert_tags(&mut self, tags: &[(String, String)]) -> Result<Vec<(i64, String)>> {
        let now = self.now.clone();
        let rows = insert_values(
            self.conn,
            "INSERT INTO tags (name, slug, created_at) ",
            3,
            " RETURNING id, name",
            tags,
            |sep, (name, slug)| {
                sep.push_bind(name.clone())
                    .push_bind(slug.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        tag_ids(&rows)
    }

    async fn taken_slugs(&mut self, bases: &[&str]) -> Result<Vec<String>> {
        // The slug index answers both halves: equality, and the range of slugs that
        // start with "base-" ('.' follows '-' in byte order).
        let json: String = sqlx::query_scalar(
            "SELECT json_group_array(slug) FROM (
                 SELECT s.slug FROM json_each(?1) b CROSS JOIN stories s ON s.slug = b.value
                 UNION ALL
                 SELECT s.slug FROM json_each(?1) b CROSS JOIN stories s
                   ON s.slug > b.value || '-' AND s.slug < b.value || '.')",
        )
        .bind(json_array(bases))
        .fetch_one(&mut *self.conn)
        .await?;
        serde_json::from_str(&json).map_err(|e| corrupt(format_args!("slugs: {e}")))
    }

    async fn fetch_stories(&mut self, ids: &[i64]) -> Result<Vec<(i64, Story)>> {
        let rows = select_in(
            self.conn,
            &format!(
                "SELECT {} FROM stories WHERE id IN",
                SqliteStore::STORY_COLUMNS
            ),
            "",
            ids,
        )
        .await?;
        stories_by_id(&rows)
    }

    async fn insert_revisions(&mut self, revisions: &[(i64, String)]) -> Result<()> {
        let now = self.now.clone();
        insert_values(
            self.conn,
            "INSERT INTO revisions (story_id, number, content, replaced_at) ",
            4,
            "",
            revisions,
            |sep, (id, content)| {
                sep.push_bind(*id)
                    .push("(SELECT coalesce(max(r.number), 0) + 1 FROM revisions r WHERE r.story_id = ")
                    .push_bind_unseparated(*id)
                    .push_unseparated(")")
                    .push_bind(content.clone())
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }

    async fn insert_stories(&mut self, rows: &[Row<'_>]) -> Result<Vec<(i64, String)>> {
        // This transaction is the only writer, so it may number the rows itself and
        // skip `RETURNING` (a row handed back per story).
        let first: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) + 1 FROM stories")
            .fetch_one(&mut *self.conn)
            .await?;
        let now = self.now.clone();
        let numbered: Vec<(i64, &Row<'_>)> = (first..).zip(rows).collect();
        insert_values(
            self.conn,
            "INSERT INTO stories (id, slug, natural_key, headline, dateline_date, year_inferred,
                 credit, places, body, tags, countries, issue_id, issue_number, issue_date,
                 issue_position, first_published, copyright_holder, copyright_year, access,
                 content_hash, created_at, updated_at, source_key) ",
            23,
            "",
            &numbered,
            |sep, (id, r)| {
                let s = &r.p.story;
                sep.push_bind(*id)
                    .push_bind(r.slug.to_owned())
                    .push_bind(r.key.to_owned())
                    .push_bind(s.headline.clone())
                    .push_bind(r.p.date.clone())
                    .push_bind(s.dateline.year_inferred)
                    .push_bind(s.dateline.credit.clone())
                    .push_bind(r.p.places.clone())
                    .push_bind(r.p.body.clone())
                    .push_bind(r.p.tags.clone())
                    .push_bind(r.p.countries.clone())
                    .push_bind(r.issue_id)
                    .push_bind(r.issue_number)
                    .push_bind(r.p.issue_date.clone())
                    .push_bind(r.position)
                    .push_bind(s.first_published)
                    .push_bind(s.copyright.holder.clone())
                    .push_bind(i64::from(s.copyright.year))
                    .push_bind(r.access())
                    .push_bind(r.p.hash)
                    .push_bind(now.clone())
                    .push_bind(now.clone())
                    .push_bind(r.source.map(str::to_owned));
            },
        )
        .await?;
        Ok(numbered
            .iter()
            .map(|(id, r)| (*id, r.key.to_owned()))
            .collect())
    }

    async fn update_stories(&mut self, rows: &[Row<'_>]) -> Result<()> {
        let now = self.now.clone();
        insert_values(
            self.conn,
            "WITH v(id, headline, dateline_date, year_inferred, credit, places, body, tags,
                    countries, issue_id, issue_number, issue_date, issue_position,
                    first_published, copyright_holder, copyright_year, access, content_hash,
                    updated_at) AS (",
            19,
            ") UPDATE stories SET headline = v.headline, dateline_date = v.dateline_date,
                 year_inferred = v.year_inferred, credit = v.credit, places = v.places,
                 body = v.body, tags = v.tags, countries = v.countries, issue_id = v.issue_id,
                 issue_number = v.issue_number, issue_date = v.issue_date,
                 issue_position = v.issue_position, first_published = v.first_published,
                 copyright_holder = v.copyright_holder, copyright_year = v.copyright_year,
                 access = v.access, content_hash = v.content_hash, updated_at = v.updated_at
               FROM v WHERE stories.id = v.id",
            rows,
            |sep, r| {
                let s = &r.p.story;
                sep.push_bind(r.id)
                    .push_bind(s.headline.clone())
                    .push_bind(r.p.date.clone())
                    .push_bind(s.dateline.year_inferred)
                    .push_bind(s.dateline.credit.clone())
                    .push_bind(r.p.places.clone())
                    .push_bind(r.p.body.clone())
                    .push_bind(r.p.tags.clone())
                    .push_bind(r.p.countries.clone())
                    .push_bind(r.issue_id)
                    .push_bind(r.issue_number)
                    .push_bind(r.p.issue_date.clone())
                    .push_bind(r.position)
                    .push_bind(s.first_published)
                    .push_bind(s.copyright.holder.clone())
                    .push_bind(i64::from(s.copyright.year))
                    .push_bind(r.access())
                    .push_bind(r.p.hash)
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }

    async fn delete_children(&mut self, story_ids: &[i64]) -> Result<()> {
        for table in ["story_tags", "story_countries", "story_places"] {
            select_in(
                self.conn,
                &format!("DELETE FROM {table} WHERE story_id IN"),
                "",
                story_ids,
            )
            .await?;
        }
        Ok(())
    }

    async fn insert_children(
        &mut self,
        stories: &[(i64, &Story)],
        _tags: &HashMap<String, i64>,
    ) -> Result<()> {
        // SQLite unpacks the stories' own JSON columns: one statement per table and
        // one parameter, instead of a bound row per tag, country and place. A value
        // listed twice gets one row, at its first position; each row carries its
        // story's sort key (see migrations/sqlite/0002).
        let ids = serde_json::to_string(&stories.iter().map(|(id, _)| *id).collect::<Vec<_>>())
            .map_err(|e| corrupt(format_args!("ids: {e}")))?;
        for sql in [
            "INSERT INTO story_tags (story_id, position, tag_id, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), t.id, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.tags) j JOIN tags t ON t.name = j.value
             GROUP BY s.id, t.id",
            "INSERT INTO story_countries (story_id, position, code, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), j.value, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.countries) j
             GROUP BY s.id, j.value",
            "INSERT INTO story_places (story_id, position, place, dateline_date, issue_number,
                 issue_position)
             SELECT s.id, min(j.key), j.value, s.dateline_date, s.issue_number, s.issue_position
             FROM json_each(?) i CROSS JOIN stories s ON s.id = i.value
                 CROSS JOIN json_each(s.places) j
             GROUP BY s.id, j.value",
        ] {
            sqlx::query(sql).bind(&ids).execute(&mut *self.conn).await?;
        }
        Ok(())
    }

    async fn insert_changes(&mut self, changes: &[NewChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let now = self.now.clone();
        insert_values(
            self.conn,
            "INSERT INTO changes (entity, key, op, at) ",
            4,
            "",
            changes,
            |sep, c| {
                sep.push_bind(c.entity)
                    .push_bind(c.key.clone())
                    .push_bind(c.op)
                    .push_bind(now.clone());
            },
        )
        .await?;
        Ok(())
    }
}
