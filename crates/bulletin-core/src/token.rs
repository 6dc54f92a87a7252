//! Signed links for email: confirm a sign-up, sign in, unsubscribe.
//!
//! A token is `v1.PAYLOAD.MAC`: the claims as JSON and an HMAC-SHA256 over them
//! with the site's secret, both base64url. Nothing is stored to check one; the
//! store keeps only the nonces of single-use tokens already spent
//! (`Store::spend_token`), so a link works once.
//!
//! ```
//! use bulletin_core::token::{Claims, Purpose, sign, verify};
//! let secret = [7u8; 32];
//! let claims = Claims::new(Purpose::Confirm, "reader@example.org", 1_000 + 3600, "n1");
//! let token = sign(&secret, &claims);
//! assert_eq!(verify(&secret, &token, Purpose::Confirm, 1_000).unwrap(), claims);
//! assert!(verify(&secret, &token, Purpose::SignIn, 1_000).is_err());
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// What a link may do; a token for one purpose is refused for any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Confirm a sign-up (double opt-in). Single use, expires.
    Confirm,
    /// Sign a subscriber in (a magic link). Single use, expires.
    SignIn,
    /// Unsubscribe, from any newsletter ever sent. Never expires; may be used
    /// again (it only ever unsubscribes).
    Unsubscribe,
    /// A paying subscriber's private feed. Revoked by changing `nonce` (the
    /// store keeps the current one).
    Feed,
}

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    #[serde(rename = "p")]
    pub purpose: Purpose,
    #[serde(rename = "e")]
    pub email: String,
    /// Unix seconds; 0 for never.
    #[serde(rename = "x")]
    pub expires: i64,
    /// Random per token, so that two tokens never look alike and a spent one
    /// can be remembered.
    #[serde(rename = "n")]
    pub nonce: String,
}

impl Claims {
    pub fn new(purpose: Purpose, email: &str, expires: i64, nonce: &str) -> Claims {
        Claims {
            purpose,
            email: email.to_owned(),
            expires,
            nonce: nonce.to_owned(),
        }
    }
}

/// Why a token was refused. The words are for logs; visitors get one message
/// for all of them, so a forger learns nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed")]
    Malformed,
    #[error("the token's signature does not match")]
    Forged,
    #[error("the token is for another purpose")]
    WrongPurpose,
    #[error("the token has expired")]
    Expired,
}

/// Longest token accepted: far more than any real one; bounds the work a
/// forged one costs.
const MAX_TOKEN: usize = 2048;

fn mac(secret: &[u8], payload: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length (RFC 2104), so this cannot fail; the key
    // is ours, never a visitor's.
    #[allow(clippy::expect_used)]
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(b"bulletin-token-v1\0");
    mac.update(payload);
    mac
}

