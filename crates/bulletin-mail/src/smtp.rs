//! Sending over SMTP: the SMTP settings of `bulletin.toml`, the [`Mailer`]
//! built from them once at start-up, its [`Connection`]s, and short notices
//! (confirmation and sign-in links) besides the newsletter.
//!
//! A [`Connection`] is one SMTP session kept open for message after message
//! (the newsletter's workers hold one each). It writes a message's data and
//! the terminating `.` in one write: written apart (as lettre's own transport
//! does) the small last write waits for the server's delayed ACK, about 40 ms
//! a message on Linux, which would make bulletin, not the server, the limit.

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, Instant};

use bulletin_core::redact;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Tls, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
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
    /// DKIM keys every message is signed with (`[[smtp.dkim]]`, one table a key).
    #[serde(default)]
    pub dkim: Vec<DkimSettings>,
    /// Where bounces go: each newsletter message's envelope sender (its
    /// `Return-Path`) is this address with the message's own tag after a `+`
    /// (VERP: `bounces+issue-493-17.TAG@example.org`), which `bulletin bounces
    /// import` reads back. Without it, bounces go to `from`.
    #[serde(default)]
    pub bounce_address: Option<String>,
}

/// One DKIM key: `[[smtp.dkim]]` with `key` (a PEM file), `selector`, and
/// `domain` (by default the domain of `from`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DkimSettings {
    pub key: std::path::PathBuf,
    pub selector: String,
    #[serde(default)]
    pub domain: Option<String>,
}

fn default_per_second() -> u32 {
    20
}

impl SmtpSettings {
    /// These settings with `name` as the sender's name when they give none
    /// (the publication's sender name).
    pub fn named(&self, name: &str) -> SmtpSettings {
        let mut settings = self.clone();
        if settings.from_name.is_none() && !name.trim().is_empty() {
            settings.from_name = Some(name.to_owned());
        }
        settings
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("url", &redact::url(&self.url))
            .field("from", &self.from)
            .field("from_name", &self.from_name)
            .field("list_id", &self.list_id)
            .field("per_second", &self.per_second)
            .field("dkim", &self.dkim)
            .field("bounce_address", &self.bounce_address)
            .finish()
    }
}

