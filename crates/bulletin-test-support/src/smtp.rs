//! A real SMTP server for the tests: `scripts/smtp-sink.py` (PyPI `aiosmtpd`),
//! started on a free loopback port, recording every message it accepts.
//!
//! ```ignore
//! let Some(sink) = SmtpSink::start(&[]) else { return }; // skipped: no python3/aiosmtpd
//! // ... [smtp] url = sink.url() ...
//! let mail = sink.wait_for(1);
//! assert_eq!(mail[0].rcpt_tos, ["reader@example.org"]);
//! assert!(mail[0].header("Subject").is_some());
//! ```
//!
//! Without python3 or aiosmtpd, [`SmtpSink::start`] fails the test with a
//! message saying how to install it, unless skipping is allowed
//! ([`crate::skip_or_fail`]): then it counts a skip and returns `None`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running sink; stopped when dropped (and when the test process dies: it
/// stops when its standard input closes).
pub struct SmtpSink {
    child: Child,
    pub port: u16,
    record: PathBuf,
    _dir: tempfile::TempDir,
}

/// One accepted message, as the sink recorded it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The name the client gave in EHLO/HELO.
    pub helo: String,
    pub mail_from: String,
    pub rcpt_tos: Vec<String>,
    /// The message as sent (CRLF line ends), dot-stuffing undone.
    pub data: String,
}

fn script() -> PathBuf {
    crate::workspace_root().join("scripts/smtp-sink.py")
}

/// `None` after a counted skip (only when skipping is allowed).
fn skip(what: &str) -> Option<SmtpSink> {
    crate::skip_or_fail(
        &format!("the SMTP tests need {what}"),
        "install python3 and PyPI's aiosmtpd (python3 -m pip install aiosmtpd)",
    );
    None
}

