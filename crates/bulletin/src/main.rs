//! `bulletin`: the command line that wires the crates together.
//!
//! ```text
//! bulletin demo                       # a sample archive in ./bulletin-data
//! bulletin import archive.txt         # one transaction; all or nothing
//! bulletin export --format json -o backup.json
//! bulletin check archive.txt          # lint; exit 1 on errors
//! ```

mod backup;
mod check;
mod config;
mod demo;
mod export;
mod import;
mod migrate;
mod progress;
mod search;
mod send;
mod subscribers;
mod users;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};

use crate::config::Settings;

/// bulletin: publish and archive datelined news bulletins.
#[derive(Debug, Parser)]
#[command(name = "bulletin", version, about)]
struct Cli {
    /// The data directory: SQLite database, search index, bulletin.toml.
    #[arg(
        long,
        global = true,
        default_value = "bulletin-data",
        value_name = "DIR"
    )]
    data: PathBuf,
    /// Put the store on PostgreSQL (postgres://...) instead of SQLite in the data directory.
    #[arg(
        long,
        global = true,
        env = "BULLETIN_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web site.
    Serve {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// A folder of templates that replace the default theme's, by name.
        #[arg(long, value_name = "DIR")]
        theme: Option<PathBuf>,
    },
    /// Generate a sample archive into the data directory and describe it.
    Demo {
        /// How many stories the sample archive holds.
        #[arg(long, default_value_t = 600)]
        stories: u64,
        /// Address to serve the sample archive on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Build the sample archive and stop, without serving it.
        #[arg(long)]
        no_serve: bool,
    },
    /// Import in one transaction: bulletin text (`-` reads standard input), WordPress
    /// exports (.xml), Hugo or Zola folders, bulletin JSON (a backup restores into an
    /// empty data directory).
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Read and write everything, then roll it back: a full check, nothing kept.
        #[arg(long)]
        dry_run: bool,
    },
    /// Export the archive: JSON (unfiltered, a complete backup), bulletin text, or a
    /// Markdown folder that Hugo or Zola builds.
    Export {
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
    },
    /// Lint bulletin text: exit 1 if any file has errors.
    Check {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Search the archive: words, "exact phrases", -excluded, OR; old place names too.
    Search {
        #[arg(value_name = "QUERY")]
        query: String,
        /// Print the results (with counts per country, tag and year) as JSON.
        #[arg(long)]
        json: bool,
        /// Only stories with this tag (name or slug).
        #[arg(long, value_name = "T")]
        tag: Option<String>,
        /// Only stories about this country (ISO code such as KZ, or name).
        #[arg(long, value_name = "XX")]
        country: Option<String>,
        /// Only stories dated on or after this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: Option<bulletin_core::Date>,
        /// Only stories dated on or before this day (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: Option<bulletin_core::Date>,
        /// Newest first instead of best match first.
        #[arg(long)]
        newest: bool,
        /// How many results to show (at most 100).
        #[arg(long, default_value_t = 10, value_name = "N")]
        limit: usize,
    },
    /// Rebuild the search index from the store.
    Reindex,
    /// Subscribers: list, import (CSV), export (CSV).
    Subscribers {
        #[command(subcommand)]
        action: SubscriberAction,
    },
    /// Send a published issue to every active subscriber, from the durable queue:
    /// resumable (run it again after a stop or a crash), rate limited by
    /// [smtp] per_second, retries later what the server defers.
    Send {
        #[arg(value_name = "ISSUE")]
        issue: u32,
        /// Render every message that would be sent and count them; send and write nothing.
        #[arg(long, conflicts_with = "to")]
        dry_run: bool,
        /// Send one test copy of the issue (in any state, a draft too) to this
        /// address only: not queued, not recorded.
        #[arg(long, value_name = "ADDRESS")]
        to: Option<String>,
        /// With --to: which copy to send.
        #[arg(
            long = "as",
            value_enum,
            default_value = "paid",
            requires = "to",
            value_name = "PLAN"
        )]
        as_plan: CopyFor,
        /// Messages in flight at once (SMTP connections).
        #[arg(long, default_value_t = 4, value_name = "N",
              value_parser = clap::value_parser!(u16).range(1..=64))]
        workers: u16,
        /// Seconds a claim holds before another sender may take the row over
        /// (every sender on one queue should use the same).
        #[arg(long, default_value_t = 120, hide = true,
              value_parser = clap::value_parser!(i64).range(2..=86_400))]
        lease_seconds: i64,
        /// Seconds before the first retry of a deferred message (doubled each time).
        #[arg(long, default_value_t = 60, hide = true,
              value_parser = clap::value_parser!(i64).range(0..=86_400))]
        retry_seconds: i64,
    },
    /// List the old addresses that answer with a 301 (from imports).
    Redirects {
        /// One JSON object a line: {"from": ..., "to": ...}.
        #[arg(long)]
        json: bool,
    },
    /// Staff accounts: add, list, disable, enable, reset-password.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Write synthetic bulletin text (or a WordPress export) for demos and benchmarks.
    Gen {
        #[arg(long, value_name = "N")]
        stories: u64,
        /// text: bulletin text; wxr: a WordPress export with N posts.
        #[arg(long, value_enum, default_value = "text")]
        format: GenFormat,
        #[arg(long, default_value_t = 1, value_name = "S")]
        seed: u64,
        /// Write here instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
        /// Windows line ends.
        #[arg(long)]
        crlf: bool,
        /// Start with a byte order mark.
        #[arg(long)]
        bom: bool,
        /// Start with a `Tag Archives: TAG` header.
        #[arg(long, value_name = "TAG")]
        tag: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Add an account; the password is read from standard input (typed unechoed on a terminal).
    Add {
        email: String,
        /// admin, editor or contributor.
        #[arg(long)]
        role: String,
    },
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Stop an account from signing in (what it did stays attributed).
    Disable { email: String },
    /// Let a disabled account sign in again.
    Enable { email: String },
    /// Set a new password, read from standard input.
    ResetPassword { email: String },
}

