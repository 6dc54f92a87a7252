//! DKIM signatures on every message bulletin sends (RFC 6376, with Ed25519 by
//! RFC 8463), so that mailbox providers can tell the mail is the domain's own.
//! The key comes from the file `[smtp] dkim_key` names, under the selector
//! `dkim_selector`, for `dkim_domain` (by default the sender address's
//! domain). Bulk-sender rules want one-click unsubscribe covered by the
//! signature: `List-Unsubscribe` and `List-Unsubscribe-Post` are signed
//! wherever a message carries them. `bulletin dkim keygen` makes a key and
//! prints the DNS record to publish.
//!
//! Key files: RSA as PEM, PKCS#1 (`BEGIN RSA PRIVATE KEY`) or PKCS#8
//! (`BEGIN PRIVATE KEY`, what `openssl genpkey -algorithm rsa` writes);
//! Ed25519 as PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
//!
//! The signature is made over the exact bytes that go to the server (relaxed
//! header and body canonicalization, RFC 6376 §3.4.2 and §3.4.4), one
//! `DKIM-Signature` per key, each prepended to the message.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};

use crate::MailError;

/// The DER that precedes an Ed25519 key's 32 bytes in PKCS#8 (RFC 8410).
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Headers signed when a message has them, each once (the last instance,
/// as verifiers pick from the bottom).
const SIGNED: [&str; 10] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "MIME-Version",
    "Content-Type",
    "List-Id",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
];

/// Which kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Rsa,
    Ed25519,
}

impl Algorithm {
    /// The `k=` tag of the DNS record.
    pub fn dns_name(self) -> &'static str {
        match self {
            Algorithm::Rsa => "rsa",
            Algorithm::Ed25519 => "ed25519",
        }
    }
}

/// Signs messages with one key, for one domain and selector. Cheap to clone.
#[derive(Clone)]
pub struct Signer(Arc<SignerInner>);

struct SignerInner {
    selector: String,
    domain: String,
    key: Key,
}

enum Key {
    Rsa(rsa::pkcs1v15::SigningKey<Sha256>),
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("Signer")
            .field("selector", &self.0.selector)
            .field("domain", &self.0.domain)
            .field("algorithm", &self.algorithm())
            .finish()
    }
}

impl Signer {
    /// Reads the key file at `path`; checks the selector and the domain.
    pub fn load(path: &Path, selector: &str, domain: &str) -> Result<Signer, MailError> {
        let bad = |why: String| MailError::Dkim {
            why: format!("{}: {why}", path.display()),
        };
        let pem = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
        let key = parse_key(&pem).map_err(bad)?;
        check_label("dkim_selector", selector)?;
        check_label("dkim_domain", domain)?;
        Ok(Signer(Arc::new(SignerInner {
            selector: selector.to_owned(),
            domain: domain.to_ascii_lowercase(),
            key,
        })))
    }

    pub fn domain(&self) -> &str {
        &self.0.domain
    }

    pub fn selector(&self) -> &str {
        &self.0.selector
    }

