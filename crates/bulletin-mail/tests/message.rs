//! The message for one recipient: headers, parts, and refusals of anything that
//! could inject a header or a recipient.

use base64::Engine;
use bulletin_mail::lettre::message::Mailbox;
use bulletin_mail::{Links, MailError, Reader, Rendered, message, render, sender};

use crate::common::{fixture, links};

const LIST_ID: &str = "newsletter.bulletin.example.org";

fn from() -> Mailbox {
    sender(Some("The Bulletin"), "news@bulletin.example.org").unwrap()
}

fn rendered(reader: Reader) -> Rendered {
    render(&fixture().newsletter(), reader, &links())
}

fn build(r: &Rendered, to: &str, to_name: Option<&str>) -> Result<String, MailError> {
    let m = message(r, &from(), to, to_name, &links(), LIST_ID, None)?;
    Ok(String::from_utf8(m.formatted()).unwrap())
}

/// A parsed MIME entity: unfolded headers and the raw body.
struct Entity {
    headers: Vec<(String, String)>,
    body: String,
}

impl Entity {
    fn parse(raw: &str) -> Entity {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap();
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        let headers = unfolded
            .split("\r\n")
            .map(|line| {
                let (name, value) = line.split_once(':').unwrap();
                (name.to_owned(), value.trim().to_owned())
            })
            .collect();
        Entity {
            headers,
            body: body.to_owned(),
        }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    fn parts(&self) -> Vec<Entity> {
        let ct = self.header("Content-Type").unwrap();
        let boundary = ct
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .unwrap()
            .trim_matches('"');
        let delimiter = format!("--{boundary}");
        let mut parts = Vec::new();
        for chunk in self.body.split(&delimiter).skip(1) {
            if chunk.starts_with("--") {
                break;
            }
            let chunk = chunk.strip_prefix("\r\n").unwrap();
            let chunk = chunk.strip_suffix("\r\n").unwrap_or(chunk);
            parts.push(Entity::parse(chunk));
        }
        parts
    }

    /// The body decoded from its transfer encoding, line ends back to `\n`.
    fn decoded(&self) -> String {
        let bytes = match self.header("Content-Transfer-Encoding").unwrap_or("7bit") {
            "7bit" | "8bit" => self.body.as_bytes().to_vec(),
            "quoted-printable" => {
                quoted_printable::decode(self.body.as_bytes(), quoted_printable::ParseMode::Strict)
                    .unwrap()
            }
            "base64" => base64::engine::general_purpose::STANDARD
                .decode(self.body.split_whitespace().collect::<String>())
                .unwrap(),
            other => panic!("unexpected transfer encoding {other}"),
        };
        String::from_utf8(bytes).unwrap().replace("\r\n", "\n")
    }
}

/// RFC 2047 encoded words (`=?utf-8?b?...?=`) back to text; the space between
/// two encoded words is not part of the text.
fn decode_words(value: &str) -> String {
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, token) in value.split(' ').enumerate() {
        let encoded = token
            .strip_prefix("=?utf-8?b?")
            .and_then(|t| t.strip_suffix("?="));
        if i > 0 && !(last_encoded && encoded.is_some()) {
            out.push(' ');
        }
        match encoded {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap();
                out.push_str(&String::from_utf8(bytes).unwrap());
            }
            None => out.push_str(token),
        }
        last_encoded = encoded.is_some();
    }
    out
}

#[test]
fn headers_carry_one_click_unsubscribe_and_the_list() {
    let r = rendered(Reader::Free);
    let raw = build(&r, "reader@example.org", Some("A Reader")).unwrap();
    let m = Entity::parse(&raw);
    assert_eq!(
        m.header("List-Unsubscribe"),
        Some("<https://bulletin.example.org/unsubscribe/?t=abc123>")
    );
    assert_eq!(
        m.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        m.header("List-Id"),
        Some("<newsletter.bulletin.example.org>")
    );
    assert_eq!(
        m.header("From"),
        Some("\"The Bulletin\" <news@bulletin.example.org>")
    );
    assert_eq!(m.header("To"), Some("\"A Reader\" <reader@example.org>"));
    assert_eq!(m.header("MIME-Version"), Some("1.0"));
    let id = m.header("Message-ID").unwrap();
    assert!(
        id.starts_with('<') && id.ends_with("@bulletin.example.org>"),
        "{id}"
    );
    assert!(m.header("Date").is_some());
    assert_eq!(decode_words(m.header("Subject").unwrap()), r.subject);
    for name in ["From", "To", "Subject", "List-Unsubscribe", "Bcc", "Cc"] {
        assert!(m.all(name) <= 1, "{name}");
    }
}

