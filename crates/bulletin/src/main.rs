//! `bulletin`: the command line that wires the crates together.
//!
//! ```text
//! bulletin demo                       # a sample archive in ./bulletin-data
//! bulletin import archive.txt         # one transaction; all or nothing
//! bulletin export --format json -o backup.json
//! bulletin check archive.txt          # lint; exit 1 on errors
//! ```
//!
//! Each command is a module with its clap `Args` and a `run`; this file only
//! lists them (the doc comment of each variant is its help) and dispatches.

mod backup;
mod bounces;
mod check;
mod config;
mod demo;
mod dkim;
mod export;
mod global;
mod import;
mod migrate;
mod progress;
mod redirects;
mod schema;
mod search;
mod send;
mod serve;
mod site;
mod subscribers;
mod synth;
mod telemetry;
mod users;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

use crate::global::Global;

/// bulletin: publish and archive datelined news bulletins.
#[derive(Debug, Parser)]
#[command(name = "bulletin", version, about)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web site.
    Serve(serve::Args),
    /// Generate a sample archive into the data directory and describe it.
    Demo(demo::Args),
    /// Import in one transaction: bulletin text (`-` reads standard input), WordPress
    /// exports (.xml), Hugo or Zola folders, bulletin JSON (a backup restores into an
    /// empty data directory).
    Import(import::Args),
    /// Export the archive: JSON (unfiltered, a complete backup), bulletin text, or a
    /// Markdown folder that Hugo or Zola builds.
    Export(export::Args),
    /// Lint bulletin text: exit 1 if any file has errors.
    Check(check::Args),
    /// Search the archive: words, "exact phrases", -excluded, OR; old place names too.
    Search(search::Args),
    /// Rebuild the search index from the store.
    Reindex,
    /// Subscribers: list, import (CSV), export (CSV).
    Subscribers(subscribers::Args),
    /// Send a published issue to every active subscriber, from the durable queue:
    /// resumable (run it again after a stop or a crash), rate limited by
    /// [smtp] per_second, retries later what the server defers.
    Send(send::Args),
    /// List the old addresses that answer with a 301 (from imports).
    Redirects(redirects::Args),
    /// Staff accounts: add, list, disable, enable, reset-password.
    User(users::Args),
    /// Write synthetic bulletin text (or a WordPress export) for demos and benchmarks.
    Gen(synth::Args),
    /// Bring the store's schema up to this release (then `serve --no-migrate`).
    Migrate,
    /// The publication's settings: show (with where each came from), set KEY VALUE.
    Site(site::Args),
    /// Check the configuration: every setting in force, secrets redacted.
    Config(site::ConfigArgs),
    /// DKIM keys for signing mail: keygen (prints the DNS record to publish).
    Dkim(dkim::Args),
    /// Bounces: import delivery status notifications (mbox or Maildir) and
    /// mark hard-bounced subscribers.
    Bounces(bounces::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Serve(args) => serve::run(args, global),
        Command::Demo(args) => demo::run(args, global),
        Command::Import(args) => import::run(args, global),
        Command::Export(args) => export::run(args, global),
        Command::Check(args) => check::run(&args),
        Command::Search(args) => search::run(args, global),
        Command::Reindex => search::reindex(global),
        Command::Subscribers(args) => subscribers::run(args, global),
        Command::Send(args) => send::run(args, global),
        Command::Redirects(args) => redirects::run(args, global),
        Command::User(args) => users::run(args, global),
        Command::Gen(args) => synth::run(args),
        Command::Migrate => schema::run(global),
        Command::Site(args) => site::run(args, global),
        Command::Config(args) => site::config(args, global),
        Command::Dkim(args) => dkim::run(args, global),
        Command::Bounces(args) => bounces::run(args, global),
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("BULLETIN_LOG")
        // sqlx reports long statements at WARN; a whole-archive export has some by
        // design, so they are only shown when asked for (BULLETIN_LOG=sqlx=warn).
        // The web server's access log (target bulletin::access) is on by default.
        .unwrap_or_else(|_| EnvFilter::new("warn,sqlx::query=error,bulletin::access=info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // BULLETIN_LOG_FORMAT=json: one JSON object a line, for log shippers.
    if std::env::var("BULLETIN_LOG_FORMAT").as_deref() == Ok("json") {
        logs.json().init();
    } else {
        logs.init();
    }
}
