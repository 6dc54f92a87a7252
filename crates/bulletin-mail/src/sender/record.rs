//! Group-committed outcomes: one recorder task writes what the workers
//! finished meanwhile in one transaction (`Outbox::record_sends`), each row
//! fenced by this process's claim, and answers each worker, who waits for that
//! answer before taking another row (so a crash can re-send at most one
//! message per worker).

use std::collections::VecDeque;
use std::sync::Arc;

use bulletin_store::{Outbox, SendOutcome};
use tokio::sync::{mpsc, oneshot};

use super::QueueClock;
use super::policy::StopReason;

/// Outcomes written in one transaction, at most.
pub const RECORD_BATCH: usize = 256;

/// One outcome for the recorder, and where to say whether it was written
/// (`false`: the claim had passed to another sender, nothing was written).
#[derive(Debug)]
pub struct Record {
    pub id: i64,
    pub outcome: SendOutcome,
    pub done: oneshot::Sender<Result<bool, StopReason>>,
}

/// How long outcomes wait for a database that went away (a restart) before
/// the run stops: inside the claims' lease, so no other sender has taken the
/// rows over and sent them again meanwhile.
const WAIT_FOR_STORE: std::time::Duration = std::time::Duration::from_secs(90);

/// Writes `outcomes`; while the database cannot be reached, tries again with
/// a growing pause (the workers wait for the answer, so sending pauses too).
/// Messages already sent are not sent twice because their outcome was lost.
async fn record_while_unavailable(
    outbox: &dyn Outbox,
    outcomes: &[(i64, SendOutcome)],
    worker: &str,
    clock: QueueClock,
) -> bulletin_store::Result<Vec<bool>> {
    let started = std::time::Instant::now();
    let mut pause = std::time::Duration::from_millis(100);
    loop {
        match outbox.record_sends(outcomes, worker, clock.now()).await {
            Err(e) if e.is_unavailable() && started.elapsed() < WAIT_FOR_STORE => {
                metrics::counter!("bulletin_mail_record_retries_total").increment(1);
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            result => return result,
        }
    }
}

/// The recorder: runs until every sender of `inbox` is gone.
pub async fn recorder(
    outbox: Arc<dyn Outbox>,
    worker: String,
    clock: QueueClock,
    mut inbox: mpsc::Receiver<Record>,
) {
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
        match record_while_unavailable(outbox.as_ref(), &outcomes, &worker, clock).await {
            Ok(done) => {
                for (r, d) in batch.drain(..).zip(done) {
                    let _ = r.done.send(Ok(d));
                }
            }
            Err(e) => {
                let why = StopReason::Record(e.to_string());
                for r in batch.drain(..) {
                    let _ = r.done.send(Err(why.clone()));
                }
            }
        }
    }
}
