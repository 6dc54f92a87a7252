//! The data model of DESIGN.md. Field names of the JSON forms are a contract.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::{countries_in_text, slugify};

/// A problem with a value of the model: the first rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is {len} characters long; the limit is {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} may not contain {what}")]
    BadCharacter {
        field: &'static str,
        what: &'static str,
    },
    #[error("{field} {value:?} is not valid: {why}")]
    Invalid {
        field: &'static str,
        value: String,
        why: &'static str,
    },
}

/// Where an issue is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IssueStatus {
    Draft,
    Scheduled,
    Published,
}

impl IssueStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Draft => "draft",
            IssueStatus::Scheduled => "scheduled",
            IssueStatus::Published => "published",
        }
    }

    pub fn parse(s: &str) -> Option<IssueStatus> {
        match s {
            "draft" => Some(IssueStatus::Draft),
            "scheduled" => Some(IssueStatus::Scheduled),
            "published" => Some(IssueStatus::Published),
            _ => None,
        }
    }
}

/// A numbered issue with its stories in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Issue {
    pub number: u32,
    /// Unknown for some old imports.
    pub date: Option<Date>,
    pub status: IssueStatus,
    /// Slugs of the issue's stories, in issue order.
    #[serde(default)]
    pub stories: Vec<String>,
}

/// The issue a story appeared in, as the story's footer names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueRef {
    pub number: u32,
    pub date: Option<Date>,
}

/// `BAKU/ALMATY/JULY 18 2021 (The Bulletin)` as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dateline {
    /// As shown: "Baku", "Almaty". Zero or more.
    pub places: Vec<String>,
    pub date: Date,
    /// The source gave no year; it was inferred from the issue or copyright.
    pub year_inferred: bool,
    pub credit: String,
}

/// The copyright line of a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copyright {
    pub holder: String,
    pub year: i16,
}

/// Who may read a story's full text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    #[default]
    Public,
    Subscribers,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Public => "public",
            Access::Subscribers => "subscribers",
        }
    }

    pub fn parse(s: &str) -> Option<Access> {
        match s {
            "public" => Some(Access::Public),
            "subscribers" => Some(Access::Subscribers),
            _ => None,
        }
    }
}

/// A tag: "political rights" / "political-rights".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tag {
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub description: String,
}

impl Tag {
    pub fn new(name: &str) -> Tag {
        Tag {
            name: name.to_owned(),
            slug: slugify(name),
            description: String::new(),
        }
    }
}

/// One datelined news story.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Story {
    pub slug: String,
    pub headline: String,
    pub dateline: Dateline,
    /// Paragraphs, the first without its dateline.
    pub body: Vec<String>,
    pub tags: Vec<String>,
    /// ISO 3166-1 alpha-2 codes.
    pub countries: Vec<String>,
    pub issue: Option<IssueRef>,
    /// "This story was *first* published in issue N".
    pub first_published: bool,
    pub copyright: Copyright,
    pub access: Access,
}

/// Longest headline accepted; far beyond any real one, short enough to index.
pub const MAX_HEADLINE: usize = 500;
/// Longest paragraph accepted.
pub const MAX_PARAGRAPH: usize = 100_000;

impl Story {
    /// `/2021/07/18/pegasus-spyware-.../`: the WordPress-style permalink.
    pub fn url(&self) -> String {
        let d = self.dateline.date;
        format!(
            "/{:04}/{:02}/{:02}/{}/",
            d.year(),
            d.month(),
            d.day(),
            self.slug
        )
    }

    /// What identifies "the same story" across imports: its issue, its dateline
    /// date and its headline's slug (before any `-2` suffix). A corrected body keeps
    /// the key, so a re-import updates the story and keeps the old text as a
    /// revision; two stories that merely share a headline and a date (a weekly
    /// "roundup") stay two stories unless they are in the same issue.
    ///
    /// A story whose slug was chosen rather than made from its headline (a
    /// WordPress post's `post_name`, a Hugo page's slug) is identified by that
    /// slug instead: WordPress keeps two "Daily briefing" posts of one day apart
    /// as `daily-briefing` and `daily-briefing-2`, and so must an import of them.
    /// Text has no slugs of its own (the reader makes them from headlines), so its
    /// keys are unchanged.
    pub fn natural_key(&self) -> String {
        self.natural_key_under(&self.slug)
    }

