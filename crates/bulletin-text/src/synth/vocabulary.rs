//! The generator's vocabulary: countries, topics, word lists and sentences, kept as
//! plain text in `data/` (so that they read and change as text, not as Rust) and
//! compiled in; parsed once, on first use.
//!
//! Every entry borrows from the compiled-in text, so parsing copies no words. The
//! order of every list is part of the output: the generator picks by position.

use std::sync::OnceLock;

const COUNTRIES: &str = include_str!("../../data/countries.txt");
const TOPICS: &str = include_str!("../../data/topics.txt");
const LISTS: &str = include_str!("../../data/lists.txt");
const SENTENCES: &str = include_str!("../../data/sentences.txt");

/// Pools the generator draws from without repeats (a `u64` mask) hold at most this.
const MAX_POOL: usize = 64;

/// A country of the generated stories.
pub(super) struct Country {
    pub(super) name: &'static str,
    pub(super) adj: &'static str,
    pub(super) currency: &'static str,
    /// Dateline places (gazetteer names); the first is the capital.
    pub(super) places: Vec<&'static str>,
    /// Old spellings used now and then in datelines: (index into `places`, SPELLING).
    pub(super) old: Vec<(usize, &'static str)>,
    pub(super) male: Vec<&'static str>,
    pub(super) female: Vec<&'static str>,
    /// Surnames in their male form; `-ov`/`-ev` take an `a` for women.
    pub(super) surnames: Vec<&'static str>,
}

/// A subject the generated stories are about.
pub(super) struct Topic {
    /// Indexes into [`Vocabulary::tags`].
    pub(super) tags: Vec<usize>,
    /// Titles of the official in the story ({PA}).
    pub(super) titles: Vec<&'static str>,
    /// Companies in the news ({K}).
    pub(super) companies: Vec<&'static str>,
    /// Government bodies that comment ({O}).
    pub(super) bodies: Vec<&'static str>,
    /// (headline, lead sentence) pairs about the same event.
    pub(super) events: Vec<(&'static str, &'static str)>,
    pub(super) follows: Vec<&'static str>,
}

/// Everything the generator says, parsed from `data/`.
pub(super) struct Vocabulary {
    pub(super) countries: Vec<Country>,
    pub(super) topics: Vec<Topic>,
    pub(super) tags: Vec<&'static str>,
    /// Invented watchdogs and monitors ({G}).
    pub(super) groups: Vec<&'static str>,
    /// Roles for the second person, with the article.
    pub(super) roles: Vec<&'static str>,
    pub(super) number_words: Vec<&'static str>,
    /// Endings for headlines.
    pub(super) headline_tails: Vec<&'static str>,
    /// Sentences that fit any story.
    pub(super) general: Vec<&'static str>,
    /// Ways to report a quotation.
    pub(super) quote_frames: Vec<&'static str>,
    /// Quotations (no closing punctuation; capitalised by the frame).
    pub(super) quotes: Vec<&'static str>,
}

/// The vocabulary, parsed on first use. The data is compiled in and checked by
/// the tests, so a failure here is a defect of the build, not of any input.
pub(super) fn vocabulary() -> &'static Vocabulary {
    static PARSED: OnceLock<Vocabulary> = OnceLock::new();
    PARSED.get_or_init(|| match Vocabulary::parse() {
        Ok(vocabulary) => vocabulary,
        Err(e) => panic!("bulletin-text's compiled-in word lists are malformed: {e}"),
    })
}

