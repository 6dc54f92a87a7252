//! A dry run: every message that sending the issue now would send, rendered
//! and built, counted; nothing sent, nothing written (the queue only read).

use std::time::{Duration, Instant};

use bulletin_core::subscriber::Plan;
use bulletin_store::{Outbox, SendProgress, StoreError};

use super::Mailing;
use crate::MailError;

/// What a run would send.
#[derive(Debug)]
pub struct Preview {
    pub free: u64,
    pub paid: u64,
    /// The messages' size, all together.
    pub bytes: u64,
    /// Addresses whose message could not be built, with why: the first
    /// `keep` of them (see [`preview`]); [`Preview::unsendable`] counts all.
    pub failures: Vec<(String, MailError)>,
    pub unsendable: u64,
    /// The issue's queue as it stands (what is already done).
    pub queue: SendProgress,
    pub elapsed: Duration,
}

/// Builds every message sending the mailing's issue would send now, keeping
/// the first `keep` failures. Give the mailing a throwaway secret: these
/// links are never sent.
pub async fn preview(
    outbox: &dyn Outbox,
    mailing: &Mailing,
    keep: usize,
) -> Result<Preview, StoreError> {
    let started = Instant::now();
    let n = mailing.issue();
    let (mut free, mut paid, mut bytes, mut unsendable) = (0u64, 0u64, 0u64, 0u64);
    let mut failures = Vec::new();
    let mut after = 0;
    loop {
        let page = outbox.preview_sends(n, after, 1000).await?;
        let Some(last) = page.last() else { break };
        after = last.subscriber_id;
        for job in &page {
            match mailing.message(job) {
                Ok(m) => {
                    bytes += m.formatted().len() as u64;
                    match job.plan {
                        Plan::Free => free += 1,
                        Plan::Paid => paid += 1,
                    }
                }
                Err(e) => {
                    unsendable += 1;
                    if failures.len() < keep {
                        failures.push((job.email.clone(), e));
                    }
                }
            }
        }
    }
    let queue = outbox.send_progress(n).await?;
    Ok(Preview {
        free,
        paid,
        bytes,
        failures,
        unsendable,
        queue,
        elapsed: started.elapsed(),
    })
}
