//! `bulletin import` of other systems' archives: WordPress WXR files and Hugo or
//! Zola Markdown folders, in one transaction.
//!
//! A blocking thread reads (one post in memory at a time) and hands batches of
//! [`Item`]s to the async side, which writes them: public stories through
//! `put_stories` (so issues, tags, search and caches follow as for text), the rest
//! as newsroom drafts keeping their status, and every old address as a redirect
//! to the story's new one. Any error rolls everything back.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bulletin_core::Tag;
use bulletin_core::backup::Redirect;
use bulletin_import::{Item, PostStatus, Report, Settings};
use bulletin_store::{NewDraft, PutOutcome, SourcedStory, Store};
use tokio::sync::mpsc;

use crate::import::Counting;
use crate::progress::Progress;

/// Items handed from the reading thread to the writer at a time.
const BATCH: usize = 1000;
/// Warnings shown in full before only counting.
const SHOW_WARNINGS: u64 = 20;

/// Something another system exported.
pub enum Source {
    Wxr(PathBuf),
    Markdown(PathBuf),
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Wxr(p) | Source::Markdown(p) => p.display().to_string(),
        }
    }
}

/// What the reading thread ended with.
struct Read {
    errors: u64,
    warnings: u64,
    report: Report,
}

/// Imports `sources` in one transaction; with `dry_run`, everything is read and
/// written, then rolled back. Prints the report to standard error.
pub async fn run(store: &dyn Store, sources: Vec<Source>, dry_run: bool) -> Result<Report> {
    let started = Instant::now();
    let publication = store.publication().await?;
    let settings = Settings {
        credit: publication.credit.clone(),
        holder: publication.holder().to_owned(),
        time_zone: jiff::tz::TimeZone::get(&publication.time_zone)
            .unwrap_or(jiff::tz::TimeZone::UTC),
    };
    let names: Vec<String> = sources.iter().map(Source::name).collect();
    for source in &sources {
        match source {
            Source::Wxr(p) if !p.is_file() => bail!("cannot open {}: no such file", p.display()),
            Source::Markdown(p) if !p.is_dir() => bail!("{} is not a folder", p.display()),
            _ => {}
        }
    }
    let total: u64 = sources
        .iter()
        .map(|s| match s {
            Source::Wxr(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
            Source::Markdown(_) => 0,
        })
        .sum();
    let progress = Arc::new(Progress::bytes("import", (total > 0).then_some(total)));
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = mpsc::channel::<Vec<Item>>(4);
    let reader = {
        let progress = Arc::clone(&progress);
        let bytes_read = Arc::clone(&bytes_read);
        tokio::task::spawn_blocking(move || {
            read_all(sources, &settings, sender, &progress, &bytes_read)
        })
    };

    let mut tx = store.begin_import().await?;
    let mut written = Written::default();
    let mut write_error = None;
    while let Some(batch) = receiver.recv().await {
        if let Err(e) = write_batch(tx.as_mut(), batch, &mut written).await {
            write_error = Some(e);
            break;
        }
        progress.set(bytes_read.load(Ordering::Relaxed), written.stories);
    }
    drop(receiver);
    let read = reader.await.context("the reading thread failed")?;
    progress.finish();
    if let Some(e) = write_error {
        tx.rollback().await.ok();
        return Err(e).context("the import was rolled back; nothing was imported");
    }
    if read.errors > 0 {
        tx.rollback().await?;
        bail!(
            "{} error{} in {}; nothing was imported",
            read.errors,
            if read.errors == 1 { "" } else { "s" },
            names.join(", ")
        );
    }
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit()
            .await
            .context("the import could not be committed; nothing was imported")?;
    }
    let secs = started.elapsed().as_secs_f64();
    let report = read.report;
    eprint!("{report}");
    if read.warnings > SHOW_WARNINGS {
        eprintln!(
            "({} warnings, the first {SHOW_WARNINGS} shown above)",
            read.warnings
        );
    }
    eprintln!(
        "{} {} stories from {} in {secs:.2}s ({:.0} stories/s; peak memory {}): \
         {} new, {} updated, {} unchanged, {} drafts; {} redirects",
        if dry_run {
            "checked (dry run, nothing kept)"
        } else {
            "imported"
        },
        report.story_count(),
        names.join(", "),
        report.story_count() as f64 / secs.max(1e-9),
        peak_memory().map_or_else(|| "unknown".to_owned(), |kb| format!("{} MB", kb / 1024)),
        written.new,
        written.updated,
        written.unchanged,
        written.drafts,
        written.redirects,
    );
    Ok(report)
}

/// The process's peak resident memory in KiB (Linux's VmHWM), if known.
fn peak_memory() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[derive(Default)]
struct Written {
    stories: u64,
    new: u64,
    updated: u64,
    unchanged: u64,
    drafts: u64,
    redirects: u64,
}

