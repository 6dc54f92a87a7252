//! Admin form bodies: parsing, and the story form's fields to and from a
//! [`Story`], with every problem reported in words an editor understands.

use bulletin_core::{Access, Copyright, Date, Dateline, Publication, Story, slugify};
use serde::Serialize;

/// A urlencoded form body. Repeated names keep their first value.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Every value of a repeated field (checkboxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The story form, as typed (so a refused form comes back as it was).
#[derive(Debug, Default, Clone, Serialize)]
pub struct StoryFields {
    pub headline: String,
    /// "Baku/Almaty": places separated by slashes.
    pub places: String,
    /// YYYY-MM-DD.
    pub date: String,
    pub credit: String,
    /// Paragraphs separated by blank lines.
    pub body: String,
    /// Comma-separated.
    pub tags: String,
    /// "public" or "subscribers".
    pub access: String,
    /// An issue number, for a new story; empty for none.
    pub issue: String,
}

impl StoryFields {
    pub fn from_form(form: &Form) -> StoryFields {
        let field = |name: &str| form.get(name).unwrap_or("").to_owned();
        StoryFields {
            headline: field("headline"),
            places: field("places"),
            date: field("date"),
            credit: field("credit"),
            body: field("body"),
            tags: field("tags"),
            access: field("access"),
            issue: field("issue"),
        }
    }

    pub fn of(story: &Story) -> StoryFields {
        StoryFields {
            headline: story.headline.clone(),
            places: story.dateline.places.join("/"),
            date: story.dateline.date.to_string(),
            credit: story.dateline.credit.clone(),
            body: story.body.join("\n\n"),
            tags: story.tags.join(", "),
            access: story.access.as_str().to_owned(),
            issue: story
                .issue
                .map(|i| i.number.to_string())
                .unwrap_or_default(),
        }
    }

    /// The story these fields describe; `existing` keeps what the form does not
    /// edit (slug, issue, first publication). All problems at once, or the story.
    pub fn to_story(
        &self,
        publication: &Publication,
        existing: Option<&Story>,
    ) -> Result<Story, Vec<String>> {
        let mut errors = Vec::new();
        let headline = self
            .headline
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if headline.is_empty() {
            errors.push("Headline: write one.".to_owned());
        } else if headline.chars().count() > bulletin_core::MAX_HEADLINE {
            errors.push(format!(
                "Headline: {} characters is too long; the limit is {}.",
                headline.chars().count(),
                bulletin_core::MAX_HEADLINE
            ));
        }
        let date = match self.date.trim().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(format!(
                    "Date: {:?} is not a date; use YYYY-MM-DD, e.g. 2021-07-18.",
                    self.date.trim()
                ));
                None
            }
        };
        let places: Vec<String> = self
            .places
            .split('/')
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
        let body: Vec<String> = self
            .body
            .replace("\r\n", "\n")
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect();
        if body.is_empty() {
            errors.push("Body: write at least one paragraph.".to_owned());
        }
        let mut tags: Vec<String> = Vec::new();
        for tag in self.tags.split(',') {
            let tag = tag.split_whitespace().collect::<Vec<_>>().join(" ");
            if !tag.is_empty() && !tags.contains(&tag) {
                tags.push(tag);
            }
        }
        let access = match Access::parse(self.access.trim()) {
            Some(a) => a,
            None => {
                errors.push("Access: choose public or subscribers.".to_owned());
                Access::Public
            }
        };
        let issue = match (existing, self.issue.trim()) {
            (Some(s), _) => s.issue,
            (None, "") => None,
            (None, n) => match n.parse::<u32>() {
                Ok(number) if number > 0 => Some(bulletin_core::IssueRef { number, date: None }),
                _ => {
                    errors.push(format!("Issue: {n:?} is not an issue number."));
                    None
                }
            },
        };
        let credit = match self.credit.trim() {
            "" => publication.credit.clone(),
            c => c.to_owned(),
        };
        let Some(date) = date else {
            return Err(errors);
        };
        let mut story = Story {
            slug: existing.map_or_else(|| slugify(&headline), |s| s.slug.clone()),
            headline,
            dateline: Dateline {
                places,
                date,
                year_inferred: false,
                credit,
            },
            body,
            tags,
            countries: Vec::new(),
            issue,
            first_published: existing.is_none_or(|s| s.first_published),
            copyright: Copyright {
                holder: publication.holder().to_owned(),
                year: date.year(),
            },
            access,
        };
        if story.slug.is_empty() {
            story.slug = "story".to_owned();
        }
        story.countries = story.derive_countries();
        if errors.is_empty()
            && let Err(e) = story.validate()
        {
            errors.push(sentence(&e.to_string()));
        }
        if errors.is_empty() {
            Ok(story)
        } else {
            Err(errors)
        }
    }
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => format!(
            "{}{}.",
            c.to_uppercase(),
            chars.as_str().trim_end_matches('.')
        ),
        None => String::new(),
    }
}