/// The tag of a VERP bounce address (`bounces+KEY.TAG@domain`): 16 hex
/// digits of an HMAC over the message key and the recipient's address, so a
/// bounce counts only for the address the message went to, and nobody without
/// the secret can make one that does.
pub fn bounce_tag(secret: &[u8], message_key: &str, recipient: &str) -> String {
    #[allow(clippy::expect_used)]
    let mut mac =
        <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(b"bulletin-bounce-v1\0");
    mac.update(message_key.as_bytes());
    mac.update(b"\0");
    mac.update(recipient.trim().to_ascii_lowercase().as_bytes());
    let tag = mac.finalize().into_bytes();
    tag.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Whether `tag` is [`bounce_tag`]'s for this key and recipient (in constant time).
pub fn bounce_tag_matches(secret: &[u8], message_key: &str, recipient: &str, tag: &str) -> bool {
    let want = bounce_tag(secret, message_key, recipient);
    let tag = tag.to_ascii_lowercase();
    want.len() == tag.len()
        && want
            .bytes()
            .zip(tag.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

pub fn sign(secret: &[u8], claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let tag = mac(secret, &payload).finalize().into_bytes();
    format!("v1.{}.{}", B64.encode(&payload), B64.encode(tag))
}

/// Checks the signature (in constant time), the purpose and the expiry.
pub fn verify(
    secret: &[u8],
    token: &str,
    purpose: Purpose,
    now: i64,
) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.split('.');
    let (Some("v1"), Some(payload), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let payload = B64.decode(payload).map_err(|_| TokenError::Malformed)?;
    let tag = B64.decode(tag).map_err(|_| TokenError::Malformed)?;
    if payload.is_empty() || tag.len() != 32 {
        return Err(TokenError::Malformed);
    }
    mac(secret, &payload)
        .verify_slice(&tag)
        .map_err(|_| TokenError::Forged)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.purpose != purpose {
        return Err(TokenError::WrongPurpose);
    }
    if claims.expires != 0 && claims.expires <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    #[test]
    fn bounce_tags_bind_the_key_and_the_recipient() {
        let tag = super::bounce_tag(b"secret", "issue-493-17", "Reader@Example.org");
        assert_eq!(tag.len(), 16);
        assert!(tag.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(super::bounce_tag_matches(
            b"secret",
            "issue-493-17",
            "reader@example.org",
            &tag.to_uppercase()
        ));
        assert!(!super::bounce_tag_matches(
            b"secret",
            "issue-493-17",
            "victim@example.org",
            &tag
        ));
        assert!(!super::bounce_tag_matches(
            b"secret",
            "issue-493-18",
            "reader@example.org",
            &tag
        ));
        assert!(!super::bounce_tag_matches(
            b"other",
            "issue-493-17",
            "reader@example.org",
            &tag
        ));
        assert!(!super::bounce_tag_matches(
            b"secret",
            "issue-493-17",
            "reader@example.org",
            &tag[..15]
        ));
    }

    use super::*;

    const SECRET: [u8; 32] = [42; 32];

    fn token(expires: i64) -> String {
        sign(
            &SECRET,
            &Claims::new(Purpose::SignIn, "reader@example.org", expires, "abc"),
        )
    }

    #[test]
    fn a_token_checks_out_once_signed() {
        let claims = verify(&SECRET, &token(100), Purpose::SignIn, 99).unwrap();
        assert_eq!(claims.email, "reader@example.org");
        assert_eq!(claims.nonce, "abc");
        let forever = sign(
            &SECRET,
            &Claims::new(Purpose::Unsubscribe, "a@b.org", 0, "n"),
        );
        assert!(verify(&SECRET, &forever, Purpose::Unsubscribe, i64::MAX - 1).is_ok());
    }

    #[test]
    fn expired_forged_and_misused_tokens_are_refused() {
        assert_eq!(
            verify(&SECRET, &token(100), Purpose::SignIn, 100),
            Err(TokenError::Expired)
        );
        assert_eq!(
            verify(&SECRET, &token(100), Purpose::Confirm, 1),
            Err(TokenError::WrongPurpose)
        );
        assert_eq!(
            verify(&[1; 32], &token(100), Purpose::SignIn, 1),
            Err(TokenError::Forged)
        );
        // Another address pasted into a genuine token's payload.
        let genuine = token(100);
        let mac = genuine.rsplit('.').next().unwrap();
        let payload = B64.encode(
            serde_json::to_vec(&Claims::new(Purpose::SignIn, "eve@example.org", 100, "abc"))
                .unwrap(),
        );
        assert_eq!(
            verify(&SECRET, &format!("v1.{payload}.{mac}"), Purpose::SignIn, 1),
            Err(TokenError::Forged)
        );
        for bad in [
            "",
            "v1",
            "v1..",
            "v2.a.b",
            "v1.a.b.c",
            "v1.!!.??",
            &"v1.".repeat(1000),
        ] {
            assert_eq!(
                verify(&SECRET, bad, Purpose::SignIn, 1),
                Err(TokenError::Malformed),
                "{bad:?}"
            );
        }
    }
}
