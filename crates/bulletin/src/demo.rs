//! `bulletin demo`: a sample archive in the data directory, and what it holds.

use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use bulletin_store::Store;
use bulletin_text::synth::{GenOptions, generate};

use crate::config::Settings;
use crate::global::Global;
use crate::import::{self, Source, Verbosity};
use crate::serve::{newsroom_options, site_options};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many stories the sample archive holds.
    #[arg(long, default_value_t = 600)]
    stories: u64,
    /// Address to serve the sample archive on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Build the sample archive and stop, without serving it.
    #[arg(long)]
    no_serve: bool,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let Args {
        stories,
        addr,
        no_serve,
    } = args;
    global.with_store(async |store, settings| {
        build(store.as_ref(), settings, stories).await?;
        if no_serve {
            return Ok(ExitCode::SUCCESS);
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} (try --addr 127.0.0.1:0)"))?;
        let local = listener.local_addr()?;
        // Feeds and sitemaps need absolute links: point them at this server.
        let mut publication = store.publication().await?;
        publication.base_url = format!("http://{local}");
        store.set_publication(&publication).await?;
        let options = site_options(&store, &global.data).await?;
        let options =
            newsroom_options(&store, options, settings, &format!("http://{local}")).await?;
        println!("open http://{local}/ to read it (Ctrl-C to stop)");
        bulletin_web::serve(listener, store, bulletin_web::Theme::load(None)?, options).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Generates and imports the sample archive, and describes it.
async fn build(store: &dyn Store, settings: &Settings, stories: u64) -> Result<()> {
    let options = GenOptions {
        stories,
        seed: 2021,
        crlf: false,
        bom: false,
        header_tag: None,
    };
    let mut text = Vec::new();
    generate(&options, &mut text)?;
    let summary = import::import_text(
        store,
        vec![Source::Bytes {
            name: "sample archive".into(),
            data: text,
        }],
        Verbosity::Counts,
    )
    .await?;
    let counts = store.counts().await?;
    let years = match (counts.years.first(), counts.years.last()) {
        (Some(a), Some(b)) if a != b => format!("{a}–{b}"),
        (Some(a), _) => a.to_string(),
        _ => "none".into(),
    };
    println!("bulletin demo archive in {}", settings.data_dir.display());
    println!(
        "  store:    {} ({})",
        store.backend(),
        settings.database_display()
    );
    println!("  stories:  {}", counts.stories);
    println!("  issues:   {}", counts.issues);
    println!("  tags:     {}", counts.tags);
    println!(
        "  years:    {years} ({} years with stories)",
        counts.years.len()
    );
    println!(
        "  warnings: {} in the sample text (run `bulletin check` on a `bulletin gen` file to see them)",
        summary.warnings
    );
    let tags = store.tags().await?;
    let mut top: Vec<_> = tags.iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.name.cmp(&b.0.name)));
    let top: Vec<String> = top
        .iter()
        .take(5)
        .map(|(t, n)| format!("{} ({n})", t.name))
        .collect();
    println!("  top tags: {}", top.join(", "));
    println!(
        "next: `bulletin export --format text --tag \"political rights\"` prints a tag archive"
    );
    Ok(())
}
