//! The batch-import planner: decides what `put_stories` writes (new stories under
//! free slugs, updates that keep a revision, issues and tags created on first use,
//! change-log entries), and leaves the writing to a [`BatchWriter`], one per
//! database, which writes a whole batch per statement.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use bulletin_core::{Date, Story, slugify};
use sha2::{Digest, Sha256};

use crate::rows::corrupt;
use crate::{PutOutcome, Result, SourcedStory, StoreError};

/// Most stories planned together: bounds statement sizes and memory per round.
pub(crate) const MAX_BATCH: usize = 2000;

fn json_list(values: &[String]) -> String {
    // Serialising a slice of strings cannot fail.
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

/// A story ready to be written: validated, with its key, hash and JSON columns.
pub(crate) struct Prepared {
    /// Position in the caller's input, for the outcome.
    pub index: usize,
    pub story: Story,
    pub key: String,
    /// The source's identity for the story, if it gives one.
    pub source: Option<String>,
    pub hash: i64,
    pub date: String,
    pub issue_date: Option<String>,
    pub places: String,
    pub body: String,
    pub tags: String,
    pub countries: String,
}

impl Prepared {
    pub fn new(index: usize, sourced: SourcedStory) -> Result<Prepared> {
        let SourcedStory { story, source } = sourced;
        story
            .validate()
            .map_err(|source| StoreError::InvalidStory {
                slug: story.slug.clone(),
                source,
            })?;
        let places = json_list(&story.dateline.places);
        let body = json_list(&story.body);
        let tags = json_list(&story.tags);
        let countries = json_list(&story.countries);
        let date = story.dateline.date.to_string();
        let issue_date = story.issue.and_then(|i| i.date).map(|d| d.to_string());
        let mut p = Prepared {
            index,
            key: story.natural_key(),
            source,
            hash: 0,
            date,
            issue_date,
            places,
            body,
            tags,
            countries,
            story,
        };
        p.hash = p.content_hash();
        Ok(p)
    }

    /// First 64 bits of SHA-256 over every field but the slug (which the store
    /// assigns), each length-prefixed so that field boundaries are unambiguous.
    fn content_hash(&self) -> i64 {
        let s = &self.story;
        let mut h = Sha256::new();
        let mut field = |bytes: &[u8]| {
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
        };
        field(s.headline.as_bytes());
        field(self.date.as_bytes());
        field(&[u8::from(s.dateline.year_inferred)]);
        field(s.dateline.credit.as_bytes());
        field(self.places.as_bytes());
        field(self.body.as_bytes());
        field(self.tags.as_bytes());
        field(self.countries.as_bytes());
        match s.issue {
            Some(i) => {
                field(&i.number.to_le_bytes());
                field(self.issue_date.as_deref().unwrap_or("-").as_bytes());
            }
            None => field(b"none"),
        }
        field(&[u8::from(s.first_published)]);
        field(s.copyright.holder.as_bytes());
        field(&s.copyright.year.to_le_bytes());
        field(s.access.as_str().as_bytes());
        let digest = h.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        i64::from_le_bytes(first)
    }
}

/// Validates and prepares all stories, then splits them into batches in which each
/// identity (the source's, else the natural key) appears at most once (a repeat is
/// an update of the earlier one, so it must see it written) and which hold at most
/// [`MAX_BATCH`] stories.
pub(crate) fn prepare(stories: Vec<SourcedStory>) -> Result<Vec<Vec<Prepared>>> {
    let mut batches = Vec::new();
    let mut current: Vec<Prepared> = Vec::new();
    // (has a source, the source or the natural key): the two never meet.
    let mut identities: HashSet<(bool, String)> = HashSet::new();
    for (index, story) in stories.into_iter().enumerate() {
        let p = Prepared::new(index, story)?;
        let identity = match &p.source {
            Some(source) => (true, source.clone()),
            None => (false, p.key.clone()),
        };
        if current.len() >= MAX_BATCH || identities.contains(&identity) {
            batches.push(std::mem::take(&mut current));
            identities.clear();
        }
        identities.insert(identity);
        current.push(p);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    Ok(batches)
}

/// A stored story as the planner needs to see it.
pub(crate) struct Existing {
    pub id: i64,
    pub key: String,
    /// The source identity it was stored with (None: none).
    pub source: Option<String>,
    pub slug: String,
    pub hash: i64,
    pub issue_id: Option<i64>,
    pub issue_number: i64,
    pub position: i64,
}

/// One `stories` row to insert (id unused) or update (slug, key and source
/// unused).
pub(crate) struct Row<'a> {
    pub id: i64,
    pub slug: &'a str,
    /// The `natural_key` column: the story's natural key, or, for a story with a
    /// source identity, its natural key under the slug it is filed under.
    pub key: &'a str,
    pub source: Option<&'a str>,
    pub p: &'a Prepared,
    pub issue_id: Option<i64>,
    /// -1 without an issue.
    pub issue_number: i64,
    /// 0 without an issue.
    pub position: i64,
}

impl Row<'_> {
    pub fn access(&self) -> &'static str {
        self.p.story.access.as_str()
    }
}

