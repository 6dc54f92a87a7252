//! `bulletin export --format json` (the complete backup) and `bulletin import
//! FILE.json` (restore into an empty data directory, or a plain export's stories
//! into any).

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bulletin_core::backup::{BackupDraft, BackupHistory, BackupIssue, BackupStory, Redirect};
use bulletin_import::backup::{Part, Section, Writer};
use bulletin_store::{RestorePart, Store};
use bulletin_text::limits::MAX_QUOTE;
use bulletin_text::{Diagnostic, Quote, Severity};
use tokio::sync::mpsc;

use crate::export::with_output;
use crate::progress::Progress;

/// Records read per store call.
const PAGE: u32 = 500;

/// Writes the complete backup of `store` to `output` (standard output if `None`).
/// Password hashes only `with_secrets`.
pub async fn export(store: &dyn Store, output: Option<&Path>, with_secrets: bool) -> Result<()> {
    let started = Instant::now();
    let total = store.counts().await?.stories;
    let progress = Progress::items("backup", total);
    let written = with_output(output, |out| {
        let handle = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            handle.block_on(write_backup(store, out, with_secrets, &progress, total))
        })
    })?;
    progress.finish();
    if output.is_some_and(|p| p.as_os_str() != "-") {
        eprintln!(
            "backed up {written} stories in {:.2}s{}",
            started.elapsed().as_secs_f64(),
            if with_secrets {
                " (with password hashes: keep this file secret)"
            } else {
                " (staff accounts without passwords; --with-secrets keeps them)"
            }
        );
    }
    Ok(())
}

