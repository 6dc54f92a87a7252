//! Rows to values and values to columns, the same for both backends: a stored
//! story (the `stories` row, or the JSON the newsroom keeps), revisions, dates,
//! and the errors a bad row makes.

use bulletin_core::{Access, Copyright, Date, Dateline, IssueRef, Story, StoryJson};

use crate::listing::{Cursor, encode_cursor};
use crate::{Result, StoreError};

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// A unique-constraint violation as [`crate::StoreError::Duplicate`].
pub(crate) fn duplicate(e: sqlx::Error, what: &'static str, key: &str) -> crate::StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => crate::StoreError::Duplicate {
            what,
            key: key.to_owned(),
        },
        _ => e.into(),
    }
}

pub(crate) fn parse_date(s: &str) -> Result<Date> {
    s.parse::<Date>()
        .map_err(|e| corrupt(format_args!("bad date {s:?}: {e}")))
}

fn parse_list(field: &str, json: &str) -> Result<Vec<String>> {
    serde_json::from_str(json).map_err(|e| corrupt(format_args!("{field} {json:?}: {e}")))
}
/// A `stories` row as read, before it becomes a [`Story`].
pub(crate) struct StoryRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub dateline_date: String,
    pub year_inferred: bool,
    pub credit: String,
    pub places: String,
    pub body: String,
    pub tags: String,
    pub countries: String,
    pub issue_id: Option<i64>,
    pub issue_number: i64,
    pub issue_date: Option<String>,
    pub issue_position: i64,
    pub first_published: bool,
    pub copyright_holder: String,
    pub copyright_year: i64,
    pub access: String,
}

impl StoryRow {
    /// The keyset cursor that continues after this row.
    pub fn cursor(&self) -> String {
        encode_cursor(&Cursor {
            date: self.dateline_date.clone(),
            issue_number: self.issue_number,
            position: self.issue_position,
            id: self.id,
        })
    }

    pub fn into_story(self) -> Result<Story> {
        let issue = match self.issue_id {
            Some(_) => Some(IssueRef {
                number: u32::try_from(self.issue_number).map_err(|_| {
                    corrupt(format_args!(
                        "story {}: issue {}",
                        self.slug, self.issue_number
                    ))
                })?,
                date: self.issue_date.as_deref().map(parse_date).transpose()?,
            }),
            None => None,
        };
        Ok(Story {
            dateline: Dateline {
                places: parse_list("places", &self.places)?,
                date: parse_date(&self.dateline_date)?,
                year_inferred: self.year_inferred,
                credit: self.credit,
            },
            body: parse_list("body", &self.body)?,
            tags: parse_list("tags", &self.tags)?,
            countries: parse_list("countries", &self.countries)?,
            issue,
            first_published: self.first_published,
            copyright: Copyright {
                holder: self.copyright_holder,
                year: i16::try_from(self.copyright_year).map_err(|_| {
                    corrupt(format_args!(
                        "story {}: copyright year {}",
                        self.slug, self.copyright_year
                    ))
                })?,
            },
            access: Access::parse(&self.access).ok_or_else(|| {
                corrupt(format_args!(
                    "story {}: access {:?}",
                    self.slug, self.access
                ))
            })?,
            headline: self.headline,
            slug: self.slug,
        })
    }
}

/// [`Story::url`] of a story known by its dateline date and slug.
pub(crate) fn story_url(date: Date, slug: &str) -> String {
    format!(
        "/{:04}/{:02}/{:02}/{slug}/",
        date.year(),
        date.month(),
        date.day()
    )
}

/// Adds up story counts given as (a date in the month, stories), in any order and
/// possibly several per month, into (year, month, stories), newest month first.
pub(crate) fn months_from(counts: Vec<(String, i64)>) -> Result<Vec<(i16, i8, u64)>> {
    let mut months: std::collections::BTreeMap<(i16, i8), u64> = Default::default();
    for (day, n) in counts {
        let d = parse_date(&day)?;
        *months.entry((d.year(), d.month())).or_default() += u64::try_from(n).unwrap_or(0);
    }
    Ok(months
        .into_iter()
        .rev()
        .map(|((y, m), n)| (y, m, n))
        .collect())
}

pub(crate) fn revision(number: i64, content: &str, replaced_at: String) -> Result<crate::Revision> {
    // Not `Story::try_from`: a stored revision is shown as it was, even if the
    // rules have tightened since.
    let story = story_from_content(&format!("revision {number}"), content)?;
    Ok(crate::Revision {
        number: u32::try_from(number).map_err(|_| corrupt(format_args!("revision {number}")))?,
        story,
        replaced_at,
    })
}

/// A stored story JSON, as it was saved (not re-validated: rules may have
/// tightened since).
pub(crate) fn story_from_content(what: &str, content: &str) -> Result<Story> {
    let json: StoryJson =
        serde_json::from_str(content).map_err(|e| corrupt(format_args!("{what}: {e}")))?;
    Ok(Story {
        slug: json.slug,
        headline: json.headline,
        dateline: json.dateline,
        body: json.body,
        tags: json.tags,
        countries: json.countries,
        issue: json.issue,
        first_published: json.first_published,
        copyright: json.copyright,
        access: json.access,
    })
}

pub(crate) fn story_content(story: &Story) -> Result<String> {
    serde_json::to_string(&story.to_json())
        .map_err(|e| corrupt(format_args!("story {}: {e}", story.slug)))
}

pub(crate) fn tags_json(story: &Story) -> String {
    serde_json::to_string(&story.tags).unwrap_or_else(|_| "[]".to_owned())
}

/// `%"name"%` for `tags LIKE ... ESCAPE '\'`: the tag as a JSON string, with
/// LIKE's wildcards escaped.
pub(crate) fn tag_pattern(tag: &str) -> String {
    let json = serde_json::to_string(tag).unwrap_or_default();
    let mut out = String::from("%");
    for c in json.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// `%text%` for `lower(headline) LIKE ... ESCAPE '\'`.
pub(crate) fn text_pattern(text: &str) -> String {
    let mut out = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

pub(crate) fn number(n: i64, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| corrupt(format_args!("{what} {n}")))
}

/// A count from the database (never negative) as `u64`.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) fn issue_number(n: i64) -> Result<u32> {
    number(n, "issue number")
}

pub(crate) fn issue_status(s: &str) -> Result<bulletin_core::IssueStatus> {
    bulletin_core::IssueStatus::parse(s).ok_or_else(|| corrupt(format_args!("issue status {s:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(tag_pattern("50% off"), "%\"50\\% off\"%");
        assert_eq!(text_pattern("A_b"), "%a\\_b%");
    }
}
