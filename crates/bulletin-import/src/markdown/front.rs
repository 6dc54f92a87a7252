//! Front matter: finding it (TOML between `+++` lines, YAML between `---` lines,
//! or a JSON object, as Hugo allows) and reading the fields bulletin uses. Errors
//! carry the position in the whole file.

use std::fmt;

use bulletin_core::Access;
use jiff::civil;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};

use super::limits::{MAX_FRONT_MATTER, MAX_NESTING};
use super::yaml_depth;
use crate::{Diagnostic, Severity};

/// How the front matter is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Toml,
    Yaml,
    Json,
}

/// A file cut into its front matter and body.
#[derive(Debug)]
pub(crate) struct Split<'a> {
    pub format: Format,
    /// The front matter's text, without its delimiters.
    pub front: &'a str,
    /// Byte offset of `front` in the file.
    pub front_offset: usize,
    pub body: &'a str,
    /// 1-based line on which `body` starts.
    pub body_line: u64,
}

/// Cuts `text` (without a BOM) into front matter and body; `Ok(None)` when it has
/// no front matter.
pub(crate) fn split(text: &str) -> Result<Option<Split<'_>>, Diagnostic> {
    let first_line = text.split('\n').next().unwrap_or("");
    let opener = first_line.trim_end();
    let format = match opener {
        "+++" => Format::Toml,
        "---" => Format::Yaml,
        _ if text.starts_with('{') => return split_json(text).map(Some),
        _ => return Ok(None),
    };
    let front_offset = first_line.len() + 1;
    let mut offset = front_offset;
    let mut line_no = 2u64;
    while offset <= text.len() {
        let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
        if offset - front_offset > MAX_FRONT_MATTER {
            return Err(at_offset(
                text,
                offset,
                &format!(
                    "the front matter opened on line 1 is longer than {} KiB by this line; front matter holds a page's few fields",
                    MAX_FRONT_MATTER >> 10
                ),
            ));
        }
        let line = text[offset..line_end].trim_end();
        // YAML documents may also end with `...`.
        if line == opener || (format == Format::Yaml && line == "...") {
            let body_start = (line_end + 1).min(text.len());
            return Ok(Some(Split {
                format,
                front: &text[front_offset.min(text.len())..offset],
                front_offset,
                body: &text[body_start..],
                body_line: line_no + 1,
            }));
        }
        offset = line_end + 1;
        line_no += 1;
    }
    Err(Diagnostic::new(
        Severity::Error,
        1,
        1,
        format!("the front matter opened here with {opener} is never closed"),
        first_line.trim_end_matches('\r'),
    ))
}

/// Hugo's JSON front matter: one object at the start of the file.
fn split_json(text: &str) -> Result<Split<'_>, Diagnostic> {
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<de::IgnoredAny>();
    match stream.next() {
        Some(Ok(_)) => {
            let end = stream.byte_offset();
            if end > MAX_FRONT_MATTER {
                return Err(at_offset(
                    text,
                    0,
                    &format!(
                        "the JSON front matter that starts here is longer than {} KiB; front matter holds a page's few fields",
                        MAX_FRONT_MATTER >> 10
                    ),
                ));
            }
            let rest = &text[end..];
            // The rest of the closing line belongs to the front matter.
            let body_start = rest.find('\n').map_or(text.len(), |i| end + i + 1);
            Ok(Split {
                format: Format::Json,
                front: &text[..end],
                front_offset: 0,
                body: &text[body_start..],
                body_line: text[..body_start].matches('\n').count() as u64 + 1,
            })
        }
        Some(Err(e)) => Err(json_error(text, 0, &e)),
        None => Err(at_offset(text, 0, "the JSON front matter is empty")),
    }
}

