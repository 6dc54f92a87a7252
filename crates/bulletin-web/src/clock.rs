//! The time, as the web layer reads it: one [`Clock`] in the app's options
//! (the system clock unless a test sets another), so sessions, tokens, links
//! and rate-limit windows can be tested by moving time instead of waiting.

use std::fmt::Debug;

/// Where the web layer reads the time.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> jiff::Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}
