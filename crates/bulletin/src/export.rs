//! `bulletin export`: canonical JSON (DESIGN.md) or bulletin text, streamed page by
//! page so memory stays flat for any archive size.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use bulletin_core::Issue;
use bulletin_store::{Store, StoryQuery};
use clap::ValueEnum;

use crate::backup;
use crate::global::Global;

const PAGE: u32 = 1000;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// Markdown: which site generator the folder is for.
    #[arg(long, value_enum, default_value = "hugo")]
    flavor: MarkdownFlavor,
    /// JSON backup: include staff password hashes (keep the file secret).
    #[arg(long)]
    with_secrets: bool,
    /// Only stories with this tag (name or slug); text gets a `Tag Archives:` header.
    #[arg(long, value_name = "TAG")]
    tag: Option<String>,
    /// Only stories of this issue.
    #[arg(long, value_name = "N")]
    issue: Option<u32>,
    /// Write here instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Text,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MarkdownFlavor {
    Hugo,
    Zola,
}

/// JSON without a filter is the complete backup; with one, and text, are
/// streamed stories; Markdown is a folder.
pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let Args {
        format,
        flavor,
        with_secrets,
        tag,
        issue,
        output,
    } = args;
    global.with_store(async |store, _| {
        match format {
            ExportFormat::Json if tag.is_none() && issue.is_none() => {
                backup::export(store.as_ref(), output.as_deref(), with_secrets).await?;
            }
            ExportFormat::Markdown => {
                let Some(dir) = output else {
                    bail!("a Markdown export is a folder: name it with -o DIR");
                };
                let flavor = match flavor {
                    MarkdownFlavor::Hugo => bulletin_import::markdown::Flavor::Hugo,
                    MarkdownFlavor::Zola => bulletin_import::markdown::Flavor::Zola,
                };
                markdown(store.as_ref(), flavor, tag, issue, &dir).await?;
            }
            _ => stream(store.as_ref(), format, tag, issue, output.as_deref()).await?,
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// Runs `write` against OUT (via a temporary file renamed into place, so a failed
/// export never leaves a half-written file) or standard output.
pub fn with_output<T>(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn Write) -> Result<T>,
) -> Result<T> {
    match output {
        Some(path) if path.as_os_str() != "-" => {
            let mut tmp_name = path.as_os_str().to_owned();
            tmp_name.push(".partial");
            let tmp = std::path::PathBuf::from(tmp_name);
            let file =
                File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
            let mut out = BufWriter::with_capacity(1 << 20, file);
            let result = write(&mut out).and_then(|v| {
                out.flush()?;
                Ok(v)
            });
            match result {
                Ok(v) => {
                    std::fs::rename(&tmp, path)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    Ok(v)
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    Err(e)
                }
            }
        }
        _ => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            let v = write(&mut out)?;
            out.flush()?;
            Ok(v)
        }
    }
}

/// Stories as bulletin text or JSON, page by page.
async fn stream(
    store: &dyn Store,
    format: ExportFormat,
    tag: Option<String>,
    issue: Option<u32>,
    output: Option<&Path>,
) -> Result<()> {
    if format == ExportFormat::Markdown {
        bail!("a Markdown export is a folder: name it with -o DIR");
    }
    let tag = resolve_tag(store, tag).await?;
    if let Some(n) = issue
        && store.issue(n).await?.is_none()
    {
        bail!("there is no issue {n}");
    }
    let query = StoryQuery {
        tag: tag.clone(),
        issue,
        after: None,
        limit: PAGE,
        ..StoryQuery::default()
    };
    // Pages come from the async store; the writer is synchronous. Collecting one
    // page at a time keeps memory flat.
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    with_output(output, |out| {
        let handle = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                match format {
                    ExportFormat::Json => write_json(store, query, out, &mut buf).await,
                    _ => write_text(store, query, tag.as_deref(), out, &mut buf).await,
                }
            })
        })
    })
}