/// The fields bulletin reads; everything else is ignored. Hugo matches keys
/// without regard to case, so the common capitalised forms are accepted too.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct FrontMatter {
    #[serde(alias = "Title")]
    pub title: Option<String>,
    #[serde(alias = "Date")]
    pub date: Option<When>,
    #[serde(
        rename = "publishDate",
        alias = "publishdate",
        alias = "PublishDate",
        alias = "pubdate",
        alias = "pubDate"
    )]
    pub publish_date: Option<When>,
    #[serde(
        rename = "expiryDate",
        alias = "expirydate",
        alias = "ExpiryDate",
        alias = "unpublishdate",
        alias = "unpublishDate"
    )]
    pub expiry_date: Option<When>,
    #[serde(alias = "Slug")]
    pub slug: Option<String>,
    #[serde(alias = "Tags")]
    pub tags: Option<Words>,
    #[serde(alias = "Categories")]
    pub categories: Option<Words>,
    /// Zola's `[taxonomies]`: `tags` and `categories` are read.
    pub taxonomies: Option<Taxonomies>,
    #[serde(alias = "Draft")]
    pub draft: Option<Flag>,
    #[serde(alias = "Aliases")]
    pub aliases: Option<Words>,
    /// Hugo: the page's whole URL.
    #[serde(alias = "URL", alias = "Url")]
    pub url: Option<String>,
    /// Zola: the page's path.
    pub path: Option<String>,
    /// bulletin's own fields as written for Hugo (`[bulletin]`).
    pub bulletin: Option<BulletinMeta>,
    /// Zola keeps everything of its own under `[extra]`: `[extra.bulletin]`.
    pub extra: Option<Extra>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Taxonomies {
    pub tags: Option<Words>,
    pub categories: Option<Words>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Extra {
    pub bulletin: Option<BulletinMeta>,
}

/// bulletin's fields, as the writer puts them in front matter. The writer also
/// puts the rendered dateline and footers there for templates; they are derived,
/// so not read back.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BulletinMeta {
    pub places: Option<Vec<String>>,
    pub credit: Option<String>,
    pub year_inferred: Option<bool>,
    pub countries: Option<Vec<String>>,
    pub issue: Option<u32>,
    pub issue_date: Option<When>,
    pub first_published: Option<bool>,
    pub copyright_holder: Option<String>,
    pub copyright_year: Option<i16>,
    pub access: Option<Access>,
}

impl BulletinMeta {
    /// Everything a story needs is here (the writer always writes all of it), so
    /// the file is bulletin's own and its body is the story's paragraphs as they
    /// were.
    pub fn is_complete(&self) -> bool {
        self.places.is_some()
            && self.credit.is_some()
            && self.year_inferred.is_some()
            && self.countries.is_some()
            && self.first_published.is_some()
            && self.copyright_holder.is_some()
            && self.copyright_year.is_some()
            && self.access.is_some()
    }
}

impl FrontMatter {
    pub fn bulletin(&self) -> Option<&BulletinMeta> {
        self.bulletin
            .as_ref()
            .or_else(|| self.extra.as_ref().and_then(|e| e.bulletin.as_ref()))
    }

    /// Tags, then categories (Hugo's top-level lists, then Zola's taxonomies),
    /// each once, in order.
    pub fn all_tags(&self) -> Vec<String> {
        let tax = self.taxonomies.as_ref();
        let lists = [
            self.tags.as_ref(),
            tax.and_then(|t| t.tags.as_ref()),
            self.categories.as_ref(),
            tax.and_then(|t| t.categories.as_ref()),
        ];
        let mut out: Vec<String> = Vec::new();
        // A set keeps this linear however many tags the front matter lists.
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        for word in lists.into_iter().flatten().flat_map(|w| &w.0) {
            let word = word.trim();
            if !word.is_empty() && seen.insert(word) {
                out.push(word.to_owned());
            }
        }
        out
    }
}

/// Reads front matter; errors point into the whole file (`file` is its text).
pub(crate) fn parse(file: &str, split: &Split<'_>) -> Result<FrontMatter, Diagnostic> {
    parse_as(file, split.format, split.front, split.front_offset)
}

/// Reads `text`, which starts at byte `offset` of `file`, in `format`; errors point
/// into `file`.
pub(crate) fn parse_as<T: DeserializeOwned + Default>(
    file: &str,
    format: Format,
    text: &str,
    offset: usize,
) -> Result<T, Diagnostic> {
    match format {
        Format::Toml => toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start);
            at_offset(file, offset + at, e.message().trim_end())
        }),
        Format::Yaml => {
            // An empty YAML document is null, not an empty mapping.
            if text.trim().is_empty() {
                return Ok(T::default());
            }
            if let Some(at) = yaml_depth::too_deep(text) {
                return Err(at_offset(
                    file,
                    offset + at,
                    &format!(
                        "the YAML nests lists and mappings more than {MAX_NESTING} deep here; front matter goes a few deep"
                    ),
                ));
            }
            serde_yaml_ng::from_str(text).map_err(|e| {
                let at = e.location().map_or(0, |l| l.index());
                at_offset(file, offset + at, &strip_yaml_position(&e))
            })
        }
        Format::Json => serde_json::from_str(text).map_err(|e| json_error(file, offset, &e)),
    }
}

/// serde_yaml's messages end with " at line L column C"; the position is given
/// separately, for the whole file.
fn strip_yaml_position(e: &serde_yaml_ng::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) if text[i..].contains(" column ") => text[..i].to_owned(),
        _ => text,
    }
}

