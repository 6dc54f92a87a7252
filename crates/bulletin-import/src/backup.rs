//! bulletin's own JSON: the complete backup, written and read one record at a time.
//!
//! A backup is DESIGN.md's export (`publication`, `issues`, `stories` in canonical
//! form) with more beside it, in this order:
//!
//! ```text
//! {"format":"bulletin-backup","version":1,
//! "publication":{...},
//! "tags":[...], "users":[...], "subscribers":[...], "issues":[...],
//! "stories":[...], "drafts":[...], "history":[...], "redirects":[...]}
//! ```
//!
//! A story record is the canonical story JSON plus `created_at`, `updated_at` and
//! `revisions`, so a reader of the canonical form can read a backup's stories.
//! Every record is on a line of its own and the order is fixed, so two backups of
//! the same archive are the same bytes, whichever backend they came from.
//!
//! A JSON file without `"format"` first is a plain export: only its stories are
//! read (see [`Part`]).

use std::fmt;
use std::io::{Read, Write};

use bulletin_core::backup::{
    BACKUP_FORMAT, BACKUP_VERSION, BackupDraft, BackupHistory, BackupIssue, BackupRevision,
    BackupStory, BackupSubscriber, BackupUser, Redirect,
};
use bulletin_core::{Access, Copyright, Dateline, IssueRef, Publication, Story, StoryJson, Tag};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// One part of a backup, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The `"format"` and `"version"` keys: this file is a complete backup.
    Backup {
        version: u32,
    },
    Publication(Publication),
    Tags(Vec<Tag>),
    Users(Vec<BackupUser>),
    Subscriber(BackupSubscriber),
    Issues(Vec<BackupIssue>),
    Story(Box<BackupStory>),
    Draft(Box<BackupDraft>),
    History(Box<BackupHistory>),
    Redirect(Redirect),
}

/// Why a JSON file could not be read: at `line:column` (1-based) when known.
#[derive(Debug)]
pub struct ReadError {
    pub line: u64,
    pub column: u64,
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

impl std::error::Error for ReadError {}

/// Reads `input`, handing each part to `sink` as soon as it is read (stories,
/// drafts, history and redirects one at a time, so memory stays flat). A `sink`
/// error stops the reading and is returned as the message.
pub fn read<R: Read>(
    input: R,
    sink: &mut dyn FnMut(Part) -> Result<(), String>,
) -> Result<(), ReadError> {
    let mut de =
        serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, input));
    let result = TopLevel { sink }
        .deserialize(&mut de)
        .and_then(|()| de.end());
    result.map_err(|e| ReadError {
        line: e.line() as u64,
        column: e.column() as u64,
        message: e
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or("")
            .to_owned(),
    })
}

struct TopLevel<'a> {
    sink: &'a mut dyn FnMut(Part) -> Result<(), String>,
}

impl<'de> DeserializeSeed<'de> for TopLevel<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

const KEYS: [&str; 12] = [
    "format",
    "version",
    "publication",
    "tags",
    "users",
    "subscribers",
    "issues",
    "stories",
    "drafts",
    "history",
    "redirects",
    "url",
];

