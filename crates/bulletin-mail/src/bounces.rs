//! Bounces coming back: delivery status notifications (RFC 3464,
//! `multipart/report; report-type=delivery-status`) read from an mbox file
//! or a Maildir folder, each with the VERP address it was sent back to
//! (`bounces+KEY.TAG@domain`, see [`crate::Mailer::verp`]). What to do with
//! them is the caller's (`bulletin bounces import` marks hard bounces).

use std::path::Path;

/// One recipient's report in one notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    /// Where it was read: the file, and the message's number in an mbox.
    pub source: String,
    /// `Final-Recipient` (or `Original-Recipient`), lowercased.
    pub recipient: String,
    /// `Action`: failed, delayed, delivered, relayed or expanded.
    pub action: String,
    /// `Status`: `5.1.1` and the like.
    pub status: String,
    /// The message key and tag of the VERP address it came back to, if any.
    pub verp: Option<(String, String)>,
}

impl Bounce {
    /// Permanent: the address will not take mail (`failed`, status 5.x.x).
    pub fn is_hard(&self) -> bool {
        self.action == "failed" && self.status.starts_with('5')
    }
}

/// Largest message read (a notification quotes at most the original's head).
const MAX_MESSAGE: usize = 10 << 20;

/// The messages of an mbox file, or of a Maildir folder (`cur/` and `new/`),
/// each with where it came from.
pub fn read_messages(path: &Path) -> std::io::Result<Vec<(String, Vec<u8>)>> {
    if path.is_dir() {
        let mut files = Vec::new();
        for sub in ["new", "cur"] {
            let dir = path.join(sub);
            if !dir.is_dir() {
                continue;
            }
            for entry in std::fs::read_dir(&dir)? {
                let entry = entry?;
                if entry.file_type()?.is_file() {
                    files.push(entry.path());
                }
            }
        }
        files.sort();
        return files
            .into_iter()
            .map(|f| {
                let bytes = read_bounded(&f)?;
                Ok((f.display().to_string(), bytes))
            })
            .collect();
    }
    let bytes = read_bounded(path)?;
    let text = normalise(&bytes);
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    let mut previous_blank = true;
    for line in text.split_inclusive(|&b| b == b'\n') {
        let is_from = previous_blank && line.starts_with(b"From ");
        if is_from {
            if let Some(done) = current.take() {
                messages.push(done);
            }
            current = Some(Vec::new());
        } else if let Some(message) = current.as_mut() {
            // mboxrd: one '>' less before a quoted "From " line.
            let unquoted = match line.strip_prefix(b">") {
                Some(rest)
                    if rest.trim_ascii_start().starts_with(b"From ") || rest.starts_with(b">") =>
                {
                    rest
                }
                _ => line,
            };
            message.extend_from_slice(unquoted);
        }
        previous_blank = line == b"\n" || line == b"\r\n";
    }
    messages.extend(current);
    Ok(messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| (format!("{} message {}", path.display(), i + 1), m))
        .collect())
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let len = std::fs::metadata(path)?.len();
    if len > 1 << 30 {
        return Err(std::io::Error::other(format!(
            "{} is {len} bytes; split it first",
            path.display()
        )));
    }
    std::fs::read(path)
}

/// Line ends as `\n` only.
fn normalise(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\r' && bytes.get(i + 1) == Some(&b'\n') {
            i += 1;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// The header fields of a block of lines (unfolded), and the rest after the
/// first empty line.
fn split_head(text: &str) -> (Vec<(String, String)>, &str) {
    let (head, body) = match text.find("\n\n") {
        Some(at) => (&text[..at], &text[at + 2..]),
        None => (text, ""),
    };
    (fields(head), body)
}

/// `Name: value` fields of `block`, folded lines joined.
fn fields(block: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in block.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = out.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    out
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A parameter of a header value (`boundary="x"`), case-insensitively named.
fn parameter(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().trim_matches('"').to_owned())
    })
}

/// The recipients a message reports on, if it is a delivery status
/// notification (none otherwise). `bounce_local` is the part before the `@`
/// of `[smtp] bounce_address`, whose `+KEY.TAG` the VERP address carries.
pub fn parse(source: &str, raw: &[u8], bounce_local: Option<&str>) -> Vec<Bounce> {
    if raw.len() > MAX_MESSAGE {
        return Vec::new();
    }
    let normal = normalise(raw);
    let text = String::from_utf8_lossy(&normal);
    let (head, body) = split_head(&text);
    let content_type = field(&head, "content-type").unwrap_or_default();
    let is_report = content_type
        .split(';')
        .next()
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("multipart/report"));
    let Some(boundary) = parameter(content_type, "boundary").filter(|_| is_report) else {
        return Vec::new();
    };
    let verp = bounce_local.and_then(|local| {
        [
            "to",
            "delivered-to",
            "x-original-to",
            "envelope-to",
            "x-envelope-to",
        ]
        .iter()
        .filter_map(|name| field(&head, name))
        .find_map(|value| verp_of(value, local))
    });
    let delimiter = format!("--{boundary}");
    let mut bounces = Vec::new();
    for part in body.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix('\n').unwrap_or(part);
        let (part_head, part_body) = split_head(part);
        let kind = field(&part_head, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(kind.starts_with("message/delivery-status")
            || kind.starts_with("message/global-delivery-status"))
        {
            continue;
        }
        // The per-message fields first, then one block per recipient.
        for block in part_body.split("\n\n").skip(1) {
            let recipient_fields = fields(block);
            let recipient = field(&recipient_fields, "final-recipient")
                .or_else(|| field(&recipient_fields, "original-recipient"))
                .map(|v| {
                    v.rsplit(';')
                        .next()
                        .unwrap_or(v)
                        .trim()
                        .trim_matches(['<', '>'])
                        .to_ascii_lowercase()
                });
            let (Some(recipient), Some(action)) = (recipient, field(&recipient_fields, "action"))
            else {
                continue;
            };
            let status = field(&recipient_fields, "status")
                .unwrap_or_default()
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_owned();
            bounces.push(Bounce {
                source: source.to_owned(),
                recipient,
                action: action.trim().to_ascii_lowercase(),
                status,
                verp: verp.clone(),
            });
        }
    }
    bounces
}