    /// The natural key the story would have under `slug` (the store keys a story
    /// it files under a `-2` slug this way, when its source gives it an identity
    /// of its own).
    pub fn natural_key_under(&self, slug: &str) -> String {
        let issue = self
            .issue
            .map_or_else(|| "-".to_owned(), |i| i.number.to_string());
        let headline = slugify(&self.headline);
        let name = if slug.is_empty() || slug == headline {
            headline.as_str()
        } else {
            slug
        };
        format!("{issue}/{}/{name}", self.dateline.date)
    }

    /// The countries a story is about: those named by its dateline's places, its
    /// headline and its lead paragraph. A news lead names where the story happens;
    /// a country mentioned only further down is context, not subject (and reading
    /// only the lead keeps import fast).
    pub fn derive_countries(&self) -> Vec<String> {
        countries_in_text(
            self.dateline
                .places
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(self.headline.as_str()))
                .chain(self.body.first().map(String::as_str)),
        )
    }

    /// The story's canonical JSON form (DESIGN.md).
    pub fn to_json(&self) -> StoryJson {
        StoryJson {
            slug: self.slug.clone(),
            headline: self.headline.clone(),
            dateline: self.dateline.clone(),
            body: self.body.clone(),
            tags: self.tags.clone(),
            countries: self.countries.clone(),
            issue: self.issue,
            first_published: self.first_published,
            copyright: self.copyright.clone(),
            access: self.access,
            url: self.url(),
        }
    }

    /// Checks every field; the first broken rule is the error.
    pub fn validate(&self) -> Result<(), ModelError> {
        single_line("headline", &self.headline, MAX_HEADLINE)?;
        if self.slug.is_empty() {
            return Err(ModelError::Empty { field: "slug" });
        }
        if !self
            .slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return Err(ModelError::Invalid {
                field: "slug",
                value: self.slug.clone(),
                why: "use lowercase letters, digits and hyphens",
            });
        }
        for place in &self.dateline.places {
            single_line("dateline place", place, 100)?;
            // These separate places, or start the credit, in a dateline.
            if place.contains(['/', ',', '(']) {
                return Err(ModelError::BadCharacter {
                    field: "dateline place",
                    what: "'/', ',' or '('",
                });
            }
        }
        single_line("dateline credit", &self.dateline.credit, 200)?;
        if self.dateline.credit.contains(['(', ')']) {
            return Err(ModelError::BadCharacter {
                field: "dateline credit",
                what: "parentheses",
            });
        }
        if self.body.is_empty() {
            return Err(ModelError::Empty { field: "body" });
        }
        for paragraph in &self.body {
            single_line("paragraph", paragraph, MAX_PARAGRAPH)?;
        }
        for tag in &self.tags {
            single_line("tag", tag, 200)?;
            // The text format lists tags separated by commas.
            if tag.contains(',') {
                return Err(ModelError::BadCharacter {
                    field: "tag",
                    what: "commas",
                });
            }
        }
        for code in &self.countries {
            if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
                return Err(ModelError::Invalid {
                    field: "country",
                    value: code.clone(),
                    why: "countries are ISO 3166-1 alpha-2 codes such as KZ",
                });
            }
        }
        single_line("copyright holder", &self.copyright.holder, 500)?;
        Ok(())
    }
}

pub(crate) fn single_line(field: &'static str, value: &str, max: usize) -> Result<(), ModelError> {
    if value.trim().is_empty() {
        return Err(ModelError::Empty { field });
    }
    // Characters never outnumber bytes: count only when the bytes exceed the limit.
    if value.len() > max {
        let len = value.chars().count();
        if len > max {
            return Err(ModelError::TooLong { field, len, max });
        }
    }
    if has_control(value.as_bytes()) {
        let what = if value.contains(['\n', '\r']) {
            "line breaks"
        } else {
            "control characters"
        };
        return Err(ModelError::BadCharacter { field, what });
    }
    Ok(())
}

/// Whether `bytes` hold a control character other than tab: C0 or DEL, or C1
/// (which UTF-8 writes as 0xC2 0x80..=0xC2 0x9F). Every paragraph of every import
/// passes here, so the common case is a branch-free fold the compiler vectorises.
fn has_control(bytes: &[u8]) -> bool {
    let c0 = bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |acc, &b| {
            acc | ((b < 0x20 && b != b'\t') | (b == 0x7F))
        })
    });
    c0 || memchr::memchr_iter(0xC2, bytes)
        .any(|i| bytes.get(i + 1).is_some_and(|b| (0x80..=0x9F).contains(b)))
}

