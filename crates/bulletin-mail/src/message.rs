//! A rendered newsletter as one recipient's message: multipart/alternative
//! (text first, then HTML), with `List-Id`, `List-Unsubscribe` and
//! `List-Unsubscribe-Post` (RFC 2369, RFC 2919, RFC 8058).
//!
//! Every value that goes into a header is checked here first: a line break or
//! another control character is refused with an error rather than left to the
//! library's encoding, so nothing that could add a header or a recipient is
//! ever built.

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use lettre::Address;
use lettre::Message;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::{Links, MailError, Rendered};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the message for one recipient from the copy rendered for them.
///
/// `to` is a bare address (`reader@example.org`); `to_name` the name shown
/// beside it. `links` must be the links `rendered` was made with: its
/// unsubscribe URL goes into `List-Unsubscribe` (and must be HTTPS, as RFC
/// 8058 requires; plain HTTP is accepted only for a loopback host, for
/// development). `list_id` names the list for `List-Id`, e.g.
/// `newsletter.bulletin.example.org`.
///
/// `message_key` is the left part of the `Message-ID`: the send queue fixes
/// one per recipient when it queues an issue (`issue-493-17` becomes
/// `<issue-493-17@DOMAIN>`, the domain of the sender's address), so a message
/// sent again after a crash is the same message, which receiving systems can
/// recognise. `None` makes a fresh unique one (a test send).
///
/// The message is signed as it is sent (`[[smtp.dkim]]`, see [`crate::dkim`]),
/// the `List-Unsubscribe` headers inside the signature as RFC 8058 wants.
pub fn message(
    rendered: &Rendered,
    from: &Mailbox,
    to: &str,
    to_name: Option<&str>,
    links: &Links,
    list_id: &str,
    message_key: Option<&str>,
) -> Result<Message, MailError> {
    message_from(
        rendered,
        from,
        to,
        to_name,
        links,
        list_id,
        message_key,
        None,
    )
}

/// [`message`] with its own envelope sender (`Return-Path`), such as a VERP
/// bounce address ([`crate::Mailer::verp`]); `None` sends from `from`.
#[allow(clippy::too_many_arguments)]
pub fn message_from(
    rendered: &Rendered,
    from: &Mailbox,
    to: &str,
    to_name: Option<&str>,
    links: &Links,
    list_id: &str,
    message_key: Option<&str>,
    envelope_from: Option<&lettre::Address>,
) -> Result<Message, MailError> {
    check_header_text("subject", &rendered.subject)?;
    if rendered.subject.trim().is_empty() {
        return Err(MailError::Empty { field: "subject" });
    }
    // A Mailbox can be made without any check (`Mailbox::new`), so the
    // sender is checked again here.
    if let Some(name) = &from.name {
        check_header_text("sender name", name)?;
    }
    let from_address = parse_address("sender address", from.email.as_ref())?;
    let to_address = parse_address("recipient address", to)?;
    let to_name = match to_name {
        Some(name) => {
            check_header_text("recipient name", name)?;
            Some(name.trim()).filter(|n| !n.is_empty())
        }
        None => None,
    };
    check_unsubscribe_link(&links.unsubscribe)?;
    check_list_id(list_id)?;
    if !rendered.text.contains(&links.unsubscribe) {
        return Err(MailError::LinksMismatch {
            url: links.unsubscribe.clone(),
        });
    }

    let message_id = match message_key {
        Some(key) => {
            check_message_key(key)?;
            format!("<{key}@{}>", from_address.domain())
        }
        None => message_id(from_address.domain()),
    };
    let mut builder = Message::builder();
    if let Some(sender) = envelope_from {
        // The envelope sender (the Return-Path receivers record): where
        // bounces go, apart from the From address readers see.
        let envelope =
            lettre::address::Envelope::new(Some(sender.clone()), vec![to_address.clone()])
                .map_err(|e| MailError::BadAddress {
                    field: "envelope sender",
                    value: sender.to_string(),
                    why: e.to_string(),
                })?;
        builder = builder.envelope(envelope);
    }
    let message = builder
        .from(Mailbox::new(from.name.clone(), from_address))
        .to(Mailbox::new(to_name.map(str::to_owned), to_address))
        .subject(rendered.subject.clone())
        .date_now()
        .message_id(Some(message_id))
        .header(ListId(format!("<{list_id}>")))
        .header(ListUnsubscribe(format!("<{}>", links.unsubscribe)))
        .header(ListUnsubscribePost)
        .multipart(MultiPart::alternative_plain_html(
            rendered.text.clone(),
            rendered.html.clone(),
        ))?;
    Ok(message)
}

