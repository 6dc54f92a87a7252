//! The public listing query ([`crate::Store::stories`] and
//! [`crate::Store::count_stories`]) as pieces both backends assemble, its keyset
//! cursor, and its pages.

use bulletin_core::Date;

use crate::rows::StoryRow;
use crate::{Result, StoreError};

/// Page size cap of [`crate::StoryQuery::limit`].
pub(crate) const MAX_PAGE: u32 = 10_000;
/// Where a page of the newest-first listing ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    pub date: String,
    pub issue_number: i64,
    pub position: i64,
    pub id: i64,
}

pub(crate) fn encode_cursor(c: &Cursor) -> String {
    format!("{}_{}_{}_{}", c.date, c.issue_number, c.position, c.id)
}

pub(crate) fn decode_cursor(s: &str) -> Result<Cursor> {
    let bad = || StoreError::BadCursor(s.to_owned());
    let mut parts = s.rsplitn(4, '_');
    let id = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let position = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let issue_number = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let date = parts.next().ok_or_else(bad)?;
    // Only a real date goes back into SQL.
    let date = date.parse::<Date>().map_err(|_| bad())?.to_string();
    Ok(Cursor {
        date,
        issue_number,
        position,
        id,
    })
}

/// A piece of a listing query: SQL text, or a value each backend binds.
pub(crate) enum Piece {
    Sql(String),
    /// A column that must not pick the index: SQLite writes it as `+column`.
    /// Testing a story's side rows for a value must look them up by story id
    /// (primary key), not scan the value's rows in the `*_newest` index, which
    /// SQLite (without statistics) would otherwise prefer.
    Unindexed(String),
    Int(i64),
    Text(String),
    /// `YYYY-MM-DD` (PostgreSQL casts it to `date`).
    Date(String),
}

/// What a listing query reads.
pub(crate) enum Select<'a> {
    /// `count(*)` of the matching stories; cursor, offset and limit ignored.
    Count,
    /// A page of stories: these columns of `stories s`, one more row than the
    /// page size (see [`into_page`]).
    Page { columns: &'a str, limit: u32 },
}

