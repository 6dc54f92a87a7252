//! The retry and bounce policy: what an SMTP answer means for the row (sent,
//! retried with backoff, failed and bounced) and for the run (go on, or stop
//! with a [`StopReason`]).

use crate::MailError;

/// Attempts before a row that keeps getting 4xx answers is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// The longest wait between two attempts, in seconds.
pub const MAX_BACKOFF: i64 = 6 * 3600;
/// Connection failures or timeouts in a row that stop the run.
pub const TROUBLE_IN_A_ROW: u32 = 3;

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
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

/// Why a run stopped before the queue was done. The first reason is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    #[error("cannot reach the SMTP server {server} ({tries} tries in a row): {error}")]
    Unreachable {
        server: String,
        tries: u32,
        error: String,
    },
    #[error("the SMTP server {server} failed {times} times in a row, last for {email}: {error}")]
    Trouble {
        server: String,
        times: u32,
        email: String,
        error: String,
    },
    #[error(
        "the SMTP server {server} refused the message to {email} with an answer that is not \
         about the address: {error}. Nobody was marked bounced; check the server and [smtp] in \
         bulletin.toml"
    )]
    Refused {
        server: String,
        email: String,
        error: String,
    },
    #[error("the message to {email} could not be built: {error}")]
    Unbuildable { email: String, error: String },
    /// The queue could not be read or written (the error with its causes).
    #[error("{0}")]
    Queue(String),
    #[error("cannot record sends: {0}")]
    Record(String),
    #[error("the recorder stopped")]
    RecorderStopped,
    #[error("the workers stopped")]
    WorkersStopped,
    #[error("a worker failed: {0}")]
    Worker(String),
}

/// Seconds to wait before the next try of a row on its `attempt`th try:
/// `base` doubled for each try before, at most [`MAX_BACKOFF`].
pub fn backoff(base: i64, attempt: u32) -> i64 {
    let shift = attempt.saturating_sub(1).min(20);
    base.saturating_mul(1i64 << shift).clamp(0, MAX_BACKOFF)
}

/// Is a message that cannot be built the recipient's fault (their address or
/// name), so that it can never be sent to them?
pub fn recipients_fault(e: &MailError) -> bool {
    match e {
        MailError::BadAddress { field, .. }
        | MailError::HeaderInjection { field, .. }
        | MailError::Empty { field } => field.starts_with("recipient"),
        _ => false,
    }
}

/// Sorts an SMTP error into what it means for the row and for the run.
pub fn classify(e: &lettre::transport::smtp::Error) -> Attempt {
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
pub fn enhanced_class(text: &str) -> Option<(u32, u32)> {
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

    #[test]
    fn backoff_doubles_up_to_six_hours() {
        assert_eq!(backoff(60, 1), 60);
        assert_eq!(backoff(60, 2), 120);
        assert_eq!(backoff(60, 4), 480);
        assert_eq!(backoff(60, 30), MAX_BACKOFF);
        assert_eq!(backoff(0, 5), 0);
    }

    #[test]
    fn only_the_recipients_own_faults_bounce_unbuilt_messages() {
        let theirs = MailError::BadAddress {
            field: "recipient address",
            value: "x".into(),
            why: "no @".into(),
        };
        let ours = MailError::BadAddress {
            field: "sender address",
            value: "x".into(),
            why: "no @".into(),
        };
        assert!(recipients_fault(&theirs));
        assert!(!recipients_fault(&ours));
    }
}
