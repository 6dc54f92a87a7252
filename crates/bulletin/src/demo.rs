//! `bulletin demo`: a sample archive in the data directory, and what it holds.

use anyhow::Result;
use bulletin_store::Store;
use bulletin_text::synth::{GenOptions, generate};

use crate::config::Settings;
use crate::import::{self, Source, Verbosity};

pub async fn run(store: &dyn Store, settings: &Settings, stories: u64) -> Result<()> {
    let options = GenOptions {
        stories,
        seed: 2021,
        crlf: false,
        bom: false,
        header_tag: None,
    };
    let mut text = Vec::new();
    generate(&options, &mut text)?;
    let summary = import::run(
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