/// What sends mail for bulletin: the server and sender made from
/// [`SmtpSettings`] once, checked at start-up. Each [`Mailer::send`] is one
/// SMTP session; [`Mailer::connect`] opens one to send many messages through.
#[derive(Clone)]
pub struct Mailer {
    endpoint: Endpoint,
    from: Mailbox,
    list_id: Option<String>,
    per_second: u32,
    server: String,
    /// Every message is signed with each of these.
    signers: std::sync::Arc<[crate::dkim::Signer]>,
    /// `[smtp] bounce_address`, split at its `@`.
    bounce: Option<(String, String)>,
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
        let sender_domain = settings.from.rsplit_once('@').map_or("", |(_, d)| d);
        let signers = settings
            .dkim
            .iter()
            .map(|d| {
                let domain = d.domain.as_deref().unwrap_or(sender_domain);
                crate::dkim::Signer::load(&d.key, &d.selector, domain)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let bounce = match &settings.bounce_address {
            None => None,
            Some(address) => {
                let parsed = crate::message::parse_address("bounce address", address)?;
                if parsed.user().contains('+') {
                    return Err(MailError::BadAddress {
                        field: "bounce address",
                        value: address.clone(),
                        why: "its part before the @ may not hold a +, which bulletin adds".into(),
                    });
                }
                Some((parsed.user().to_owned(), parsed.domain().to_owned()))
            }
        };
        Ok(Mailer {
            bounce,
            endpoint: Endpoint::from_url(&settings.url)?,
            from,
            list_id: settings.list_id.clone(),
            per_second: settings.per_second,
            server: redact::url(&settings.url),
            signers: signers.into(),
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

    /// The envelope sender of the message `message_key` to `recipient`:
    /// `[smtp] bounce_address` with the key and its tag after a `+` (VERP), or
    /// `None` without a bounce address (the `From` address is the sender).
    pub fn verp(
        &self,
        secret: &[u8],
        message_key: &str,
        recipient: &str,
    ) -> Option<lettre::Address> {
        let (local, domain) = self.bounce.as_ref()?;
        let tag = bulletin_core::token::bounce_tag(secret, message_key, recipient);
        lettre::Address::new(format!("{local}+{message_key}.{tag}"), domain).ok()
    }

    /// Whether the SMTP server is on this machine (a development sink), so
    /// links to a loopback site can only reach this machine's own mailboxes.
    pub fn is_loopback(&self) -> bool {
        bulletin_core::is_loopback_host(&self.endpoint.host)
    }

    /// Opens an SMTP session: connect, EHLO, TLS as the URL says, AUTH when
    /// it carries a user and password.
    pub async fn connect(&self) -> Result<Connection, MailError> {
        let e = &self.endpoint;
        let wrapper = match &e.tls {
            Tls::Wrapper(parameters) => Some(parameters.clone()),
            _ => None,
        };
        let mut conn = within(
            AsyncSmtpConnection::connect_tokio1(
                (e.host.as_str(), e.port),
                Some(TIMEOUT),
                &e.hello,
                wrapper,
                None,
            ),
            "connecting",
        )
        .await?;
        let setup = async {
            match &e.tls {
                Tls::Required(parameters) => {
                    conn.starttls(parameters.clone(), &e.hello).await?;
                }
                Tls::Opportunistic(parameters) if conn.can_starttls() => {
                    conn.starttls(parameters.clone(), &e.hello).await?;
                }
                _ => {}
            }
            if let Some(credentials) = &e.credentials {
                conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await?;
            }
            Ok::<(), lettre::transport::smtp::Error>(())
        };
        within(setup, "starting the session").await?;
        Ok(Connection {
            conn,
            last_used: Instant::now(),
            signers: std::sync::Arc::clone(&self.signers),
        })
    }

    /// Sends one message in a session of its own.
    pub async fn send(&self, message: Message) -> Result<(), MailError> {
        let mut connection = self.connect().await?;
        connection.send(&message).await?;
        connection.quit().await;
        Ok(())
    }

    /// A short plain-text message from this sender (a confirmation or sign-in
    /// link), with every header value checked as [`crate::message`] checks them.
    pub fn notice(&self, to: &str, subject: &str, text: &str) -> Result<Message, MailError> {
        crate::message::notice(&self.from, to, subject, text)
    }
}

/// Where the server is and how to talk to it, read from the URL the way
/// lettre's `from_url` reads it (`smtp://`, `smtps://`, `?tls=required` or
/// `opportunistic`, a path for the EHLO name, percent-encoded credentials).
#[derive(Clone)]
struct Endpoint {
    host: String,
    port: u16,
    tls: Tls,
    hello: ClientId,
    credentials: Option<Credentials>,
}

impl Endpoint {
    fn from_url(raw: &str) -> Result<Endpoint, MailError> {
        // Errors name the server without its password.
        let bad = |why: String| MailError::BadServer {
            url: redact::url(raw),
            why,
        };
        let url = url::Url::parse(raw).map_err(|e| bad(e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("it names no host".into()))?;
        // `[::1]` connects as `::1`.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let tls_mode = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let parameters = || TlsParameters::new(host.clone()).map_err(|e| bad(e.to_string()));
        let (port, tls) = match (url.scheme(), tls_mode.as_deref()) {
            ("smtp", None) => (25, Tls::None),
            ("smtp", Some("required")) => (587, Tls::Required(parameters()?)),
            ("smtp", Some("opportunistic")) => (587, Tls::Opportunistic(parameters()?)),
            ("smtps", _) => (465, Tls::Wrapper(parameters()?)),
            (scheme, tls) => {
                return Err(bad(format!(
                    "use smtp:// (with ?tls=required or ?tls=opportunistic for STARTTLS) or                      smtps://, not {scheme}://{}",
                    tls.map(|t| format!(" with tls={t}")).unwrap_or_default()
                )));
            }
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let decode = |s: &str| -> Result<String, MailError> {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(Cow::into_owned)
                .map_err(|_| bad("its user or password is not percent-encoded UTF-8".into()))
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        Ok(Endpoint {
            host,
            port: url.port().unwrap_or(port),
            tls,
            hello,
            credentials,
        })
    }
}

/// `future`, or a timeout error after [`TIMEOUT`].
async fn within<T, E: Into<MailError>>(
    future: impl Future<Output = Result<T, E>>,
    doing: &'static str,
) -> Result<T, MailError> {
    match tokio::time::timeout(TIMEOUT, future).await {
        Ok(result) => result.map_err(Into::into),
        Err(_) => Err(MailError::Timeout {
            doing,
            seconds: TIMEOUT.as_secs(),
        }),
    }
}

/// One SMTP session, for message after message. After an error it is closed
/// ([`Connection::is_open`] says so) and a new one must be opened.
pub struct Connection {
    conn: AsyncSmtpConnection,
    last_used: Instant,
    signers: std::sync::Arc<[crate::dkim::Signer]>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("open", &!self.conn.has_broken())
            .finish()
    }
}

impl Connection {
    /// Sends `message` to the recipients of its envelope. On any error the
    /// session is closed.
    pub async fn send(&mut self, message: &Message) -> Result<(), MailError> {
        let result = within(self.transaction(message), "sending a message").await;
        self.last_used = Instant::now();
        if result.is_err() {
            self.conn.abort().await;
        }
        result
    }

    async fn transaction(&mut self, message: &Message) -> Result<(), MailError> {
        let envelope = message.envelope();
        let mut body = message.formatted();
        // Signed as it leaves, over the very bytes sent (a message retried
        // later is signed afresh); one signature per key.
        if !self.signers.is_empty() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            for signer in self.signers.iter() {
                body = signer.sign(&body, now)?;
            }
        }
        let mut options = Vec::new();
        let non_ascii = |a: &lettre::Address| !AsRef::<str>::as_ref(a).is_ascii();
        if envelope.from().is_some_and(non_ascii) || envelope.to().iter().any(non_ascii) {
            if !self
                .conn
                .server_info()
                .supports_feature(Extension::SmtpUtfEight)
            {
                return Err(MailError::Unsupported(
                    "an address is not ASCII and the server does not take SMTPUTF8",
                ));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        if !body.is_ascii() {
            if !self
                .conn
                .server_info()
                .supports_feature(Extension::EightBitMime)
            {
                return Err(MailError::Unsupported(
                    "the message is not ASCII and the server does not take 8BITMIME",
                ));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }
        self.conn
            .command(Mail::new(envelope.from().cloned(), options))
            .await?;
        for to in envelope.to() {
            self.conn.command(Rcpt::new(to.clone(), Vec::new())).await?;
        }
        self.conn.command(Data).await?;
        // The data, dot-stuffed, and the final dot in one write.
        let data = String::from_utf8(stuffed(&body))
            .map_err(|_| MailError::Unsupported("the message is not UTF-8"))?;
        self.conn.command(DataAndEnd(data)).await?;
        Ok(())
    }

    /// Whether the session is still usable: after an error it is not, and
    /// after a while unused the server may have closed it, which a `NOOP`
    /// finds out (only then: it costs a round trip).
    pub async fn is_open(&mut self) -> bool {
        if self.conn.has_broken() {
            return false;
        }
        if self.last_used.elapsed() < Duration::from_secs(2) {
            return true;
        }
        let alive = tokio::time::timeout(Duration::from_secs(10), self.conn.test_connected())
            .await
            .unwrap_or(false);
        self.last_used = Instant::now();
        alive
    }

    /// Ends the session politely (`QUIT`), ignoring errors.
    pub async fn quit(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.conn.quit()).await;
    }
}

/// A message's data with transparency (RFC 5321 4.5.2: a line that starts
/// with `.` gets another) and the `CRLF . CRLF` that ends it.
fn stuffed(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + body.len() / 64 + 5);
    let mut line_start = true;
    for &b in body {
        if line_start && b == b'.' {
            out.push(b'.');
        }
        out.push(b);
        line_start = b == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// The DATA section as one command to write.
struct DataAndEnd(String);

impl fmt::Display for DataAndEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_stuffed_and_ended() {
        assert_eq!(
            stuffed(b"a\r\n.b\r\n..\r\nc"),
            b"a\r\n..b\r\n...\r\nc\r\n.\r\n"
        );
        assert_eq!(stuffed(b".x\r\n"), b"..x\r\n.\r\n");
    }

    #[test]
    fn endpoints_from_urls() {
        let e = Endpoint::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 2525));
        assert!(matches!(e.tls, Tls::None) && e.credentials.is_none());
        let e = Endpoint::from_url("smtps://u%40x.org:p%3Aw@mail.example.org").unwrap();
        assert_eq!(e.port, 465);
        assert!(matches!(e.tls, Tls::Wrapper(_)) && e.credentials.is_some());
        let e = Endpoint::from_url("smtp://mail.example.org?tls=required").unwrap();
        assert_eq!(e.port, 587);
        assert!(matches!(e.tls, Tls::Required(_)));
        let e = Endpoint::from_url("smtp://[::1]:25/client.example.org").unwrap();
        assert_eq!(e.host, "::1");
        assert_eq!(e.hello, ClientId::Domain("client.example.org".into()));
        for bad in [
            "not a url",
            "ftp://example.org",
            "smtp://x?tls=maybe",
            "smtp:///",
        ] {
            assert!(Endpoint::from_url(bad).is_err(), "{bad}");
        }
        let err = Endpoint::from_url("imap://u:hunter2@x.org")
            .err()
            .unwrap()
            .to_string();
        assert!(!err.contains("hunter2"), "{err}");
    }
}
