//! `bulletin send ISSUE`: the newsletter, from the durable queue to the SMTP
//! server.
//!
//! **Queue.** The issue is queued first (`Outbox::queue_issue`: one row per
//! active subscriber not queued yet, refused unless the issue is published), so
//! running the command again resumes where it stopped and adds only those who
//! subscribed since. Each row carries the subscriber's plan as it was at
//! queueing and a Message-ID key fixed then.
//!
//! **Claim, send, record.** The main task claims a few rows at a time for this
//! process (`claim_issue_sends`, worker id `host:pid:random`, lease 120 s) and
//! hands them to `--workers` tasks (default 4). A worker renders the issue for
//! the row's reader (free or paid: the one access rule decides what each
//! sees) with the recipient's own signed links, builds the message under the
//! row's fixed Message-ID, waits for the rate limit (`smtp.per_second` over all
//! workers), sends it, and waits until the outcome is recorded before taking
//! another row. One recorder task writes what the workers finished meanwhile in
//! one transaction (`record_sends`), each row fenced by this process's claim.
//!
//! **The window.** The SMTP server's "250" and the database write cannot be
//! one transaction. A crash between them leaves the row claimed (`sending`); it
//! is claimed again once the lease has passed and sent again, as the same
//! message (same Message-ID), which receiving systems can recognise as a
//! duplicate. Because every worker holds at most one message between send and
//! record, a crash re-sends at most one message per worker of the crashed
//! process. A claimed row that has waited longer than half the lease before
//! its turn is given back unsent, so no row is sent while another sender may
//! already have taken it over. All senders on one queue should use the same
//! lease.
//!
//! **Outcomes.** 2xx: sent. 4xx answers for the recipient: tried again with
//! exponential backoff (1 min, 2, 4 ... at most 6 h), given up after 8
//! attempts (then failed). A 5xx that is about the recipient (550, 551, 553,
//! or an enhanced code 5.1.x or 5.2.x): failed, and the store marks the
//! subscriber bounced. Anything else says the server or the settings are at
//! fault, not the address, and nobody is marked: a session that cannot be
//! opened (connection refused, TLS or AUTH refused) gives the row back
//! untried; a 421, a dropped connection or a timeout during the transaction
//! (the message may have arrived) retries the row with backoff; three of
//! these in a row stop the run, and so does at once a 5xx of another kind
//! (the row is retried later). Rows claimed but not tried go back to the
//! queue, due at once, their attempt not counted.
//!
//! **Ending.** The run ends when nothing is due and no row is claimed by
//! another sender (it waits for those, at most their lease). Rows waiting for a
//! retry are reported with the time of the first; running the command again
//! after then sends them. Ctrl-C stops after the messages in flight.
//!
//! `--dry-run` renders and builds every message that would be sent, writing
//! nothing (a throwaway signing key, the queue only read), and prints the
//! counts and bytes. `--to ADDRESS` sends one copy (paid, or `--as free`) to
//! one address, for any issue (a draft too), through the queue's checks but
//! not through the queue.
//!
//! The SMTP server is only ever shown as `Mailer::server()`, without its
//! password; SMTP errors are printed with the address they concern.

use std::collections::VecDeque;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bulletin_core::subscriber::Plan;
use bulletin_core::{Issue, IssueStatus, Publication, Story};
use bulletin_mail::links::{
    TOKEN_SECRET, default_list_id, nonce, recipient_links, secret_candidate,
};
use bulletin_mail::{Connection, MailError, Mailer, Newsletter, Reader, message, render};
use bulletin_store::{SendJob, SendOutcome, SendProgress, Store, StoreError};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::config::Settings;
use crate::progress::Progress;

/// Attempts before a row that keeps getting 4xx answers is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// The longest wait between two attempts.
const MAX_BACKOFF: i64 = 6 * 3600;
/// Connection failures or timeouts in a row that stop the run.
const TROUBLE_IN_A_ROW: u32 = 3;
/// Failures and retries printed one by one before only counting.
const SHOW: u64 = 20;
/// Outcomes written in one transaction, at most.
const RECORD_BATCH: usize = 256;

