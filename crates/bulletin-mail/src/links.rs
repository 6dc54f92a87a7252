//! The signed links a message carries, made the same way by the sender and
//! the site: `/unsubscribe/TOKEN`, `/subscribe/confirm/TOKEN`,
//! `/account/sign-in/TOKEN`, all under the publication's base URL, signed with
//! the site secret named [`TOKEN_SECRET`] (`Store::site_secret`).

use bulletin_core::token::{Claims, Purpose, sign};

use crate::Links;

/// The name of the site secret that signs every link (`Store::site_secret`).
pub const TOKEN_SECRET: &str = "tokens";

/// A fresh secret to offer `Store::site_secret`: 32 random bytes as hex. The
/// first instance's candidate wins; the others read it back.
pub fn secret_candidate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A random nonce for a single-use token: 16 bytes as hex.
pub fn nonce() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

fn base(site: &str) -> &str {
    site.trim_end_matches('/')
}

/// `SITE/unsubscribe/TOKEN`: never expires, may be used again (it only ever
/// unsubscribes). `nonce` keeps two recipients' links apart; the send queue
/// passes the row's message key, so a message sent again carries the same
/// link.
pub fn unsubscribe_url(site: &str, secret: &[u8], email: &str, nonce: &str) -> String {
    let token = sign(secret, &Claims::new(Purpose::Unsubscribe, email, 0, nonce));
    format!("{}/unsubscribe/{token}", base(site))
}

/// The links of one recipient's newsletter.
pub fn recipient_links(site: &str, secret: &[u8], email: &str, nonce: &str) -> Links {
    Links {
        site: base(site).to_owned(),
        unsubscribe: unsubscribe_url(site, secret, email, nonce),
        account: format!("{}/account/", base(site)),
        subscribe: format!("{}/subscribe/", base(site)),
    }
}

/// `newsletter.HOST` for `List-Id`, from the site's base URL.
pub fn default_list_id(site: &str) -> String {
    let host = site
        .split_once("://")
        .map_or(site, |(_, rest)| rest)
        .split(['/', ':', '?'])
        .next()
        .unwrap_or_default();
    format!(
        "newsletter.{}",
        if host.is_empty() { "localhost" } else { host }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bulletin_core::token::verify;

    #[test]
    fn links_are_signed_for_their_purpose() {
        let secret = b"k";
        let links = recipient_links("https://b.example/", secret, "r@x.org", "issue-1-2");
        assert_eq!(links.account, "https://b.example/account/");
        let token = links
            .unsubscribe
            .strip_prefix("https://b.example/unsubscribe/")
            .unwrap();
        let claims = verify(secret, token, Purpose::Unsubscribe, 99).unwrap();
        assert_eq!(claims.email, "r@x.org");
        assert_eq!(claims.expires, 0);
        assert!(verify(secret, token, Purpose::SignIn, 99).is_err());
        assert!(verify(b"other", token, Purpose::Unsubscribe, 99).is_err());
    }

    #[test]
    fn list_id_from_host() {
        assert_eq!(
            default_list_id("https://news.example.org:8443/x"),
            "newsletter.news.example.org"
        );
        assert_eq!(default_list_id(""), "newsletter.localhost");
    }

    #[test]
    fn candidates_differ() {
        assert_ne!(secret_candidate().unwrap(), secret_candidate().unwrap());
        assert_eq!(nonce().unwrap().len(), 32);
    }
}
