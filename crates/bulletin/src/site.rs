//! `bulletin site show|set` (the publication's settings) and `bulletin config
//! check` (every setting in force, secrets redacted, each with its origin).

use std::process::ExitCode;

use anyhow::Result;
use bulletin_core::{Publication, redact};

use crate::config::Settings;
use crate::config::site::{self, Effective, Origin, env_var};
use crate::global::Global;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SiteCommand,
}

#[derive(Debug, clap::Subcommand)]
enum SiteCommand {
    /// Every setting, its value in force and where it came from.
    Show,
    /// Store a setting (shared by every instance on the same store). A value
    /// from bulletin.toml's [site], a BULLETIN_* variable or a flag still wins.
    Set {
        /// One of: name, credit, base_url, time_zone, language, copyright,
        /// copyright_holder, default_access, sender_name.
        key: String,
        value: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
enum ConfigCommand {
    /// Print the settings in force (secrets redacted) and where each came
    /// from; exit 1 if `serve` with [smtp] would refuse them.
    Check,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    match args.command {
        SiteCommand::Show => global.with_store_as_is(async |store, settings| {
            let effective = settings.site.resolve(&store.publication().await?)?;
            print_site(&effective);
            Ok(ExitCode::SUCCESS)
        }),
        SiteCommand::Set { key, value } => global.with_store_as_is(async |store, settings| {
            let mut stored = store.publication().await?;
            site::check(&mut stored, &key, &value)?;
            store.set_publication(&stored).await?;
            let shown = stored.get(&key)?;
            println!("{key} = {shown:?} (stored)");
            if let Some(origin) = settings.site.overriding(&key) {
                eprintln!(
                    "warning: {origin} also sets {key}, and wins over the store: \
                     this value is not in force until it is removed there"
                );
            }
            Ok(ExitCode::SUCCESS)
        }),
    }
}

pub fn config(args: ConfigArgs, global: &Global) -> Result<ExitCode> {
    let ConfigArgs {
        command: ConfigCommand::Check,
    } = args;
    global.with_store_as_is(async |store, settings| {
        let effective = settings.site.resolve(&store.publication().await?)?;
        print_config(settings, global);
        println!();
        print_site(&effective);
        let problem = settings
            .smtp
            .as_ref()
            .and_then(|_| site::base_url_problem(&effective));
        if let Some(problem) = problem {
            println!();
            println!(
                "problem: [smtp] is set, but {problem}: `serve` refuses mail work (unless --dev)"
            );
            return Ok(ExitCode::FAILURE);
        }
        println!();
        println!("ok");
        Ok(ExitCode::SUCCESS)
    })
}

fn print_config(settings: &Settings, global: &Global) {
    let config = settings.config_path();
    let database = match &global.database {
        Some(url) if std::env::var("BULLETIN_DATABASE_URL").as_deref() == Ok(url) => {
            Origin::Env("BULLETIN_DATABASE_URL".into())
        }
        Some(_) => Origin::Flag("--database".into()),
        None if settings.database_url.ends_with("/bulletin.db")
            && settings.database_url.starts_with("sqlite://") =>
        {
            Origin::Default
        }
        None => Origin::File(config.clone()),
    };
    println!("[bulletin]");
    let data = if global.data.as_os_str() == "bulletin-data" {
        Origin::Default
    } else {
        Origin::Flag("--data".into())
    };
    row("data", &settings.data_dir.display().to_string(), &data, "");
    let present = if config.exists() { "present" } else { "absent" };
    row("config file", &config.display().to_string(), &data, present);
    row("database", &settings.database_display(), &database, "");
    match &settings.smtp {
        None => row("smtp", "(none: no mail is sent)", &Origin::Default, ""),
        Some(smtp) => {
            let origin = Origin::File(config.clone());
            row("smtp.url", &redact::url(&smtp.url), &origin, "");
            row("smtp.from", &smtp.from, &origin, "");
            match &smtp.from_name {
                Some(name) => row("smtp.from_name", name, &origin, ""),
                None => row(
                    "smtp.from_name",
                    "(the site's sender_name)",
                    &Origin::Default,
                    "",
                ),
            }
            match &smtp.list_id {
                Some(id) => row("smtp.list_id", id, &origin, ""),
                None => row(
                    "smtp.list_id",
                    "(newsletter. and the site's host)",
                    &Origin::Default,
                    "",
                ),
            }
            row("smtp.per_second", &smtp.per_second.to_string(), &origin, "");
            if smtp.dkim.is_empty() {
                row(
                    "smtp.dkim",
                    "(none: mail is not signed)",
                    &Origin::Default,
                    "",
                );
            }
            for key in &smtp.dkim {
                let domain = key.domain.as_deref().unwrap_or("the domain of from");
                let shown = format!("{} at {domain}, key {}", key.selector, key.key.display());
                row("smtp.dkim", &shown, &origin, "");
            }
        }
    }
}

fn print_site(effective: &Effective) {
    println!("[site]");
    for key in Publication::KEYS {
        let value = effective.publication.get(key).unwrap_or_default();
        let note = format!("env {}", env_var(key));
        row(key, &format!("{value:?}"), effective.origin(key), &note);
    }
}

fn row(key: &str, value: &str, origin: &Origin, note: &str) {
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("; {note}")
    };
    println!("  {key:<18} {value:<44} ({origin}{note})");
}