/// What `bulletin send` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub issue: u32,
    pub dry_run: bool,
    pub to: Option<String>,
    /// The copy a test send (`--to`) gets.
    pub reader: Reader,
    pub workers: usize,
    /// Seconds a claim holds before another sender may take the row over.
    pub lease: i64,
    /// Seconds before the first retry; doubled for each further one.
    pub retry_base: i64,
}

pub async fn run(store: Arc<dyn Store>, settings: &Settings, options: Options) -> Result<ExitCode> {
    let Some(smtp) = &settings.smtp else {
        bail!(
            "cannot send: no SMTP server is configured. Add an [smtp] table to {} \
             (url = \"smtp://HOST:PORT\", from = \"news@example.org\"; see the README)",
            settings.data_dir.join("bulletin.toml").display()
        );
    };
    let mailer = Mailer::new(smtp).context("[smtp] in bulletin.toml is not usable")?;
    let n = options.issue;
    let Some(issue) = store.issue(n).await? else {
        bail!("there is no issue {n}");
    };
    if options.to.is_none() && issue.status != IssueStatus::Published {
        bail!(
            "issue {n} is {}: publish it before sending it (a test send to one address, \
             --to ADDRESS, works for an issue in any state)",
            issue.status.as_str()
        );
    }
    let edition = Edition::load(store.as_ref(), issue).await?;
    if edition.stories.is_empty() {
        bail!("issue {n} has no stories: there is nothing to send");
    }
    let list_id = mailer.list_id().map_or_else(
        || default_list_id(&edition.publication.base_url),
        str::to_owned,
    );

    if let Some(to) = &options.to {
        return test_send(
            store.as_ref(),
            &mailer,
            &edition,
            &list_id,
            to,
            options.reader,
        )
        .await;
    }
    if options.dry_run {
        return dry_run(store.as_ref(), &mailer, &edition, &list_id).await;
    }
    // A message that cannot be built for anyone (a base URL that cannot carry
    // one-click unsubscribe, a bad List-Id) stops here, before anything is
    // queued or any address is marked.
    let secret = store
        .site_secret(TOKEN_SECRET, &secret_candidate()?, now())
        .await?;
    check_settings(&mailer, &edition, &list_id, &secret)?;
    send(store, mailer, edition, list_id, secret, &options, true).await
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
    let mailer = Mailer::new(smtp).context("[smtp] in bulletin.toml is not usable")?;
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
    let edition = Edition::load(store.as_ref(), issue).await?;
    let list_id = mailer.list_id().map_or_else(
        || default_list_id(&edition.publication.base_url),
        str::to_owned,
    );
    let secret = store
        .site_secret(TOKEN_SECRET, &secret_candidate()?, now())
        .await?;
    check_settings(&mailer, &edition, &list_id, &secret)?;
    let options = Options {
        issue: n,
        dry_run: false,
        to: None,
        reader: Reader::Paid,
        workers: 4,
        lease: STANDING_LEASE,
        retry_base: 60,
    };
    send(store, mailer, edition, list_id, secret, &options, false).await?;
    Ok(())
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

fn time(t: i64) -> String {
    jiff::Timestamp::from_second(t).map_or_else(|_| t.to_string(), |t| t.to_string())
}

/// The issue with its stories, in issue order.
struct Edition {
    publication: Publication,
    issue: Issue,
    stories: Vec<Story>,
}

impl Edition {
    /// A published issue's public stories; for an issue not yet published
    /// (a test send), the stories the newsroom has in it, drafts included.
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

    fn newsletter(&self) -> Newsletter<'_> {
        Newsletter {
            publication: &self.publication,
            issue: &self.issue,
            stories: &self.stories,
        }
    }

    /// One recipient's message: their links, their copy, the fixed Message-ID.
    fn message(
        &self,
        mailer: &Mailer,
        list_id: &str,
        secret: &str,
        job: &SendJob,
    ) -> Result<bulletin_mail::lettre::Message, MailError> {
        let links = recipient_links(
            &self.publication.base_url,
            secret.as_bytes(),
            &job.email,
            &job.message_key,
        );
        let rendered = render(&self.newsletter(), reader_of(job.plan), &links);
        let name = Some(job.name.as_str()).filter(|n| !n.trim().is_empty());
        message(
            &rendered,
            mailer.from(),
            &job.email,
            name,
            &links,
            list_id,
            Some(&job.message_key),
        )
    }
}

