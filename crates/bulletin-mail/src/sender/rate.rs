//! The rate limit: sends spaced `1/per_second` apart over all workers.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Spaces sends `1/per_second` apart over all workers.
#[derive(Debug)]
pub struct Limiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Limiter {
    pub fn new(per_second: u32) -> Limiter {
        Limiter {
            interval: Duration::from_secs(1) / per_second.max(1),
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for this caller's turn.
    pub async fn wait(&self) {
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