    pub fn algorithm(&self) -> Algorithm {
        match self.0.key {
            Key::Rsa(_) => Algorithm::Rsa,
            Key::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// The `DKIM-Signature` header (with its CRLF) for `message`, the bytes
    /// about to be sent, signed at `time` (Unix seconds).
    pub fn signature(&self, message: &[u8], time: u64) -> Result<String, MailError> {
        let (head, body) = split_message(message).ok_or_else(|| MailError::Dkim {
            why: "the message has no end of headers".into(),
        })?;
        let body_hash = b64(&Sha256::digest(canonical_body(body)));
        let fields = header_fields(head);
        let mut signed_names = Vec::new();
        let mut data = Vec::new();
        for name in SIGNED {
            // The last instance of each, as verifiers pick from the bottom.
            if let Some((field_name, value)) = fields
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                data.extend_from_slice(canonical_header(field_name, value).as_bytes());
                data.extend_from_slice(b"\r\n");
                signed_names.push(name.to_ascii_lowercase());
            }
        }
        let algorithm = match self.algorithm() {
            Algorithm::Rsa => "rsa-sha256",
            Algorithm::Ed25519 => "ed25519-sha256",
        };
        let tags = [
            "v=1".to_owned(),
            format!("a={algorithm}"),
            "c=relaxed/relaxed".to_owned(),
            format!("d={}", self.0.domain),
            format!("s={}", self.0.selector),
            format!("t={time}"),
            format!("h={}", signed_names.join(":")),
            format!("bh={body_hash}"),
        ];
        // Folded first, then signed as folded (relaxed canonicalization
        // turns each fold into one space, as the verifier will).
        let unsigned = format!("{} b=", fold_tags(&tags));
        data.extend_from_slice(canonical_header("DKIM-Signature", &unsigned).as_bytes());
        let signature = match &self.0.key {
            Key::Rsa(key) => {
                use rsa::signature::{SignatureEncoding as _, Signer as _};
                key.try_sign(&data)
                    .map_err(|e| MailError::Dkim {
                        why: format!("RSA signing failed: {e}"),
                    })?
                    .to_vec()
            }
            Key::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                // RFC 8463: Ed25519 signs the SHA-256 hash of the data.
                key.sign(&Sha256::digest(&data)).to_bytes().to_vec()
            }
        };
        // The b= value may be folded anywhere: a verifier removes it whole.
        let b = b64(&signature);
        let chunks: Vec<&str> = b
            .as_bytes()
            .chunks(72)
            .map(|c| std::str::from_utf8(c).unwrap_or_default())
            .collect();
        Ok(format!(
            "DKIM-Signature: {unsigned}\r\n {}\r\n",
            chunks.join("\r\n ")
        ))
    }

    /// `message` with this key's signature in front.
    pub fn sign(&self, message: &[u8], time: u64) -> Result<Vec<u8>, MailError> {
        let header = self.signature(message, time)?;
        let mut signed = Vec::with_capacity(header.len() + message.len());
        signed.extend_from_slice(header.as_bytes());
        signed.extend_from_slice(message);
        Ok(signed)
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Headers and body, split at the first empty line.
fn split_message(message: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = message.windows(4).position(|w| w == b"\r\n\r\n")?;
    Some((&message[..at + 2], &message[at + 4..]))
}

/// The header fields (name, raw value with its folding), in order.
fn header_fields(head: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.split("\r\n").filter(|l| !l.is_empty()) {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push_str("\r\n");
                value.push_str(line);
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.to_owned(), value.to_owned()));
        }
    }
    fields
}

/// RFC 6376 §3.4.2: name lowercased; value unfolded, runs of whitespace one
/// space, none at either end.
fn canonical_header(name: &str, value: &str) -> String {
    let unfolded = value.replace("\r\n", "");
    let value = unfolded
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    format!("{}:{value}", name.trim().to_ascii_lowercase())
}