async fn write_text(
    store: &dyn Store,
    mut query: StoryQuery,
    tag: Option<&str>,
    out: &mut dyn Write,
    buf: &mut Vec<u8>,
) -> Result<()> {
    if let Some(tag) = tag {
        bulletin_text::write_header(out, tag)?;
    }
    let mut first = true;
    loop {
        let page = store.stories(&query).await?;
        buf.clear();
        for story in &page.stories {
            bulletin_text::write_story(buf, story, tag, first)?;
            first = false;
        }
        out.write_all(buf)?;
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(()),
        }
    }
}

async fn write_json(
    store: &dyn Store,
    mut query: StoryQuery,
    out: &mut dyn Write,
    buf: &mut Vec<u8>,
) -> Result<()> {
    let publication = store.publication().await?;
    let mut issues: Vec<Issue> = store.issues().await?;
    // DESIGN.md's order is publication, issues, stories. A filtered export lists the
    // issues its stories belong to: a first pass over the pages finds them.
    if query.issue.is_some() || query.tag.is_some() {
        let mut referenced = std::collections::HashSet::new();
        let mut scan = query.clone();
        loop {
            let page = store.stories(&scan).await?;
            referenced.extend(
                page.stories
                    .iter()
                    .filter_map(|s| s.issue.map(|i| i.number)),
            );
            match page.next {
                Some(next) => scan.after = Some(next),
                None => break,
            }
        }
        issues.retain(|i| referenced.contains(&i.number));
    }
    out.write_all(b"{\"publication\":")?;
    serde_json::to_writer(&mut *out, &publication)?;
    out.write_all(b",\n\"issues\":[")?;
    for (i, issue) in issues.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        serde_json::to_writer(&mut *out, issue)?;
    }
    out.write_all(b"],\n\"stories\":[")?;
    let mut first = true;
    loop {
        let page = store.stories(&query).await?;
        buf.clear();
        for story in &page.stories {
            buf.extend_from_slice(if first { b"\n" } else { b",\n" });
            first = false;
            serde_json::to_writer(&mut *buf, &story.to_json())?;
        }
        out.write_all(buf)?;
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    out.write_all(b"]}\n")?;
    Ok(())
}

/// `export --format markdown -o DIR`: a folder Hugo (or Zola) builds, one story
/// at a time; the stories' URLs stay `/YYYY/MM/DD/slug/`.
async fn markdown(
    store: &dyn Store,
    flavor: bulletin_import::markdown::Flavor,
    tag: Option<String>,
    issue: Option<u32>,
    dir: &Path,
) -> Result<()> {
    let started = std::time::Instant::now();
    let publication = store.publication().await?;
    let site = bulletin_import::markdown::SiteInfo::from(&publication);
    let mut writer = bulletin_import::markdown::write_site(dir, flavor, &site)
        .with_context(|| format!("cannot write a site into {}", dir.display()))?;
    let tag = resolve_tag(store, tag).await?;
    let mut query = StoryQuery {
        tag,
        issue,
        limit: PAGE,
        ..StoryQuery::default()
    };
    loop {
        let page = store.stories(&query).await?;
        for story in &page.stories {
            writer
                .write_story(story)
                .with_context(|| format!("cannot write story {:?}", story.slug))?;
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    let written = writer.finish()?;
    eprintln!(
        "wrote {written} stories as a {flavor} site in {} ({:.2}s)",
        dir.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// A tag named by its name or its slug, as stored; an error names the problem.
async fn resolve_tag(store: &dyn Store, tag: Option<String>) -> Result<Option<String>> {
    Ok(match tag {
        None => None,
        Some(wanted) => {
            let tags = store.tags().await?;
            let found = tags.iter().find(|(t, _)| t.name == wanted).or_else(|| {
                tags.iter()
                    .find(|(t, _)| t.slug == wanted || t.name.eq_ignore_ascii_case(&wanted))
            });
            match found {
                Some((t, _)) => Some(t.name.clone()),
                None => bail!(
                    "no tag named {wanted:?}; `bulletin export --format json` lists the tags in use"
                ),
            }
        }
    })
}