impl Vocabulary {
    fn parse() -> Result<Vocabulary, String> {
        let lists = Sections::parse("lists.txt", LISTS)?;
        let sentences = Sections::parse("sentences.txt", SENTENCES)?;
        let tags = lists.get("tags")?;
        let countries = records("countries.txt", COUNTRIES, "country")?
            .iter()
            .map(|record| country(record))
            .collect::<Result<Vec<_>, String>>()?;
        let topics = records("topics.txt", TOPICS, "topic")?
            .iter()
            .map(|record| topic(record, &tags, &lists))
            .collect::<Result<Vec<_>, String>>()?;
        let headline_tails = sentences
            .get("headline endings")?
            .into_iter()
            .map(|tail| {
                tail.strip_prefix('…').ok_or_else(|| {
                    format!("sentences.txt: the headline ending “{tail}” does not start with …")
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let vocabulary = Vocabulary {
            countries,
            topics,
            tags,
            groups: lists.get("watchdogs")?,
            roles: lists.get("roles")?,
            number_words: lists.get("number words")?,
            headline_tails,
            general: sentences.get("any story")?,
            quote_frames: sentences.get("quotation frames")?,
            quotes: sentences.get("quotations")?,
        };
        vocabulary.check()?;
        Ok(vocabulary)
    }

    /// What the generator relies on: at least two countries and one topic, and
    /// pools drawn from without repeats small enough for a 64-bit mask.
    fn check(&self) -> Result<(), String> {
        if self.countries.len() < 2 || self.topics.is_empty() {
            return Err("at least two countries and one topic are needed".to_owned());
        }
        for c in &self.countries {
            // Two people in a story have different surnames.
            if c.places.is_empty()
                || c.male.is_empty()
                || c.female.is_empty()
                || c.surnames.len() < 2
            {
                return Err(format!(
                    "{}: places, men, women and two surnames are needed",
                    c.name
                ));
            }
        }
        if self.topics.iter().any(|t| t.titles.is_empty()) {
            return Err("every topic needs a title".to_owned());
        }
        // A headline that names a town takes an ending that does not.
        if self.headline_tails.iter().all(|t| t.contains("{T")) {
            return Err("some headline ending must name no town".to_owned());
        }
        let pools = self
            .topics
            .iter()
            .map(|t| ("a topic's follows", t.follows.len()))
            .chain([
                ("any story", self.general.len()),
                ("quotation frames", self.quote_frames.len()),
                ("quotations", self.quotes.len()),
            ]);
        for (name, len) in pools {
            if len > MAX_POOL {
                return Err(format!("{name}: {len} entries, at most {MAX_POOL}"));
            }
        }
        Ok(())
    }
}

/// A `key: value` line of a record, with its file and line for messages.
struct Field {
    file: &'static str,
    line: usize,
    key: &'static str,
    value: &'static str,
}

impl Field {
    fn error(&self, message: impl std::fmt::Display) -> String {
        format!("{}:{}: {message}", self.file, self.line)
    }

    /// The value as a list separated by ", ".
    fn list(&self) -> Vec<&'static str> {
        self.value.split(", ").map(str::trim).collect()
    }
}

/// The lines of `text` that carry data (not blank, not a `#` comment), trimmed,
/// with their 1-based numbers.
fn data_lines(text: &'static str) -> impl Iterator<Item = (usize, &'static str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
}

/// A file of `key: value` lines in records, each opened by the key `opener`.
fn records(
    file: &'static str,
    text: &'static str,
    opener: &str,
) -> Result<Vec<Vec<Field>>, String> {
    let mut records: Vec<Vec<Field>> = Vec::new();
    for (line, content) in data_lines(text) {
        let Some((key, value)) = content.split_once(": ") else {
            return Err(format!("{file}:{line}: not a `key: value` line"));
        };
        let field = Field {
            file,
            line,
            key,
            value: value.trim(),
        };
        if key == opener {
            records.push(vec![field]);
        } else if let Some(record) = records.last_mut() {
            record.push(field);
        } else {
            return Err(field.error(format!("`{key}` before the first `{opener}`")));
        }
    }
    Ok(records)
}

/// The one field `key` of a record.
fn one<'a>(record: &'a [Field], key: &str) -> Result<&'a Field, String> {
    let mut found = record.iter().filter(|f| f.key == key);
    match (found.next(), found.next()) {
        (Some(field), None) => Ok(field),
        (None, _) => Err(record[0].error(format!("no `{key}`"))),
        (Some(_), Some(again)) => Err(again.error(format!("`{key}` twice"))),
    }
}

fn country(record: &[Field]) -> Result<Country, String> {
    let places = one(record, "places")?.list();
    let old_field = one(record, "old spellings")?;
    let old = old_field
        .list()
        .into_iter()
        .map(|pair| {
            let (place, spelling) = pair
                .split_once('=')
                .ok_or_else(|| old_field.error(format!("“{pair}” is not Place=SPELLING")))?;
            let index = places
                .iter()
                .position(|p| *p == place)
                .ok_or_else(|| old_field.error(format!("“{place}” is not among the places")))?;
            Ok((index, spelling))
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Country {
        name: one(record, "country")?.value,
        adj: one(record, "adjective")?.value,
        currency: one(record, "currency")?.value,
        places,
        old,
        male: one(record, "men")?.list(),
        female: one(record, "women")?.list(),
        surnames: one(record, "surnames")?.list(),
    })
}

fn topic(record: &[Field], tags: &[&str], lists: &Sections) -> Result<Topic, String> {
    let tags_field = one(record, "tags")?;
    let topic_tags = tags_field
        .list()
        .into_iter()
        .map(|name| {
            tags.iter()
                .position(|t| *t == name)
                .ok_or_else(|| tags_field.error(format!("“{name}” is not in lists.txt [tags]")))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let companies_field = one(record, "companies")?;
    let companies = lists
        .get(&format!("{} companies", companies_field.value))
        .map_err(|e| companies_field.error(e))?;
    let mut topic = Topic {
        tags: topic_tags,
        titles: one(record, "titles")?.list(),
        companies,
        bodies: Vec::new(),
        events: Vec::new(),
        follows: Vec::new(),
    };
    let mut headline: Option<&'static str> = None;
    for field in &record[1..] {
        match (field.key, headline.take()) {
            ("tags" | "titles" | "companies", None) => {}
            ("body", None) => topic.bodies.push(field.value),
            ("follow", None) => topic.follows.push(field.value),
            ("headline", None) => headline = Some(field.value),
            ("lead", Some(first)) => topic.events.push((first, field.value)),
            (_, Some(_)) => return Err(field.error("a `headline` without its `lead`")),
            (key, None) => return Err(field.error(format!("unexpected `{key}`"))),
        }
    }
    if headline.is_some() {
        return Err(record[0].error("the last `headline` has no `lead`"));
    }
    if topic.bodies.is_empty() || topic.events.is_empty() || topic.follows.is_empty() {
        return Err(record[0].error("a topic needs a body, a headline and a follow"));
    }
    Ok(topic)
}

/// A file of `[name]` sections of one entry a line.
struct Sections {
    file: &'static str,
    sections: Vec<(&'static str, Vec<&'static str>)>,
}

impl Sections {
    fn parse(file: &'static str, text: &'static str) -> Result<Sections, String> {
        let mut sections: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
        for (line, content) in data_lines(text) {
            if let Some(name) = content.strip_prefix('[').and_then(|c| c.strip_suffix(']')) {
                sections.push((name, Vec::new()));
            } else if let Some((_, entries)) = sections.last_mut() {
                entries.push(content);
            } else {
                return Err(format!(
                    "{file}:{line}: an entry before the first [section]"
                ));
            }
        }
        Ok(Sections { file, sections })
    }

    /// The entries of section `name`, which must hold some.
    fn get(&self, name: &str) -> Result<Vec<&'static str>, String> {
        match self.sections.iter().find(|(n, _)| *n == name) {
            Some((_, entries)) if !entries.is_empty() => Ok(entries.clone()),
            Some(_) => Err(format!("{}: [{name}] is empty", self.file)),
            None => Err(format!("{}: no [{name}]", self.file)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_lists_parse() {
        let v = Vocabulary::parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.countries.len(), 8);
        assert_eq!(v.topics.len(), 11);
        assert_eq!(v.tags.len(), 20);
        assert_eq!(v.number_words.len(), 11);
        assert_eq!(v.headline_tails[2], " in {T}");
        for c in &v.countries {
            assert!(!c.places.is_empty() && !c.male.is_empty() && !c.female.is_empty());
            assert!(c.surnames.len() >= 2, "{}", c.name);
        }
    }

    #[test]
    fn malformed_lists_say_where() {
        let e = records("x.txt", "# c\nname: a\n", "country").err();
        assert_eq!(
            e.as_deref(),
            Some("x.txt:2: `name` before the first `country`")
        );
        let e = records("x.txt", "country a\n", "country").err();
        assert_eq!(e.as_deref(), Some("x.txt:1: not a `key: value` line"));
        let sections = Sections::parse("y.txt", "[a]\none\n[b]\n").unwrap();
        assert_eq!(sections.get("a").unwrap(), ["one"]);
        assert_eq!(sections.get("b").unwrap_err(), "y.txt: [b] is empty");
        assert_eq!(sections.get("c").unwrap_err(), "y.txt: no [c]");
    }
}