#[derive(Debug, Subcommand)]
enum SubscriberAction {
    /// List subscribers (oldest first).
    List {
        /// pending, active, unsubscribed or bounced.
        #[arg(long, value_parser = parse_status)]
        status: Option<bulletin_core::subscriber::SubscriberStatus>,
        /// free or paid.
        #[arg(long, value_parser = parse_plan)]
        plan: Option<bulletin_core::subscriber::Plan>,
        /// One JSON object a line.
        #[arg(long)]
        json: bool,
    },
    /// Import a CSV file (header line: email[,name][,plan][,status]) in one transaction.
    Import {
        file: PathBuf,
        /// The status of rows without one: active (you vouch for the list) or
        /// pending (they confirm first). Unsubscribed addresses stay unsubscribed.
        #[arg(long, value_parser = parse_status, default_value = "active")]
        status: bulletin_core::subscriber::SubscriberStatus,
    },
    /// Export every subscriber as CSV.
    Export {
        /// Write here instead of standard output.
        #[arg(short = 'o', long = "output", value_name = "OUT")]
        output: Option<PathBuf>,
    },
}

fn parse_status(s: &str) -> Result<bulletin_core::subscriber::SubscriberStatus, String> {
    bulletin_core::subscriber::SubscriberStatus::parse(s)
        .ok_or_else(|| format!("{s:?} is not pending, active, unsubscribed or bounced"))
}