/// A short plain-text message (a confirmation or sign-in link) from `from`
/// to the bare address `to`, each header value checked as [`message`] checks
/// them.
pub(crate) fn notice(
    from: &Mailbox,
    to: &str,
    subject: &str,
    text: &str,
) -> Result<Message, MailError> {
    check_header_text("subject", subject)?;
    if subject.trim().is_empty() {
        return Err(MailError::Empty { field: "subject" });
    }
    if let Some(name) = &from.name {
        check_header_text("sender name", name)?;
    }
    let from_address = parse_address("sender address", from.email.as_ref())?;
    let to_address = parse_address("recipient address", to)?;
    let message_id = message_id(from_address.domain());
    Ok(Message::builder()
        .from(Mailbox::new(from.name.clone(), from_address))
        .to(Mailbox::new(None, to_address))
        .subject(subject.to_owned())
        .date_now()
        .message_id(Some(message_id))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(text.to_owned())?)
}

/// The sender's mailbox (`Name <address>`), checked as [`message`] checks
/// every header value.
pub fn sender(name: Option<&str>, address: &str) -> Result<Mailbox, MailError> {
    let address = parse_address("sender address", address)?;
    let name = match name {
        Some(name) => {
            check_header_text("sender name", name)?;
            Some(name.trim().to_owned()).filter(|n| !n.is_empty())
        }
        None => None,
    };
    Ok(Mailbox::new(name, address))
}

/// Refuses what could break out of a header: CR, LF, every other control
/// character, and the Unicode line and paragraph separators.
fn check_header_text(field: &'static str, value: &str) -> Result<(), MailError> {
    for c in value.chars() {
        let what = match c {
            '\r' | '\n' => "a line break (CR or LF)",
            '\u{85}' | '\u{2028}' | '\u{2029}' => "a Unicode line or paragraph separator",
            c if c.is_control() => "a control character",
            _ => continue,
        };
        return Err(MailError::HeaderInjection {
            field,
            value: value.to_owned(),
            what,
        });
    }
    Ok(())
}

/// A bare address: `user@domain`, nothing around it.
pub(crate) fn parse_address(field: &'static str, value: &str) -> Result<Address, MailError> {
    check_header_text(field, value)?;
    if value.is_empty() {
        return Err(MailError::Empty { field });
    }
    let bad = |why: &str| MailError::BadAddress {
        field,
        value: value.to_owned(),
        why: why.to_owned(),
    };
    if value.chars().any(char::is_whitespace) {
        return Err(bad("it contains a space"));
    }
    if !value.contains('@') {
        return Err(bad("it has no @"));
    }
    value.parse::<Address>().map_err(|e| bad(&e.to_string()))
}