/// RFC 6376 §3.4.4: each line's whitespace runs one space, none at its end;
/// empty lines at the end removed; a non-empty body ends with CRLF.
fn canonical_body(body: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(body);
    let mut lines: Vec<String> = text
        .split("\r\n")
        .map(|line| {
            let mut out = String::with_capacity(line.len());
            let mut space = false;
            for c in line.chars() {
                if c == ' ' || c == '\t' {
                    space = true;
                } else {
                    if space {
                        out.push(' ');
                        space = false;
                    }
                    out.push(c);
                }
            }
            out
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    let mut out = Vec::new();
    for line in lines {
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// The tags joined by `;`, a line break before any tag that would pass 76
/// characters, and the `h=` list broken at its colons (where RFC 6376 allows
/// folding) when it is long. Ends with `;`.
fn fold_tags(tags: &[String]) -> String {
    let mut out = String::new();
    let mut line = "DKIM-Signature: ".len();
    for tag in tags {
        let pieces: Vec<String> = match tag.strip_prefix("h=") {
            Some(names) if tag.len() > 60 => {
                let names: Vec<&str> = names.split(':').collect();
                let mut pieces = vec![format!("h={}", names[0])];
                pieces.extend(names[1..].iter().map(|n| format!(":{n}")));
                pieces
            }
            _ => vec![tag.clone()],
        };
        for (i, piece) in pieces.iter().enumerate() {
            let sep = if out.is_empty() || i > 0 { "" } else { " " };
            if line + sep.len() + piece.len() + 1 > 76 && !out.is_empty() {
                out.push_str("\r\n ");
                line = 1;
            } else {
                out.push_str(sep);
                line += sep.len();
            }
            out.push_str(piece);
            line += piece.len();
        }
        out.push(';');
        line += 1;
    }
    out
}

/// A selector or domain: dot-separated labels of letters, digits and hyphens.
fn check_label(what: &'static str, value: &str) -> Result<(), MailError> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    if ok {
        Ok(())
    } else {
        Err(MailError::Dkim {
            why: format!("{what} {value:?} is not a DNS name (letters, digits, hyphens, dots)"),
        })
    }
}

/// The key of a PEM file.
fn parse_key(pem: &str) -> Result<Key, String> {
    let rsa = |key: rsa::RsaPrivateKey| Key::Rsa(rsa::pkcs1v15::SigningKey::<Sha256>::new(key));
    if pem.contains("-----BEGIN RSA PRIVATE KEY-----") {
        let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
            .map_err(|e| format!("not a readable RSA key: {e}"))?;
        return Ok(rsa(key));
    }
    if !pem.contains("-----BEGIN PRIVATE KEY-----") {
        return Err("not a PEM private key (BEGIN RSA PRIVATE KEY or BEGIN PRIVATE KEY)".into());
    }
    let der = pem_body(pem)?;
    if der.len() == ED25519_PKCS8_PREFIX.len() + 32 && der.starts_with(&ED25519_PKCS8_PREFIX) {
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&der[ED25519_PKCS8_PREFIX.len()..]);
        return Ok(Key::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed)));
    }
    let key = rsa::RsaPrivateKey::from_pkcs8_der(&der)
        .map_err(|e| format!("neither an Ed25519 nor an RSA key: {e}"))?;
    Ok(rsa(key))
}

/// The bytes between a PEM file's first BEGIN and END lines.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("its PEM body is not base64: {e}"))
}

/// A new key: its PKCS#8 PEM (to keep secret) and the `p=` value of its DNS
/// record (the public key).
pub fn generate(algorithm: Algorithm) -> Result<(String, String), MailError> {
    let failed = |why: String| MailError::Dkim { why };
    match algorithm {
        Algorithm::Rsa => {
            let mut rng = rand_core::OsRng;
            let key = rsa::RsaPrivateKey::new(&mut rng, 2048)
                .map_err(|e| failed(format!("cannot make an RSA key: {e}")))?;
            let private =
                rsa::pkcs8::EncodePrivateKey::to_pkcs8_pem(&key, rsa::pkcs8::LineEnding::LF)
                    .map_err(|e| failed(format!("cannot encode the key: {e}")))?
                    .to_string();
            let public = key
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| failed(format!("cannot encode the public key: {e}")))?;
            Ok((
                private,
                base64::engine::general_purpose::STANDARD.encode(public.as_bytes()),
            ))
        }
        Algorithm::Ed25519 => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| failed(format!("no randomness: {e}")))?;
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            let mut der = ED25519_PKCS8_PREFIX.to_vec();
            der.extend_from_slice(&seed);
            let body = base64::engine::general_purpose::STANDARD.encode(&der);
            let private =
                format!("-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n");
            let public = key.verifying_key().to_bytes();
            Ok((
                private,
                base64::engine::general_purpose::STANDARD.encode(public),
            ))
        }
    }
}

