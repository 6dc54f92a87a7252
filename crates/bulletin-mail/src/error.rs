//! What can go wrong turning a rendered newsletter into a message and sending it.

/// A message refused or not sent, with the reason in words. Values are quoted
/// with `{:?}`, so a line break in them shows as `\n` in logs, never as a line.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A DKIM key or its settings cannot be used.
    #[error("DKIM: {why}")]
    Dkim { why: String },
    /// A header value with a line break or another control character: it could
    /// add headers or recipients (header injection), so nothing is built.
    #[error("the {field} {value:?} contains {what}; a mail header cannot carry it")]
    HeaderInjection {
        field: &'static str,
        value: String,
        what: &'static str,
    },
    #[error("the {field} is empty")]
    Empty { field: &'static str },
    #[error("the {field} {value:?} is not an email address: {why}")]
    BadAddress {
        field: &'static str,
        value: String,
        why: String,
    },
    #[error("the unsubscribe link {url:?} cannot go in List-Unsubscribe: {why}")]
    BadUnsubscribeLink { url: String, why: &'static str },
    #[error(
        "the list id {value:?} is not valid (RFC 2919 wants a dotted name such as newsletter.example.org): {why}"
    )]
    BadListId { value: String, why: &'static str },
    #[error("the message id {value:?} cannot go in Message-ID: {why}")]
    BadMessageId { value: String, why: &'static str },
    /// The rendered copy was made with another recipient's links: sending it
    /// would hand this recipient someone else's unsubscribe link.
    #[error(
        "the rendered newsletter does not carry the unsubscribe link {url:?}; render it with this recipient's links"
    )]
    LinksMismatch { url: String },
    #[error("the message could not be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("SMTP: {0}")]
    Smtp(#[from] lettre::transport::smtp::Error),
    /// The `[smtp]` URL cannot be used. `url` is shown without its password.
    #[error("the SMTP server URL {url:?} cannot be used: {why}")]
    BadServer { url: String, why: String },
    /// The server lacks an extension this message needs.
    #[error("the message cannot be sent to this server: {0}")]
    Unsupported(&'static str),
    #[error("SMTP: no answer after {seconds} s while {doing}")]
    Timeout { doing: &'static str, seconds: u64 },
}
