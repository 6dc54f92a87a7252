//! `bulletin send ISSUE`: the newsletter, from the durable queue to the SMTP
//! server, by the engine in `bulletin_mail::sender` (queueing, claims,
//! workers, rate limit, retries, recorded outcomes: see there). This module
//! loads the issue, checks it can be sent, and words what the engine reports:
//! a progress bar, the failures and retries one by one (the first
//! [`SHOW`]), and the summary.
//!
//! `--dry-run` renders and builds every message that would be sent, writing
//! nothing (a throwaway signing key, the queue only read), and prints the
//! counts and bytes. `--to ADDRESS` sends one copy (paid, or `--as free`) to
//! one address, for any issue (a draft too), through the queue's checks but
//! not through the queue. Ctrl-C stops after the messages in flight.
//!
//! The SMTP server is only ever shown as `Mailer::server()`, without its
//! password; SMTP errors are printed with the address they concern.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use bulletin_core::{Issue, IssueStatus};
use bulletin_mail::links::{TOKEN_SECRET, nonce, secret_candidate};
use bulletin_mail::sender::{self, Edition, Event, Mailing, Report, SendError, Started, Tally};
use bulletin_mail::{Mailer, Reader};
use bulletin_store::{SendProgress, Store};

use crate::config::Settings;
use crate::global::Global;
use crate::progress::Progress;

/// Failures, retries and warnings printed one by one before only counting.
const SHOW: u64 = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
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
    /// Run the queue's clock this many seconds ahead of the system's (tests
    /// move time with it instead of waiting for a retry to come due).
    #[arg(long, default_value_t = 0, hide = true,
          value_parser = clap::value_parser!(i64).range(0..=31_622_400))]
    clock_ahead_seconds: i64,
}

/// The copy a test send (`--to`) gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum CopyFor {
    Free,
    Paid,
}

impl CopyFor {
    fn reader(self) -> Reader {
        match self {
            CopyFor::Free => Reader::Free,
            CopyFor::Paid => Reader::Paid,
        }
    }
}

pub fn run(args: Args, global: &Global) -> Result<ExitCode> {
    global.with_store(async |store, settings| start(store, settings, args).await)
}

async fn start(store: Arc<dyn Store>, settings: &Settings, args: Args) -> Result<ExitCode> {
    let Some(smtp) = &settings.smtp else {
        bail!(
            "cannot send: no SMTP server is configured. Add an [smtp] table to {} \
             (url = \"smtp://HOST:PORT\", from = \"news@example.org\"; see the README)",
            settings.data_dir.join("bulletin.toml").display()
        );
    };
    let publication = store.publication().await?;
    let mailer = Mailer::new(&smtp.named(publication.sender()))
        .context("[smtp] in bulletin.toml is not usable")?;
    let n = args.issue;
    let Some(issue) = store.issue(n).await? else {
        bail!("there is no issue {n}");
    };
    if args.to.is_none() && issue.status != IssueStatus::Published {
        bail!(
            "issue {n} is {}: publish it before sending it (a test send to one address, \
             --to ADDRESS, works for an issue in any state)",
            issue.status.as_str()
        );
    }
    let edition = load(store.as_ref(), issue).await?;
    if edition.stories.is_empty() {
        bail!("issue {n} has no stories: there is nothing to send");
    }

    if !args.dry_run {
        links_reach_readers(&mailer, &edition.publication)?;
    }
    if let Some(to) = &args.to {
        let secret = site_secret(store.as_ref()).await?;
        let reader = args.as_plan.reader();
        return test_send(&Mailing::new(mailer, edition, secret), to, reader).await;
    }
    if args.dry_run {
        // A throwaway key: the links are never sent, and nothing is written.
        let mailing = Mailing::new(mailer, edition, secret_candidate()?);
        return dry_run(store.as_ref(), &mailing).await;
    }
    // A message that cannot be built for anyone (a base URL that cannot carry
    // one-click unsubscribe, a bad List-Id) stops here, before anything is
    // queued or any address is marked.
    let mailing = checked(mailer, edition, site_secret(store.as_ref()).await?)?;
    let engine = sender::Options {
        queue: true,
        workers: usize::from(args.workers),
        lease: args.lease_seconds,
        retry_base: args.retry_seconds,
        clock: sender::QueueClock {
            ahead: args.clock_ahead_seconds,
        },
    };
    send(store, mailing, &engine).await
}