fn json_error(file: &str, base: usize, e: &serde_json::Error) -> Diagnostic {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    // serde_json gives line and column (1-based, column in bytes) in the text it
    // read, which starts at `base`.
    let start_line = file[..base].matches('\n').count();
    let line_index = start_line + e.line().saturating_sub(1);
    let line_start: usize = file
        .split_inclusive('\n')
        .take(line_index)
        .map(str::len)
        .sum();
    let offset = line_start + e.column().saturating_sub(1);
    at_offset(file, offset.min(file.len()), message)
}

/// An error at byte `offset` of `file`, with its line quoted.
pub(crate) fn at_offset(file: &str, offset: usize, message: &str) -> Diagnostic {
    let mut offset = offset.min(file.len());
    while !file.is_char_boundary(offset) {
        offset -= 1;
    }
    let line_start = file[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = file[offset..].find('\n').map_or(file.len(), |i| offset + i);
    let line = file[line_start..line_end].trim_end_matches('\r');
    let line_no = file[..line_start].matches('\n').count() as u64 + 1;
    let column = file[line_start..offset].chars().count() as u64 + 1;
    Diagnostic::new(Severity::Error, line_no, column, message, line)
}

/// The position of `key`'s line in the front matter (`key =` in TOML,
/// `key:` in YAML, `"key":` in JSON, or a `[key]`/`[....key]` table header), for
/// problems found after reading; the front matter's first line if not found.
pub(crate) fn locate(file: &str, split: &Split<'_>, key: &str) -> Diagnostic {
    let mut offset = split.front_offset;
    for line in split.front.split_inclusive('\n') {
        let t = line.trim_start();
        let indent = line.len() - t.len();
        let t = t.trim_start_matches('"');
        let is_key = t.strip_prefix(key).is_some_and(|rest| {
            let rest = rest.trim_start_matches('"').trim_start();
            rest.starts_with('=') || rest.starts_with(':')
        });
        let is_table = t.starts_with('[')
            && t.trim_end().ends_with(']')
            && (t.trim_end().ends_with(&format!(".{key}]")) || t.trim_end() == format!("[{key}]"));
        if is_key || is_table {
            return at_offset(file, offset + indent, "");
        }
        offset += line.len();
    }
    at_offset(file, split.front_offset.saturating_sub(1), "")
}

/// A date or time as front matter gives it: a TOML datetime, or a string in one
/// of the forms Hugo and Zola accept (`2021-07-18`, `2021-07-18T10:00:00Z`,
/// `2021-07-18T10:00:00+05:00`, `2021-07-18 10:00:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    Date(civil::Date),
    /// Without an offset: in the publication's time zone.
    Local(civil::DateTime),
    At(jiff::Timestamp),
}

impl When {
    pub fn parse(s: &str) -> Result<When, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "{s:?} is not a date; use 2021-07-18, 2021-07-18T10:00:00Z or 2021-07-18 10:00:00"
            )
        };
        if s.len() == 10 {
            return s.parse::<civil::Date>().map(When::Date).map_err(|_| bad());
        }
        // An offset (Z, +05:00, -0700) after the time makes it an instant.
        let time = s.get(11..).unwrap_or("");
        let has_offset = time.contains(['Z', 'z', '+', '-']);
        if has_offset {
            let normal = s.replacen(' ', "T", 1);
            return normal
                .parse::<jiff::Timestamp>()
                .map(When::At)
                .map_err(|_| bad());
        }
        s.parse::<civil::DateTime>()
            .map(When::Local)
            .map_err(|_| bad())
    }

    /// The calendar date in `tz`.
    pub fn date_in(self, tz: &jiff::tz::TimeZone) -> civil::Date {
        match self {
            When::Date(d) => d,
            When::Local(dt) => dt.date(),
            When::At(ts) => tz.to_datetime(ts).date(),
        }
    }

    /// The instant, reading dates and local times in `tz` (a date is its midnight).
    pub fn timestamp_in(self, tz: &jiff::tz::TimeZone) -> Option<jiff::Timestamp> {
        match self {
            When::Date(d) => tz.to_timestamp(d.to_datetime(civil::Time::midnight())).ok(),
            When::Local(dt) => tz.to_timestamp(dt).ok(),
            When::At(ts) => Some(ts),
        }
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<When, D::Error> {
        struct WhenVisitor;
        impl<'de> Visitor<'de> for WhenVisitor {
            type Value = When;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a date such as 2021-07-18")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<When, E> {
                When::parse(s).map_err(E::custom)
            }
            // The toml crate hands a TOML datetime over as a one-entry map whose
            // value is the datetime's text.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<When, A::Error> {
                let key: Option<String> = map.next_key()?;
                match key {
                    Some(k) if k.starts_with("$__toml_private") => {
                        let text: String = map.next_value()?;
                        When::parse(&text).map_err(de::Error::custom)
                    }
                    _ => Err(de::Error::invalid_type(de::Unexpected::Map, &self)),
                }
            }
        }
        d.deserialize_any(WhenVisitor)
    }
}