impl<'de> Visitor<'de> for TopLevel<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a bulletin JSON export or backup (an object)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let sink = self.sink;
        let mut backup = false;
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            let send = |sink: &mut dyn FnMut(Part) -> Result<(), String>, part| {
                sink(part).map_err(de::Error::custom)
            };
            match key.as_str() {
                "format" => {
                    let format: String = map.next_value()?;
                    if !first {
                        return Err(de::Error::custom("\"format\" must be the first key"));
                    }
                    if format != BACKUP_FORMAT {
                        return Err(de::Error::custom(format!(
                            "\"format\" is {format:?}; this reads {BACKUP_FORMAT:?} files"
                        )));
                    }
                    backup = true;
                }
                "version" => {
                    let version: u32 = map.next_value()?;
                    if !backup {
                        return Err(de::Error::custom("\"version\" without \"format\""));
                    }
                    if version != BACKUP_VERSION {
                        return Err(de::Error::custom(format!(
                            "backup version {version} is not one this build reads \
                             (version {BACKUP_VERSION}); use the bulletin that wrote it"
                        )));
                    }
                    send(sink, Part::Backup { version })?;
                }
                "publication" => send(sink, Part::Publication(map.next_value()?))?,
                "tags" => send(sink, Part::Tags(map.next_value()?))?,
                "users" => send(sink, Part::Users(map.next_value()?))?,
                "subscribers" => map.next_value_seed(Each {
                    sink: &mut *sink,
                    make: |s: BackupSubscriber| Ok(Part::Subscriber(s)),
                    _record: std::marker::PhantomData,
                })?,
                "issues" => {
                    // A plain export's issues are what its stories say; only a
                    // backup's carry status and order.
                    let issues: Vec<IssueRecord> = map.next_value()?;
                    if backup {
                        send(
                            sink,
                            Part::Issues(
                                issues.into_iter().map(IssueRecord::into_backup).collect(),
                            ),
                        )?;
                    }
                }
                "stories" => map.next_value_seed(Each {
                    sink: &mut *sink,
                    make: |r: StoryRecord| r.into_part(),
                    _record: std::marker::PhantomData,
                })?,
                "drafts" => map.next_value_seed(Each {
                    sink: &mut *sink,
                    make: |d: BackupDraft| Ok(Part::Draft(Box::new(d))),
                    _record: std::marker::PhantomData,
                })?,
                "history" => map.next_value_seed(Each {
                    sink: &mut *sink,
                    make: |h: BackupHistory| Ok(Part::History(Box::new(h))),
                    _record: std::marker::PhantomData,
                })?,
                "redirects" => map.next_value_seed(Each {
                    sink: &mut *sink,
                    make: |r: Redirect| Ok(Part::Redirect(r)),
                    _record: std::marker::PhantomData,
                })?,
                other => return Err(de::Error::unknown_field(other, &KEYS)),
            }
            first = false;
        }
        Ok(())
    }
}

/// An issue as either form writes it (a backup adds `publish_at`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueRecord {
    number: u32,
    date: Option<bulletin_core::Date>,
    status: bulletin_core::IssueStatus,
    #[serde(default)]
    publish_at: Option<i64>,
    #[serde(default)]
    stories: Vec<String>,
}

impl IssueRecord {
    fn into_backup(self) -> BackupIssue {
        BackupIssue {
            number: self.number,
            date: self.date,
            status: self.status,
            publish_at: self.publish_at,
            stories: self.stories,
        }
    }
}

/// Streams the elements of one array to the sink.
struct Each<'a, T, F> {
    sink: &'a mut dyn FnMut(Part) -> Result<(), String>,
    make: F,
    _record: std::marker::PhantomData<fn() -> T>,
}

impl<'de, T, F> DeserializeSeed<'de> for Each<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<Part, String>,
{
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T, F> Visitor<'de> for Each<'_, T, F>
where
    T: Deserialize<'de>,
    F: FnMut(T) -> Result<Part, String>,
{
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            let part = (self.make)(item).map_err(de::Error::custom)?;
            (self.sink)(part).map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// A story as a backup or an export writes it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoryRecord {
    slug: String,
    headline: String,
    dateline: Dateline,
    body: Vec<String>,
    tags: Vec<String>,
    countries: Vec<String>,
    issue: Option<IssueRef>,
    first_published: bool,
    copyright: Copyright,
    access: Access,
    #[serde(default)]
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    updated_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    revisions: Option<Vec<BackupRevision>>,
}

impl StoryRecord {
    fn into_part(self) -> Result<Part, String> {
        let json = StoryJson {
            slug: self.slug,
            headline: self.headline,
            dateline: self.dateline,
            body: self.body,
            tags: self.tags,
            countries: self.countries,
            issue: self.issue,
            first_published: self.first_published,
            copyright: self.copyright,
            access: self.access,
            url: self.url,
        };
        let slug = json.slug.clone();
        let story = Story::try_from(json).map_err(|e| format!("story {slug:?}: {e}"))?;
        Ok(Part::Story(Box::new(BackupStory {
            story,
            created_at: self.created_at.unwrap_or_default(),
            updated_at: self.updated_at.unwrap_or_default(),
            revisions: self.revisions.unwrap_or_default(),
        })))
    }

