//! `bulletin migrate`: bring the store's schema up to this release, apart
//! from `serve` (which then starts with `--no-migrate`). Migrations are
//! additive, so instances of the previous release keep working meanwhile.

use std::process::ExitCode;

use anyhow::{Context, Result};
use bulletin_store::{Migrations, StoreError};

use crate::global::Global;

pub fn run(global: &Global) -> Result<ExitCode> {
    let settings = global.settings()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let url = &settings.database_url;
        let shown = settings.database_display();
        let applied = match bulletin_store::open_with(url, Migrations::Require).await {
            Ok(_) => Vec::new(),
            Err(StoreError::SchemaBehind { missing }) => missing,
            Err(e) => return Err(e).with_context(|| format!("cannot open the store at {shown}")),
        };
        let store = bulletin_store::open(url)
            .await
            .with_context(|| format!("cannot migrate the store at {shown}"))?;
        let status = store.schema_status().await?;
        let latest = status.applied.last().copied().unwrap_or_default();
        if applied.is_empty() {
            println!("the store at {shown} is current (migration {latest})");
        } else {
            let list: Vec<String> = applied.iter().map(|v| format!("{v:04}")).collect();
            println!(
                "the store at {shown} is now at migration {latest} (applied {})",
                list.join(", ")
            );
        }
        let newer = status.newer();
        if !newer.is_empty() {
            println!(
                "note: a newer release applied migrations {newer:?}, which this one does not know"
            );
        }
        Ok(ExitCode::SUCCESS)
    })
}