/// The lease a standing sender claims under: `bulletin send`'s default, so
/// the two can share one queue.
const STANDING_LEASE: i64 = 120;

/// The standing sender of `bulletin serve` with `[smtp]`: every `every`, each
/// issue with rows due is worked as `bulletin send` works it, except that it
/// queues nothing itself (the newsroom's "Send the newsletter" button and
/// `bulletin send` do). Several instances on one PostgreSQL share the queue as
/// several `bulletin send` runs do. Runs for the life of the process.
pub fn spawn_standing_sender(
    store: Arc<dyn Store>,
    smtp: bulletin_mail::SmtpSettings,
    every: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let due = match store.issues_with_due_sends(now(), STANDING_LEASE).await {
                Ok(due) => due,
                Err(e) => {
                    eprintln!("newsletter: cannot read the send queue: {e}");
                    continue;
                }
            };
            for n in due {
                if let Err(e) = work_issue(Arc::clone(&store), &smtp, n).await {
                    eprintln!("newsletter: sending issue {n} stopped: {e:#}");
                }
            }
        }
    })
}

/// Sends what is due of issue `n`'s queue.
async fn work_issue(
    store: Arc<dyn Store>,
    smtp: &bulletin_mail::SmtpSettings,
    n: u32,
) -> Result<()> {
    let Some(issue) = store.issue(n).await? else {
        bail!("issue {n} has queued messages but no longer exists");
    };
    // Unpublished after it was queued: what is left waits until it is
    // published again (the public copy is what subscribers get).
    if issue.status != IssueStatus::Published {
        bail!(
            "issue {n} is {} now: its queued messages wait",
            issue.status.as_str()
        );
    }
    let edition = load(store.as_ref(), issue).await?;
    let mailer = Mailer::new(&smtp.named(edition.publication.sender()))
        .context("[smtp] in bulletin.toml is not usable")?;
    links_reach_readers(&mailer, &edition.publication)?;
    let mailing = checked(mailer, edition, site_secret(store.as_ref()).await?)?;
    let engine = sender::Options {
        queue: false,
        workers: 4,
        lease: STANDING_LEASE,
        retry_base: 60,
        clock: sender::QueueClock::default(),
    };
    send(store, mailing, &engine).await?;
    Ok(())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn time(t: i64) -> String {
    jiff::Timestamp::from_second(t).map_or_else(|_| t.to_string(), |t| t.to_string())
}

/// The site secret that signs every link.
pub(crate) async fn site_secret(store: &dyn Store) -> Result<String> {
    Ok(store
        .site_secret(TOKEN_SECRET, &secret_candidate()?, now())
        .await?)
}

/// A published issue's public stories; for an issue not yet published (a
/// test send), the stories the newsroom has in it, drafts included.
async fn load(store: &dyn Store, mut issue: Issue) -> Result<Edition> {
    let publication = store.publication().await?;
    let mut stories = Vec::new();
    if issue.status == IssueStatus::Published {
        for slug in &issue.stories {
            if let Some(story) = store.story(slug).await? {
                stories.push(story);
            }
        }
    } else if let Some(desk) = store.issue_desk(issue.number).await? {
        for entry in &desk.stories {
            if let Some(story) = store.desk_story(&entry.slug).await? {
                stories.push(story.story);
            }
        }
    }
    issue.stories = stories.iter().map(|s| s.slug.clone()).collect();
    Ok(Edition {
        publication,
        issue,
        stories,
    })
}

/// Refuses to mail links to this machine (a loopback `base_url`) anywhere
/// but to this machine: readers elsewhere would get links that lead nowhere.
fn links_reach_readers(mailer: &Mailer, publication: &bulletin_core::Publication) -> Result<()> {
    if publication.base_url_is_loopback() && !mailer.is_loopback() {
        bail!(
            "the site's base_url is {}, this machine's own address, so every link in the mail \
             would lead nowhere for its readers; set the public address (bulletin site set \
             base_url https://news.example.org, [site] base_url in bulletin.toml, \
             BULLETIN_BASE_URL or --base-url). Nothing was sent or queued",
            publication.base_url
        );
    }
    Ok(())
}

/// The mailing, once one message for a made-up recipient could be built:
/// whatever fails there would fail for every recipient.
fn checked(mailer: Mailer, edition: Edition, secret: String) -> Result<Mailing> {
    let mailing = Mailing::new(mailer, edition, secret);
    mailing.check().with_context(|| {
        format!(
            "issue {} cannot be sent with these settings (publication base_url {:?}); \
             nothing was queued",
            mailing.issue(),
            mailing.edition.publication.base_url
        )
    })?;
    Ok(mailing)
}

// ---------------------------------------------------------------- --to

async fn test_send(mailing: &Mailing, to: &str, reader: Reader) -> Result<ExitCode> {
    let message = mailing
        .test_message(to, reader, &format!("test-{}", nonce()?))
        .with_context(|| format!("cannot build the test message to {to:?}"))?;
    let copy = match reader {
        Reader::Paid => "paid",
        Reader::Free => "free",
    };
    let (issue, server) = (&mailing.edition.issue, mailing.mailer.server());
    // The error in words, without its chain: lettre's repeats it.
    mailing.mailer.send(message).await.map_err(|e| {
        anyhow::anyhow!(
            "the test send of issue {} to {to} through {server} failed: {e}",
            issue.number
        )
    })?;
    eprintln!(
        "sent issue {} ({}, the {copy} subscribers' copy) to {to} through {server}; \
         not queued, not recorded",
        issue.number,
        issue.status.as_str(),
    );
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- --dry-run

async fn dry_run(store: &dyn Store, mailing: &Mailing) -> Result<ExitCode> {
    let n = mailing.issue();
    let preview = sender::preview(store, mailing, SHOW as usize).await?;
    for (email, e) in &preview.failures {
        eprintln!("would fail: {email}: {e}");
    }
    let (free, paid, bytes) = (preview.free, preview.paid, preview.bytes);
    let total = free + paid;
    eprintln!(
        "dry run: issue {n} would go to {total} subscribers ({free} free, {paid} paid){}: \
         {bytes} bytes rendered ({} a message) in {:.2}s; nothing was sent or written",
        if preview.unsendable > 0 {
            format!(
                ", and {} addresses could not be sent to",
                preview.unsendable
            )
        } else {
            String::new()
        },
        bytes.checked_div(total).unwrap_or(0),
        preview.elapsed.as_secs_f64()
    );
    let done = preview.queue;
    if done.sent + done.failed > 0 {
        eprintln!(
            "already done for issue {n}: {} sent, {} failed",
            done.sent, done.failed
        );
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- sending

/// Runs the engine with a progress bar until the queue is done, Ctrl-C or
/// SIGTERM, and prints how it ended.
async fn send(
    store: Arc<dyn Store>,
    mailing: Mailing,
    options: &sender::Options,
) -> Result<ExitCode> {
    let n = mailing.issue();
    let report = sender::run(
        store,
        Arc::new(mailing),
        options,
        Arc::new(Bar::default()),
        stop_signal(),
    )
    .await
    .map_err(|e| match e {
        SendError::Refused(why) => anyhow::anyhow!(why),
        other => anyhow::Error::new(other),
    })?;
    finish(n, report)
}

/// The summary lines, then the error or the interruption, if any.
fn finish(n: u32, report: Report) -> Result<ExitCode> {
    let Report {
        queue,
        sent,
        failed,
        fenced,
        elapsed,
        server,
        released,
        stopped,
        interrupted,
        ..
    } = report;
    let elapsed = elapsed.as_secs_f64();
    eprintln!("{}", summary(n, &queue));
    eprintln!(
        "this run: {sent} sent, {failed} failed in {elapsed:.1}s ({:.0} messages/s) through \
         {server}",
        sent as f64 / elapsed.max(0.001),
    );
    if fenced > 0 {
        eprintln!(
            "warning: {fenced} results came after this sender's claim had passed to another; \
             those messages may have been sent twice (is another sender using a shorter lease?)"
        );
    }
    let released = released.context("cannot give unsent messages back to the queue")?;
    if let Some(why) = stopped {
        bail!(
            "{why}\nstopped: {released} messages went back to the queue; run `bulletin send {n}` \
             again to continue"
        );
    }
    if interrupted {
        eprintln!(
            "interrupted: {released} messages went back to the queue; run `bulletin send {n}` \
             again to continue"
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// `issue N: X sent, Y failed, Z waiting to retry (next at ...)`.
fn summary(n: u32, p: &SendProgress) -> String {
    let mut line = format!(
        "issue {n}: {} sent, {} failed, {} waiting to retry",
        p.sent, p.failed, p.queued
    );
    if p.queued > 0 {
        match p.next_retry_at {
            Some(t) => line.push_str(&format!(
                " (next at {}; run `bulletin send {n}` again after then to send them)",
                time(t)
            )),
            None => line.push_str(&format!(" (run `bulletin send {n}` again to send them)")),
        }
    }
    if p.sending > 0 {
        line.push_str(&format!(", {} claimed by another sender", p.sending));
    }
    line
}

/// What a run shows on the terminal: the start line, a bar (plain lines
/// without a terminal), and the first [`SHOW`] failures, retries and
/// warnings.
#[derive(Default)]
struct Bar {
    bar: OnceLock<Progress>,
}

impl Bar {
    fn println(&self, line: &str) {
        match self.bar.get() {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl sender::Progress for Bar {
    fn started(&self, s: &Started<'_>) {
        eprintln!(
            "issue {}: {} recipients queued now (in {:.2}s), {} to send ({} sent before); \
             through {} at most {}/s over {} connections",
            s.issue,
            s.added,
            s.queueing.as_secs_f64(),
            s.to_send,
            s.sent_before,
            s.server,
            s.per_second,
            s.workers
        );
        let _ = self
            .bar
            .set(Progress::counter(&format!("issue {}", s.issue), s.total));
    }

    fn tally(&self, t: &Tally) {
        if let Some(bar) = self.bar.get() {
            bar.set_count(
                t.done,
                t.total,
                &format!(
                    "{} sent, {} failed, {} retrying",
                    t.sent, t.failed, t.retrying
                ),
            );
        }
    }

    fn event(&self, event: &Event<'_>) {
        match *event {
            Event::Failed { email, error, nth } if nth <= SHOW => {
                self.println(&format!("failed: {email}: {error} (marked bounced)"));
            }
            Event::Retrying {
                email,
                error,
                retry_at,
                nth,
            } if nth <= SHOW => {
                self.println(&format!(
                    "will retry at {}: {email}: {error}",
                    time(retry_at)
                ));
            }
            Event::Fenced { email, lease, nth } if nth <= SHOW => {
                self.println(&format!(
                    "warning: {email} was handled after this sender's claim had passed to \
                     another (lease {} s): it may have been sent twice",
                    lease.as_secs()
                ));
            }
            Event::WaitingForOthers { claimed, lease } => {
                self.println(&format!(
                    "{claimed} messages are claimed by another sender (or one that stopped); \
                     waiting for them, at most the lease ({lease} s)"
                ));
            }
            _ => {}
        }
    }

    fn finished(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish();
        }
    }
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