/// The normalised side tables of a set of stories.
#[derive(Default)]
pub(crate) struct Children {
    /// (story id, position, tag id)
    pub tags: Vec<(i64, i32, i64)>,
    /// (story id, position, code)
    pub countries: Vec<(i64, i32, String)>,
    /// (story id, position, place)
    pub places: Vec<(i64, i32, String)>,
}

/// A change-log entry to append.
pub(crate) struct NewChange {
    pub entity: &'static str,
    pub key: String,
    pub op: &'static str,
}

/// An issue as the open transaction knows it.
/// An existing issue as `put_stories` needs it.
pub(crate) struct LoadedIssue {
    pub id: i64,
    pub number: u32,
    pub date: Option<Date>,
    pub status: bulletin_core::IssueStatus,
    /// The highest position of its public stories (0: none).
    pub max_position: i64,
}

pub(crate) struct IssueState {
    pub id: i64,
    pub date: Option<Date>,
    /// Position the next story appended to the issue gets.
    pub next_position: i64,
}

/// Small per-transaction caches. They stay valid for the transaction's life because
/// it is the only writer (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: advisory lock).
#[derive(Default)]
pub(crate) struct TxCache {
    issues: HashMap<u32, IssueState>,
    tags: HashMap<String, i64>,
    tag_slugs: Option<HashSet<String>>,
}