    fn of(s: &BackupStory) -> StoryRecord {
        let j = s.story.to_json();
        StoryRecord {
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
            url: j.url,
            created_at: Some(s.created_at.clone()),
            updated_at: Some(s.updated_at.clone()),
            revisions: Some(s.revisions.clone()),
        }
    }
}

/// The sections of a backup, in the order they must be written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    Tags,
    Users,
    Subscribers,
    Issues,
    Stories,
    Drafts,
    History,
    Redirects,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Tags => "tags",
            Section::Users => "users",
            Section::Subscribers => "subscribers",
            Section::Issues => "issues",
            Section::Stories => "stories",
            Section::Drafts => "drafts",
            Section::History => "history",
            Section::Redirects => "redirects",
        }
    }
}

/// Writes a backup record by record. Sections must be opened in [`Section`]'s
/// order; a section not opened is written empty.
pub struct Writer<W: Write> {
    out: W,
    /// The open section and whether it has a record yet.
    open: Option<(Section, bool)>,
    next: usize,
}

const SECTIONS: [Section; 8] = [
    Section::Tags,
    Section::Users,
    Section::Subscribers,
    Section::Issues,
    Section::Stories,
    Section::Drafts,
    Section::History,
    Section::Redirects,
];

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, publication: &Publication) -> std::io::Result<Writer<W>> {
        write!(
            out,
            "{{\"format\":\"{BACKUP_FORMAT}\",\"version\":{BACKUP_VERSION},\n\"publication\":"
        )?;
        serde_json::to_writer(&mut out, publication)?;
        Ok(Writer {
            out,
            open: None,
            next: 0,
        })
    }

    /// Opens `section` (closing the one before, and writing any skipped empty).
    pub fn section(&mut self, section: Section) -> std::io::Result<()> {
        self.close()?;
        while self.next < SECTIONS.len() && SECTIONS[self.next] < section {
            write!(self.out, ",\n\"{}\":[]", SECTIONS[self.next].key())?;
            self.next += 1;
        }
        if SECTIONS.get(self.next) != Some(&section) {
            return Err(std::io::Error::other(format!(
                "backup section {:?} written out of order",
                section.key()
            )));
        }
        write!(self.out, ",\n\"{}\":[", section.key())?;
        self.next += 1;
        self.open = Some((section, false));
        Ok(())
    }

    fn record(&mut self, section: Section, value: &impl Serialize) -> std::io::Result<()> {
        if !matches!(self.open, Some((open, _)) if open == section) {
            self.section(section)?;
        }
        if let Some((_, any)) = &mut self.open {
            self.out.write_all(if *any { b",\n" } else { b"\n" })?;
            *any = true;
        }
        serde_json::to_writer(&mut self.out, value)?;
        Ok(())
    }

    pub fn tag(&mut self, tag: &Tag) -> std::io::Result<()> {
        self.record(Section::Tags, tag)
    }
    pub fn user(&mut self, user: &BackupUser) -> std::io::Result<()> {
        self.record(Section::Users, user)
    }
    pub fn subscriber(&mut self, subscriber: &BackupSubscriber) -> std::io::Result<()> {
        self.record(Section::Subscribers, subscriber)
    }
    pub fn issue(&mut self, issue: &BackupIssue) -> std::io::Result<()> {
        self.record(Section::Issues, issue)
    }
    pub fn story(&mut self, story: &BackupStory) -> std::io::Result<()> {
        self.record(Section::Stories, &StoryRecord::of(story))
    }
    pub fn draft(&mut self, draft: &BackupDraft) -> std::io::Result<()> {
        self.record(Section::Drafts, draft)
    }
    pub fn history(&mut self, entry: &BackupHistory) -> std::io::Result<()> {
        self.record(Section::History, entry)
    }
    pub fn redirect(&mut self, redirect: &Redirect) -> std::io::Result<()> {
        self.record(Section::Redirects, redirect)
    }

    fn close(&mut self) -> std::io::Result<()> {
        if let Some((_, any)) = self.open.take() {
            self.out.write_all(if any { b"\n]" } else { b"]" })?;
        }
        Ok(())
    }

    /// Writes the remaining (empty) sections and the closing brace.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.close()?;
        while self.next < SECTIONS.len() {
            write!(self.out, ",\n\"{}\":[]", SECTIONS[self.next].key())?;
            self.next += 1;
        }
        self.out.write_all(b"}\n")?;
        Ok(self.out)
    }
}
