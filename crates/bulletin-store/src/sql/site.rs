//! [`PublicSite`] over one backend: the publication, public stories and their
//! listings, issues, tags, the archives, and the change log. Where the two
//! databases need different SQL, the text is the backend's [`Dialect`].

use std::collections::HashMap;

use async_trait::async_trait;
use bulletin_core::{Access, Issue, IssueStatus, Publication, Story, Tag};
use sqlx::Row as _;

use super::{
    BackendStore, Db, DbRow, Dialect, corrupt, issue_status, parse_date, read_int2, read_int4,
    years,
};
use crate::import_plan::LoadedIssue;
use crate::listing::{self, Piece, Select};
use crate::rows::StoryRow;
use crate::rows::{self, count, issue_number};
use crate::{Change, Counts, PublicSite, Result, Revision, StoryIndexEntry, StoryPage, StoryQuery};

/// A row of [`Dialect::STORY_COLUMNS`] (or `LIST_COLUMNS`).
pub(crate) fn story_row(row: &DbRow) -> Result<StoryRow> {
    Ok(StoryRow {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        headline: row.try_get("headline")?,
        dateline_date: row.try_get("dateline_date")?,
        year_inferred: row.try_get("year_inferred")?,
        credit: row.try_get("credit")?,
        places: row.try_get("places")?,
        body: row.try_get("body")?,
        tags: row.try_get("tags")?,
        countries: row.try_get("countries")?,
        issue_id: row.try_get("issue_id")?,
        issue_number: row.try_get("issue_number")?,
        issue_date: row.try_get("issue_date")?,
        issue_position: read_int4(row, "issue_position")?,
        first_published: row.try_get("first_published")?,
        copyright_holder: row.try_get("copyright_holder")?,
        copyright_year: read_int2(row, "copyright_year")?,
        access: row.try_get("access")?,
    })
}

fn change(row: &DbRow) -> Result<Change> {
    Ok(Change {
        seq: row.try_get("seq")?,
        entity: row.try_get("entity")?,
        key: row.try_get("key")?,
        op: row.try_get("op")?,
        at: row.try_get("at")?,
    })
}

/// A query made of [`crate::listing::listing`]'s pieces.
pub(crate) fn listing_query(pieces: Vec<Piece>) -> sqlx::QueryBuilder<Db> {
    let mut qb = sqlx::QueryBuilder::new("");
    for piece in pieces {
        match piece {
            Piece::Sql(sql) => {
                qb.push(sql);
            }
            Piece::Unindexed(column) => {
                qb.push(format_args!(
                    "{}{column}",
                    <BackendStore as Dialect>::UNINDEXED_PREFIX
                ));
            }
            Piece::Int(n) => {
                qb.push_bind(n);
            }
            Piece::Text(t) => {
                qb.push_bind(t);
            }
            Piece::Date(d) => {
                qb.push_bind(d)
                    .push(<BackendStore as Dialect>::DATE_PARAM_CAST);
            }
        }
    }
    qb
}

/// An issue as the import planner loads it: `id`, `number`, `date` (text),
/// `status` and `max_position`.
pub(crate) fn loaded_issue(row: &DbRow) -> Result<LoadedIssue> {
    let date: Option<String> = row.try_get("date")?;
    let status: String = row.try_get("status")?;
    Ok(LoadedIssue {
        id: row.try_get("id")?,
        number: issue_number(row.try_get("number")?)?,
        date: date.as_deref().map(parse_date).transpose()?,
        status: issue_status(&status)?,
        max_position: row.try_get("max_position")?,
    })
}

/// (id, story) of rows of [`Dialect::STORY_COLUMNS`].
pub(crate) fn stories_by_id(rows: &[DbRow]) -> Result<Vec<(i64, Story)>> {
    rows.iter()
        .map(|row| {
            let r = story_row(row)?;
            Ok((r.id, r.into_story()?))
        })
        .collect()
}

/// (id, name) of `tags` rows.
pub(crate) fn tag_ids(rows: &[DbRow]) -> Result<Vec<(i64, String)>> {
    rows.iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("name")?)))
        .collect()
}

/// Every tag's slug, for the import planner.
pub(crate) async fn all_tag_slugs(
    conn: &mut <Db as sqlx::Database>::Connection,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT slug FROM tags")
        .fetch_all(conn)
        .await?)
}

/// An issue from a row of [`Dialect::ISSUE_COLUMNS`], with these stories.
fn issue_of_row(row: &DbRow, stories: Vec<String>) -> Result<Issue> {
    let date: Option<String> = row.try_get("date")?;
    let status: String = row.try_get("status")?;
    Ok(Issue {
        number: issue_number(row.try_get("number")?)?,
        date: date.as_deref().map(parse_date).transpose()?,
        status: issue_status(&status)?,
        stories,
    })
}

