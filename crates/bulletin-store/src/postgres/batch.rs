//! PostgreSQL's batch writer for the import planner: one statement per table
//! and batch, the rows passed as arrays and expanded with `unnest`.

use std::collections::HashMap;

use async_trait::async_trait;
use bulletin_core::Story;
use sqlx::Row as _;
use sqlx::postgres::PgConnection;

use super::PgStore;
use super::sql::{all_tag_slugs, loaded_issue, stories_by_id, tag_ids};
use crate::Result;
use crate::dialect::Dialect;
use crate::import_plan::{BatchWriter, Children, Existing, LoadedIssue, NewChange, Row};
use crate::rows::issue_number;

/// Writes one import's batches inside its transaction.
pub(super) struct PgBatch<'t> {
    conn: &'t mut PgConnection,
}

impl<'t> PgBatch<'t> {
    pub(super) fn new(conn: &'t mut PgConnection) -> PgBatch<'t> {
        PgBatch { conn }
    }

    /// The stories whose `column` (natural_key or source_key) is one of `values`.
    async fn lookup_by(&mut self, column: &'static str, values: &[&str]) -> Result<Vec<Existing>> {
        let sql = format!(
            "SELECT id, natural_key, source_key, slug, content_hash, issue_id, issue_number,
                    issue_position
             FROM stories WHERE {column} = ANY($1::text[])"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(values)
            .fetch_all(&mut *self.conn)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Existing {
                    id: row.try_get("id")?,
                    key: row.try_get("natural_key")?,
                    source: row.try_get("source_key")?,
                    slug: row.try_get("slug")?,
                    hash: row.try_get("content_hash")?,
                    issue_id: row.try_get("issue_id")?,
                    issue_number: row.try_get("issue_number")?,
                    position: i64::from(row.try_get::<i32, _>("issue_position")?),
                })
            })
            .collect()
    }
}

fn strings<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    items.collect()
}