impl SmtpSink {
    /// Starts the sink with extra arguments for `smtp-sink.py` (`--bounce
    /// REGEX`, `--tempfail REGEX`, `--tempfail-times N`). `None` (after a
    /// counted skip) when python3 or aiosmtpd is missing and skipping is
    /// allowed.
    pub fn start(args: &[&str]) -> Option<SmtpSink> {
        let probe = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        match probe {
            Err(_) => return skip("python3"),
            Ok(status) if !status.success() => return skip("aiosmtpd"),
            Ok(_) => {}
        }
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("received.jsonl");
        let log = std::fs::File::create(dir.path().join("sink.log")).unwrap();
        let mut child = Command::new("python3")
            .arg(script())
            .arg(&record)
            .arg("--exit-on-stdin-eof")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let Ok(port) = first.trim().parse() else {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.path().join("sink.log")).unwrap_or_default();
            panic!("smtp-sink.py did not start: {first:?}\n{log}");
        };
        Some(SmtpSink {
            child,
            port,
            record,
            _dir: dir,
        })
    }

    /// `smtp://127.0.0.1:PORT`, for `[smtp] url`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// The file the sink appends to: one JSON object a line.
    pub fn record_path(&self) -> &Path {
        &self.record
    }

    /// How many messages have been accepted so far (cheap: counts lines).
    pub fn count(&self) -> usize {
        match std::fs::read(&self.record) {
            Ok(bytes) => bytes.iter().filter(|&&b| b == b'\n').count(),
            Err(_) => 0,
        }
    }

    /// Every message accepted so far, in order.
    pub fn messages(&self) -> Vec<Received> {
        let Ok(text) = std::fs::read_to_string(&self.record) else {
            return Vec::new();
        };
        text.lines().map(Received::from_record).collect()
    }

    /// Waits (up to a minute) until at least `n` messages have arrived and
    /// returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "the sink received {} messages, not {n}",
                self.count()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.messages()
    }

    /// Waits (up to a minute) until the sink holds no session: each one has
    /// ended, so whatever it accepted is in the record, and a client that is
    /// gone (exited, or killed mid-message) can add nothing more. The sink
    /// reads a session's commands in order and drops what is left unread
    /// when the client goes, so once its side of every connection is closed
    /// its record is final for those clients. Read from the kernel's socket
    /// table (`/proc/net/tcp`), so it needs Linux.
    pub fn wait_until_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let open = self.open_sessions();
            if open == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the sink still holds {open} sessions after a minute"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The sink's own sockets on its port that it has not closed: being
    /// opened (SYN_RECV), open (ESTABLISHED), or closed by the client only
    /// (CLOSE_WAIT). Sockets the sink has closed (TIME_WAIT and the like)
    /// and the listener do not count.
    fn open_sessions(&self) -> usize {
        const HELD: [&str; 3] = ["01", "03", "08"];
        let mut open = 0;
        let mut read_any = false;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            read_any = true;
            for line in text.lines().skip(1) {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(state)) = (fields.get(1), fields.get(3)) else {
                    continue;
                };
                let port = local
                    .rsplit_once(':')
                    .and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
                if port == Some(self.port) && HELD.contains(state) {
                    open += 1;
                }
            }
        }
        assert!(
            read_any,
            "cannot read /proc/net/tcp: waiting for the SMTP sink to be idle needs Linux"
        );
        open
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Received {
    /// One line of the sink's record.
    fn from_record(line: &str) -> Received {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = |key: &str| record[key].as_str().unwrap_or_default().to_owned();
        Received {
            helo: text("helo"),
            mail_from: text("mail_from"),
            rcpt_tos: record["rcpt_tos"]
                .as_array()
                .map(|all| {
                    all.iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            data: text("data"),
        }
    }

    /// The single recipient (panics if there are several).
    pub fn to(&self) -> &str {
        assert_eq!(self.rcpt_tos.len(), 1, "{:?}", self.rcpt_tos);
        &self.rcpt_tos[0]
    }

    /// A top-level header's value, unfolded (`None` if absent).
    pub fn header(&self, name: &str) -> Option<String> {
        header(head(&self.data), name)
    }

    /// The `Message-ID` header.
    pub fn message_id(&self) -> String {
        self.header("Message-ID").unwrap_or_default()
    }

    /// The decoded bodies of the MIME parts, with their content types, in
    /// order (one entry for a message that is not multipart).
    pub fn parts(&self) -> Vec<(String, String)> {
        let content_type = self.header("Content-Type").unwrap_or_default();
        let Some(boundary) = content_type
            .split(';')
            .find_map(|p| p.trim().strip_prefix("boundary="))
            .map(|b| b.trim_matches('"').to_owned())
        else {
            return vec![(content_type, decode_entity(&self.data))];
        };
        let delimiter = format!("--{boundary}");
        let body = &self.data[head(&self.data).len()..];
        body.split(delimiter.as_str())
            .skip(1)
            .filter(|part| !part.starts_with("--"))
            .map(|part| {
                let part = part.strip_prefix("\r\n").unwrap_or(part);
                let kind = header(head(part), "Content-Type").unwrap_or_default();
                (kind, decode_entity(part))
            })
            .collect()
    }
}

/// The header block of an entity, up to and including the blank line.
fn head(entity: &str) -> &str {
    match entity.find("\r\n\r\n") {
        Some(at) => &entity[..at + 4],
        None => entity,
    }
}

fn header(head: &str, name: &str) -> Option<String> {
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// An entity's body, decoded from quoted-printable when it says so.
fn decode_entity(entity: &str) -> String {
    let h = head(entity);
    let body = &entity[h.len()..];
    let encoding = header(h, "Content-Transfer-Encoding").unwrap_or_default();
    if encoding.eq_ignore_ascii_case("quoted-printable") {
        quoted_printable(body)
    } else {
        body.to_owned()
    }
}

/// RFC 2045 quoted-printable: soft line breaks and `=XX` bytes.
fn quoted_printable(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            if bytes[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            let hex = std::str::from_utf8(&bytes[i + 1..(i + 3).min(bytes.len())]).unwrap_or("");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}