impl BackendStore {
    /// The issue of `row` (from `issues`) with its stories' slugs in issue order.
    async fn with_stories(&self, row: Option<DbRow>) -> Result<Option<Issue>> {
        let Some(row) = row else {
            return Ok(None);
        };
        let id: i64 = row.try_get("id")?;
        let stories: Vec<String> = sqlx::query_scalar(
            "SELECT slug FROM stories WHERE issue_id = $1 ORDER BY issue_position, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some(issue_of_row(&row, stories)?))
    }
}

#[async_trait]
impl PublicSite for BackendStore {
    fn backend(&self) -> &'static str {
        <BackendStore as Dialect>::NAME
    }

    async fn schema_status(&self) -> Result<crate::SchemaStatus> {
        super::schema::schema_status(&self.pool, &super::super::migrator()).await
    }

    fn pool_connections(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    async fn publication(&self) -> Result<Publication> {
        let row = sqlx::query(
            "SELECT name, credit, base_url, time_zone, copyright, language, copyright_holder,
                    default_access, sender_name
             FROM publication WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| corrupt("the publication row is missing"))?;
        Ok(Publication {
            name: row.try_get("name")?,
            credit: row.try_get("credit")?,
            base_url: row.try_get("base_url")?,
            time_zone: row.try_get("time_zone")?,
            copyright: row.try_get("copyright")?,
            language: row.try_get("language")?,
            copyright_holder: row.try_get("copyright_holder")?,
            default_access: {
                let access: String = row.try_get("default_access")?;
                Access::parse(&access).ok_or_else(|| {
                    corrupt(format!(
                        "the publication's default access {access:?} is unknown"
                    ))
                })?
            },
            sender_name: row.try_get("sender_name")?,
        })
    }

    async fn story(&self, slug: &str) -> Result<Option<Story>> {
        let sql = format!(
            "SELECT {} FROM stories WHERE slug = $1",
            <BackendStore as Dialect>::STORY_COLUMNS
        );
        match sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
        {
            Some(row) => Ok(Some(story_row(&row)?.into_story()?)),
            None => Ok(None),
        }
    }

    async fn stories(&self, query: &StoryQuery) -> Result<StoryPage> {
        let limit = listing::page_size(query.limit);
        let select = Select::Page {
            columns: <BackendStore as Dialect>::LIST_COLUMNS,
            limit,
        };
        let mut qb = listing_query(listing::listing(query, select)?);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let rows = rows.iter().map(story_row).collect::<Result<Vec<_>>>()?;
        listing::into_page(rows, limit)
    }

    async fn count_stories(&self, query: &StoryQuery) -> Result<u64> {
        let mut qb = listing_query(listing::listing(query, Select::Count)?);
        let n: i64 = qb.build_query_scalar().fetch_one(&self.pool).await?;
        Ok(count(n))
    }

    async fn issues(&self) -> Result<Vec<Issue>> {
        let sql = format!(
            "SELECT {} FROM issues ORDER BY number",
            <BackendStore as Dialect>::ISSUE_COLUMNS
        );
        let issues = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        let slugs = sqlx::query(
            "SELECT issue_id, slug FROM stories WHERE issue_id IS NOT NULL
             ORDER BY issue_number, issue_position, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_issue: HashMap<i64, Vec<String>> = HashMap::new();
        for row in slugs {
            by_issue
                .entry(row.try_get("issue_id")?)
                .or_default()
                .push(row.try_get("slug")?);
        }
        issues
            .iter()
            .map(|row| {
                let id: i64 = row.try_get("id")?;
                issue_of_row(row, by_issue.remove(&id).unwrap_or_default())
            })
            .collect()
    }

    async fn issue(&self, number: u32) -> Result<Option<Issue>> {
        let sql = format!(
            "SELECT {} FROM issues WHERE number = $1",
            <BackendStore as Dialect>::ISSUE_COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(number))
            .fetch_optional(&self.pool)
            .await?;
        self.with_stories(row).await
    }

    async fn latest_issue(&self) -> Result<Option<Issue>> {
        // Walks issues_newest and stops at the first issue that stories_by_issue
        // says is not empty (see LATEST_ISSUE_ORDER).
        let sql = format!(
            "SELECT {} FROM issues i
             WHERE i.status = 'published'
                 AND EXISTS (SELECT 1 FROM stories s WHERE s.issue_id = i.id)
             ORDER BY {} LIMIT 1",
            <BackendStore as Dialect>::ISSUE_COLUMNS,
            <BackendStore as Dialect>::LATEST_ISSUE_ORDER
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        self.with_stories(row).await
    }

    async fn neighbour_issues(&self, number: u32) -> Result<(Option<u32>, Option<u32>)> {
        let row = sqlx::query(
            "SELECT (SELECT number FROM issues WHERE number < $1 AND status = 'published'
                        ORDER BY number DESC LIMIT 1)
                        AS previous,
                    (SELECT number FROM issues WHERE number > $1 AND status = 'published'
                        ORDER BY number LIMIT 1)
                        AS next",
        )
        .bind(i64::from(number))
        .fetch_one(&self.pool)
        .await?;
        let previous: Option<i64> = row.try_get("previous")?;
        let next: Option<i64> = row.try_get("next")?;
        Ok((
            previous.map(issue_number).transpose()?,
            next.map(issue_number).transpose()?,
        ))
    }

    async fn issue_statuses(&self) -> Result<Vec<(u32, IssueStatus)>> {
        let rows = sqlx::query("SELECT number, status FROM issues ORDER BY number")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                Ok((
                    issue_number(row.try_get("number")?)?,
                    issue_status(&status)?,
                ))
            })
            .collect()
    }