#[async_trait]
impl BatchWriter for PgBatch<'_> {
    async fn lookup_existing(&mut self, keys: &[&str]) -> Result<Vec<Existing>> {
        self.lookup_by("natural_key", keys).await
    }

    async fn lookup_sources(&mut self, sources: &[&str]) -> Result<Vec<Existing>> {
        self.lookup_by("source_key", sources).await
    }

    async fn set_sources(&mut self, sources: &[(i64, &str)]) -> Result<()> {
        let ids: Vec<i64> = sources.iter().map(|(id, _)| *id).collect();
        let keys = strings(sources.iter().map(|(_, s)| *s));
        sqlx::query(
            "UPDATE stories SET source_key = u.source_key
             FROM unnest($1::int8[], $2::text[]) AS u(id, source_key)
             WHERE stories.id = u.id",
        )
        .bind(&ids)
        .bind(&keys)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn load_issues(&mut self, numbers: &[u32]) -> Result<Vec<LoadedIssue>> {
        let numbers: Vec<i64> = numbers.iter().map(|n| i64::from(*n)).collect();
        let rows = sqlx::query(
            "SELECT i.id, i.number, i.date::text AS date, i.status,
                    coalesce((SELECT max(s.issue_position) FROM stories s WHERE s.issue_id = i.id),
                             0)::int8 AS max_position
             FROM issues i WHERE i.number = ANY($1::int8[])",
        )
        .bind(&numbers)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter().map(loaded_issue).collect()
    }

    async fn insert_issues(&mut self, issues: &[(u32, Option<String>)]) -> Result<Vec<(i64, u32)>> {
        let numbers: Vec<i64> = issues.iter().map(|(n, _)| i64::from(*n)).collect();
        let dates: Vec<Option<&str>> = issues.iter().map(|(_, d)| d.as_deref()).collect();
        let rows = sqlx::query(
            "INSERT INTO issues (number, date, status, created_at, updated_at)
             SELECT u.n, u.d::date, 'published', now(), now()
             FROM unnest($1::int8[], $2::text[]) AS u(n, d)
             RETURNING id, number",
        )
        .bind(&numbers)
        .bind(&dates)
        .fetch_all(&mut *self.conn)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get("id")?, issue_number(row.try_get("number")?)?)))
            .collect()
    }

    async fn update_issue_date(&mut self, id: i64, date: &str) -> Result<()> {
        sqlx::query("UPDATE issues SET date = $1::date, updated_at = now() WHERE id = $2")
            .bind(date)
            .bind(id)
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    async fn load_tags(&mut self, names: &[&str]) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, name FROM tags WHERE name = ANY($1::text[])")
            .bind(names)
            .fetch_all(&mut *self.conn)
            .await?;
        tag_ids(&rows)
    }

    async fn all_tag_slugs(&mut self) -> Result<Vec<String>> {
        all_tag_slugs(self.conn).await
    }

    async fn insert_tags(&mut self, tags: &[(String, String)]) -> Result<Vec<(i64, String)>> {
        let names = strings(tags.iter().map(|(n, _)| n.as_str()));
        let slugs = strings(tags.iter().map(|(_, s)| s.as_str()));
        let rows = sqlx::query(
            "INSERT INTO tags (name, slug, created_at)
             SELECT u.name, u.slug, now() FROM unnest($1::text[], $2::text[]) AS u(name, slug)
             RETURNING id, name",
        )
        .bind(&names)
        .bind(&slugs)
        .fetch_all(&mut *self.conn)
        .await?;
        tag_ids(&rows)
    }

    async fn taken_slugs(&mut self, bases: &[&str]) -> Result<Vec<String>> {
        // The slug index (byte order, COLLATE "C") answers both halves: equality,
        // and the range of slugs starting with "base-" ('.' follows '-').
        Ok(sqlx::query_scalar(
            "SELECT s.slug FROM unnest($1::text[]) AS b(base) JOIN stories s ON s.slug = b.base
             UNION ALL
             SELECT s.slug FROM unnest($1::text[]) AS b(base) JOIN stories s
               ON s.slug > (b.base || '-') COLLATE \"C\" AND s.slug < (b.base || '.') COLLATE \"C\"",
        )
        .bind(bases)
        .fetch_all(&mut *self.conn)
        .await?)
    }

    async fn fetch_stories(&mut self, ids: &[i64]) -> Result<Vec<(i64, Story)>> {
        let sql = format!(
            "SELECT {} FROM stories WHERE id = ANY($1::int8[])",
            PgStore::STORY_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ids)
            .fetch_all(&mut *self.conn)
            .await?;
        stories_by_id(&rows)
    }

    async fn insert_revisions(&mut self, revisions: &[(i64, String)]) -> Result<()> {
        let ids: Vec<i64> = revisions.iter().map(|(id, _)| *id).collect();
        let contents = strings(revisions.iter().map(|(_, c)| c.as_str()));
        sqlx::query(
            "INSERT INTO revisions (story_id, number, content, replaced_at)
             SELECT u.id,
                    coalesce((SELECT max(r.number) FROM revisions r WHERE r.story_id = u.id), 0) + 1,
                    u.content::jsonb, now()
             FROM unnest($1::int8[], $2::text[]) AS u(id, content)",
        )
        .bind(&ids)
        .bind(&contents)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn insert_stories(&mut self, rows: &[Row<'_>]) -> Result<Vec<(i64, String)>> {
        let a = Arrays::new(rows);
        let out = sqlx::query(
            "INSERT INTO stories (slug, natural_key, headline, dateline_date, year_inferred,
                 credit, places, body, tags, countries, issue_id, issue_number, issue_date,
                 issue_position, first_published, copyright_holder, copyright_year, access,
                 content_hash, created_at, updated_at, source_key)
             SELECT u.slug, u.natural_key, u.headline, u.dateline_date::date, u.year_inferred,
                 u.credit, u.places, u.body, u.tags, u.countries, u.issue_id, u.issue_number,
                 u.issue_date::date, u.issue_position, u.first_published, u.copyright_holder,
                 u.copyright_year, u.access, u.content_hash, now(), now(), u.source_key
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::text[],
                 $7::text[], $8::text[], $9::text[], $10::text[], $11::int8[], $12::int8[],
                 $13::text[], $14::int4[], $15::bool[], $16::text[], $17::int2[], $18::text[],
                 $19::int8[], $20::text[])
               AS u(slug, natural_key, headline, dateline_date, year_inferred, credit, places,
                 body, tags, countries, issue_id, issue_number, issue_date, issue_position,
                 first_published, copyright_holder, copyright_year, access, content_hash,
                 source_key)
             RETURNING id, natural_key",
        )
        .bind(&a.slug)
        .bind(&a.natural_key)
        .bind(&a.headline)
        .bind(&a.dateline_date)
        .bind(&a.year_inferred)
        .bind(&a.credit)
        .bind(&a.places)
        .bind(&a.body)
        .bind(&a.tags)
        .bind(&a.countries)
        .bind(&a.issue_id)
        .bind(&a.issue_number)
        .bind(&a.issue_date)
        .bind(&a.issue_position)
        .bind(&a.first_published)
        .bind(&a.copyright_holder)
        .bind(&a.copyright_year)
        .bind(&a.access)
        .bind(&a.content_hash)
        .bind(&a.source_key)
        .fetch_all(&mut *self.conn)
        .await?;
        out.iter()
            .map(|row| Ok((row.try_get("id")?, row.try_get("natural_key")?)))
            .collect()
    }

    async fn update_stories(&mut self, rows: &[Row<'_>]) -> Result<()> {
        let a = Arrays::new(rows);
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        sqlx::query(
            "UPDATE stories SET headline = u.headline, dateline_date = u.dateline_date::date,
                 year_inferred = u.year_inferred, credit = u.credit, places = u.places,
                 body = u.body, tags = u.tags, countries = u.countries, issue_id = u.issue_id,
                 issue_number = u.issue_number, issue_date = u.issue_date::date,
                 issue_position = u.issue_position, first_published = u.first_published,
                 copyright_holder = u.copyright_holder, copyright_year = u.copyright_year,
                 access = u.access, content_hash = u.content_hash, updated_at = now()
             FROM unnest($1::int8[], $2::text[], $3::text[], $4::bool[], $5::text[],
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::int8[], $11::int8[],
                 $12::text[], $13::int4[], $14::bool[], $15::text[], $16::int2[], $17::text[],
                 $18::int8[])
               AS u(id, headline, dateline_date, year_inferred, credit, places, body, tags,
                 countries, issue_id, issue_number, issue_date, issue_position, first_published,
                 copyright_holder, copyright_year, access, content_hash)
             WHERE stories.id = u.id",
        )
        .bind(&ids)
        .bind(&a.headline)
        .bind(&a.dateline_date)
        .bind(&a.year_inferred)
        .bind(&a.credit)
        .bind(&a.places)
        .bind(&a.body)
        .bind(&a.tags)
        .bind(&a.countries)
        .bind(&a.issue_id)
        .bind(&a.issue_number)
        .bind(&a.issue_date)
        .bind(&a.issue_position)
        .bind(&a.first_published)
        .bind(&a.copyright_holder)
        .bind(&a.copyright_year)
        .bind(&a.access)
        .bind(&a.content_hash)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }

    async fn delete_children(&mut self, story_ids: &[i64]) -> Result<()> {
        for sql in [
            "DELETE FROM story_tags WHERE story_id = ANY($1::int8[])",
            "DELETE FROM story_countries WHERE story_id = ANY($1::int8[])",
            "DELETE FROM story_places WHERE story_id = ANY($1::int8[])",
        ] {
            sqlx::query(sql)
                .bind(story_ids)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn insert_children(
        &mut self,
        stories: &[(i64, &Story)],
        tags: &HashMap<String, i64>,
    ) -> Result<()> {
        let c = &Children::of(stories, tags)?;
        if !c.tags.is_empty() {
            let ids: Vec<i64> = c.tags.iter().map(|t| t.0).collect();
            let positions: Vec<i32> = c.tags.iter().map(|t| t.1).collect();
            let tags: Vec<i64> = c.tags.iter().map(|t| t.2).collect();
            sqlx::query(
                "INSERT INTO story_tags (story_id, position, tag_id, dateline_date, issue_number,
                     issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::int8[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
            )
            .bind(&ids)
            .bind(&positions)
            .bind(&tags)
            .execute(&mut *self.conn)
            .await?;
        }
        for (sql, rows) in [
            (
                "INSERT INTO story_countries (story_id, position, code, dateline_date,
                     issue_number, issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
                &c.countries,
            ),
            (
                "INSERT INTO story_places (story_id, position, place, dateline_date,
                     issue_number, issue_position)
                 SELECT u.id, u.position, u.value, s.dateline_date, s.issue_number,
                     s.issue_position
                 FROM unnest($1::int8[], $2::int4[], $3::text[]) AS u(id, position, value)
                     JOIN stories s ON s.id = u.id",
                &c.places,
            ),
        ] {
            if rows.is_empty() {
                continue;
            }
            let ids: Vec<i64> = rows.iter().map(|t| t.0).collect();
            let positions: Vec<i32> = rows.iter().map(|t| t.1).collect();
            let values = strings(rows.iter().map(|t| t.2.as_str()));
            sqlx::query(sql)
                .bind(&ids)
                .bind(&positions)
                .bind(&values)
                .execute(&mut *self.conn)
                .await?;
        }
        Ok(())
    }

    async fn insert_changes(&mut self, changes: &[NewChange]) -> Result<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let entities = strings(changes.iter().map(|c| c.entity));
        let keys = strings(changes.iter().map(|c| c.key.as_str()));
        let ops = strings(changes.iter().map(|c| c.op));
        // ORDER BY the array position: seqs follow the planner's order.
        sqlx::query(
            "INSERT INTO changes (entity, key, op, at)
             SELECT u.entity, u.key, u.op, now()
             FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS u(entity, key, op, n)
             ORDER BY u.n",
        )
        .bind(&entities)
        .bind(&keys)
        .bind(&ops)
        .execute(&mut *self.conn)
        .await?;
        Ok(())
    }
}

/// The columns of a set of story rows, as arrays for `unnest`.
struct Arrays<'a> {
    slug: Vec<&'a str>,
    natural_key: Vec<&'a str>,
    headline: Vec<&'a str>,
    dateline_date: Vec<&'a str>,
    year_inferred: Vec<bool>,
    credit: Vec<&'a str>,
    places: Vec<&'a str>,
    body: Vec<&'a str>,
    tags: Vec<&'a str>,
    countries: Vec<&'a str>,
    issue_id: Vec<Option<i64>>,
    issue_number: Vec<i64>,
    issue_date: Vec<Option<&'a str>>,
    issue_position: Vec<i32>,
    first_published: Vec<bool>,
    copyright_holder: Vec<&'a str>,
    copyright_year: Vec<i16>,
    access: Vec<&'static str>,
    content_hash: Vec<i64>,
    source_key: Vec<Option<&'a str>>,
}