/// Writes one batch in its order: tags first (so descriptions and slugs are set
/// before a story names them), then stories, drafts and redirects.
async fn write_batch(
    tx: &mut (dyn bulletin_store::ImportTx + '_),
    batch: Vec<Item>,
    written: &mut Written,
) -> Result<()> {
    let now = jiff::Timestamp::now().as_second();
    let mut tags: Vec<Tag> = Vec::new();
    let mut public: Vec<(SourcedStory, Vec<String>)> = Vec::new();
    let mut drafts: Vec<NewDraft> = Vec::new();
    let mut redirects: Vec<Redirect> = Vec::new();
    for item in batch {
        match item {
            Item::Tag(tag) => tags.push(tag),
            Item::Redirect { from, to } => redirects.push(Redirect { from, to }),
            Item::Story(imported) => {
                let imported = *imported;
                let (status, publish_at) = match imported.status {
                    PostStatus::Published => {
                        let story = SourcedStory {
                            story: imported.story,
                            source: imported.source,
                        };
                        public.push((story, imported.old_paths));
                        continue;
                    }
                    PostStatus::Draft => ("draft", None),
                    PostStatus::Pending => ("pending", None),
                    PostStatus::Private => ("private", None),
                    PostStatus::Scheduled(at) => ("future", Some(at.as_second())),
                };
                // Old addresses of stories that are not public are not kept: a
                // redirect would show a private story's slug to anyone.
                drafts.push(NewDraft {
                    story: imported.story,
                    status,
                    publish_at,
                });
            }
            Item::Site { .. } | Item::Skipped { .. } | Item::Warning(_) => {}
        }
    }
    if !tags.is_empty() {
        tx.put_tags(tags).await?;
    }
    if !public.is_empty() {
        let (stories, old_paths): (Vec<SourcedStory>, Vec<Vec<String>>) =
            public.into_iter().unzip();
        let dates: Vec<_> = stories.iter().map(|s| s.story.dateline.date).collect();
        // Each item is matched on its own identity: two posts that share a slug
        // and a day stay two stories, each with its own old addresses.
        let outcomes = tx.put_sourced_stories(stories).await?;
        for ((outcome, date), old) in outcomes.into_iter().zip(dates).zip(old_paths) {
            written.stories += 1;
            let slug = match outcome {
                PutOutcome::New { slug } => {
                    written.new += 1;
                    slug
                }
                PutOutcome::Updated { slug } => {
                    written.updated += 1;
                    slug
                }
                PutOutcome::Unchanged { slug } => {
                    written.unchanged += 1;
                    slug
                }
            };
            let to = format!(
                "/{:04}/{:02}/{:02}/{slug}/",
                date.year(),
                date.month(),
                date.day()
            );
            redirects.extend(old.into_iter().map(|from| Redirect {
                from,
                to: to.clone(),
            }));
        }
    }
    if !drafts.is_empty() {
        written.drafts += drafts.len() as u64;
        written.stories += drafts.len() as u64;
        tx.put_drafts(drafts, now).await?;
    }
    redirects.retain(|r| r.from != r.to);
    if !redirects.is_empty() {
        written.redirects += redirects.len() as u64;
        tx.put_redirects(redirects, now).await?;
    }
    Ok(())
}

fn read_all(
    sources: Vec<Source>,
    settings: &Settings,
    sender: mpsc::Sender<Vec<Item>>,
    progress: &Progress,
    bytes_read: &Arc<AtomicU64>,
) -> Read {
    let mut read = Read {
        errors: 0,
        warnings: 0,
        report: Report::default(),
    };
    let mut batch: Vec<Item> = Vec::with_capacity(BATCH);
    // Why a kind was skipped, shown once per kind in the report; the first few
    // items of each are named.
    let mut skipped_shown: BTreeMap<String, u64> = BTreeMap::new();
    let mut take = |read: &mut Read, name: &str, item: Item| -> bool {
        read.report.record(&item);
        match &item {
            Item::Warning(w) => {
                read.warnings += 1;
                if read.warnings <= SHOW_WARNINGS {
                    progress.println(w.display(name).to_string().trim_end());
                }
                return true;
            }
            Item::Skipped {
                kind,
                title,
                line,
                reason,
                ..
            } => {
                let shown = skipped_shown.entry(kind.clone()).or_default();
                *shown += 1;
                // Pages, attachments, menu items and comments are expected in
                // every export; other skips are news to the operator.
                let routine = matches!(
                    kind.as_str(),
                    "page" | "attachment" | "nav_menu_item" | "comment" | "section"
                );
                if !routine && *shown <= 5 {
                    progress.println(&format!(
                        "{name}:{line}: note: {title:?} not imported ({kind}: {reason})"
                    ));
                }
                return true;
            }
            Item::Site { .. } => return true,
            _ => {}
        }
        if read.errors > 0 {
            return true; // nothing will be committed: keep reading, stop sending
        }
        batch.push(item);
        if batch.len() >= BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            if sender.blocking_send(full).is_err() {
                return false; // the writer gave up
            }
        }
        true
    };
    for source in sources {
        let name = source.name();
        match source {
            Source::Wxr(path) => {
                let file = match File::open(&path) {
                    Ok(f) => f,
                    Err(e) => {
                        read.errors += 1;
                        progress.println(&format!("{name}: error: cannot open: {e}"));
                        continue;
                    }
                };
                let input = BufReader::with_capacity(
                    1 << 16,
                    Counting {
                        inner: file,
                        count: Arc::clone(bytes_read),
                    },
                );
                for item in bulletin_import::wxr::read(&name, input, settings) {
                    match item {
                        Ok(item) => {
                            if !take(&mut read, &name, item) {
                                return read;
                            }
                        }
                        Err(e) => {
                            read.errors += 1;
                            progress.println(e.display(&name).to_string().trim_end());
                            break; // the XML cannot be read past this point
                        }
                    }
                }
            }
            Source::Markdown(dir) => {
                for found in bulletin_import::markdown::read_dir(&dir, settings) {
                    match found {
                        Ok((file, item)) => {
                            let file = file.display().to_string();
                            if !take(&mut read, &file, item) {
                                return read;
                            }
                        }
                        Err(e) => {
                            read.errors += 1;
                            progress.println(e.to_string().trim_end());
                        }
                    }
                }
            }
        }
    }
    if read.errors == 0 && !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    read
}
