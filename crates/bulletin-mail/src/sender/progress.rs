//! What a run tells whoever watches it: the caller implements [`Progress`]
//! (`bulletin send` with a progress bar and its own wording).

use std::time::Duration;

/// A run's start: the queue as it stands after queueing.
#[derive(Debug, Clone)]
pub struct Started<'a> {
    pub issue: u32,
    /// Rows queued by this run.
    pub added: u64,
    /// How long queueing took.
    pub queueing: Duration,
    /// Rows waiting or claimed.
    pub to_send: u64,
    /// Rows sent before this run.
    pub sent_before: u64,
    /// Every row of the issue.
    pub total: u64,
    /// The server, without its password.
    pub server: &'a str,
    pub per_second: u32,
    /// Workers asked for.
    pub workers: usize,
}

/// How far a run has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// Rows done (sent or failed), before this run and in it.
    pub done: u64,
    /// Every row of the issue (it may grow while others queue).
    pub total: u64,
    /// This run's counts.
    pub sent: u64,
    pub failed: u64,
    pub retrying: u64,
}

/// Something worth a line. `nth` counts the events of that kind in this run
/// (1 for the first), so a watcher can show the first few and then only
/// count.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// Failed for good; the subscriber is marked bounced.
    Failed {
        email: &'a str,
        error: &'a str,
        nth: u64,
    },
    /// To be tried again at `retry_at` (Unix seconds).
    Retrying {
        email: &'a str,
        error: &'a str,
        retry_at: i64,
        nth: u64,
    },
    /// Recorded after this sender's claim had passed to another (a lease of
    /// `lease`): the message may have been sent twice.
    Fenced {
        email: &'a str,
        lease: Duration,
        nth: u64,
    },
    /// Nothing is due, but `claimed` rows are claimed by another sender (or
    /// one that stopped): the run waits for them, at most `lease` seconds.
    WaitingForOthers { claimed: u64, lease: i64 },
}

/// Watches a run. Called from several tasks at once; cheap calls only.
pub trait Progress: Send + Sync {
    /// Queueing is done; sending starts.
    fn started(&self, start: &Started<'_>);
    /// The counts changed.
    fn tally(&self, tally: &Tally);
    /// Something happened worth a line.
    fn event(&self, event: &Event<'_>);
    /// Sending is over (the report follows).
    fn finished(&self);
}

/// Watches nothing.
impl Progress for () {
    fn started(&self, _: &Started<'_>) {}
    fn tally(&self, _: &Tally) {}
    fn event(&self, _: &Event<'_>) {}
    fn finished(&self) {}
}