/// The TXT record to publish for `selector` at `domain`, split into strings
/// of at most 255 characters as DNS requires.
pub fn dns_record(selector: &str, domain: &str, algorithm: Algorithm, public: &str) -> String {
    let value = format!("v=DKIM1; k={}; p={public}", algorithm.dns_name());
    let strings: Vec<String> = value
        .as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect();
    format!(
        "{selector}._domainkey.{domain}. IN TXT ( {} )",
        strings.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_load_back() {
        for algorithm in [Algorithm::Ed25519, Algorithm::Rsa] {
            let (private, public) = generate(algorithm).unwrap();
            let read = match parse_key(&private).unwrap() {
                Key::Rsa(_) => Algorithm::Rsa,
                Key::Ed25519(_) => Algorithm::Ed25519,
            };
            assert_eq!(read, algorithm);
            assert!(!public.is_empty());
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("key.pem");
            std::fs::write(&path, &private).unwrap();
            let signer = Signer::load(&path, "news2026", "Example.org").unwrap();
            assert_eq!(signer.domain(), "example.org");
            assert!(!format!("{signer:?}").contains(&private[30..60]));
            assert_eq!(signer.algorithm(), algorithm);
        }
    }

    /// RFC 6376 §3.4.5's example of relaxed canonicalization.
    #[test]
    fn relaxed_canonicalization_as_the_rfc_shows_it() {
        let fields = header_fields(b"A: X\r\nB : Y\t\r\n\tZ  \r\n");
        let canonical: Vec<String> = fields.iter().map(|(n, v)| canonical_header(n, v)).collect();
        assert_eq!(canonical, ["a:X", "b:Y Z"]);
        assert_eq!(
            canonical_body(b" C \r\nD \t E\r\n\r\n\r\n"),
            b" C\r\nD E\r\n"
        );
        assert_eq!(canonical_body(b""), b"");
    }

    #[test]
    fn signatures_are_folded_and_name_what_they_sign() {
        let (private, _) = generate(Algorithm::Ed25519).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, private).unwrap();
        let signer = Signer::load(&path, "s1", "example.org").unwrap();
        let message = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nBody\r\n";
        let header = signer.signature(message, 1_800_000_000).unwrap();
        let unfolded = header.replace("\r\n ", " ");
        assert!(
            unfolded.starts_with("DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed; d=example.org; s=s1; t=1800000000;"),
            "{header}"
        );
        assert!(unfolded.contains("h=from:to:subject;"), "{header}");
        assert!(header.lines().all(|l| l.len() <= 78), "{header}");
        assert!(header.ends_with("\r\n"));
        let signed = signer.sign(message, 1_800_000_000).unwrap();
        assert!(signed.ends_with(message));
    }

    #[test]
    fn bad_keys_and_names_are_refused_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "not a key").unwrap();
        let err = Signer::load(&path, "s", "example.org")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("key.pem") && err.contains("not a PEM private key"),
            "{err}"
        );
        let (private, _) = generate(Algorithm::Ed25519).unwrap();
        std::fs::write(&path, private).unwrap();
        let err = Signer::load(&path, "bad selector", "example.org")
            .unwrap_err()
            .to_string();
        assert!(err.contains("dkim_selector"), "{err}");
    }

    #[test]
    fn long_records_are_split_into_dns_strings() {
        let record = dns_record("s1", "example.org", Algorithm::Rsa, &"A".repeat(400));
        assert!(record.starts_with("s1._domainkey.example.org. IN TXT ( \"v=DKIM1; k=rsa; p="));
        let strings: Vec<&str> = record.split('"').skip(1).step_by(2).collect();
        assert_eq!(strings.len(), 2);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert_eq!(
            strings.concat(),
            format!("v=DKIM1; k=rsa; p={}", "A".repeat(400))
        );
    }
}