fn parse_plan(s: &str) -> Result<bulletin_core::subscriber::Plan, String> {
    bulletin_core::subscriber::Plan::parse(s).ok_or_else(|| format!("{s:?} is not free or paid"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CopyFor {
    Free,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum GenFormat {
    Text,
    Wxr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MarkdownFlavor {
    Hugo,
    Zola,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ExportFormat {
    Json,
    Text,
    Markdown,
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

fn run(cli: Cli) -> Result<ExitCode> {
    let (data, database) = (cli.data, cli.database);
    match cli.command {
        Command::Check { files } => Ok(check::run(&files)),
        Command::Gen {
            stories,
            format: GenFormat::Wxr,
            seed,
            output,
            ..
        } => {
            let counts = export::with_output(output.as_deref(), |out| {
                Ok(bulletin_import::wxr::synth::generate(
                    stories,
                    seed,
                    &mut &mut *out,
                )?)
            })?;
            if output.is_some() {
                eprintln!("wrote a WordPress export: {counts:?}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Gen {
            stories,
            format: GenFormat::Text,
            seed,
            output,
            crlf,
            bom,
            tag,
        } => {
            let options = bulletin_text::synth::GenOptions {
                stories,
                seed,
                crlf,
                bom,
                header_tag: tag,
            };
            let stats = export::with_output(output.as_deref(), |out| {
                Ok(bulletin_text::synth::generate(&options, out)?)
            })?;
            if output.is_some() {
                eprintln!(
                    "wrote {} stories in {} issues ({} bytes)",
                    stats.stories, stats.issues, stats.bytes
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { files, dry_run } => with_store(&data, database, async |store, _| {
            import_any(store.as_ref(), files, dry_run).await?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Export {
            format,
            flavor,
            with_secrets,
            tag,
            issue,
            output,
        } => with_store(&data, database, async |store, _| {
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
                    export::markdown(store.as_ref(), flavor, tag, issue, &dir).await?;
                }
                _ => export::run(store.as_ref(), format, tag, issue, output.as_deref()).await?,
            }
            Ok(ExitCode::SUCCESS)
        }),
        Command::Subscribers { action } => with_store(&data, database, async |store, _| {
            let store = store.as_ref();
            match action {
                SubscriberAction::List { status, plan, json } => {
                    subscribers::list(store, status, plan, json).await
                }
                SubscriberAction::Import { file, status } => {
                    subscribers::import(store, &file, status).await
                }
                SubscriberAction::Export { output } => {
                    subscribers::export(store, output.as_deref()).await
                }
            }
        }),
        Command::Send {
            issue,
            dry_run,
            to,
            as_plan,
            workers,
            lease_seconds,
            retry_seconds,
        } => with_store(&data, database, async |store, settings| {
            let options = send::Options {
                issue,
                dry_run,
                to,
                reader: match as_plan {
                    CopyFor::Free => bulletin_mail::Reader::Free,
                    CopyFor::Paid => bulletin_mail::Reader::Paid,
                },
                workers: usize::from(workers),
                lease: lease_seconds,
                retry_base: retry_seconds,
            };
            send::run(store, settings, options).await
        }),
        Command::Redirects { json } => with_store(&data, database, async |store, _| {
            list_redirects(store.as_ref(), json).await?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Search {
            query,
            json,
            tag,
            country,
            from,
            to,
            newest,
            limit,
        } => with_store(&data, database, async |store, _| {
            let query = search::Query {
                q: query,
                json,
                tag,
                country,
                from,
                to,
                newest,
                limit,
            };
            search::search(store.as_ref(), &data, query).await
        }),
        Command::User { action } => with_store(&data, database, async |store, _| {
            let store = store.as_ref();
            match action {
                UserAction::Add { email, role } => users::add(store, &email, &role).await,
                UserAction::List { json } => users::list(store, json).await,
                UserAction::Disable { email } => users::set_disabled(store, &email, true).await,
                UserAction::Enable { email } => users::set_disabled(store, &email, false).await,
                UserAction::ResetPassword { email } => users::reset_password(store, &email).await,
            }
        }),
        Command::Reindex => with_store(&data, database, async |store, _| {
            search::reindex(store.as_ref(), &data).await?;
            Ok(ExitCode::SUCCESS)
        }),
        Command::Serve { addr, theme } => with_store(&data, database, async |store, settings| {
            // A broken theme stops start-up with the template's file and line.
            let theme = bulletin_web::Theme::load(theme.as_deref())?;
            let options = site_options(&store, &data).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            let local = listener.local_addr()?;
            let options =
                newsroom_options(&store, options, settings, &format!("http://{local}")).await?;
            eprintln!("bulletin is serving http://{local}/ (Ctrl-C to stop)");
            bulletin_web::serve(listener, store, theme, options).await?;
            eprintln!("bulletin stopped");
            Ok(ExitCode::SUCCESS)
        }),
        Command::Demo {
            stories,
            addr,
            no_serve,
        } => with_store(&data, database, async |store, settings| {
            demo::run(store.as_ref(), settings, stories).await?;
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
            let options = site_options(&store, &data).await?;
            let options =
                newsroom_options(&store, options, settings, &format!("http://{local}")).await?;
            println!("open http://{local}/ to read it (Ctrl-C to stop)");
            bulletin_web::serve(listener, store, bulletin_web::Theme::load(None)?, options).await?;
            Ok(ExitCode::SUCCESS)
        }),
    }
}

/// Imports files of any kind bulletin reads, in one transaction per kind: bulletin
/// text, WordPress exports and Markdown folders together; a JSON file alone.
async fn import_any(
    store: &dyn bulletin_store::Store,
    files: Vec<PathBuf>,
    dry_run: bool,
) -> Result<()> {
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
        let sources = text.into_iter().map(import::Source::from_arg).collect();
        import::run(store, sources, import::Verbosity::Warnings).await?;
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

/// `bulletin redirects`: every old address and where it goes, in byte order.
async fn list_redirects(store: &dyn bulletin_store::Store, json: bool) -> Result<()> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut after = String::new();
    let mut n = 0u64;
    loop {
        let page = store.redirects(&after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.from.clone();
        for r in &page {
            if json {
                serde_json::to_writer(&mut out, r)?;
                writeln!(out)?;
            } else {
                writeln!(out, "{} -> {}", r.from, r.to)?;
            }
        }
        n += page.len() as u64;
    }
    out.flush()?;
    if !json {
        eprintln!("{n} redirects");
    }
    Ok(())
}

/// The site's options: the search index of the data directory, caught up with
/// the store before the first request and followed from then on.
async fn site_options(
    store: &std::sync::Arc<dyn bulletin_store::Store>,
    data: &std::path::Path,
) -> Result<bulletin_web::Options> {
    let index = search::open(data)?;
    if index.is_writer() && index.applied_seq() < store.last_change().await? {
        eprintln!("bringing the search index up to date ...");
    }
    index
        .catch_up(store.as_ref())
        .await
        .context("cannot bring the search index up to date")?;
    // Runs for the life of the process.
    drop(index.follow(
        std::sync::Arc::clone(store),
        std::time::Duration::from_millis(200),
    ));
    Ok(bulletin_web::Options {
        search: Some(index),
        ..bulletin_web::Options::default()
    })
}

/// The newsroom's part of serving: scheduled issues go live from this process
/// too, cookies are `Secure` when the site's address is HTTPS, and on the first
/// run (no staff account yet) a one-time link creates the first admin. With
/// `[smtp]` set, the site sends sign-up confirmations and sign-in links.
async fn newsroom_options(
    store: &std::sync::Arc<dyn bulletin_store::Store>,
    mut options: bulletin_web::Options,
    settings: &Settings,
    local: &str,
) -> Result<bulletin_web::Options> {
    if let Some(smtp) = &settings.smtp {
        let mailer = bulletin_mail::Mailer::new(smtp)?;
        eprintln!(
            "mail (sign-ups, sign-in links, queued newsletters) goes through {}",
            mailer.server()
        );
        options.mailer = Some(mailer);
        // Runs for the life of the process.
        drop(send::spawn_standing_sender(
            std::sync::Arc::clone(store),
            smtp.clone(),
            std::time::Duration::from_secs(5),
        ));
    }
    let publication = store.publication().await?;
    options.sessions.secure_cookies = publication.base_url.starts_with("https://");
    options.setup_token = bulletin_web::first_run_token(store.as_ref()).await?;
    if let Some(token) = &options.setup_token {
        // Printed once, on the operator's terminal; it is not logged.
        println!(
            "first run: open {local}/admin/setup?token={token} to create the first admin account \
             (or run: bulletin user add EMAIL --role admin)"
        );
    }
    // Runs for the life of the process.
    drop(bulletin_web::spawn_scheduler(
        std::sync::Arc::clone(store),
        std::time::Duration::from_secs(5),
    ));
    Ok(options)
}

/// Loads the settings, opens the store and runs `job` on a Tokio runtime.
fn with_store<T>(
    data: &std::path::Path,
    database: Option<String>,
    job: impl AsyncFnOnce(std::sync::Arc<dyn bulletin_store::Store>, &Settings) -> Result<T>,
) -> Result<T> {
    let settings = Settings::load(data, database.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = bulletin_store::open(&settings.database_url)
            .await
            .with_context(|| format!("cannot open the store at {}", settings.database_display()))?;
        job(store, &settings).await
    })
}