/// The canonical JSON of a story: DESIGN.md's field names and order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoryJson {
    pub slug: String,
    pub headline: String,
    pub dateline: Dateline,
    pub body: Vec<String>,
    pub tags: Vec<String>,
    pub countries: Vec<String>,
    pub issue: Option<IssueRef>,
    pub first_published: bool,
    pub copyright: Copyright,
    pub access: Access,
    /// Derived from the date and slug; ignored when read back.
    #[serde(default)]
    pub url: String,
}

impl TryFrom<StoryJson> for Story {
    type Error = ModelError;

    fn try_from(j: StoryJson) -> Result<Story, ModelError> {
        let story = Story {
            slug: j.slug,
            headline: j.headline,
            dateline: j.dateline,
            body: j.body,
            tags: j.tags,
            countries: j.countries,
            issue: j.issue,
            first_published: j.first_published,
            copyright: j.copyright,
            access: j.access,
        };
        story.validate()?;
        Ok(story)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    pub(crate) fn pegasus() -> Story {
        Story {
            slug: "pegasus-spyware-targets-azerbaijani-and-kazakh-opposition".into(),
            headline: "Pegasus spyware targets Azerbaijani and Kazakh opposition".into(),
            dateline: Dateline {
                places: vec!["Baku".into(), "Almaty".into()],
                date: date(2021, 7, 18),
                year_inferred: false,
                credit: "The Bulletin".into(),
            },
            body: vec!["Officials in Kazakhstan and Azerbaijan said things.".into()],
            tags: vec!["political rights".into()],
            countries: vec!["AZ".into(), "KZ".into()],
            issue: Some(IssueRef {
                number: 493,
                date: Some(date(2021, 7, 22)),
            }),
            first_published: false,
            copyright: Copyright {
                holder: "Central Asia & South Caucasus Bulletin".into(),
                year: 2021,
            },
            access: Access::Public,
        }
    }

    #[test]
    fn canonical_json_field_names_and_order() {
        let json = serde_json::to_string(&pegasus().to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"slug":"pegasus-spyware-targets-azerbaijani-and-kazakh-opposition","headline":"Pegasus spyware targets Azerbaijani and Kazakh opposition","dateline":{"places":["Baku","Almaty"],"date":"2021-07-18","year_inferred":false,"credit":"The Bulletin"},"body":["Officials in Kazakhstan and Azerbaijan said things."],"tags":["political rights"],"countries":["AZ","KZ"],"issue":{"number":493,"date":"2021-07-22"},"first_published":false,"copyright":{"holder":"Central Asia & South Caucasus Bulletin","year":2021},"access":"public","url":"/2021/07/18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition/"}"#
        );
        let back: StoryJson = serde_json::from_str(&json).unwrap();
        assert_eq!(Story::try_from(back).unwrap(), pegasus());
    }

    #[test]
    fn unknown_issue_date_is_null() {
        let mut s = pegasus();
        s.issue = Some(IssueRef {
            number: 471,
            date: None,
        });
        let v = serde_json::to_value(s.to_json()).unwrap();
        assert_eq!(v["issue"], serde_json::json!({"number": 471, "date": null}));
    }

    #[test]
    fn derived_values() {
        let s = pegasus();
        assert_eq!(s.derive_countries(), ["AZ", "KZ"]);
        assert_eq!(
            s.natural_key(),
            "493/2021-07-18/pegasus-spyware-targets-azerbaijani-and-kazakh-opposition"
        );
    }

    #[test]
    fn validation_names_the_field() {
        let mut s = pegasus();
        s.headline = "  ".into();
        assert_eq!(s.validate(), Err(ModelError::Empty { field: "headline" }));
        let mut s = pegasus();
        s.headline = "x".repeat(10_000);
        assert!(matches!(s.validate(), Err(ModelError::TooLong { .. })));
        let mut s = pegasus();
        s.body[0] = "two\nlines".into();
        assert!(matches!(s.validate(), Err(ModelError::BadCharacter { .. })));
        let mut s = pegasus();
        s.body[0] = "bell\u{7}".into();
        assert!(matches!(
            s.validate(),
            Err(ModelError::BadCharacter {
                what: "control characters",
                ..
            })
        ));
        s.body[0] = "next line\u{85}".into();
        assert!(matches!(s.validate(), Err(ModelError::BadCharacter { .. })));
        s.body[0] = "tab\tand\u{a0}nbsp are fine".into();
        assert_eq!(s.validate(), Ok(()));
        let mut s = pegasus();
        s.countries = vec!["kz".into()];
        assert!(matches!(s.validate(), Err(ModelError::Invalid { .. })));
        assert_eq!(pegasus().validate(), Ok(()));
    }
}
