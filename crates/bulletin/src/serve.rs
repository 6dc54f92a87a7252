//! `bulletin serve`: the web site, with the search index followed from the
//! store, the scheduler, and (with `[smtp]`) mail and the standing sender.
//! `bulletin demo` serves through the same [`site_options`] and
//! [`newsroom_options`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bulletin_store::Store;

use crate::config::{self, Settings};
use crate::global::Global;
use crate::{search, send, telemetry};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A folder of templates that replace the default theme's, by name.
    #[arg(long, value_name = "DIR")]
    theme: Option<PathBuf>,
    /// Development: allow mail work ([smtp]) while the site's base_url is
    /// missing or this machine's own, so links in mail lead to this machine.
    #[arg(long)]
    dev: bool,
    /// Apply no migrations: refuse to start on a store whose schema is behind
    /// this release (run `bulletin migrate` first). For upgrading several
    /// instances one at a time.
    #[arg(long)]
    no_migrate: bool,
    /// Serve Prometheus metrics at http://ADDR/metrics, on a listener of
    /// their own (keep it off the public network; port 0 picks one).
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<SocketAddr>,
    /// /readyz answers 503 while the search index is more than N changes
    /// behind the store.
    #[arg(long, value_name = "N", default_value_t = 100)]
    ready_max_lag: u64,
    /// Write /healthz and /readyz requests to the access log too.
    #[arg(long)]
    log_probes: bool,
    #[command(flatten)]
    limits: Limits,
}

/// How long and how many connections the server keeps (see the README).
#[derive(Debug, clap::Args)]
pub struct Limits {
    /// Seconds a client has to send a whole request head (also how long an
    /// idle keep-alive connection stays open).
    #[arg(long, value_name = "SECONDS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    header_timeout: u64,
    /// Seconds without a byte either way after which a connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86400))]
    idle_timeout: u64,
    /// Connections open at once; past it new ones are answered 503 and closed.
    /// Keep it well under the process's open-file limit (`ulimit -n`).
    #[arg(long, value_name = "N", default_value_t = 512, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    max_connections: u64,
    /// A proxy (nginx, a load balancer) whose X-Forwarded-For names the
    /// client, so that throttles count clients, not the proxy. Repeatable.
    #[arg(long, value_name = "IP")]
    trusted_proxy: Vec<std::net::IpAddr>,
}

impl Limits {
    pub fn to_web(&self) -> bulletin_web::ServeLimits {
        bulletin_web::ServeLimits {
            header_read_timeout: Duration::from_secs(self.header_timeout),
            idle_timeout: Duration::from_secs(self.idle_timeout),
            max_connections: usize::try_from(self.max_connections).unwrap_or(usize::MAX),
            trusted_proxies: self.trusted_proxy.clone(),
        }
    }
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let Args {
        addr,
        theme,
        dev,
        no_migrate,
        metrics_addr,
        ready_max_lag,
        log_probes,
        limits,
    } = args;
    let migrations = if no_migrate {
        bulletin_store::Migrations::Require
    } else {
        bulletin_store::Migrations::Run
    };
    global.with_store_migrated(migrations, async |store, settings| {
        if settings.smtp.is_some() && !dev {
            let effective = settings.site.resolve(&store.publication().await?)?;
            if let Some(problem) = config::site::base_url_problem(&effective) {
                bail!(
                    "[smtp] is set, so this site mails links, but {problem}. Set the site's public \
                     address (bulletin site set base_url https://news.example.org, [site] base_url \
                     in bulletin.toml, BULLETIN_BASE_URL or --base-url), or pass --dev to try \
                     mail with links to this machine"
                );
            }
        }
        // A broken theme stops start-up with the template's file and line.
        let theme = bulletin_web::Theme::load(theme.as_deref())?;
        let mut options = site_options(&store, &global.data).await?;
        options.ready_max_lag = ready_max_lag;
        options.log_probes = log_probes;
        if let Some(metrics_addr) = metrics_addr {
            let local =
                telemetry::serve(metrics_addr, Arc::clone(&store), options.search.clone()).await?;
            eprintln!("metrics at http://{local}/metrics");
        }
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let options =
            newsroom_options(&store, options, settings, &format!("http://{local}")).await?;
        eprintln!("bulletin is serving http://{local}/ (Ctrl-C to stop)");
        bulletin_web::serve_with(listener, store, theme, options, limits.to_web()).await?;
        eprintln!("bulletin stopped");
        Ok(ExitCode::SUCCESS)
    })
}

/// The site's options: the search index of the data directory, caught up with
/// the store before the first request and followed from then on.
pub async fn site_options(store: &Arc<dyn Store>, data: &Path) -> Result<bulletin_web::Options> {
    let index = search::open(data)?;
    if index.is_writer() && index.applied_seq() < store.last_change().await? {
        eprintln!("bringing the search index up to date ...");
    }
    index
        .catch_up(store.as_ref())
        .await
        .context("cannot bring the search index up to date")?;
    // Runs for the life of the process.
    drop(index.follow(Arc::clone(store), Duration::from_millis(200)));
    Ok(bulletin_web::Options {
        search: Some(index),
        ..bulletin_web::Options::default()
    })
}

/// The newsroom's part of serving: scheduled issues go live from this process
/// too, cookies are `Secure` when the site's address is HTTPS, and on the first
/// run (no staff account yet) a one-time link creates the first admin. With
/// `[smtp]` set, the site sends sign-up confirmations and sign-in links, and
/// works the newsletter queue.
pub async fn newsroom_options(
    store: &Arc<dyn Store>,
    mut options: bulletin_web::Options,
    settings: &Settings,
    local: &str,
) -> Result<bulletin_web::Options> {
    let publication = store.publication().await?;
    if let Some(smtp) = &settings.smtp_for(&publication) {
        let mailer = bulletin_mail::Mailer::new(smtp)?;
        eprintln!(
            "mail (sign-ups, sign-in links, queued newsletters) goes through {}",
            mailer.server()
        );
        // Reader mail the site queues goes out from here, at once when the
        // site says it queued some. Runs for the life of the process.
        drop(tokio::spawn(
            bulletin_mail::sender::keep_delivering_notices(
                Arc::clone(store),
                mailer.clone(),
                Arc::clone(&options.mail_queued),
                Duration::from_secs(5),
                |e| eprintln!("reader mail: cannot read the queue: {e}"),
            ),
        ));
        options.mailer = Some(mailer);
        // Runs for the life of the process.
        drop(send::spawn_standing_sender(
            Arc::clone(store),
            smtp.clone(),
            Duration::from_secs(5),
        ));
    }
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
        Arc::clone(store),
        Duration::from_secs(5),
    ));
    Ok(options)
}
