//! Sending over SMTP: the SMTP settings of `bulletin.toml`, the [`Mailer`]
//! built from them once at start-up, and short notices (confirmation and
//! sign-in links) besides the newsletter.

use std::fmt;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;

use crate::MailError;

/// An asynchronous SMTP connection pool (tokio).
pub type SmtpTransport = AsyncSmtpTransport<Tokio1Executor>;

/// How long one SMTP command may take before the send fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A transport from a connection URL: `smtps://user:pass@host:465` (TLS),
/// `smtp://user:pass@host:587?tls=required` (STARTTLS), or `smtp://host:port`
/// (unencrypted: only for a relay on the same machine). User and password must
/// be percent-encoded.
pub fn smtp_transport(url: &str) -> Result<SmtpTransport, MailError> {
    Ok(SmtpTransport::from_url(url)?.timeout(Some(TIMEOUT)).build())
}

/// Sends one message to the recipients of its envelope (the `To` address).
pub async fn send(transport: &SmtpTransport, message: Message) -> Result<(), MailError> {
    transport.send(message).await?;
    Ok(())
}

/// The `[smtp]` table of `bulletin.toml`. Unknown keys are refused.
///
/// ```toml
/// [smtp]
/// url = "smtps://news%40example.org:app-password@mail.example.org:465"
/// from = "news@example.org"
/// from_name = "The Bulletin"
/// per_second = 20
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The SMTP server, as [`smtp_transport`] takes it. It may carry a user
    /// and password, so it is never printed: `Debug` shows it redacted.
    pub url: String,
    /// The sender's address.
    pub from: String,
    /// The name shown beside it.
    #[serde(default)]
    pub from_name: Option<String>,
    /// `List-Id` (RFC 2919); by default `newsletter.` and the site's host.
    #[serde(default)]
    pub list_id: Option<String>,
    /// Rate limit: messages per second over all of one sender's connections.
    #[serde(default = "default_per_second")]
    pub per_second: u32,
}

fn default_per_second() -> u32 {
    20
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact_url(&self.url))
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("list_id", &self.list_id)
            .field("per_second", &self.per_second)
            .finish()
    }
}

/// `smtps://user:secret@host` → `smtps://user:***@host`; a URL with only a
/// user keeps it. For every message and log that names the server.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    }
}

/// What sends mail for bulletin: the transport and sender made from
/// [`SmtpSettings`] once, checked at start-up.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    list_id: Option<String>,
    per_second: u32,
    server: String,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Mailer, MailError> {
        let from = crate::sender(settings.from_name.as_deref(), &settings.from)?;
        if settings.per_second == 0 {
            return Err(MailError::Empty {
                field: "smtp.per_second (it must be at least 1)",
            });
        }
        Ok(Mailer {
            transport: smtp_transport(&settings.url)?,
            from,
            list_id: settings.list_id.clone(),
            per_second: settings.per_second,
            server: redact_url(&settings.url),
        })
    }

    /// The sender's mailbox.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// The configured `List-Id`, if one was set.
    pub fn list_id(&self) -> Option<&str> {
        self.list_id.as_deref()
    }

    /// Messages per second, at most.
    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// The server's URL without its password.
    pub fn server(&self) -> &str {
        &self.server
    }

    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        send(&self.transport, message).await
    }

    /// A short plain-text message from this sender (a confirmation or sign-in
    /// link), with every header value checked as [`crate::message`] checks them.
    pub fn notice(&self, to: &str, subject: &str, text: &str) -> Result<Message, MailError> {
        crate::message::notice(&self.from, to, subject, text)
    }
}
