//! Queueing and claims: [`run`] queues the issue (when asked), claims rows a
//! few at a time for the workers, gives back what they did not try, and
//! decides when the run is over.

use std::future::Future;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bulletin_store::{Outbox, SendProgress, StoreError};
use tokio::sync::{Notify, mpsc};

use super::policy::StopReason;
use super::progress::{Event, Progress, Started};
use super::rate::Limiter;
use super::record::{RECORD_BATCH, recorder};
use super::worker::{Claimed, Shared, work};
use super::{Mailing, Options};
use crate::links::nonce;

/// Why a run could not start or could not say how it ended.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The store refused to queue the issue; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error("cannot queue issue {issue}")]
    Queue {
        issue: u32,
        #[source]
        source: StoreError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No randomness for this sender's id.
    #[error(transparent)]
    Random(#[from] getrandom::Error),
    #[error("the workers did not stop")]
    WorkersDidNotStop,
}

/// How a run ended.
#[derive(Debug)]
pub struct Report {
    pub issue: u32,
    /// The issue's queue at the end.
    pub queue: SendProgress,
    /// This run's counts.
    pub sent: u64,
    pub failed: u64,
    /// Results recorded after this sender's claim had passed to another.
    pub fenced: u64,
    pub elapsed: Duration,
    /// The server, without its password.
    pub server: String,
    /// Rows given back to the queue unsent at the end.
    pub released: Result<u64, StoreError>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// Whether `interrupt` ended the run.
    pub interrupted: bool,
}

/// Sends what is due of the mailing's issue (after queueing it, with
/// [`Options::queue`]) until nothing is due and no other sender holds a row,
/// until the run must stop (see [`Report::stopped`]), or until `interrupt`
/// completes (the messages in flight are finished first).
pub async fn run(
    outbox: Arc<dyn Outbox>,
    mailing: Arc<Mailing>,
    options: &Options,
    progress: Arc<dyn Progress>,
    interrupt: impl Future<Output = ()> + Send + 'static,
) -> Result<Report, SendError> {
    let n = mailing.issue();
    let started = Instant::now();
    let added = if options.queue {
        outbox
            .queue_issue(n, options.clock.now())
            .await
            .map_err(|e| match e {
                StoreError::Refused(why) => SendError::Refused(why),
                source => SendError::Queue { issue: n, source },
            })?
    } else {
        0
    };
    let queueing = started.elapsed();
    let before = outbox.send_progress(n).await?;
    let mailer = &mailing.mailer;
    progress.started(&Started {
        issue: n,
        added,
        queueing,
        to_send: before.queued + before.sending,
        sent_before: before.sent,
        total: before.total(),
        server: mailer.server(),
        per_second: mailer.per_second(),
        workers: options.workers,
    });
    let workers = options.workers.max(1);
    let lease = options.lease.max(2);
    let claim_size = (mailer.per_second() as usize).clamp(workers * 2, 100.max(workers * 2));
    let (record_tx, record_rx) = mpsc::channel(RECORD_BATCH * 2);
    let worker = worker_id()?;
    let shared = Arc::new(Shared {
        limiter: Limiter::new(mailer.per_second()),
        mailing: Arc::clone(&mailing),
        lease: Duration::from_secs(lease.unsigned_abs()),
        retry_base: options.retry_base.max(0),
        clock: options.clock,
        recorder: record_tx,
        progress,
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
    let recording = tokio::spawn(recorder(
        Arc::clone(&outbox),
        worker.clone(),
        options.clock,
        record_rx,
    ));

    // Interrupted: stop claiming, finish what is in flight.
    let interrupted = Arc::new(AtomicBool::new(false));
    let watch = {
        let shared = Arc::clone(&shared);
        let interrupted = Arc::clone(&interrupted);
        tokio::spawn(async move {
            interrupt.await;
            interrupted.store(true, Ordering::SeqCst);
            shared.stop.store(true, Ordering::SeqCst);
            shared.finished.notify_one();
        })
    };

    let (job_tx, job_rx) = mpsc::channel::<Claimed>(claim_size * 2 + workers);
    let job_rx = Arc::new(tokio::sync::Mutex::new(job_rx));
    let mut pool = tokio::task::JoinSet::new();
    for _ in 0..workers {
        pool.spawn(work(Arc::clone(&shared), Arc::clone(&job_rx)));
    }

    shared.show();
    let claims = Claims {
        outbox: outbox.as_ref(),
        shared: &shared,
        issue: n,
        worker: &worker,
        claim_size,
        workers,
        lease,
    };
    if let Err(why) = claims.work(&job_tx).await {
        shared.fail(why);
    }
    drop(job_tx);
    while let Some(joined) = pool.join_next().await {
        if let Err(e) = joined {
            shared.fail(StopReason::Worker(e.to_string()));
        }
    }
    watch.abort();
    let _ = watch.await;
    shared.progress.finished();
    let released = outbox
        .release_sends(&shared.take_given_back(), &worker)
        .await;
    let Ok(shared) = Arc::try_unwrap(shared) else {
        return Err(SendError::WorkersDidNotStop);
    };
    let Shared {
        recorder: record_tx,
        sent,
        failed,
        fenced,
        error,
        ..
    } = shared;
    drop(record_tx);
    let _ = recording.await;

    let queue = outbox.send_progress(n).await?;
    Ok(Report {
        issue: n,
        queue,
        sent: sent.into_inner(),
        failed: failed.into_inner(),
        fenced: fenced.into_inner(),
        elapsed: started.elapsed(),
        server: mailing.mailer.server().to_owned(),
        released,
        stopped: error.into_inner().ok().flatten(),
        interrupted: interrupted.load(Ordering::SeqCst),
    })
}

/// The claiming side of a run.
struct Claims<'a> {
    outbox: &'a dyn Outbox,
    shared: &'a Shared,
    issue: u32,
    worker: &'a str,
    claim_size: usize,
    workers: usize,
    lease: i64,
}

impl Claims<'_> {
    /// Claims rows and hands them to the workers until nothing is left to do
    /// or the run stops.
    async fn work(&self, jobs: &mpsc::Sender<Claimed>) -> Result<(), StopReason> {
        let shared = self.shared;
        let mut told_waiting = false;
        // Whether the last empty claim was made with no message in flight.
        let mut settled = false;
        loop {
            if shared.stopped() {
                return Ok(());
            }
            // Rows given back (too old to send) are due again at once.
            let back = shared.take_given_back();
            self.outbox
                .release_sends(&back, self.worker)
                .await
                .map_err(queue_error)?;
            if shared.outstanding.load(Ordering::SeqCst) > self.workers {
                self.wait(Duration::from_millis(200)).await;
                continue;
            }
            let claimed = self
                .outbox
                .claim_issue_sends(
                    self.issue,
                    self.worker,
                    self.claim_size as u32,
                    shared.clock.now(),
                    self.lease,
                )
                .await
                .map_err(queue_error)?;
            if claimed.is_empty() {
                if shared.outstanding.load(Ordering::SeqCst) > 0 {
                    settled = false;
                    self.wait(Duration::from_millis(200)).await;
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
                let p = self
                    .outbox
                    .send_progress(self.issue)
                    .await
                    .map_err(queue_error)?;
                shared.total.store(p.total(), Ordering::Relaxed);
                if p.sending == 0 {
                    return Ok(());
                }
                if !told_waiting {
                    told_waiting = true;
                    shared.progress.event(&Event::WaitingForOthers {
                        claimed: p.sending,
                        lease: self.lease,
                    });
                }
                self.wait(Duration::from_secs(1)).await;
                continue;
            }
            settled = false;
            shared
                .outstanding
                .fetch_add(claimed.len(), Ordering::SeqCst);
            let at = Instant::now();
            for job in claimed {
                if jobs.send(Claimed { job, at }).await.is_err() {
                    return Err(StopReason::WorkersStopped);
                }
            }
        }
    }

    /// Waits until a row is done or the run stops, at most `limit`.
    async fn wait(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, self.shared.finished.notified()).await;
    }
}

/// A store error while working the queue, with its causes, as one line.
fn queue_error(e: StoreError) -> StopReason {
    let mut line = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        line.push_str(": ");
        line.push_str(&c.to_string());
        cause = c.source();
    }
    StopReason::Queue(line)
}

/// `host:pid:random`, so that each process's claims are its own.
pub(super) fn worker_id() -> Result<String, getrandom::Error> {
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