/// The URL of `List-Unsubscribe`: absolute HTTPS (RFC 8058), printable ASCII
/// without the characters that end or split the header's `<...>` list
/// (RFC 2369: commas must be percent-encoded).
fn check_unsubscribe_link(url: &str) -> Result<(), MailError> {
    check_header_text("unsubscribe link", url)?;
    let bad = |why| MailError::BadUnsubscribeLink {
        url: url.to_owned(),
        why,
    };
    if !url.is_ascii() {
        return Err(bad(
            "it has characters outside ASCII (percent-encode them, or use the punycode host)",
        ));
    }
    if url
        .chars()
        .any(|c| c.is_ascii_whitespace() || matches!(c, '<' | '>' | '"' | ','))
    {
        return Err(bad(
            "it contains a space, a comma, a quote or an angle bracket",
        ));
    }
    let (rest, https) = match (url.strip_prefix("https://"), url.strip_prefix("http://")) {
        (Some(rest), _) => (rest, true),
        (None, Some(rest)) => (rest, false),
        (None, None) => return Err(bad("one-click unsubscribe needs an https:// URL")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(bad("it carries a user name or password"));
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    if !https && !matches!(host, "localhost" | "127.0.0.1" | "::1") {
        return Err(bad(
            "one-click unsubscribe needs an https:// URL (http:// only on a loopback host)",
        ));
    }
    Ok(())
}

/// RFC 2919: `list-label.namespace`, dot-atom text with at least one dot.
fn check_list_id(value: &str) -> Result<(), MailError> {
    check_header_text("list id", value)?;
    let bad = |why| MailError::BadListId {
        value: value.to_owned(),
        why,
    };
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    if value.len() > 255 {
        return Err(bad("it is longer than 255 characters"));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if !value
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(atext))
    {
        return Err(bad(
            "it may hold only letters, digits and -_ and the like, in dot-separated parts",
        ));
    }
    if !value.contains('.') {
        return Err(bad("it needs a dot between the list's name and its domain"));
    }
    Ok(())
}

/// The left part of a `Message-ID` (RFC 5322 `id-left`): dot-atom text, so
/// printable ASCII without spaces, `<`, `>`, `@` or other specials, and dots
/// only between other characters.
fn check_message_key(value: &str) -> Result<(), MailError> {
    check_header_text("message key", value)?;
    let bad = |why| MailError::BadMessageId {
        value: value.to_owned(),
        why,
    };
    if value.is_empty() {
        return Err(bad("it is empty"));
    }
    if value.len() > 200 {
        return Err(bad("it is longer than 200 characters"));
    }
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    if !value
        .split('.')
        .all(|part| !part.is_empty() && part.chars().all(atext))
    {
        return Err(bad(
            "it may hold only letters, digits and -_ and the like, with dots only between them",
        ));
    }
    Ok(())
}

/// `<time.counter.random@domain>` with the sender's domain, as RFC 5322 asks
/// (unique, and on the right of the @ a domain the sender speaks for). The
/// random part comes from std's per-process random hash keys: no new
/// dependency for 64 bits that only need to differ between processes.
fn message_id(domain: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(count);
    hasher.write_u128(nanos);
    let random = hasher.finish();
    format!("<{nanos:x}.{count:x}.{random:016x}@{domain}>")
}

/// `List-Id: <newsletter.example.org>` (RFC 2919).
#[derive(Debug, Clone)]
struct ListId(String);

/// `List-Unsubscribe: <https://...>` (RFC 2369).
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

// The values are checked printable ASCII without spaces before these are
// made, so lettre's encoder passes them through unchanged.
impl Header for ListId {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Id")
    }
    fn parse(s: &str) -> Result<Self, BoxError> {
        Ok(ListId(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, BoxError> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(s: &str) -> Result<Self, BoxError> {
        if s.trim() == "List-Unsubscribe=One-Click" {
            Ok(ListUnsubscribePost)
        } else {
            Err(format!("unexpected List-Unsubscribe-Post value {s:?}").into())
        }
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsubscribe_links() {
        assert!(check_unsubscribe_link("https://b.example/u/abc?t=1").is_ok());
        assert!(check_unsubscribe_link("http://127.0.0.1:8080/u/abc").is_ok());
        assert!(check_unsubscribe_link("http://[::1]:8080/u/abc").is_ok());
        assert!(check_unsubscribe_link("http://b.example/u/abc").is_err());
        assert!(check_unsubscribe_link("https://").is_err());
        assert!(check_unsubscribe_link("https://u:p@b.example/").is_err());
        assert!(check_unsubscribe_link("mailto:u@b.example").is_err());
        assert!(check_unsubscribe_link("https://b.example/a>,<https://evil.example/").is_err());
        assert!(check_unsubscribe_link("https://b.example/\u{e9}").is_err());
    }

    #[test]
    fn list_ids() {
        assert!(check_list_id("newsletter.bulletin.example.org").is_ok());
        for bad in ["", "nodot", "a..b", ".a.b", "a b.c", "a>b.c", "a.b\r\nX: y"] {
            assert!(check_list_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn message_keys() {
        for good in ["issue-493-17", "a.b", "x_y+z"] {
            assert!(check_message_key(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "a b",
            "a@b",
            "<a>",
            "a..b",
            ".a",
            "a.",
            "a\r\nX: y",
            "\u{e9}",
        ] {
            assert!(check_message_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn message_ids_differ() {
        let a = message_id("b.example");
        let b = message_id("b.example");
        assert_ne!(a, b);
        assert!(a.starts_with('<') && a.ends_with("@b.example>"));
    }
}