/// The query of [`crate::Store::stories`] and [`crate::Store::count_stories`],
/// for both backends.
///
/// It walks one table in listing order and tests every other filter on the rows it
/// meets, stopping once the page is full:
/// - with an issue, the issue's stories (`stories_by_issue`: a handful);
/// - else with a place, country or tag (in that order: the likely rarest first),
///   that value's index range in its side table (`story_*_newest`), whose rows copy
///   their story's sort key;
/// - else `stories` by `stories_newest`, which also serves the date bounds.
///
/// Offset and limit apply to the walk alone, on its index; only the page's stories
/// are then read.
///
/// So a page costs its offset plus its length in index entries, not the number of
/// stories matching, and a count reads no story rows unless an issue is given.
pub(crate) fn listing(q: &crate::StoryQuery, select: Select<'_>) -> Result<Vec<Piece>> {
    use Piece::{Date, Int, Sql, Text, Unindexed};
    #[derive(PartialEq)]
    enum Walk {
        Stories,
        Tags,
        Countries,
        Places,
    }
    let walk = if q.issue.is_some() {
        Walk::Stories
    } else if q.place.is_some() {
        Walk::Places
    } else if q.country.is_some() {
        Walk::Countries
    } else if q.tag.is_some() {
        Walk::Tags
    } else {
        Walk::Stories
    };
    // `k`: the table whose sort-key columns the walk reads; `id`: the story id.
    let (table, k, id) = match walk {
        Walk::Stories => ("stories s", "s", "s.id"),
        Walk::Tags => ("story_tags o", "o", "o.story_id"),
        Walk::Countries => ("story_countries o", "o", "o.story_id"),
        Walk::Places => ("story_places o", "o", "o.story_id"),
    };
    let order =
        format!("{k}.dateline_date DESC, {k}.issue_number DESC, {k}.issue_position ASC, {id} ASC");
    let mut out = vec![Sql(match &select {
        Select::Count => format!("SELECT count(*) FROM {table}"),
        // The page's sort keys first, from the walked index alone (skipped rows
        // included); then only the page's stories.
        Select::Page { columns, .. } => format!(
            "SELECT {columns} FROM (SELECT {id} AS story_id, {k}.dateline_date, \
             {k}.issue_number, {k}.issue_position FROM {table}"
        ),
    })];
    let mut first = true;
    let mut and = |out: &mut Vec<Piece>| {
        out.push(Sql(if first { " WHERE " } else { " AND " }.into()));
        first = false;
    };
    if let Some(n) = q.issue {
        and(&mut out);
        let sql = "s.issue_id = (SELECT id FROM issues WHERE number = ";
        out.extend([Sql(sql.into()), Int(i64::from(n)), Sql(")".into())]);
    }
    // The walked table's own value is an index equality; any other is tested on
    // each story the walk meets.
    if let Some(tag) = &q.tag {
        and(&mut out);
        let by_name = "(SELECT id FROM tags WHERE name = ";
        if walk == Walk::Tags {
            out.push(Sql(format!("o.tag_id = {by_name}")));
        } else {
            out.extend([
                Sql(format!(
                    "EXISTS (SELECT 1 FROM story_tags x WHERE x.story_id = {id} AND "
                )),
                Unindexed("x.tag_id".into()),
                Sql(format!(" = {by_name}")),
            ]);
        }
        out.push(Text(tag.clone()));
        out.push(Sql(if walk == Walk::Tags { ")" } else { "))" }.into()));
    }
    let mut side = |out: &mut Vec<Piece>, walked: bool, table: &str, column: &str, value| {
        and(out);
        if walked {
            out.push(Sql(format!("o.{column} = ")));
        } else {
            out.extend([
                Sql(format!(
                    "EXISTS (SELECT 1 FROM {table} x WHERE x.story_id = {id} AND "
                )),
                Unindexed(format!("x.{column}")),
                Sql(" = ".into()),
            ]);
        }
        out.push(Text(value));
        if !walked {
            out.push(Sql(")".into()));
        }
    };
    if let Some(code) = &q.country {
        let walked = walk == Walk::Countries;
        side(
            &mut out,
            walked,
            "story_countries",
            "code",
            country_code(code),
        );
    }
    if let Some(place) = &q.place {
        let walked = walk == Walk::Places;
        side(&mut out, walked, "story_places", "place", place.clone());
    }
    if let Some(from) = q.from {
        and(&mut out);
        out.push(Sql(format!("{k}.dateline_date >= ")));
        out.push(Date(from.to_string()));
    }
    if let Some(to) = q.to {
        and(&mut out);
        out.push(Sql(format!("{k}.dateline_date <= ")));
        out.push(Date(to.to_string()));
    }
    let Select::Page { limit, .. } = select else {
        return Ok(out);
    };
    if let Some(after) = &q.after {
        let c = decode_cursor(after)?;
        and(&mut out);
        out.extend([
            Sql(format!("{k}.dateline_date <= ")),
            Date(c.date.clone()),
            Sql(format!(" AND ({k}.dateline_date < ")),
            Date(c.date),
            Sql(format!(" OR {k}.issue_number < ")),
            Int(c.issue_number),
            Sql(format!(" OR ({k}.issue_number = ")),
            Int(c.issue_number),
            Sql(format!(" AND ({k}.issue_position > ")),
            Int(c.position),
            Sql(format!(" OR ({k}.issue_position = ")),
            Int(c.position),
            Sql(format!(" AND {id} > ")),
            Int(c.id),
            Sql("))))".into()),
        ]);
    }
    out.push(Sql(format!(" ORDER BY {order} LIMIT ")));
    out.push(Int(i64::from(limit) + 1));
    if q.offset > 0 {
        out.push(Sql(" OFFSET ".into()));
        out.push(Int(i64::from(q.offset)));
    }
    // CROSS JOIN: SQLite keeps the page outside.
    out.push(Sql(
        ") p CROSS JOIN stories s WHERE s.id = p.story_id ORDER BY p.dateline_date DESC, \
         p.issue_number DESC, p.issue_position ASC, p.story_id ASC"
            .into(),
    ));
    Ok(out)
}

/// A [`crate::StoryQuery::country`] as stored: codes are upper case.
pub(crate) fn country_code(code: &str) -> String {
    code.to_uppercase()
}

/// The effective page size of a query: 0 means "as many as allowed".
pub(crate) fn page_size(limit: u32) -> u32 {
    if limit == 0 {
        MAX_PAGE
    } else {
        limit.min(MAX_PAGE)
    }
}

/// Splits `rows` (fetched with one extra) into a page and its continuation.
pub(crate) fn into_page(mut rows: Vec<StoryRow>, limit: u32) -> Result<crate::StoryPage> {
    let limit = limit as usize;
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(StoryRow::cursor)
    } else {
        None
    };
    let stories = rows
        .into_iter()
        .map(StoryRow::into_story)
        .collect::<Result<Vec<_>>>()?;
    Ok(crate::StoryPage { stories, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip() {
        let c = Cursor {
            date: "2021-07-18".into(),
            issue_number: -1,
            position: 0,
            id: 42,
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        assert!(decode_cursor("nonsense").is_err());
        assert!(decode_cursor("2021-13-01_1_1_1").is_err());
        assert!(decode_cursor("x'; drop table stories; --_1_1_1").is_err());
    }
}
