//! What every command shares: the global options (`--data`, `--database`,
//! `--base-url`, `--site`) and [`Global::with_store`], which loads the
//! settings, opens the store, puts the publication's settings in force and
//! runs a command's work on a Tokio runtime.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use bulletin_store::{Migrations, Store};

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
    /// The site's public address (https://news.example.org), for every link that
    /// leaves the site: feeds, sitemaps, mail. Same as `--site base_url=URL`;
    /// over BULLETIN_BASE_URL, `[site]` in bulletin.toml and `bulletin site set`.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Set a publication setting for this run (`--site time_zone=Asia/Almaty`);
    /// `bulletin site show` lists them. Repeatable; wins over every other layer.
    #[arg(long, global = true, value_name = "KEY=VALUE", value_parser = key_value)]
    pub site: Vec<(String, String)>,
}

fn key_value(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!(
            "{text:?} is not KEY=VALUE, e.g. time_zone=Asia/Almaty"
        )),
    }
}

impl Global {
    /// The settings of the data directory, the environment and this command line.
    pub fn settings(&self) -> Result<Settings> {
        let mut flags: Vec<(String, String, String)> = self
            .site
            .iter()
            .map(|(k, v)| ("--site".to_owned(), k.clone(), v.clone()))
            .collect();
        if let Some(url) = &self.base_url {
            flags.push(("--base-url".into(), "base_url".into(), url.clone()));
        }
        Settings::load_with(&self.data, self.database.as_deref(), &flags, |var| {
            std::env::var(var).ok()
        })
    }

    /// Loads the settings, opens the store, writes the publication's settings
    /// from the layers above the store into it when they differ (so every
    /// process and output agrees), and runs `job` on a Tokio runtime.
    pub fn with_store<T>(
        &self,
        job: impl AsyncFnOnce(Arc<dyn Store>, &Settings) -> Result<T>,
    ) -> Result<T> {
        self.with_store_migrated(Migrations::Run, job)
    }

    /// [`Global::with_store`], choosing what opening does to the schema
    /// (`serve --no-migrate` requires it current).
    pub fn with_store_migrated<T>(
        &self,
        migrations: Migrations,
        job: impl AsyncFnOnce(Arc<dyn Store>, &Settings) -> Result<T>,
    ) -> Result<T> {
        self.open(migrations, async |store, settings| {
            let stored = store.publication().await?;
            let effective = settings.site.resolve(&stored)?;
            if effective.publication != stored {
                store
                    .set_publication(&effective.publication)
                    .await
                    .context("cannot store the publication's settings")?;
            }
            job(store, settings).await
        })
    }

    /// Loads the settings, opens the store and runs `job`, leaving the
    /// publication's settings in the store as they are.
    pub fn with_store_as_is<T>(
        &self,
        job: impl AsyncFnOnce(Arc<dyn Store>, &Settings) -> Result<T>,
    ) -> Result<T> {
        self.open(Migrations::Run, job)
    }

    fn open<T>(
        &self,
        migrations: Migrations,
        job: impl AsyncFnOnce(Arc<dyn Store>, &Settings) -> Result<T>,
    ) -> Result<T> {
        let settings = self.settings()?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        runtime.block_on(async {
            let store = bulletin_store::open_with(&settings.database_url, migrations)
                .await
                .with_context(|| {
                    format!("cannot open the store at {}", settings.database_display())
                })?;
            job(store, &settings).await
        })
    }
}