/// An issue date as typed: empty (or absent) for unknown, else YYYY-MM-DD.
pub fn issue_date(text: Option<&str>) -> Result<Option<Date>, String> {
    match text.map(str::trim).unwrap_or("") {
        "" => Ok(None),
        d => d
            .parse::<Date>()
            .map(Some)
            .map_err(|_| format!("{d:?} is not a date: use YYYY-MM-DD.")),
    }
}

/// A `datetime-local` value ("2026-11-28T09:00") in the publication's time zone,
/// as Unix seconds.
pub fn parse_local_time(text: &str, time_zone: &str) -> Result<i64, String> {
    let text = text.trim();
    let civil: jiff::civil::DateTime = text.parse().map_err(|_| {
        format!("{text:?} is not a date and time; use the picker or YYYY-MM-DDTHH:MM.")
    })?;
    let tz = jiff::tz::TimeZone::get(time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    civil
        .to_zoned_datetime(tz)
        .map(|z| z.timestamp().as_second())
        .map_err(|e| format!("{text:?} does not exist in {time_zone}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> StoryFields {
        StoryFields {
            headline: "  Pegasus   spyware ".into(),
            places: "Baku/ Almaty".into(),
            date: "2021-07-18".into(),
            credit: String::new(),
            body: "First paragraph.\r\n\r\nSecond\nparagraph.".into(),
            tags: "political rights, surveillance, political rights".into(),
            access: "public".into(),
            issue: String::new(),
        }
    }

    #[test]
    fn fields_make_a_story() {
        let s = fields().to_story(&Publication::default(), None).unwrap();
        assert_eq!(s.headline, "Pegasus spyware");
        assert_eq!(s.slug, "pegasus-spyware");
        assert_eq!(s.dateline.places, ["Baku", "Almaty"]);
        assert_eq!(s.body, ["First paragraph.", "Second paragraph."]);
        assert_eq!(s.tags, ["political rights", "surveillance"]);
        assert_eq!(s.dateline.credit, Publication::default().credit);
        assert_eq!(s.countries, ["AZ", "KZ"]);
        assert_eq!(
            StoryFields::of(&s)
                .to_story(&Publication::default(), Some(&s))
                .unwrap(),
            s
        );
    }

    #[test]
    fn every_problem_is_reported() {
        let mut f = fields();
        f.headline = " ".into();
        f.date = "2021-02-30".into();
        f.body = "\n\n".into();
        f.access = "secret".into();
        let errors = f.to_story(&Publication::default(), None).unwrap_err();
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors[1].contains("2021-02-30"));
        let mut f = fields();
        f.headline = "h".repeat(10_000);
        let errors = f.to_story(&Publication::default(), None).unwrap_err();
        assert!(errors[0].contains("10000 characters"), "{errors:?}");
    }

    #[test]
    fn local_times() {
        assert_eq!(
            parse_local_time("2026-01-01T00:00", "UTC"),
            Ok(1_767_225_600)
        );
        assert_eq!(
            parse_local_time("2026-01-01T05:00", "Asia/Almaty"),
            Ok(1_767_225_600)
        );
        assert!(parse_local_time("tomorrow", "UTC").is_err());
    }
}