impl<'a> Arrays<'a> {
    fn new(rows: &'a [Row<'a>]) -> Arrays<'a> {
        Arrays {
            slug: rows.iter().map(|r| r.slug).collect(),
            natural_key: rows.iter().map(|r| r.key).collect(),
            headline: rows.iter().map(|r| r.p.story.headline.as_str()).collect(),
            dateline_date: rows.iter().map(|r| r.p.date.as_str()).collect(),
            year_inferred: rows
                .iter()
                .map(|r| r.p.story.dateline.year_inferred)
                .collect(),
            credit: rows
                .iter()
                .map(|r| r.p.story.dateline.credit.as_str())
                .collect(),
            places: rows.iter().map(|r| r.p.places.as_str()).collect(),
            body: rows.iter().map(|r| r.p.body.as_str()).collect(),
            tags: rows.iter().map(|r| r.p.tags.as_str()).collect(),
            countries: rows.iter().map(|r| r.p.countries.as_str()).collect(),
            issue_id: rows.iter().map(|r| r.issue_id).collect(),
            issue_number: rows.iter().map(|r| r.issue_number).collect(),
            issue_date: rows.iter().map(|r| r.p.issue_date.as_deref()).collect(),
            // Positions are small; an absurd one saturates rather than wraps.
            issue_position: rows
                .iter()
                .map(|r| i32::try_from(r.position).unwrap_or(i32::MAX))
                .collect(),
            first_published: rows.iter().map(|r| r.p.story.first_published).collect(),
            copyright_holder: rows
                .iter()
                .map(|r| r.p.story.copyright.holder.as_str())
                .collect(),
            copyright_year: rows.iter().map(|r| r.p.story.copyright.year).collect(),
            access: rows.iter().map(|r| r.access()).collect(),
            content_hash: rows.iter().map(|r| r.p.hash).collect(),
            source_key: rows.iter().map(|r| r.source).collect(),
        }
    }
}
