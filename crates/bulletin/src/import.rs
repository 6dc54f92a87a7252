//! `bulletin import`: files of any kind bulletin reads ([`run`] sends each
//! kind its way: JSON to `backup`, WordPress and Markdown to `migrate`), and
//! bulletin text into the store, in one transaction ([`import_text`]).
//!
//! A blocking thread reads and parses (one story in memory at a time) and hands
//! batches to the async side, which writes them; so parsing and writing overlap
//! and memory stays flat. Any error in any file rolls the whole import back.

use std::collections::HashSet;
use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use bulletin_core::Story;
use bulletin_store::{PutOutcome, Store};
use bulletin_text::Reader;
use tokio::sync::mpsc;

use crate::global::Global;
use crate::progress::Progress;
use crate::{backup, migrate};

/// Stories written per store call: large enough to amortise round trips.
const BATCH: usize = 1000;
/// Messages shown in full before only counting.
const SHOW_ERRORS: u64 = 50;
const SHOW_WARNINGS: u64 = 20;

/// Where bulletin text comes from.
pub enum Source {
    Path(PathBuf),
    Stdin,
    /// In-memory text (the demo's generated archive).
    Bytes {
        name: String,
        data: Vec<u8>,
    },
}

impl Source {
    pub fn from_arg(path: PathBuf) -> Source {
        if path.as_os_str() == "-" {
            Source::Stdin
        } else {
            Source::Path(path)
        }
    }

    fn name(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Stdin => "<stdin>".to_owned(),
            Source::Bytes { name, .. } => name.clone(),
        }
    }
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    pub new: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub issues: u64,
    pub tags: u64,
    pub warnings: u64,
}

impl Summary {
    pub fn stories(&self) -> u64 {
        self.new + self.updated + self.unchanged
    }
}

/// What the parsing thread found.
#[derive(Default)]
struct ParseReport {
    errors: u64,
    warnings: u64,
    issues: HashSet<u32>,
    tags: HashSet<String>,
}

/// How much an import says on standard error besides errors and its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbosity {
    /// Each warning (up to a limit), then the summary.
    Warnings,
    /// Only counts: for the demo, whose sample text plants warnings on purpose.
    Counts,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Read and write everything, then roll it back: a full check, nothing kept.
    #[arg(long)]
    dry_run: bool,
}

pub fn run(args: Args, global: &Global) -> Result<std::process::ExitCode> {
    global.with_store(async |store, _| {
        import_any(store.as_ref(), args.files, args.dry_run).await?;
        Ok(std::process::ExitCode::SUCCESS)
    })
}

/// Imports files of any kind bulletin reads, in one transaction per kind: bulletin
/// text, WordPress exports and Markdown folders together; a JSON file alone.
async fn import_any(store: &dyn Store, files: Vec<PathBuf>, dry_run: bool) -> Result<()> {
    let is = |p: &std::path::Path, ext: &str| {
        p.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
    };
    let json: Vec<&PathBuf> = files.iter().filter(|p| is(p, "json")).collect();
    if let Some(first) = json.first() {
        if files.len() > 1 {
            bail!(
                "{} is bulletin JSON, which is imported on its own: run one import for it \
                 and another for the other files",
                first.display()
            );
        }
        if dry_run {
            bail!("--dry-run is not available for JSON imports yet");
        }
        return backup::import(store, files[0].clone()).await;
    }
    let (others, text): (Vec<PathBuf>, Vec<PathBuf>) =
        files.into_iter().partition(|p| p.is_dir() || is(p, "xml"));
    if !others.is_empty() && !text.is_empty() {
        bail!(
            "import bulletin text ({}) and other archives ({}) in separate commands",
            text[0].display(),
            others[0].display()
        );
    }
    if others.is_empty() {
        if dry_run {
            bail!("--dry-run is for WordPress and Markdown imports; `bulletin check` checks text");
        }
        let sources = text.into_iter().map(Source::from_arg).collect();
        import_text(store, sources, Verbosity::Warnings).await?;
        return Ok(());
    }
    let sources = others
        .into_iter()
        .map(|p| {
            if p.is_dir() {
                migrate::Source::Markdown(p)
            } else {
                migrate::Source::Wxr(p)
            }
        })
        .collect();
    migrate::run(store, sources, dry_run).await?;
    Ok(())
}

