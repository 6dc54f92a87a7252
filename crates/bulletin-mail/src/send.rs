//! Sending over SMTP: the test send to one address uses this, and so will the
//! send queue.

use std::time::Duration;

use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

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
