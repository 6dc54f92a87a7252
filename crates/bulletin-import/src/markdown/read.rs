//! Reading a Hugo or Zola folder.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use bulletin_core::{Copyright, Dateline, IssueRef, Story, slugify};
use jiff::civil::Date;

use super::Flavor;
use super::front::{self, BulletinMeta, FrontMatter, Split};
use super::limits::MAX_FILE;
use super::paths::{self, HugoUrls, PagePlace};
use super::text::plain_paragraphs;
use crate::body::{self, Post, to_story};
use crate::{Diagnostic, ImportedStory, Item, PostStatus, Settings, Severity, left_out};

/// A problem that stops one file (or folder) from being read. The reader goes on
/// with the next file; an import stops at the first.
#[derive(Debug)]
pub enum Error {
    /// A file or folder could not be read.
    Io { path: PathBuf, source: io::Error },
    /// A file's content is wrong: position, message and quoted line.
    Parse {
        path: PathBuf,
        diagnostic: Diagnostic,
    },
}

impl Error {
    /// The file (or folder) the problem is in.
    pub fn path(&self) -> &Path {
        match self {
            Error::Io { path, .. } | Error::Parse { path, .. } => path,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Parse { path, diagnostic } => {
                let name = path.display().to_string();
                write!(f, "{}", diagnostic.display(&name))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Parse { .. } => None,
        }
    }
}

/// One thing found, with the file it was found in (warnings' positions are in
/// that file).
pub type Found = (PathBuf, Item);

/// Reads the Hugo or Zola folder `dir`: a site (with `content/`, whose
/// configuration gives an [`Item::Site`] and the permalink rules) or a content
/// folder itself. Files are read one at a time, in sorted order, folders
/// depth-first; see the module documentation for what becomes what.
pub fn read_dir(dir: &Path, settings: &Settings) -> Reader {
    let mut reader = Reader {
        content: dir.to_path_buf(),
        settings: settings.clone(),
        flavor: None,
        hugo: HugoUrls::default(),
        queue: VecDeque::new(),
        stack: Vec::new(),
        now: jiff::Timestamp::now(),
    };
    let content = dir.join("content");
    if content.is_dir() {
        reader.content = content;
        reader.read_config(dir);
    }
    match list(&reader.content, true) {
        Ok(entries) => reader.stack.push(entries.into_iter()),
        Err(source) => reader.queue.push_back(Err(Error::Io {
            path: reader.content.clone(),
            source,
        })),
    }
    reader
}

/// The iterator [`read_dir`] returns.
pub struct Reader {
    content: PathBuf,
    settings: Settings,
    /// From the site's configuration; `None` when there is none (then each file's
    /// front matter decides).
    flavor: Option<Flavor>,
    hugo: HugoUrls,
    queue: VecDeque<Result<Found, Error>>,
    /// Folders being walked: the entries of each not yet visited.
    stack: Vec<std::vec::IntoIter<Entry>>,
    /// Publish and expiry dates are compared with the time the import started.
    now: jiff::Timestamp,
}

impl Iterator for Reader {
    type Item = Result<Found, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(found) = self.queue.pop_front() {
                return Some(found);
            }
            let top = self.stack.last_mut()?;
            let Some(entry) = top.next() else {
                self.stack.pop();
                continue;
            };
            if entry.is_dir {
                match list(&entry.path, false) {
                    Ok(entries) => self.stack.push(entries.into_iter()),
                    Err(source) => {
                        return Some(Err(Error::Io {
                            path: entry.path,
                            source,
                        }));
                    }
                }
            } else if is_markdown(&entry.name) {
                match self.page(&entry.path) {
                    Ok(items) => self
                        .queue
                        .extend(items.into_iter().map(|i| Ok((entry.path.clone(), i)))),
                    Err(e) => return Some(Err(e)),
                }
            }
        }
    }
}

struct Entry {
    path: PathBuf,
    name: OsString,
    is_dir: bool,
}

fn is_markdown(name: &OsString) -> bool {
    let name = name.to_string_lossy();
    name.ends_with(".md") || name.ends_with(".markdown")
}

fn is_index(name: &OsString) -> bool {
    matches!(name.to_str(), Some("index.md" | "index.markdown"))
}