/// `KEY` and `TAG` of `local+KEY.TAG@domain` somewhere in a header value.
fn verp_of(value: &str, local: &str) -> Option<(String, String)> {
    let prefix = format!("{}+", local.to_ascii_lowercase());
    let lower = value.to_ascii_lowercase();
    let start = lower.find(&prefix)? + prefix.len();
    let rest = &lower[start..];
    let token = &rest[..rest.find('@')?];
    let (key, tag) = token.rsplit_once('.')?;
    let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let tag_ok = tag.len() == 16 && tag.bytes().all(|b| b.is_ascii_hexdigit());
    (key_ok && tag_ok).then(|| (key.to_owned(), tag.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification as RFC 3464's examples lay one out: a human part, the
    /// delivery-status part (per-message fields, then one block per
    /// recipient), and the original's headers.
    fn dsn(to: &str, recipients: &[(&str, &str, &str)]) -> String {
        let mut status = String::from(
            "Reporting-MTA: dns; mx.example.net\r\nArrival-Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n",
        );
        for (recipient, action, code) in recipients {
            status.push_str(&format!(
                "\r\nFinal-Recipient: rfc822; {recipient}\r\nAction: {action}\r\nStatus: {code}\r\nDiagnostic-Code: smtp; 550 no such user\r\n"
            ));
        }
        format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n\
             To: {to}\r\n\
             Subject: Undelivered Mail Returned to Sender\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"B0UND\"\r\n\
             \r\n\
             --B0UND\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\
             --B0UND\r\nContent-Type: message/delivery-status\r\n\r\n{status}\
             --B0UND\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: Issue 7\r\n\
             --B0UND--\r\n"
        )
    }

    #[test]
    fn recipients_actions_statuses_and_the_verp_token() {
        let message = dsn(
            "bounces+issue-7-12.0123456789abcdef@example.org",
            &[
                ("Reader@Example.com", "failed", "5.1.1"),
                ("slow@example.com", "delayed", "4.4.1"),
            ],
        );
        let found = parse("t", message.as_bytes(), Some("bounces"));
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].recipient, "reader@example.com");
        assert!(found[0].is_hard());
        assert!(!found[1].is_hard());
        assert_eq!(
            found[0].verp,
            Some(("issue-7-12".into(), "0123456789abcdef".into()))
        );
        // Another bounce address, or none: no token.
        assert_eq!(parse("t", message.as_bytes(), Some("other"))[0].verp, None);
        // Not a report: nothing.
        assert!(
            parse(
                "t",
                b"From: a@b\r\nSubject: hi\r\n\r\nhello\r\n",
                Some("bounces")
            )
            .is_empty()
        );
    }

    #[test]
    fn mbox_and_maildir_are_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let one = dsn(
            "bounces+issue-1-1.0123456789abcdef@example.org",
            &[("a@example.com", "failed", "5.1.1")],
        );
        let two = dsn(
            "bounces@example.org",
            &[("b@example.com", "failed", "5.2.1")],
        )
        .replace("\r\n", "\n");
        let mbox = dir.path().join("bounces.mbox");
        std::fs::write(
            &mbox,
            format!("From MAILER-DAEMON Mon Dec  7 10:00:00 2026\n{}\n\nFrom MAILER-DAEMON Mon Dec  7 10:01:00 2026\n{two}\n", one.replace("\r\n", "\n")),
        )
        .unwrap();
        let messages = read_messages(&mbox).unwrap();
        assert_eq!(messages.len(), 2);
        let all: Vec<Bounce> = messages
            .iter()
            .flat_map(|(s, m)| parse(s, m, Some("bounces")))
            .collect();
        let recipients: Vec<&str> = all.iter().map(|b| b.recipient.as_str()).collect();
        assert_eq!(recipients, ["a@example.com", "b@example.com"]);
        assert!(all[0].source.ends_with("message 1"));

        let maildir = dir.path().join("Maildir");
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        std::fs::write(maildir.join("new/1.host"), &one).unwrap();
        std::fs::write(maildir.join("cur/2.host:2,S"), &two).unwrap();
        std::fs::write(maildir.join("tmp/3.host"), "half written").unwrap();
        assert_eq!(read_messages(&maildir).unwrap().len(), 2);
    }
}