fn reader_of(plan: Plan) -> Reader {
    match plan {
        Plan::Paid => Reader::Paid,
        Plan::Free => Reader::Free,
    }
}

/// Builds one message for a made-up recipient: whatever fails here would fail
/// for every recipient.
fn check_settings(mailer: &Mailer, edition: &Edition, list_id: &str, secret: &str) -> Result<()> {
    let probe = SendJob {
        id: 0,
        issue: edition.issue.number,
        subscriber_id: 0,
        email: "reader@example.org".into(),
        name: String::new(),
        plan: Plan::Paid,
        message_key: format!("issue-{}-0", edition.issue.number),
        attempt: 1,
    };
    edition
        .message(mailer, list_id, secret, &probe)
        .map(drop)
        .with_context(|| {
            format!(
                "issue {} cannot be sent with these settings (publication base_url {:?}); \
                 nothing was queued",
                edition.issue.number, edition.publication.base_url
            )
        })
}

// ---------------------------------------------------------------- --to

async fn test_send(
    store: &dyn Store,
    mailer: &Mailer,
    edition: &Edition,
    list_id: &str,
    to: &str,
    reader: Reader,
) -> Result<ExitCode> {
    let secret = store
        .site_secret(TOKEN_SECRET, &secret_candidate()?, now())
        .await?;
    let links = recipient_links(
        &edition.publication.base_url,
        secret.as_bytes(),
        to,
        &format!("test-{}", nonce()?),
    );
    let rendered = render(&edition.newsletter(), reader, &links);
    let message = message(&rendered, mailer.from(), to, None, &links, list_id, None)
        .with_context(|| format!("cannot build the test message to {to:?}"))?;
    let copy = match reader {
        Reader::Paid => "paid",
        Reader::Free => "free",
    };
    // The error in words, without its chain: lettre's repeats it.
    mailer.send(message).await.map_err(|e| {
        anyhow::anyhow!(
            "the test send of issue {} to {to} through {} failed: {e}",
            edition.issue.number,
            mailer.server()
        )
    })?;
    eprintln!(
        "sent issue {} ({}, the {copy} subscribers' copy) to {to} through {}; \
         not queued, not recorded",
        edition.issue.number,
        edition.issue.status.as_str(),
        mailer.server()
    );
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- --dry-run

async fn dry_run(
    store: &dyn Store,
    mailer: &Mailer,
    edition: &Edition,
    list_id: &str,
) -> Result<ExitCode> {
    let started = Instant::now();
    let n = edition.issue.number;
    // A throwaway key: the links are never sent, and nothing is written.
    let secret = secret_candidate()?;
    let (mut free, mut paid, mut bytes, mut unsendable) = (0u64, 0u64, 0u64, 0u64);
    let mut after = 0;
    loop {
        let page = store.preview_sends(n, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.subscriber_id;
        for job in &page {
            match edition.message(mailer, list_id, &secret, job) {
                Ok(m) => {
                    bytes += m.formatted().len() as u64;
                    match job.plan {
                        Plan::Free => free += 1,
                        Plan::Paid => paid += 1,
                    }
                }
                Err(e) => {
                    unsendable += 1;
                    if unsendable <= SHOW {
                        eprintln!("would fail: {}: {e}", job.email);
                    }
                }
            }
        }
    }
    let done = store.send_progress(n).await?;
    let total = free + paid;
    eprintln!(
        "dry run: issue {n} would go to {total} subscribers ({free} free, {paid} paid){}: \
         {bytes} bytes rendered ({} a message) in {:.2}s; nothing was sent or written",
        if unsendable > 0 {
            format!(", and {unsendable} addresses could not be sent to")
        } else {
            String::new()
        },
        bytes.checked_div(total).unwrap_or(0),
        started.elapsed().as_secs_f64()
    );
    if done.sent + done.failed > 0 {
        eprintln!(
            "already done for issue {n}: {} sent, {} failed",
            done.sent, done.failed
        );
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- sending

/// Spaces sends `1/per_second` apart over all workers.
struct Limiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Limiter {
    fn new(per_second: u32) -> Limiter {
        Limiter {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    async fn wait(&self) {
        let at = {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let at = (*next).max(Instant::now());
            *next = at + self.interval;
            at
        };
        tokio::time::sleep_until(at.into()).await;
    }
}

/// A claimed row and when the claim was made.
struct Claimed {
    job: SendJob,
    at: Instant,
}

/// One outcome for the recorder, and where to say whether it was written.
struct Record {
    id: i64,
    outcome: SendOutcome,
    done: oneshot::Sender<Result<bool, String>>,
}

/// What one attempt came to.
enum Attempt {
    Sent,
    /// A permanent refusal of this recipient: failed, marked bounced.
    Bounced(String),
    /// A temporary refusal of this recipient: retry with backoff.
    Later(String),
    /// The server or the network failed (connection, timeout, 421): retry
    /// with backoff; several in a row stop the run.
    Trouble(String),
    /// The server refused in a way that is not about the recipient: retry
    /// with backoff, and stop the run at once.
    Refused(String),
    /// The message could not be built for a reason that is not the
    /// recipient's: not tried; stop the run.
    Unbuildable(String),
    /// Not tried: the claim grew too old before its turn.
    Stale,
    /// Not tried: no session with the server could be opened (connection
    /// refused, TLS or AUTH failed). The row goes back; several in a row stop
    /// the run.
    Unreachable(String),
}

/// How handing one message to the server went.
enum Delivery {
    Sent,
    Stale,
    /// The session could not be opened: nothing was sent.
    NoSession(MailError),
    /// The transaction failed: the message may or may not have arrived.
    Failed(MailError),
}

/// Everything the workers share.
struct Run {
    mailer: Mailer,
    edition: Edition,
    list_id: String,
    secret: String,
    lease: Duration,
    retry_base: i64,
    limiter: Limiter,
    recorder: mpsc::Sender<Record>,
    progress: Progress,
    /// Rows of the issue at the start, and done (sent or failed) before it.
    total: AtomicU64,
    done_before: u64,
    sent: AtomicU64,
    failed: AtomicU64,
    retrying: AtomicU64,
    /// Results recorded after this process's claim had passed to another.
    fenced: AtomicU64,
    /// Claimed and not yet recorded or given back.
    outstanding: AtomicUsize,
    finished: Notify,
    trouble_in_a_row: AtomicU32,
    stop: AtomicBool,
    error: Mutex<Option<String>>,
    given_back: Mutex<Vec<i64>>,
}

impl Run {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Stops the run with `why` (the first reason is kept).
    fn fail(&self, why: String) {
        if let Ok(mut error) = self.error.lock()
            && error.is_none()
        {
            *error = Some(why);
        }
        self.stop.store(true, Ordering::SeqCst);
        self.finished.notify_one();
    }

    fn show(&self) {
        let sent = self.sent.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        let retrying = self.retrying.load(Ordering::Relaxed);
        self.progress.set_count(
            self.done_before + sent + failed,
            self.total.load(Ordering::Relaxed),
            &format!("{sent} sent, {failed} failed, {retrying} retrying"),
        );
    }

    fn note(&self, count: &AtomicU64, line: String) {
        if count.load(Ordering::Relaxed) <= SHOW {
            self.progress.println(&line);
        }
    }

    fn give_back(&self, id: i64) {
        if let Ok(mut ids) = self.given_back.lock() {
            ids.push(id);
        }
        self.done_one();
    }

    fn take_given_back(&self) -> Vec<i64> {
        self.given_back
            .lock()
            .map(|mut ids| std::mem::take(&mut *ids))
            .unwrap_or_default()
    }

    fn done_one(&self) {
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
        self.finished.notify_one();
    }

    fn backoff(&self, attempt: u32) -> i64 {
        let shift = attempt.saturating_sub(1).min(20);
        self.retry_base
            .saturating_mul(1i64 << shift)
            .clamp(0, MAX_BACKOFF)
    }

    async fn attempt(
        &self,
        connection: &mut Option<Connection>,
        claimed_at: Instant,
        job: &SendJob,
    ) -> Attempt {
        let message = match self
            .edition
            .message(&self.mailer, &self.list_id, &self.secret, job)
        {
            Ok(m) => m,
            Err(e) if recipients_fault(&e) => return Attempt::Bounced(e.to_string()),
            Err(e) => return Attempt::Unbuildable(e.to_string()),
        };
        self.limiter.wait().await;
        match self.deliver(connection, claimed_at, &message).await {
            Delivery::Sent => Attempt::Sent,
            Delivery::Stale => Attempt::Stale,
            Delivery::NoSession(e) => Attempt::Unreachable(e.to_string()),
            Delivery::Failed(MailError::Smtp(e)) => classify(&e),
            Delivery::Failed(e @ MailError::Timeout { .. }) => Attempt::Trouble(e.to_string()),
            Delivery::Failed(e) => Attempt::Unbuildable(e.to_string()),
        }
    }

    /// Sends through this worker's session, opening one when it has none (or
    /// the server closed it); after an error the session is dropped.
    async fn deliver(
        &self,
        connection: &mut Option<Connection>,
        claimed_at: Instant,
        message: &bulletin_mail::lettre::Message,
    ) -> Delivery {
        if let Some(open) = connection.as_mut()
            && !open.is_open().await
        {
            *connection = None;
        }
        let open = match connection {
            Some(open) => open,
            None => match self.mailer.connect().await {
                Ok(open) => connection.insert(open),
                Err(e) => return Delivery::NoSession(e),
            },
        };
        // The last moment to give the row back: once the transaction starts,
        // it must end (or time out) before another sender may take the row.
        if !self.fresh(claimed_at) {
            return Delivery::Stale;
        }
        match open.send(message).await {
            Ok(()) => Delivery::Sent,
            Err(e) => {
                *connection = None;
                Delivery::Failed(e)
            }
        }
    }

    /// Is a claim made at `at` young enough to send under? Past half the
    /// lease, another sender could take the row over while we send it.
    fn fresh(&self, at: Instant) -> bool {
        at.elapsed() <= self.lease / 2
    }

    /// Sends one claimed row and has its outcome recorded.
    async fn handle(
        &self,
        connection: &mut Option<Connection>,
        claimed: Claimed,
    ) -> Result<(), String> {
        let job = claimed.job;
        // Too old a claim could be taken over by another sender while we
        // send: give it back rather than risk sending it twice.
        if self.stopped() || !self.fresh(claimed.at) {
            self.give_back(job.id);
            return Ok(());
        }
        let attempt = self.attempt(connection, claimed.at, &job).await;
        let retry_at = now() + self.backoff(job.attempt);
        let outcome = match &attempt {
            Attempt::Sent => SendOutcome::Sent,
            Attempt::Bounced(error) => SendOutcome::Failed {
                error: error.clone(),
            },
            Attempt::Later(error) if job.attempt >= MAX_ATTEMPTS => SendOutcome::Failed {
                error: format!("gave up after {} attempts: {error}", job.attempt),
            },
            Attempt::Later(error) | Attempt::Trouble(error) | Attempt::Refused(error) => {
                SendOutcome::Retry {
                    error: error.clone(),
                    retry_at,
                }
            }
            Attempt::Stale => {
                self.give_back(job.id);
                return Ok(());
            }
            Attempt::Unreachable(error) => {
                self.give_back(job.id);
                let n = self.trouble_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if n >= TROUBLE_IN_A_ROW {
                    self.fail(format!(
                        "cannot reach the SMTP server {} ({n} tries in a row): {error}",
                        self.mailer.server()
                    ));
                }
                return Ok(());
            }
            Attempt::Unbuildable(error) => {
                self.give_back(job.id);
                self.fail(format!(
                    "the message to {} could not be built: {error}",
                    job.email
                ));
                return Ok(());
            }
        };
        let (done, answer) = oneshot::channel();
        let record = Record {
            id: job.id,
            outcome: outcome.clone(),
            done,
        };
        if self.recorder.send(record).await.is_err() {
            return Err("the recorder stopped".into());
        }
        let recorded = answer
            .await
            .map_err(|_| "the recorder stopped".to_owned())??;
        self.done_one();
        if !recorded {
            self.fenced.fetch_add(1, Ordering::Relaxed);
            self.note(
                &self.fenced,
                format!(
                    "warning: {} was handled after this sender's claim had passed to another \
                     (lease {} s): it may have been sent twice",
                    job.email,
                    self.lease.as_secs()
                ),
            );
        }
        match (&attempt, &outcome) {
            (Attempt::Sent, _) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                self.trouble_in_a_row.store(0, Ordering::Relaxed);
            }
            (_, SendOutcome::Failed { error }) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.trouble_in_a_row.store(0, Ordering::Relaxed);
                self.note(
                    &self.failed,
                    format!("failed: {}: {error} (marked bounced)", job.email),
                );
            }
            (_, SendOutcome::Retry { error, retry_at }) => {
                self.retrying.fetch_add(1, Ordering::Relaxed);
                self.note(
                    &self.retrying,
                    format!("will retry at {}: {}: {error}", time(*retry_at), job.email),
                );
                match attempt {
                    Attempt::Trouble(error) => {
                        let n = self.trouble_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                        if n >= TROUBLE_IN_A_ROW {
                            self.fail(format!(
                                "the SMTP server {} failed {n} times in a row, last for {}: \
                                 {error}",
                                self.mailer.server(),
                                job.email
                            ));
                        }
                    }
                    Attempt::Refused(error) => self.fail(format!(
                        "the SMTP server {} refused the message to {} with an answer that is \
                         not about the address: {error}. Nobody was marked bounced; check the \
                         server and [smtp] in bulletin.toml",
                        self.mailer.server(),
                        job.email
                    )),
                    _ => self.trouble_in_a_row.store(0, Ordering::Relaxed),
                }
            }
            (_, SendOutcome::Sent) => {}
        }
        self.show();
        Ok(())
    }
}

/// Is a message that cannot be built the recipient's fault (their address or
/// name), so that it can never be sent to them?
fn recipients_fault(e: &MailError) -> bool {
    match e {
        MailError::BadAddress { field, .. }
        | MailError::HeaderInjection { field, .. }
        | MailError::Empty { field } => field.starts_with("recipient"),
        _ => false,
    }
}

/// Sorts an SMTP error into what it means for the row and for the run.
fn classify(e: &bulletin_mail::lettre::transport::smtp::Error) -> Attempt {
    let text = e.to_string();
    let Some(code) = e.status() else {
        // No answer from the server: connection, network, TLS, timeout.
        return Attempt::Trouble(text);
    };
    let basic: u16 = code.to_string().parse().unwrap_or(0);
    if e.is_transient() {
        return if basic == 421 {
            Attempt::Trouble(text)
        } else {
            Attempt::Later(text)
        };
    }
    if !e.is_permanent() {
        return Attempt::Trouble(text);
    }
    match enhanced_class(&text) {
        Some((1 | 2, _)) => Attempt::Bounced(text),
        Some(_) => Attempt::Refused(text),
        None if matches!(basic, 550 | 551 | 553) => Attempt::Bounced(text),
        None => Attempt::Refused(text),
    }
}

/// The class and subject of the first enhanced status code `5.X.Y` in an
/// answer (RFC 3463): `(1, 1)` for 5.1.1.
fn enhanced_class(text: &str) -> Option<(u32, u32)> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(|word| {
            let mut parts = word.split('.');
            let (Some("5"), Some(class), Some(subject), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return None;
            };
            let ok = |p: &str| !p.is_empty() && p.len() <= 3;
            if !(ok(class) && ok(subject)) {
                return None;
            }
            Some((class.parse().ok()?, subject.parse().ok()?))
        })
}

/// `host:pid:random`, so that each process's claims are its own.
fn worker_id() -> Result<String> {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let random = nonce()?;
    Ok(format!(
        "{host}:{}:{}",
        std::process::id(),
        &random[..8.min(random.len())]
    ))
}

/// The recorder: writes what the workers finished meanwhile in one
/// transaction, and answers each.
async fn record(store: Arc<dyn Store>, worker: String, mut inbox: mpsc::Receiver<Record>) {
    let mut batch: VecDeque<Record> = VecDeque::new();
    while let Some(first) = inbox.recv().await {
        batch.push_back(first);
        while batch.len() < RECORD_BATCH {
            match inbox.try_recv() {
                Ok(r) => batch.push_back(r),
                Err(_) => break,
            }
        }
        let outcomes: Vec<(i64, SendOutcome)> =
            batch.iter().map(|r| (r.id, r.outcome.clone())).collect();
        match store.record_sends(&outcomes, &worker, now()).await {
            Ok(done) => {
                for (r, d) in batch.drain(..).zip(done) {
                    let _ = r.done.send(Ok(d));
                }
            }
            Err(e) => {
                let why = format!("cannot record sends: {e}");
                for r in batch.drain(..) {
                    let _ = r.done.send(Err(why.clone()));
                }
            }
        }
    }
}

async fn send(
    store: Arc<dyn Store>,
    mailer: Mailer,
    edition: Edition,
    list_id: String,
    secret: String,
    options: &Options,
    queue: bool,
) -> Result<ExitCode> {
    let n = options.issue;
    let started = Instant::now();
    let added = if queue {
        store.queue_issue(n, now()).await.map_err(|e| match e {
            StoreError::Refused(why) => anyhow::anyhow!(why),
            other => anyhow::Error::new(other).context(format!("cannot queue issue {n}")),
        })?
    } else {
        0
    };
    let queued_in = started.elapsed().as_secs_f64();
    let before = store.send_progress(n).await?;
    let to_send = before.queued + before.sending;
    eprintln!(
        "issue {n}: {added} recipients queued now (in {queued_in:.2}s), {to_send} to send \
         ({} sent before); through {} at most {}/s over {} connections",
        before.sent,
        mailer.server(),
        mailer.per_second(),
        options.workers
    );
    let workers = options.workers.max(1);
    let lease = options.lease.max(2);
    let claim_size = (mailer.per_second() as usize).clamp(workers * 2, 100.max(workers * 2));
    let (record_tx, record_rx) = mpsc::channel(RECORD_BATCH * 2);
    let worker = worker_id()?;
    let run = Arc::new(Run {
        limiter: Limiter::new(mailer.per_second()),
        mailer,
        edition,
        list_id,
        secret,
        lease: Duration::from_secs(lease.unsigned_abs()),
        retry_base: options.retry_base.max(0),
        recorder: record_tx,
        progress: Progress::counter(&format!("issue {n}"), before.total()),
        total: AtomicU64::new(before.total()),
        done_before: before.sent + before.failed,
        sent: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        retrying: AtomicU64::new(0),
        fenced: AtomicU64::new(0),
        outstanding: AtomicUsize::new(0),
        finished: Notify::new(),
        trouble_in_a_row: AtomicU32::new(0),
        stop: AtomicBool::new(false),
        error: Mutex::new(None),
        given_back: Mutex::new(Vec::new()),
    });
    let recorder = tokio::spawn(record(Arc::clone(&store), worker.clone(), record_rx));

    // Ctrl-C or SIGTERM: stop claiming, finish what is in flight.
    let interrupted = Arc::new(AtomicBool::new(false));
    let signals = {
        let run = Arc::clone(&run);
        let interrupted = Arc::clone(&interrupted);
        tokio::spawn(async move {
            stop_signal().await;
            interrupted.store(true, Ordering::SeqCst);
            run.stop.store(true, Ordering::SeqCst);
            run.finished.notify_one();
        })
    };

    let (job_tx, job_rx) = mpsc::channel::<Claimed>(claim_size * 2 + workers);
    let job_rx = Arc::new(tokio::sync::Mutex::new(job_rx));
    let mut pool = tokio::task::JoinSet::new();
    for _ in 0..workers {
        let run = Arc::clone(&run);
        let jobs = Arc::clone(&job_rx);
        pool.spawn(async move {
            // Each worker keeps its own SMTP session open from one message
            // to the next.
            let mut connection = None;
            loop {
                let next = jobs.lock().await.recv().await;
                let Some(claimed) = next else { break };
                if let Err(why) = run.handle(&mut connection, claimed).await {
                    run.fail(why);
                }
            }
            if let Some(open) = connection {
                open.quit().await;
            }
        });
    }

    run.show();
    let mut told_waiting = false;
    // Whether the last empty claim was made with no message in flight.
    let mut settled = false;
    let outcome: Result<()> = async {
        loop {
            if run.stopped() {
                break;
            }
            // Rows given back (too old to send) are due again at once.
            let back = run.take_given_back();
            store.release_sends(&back, &worker).await?;
            if run.outstanding.load(Ordering::SeqCst) > workers {
                let _ =
                    tokio::time::timeout(Duration::from_millis(200), run.finished.notified()).await;
                continue;
            }
            let jobs = store
                .claim_issue_sends(n, &worker, claim_size as u32, now(), lease)
                .await?;
            if jobs.is_empty() {
                if run.outstanding.load(Ordering::SeqCst) > 0 {
                    settled = false;
                    let _ =
                        tokio::time::timeout(Duration::from_millis(200), run.finished.notified())
                            .await;
                    continue;
                }
                // The claim above may have run before the last worker
                // recorded a retry that is already due (its time taken a
                // moment later): only a claim made after every worker was
                // done can say that nothing is due.
                if !settled {
                    settled = true;
                    continue;
                }
                let p = store.send_progress(n).await?;
                run.total.store(p.total(), Ordering::Relaxed);
                if p.sending == 0 {
                    break;
                }
                if !told_waiting {
                    told_waiting = true;
                    run.progress.println(&format!(
                        "{} messages are claimed by another sender (or one that stopped); \
                         waiting for them, at most the lease ({lease} s)",
                        p.sending
                    ));
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), run.finished.notified()).await;
                continue;
            }
            settled = false;
            run.outstanding.fetch_add(jobs.len(), Ordering::SeqCst);
            let at = Instant::now();
            for job in jobs {
                if job_tx.send(Claimed { job, at }).await.is_err() {
                    bail!("the workers stopped");
                }
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        run.fail(format!("{e:#}"));
    }
    drop(job_tx);
    while let Some(joined) = pool.join_next().await {
        if let Err(e) = joined {
            run.fail(format!("a worker failed: {e}"));
        }
    }
    signals.abort();
    let _ = signals.await;
    run.progress.finish();
    let released = store.release_sends(&run.take_given_back(), &worker).await;
    let run = match Arc::try_unwrap(run) {
        Ok(run) => run,
        Err(_) => bail!("the workers did not stop"),
    };
    let Run {
        recorder: record_tx,
        mailer,
        sent,
        failed,
        fenced,
        error,
        ..
    } = run;
    drop(record_tx);
    let _ = recorder.await;

    let p = store.send_progress(n).await?;
    let sent = sent.into_inner();
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!("{}", summary(n, &p));
    eprintln!(
        "this run: {sent} sent, {} failed in {elapsed:.1}s ({:.0} messages/s) through {}",
        failed.into_inner(),
        sent as f64 / elapsed.max(0.001),
        mailer.server()
    );
    let fenced = fenced.into_inner();
    if fenced > 0 {
        eprintln!(
            "warning: {fenced} results came after this sender's claim had passed to another; \
             those messages may have been sent twice (is another sender using a shorter lease?)"
        );
    }
    let released = released.context("cannot give unsent messages back to the queue")?;
    let error = error.into_inner().ok().flatten();
    if let Some(why) = error {
        bail!(
            "{why}\nstopped: {released} messages went back to the queue; run `bulletin send {n}` \
             again to continue"
        );
    }
    if interrupted.load(Ordering::SeqCst) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes() {
        assert_eq!(
            enhanced_class("permanent error (550): 5.1.1 <x@y>: no such user"),
            Some((1, 1))
        );
        assert_eq!(enhanced_class("550 5.7.1 relaying denied"), Some((7, 1)));
        assert_eq!(enhanced_class("550 no such user"), None);
        assert_eq!(enhanced_class("version 5.1.1.1"), None);
    }
}