#[test]
fn body_is_multipart_alternative_text_first_and_decodes_back() {
    for reader in [Reader::Free, Reader::Paid] {
        let r = rendered(reader);
        let raw = build(&r, "reader@example.org", None).unwrap();
        let m = Entity::parse(&raw);
        assert!(
            m.header("Content-Type")
                .unwrap()
                .starts_with("multipart/alternative;")
        );
        let parts = m.parts();
        assert_eq!(parts.len(), 2);
        assert_eq!(
            parts[0].header("Content-Type"),
            Some("text/plain; charset=utf-8")
        );
        assert_eq!(
            parts[1].header("Content-Type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(parts[0].decoded(), r.text);
        assert_eq!(parts[1].decoded(), r.html);
    }
}

#[test]
fn the_envelope_has_the_one_recipient() {
    let r = rendered(Reader::Paid);
    // A name that looks like more recipients stays a name.
    let m = message(
        &r,
        &from(),
        "reader@example.org",
        Some("Eve <eve@evil.example>, \"x\" <x@evil.example>; Bcc: all@evil.example"),
        &links(),
        LIST_ID,
        None,
    )
    .unwrap();
    let to: Vec<String> = m.envelope().to().iter().map(|a| a.to_string()).collect();
    assert_eq!(to, ["reader@example.org"]);
    assert_eq!(
        m.envelope().from().map(|a| a.to_string()).as_deref(),
        Some("news@bulletin.example.org")
    );
    let raw = String::from_utf8(m.formatted()).unwrap();
    let parsed = Entity::parse(&raw);
    assert_eq!(parsed.all("Bcc"), 0);
    assert_eq!(parsed.all("To"), 1);
}

fn refused(result: Result<String, MailError>) -> String {
    match result {
        Err(e) => e.to_string(),
        Ok(raw) => panic!("built a message that should be refused:\n{raw}"),
    }
}

#[test]
fn line_breaks_in_names_are_refused() {
    let r = rendered(Reader::Paid);
    for name in [
        "A Reader\r\nBcc: all@evil.example",
        "A Reader\nBcc: all@evil.example",
        "A Reader\rBcc: all@evil.example",
        "A Reader\u{2028}Bcc: all@evil.example",
        "A Reader\u{85}x",
        "A\u{0}Reader",
        "A\tReader",
        "A\u{1b}[31mReader",
    ] {
        let e = refused(build(&r, "reader@example.org", Some(name)));
        assert!(e.contains("recipient name"), "{e}");
        assert!(
            !e.contains('\n') && !e.contains('\r'),
            "error text has a line break: {e}"
        );
    }
    let e = sender(
        Some("The Bulletin\r\nBcc: all@evil.example"),
        "news@bulletin.example.org",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sender name") && e.contains("line break"), "{e}");
    // A Mailbox made without sender()'s checks is checked by message().
    let unchecked = Mailbox::new(
        Some("The Bulletin\nBcc: all@evil.example".into()),
        "news@bulletin.example.org".parse().unwrap(),
    );
    let e = message(
        &r,
        &unchecked,
        "reader@example.org",
        None,
        &links(),
        LIST_ID,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sender name"), "{e}");
}

#[test]
fn line_breaks_in_the_subject_are_refused() {
    for subject in [
        "Issue 1\r\nBcc: all@evil.example",
        "Issue 1\nX: y",
        "Issue 1\r",
        "",
        "   ",
    ] {
        let mut r = rendered(Reader::Paid);
        r.subject = subject.into();
        let e = refused(build(&r, "reader@example.org", None));
        assert!(e.contains("subject"), "{e}");
    }
    // A publication name with a line break reaches the subject through render.
    let mut f = fixture();
    f.publication.name = "Bulletin\r\nBcc: all@evil.example".into();
    let r = render(&f.newsletter(), Reader::Paid, &links());
    assert!(refused(build(&r, "reader@example.org", None)).contains("subject"));
}

#[test]
fn bad_addresses_are_refused() {
    let r = rendered(Reader::Paid);
    for (to, why) in [
        ("reader@example.org\r\nBcc: all@evil.example", "line break"),
        ("reader@example.org\nX: y", "line break"),
        ("reader@example.org\u{0}", "control character"),
        ("readerexample.org", "no @"),
        ("", "empty"),
        ("reader @example.org", "space"),
        ("reader@example.org, other@evil.example", "space"),
        ("A Reader <reader@example.org>", "space"),
        ("<reader@example.org>", "not an email address"),
        ("reader@", "not an email address"),
        ("@example.org", "not an email address"),
        ("reader@exa mple.org", "space"),
        ("reader@@example.org", "not an email address"),
    ] {
        let e = refused(build(&r, to, None));
        assert!(e.contains("recipient address"), "{to:?}: {e}");
        assert!(e.contains(why), "{to:?}: {e}");
    }
    assert!(sender(None, "news").is_err());
    assert!(sender(None, "news@bulletin.example.org\r\n").is_err());
}

#[test]
fn unsubscribe_link_must_be_usable_and_match_the_rendered_copy() {
    let r = rendered(Reader::Paid);
    // Someone else's link: the copy was rendered for another recipient.
    let mut other = links();
    other.unsubscribe = "https://bulletin.example.org/unsubscribe/?t=zzz999".into();
    let e = message(
        &r,
        &from(),
        "reader@example.org",
        None,
        &other,
        LIST_ID,
        None,
    )
    .unwrap_err();
    assert!(matches!(e, MailError::LinksMismatch { .. }), "{e}");

    let f = fixture();
    for (url, why) in [
        ("http://bulletin.example.org/u/1", "https://"),
        ("mailto:leave@bulletin.example.org", "https://"),
        (
            "https://bulletin.example.org/u/1>, <https://evil.example/",
            "angle bracket",
        ),
        (
            "https://bulletin.example.org/u/1\r\nBcc: all@evil.example",
            "line break",
        ),
        ("https://bulletin.example.org/d\u{e9}part", "ASCII"),
    ] {
        let l = Links {
            unsubscribe: url.into(),
            ..links()
        };
        let r = render(&f.newsletter(), Reader::Paid, &l);
        let e = message(&r, &from(), "reader@example.org", None, &l, LIST_ID, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains(why), "{url:?}: {e}");
    }
}

#[test]
fn bad_list_ids_are_refused() {
    let r = rendered(Reader::Paid);
    for id in [
        "",
        "newsletter",
        "news letter.example.org",
        "a.b>\r\nX: y",
        "<a.b>",
    ] {
        let e = message(&r, &from(), "reader@example.org", None, &links(), id, None).unwrap_err();
        assert!(
            matches!(
                e,
                MailError::BadListId { .. } | MailError::HeaderInjection { .. }
            ),
            "{id:?}: {e}"
        );
    }
}

#[test]
fn non_ascii_names_and_subjects_are_encoded_not_refused() {
    let mut f = fixture();
    f.publication.name = "Бюллетень Центральной Азии".into();
    let r = render(&f.newsletter(), Reader::Paid, &links());
    let raw = build(&r, "reader@example.org", Some("Aïgerim Söz")).unwrap();
    let m = Entity::parse(&raw);
    assert!(raw.is_ascii(), "headers and bodies are 7-bit on the wire");
    assert_eq!(decode_words(m.header("Subject").unwrap()), r.subject);
    assert!(m.header("To").unwrap().ends_with("<reader@example.org>"));
}