    async fn tags(&self) -> Result<Vec<(Tag, u64)>> {
        let rows = sqlx::query(
            "SELECT t.name, t.slug, t.description,
                    (SELECT count(*) FROM story_tags st WHERE st.tag_id = t.id) AS n
             FROM tags t ORDER BY t.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    Tag {
                        name: row.try_get("name")?,
                        slug: row.try_get("slug")?,
                        description: row.try_get("description")?,
                    },
                    count(row.try_get("n")?),
                ))
            })
            .collect()
    }

    async fn countries(&self) -> Result<Vec<(String, u64)>> {
        // One pass over story_countries_newest (one row per story and code).
        let sql = format!(
            "SELECT code, count(*) FROM story_countries
             GROUP BY code ORDER BY code{}",
            <BackendStore as Dialect>::BYTE_ORDER
        );
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(c, n)| (c, count(n))).collect())
    }

    async fn places(&self) -> Result<Vec<(String, u64)>> {
        // Byte order on both backends, whatever PostgreSQL's collation.
        let sql = format!(
            "SELECT place, count(*) FROM story_places
             GROUP BY place ORDER BY place{}",
            <BackendStore as Dialect>::BYTE_ORDER
        );
        let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(p, n)| (p, count(n))).collect())
    }

    async fn months(&self) -> Result<Vec<(i16, i8, u64)>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(<BackendStore as Dialect>::MONTHS)
            .fetch_all(&self.pool)
            .await?;
        rows::months_from(rows)
    }

    async fn revisions(&self, slug: &str) -> Result<Vec<Revision>> {
        let rows = sqlx::query(<BackendStore as Dialect>::REVISIONS)
            .bind(slug)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let number = read_int4(row, "number")?;
                let content: String = row.try_get("content")?;
                rows::revision(number, &content, row.try_get("replaced_at")?)
            })
            .collect()
    }

    async fn counts(&self) -> Result<Counts> {
        let row = sqlx::query(<BackendStore as Dialect>::COUNTS)
            .fetch_one(&self.pool)
            .await?;
        let years = years(&self.pool).await?;
        let first: Option<String> = row.try_get("first_date")?;
        let last: Option<String> = row.try_get("last_date")?;
        Ok(Counts {
            stories: count(row.try_get("stories")?),
            issues: count(row.try_get("issues")?),
            tags: count(row.try_get("tags")?),
            revisions: count(row.try_get("revisions")?),
            years,
            first_date: first.as_deref().map(parse_date).transpose()?,
            last_date: last.as_deref().map(parse_date).transpose()?,
        })
    }

    async fn story_index(&self, offset: u64, limit: u32) -> Result<Vec<StoryIndexEntry>> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as(<BackendStore as Dialect>::STORY_INDEX)
                .bind(i64::from(limit))
                .bind(i64::try_from(offset).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(slug, date, updated_at)| {
                let date = parse_date(&date)?;
                Ok(StoryIndexEntry {
                    url: rows::story_url(date, &slug),
                    slug,
                    date,
                    updated_at,
                })
            })
            .collect()
    }

    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<Change>> {
        let sql = format!(
            "SELECT {} FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            <BackendStore as Dialect>::CHANGE_COLUMNS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(change).collect()
    }

    async fn last_change(&self) -> Result<i64> {
        // One step down the primary key (SQLite: `seq` is the rowid).
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM changes ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0))
    }

    async fn latest_change(&self) -> Result<Option<Change>> {
        let sql = format!(
            "SELECT {} FROM changes ORDER BY seq DESC LIMIT 1",
            <BackendStore as Dialect>::CHANGE_COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(change).transpose()
    }
}