async fn write_backup(
    store: &dyn Store,
    out: &mut dyn Write,
    with_secrets: bool,
    progress: &Progress,
    total: u64,
) -> Result<u64> {
    let mut w = Writer::new(out, &store.publication().await?)?;
    w.section(Section::Tags)?;
    for (tag, _) in store.tags().await? {
        w.tag(&tag)?;
    }
    w.section(Section::Users)?;
    for mut user in store.backup_users().await? {
        if !with_secrets {
            user.password_hash = None;
        }
        w.user(&user)?;
    }
    w.section(Section::Subscribers)?;
    let mut query = bulletin_store::SubscriberQuery {
        limit: 10_000,
        ..bulletin_store::SubscriberQuery::default()
    };
    loop {
        let page = store.subscribers(&query).await?;
        let Some(last) = page.last() else { break };
        query.after = last.id;
        for s in page {
            w.subscriber(&s.into())?;
        }
    }
    w.section(Section::Issues)?;
    for issue in store.backup_issues().await? {
        w.issue(&issue)?;
    }
    w.section(Section::Stories)?;
    // Newest first, as every export: a restore inserts them in this order, so
    // stories that sort alike keep their order and a second backup is the same.
    let mut stories = 0u64;
    let mut query = bulletin_store::StoryQuery {
        limit: PAGE,
        ..bulletin_store::StoryQuery::default()
    };
    loop {
        let page = store.stories(&query).await?;
        stories += page.stories.len() as u64;
        for story in store.backup_stories(page.stories).await? {
            w.story(&story)?;
        }
        progress.set_items(stories, total.max(stories));
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    w.section(Section::Drafts)?;
    let mut after = 0;
    loop {
        let page = store.backup_drafts(after, PAGE).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, draft) in &page {
            w.draft(draft)?;
        }
    }
    w.section(Section::History)?;
    let mut after: Option<(String, u32)> = None;
    loop {
        let page = store.backup_history(after.clone(), PAGE).await?;
        let Some(last) = page.last() else { break };
        after = Some((last.slug.clone(), last.number));
        for entry in &page {
            w.history(entry)?;
        }
    }
    w.section(Section::Redirects)?;
    let mut after = String::new();
    loop {
        let page = store.redirects(&after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.from.clone();
        for r in &page {
            w.redirect(r)?;
        }
    }
    w.finish()?;
    Ok(stories)
}

/// What the restore writes, batched by kind.
enum Batch {
    Stories(Vec<BackupStory>),
    Drafts(Vec<BackupDraft>),
    History(Vec<BackupHistory>),
    Redirects(Vec<Redirect>),
    Subscribers(Vec<bulletin_core::backup::BackupSubscriber>),
    One(Part),
}

/// Imports a JSON file: restores a backup (the data directory must be empty),
/// or adds a plain export's stories. One transaction either way.
pub async fn import(store: &dyn Store, path: PathBuf) -> Result<()> {
    let started = Instant::now();
    let name = path.display().to_string();
    let file = File::open(&path).with_context(|| format!("cannot open {name}"))?;
    let (sender, mut receiver) = mpsc::channel::<Batch>(4);
    let reader = tokio::task::spawn_blocking(move || read_batches(file, sender));

    let mut tx = store.begin_import().await?;
    let mut backup = false;
    let mut issues: Vec<BackupIssue> = Vec::new();
    let (mut stories, mut drafts, mut redirects) = (0u64, 0u64, 0u64);
    let mut outcome: Result<()> = Ok(());
    let now = jiff::Timestamp::now().as_second();
    while let Some(batch) = receiver.recv().await {
        let step: Result<()> = async {
            match batch {
                Batch::One(Part::Backup { .. }) => {
                    if !store.is_empty().await? {
                        bail!(
                            "{name} is a complete backup, which restores only into an empty \
                             data directory (or database); this one already holds an archive. \
                             Use a new --data folder or database, or import a plain export"
                        );
                    }
                    backup = true;
                }
                Batch::One(Part::Publication(p)) => {
                    if backup {
                        tx.restore(RestorePart::Publication(p)).await?;
                    }
                }
                Batch::One(Part::Tags(tags)) => {
                    if backup {
                        tx.put_tags(tags).await?;
                    }
                }
                // Accounts, drafts, history, subscribers and redirects come only
                // with a complete backup, into an empty store: a plain export
                // carrying them is refused rather than merged into an archive.
                Batch::One(Part::Users(_))
                | Batch::Drafts(_)
                | Batch::History(_)
                | Batch::Subscribers(_)
                | Batch::Redirects(_)
                    if !backup =>
                {
                    bail!(
                        "{name} carries accounts, drafts, history, subscribers or redirects, \
                         which only a complete backup (with \"format\" first) restores"
                    );
                }
                Batch::One(Part::Users(users)) => tx.restore(RestorePart::Users(users)).await?,
                Batch::One(Part::Issues(list)) => {
                    tx.restore(RestorePart::Issues(list.clone())).await?;
                    issues = list;
                }
                Batch::One(_) => {}
                Batch::Stories(batch) => {
                    stories += batch.len() as u64;
                    if backup {
                        tx.restore(RestorePart::Stories(batch)).await?;
                    } else {
                        tx.put_stories(batch.into_iter().map(|s| s.story).collect())
                            .await?;
                    }
                }
                Batch::Drafts(batch) => {
                    drafts += batch.len() as u64;
                    tx.restore(RestorePart::Drafts(batch)).await?;
                }
                Batch::History(batch) => tx.restore(RestorePart::History(batch)).await?,
                Batch::Subscribers(batch) => tx.restore(RestorePart::Subscribers(batch)).await?,
                Batch::Redirects(batch) => {
                    redirects += batch.len() as u64;
                    tx.put_redirects(batch, now).await?;
                }
            }
            Ok(())
        }
        .await;
        if let Err(e) = step {
            outcome = Err(e);
            break;
        }
    }
    drop(receiver);
    let read = reader.await.context("the reading thread failed")?;
    if let Err(e) = outcome {
        tx.rollback().await.ok();
        return Err(e).context("nothing was imported");
    }
    if let Err(e) = read {
        tx.rollback().await.ok();
        let quote = quote_line(&path, e.line, e.column).unwrap_or_else(|| Quote::of("", 1));
        let diagnostic = Diagnostic::quoted(Severity::Error, e.line, e.column, &e.message, quote);
        eprintln!("{}", diagnostic.display(&name));
        bail!("{name} could not be read; nothing was imported");
    }
    if backup {
        tx.restore(RestorePart::IssueOrder(issues)).await?;
    }
    tx.commit()
        .await
        .context("the import could not be committed; nothing was imported")?;
    eprintln!(
        "{} {stories} stories, {drafts} drafts and {redirects} redirects from {name} in {:.2}s",
        if backup { "restored" } else { "imported" },
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Line `n` of `path` (1-based) around byte column `column`, as messages quote
/// lines: a JSON file may be one line of gigabytes, so only a stretch around the
/// column is kept while the line is read.
fn quote_line(path: &Path, n: u64, column: u64) -> Option<Quote> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    let reach = 4 * MAX_QUOTE as u64;
    let at = column.saturating_sub(1);
    let keep_from = at.saturating_sub(reach);
    let keep_to = at.saturating_add(reach);
    let mut line_no = 1;
    let mut offset = 0u64;
    let mut kept = Vec::new();
    let mut cut_after = false;
    loop {
        let available = reader.fill_buf().ok()?;
        if available.is_empty() {
            break;
        }
        let newline = available.iter().position(|&b| b == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        if line_no == n {
            let chunk_end = offset + chunk.len() as u64;
            let from = keep_from.max(offset).min(chunk_end);
            let to = keep_to.min(chunk_end).max(from);
            kept.extend_from_slice(&chunk[(from - offset) as usize..(to - offset) as usize]);
            cut_after |= chunk_end > keep_to;
            offset = chunk_end;
        }
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            if line_no == n {
                break;
            }
            line_no += 1;
        }
    }
    if line_no != n {
        return None;
    }
    // Cut on character boundaries: drop continuation bytes at the edges.
    let mut start = 0;
    if keep_from > 0 {
        while start < kept.len() && kept[start] & 0xC0 == 0x80 {
            start += 1;
        }
    }
    let text = String::from_utf8_lossy(&kept[start..]);
    let text = text.trim_end_matches(['\r', '\n']);
    let upto = usize::try_from(at - keep_from)
        .unwrap_or(usize::MAX)
        .clamp(start, kept.len());
    let before = String::from_utf8_lossy(&kept[start..upto]);
    let caret = before.chars().count() as u64 + 1;
    Some(Quote::part(text, caret, keep_from > 0, cut_after))
}

fn read_batches(
    file: File,
    sender: mpsc::Sender<Batch>,
) -> Result<(), bulletin_import::backup::ReadError> {
    const SIZE: usize = 500;
    let mut pending: Option<Batch> = None;
    let send = |batch: Batch| {
        sender
            .blocking_send(batch)
            .map_err(|_| "stopped".to_owned())
    };
    let mut sink = |part: Part| -> Result<(), String> {
        // Same kind as the pending batch: add to it; else flush it first.
        let flush_first = !matches!(
            (&pending, &part),
            (Some(Batch::Stories(_)), Part::Story(_))
                | (Some(Batch::Drafts(_)), Part::Draft(_))
                | (Some(Batch::History(_)), Part::History(_))
                | (Some(Batch::Redirects(_)), Part::Redirect(_))
                | (Some(Batch::Subscribers(_)), Part::Subscriber(_))
        );
        if flush_first && let Some(batch) = pending.take() {
            send(batch)?;
        }
        match part {
            Part::Story(s) => match &mut pending {
                Some(Batch::Stories(v)) => v.push(*s),
                _ => pending = Some(Batch::Stories(vec![*s])),
            },
            Part::Draft(d) => match &mut pending {
                Some(Batch::Drafts(v)) => v.push(*d),
                _ => pending = Some(Batch::Drafts(vec![*d])),
            },
            Part::History(h) => match &mut pending {
                Some(Batch::History(v)) => v.push(*h),
                _ => pending = Some(Batch::History(vec![*h])),
            },
            Part::Redirect(r) => match &mut pending {
                Some(Batch::Redirects(v)) => v.push(r),
                _ => pending = Some(Batch::Redirects(vec![r])),
            },
            Part::Subscriber(s) => match &mut pending {
                Some(Batch::Subscribers(v)) => v.push(s),
                _ => pending = Some(Batch::Subscribers(vec![s])),
            },
            other => send(Batch::One(other))?,
        }
        let full = match &pending {
            Some(Batch::Stories(v)) => v.len() >= SIZE,
            Some(Batch::Drafts(v)) => v.len() >= SIZE,
            Some(Batch::History(v)) => v.len() >= SIZE,
            Some(Batch::Redirects(v)) => v.len() >= SIZE,
            Some(Batch::Subscribers(v)) => v.len() >= SIZE,
            _ => false,
        };
        if full && let Some(batch) = pending.take() {
            send(batch)?;
        }
        Ok(())
    };
    bulletin_import::backup::read(file, &mut sink)?;
    if let Some(batch) = pending.take() {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}
