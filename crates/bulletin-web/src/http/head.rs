//! The store's head (its newest change) as requests read it: once per batch
//! of concurrent requests ([`SeqGate`]), and failing fast while the store
//! cannot be reached.

use std::time::Instant;

use bulletin_store::{Store, StoreError};

/// The newest change the store has, as validators need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreHead {
    pub seq: i64,
    pub at: Option<jiff::Timestamp>,
}

tokio::task_local! {
    /// The head this request read on arrival: pages reuse it instead of
    /// reading the sequence a second time.
    pub static REQUEST_HEAD: StoreHead;
}

/// Reads the store's head at most once per batch of concurrent requests.
///
/// A request may reuse a read only if that read *started after the request
/// arrived*; so an import committed before a request arrived is always seen, and
/// 64 concurrent requests cost one query instead of 64.
#[derive(Default)]
pub struct SeqGate {
    last: tokio::sync::Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    /// The last head read, and when its reading started.
    head: Option<(Instant, StoreHead)>,
    /// When the last failed reading ended.
    failed: Option<Instant>,
}

/// The store did not give its head (logged where it failed).
#[derive(Debug)]
pub struct HeadUnavailable;

impl From<HeadUnavailable> for StoreError {
    fn from(_: HeadUnavailable) -> Self {
        StoreError::Unavailable("cannot read the change sequence".into())
    }
}

impl SeqGate {
    /// The store's head, read after the request arrived. While the store is
    /// unreachable, requests that waited on a failed reading fail with it at
    /// once instead of each waiting out the pool's timeout in turn.
    pub async fn head(&self, store: &dyn Store) -> Result<StoreHead, HeadUnavailable> {
        if let Ok(head) = REQUEST_HEAD.try_with(|h| *h) {
            return Ok(head);
        }
        let arrived = Instant::now();
        let mut last = self.last.lock().await;
        if let Some((started, head)) = last.head
            && started >= arrived
        {
            return Ok(head);
        }
        if last.failed.is_some_and(|ended| ended >= arrived) {
            return Err(HeadUnavailable);
        }
        let started = Instant::now();
        let change = match store.latest_change().await {
            Ok(change) => change,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the change sequence");
                metrics::counter!("bulletin_store_unavailable_total").increment(1);
                last.failed = Some(Instant::now());
                return Err(HeadUnavailable);
            }
        };
        let mut head = StoreHead {
            seq: change.as_ref().map_or(0, |c| c.seq),
            at: change.and_then(|c| c.at.parse().ok()),
        };
        // PostgreSQL stamps a change with its transaction's start, so a later
        // change can carry an earlier time; Last-Modified must never go back.
        if let Some((_, previous)) = last.head
            && previous.seq < head.seq
            && previous.at > head.at
        {
            head.at = previous.at;
        }
        last.head = Some((started, head));
        Ok(head)
    }
}
