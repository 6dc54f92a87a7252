//! What every command shares: the global options (`--data`, `--database`)
//! and [`Global::with_store`], which loads the settings, opens the store and
//! runs a command's work on a Tokio runtime.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use bulletin_store::Store;

use crate::config::Settings;

#[derive(Debug, clap::Args)]
pub struct Global {
    /// The data directory: SQLite database, search index, bulletin.toml.
    #[arg(
        long,
        global = true,
        default_value = "bulletin-data",
        value_name = "DIR"
    )]
    pub data: PathBuf,
    /// Put the store on PostgreSQL (postgres://...) instead of SQLite in the data directory.
    #[arg(
        long,
        global = true,
        env = "BULLETIN_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
}

impl Global {
    /// Loads the settings, opens the store and runs `job` on a Tokio runtime.
    pub fn with_store<T>(
        &self,
        job: impl AsyncFnOnce(Arc<dyn Store>, &Settings) -> Result<T>,
    ) -> Result<T> {
        let settings = Settings::load(&self.data, self.database.as_deref())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let store = bulletin_store::open(&settings.database_url)
                .await
                .with_context(|| {
                    format!("cannot open the store at {}", settings.database_display())
                })?;
            job(store, &settings).await
        })
    }
}