/// A list of words that may also be given as one string (`tags: news`); numbers
/// and booleans in the list are taken as their text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Words(pub Vec<String>);

impl<'de> Deserialize<'de> for Words {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Words, D::Error> {
        struct WordsVisitor;
        impl<'de> Visitor<'de> for WordsVisitor {
            type Value = Words;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Words, E> {
                Ok(Words(vec![s.to_owned()]))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Words, E> {
                Ok(Words::default())
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Words, A::Error> {
                let mut out = Vec::new();
                while let Some(Word(w)) = seq.next_element()? {
                    out.push(w);
                }
                Ok(Words(out))
            }
        }
        d.deserialize_any(WordsVisitor)
    }
}

struct Word(String);

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Word, D::Error> {
        struct WordVisitor;
        impl Visitor<'_> for WordVisitor {
            type Value = Word;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Word, E> {
                Ok(Word(s.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Word, E> {
                Ok(Word(n.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Word, E> {
                Ok(Word(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Word, E> {
                Ok(Word(n.to_string()))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Word, E> {
                Ok(Word(b.to_string()))
            }
        }
        d.deserialize_any(WordVisitor)
    }
}

/// A boolean, also as the strings "true" and "false" (Hugo reads either).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flag(pub bool);

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flag, D::Error> {
        struct FlagVisitor;
        impl Visitor<'_> for FlagVisitor {
            type Value = Flag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("true or false")
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Flag, E> {
                Ok(Flag(b))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Flag, E> {
                match s.trim().to_ascii_lowercase().as_str() {
                    "true" | "yes" => Ok(Flag(true)),
                    "false" | "no" | "" => Ok(Flag(false)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(FlagVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn front(text: &str) -> Result<FrontMatter, Diagnostic> {
        let split = split(text)?.ok_or_else(|| at_offset(text, 0, "none"))?;
        parse(text, &split)
    }

    #[test]
    fn toml_and_yaml_dates() {
        let toml = "+++\ntitle = \"T\"\ndate = 2021-07-18T10:00:00Z\npublishDate = 2021-07-18\n+++\nbody\n";
        let f = front(toml).unwrap();
        assert_eq!(
            f.date,
            Some(When::At("2021-07-18T10:00:00Z".parse().unwrap()))
        );
        assert_eq!(f.publish_date, Some(When::Date(civil::date(2021, 7, 18))));
        let yaml = "---\nTitle: T\ndate: 2021-07-18 10:00:00\ntags: one\ndraft: \"true\"\n---\n";
        let f = front(yaml).unwrap();
        assert_eq!(
            f.date,
            Some(When::Local(civil::date(2021, 7, 18).at(10, 0, 0, 0)))
        );
        assert_eq!(f.all_tags(), ["one"]);
        assert_eq!(f.draft, Some(Flag(true)));
        let local = "+++\ndate = 2021-07-18 10:00:00\n+++\n";
        assert!(matches!(front(local).unwrap().date, Some(When::Local(_))));
    }

    #[test]
    fn errors_point_into_the_file() {
        let toml = "+++\ntitle = \"T\"\ndate = \"18 July\"\n+++\n";
        let e = front(toml).unwrap_err();
        assert_eq!((e.line, e.column), (3, 8), "{e:?}");
        assert_eq!(e.source_line, "date = \"18 July\"");
        let yaml = "---\ntitle: T\ntags: [a, b\n---\n";
        let e = front(yaml).unwrap_err();
        assert_eq!(e.line, 4, "{e:?}");
        let yaml = "---\ntitle: T\ndate: July\n---\n";
        let e = front(yaml).unwrap_err();
        assert_eq!((e.line, e.column), (3, 7), "{e:?}");
        assert!(e.message.contains("is not a date"), "{e:?}");
        let open = "+++\ntitle = 1\n";
        assert_eq!(front(open).unwrap_err().line, 1);
    }

    #[test]
    fn json_front_matter() {
        let text = "{\n  \"title\": \"T\",\n  \"tags\": [\"a\"]\n}\nBody\n";
        let s = split(text).unwrap().unwrap();
        assert_eq!(s.body, "Body\n");
        assert_eq!(s.body_line, 5);
        let f = parse(text, &s).unwrap();
        assert_eq!(f.title.as_deref(), Some("T"));
        let bad = "{\n  \"title\": 5\n}\n";
        let s = split(bad).unwrap().unwrap();
        let e = parse(bad, &s).unwrap_err();
        assert_eq!(e.line, 2, "{e:?}");
    }
}
