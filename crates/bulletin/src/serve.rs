//! `bulletin serve`: the web site, with the search index followed from the
//! store, the scheduler, and (with `[smtp]`) mail and the standing sender.
//! `bulletin demo` serves through the same [`site_options`] and
//! [`newsroom_options`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bulletin_store::Store;

use crate::config::Settings;
use crate::global::Global;
use crate::{search, send};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// A folder of templates that replace the default theme's, by name.
    #[arg(long, value_name = "DIR")]
    theme: Option<PathBuf>,
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    let Args { addr, theme } = args;
    global.with_store(async |store, settings| {
        // A broken theme stops start-up with the template's file and line.
        let theme = bulletin_web::Theme::load(theme.as_deref())?;
        let options = site_options(&store, &global.data).await?;
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
    if let Some(smtp) = &settings.smtp {
        let mailer = bulletin_mail::Mailer::new(smtp)?;
        eprintln!(
            "mail (sign-ups, sign-in links, queued newsletters) goes through {}",
            mailer.server()
        );
        options.mailer = Some(mailer);
        // Runs for the life of the process.
        drop(send::spawn_standing_sender(
            Arc::clone(store),
            smtp.clone(),
            Duration::from_secs(5),
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
        Arc::clone(store),
        Duration::from_secs(5),
    ));
    Ok(options)
}