/// The writes of one batch; one implementation per database, each one statement (or
/// a few chunked statements) per call.
#[async_trait]
pub(crate) trait BatchWriter: Send {
    async fn lookup_existing(&mut self, keys: &[&str]) -> Result<Vec<Existing>>;
    /// The stories stored with one of these source identities.
    async fn lookup_sources(&mut self, sources: &[&str]) -> Result<Vec<Existing>>;
    /// Gives stories stored without a source identity the one given (id, source).
    async fn set_sources(&mut self, sources: &[(i64, &str)]) -> Result<()>;
    /// (id, number, date, highest position so far or 0)
    async fn load_issues(&mut self, numbers: &[u32]) -> Result<Vec<LoadedIssue>>;
    /// Inserts published issues; returns (id, number).
    async fn insert_issues(&mut self, issues: &[(u32, Option<String>)]) -> Result<Vec<(i64, u32)>>;
    async fn update_issue_date(&mut self, id: i64, date: &str) -> Result<()>;
    /// (id, name)
    async fn load_tags(&mut self, names: &[&str]) -> Result<Vec<(i64, String)>>;
    async fn all_tag_slugs(&mut self) -> Result<Vec<String>>;
    /// Inserts (name, slug); returns (id, name).
    async fn insert_tags(&mut self, tags: &[(String, String)]) -> Result<Vec<(i64, String)>>;
    /// Stored slugs equal to one of `bases` or starting with `base-` (a superset of
    /// the `base-N` ones is fine).
    async fn taken_slugs(&mut self, bases: &[&str]) -> Result<Vec<String>>;
    async fn fetch_stories(&mut self, ids: &[i64]) -> Result<Vec<(i64, Story)>>;
    /// Appends (story id, StoryJson) as each story's next revision.
    async fn insert_revisions(&mut self, revisions: &[(i64, String)]) -> Result<()>;
    /// Returns (id, natural key) of the inserted rows.
    async fn insert_stories(&mut self, rows: &[Row<'_>]) -> Result<Vec<(i64, String)>>;
    async fn update_stories(&mut self, rows: &[Row<'_>]) -> Result<()>;
    async fn delete_children(&mut self, story_ids: &[i64]) -> Result<()>;
    /// Fills the normalised tables (tags, countries, places) of freshly written
    /// stories, as [`Children::of`] lists them, each row with a copy of its
    /// story's sort key (dateline date, issue number, issue position) as stored;
    /// `tags` maps every tag name they use to its id.
    async fn insert_children(
        &mut self,
        stories: &[(i64, &Story)],
        tags: &HashMap<String, i64>,
    ) -> Result<()>;
    async fn insert_changes(&mut self, changes: &[NewChange]) -> Result<()>;
}

/// The first of `base`, `base-2`, `base-3`, ... not in `taken` (WordPress's rule).
/// `hint` remembers per base where the search may resume, since `taken` only grows.
fn next_free_slug(base: &str, taken: &HashSet<String>, hint: &mut HashMap<String, u64>) -> String {
    let start = hint.get(base).copied().unwrap_or(1);
    if start <= 1 && !taken.contains(base) {
        return base.to_owned();
    }
    let mut n = start.max(2);
    loop {
        let candidate = format!("{base}-{n}");
        if !taken.contains(&candidate) {
            hint.insert(base.to_owned(), n);
            return candidate;
        }
        n += 1;
    }
}

/// Plans and writes one batch (natural keys unique within it); fills `out` at the
/// stories' input positions.
pub(crate) async fn put_batch<B: BatchWriter + ?Sized>(
    b: &mut B,
    cache: &mut TxCache,
    batch: &[Prepared],
    out: &mut [Option<PutOutcome>],
) -> Result<()> {
    // A story with a source identity is that item's story, and no other's.
    let sources: Vec<&str> = batch.iter().filter_map(|p| p.source.as_deref()).collect();
    let mut by_source: HashMap<String, Existing> = if sources.is_empty() {
        HashMap::new()
    } else {
        b.lookup_sources(&sources)
            .await?
            .into_iter()
            .filter_map(|e| Some((e.source.clone()?, e)))
            .collect()
    };
    // Natural keys: of stories without an identity, and of those whose identity is
    // not stored yet (an older import may hold the item without it).
    let keys: Vec<&str> = batch
        .iter()
        .filter(|p| {
            p.source
                .as_ref()
                .is_none_or(|source| !by_source.contains_key(source))
        })
        .map(|p| p.key.as_str())
        .collect();
    let mut by_key: HashMap<String, Existing> = if keys.is_empty() {
        HashMap::new()
    } else {
        b.lookup_existing(&keys)
            .await?
            .into_iter()
            .map(|e| (e.key.clone(), e))
            .collect()
    };
    // Natural keys stored: a new story must not take one.
    let stored_keys: HashSet<String> = by_key.keys().cloned().collect();

    // Which stories change: indices into `batch`, in input order.
    let mut changed: Vec<(usize, Option<Existing>)> = Vec::new();
    let mut adopted: Vec<(i64, &str)> = Vec::new();
    for (i, p) in batch.iter().enumerate() {
        let found = match p.source.as_deref() {
            None => by_key.remove(&p.key),
            Some(source) => match by_source.remove(source) {
                Some(e) => Some(e),
                // Stored by an import that kept no identity: this item, once.
                None if by_key.get(&p.key).is_some_and(|e| e.source.is_none()) => {
                    let e = by_key.remove(&p.key);
                    if let Some(e) = &e {
                        adopted.push((e.id, source));
                    }
                    e
                }
                None => None,
            },
        };
        match found {
            Some(e) if e.hash == p.hash => {
                out[p.index] = Some(PutOutcome::Unchanged { slug: e.slug });
            }
            other => changed.push((i, other)),
        }
    }
    if !adopted.is_empty() {
        b.set_sources(&adopted).await?;
    }
    if changed.is_empty() {
        return Ok(());
    }

    let mut changes: Vec<NewChange> = Vec::new();
    let mut story_changes: Vec<NewChange> = Vec::new();

    // Tags, created on first use.
    let mut tag_names: Vec<&str> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for (i, _) in &changed {
        for t in &batch[*i].story.tags {
            if !cache.tags.contains_key(t) && seen.insert(t) {
                tag_names.push(t);
            }
        }
    }
    if !tag_names.is_empty() {
        for (id, name) in b.load_tags(&tag_names).await? {
            cache.tags.insert(name, id);
        }
        let missing: Vec<&str> = tag_names
            .into_iter()
            .filter(|n| !cache.tags.contains_key(*n))
            .collect();
        if !missing.is_empty() {
            if cache.tag_slugs.is_none() {
                cache.tag_slugs = Some(b.all_tag_slugs().await?.into_iter().collect());
            }
            let taken = cache.tag_slugs.get_or_insert_with(HashSet::new);
            let mut hint = HashMap::new();
            let mut new_tags = Vec::with_capacity(missing.len());
            for name in missing {
                let mut base = slugify(name);
                if base.is_empty() {
                    base = "tag".to_owned();
                }
                let slug = next_free_slug(&base, taken, &mut hint);
                taken.insert(slug.clone());
                new_tags.push((name.to_owned(), slug));
            }
            for (id, name) in b.insert_tags(&new_tags).await? {
                cache.tags.insert(name, id);
            }
            for (name, _) in new_tags {
                changes.push(NewChange {
                    entity: "tag",
                    key: name,
                    op: "insert",
                });
            }
        }
    }

    // Issues: created if missing; a known date is updated by a later known one.
    let mut numbers: Vec<u32> = Vec::new();
    let mut last_date: HashMap<u32, Option<Date>> = HashMap::new();
    for (i, _) in &changed {
        if let Some(r) = batch[*i].story.issue {
            let d = last_date.entry(r.number).or_insert_with(|| {
                numbers.push(r.number);
                None
            });
            if r.date.is_some() {
                *d = r.date;
            }
        }
    }
    let unknown: Vec<u32> = numbers
        .iter()
        .copied()
        .filter(|n| !cache.issues.contains_key(n))
        .collect();
    let mut inserted_issues: HashSet<u32> = HashSet::new();
    if !unknown.is_empty() {
        for issue in b.load_issues(&unknown).await? {
            // Stories go public into published issues only: an issue the
            // newsroom is still preparing gets its stories there.
            if issue.status != bulletin_core::IssueStatus::Published {
                return Err(crate::StoreError::Refused(format!(
                    "issue {n} is {status} in the newsroom: publish it there \
                     (/admin/issues/{n}), or put these stories in another issue",
                    n = issue.number,
                    status = issue.status.as_str(),
                )));
            }
            cache.issues.insert(
                issue.number,
                IssueState {
                    id: issue.id,
                    date: issue.date,
                    next_position: issue.max_position + 1,
                },
            );
        }
        let missing: Vec<(u32, Option<String>)> = unknown
            .iter()
            .filter(|n| !cache.issues.contains_key(n))
            .map(|n| {
                (
                    *n,
                    last_date.get(n).copied().flatten().map(|d| d.to_string()),
                )
            })
            .collect();
        if !missing.is_empty() {
            for (id, number) in b.insert_issues(&missing).await? {
                let date = last_date.get(&number).copied().flatten();
                cache.issues.insert(
                    number,
                    IssueState {
                        id,
                        date,
                        next_position: 1,
                    },
                );
            }
            for (number, _) in missing {
                inserted_issues.insert(number);
                changes.push(NewChange {
                    entity: "issue",
                    key: number.to_string(),
                    op: "insert",
                });
            }
        }
    }
    // Issues whose date or story list changes get one "update" each.
    let mut touched: Vec<u32> = Vec::new();
    let touch = |n: u32, touched: &mut Vec<u32>| {
        if !inserted_issues.contains(&n) && !touched.contains(&n) {
            touched.push(n);
        }
    };
    for n in &numbers {
        let Some(Some(date)) = last_date.get(n) else {
            continue;
        };
        let state = cache
            .issues
            .get_mut(n)
            .ok_or_else(|| corrupt(format_args!("issue {n} vanished")))?;
        if state.date != Some(*date) {
            b.update_issue_date(state.id, &date.to_string()).await?;
            state.date = Some(*date);
            touch(*n, &mut touched);
        }
    }

    // Slugs of new stories: one query for all their bases, then WordPress's rule.
    let bases: Vec<&str> = {
        let mut seen = HashSet::new();
        changed
            .iter()
            .filter(|(_, e)| e.is_none())
            .map(|(i, _)| batch[*i].story.slug.as_str())
            .filter(|s| seen.insert(*s))
            .collect()
    };
    let mut taken: HashSet<String> = if bases.is_empty() {
        HashSet::new()
    } else {
        b.taken_slugs(&bases).await?.into_iter().collect()
    };
    let mut hint = HashMap::new();

    // Natural keys the new stories take: those without an identity their own,
    // the others theirs under the slug they get.
    let mut new_keys: HashSet<String> = changed
        .iter()
        .filter(|(i, e)| e.is_none() && batch[*i].source.is_none())
        .map(|(i, _)| batch[*i].key.clone())
        .collect();

    // Rows, positions and outcomes, in input order.
    let mut new_slugs: Vec<String> = Vec::new();
    let mut new_row_keys: Vec<String> = Vec::new();
    let mut new_meta: Vec<(usize, Option<i64>, i64, i64)> = Vec::new();
    let mut updates: Vec<Row<'_>> = Vec::new();
    for (i, e) in &changed {
        let p = &batch[*i];
        let (issue_id, issue_number) = match p.story.issue {
            Some(r) => {
                let state = cache
                    .issues
                    .get(&r.number)
                    .ok_or_else(|| corrupt(format_args!("issue {} vanished", r.number)))?;
                (Some(state.id), i64::from(r.number))
            }
            None => (None, -1),
        };
        let keeps_position = matches!(e, Some(e) if e.issue_id.is_some() && e.issue_id == issue_id);
        let position = match (e, p.story.issue) {
            (Some(e), _) if keeps_position => e.position,
            (_, Some(r)) => {
                let state = cache
                    .issues
                    .get_mut(&r.number)
                    .ok_or_else(|| corrupt(format_args!("issue {} vanished", r.number)))?;
                let pos = state.next_position;
                state.next_position += 1;
                touch(r.number, &mut touched);
                pos
            }
            (_, None) => 0,
        };
        match e {
            None => {
                let (slug, key) = if p.source.is_none() {
                    let slug = next_free_slug(&p.story.slug, &taken, &mut hint);
                    taken.insert(slug.clone());
                    (slug, p.key.clone())
                } else {
                    loop {
                        let slug = next_free_slug(&p.story.slug, &taken, &mut hint);
                        taken.insert(slug.clone());
                        let key = p.story.natural_key_under(&slug);
                        // The story's own key was looked up above; another one
                        // (under a `-2` slug) is looked up now, which is rare.
                        let stored = if key == p.key {
                            stored_keys.contains(&key)
                        } else {
                            !b.lookup_existing(&[key.as_str()]).await?.is_empty()
                        };
                        if !stored && new_keys.insert(key.clone()) {
                            break (slug, key);
                        }
                    }
                };
                new_row_keys.push(key);
                out[p.index] = Some(PutOutcome::New { slug: slug.clone() });
                story_changes.push(NewChange {
                    entity: "story",
                    key: slug.clone(),
                    op: "insert",
                });
                new_slugs.push(slug);
                new_meta.push((*i, issue_id, issue_number, position));
            }
            Some(e) => {
                if let (false, Ok(old)) = (keeps_position, u32::try_from(e.issue_number)) {
                    touch(old, &mut touched);
                }
                out[p.index] = Some(PutOutcome::Updated {
                    slug: e.slug.clone(),
                });
                story_changes.push(NewChange {
                    entity: "story",
                    key: e.slug.clone(),
                    op: "update",
                });
                updates.push(Row {
                    id: e.id,
                    slug: &e.slug,
                    key: &e.key,
                    source: None,
                    p,
                    issue_id,
                    issue_number,
                    position,
                });
            }
        }
    }
    for n in touched {
        changes.push(NewChange {
            entity: "issue",
            key: n.to_string(),
            op: "update",
        });
    }

    let mut written: Vec<(i64, &Story)> = Vec::with_capacity(changed.len());

    // Updates: keep the earlier version as a revision, then rewrite the row.
    if !updates.is_empty() {
        let ids: Vec<i64> = updates.iter().map(|r| r.id).collect();
        let old = b.fetch_stories(&ids).await?;
        let mut revisions = Vec::with_capacity(old.len());
        for (id, story) in old {
            let json = serde_json::to_string(&story.to_json())
                .map_err(|e| corrupt(format_args!("story {id}: {e}")))?;
            revisions.push((id, json));
        }
        b.insert_revisions(&revisions).await?;
        b.update_stories(&updates).await?;
        b.delete_children(&ids).await?;
        written.extend(updates.iter().map(|r| (r.id, &r.p.story)));
    }

    // Inserts.
    if !new_meta.is_empty() {
        let rows: Vec<Row<'_>> = new_meta
            .iter()
            .zip(new_slugs.iter().zip(&new_row_keys))
            .map(|((i, issue_id, issue_number, position), (slug, key))| Row {
                id: 0,
                slug,
                key,
                source: batch[*i].source.as_deref(),
                p: &batch[*i],
                issue_id: *issue_id,
                issue_number: *issue_number,
                position: *position,
            })
            .collect();
        let ids: HashMap<String, i64> = b
            .insert_stories(&rows)
            .await?
            .into_iter()
            .map(|(id, key)| (key, id))
            .collect();
        for r in &rows {
            let id = *ids
                .get(r.key)
                .ok_or_else(|| corrupt(format_args!("no id returned for {}", r.key)))?;
            written.push((id, &r.p.story));
        }
    }
    b.insert_children(&written, &cache.tags).await?;

    changes.append(&mut story_changes);
    b.insert_changes(&changes).await?;
    Ok(())
}

impl Children {
    /// The side-table rows of `stories`: one per story and value, at the value's
    /// first position (a story that lists a tag twice is still one story of it).
    pub fn of(stories: &[(i64, &Story)], tags: &HashMap<String, i64>) -> Result<Children> {
        let mut c = Children::default();
        for (id, story) in stories {
            for (pos, name) in story.tags.iter().enumerate() {
                if story.tags[..pos].contains(name) {
                    continue;
                }
                let tag = *tags
                    .get(name)
                    .ok_or_else(|| corrupt(format_args!("tag {name:?} vanished")))?;
                c.tags.push((*id, pos as i32, tag));
            }
            for (pos, code) in story.countries.iter().enumerate() {
                if !story.countries[..pos].contains(code) {
                    c.countries.push((*id, pos as i32, code.clone()));
                }
            }
            let places = &story.dateline.places;
            for (pos, place) in places.iter().enumerate() {
                if !places[..pos].contains(place) {
                    c.places.push((*id, pos as i32, place.clone()));
                }
            }
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_wordpress() {
        let mut taken: HashSet<String> =
            ["a", "a-2", "a-4"].iter().map(|s| s.to_string()).collect();
        let mut hint = HashMap::new();
        let s = next_free_slug("a", &taken, &mut hint);
        assert_eq!(s, "a-3");
        taken.insert(s);
        let s = next_free_slug("a", &taken, &mut hint);
        assert_eq!(s, "a-5");
        assert_eq!(next_free_slug("b", &taken, &mut hint), "b");
    }
}