/// A folder's entries in name order, hidden ones left out. A folder with an
/// `index.md` (not the content folder itself) is a leaf bundle: that file is its
/// one page, the rest are its resources. Symbolic links to folders are not
/// followed (they could make a cycle).
fn list(dir: &Path, is_content_root: bool) -> io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let file_type = entry.file_type()?;
        let is_dir = if file_type.is_dir() {
            true
        } else if file_type.is_file() {
            false
        } else if file_type.is_symlink() {
            match fs::metadata(entry.path()) {
                Ok(m) if m.is_file() => false,
                _ => continue,
            }
        } else {
            continue;
        };
        entries.push(Entry {
            path: entry.path(),
            name,
            is_dir,
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if !is_content_root && let Some(i) = entries.iter().position(|e| !e.is_dir && is_index(&e.name))
    {
        let index = entries.swap_remove(i);
        return Ok(vec![index]);
    }
    Ok(entries)
}

/// Site configuration files, in the order Hugo and Zola look for them. A
/// `config.toml` is Zola's when it has `base_url` (Hugo's key is `baseURL`).
const CONFIG_FILES: [(&str, Option<Flavor>); 12] = [
    ("hugo.toml", Some(Flavor::Hugo)),
    ("hugo.yaml", Some(Flavor::Hugo)),
    ("hugo.yml", Some(Flavor::Hugo)),
    ("hugo.json", Some(Flavor::Hugo)),
    ("config.toml", None),
    ("config.yaml", Some(Flavor::Hugo)),
    ("config.yml", Some(Flavor::Hugo)),
    ("config.json", Some(Flavor::Hugo)),
    ("config/_default/hugo.toml", Some(Flavor::Hugo)),
    ("config/_default/hugo.yaml", Some(Flavor::Hugo)),
    ("config/_default/config.toml", Some(Flavor::Hugo)),
    ("config/_default/config.yaml", Some(Flavor::Hugo)),
];

impl Reader {
    fn read_config(&mut self, root: &Path) {
        let Some((path, flavor)) = CONFIG_FILES
            .iter()
            .map(|(name, flavor)| (root.join(name), *flavor))
            .find(|(path, _)| path.is_file())
        else {
            return;
        };
        let value = match read_limited(&path)
            .and_then(|bytes| {
                decode(bytes).map_err(|diagnostic| Error::Parse {
                    path: path.clone(),
                    diagnostic,
                })
            })
            .and_then(|text| {
                parse_config(&path, &text).map_err(|diagnostic| Error::Parse {
                    path: path.clone(),
                    diagnostic,
                })
            }) {
            Ok(value) => value,
            Err(e) => {
                self.queue.push_back(Err(e));
                return;
            }
        };
        let Some(map) = value.as_object() else {
            return;
        };
        // Hugo reads its keys without regard to case; Zola's are lowercase.
        let get = |key: &str| {
            map.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        };
        let flavor = flavor.unwrap_or(if map.contains_key("base_url") {
            Flavor::Zola
        } else {
            Flavor::Hugo
        });
        self.flavor = Some(flavor);
        let text = |v: Option<&serde_json::Value>| {
            v.and_then(|v| v.as_str()).unwrap_or("").trim().to_owned()
        };
        let title = text(get("title"));
        let url = match flavor {
            Flavor::Hugo => text(get("baseurl")),
            Flavor::Zola => text(map.get("base_url")),
        };
        if flavor == Flavor::Hugo {
            let flag = |key| get(key).and_then(|v| v.as_bool()).unwrap_or(false);
            self.hugo.ugly_urls = flag("uglyurls");
            self.hugo.keep_case = flag("disablepathtolower");
            if let Some(links) = get("permalinks").and_then(|v| v.as_object()) {
                for (key, value) in links {
                    match value {
                        serde_json::Value::String(pattern) => {
                            self.hugo.permalinks.insert(key.clone(), pattern.clone());
                        }
                        // Hugo 0.131+: `[permalinks.page]`.
                        serde_json::Value::Object(page) if key.eq_ignore_ascii_case("page") => {
                            for (section, pattern) in page {
                                if let Some(p) = pattern.as_str() {
                                    self.hugo.permalinks.insert(section.clone(), p.to_owned());
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        if !title.is_empty() || !url.is_empty() {
            self.queue.push_back(Ok((path, Item::Site { title, url })));
        }
    }

    /// Everything one Markdown file gives.
    fn page(&self, path: &Path) -> Result<Vec<Item>, Error> {
        let rel = path.strip_prefix(&self.content).unwrap_or(path);
        let rel_name = rel.display().to_string();
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if file_name.starts_with("_index.") {
            return Ok(vec![Item::Skipped {
                kind: "section".into(),
                title: rel_name,
                line: 1,
                reason: "a section's own page (_index), not a story".into(),
                item: true,
            }]);
        }
        let bytes = read_limited(path)?;
        let parse_error = |diagnostic| Error::Parse {
            path: path.to_path_buf(),
            diagnostic,
        };
        let text = decode(bytes).map_err(parse_error)?;
        let Some(split) = front::split(&text).map_err(parse_error)? else {
            return Ok(vec![Item::Skipped {
                kind: "file".into(),
                title: rel_name,
                line: 1,
                reason: "Markdown without front matter (not a Hugo or Zola page)".into(),
                item: true,
            }]);
        };
        let fm = front::parse(&text, &split).map_err(parse_error)?;
        PageReader {
            reader: self,
            text: &text,
            split: &split,
            fm: &fm,
            rel,
            rel_name: &rel_name,
        }
        .items()
        .map_err(parse_error)
    }
}

/// What is needed while turning one page into items.
struct PageReader<'a> {
    reader: &'a Reader,
    text: &'a str,
    split: &'a Split<'a>,
    fm: &'a FrontMatter,
    rel: &'a Path,
    rel_name: &'a str,
}

impl PageReader<'_> {
    fn items(&self) -> Result<Vec<Item>, Diagnostic> {
        let fm = self.fm;
        let tz = &self.reader.settings.time_zone;
        let flavor = self.reader.flavor.unwrap_or(
            if fm.taxonomies.is_some() || fm.extra.is_some() || fm.path.is_some() {
                Flavor::Zola
            } else {
                Flavor::Hugo
            },
        );
        // Folders from the content folder down; a bundle's folder names the page.
        let mut dirs: Vec<String> = self
            .rel
            .parent()
            .into_iter()
            .flat_map(Path::components)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let stem = self
            .rel
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = if stem == "index" {
            dirs.pop().unwrap_or(stem)
        } else {
            stem
        };
        let dated = paths::dated_name(&name);
        let date: Option<Date> = fm
            .date
            .or(fm.publish_date)
            .map(|w| w.date_in(tz))
            .or(dated.map(|(d, _)| d));
        let title = fm.title.clone().unwrap_or_default();
        let display_title = if title.trim().is_empty() {
            self.rel_name.to_owned()
        } else {
            title.clone()
        };
        let default_slug = match dated {
            Some((_, rest)) if !rest.is_empty() => rest.to_owned(),
            _ => name.clone(),
        };
        let body = plain_paragraphs(self.split.body);
        let mut warnings = Vec::new();
        if body.images > 0 {
            warnings.push(format!(
                "{} image{} left out: stories are text",
                body.images,
                if body.images == 1 { "" } else { "s" }
            ));
        }
        if body.html_blocks > 0 {
            warnings.push(format!(
                "{} block{} of raw HTML left out",
                body.html_blocks,
                if body.html_blocks == 1 { "" } else { "s" }
            ));
        }
        let mut paragraphs = body.paragraphs;
        if !body::has_text(&paragraphs) {
            // An empty page is still a page at its address: keep it, saying so.
            let stand_in = left_out::for_markdown(body.images, body.html_blocks);
            warnings.push(left_out::warning(stand_in));
            paragraphs = vec![stand_in.to_owned()];
        }
        let post = Post {
            title: title.clone(),
            slug: Some(fm.slug.clone().unwrap_or(default_slug)),
            date,
            paragraphs,
            tags: fm.all_tags(),
        };
        let story = match fm.bulletin() {
            Some(meta) if meta.is_complete() => self.own_story(post, meta)?,
            meta => {
                let made = to_story(post, &self.reader.settings).map_err(|why| {
                    self.error_at("title", &format!("this page cannot become a story: {why}"))
                })?;
                warnings.extend(made.warnings);
                let mut story = made.story;
                if let Some(meta) = meta {
                    self.apply(&mut story, meta);
                }
                story
            }
        };
        story
            .validate()
            .map_err(|e| self.error_at(self.key_of_bulletin(), &e.to_string()))?;

        let status = self.status();
        let place = PagePlace {
            dirs: &dirs,
            name: &name,
            slug: fm.slug.as_deref(),
            title: &title,
            date,
        };
        let old_paths = self.old_paths(flavor, &place, dated, &story.url());
        let mut items = vec![Item::Story(Box::new(ImportedStory {
            story,
            status,
            old_paths,
            line: 1,
            title: display_title.clone(),
            source: Some(self.source_identity()),
        }))];
        let body_line = self.split.body_line;
        let first_body_line = self.split.body.lines().next().unwrap_or("");
        items.extend(warnings.into_iter().map(|w| {
            Item::Warning(Diagnostic::new(
                Severity::Warning,
                body_line,
                1,
                format!("{display_title}: {w}"),
                first_body_line.trim_end_matches('\r'),
            ))
        }));
        Ok(items)
    }

    /// `markdown <path>`: the file's path in the content folder, with `/`
    /// between folders on every system.
    fn source_identity(&self) -> String {
        let parts: Vec<String> = self
            .rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        format!("markdown {}", parts.join("/"))
    }

    /// A story from a file bulletin wrote: every field is in the front matter
    /// and the body is the story's paragraphs exactly, so nothing is inferred.
    fn own_story(&self, post: Post, meta: &BulletinMeta) -> Result<Story, Diagnostic> {
        let tz = &self.reader.settings.time_zone;
        let date = post
            .date
            .ok_or_else(|| self.error_at("title", "the page has no date"))?;
        let slug = match post.slug {
            Some(s) if is_slug(&s) => s,
            Some(s) if !slugify(&s).is_empty() => slugify(&s),
            _ => slugify(&post.title),
        };
        Ok(Story {
            slug,
            headline: post.title,
            dateline: Dateline {
                places: meta.places.clone().unwrap_or_default(),
                date,
                year_inferred: meta.year_inferred.unwrap_or(false),
                credit: meta.credit.clone().unwrap_or_default(),
            },
            body: post.paragraphs,
            tags: post.tags,
            countries: meta.countries.clone().unwrap_or_default(),
            issue: meta.issue.map(|number| IssueRef {
                number,
                date: meta.issue_date.map(|w| w.date_in(tz)),
            }),
            first_published: meta.first_published.unwrap_or(false),
            copyright: Copyright {
                holder: meta.copyright_holder.clone().unwrap_or_default(),
                year: meta.copyright_year.unwrap_or(date.year()),
            },
            access: meta.access.unwrap_or_default(),
        })
    }

    /// bulletin fields a hand-edited front matter gives override what the body
    /// and settings gave.
    fn apply(&self, story: &mut Story, meta: &BulletinMeta) {
        let tz = &self.reader.settings.time_zone;
        if let Some(places) = &meta.places {
            story.dateline.places = places.clone();
        }
        if let Some(credit) = &meta.credit {
            story.dateline.credit = credit.clone();
        }
        if let Some(inferred) = meta.year_inferred {
            story.dateline.year_inferred = inferred;
        }
        match &meta.countries {
            Some(countries) => story.countries = countries.clone(),
            None if meta.places.is_some() => story.countries = story.derive_countries(),
            None => {}
        }
        if let Some(number) = meta.issue {
            story.issue = Some(IssueRef {
                number,
                date: meta.issue_date.map(|w| w.date_in(tz)),
            });
        }
        if let Some(first) = meta.first_published {
            story.first_published = first;
        }
        if let Some(holder) = &meta.copyright_holder {
            story.copyright.holder = holder.clone();
        }
        if let Some(year) = meta.copyright_year {
            story.copyright.year = year;
        }
        if let Some(access) = meta.access {
            story.access = access;
        }
    }

    /// Draft, or scheduled (a publish date still to come), or private (an expiry
    /// date passed: the site no longer showed it), else published.
    fn status(&self) -> PostStatus {
        let fm = self.fm;
        let tz = &self.reader.settings.time_zone;
        let now = self.reader.now;
        if fm.draft.is_some_and(|d| d.0) {
            return PostStatus::Draft;
        }
        if let Some(at) = fm.publish_date.and_then(|w| w.timestamp_in(tz))
            && at > now
        {
            return PostStatus::Scheduled(at);
        }
        if fm
            .expiry_date
            .and_then(|w| w.timestamp_in(tz))
            .is_some_and(|at| at <= now)
        {
            return PostStatus::Private;
        }
        PostStatus::Published
    }

    /// Aliases, the page's own address (its `url`/`path`, or the one its site's
    /// rules give it), each once, never the story's new URL.
    fn old_paths(
        &self,
        flavor: Flavor,
        place: &PagePlace<'_>,
        dated: Option<(Date, &str)>,
        new_url: &str,
    ) -> Vec<String> {
        let fm = self.fm;
        // A page bulletin wrote lives at the story's URL whatever folder it is
        // read from (the site's permalink rules may not be at hand).
        let own_file = fm.bulletin().is_some_and(BulletinMeta::is_complete);
        let own = match flavor {
            _ if own_file && fm.url.is_none() && fm.path.is_none() => None,
            Flavor::Hugo => match &fm.url {
                Some(url) => paths::normalize(url),
                None => self.reader.hugo.page_path(place),
            },
            Flavor::Zola => match &fm.path {
                Some(p) => paths::normalize(p),
                None => {
                    // Zola takes the date off a dated file name for the slug.
                    let name = match dated {
                        Some((_, rest)) if !rest.is_empty() => rest,
                        _ => place.name,
                    };
                    Some(paths::zola_page_path(&PagePlace { name, ..*place }))
                }
            },
        };
        // Hugo reads an alias without a leading slash as a sibling of the page's
        // own address; Zola reads every alias from the site's root.
        let base = match (flavor, &own) {
            (Flavor::Hugo, Some(own)) => own
                .trim_end_matches('/')
                .rsplit_once('/')
                .map_or("", |(parent, _)| parent)
                .to_owned(),
            _ => String::new(),
        };
        let mut out: Vec<String> = Vec::new();
        for alias in fm.aliases.iter().flat_map(|w| &w.0) {
            let alias = alias.trim();
            let full = if !alias.starts_with('/') && !alias.contains("://") {
                format!("{base}/{alias}")
            } else {
                alias.to_owned()
            };
            out.extend(paths::normalize(&full));
        }
        out.extend(own);
        let mut seen = Vec::with_capacity(out.len());
        for p in out {
            if p != new_url && !seen.contains(&p) {
                seen.push(p);
            }
        }
        seen
    }

    fn key_of_bulletin(&self) -> &'static str {
        if self.fm.bulletin().is_some() {
            "bulletin"
        } else {
            "title"
        }
    }

    /// An error at `key`'s line in the front matter.
    fn error_at(&self, key: &str, message: &str) -> Diagnostic {
        let mut d = front::locate(self.text, self.split, key);
        d.message = message.to_owned();
        d
    }
}

/// A site configuration file as a JSON value, whatever its format.
fn parse_config(path: &Path, text: &str) -> Result<serde_json::Value, Diagnostic> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some("yaml" | "yml") => front::Format::Yaml,
        Some("json") => front::Format::Json,
        _ => front::Format::Toml,
    };
    front::parse_as(text, format, text, 0)
}

/// Whether `s` is already a slug as [`Story::validate`] wants one.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A file's bytes, or an error without reading it when it is larger than
/// [`MAX_FILE`] (its size is checked as it is read, so a file that grows does
/// not slip past).
fn read_limited(path: &Path) -> Result<Vec<u8>, Error> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    let mut bytes = Vec::new();
    if size <= MAX_FILE {
        file.take(MAX_FILE + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
    }
    if size > MAX_FILE || bytes.len() as u64 > MAX_FILE {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            diagnostic: Diagnostic::new(
                Severity::Error,
                1,
                1,
                format!(
                    "the file is larger than {} MiB; a page holds one story, far smaller",
                    MAX_FILE >> 20
                ),
                "",
            ),
        });
    }
    Ok(bytes)
}

/// A file's text: UTF-8 (a BOM dropped) or UTF-16 with a BOM; anything else is an
/// error at the first byte that is not UTF-8.
fn decode(bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let mut text = String::new();
        bulletin_text::utf8_input(bytes.as_slice())
            .and_then(|mut input| input.read_to_string(&mut text))
            .map_err(|e| {
                Diagnostic::new(
                    Severity::Error,
                    1,
                    1,
                    format!("the file is not valid UTF-16: {e}"),
                    "",
                )
            })?;
        return Ok(text);
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            if text.starts_with('\u{feff}') {
                text.drain(..'\u{feff}'.len_utf8());
            }
            Ok(text)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.into_bytes();
            let lossy = String::from_utf8_lossy(&bytes);
            let valid = String::from_utf8_lossy(&bytes[..at]);
            let mut d = front::at_offset(&lossy, valid.len(), "");
            d.message = format!(
                "the file is not UTF-8 (byte 0x{:02X})",
                bytes.get(at).copied().unwrap_or(0)
            );
            Err(d)
        }
    }
}
