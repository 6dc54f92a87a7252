//! The workers and their SMTP sessions: each worker takes a claimed row,
//! builds the recipient's message, waits for the rate limit, sends it through
//! its own session (kept open from one message to the next), and waits until
//! the outcome is recorded before taking another row.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bulletin_store::{SendJob, SendOutcome};
use lettre::Message;
use tokio::sync::{Notify, mpsc, oneshot};

use super::policy::{
    Attempt, MAX_ATTEMPTS, StopReason, TROUBLE_IN_A_ROW, backoff, classify, recipients_fault,
};
use super::progress::{Event, Progress, Tally};
use super::rate::Limiter;
use super::record::Record;
use super::{Mailing, QueueClock};
use crate::{Connection, MailError};

/// A claimed row and when the claim was made.
#[derive(Debug)]
pub struct Claimed {
    pub job: SendJob,
    pub at: Instant,
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

/// Everything the workers and the claiming task share.
pub struct Shared {
    pub mailing: Arc<Mailing>,
    pub lease: Duration,
    pub retry_base: i64,
    pub clock: QueueClock,
    pub limiter: Limiter,
    pub recorder: mpsc::Sender<Record>,
    pub progress: Arc<dyn Progress>,
    /// Rows of the issue (it may grow), and done (sent or failed) before
    /// this run.
    pub total: AtomicU64,
    pub done_before: u64,
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retrying: AtomicU64,
    /// Results recorded after this process's claim had passed to another.
    pub fenced: AtomicU64,
    /// Claimed and not yet recorded or given back.
    pub outstanding: AtomicUsize,
    /// Woken when a row is done or the run stops.
    pub finished: Notify,
    pub trouble_in_a_row: AtomicU32,
    pub stop: AtomicBool,
    pub error: Mutex<Option<StopReason>>,
    pub given_back: Mutex<Vec<i64>>,
}

impl Shared {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Stops the run with `why` (the first reason is kept).
    pub fn fail(&self, why: StopReason) {
        if let Ok(mut error) = self.error.lock()
            && error.is_none()
        {
            *error = Some(why);
        }
        self.stop.store(true, Ordering::SeqCst);
        self.finished.notify_one();
    }

    /// Tells the watcher the counts.
    pub fn show(&self) {
        let sent = self.sent.load(Ordering::Relaxed);
        let failed = self.failed.load(Ordering::Relaxed);
        self.progress.tally(&Tally {
            done: self.done_before + sent + failed,
            total: self.total.load(Ordering::Relaxed),
            sent,
            failed,
            retrying: self.retrying.load(Ordering::Relaxed),
        });
    }

    fn give_back(&self, id: i64) {
        if let Ok(mut ids) = self.given_back.lock() {
            ids.push(id);
        }
        self.done_one();
    }

    /// The rows given back since the last call.
    pub fn take_given_back(&self) -> Vec<i64> {
        self.given_back
            .lock()
            .map(|mut ids| std::mem::take(&mut *ids))
            .unwrap_or_default()
    }

    fn done_one(&self) {
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
        self.finished.notify_one();
    }

    fn server(&self) -> String {
        self.mailing.mailer.server().to_owned()
    }

    async fn attempt(
        &self,
        connection: &mut Option<Connection>,
        claimed_at: Instant,
        job: &SendJob,
    ) -> Attempt {
        let message = match self.mailing.message(job) {
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
        message: &Message,
    ) -> Delivery {
        if let Some(open) = connection.as_mut()
            && !open.is_open().await
        {
            *connection = None;
        }
        let open = match connection {
            Some(open) => open,
            None => match self.mailing.mailer.connect().await {
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
    pub async fn handle(
        &self,
        connection: &mut Option<Connection>,
        claimed: Claimed,
    ) -> Result<(), StopReason> {
        let job = claimed.job;
        // Too old a claim could be taken over by another sender while we
        // send: give it back rather than risk sending it twice.
        if self.stopped() || !self.fresh(claimed.at) {
            self.give_back(job.id);
            return Ok(());
        }
        let attempt = self.attempt(connection, claimed.at, &job).await;
        let retry_at = self.clock.now() + backoff(self.retry_base, job.attempt);
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
                let tries = self.trouble_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                if tries >= TROUBLE_IN_A_ROW {
                    self.fail(StopReason::Unreachable {
                        server: self.server(),
                        tries,
                        error: error.clone(),
                    });
                }
                return Ok(());
            }
            Attempt::Unbuildable(error) => {
                self.give_back(job.id);
                self.fail(StopReason::Unbuildable {
                    email: job.email.clone(),
                    error: error.clone(),
                });
                return Ok(());
            }
        };
        super::count_outcome("newsletter", &outcome);
        let (done, answer) = oneshot::channel();
        let record = Record {
            id: job.id,
            outcome: outcome.clone(),
            done,
        };
        if self.recorder.send(record).await.is_err() {
            return Err(StopReason::RecorderStopped);
        }
        let recorded = answer.await.map_err(|_| StopReason::RecorderStopped)??;
        self.done_one();
        if !recorded {
            let nth = self.fenced.fetch_add(1, Ordering::Relaxed) + 1;
            self.progress.event(&Event::Fenced {
                email: &job.email,
                lease: self.lease,
                nth,
            });
        }
        self.count(&attempt, &outcome, &job);
        self.show();
        Ok(())
    }

    /// Counts a recorded outcome, tells the watcher, and stops the run when
    /// the server keeps failing.
    fn count(&self, attempt: &Attempt, outcome: &SendOutcome, job: &SendJob) {
        match (attempt, outcome) {
            (Attempt::Sent, _) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                self.trouble_in_a_row.store(0, Ordering::Relaxed);
            }
            (_, SendOutcome::Failed { error }) => {
                let nth = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
                self.trouble_in_a_row.store(0, Ordering::Relaxed);
                self.progress.event(&Event::Failed {
                    email: &job.email,
                    error,
                    nth,
                });
            }
            (_, SendOutcome::Retry { error, retry_at }) => {
                let nth = self.retrying.fetch_add(1, Ordering::Relaxed) + 1;
                self.progress.event(&Event::Retrying {
                    email: &job.email,
                    error,
                    retry_at: *retry_at,
                    nth,
                });
                match attempt {
                    Attempt::Trouble(error) => {
                        let times = self.trouble_in_a_row.fetch_add(1, Ordering::Relaxed) + 1;
                        if times >= TROUBLE_IN_A_ROW {
                            self.fail(StopReason::Trouble {
                                server: self.server(),
                                times,
                                email: job.email.clone(),
                                error: error.clone(),
                            });
                        }
                    }
                    Attempt::Refused(error) => self.fail(StopReason::Refused {
                        server: self.server(),
                        email: job.email.clone(),
                        error: error.clone(),
                    }),
                    _ => self.trouble_in_a_row.store(0, Ordering::Relaxed),
                }
            }
            (_, SendOutcome::Sent) => {}
        }
    }
}

/// One worker: takes claimed rows from `jobs` until the channel closes,
/// keeping its own SMTP session open from one message to the next.
pub async fn work(shared: Arc<Shared>, jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Claimed>>>) {
    let mut connection = None;
    loop {
        let next = jobs.lock().await.recv().await;
        let Some(claimed) = next else { break };
        if let Err(why) = shared.handle(&mut connection, claimed).await {
            shared.fail(why);
        }
    }
    if let Some(open) = connection {
        open.quit().await;
    }
}