/// Imports `sources` of bulletin text; prints diagnostics and a summary to
/// standard error.
pub async fn import_text(
    store: &dyn Store,
    sources: Vec<Source>,
    verbosity: Verbosity,
) -> Result<Summary> {
    let started = Instant::now();
    let names: Vec<String> = sources.iter().map(Source::name).collect();
    let total: Option<u64> = sources
        .iter()
        .map(|s| match s {
            Source::Path(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            Source::Bytes { data, .. } => Some(data.len() as u64),
            Source::Stdin => None,
        })
        .sum();
    // Open every file before writing anything, so a typo in the last name does
    // not cost a long import.
    let mut inputs: Vec<(String, Box<dyn Read + Send>)> = Vec::new();
    for source in sources {
        let name = source.name();
        let input: Box<dyn Read + Send> = match source {
            Source::Path(path) => {
                if path.is_dir() {
                    bail!("{name} is a folder; Markdown folders are not importable yet");
                }
                match path.extension().and_then(|e| e.to_str()) {
                    Some("xml") => bail!("{name}: WordPress WXR import is not available yet"),
                    Some("json") => bail!("{name}: JSON backup import is not available yet"),
                    _ => {}
                }
                Box::new(File::open(&path).with_context(|| format!("cannot open {name}"))?)
            }
            Source::Stdin => Box::new(std::io::stdin()),
            Source::Bytes { data, .. } => Box::new(std::io::Cursor::new(data)),
        };
        inputs.push((name, input));
    }

    let progress = Arc::new(Progress::bytes("import", total));
    let bytes_read = Arc::new(AtomicU64::new(0));
    let (sender, mut receiver) = mpsc::channel::<Vec<Story>>(4);
    let parser = {
        let progress = Arc::clone(&progress);
        let bytes_read = Arc::clone(&bytes_read);
        let show = if verbosity == Verbosity::Warnings {
            SHOW_WARNINGS
        } else {
            0
        };
        tokio::task::spawn_blocking(move || parse_all(inputs, sender, &progress, &bytes_read, show))
    };

    let mut tx = store.begin_import().await?;
    let mut summary = Summary::default();
    let mut write_error = None;
    while let Some(batch) = receiver.recv().await {
        match tx.put_stories(batch).await {
            Ok(outcomes) => {
                for outcome in outcomes {
                    match outcome {
                        PutOutcome::New { .. } => summary.new += 1,
                        PutOutcome::Updated { .. } => summary.updated += 1,
                        PutOutcome::Unchanged { .. } => summary.unchanged += 1,
                    }
                }
                progress.set(bytes_read.load(Ordering::Relaxed), summary.stories());
            }
            Err(e) => {
                write_error = Some(e);
                break;
            }
        }
    }
    // Closing the channel tells the parser to stop early after a write error.
    drop(receiver);
    let report = parser.await.context("the parsing thread failed")?;
    progress.finish();
    if let Some(e) = write_error {
        tx.rollback().await.ok();
        return Err(e).context("the import was rolled back; nothing was imported");
    }
    if report.errors > 0 {
        tx.rollback().await?;
        bail!(
            "{} error{} in {}; nothing was imported",
            report.errors,
            if report.errors == 1 { "" } else { "s" },
            names.join(", ")
        );
    }
    tx.commit()
        .await
        .context("the import could not be committed; nothing was imported")?;
    summary.issues = report.issues.len() as u64;
    summary.tags = report.tags.len() as u64;
    summary.warnings = report.warnings;
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {} stories from {} in {secs:.2}s ({:.0} stories/s): {} new, {} updated, {} unchanged; {} issues, {} tags, {} warnings",
        summary.stories(),
        names.join(", "),
        summary.stories() as f64 / secs.max(1e-9),
        summary.new,
        summary.updated,
        summary.unchanged,
        summary.issues,
        summary.tags,
        summary.warnings,
    );
    Ok(summary)
}

/// Counts the bytes that pass through, for the progress bar.
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn parse_all(
    inputs: Vec<(String, Box<dyn Read + Send>)>,
    sender: mpsc::Sender<Vec<Story>>,
    progress: &Progress,
    bytes_read: &Arc<AtomicU64>,
    show_warnings: u64,
) -> ParseReport {
    let mut report = ParseReport::default();
    let mut batch = Vec::with_capacity(BATCH);
    let show_warning = |report: &mut ParseReport, text: String| {
        report.warnings += 1;
        if report.warnings <= show_warnings {
            progress.println(&text);
        }
    };
    for (name, input) in inputs {
        let counting = Counting {
            inner: input,
            count: Arc::clone(bytes_read),
        };
        let input = match bulletin_text::utf8_input(counting) {
            Ok(input) => input,
            Err(e) => {
                report.errors += 1;
                progress.println(&format!("{name}: error: cannot read: {e}"));
                continue;
            }
        };
        let mut reader = Reader::new(input);
        for item in &mut reader {
            match item {
                Ok(parsed) => {
                    for w in &parsed.warnings {
                        show_warning(&mut report, w.display(&name).to_string());
                    }
                    if let Some(issue) = parsed.story.issue {
                        report.issues.insert(issue.number);
                    }
                    for tag in &parsed.story.tags {
                        if !report.tags.contains(tag) {
                            report.tags.insert(tag.clone());
                        }
                    }
                    // After an error nothing will be committed: keep reading to
                    // report every problem, but stop sending.
                    if report.errors == 0 {
                        batch.push(parsed.story);
                        if batch.len() == BATCH {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            if sender.blocking_send(full).is_err() {
                                return report; // the writer gave up
                            }
                        }
                    }
                }
                Err(e) => {
                    report.errors += 1;
                    if report.errors <= SHOW_ERRORS {
                        progress.println(&e.display(&name).to_string());
                    }
                }
            }
        }
        for w in reader.finish() {
            show_warning(&mut report, w.display(&name).to_string());
        }
    }
    if report.errors > SHOW_ERRORS {
        progress.println(&format!(
            "... and {} more errors",
            report.errors - SHOW_ERRORS
        ));
    }
    if show_warnings > 0 && report.warnings > show_warnings {
        progress.println(&format!(
            "... and {} more warnings (`bulletin check` lists them all)",
            report.warnings - show_warnings
        ));
    }
    if report.errors == 0 && !batch.is_empty() {
        let _ = sender.blocking_send(batch);
    }
    report
}
