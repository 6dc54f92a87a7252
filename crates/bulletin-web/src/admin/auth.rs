//! Staff sign-in: sessions, CSRF, sign-in throttling and the first-run setup link.
//!
//! - The session cookie carries 32 random bytes; the store keeps only their
//!   SHA-256, so reading the database signs nobody in. Every sign-in makes a new
//!   id (no fixation), and the cookie is HttpOnly, SameSite=Lax, and Secure when
//!   the site is served over HTTPS.
//! - Sessions end after [`SessionPolicy::idle`] without a request and after
//!   [`SessionPolicy::max_age`] in any case.
//! - Every state-changing admin request carries the session's CSRF token in a
//!   form field (or the `X-CSRF-Token` header), and is refused when the browser
//!   says it came from another site. Before there is a session (sign-in, setup),
//!   a double-submit cookie stands in for it.
//! - Sign-in attempts are counted per account and per address before the
//!   password is checked (one atomic reservation in the store, so parallel
//!   attempts cannot slip past the limits); a success forgets the account's
//!   failures and gives back its attempt. Past the limits the account (or the
//!   address) is locked for the window, whether or not the account exists, so
//!   locking reveals nothing; not even the right password is checked then.
//! - Passwords are hashed and checked on the blocking pool, never logged, and
//!   never put in a page.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, HeaderValue, header};
use bulletin_core::staff::{self, Role};
use bulletin_store::{AttemptLimit, Reservation, Session, Store};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "bulletin_session";
/// The double-submit cookie of the sign-in and setup forms.
pub const FORM_COOKIE: &str = "bulletin_form";

/// How long sessions last and whether cookies need HTTPS.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    /// Signed out after this long without a request.
    pub idle: Duration,
    /// Signed out this long after signing in, however active.
    pub max_age: Duration,
    /// Mark cookies `Secure` (set when the public base URL is HTTPS). A request
    /// that arrived over HTTPS through a proxy (`X-Forwarded-Proto: https`) gets
    /// `Secure` cookies either way.
    pub secure_cookies: bool,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle: Duration::from_secs(2 * 3600),
            max_age: Duration::from_secs(7 * 24 * 3600),
            secure_cookies: false,
        }
    }
}

/// Sign-in throttling.
#[derive(Debug, Clone)]
pub struct LoginLimits {
    /// Failures per account within the window before it is locked.
    pub per_account: u64,
    /// Failures per client address within the window before it is refused.
    pub per_address: u64,
    pub window: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            per_account: 5,
            per_address: 30,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// `n` random bytes as unpadded base64url.
pub fn random_token() -> Result<String, getrandom::Error> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// What the store keeps of a session id.
pub fn id_hash(id: &str) -> String {
    let digest = Sha256::digest(id.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of cookie `name`, if the request has it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether cookies for this request must be `Secure`.
pub fn is_https(headers: &HeaderMap, policy: &SessionPolicy) -> bool {
    policy.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value; `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    // Names and values here are base64url or fixed words: always a valid header.
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// The client's address, for throttling: the peer, or behind a trusted proxy
/// the address it forwarded for ([`crate::ClientAddr`]).
pub fn client_address(extensions: &axum::http::Extensions) -> String {
    if let Some(client) = extensions.get::<crate::ClientAddr>() {
        return client.0.to_string();
    }
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

/// Whether the browser says this request came from another site. Browsers send
/// `Sec-Fetch-Site`; older ones at least `Origin` on a cross-site POST.
pub fn is_cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return !matches!(site, "same-origin" | "none");
    }
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    origin == "null" || !origin_host.eq_ignore_ascii_case(host)
}

/// Why a request gets no staff session.
#[derive(Debug)]
pub enum NoSession {
    /// No cookie, or one the store does not know.
    Absent,
    /// It was valid once; now idle or too old (and has been removed).
    Expired,
    Store(bulletin_store::StoreError),
}

/// The request's staff session, kept alive (at most one write a minute).
pub async fn session(
    store: &dyn Store,
    headers: &HeaderMap,
    policy: &SessionPolicy,
    now: i64,
) -> Result<(Session, String), NoSession> {
    let Some(id) = cookie(headers, SESSION_COOKIE).filter(|v| !v.is_empty()) else {
        return Err(NoSession::Absent);
    };
    let hash = id_hash(id);
    let Some(session) = store.session(&hash).await.map_err(NoSession::Store)? else {
        return Err(NoSession::Absent);
    };
    let idle = i64::try_from(policy.idle.as_secs()).unwrap_or(i64::MAX);
    let max_age = i64::try_from(policy.max_age.as_secs()).unwrap_or(i64::MAX);
    if now - session.last_seen_at > idle || now - session.created_at > max_age {
        store
            .delete_session(&hash)
            .await
            .map_err(NoSession::Store)?;
        return Err(NoSession::Expired);
    }
    if now - session.last_seen_at >= 60 {
        store
            .touch_session(&hash, now)
            .await
            .map_err(NoSession::Store)?;
    }
    Ok((session, hash))
}

/// Why a sign-in failed; each has its own message and status.
#[derive(Debug)]
pub enum LoginRefused {
    /// Wrong address or password (never says which).
    Wrong,
    AccountLocked {
        minutes: u64,
    },
    AddressLocked {
        minutes: u64,
    },
    Store(bulletin_store::StoreError),
    Internal(String),
}

/// Checks an address and password against the store and the throttle.
pub async fn check_login(
    store: &dyn Store,
    limits: &LoginLimits,
    email: &str,
    password: &str,
    address: &str,
    now: i64,
) -> Result<bulletin_core::staff::User, LoginRefused> {
    let window = i64::try_from(limits.window.as_secs()).unwrap_or(i64::MAX);
    let minutes = limits.window.as_secs().div_ceil(60);
    let email = staff::normalize_email(email).unwrap_or_else(|_| email.trim().to_lowercase());
    let account_key = format!("account:{email}");
    let address_key = format!("address:{address}");
    // The attempt is counted before the password is checked, in one atomic
    // step: parallel attempts cannot all read a count under the limit while
    // argon2 runs, and past the limit not even the right password is checked.
    let limits = [
        AttemptLimit {
            key: &address_key,
            max: limits.per_address,
        },
        AttemptLimit {
            key: &account_key,
            max: limits.per_account,
        },
    ];
    let reserved = store
        .reserve_attempt(&limits, now, now.saturating_sub(window))
        .await
        .map_err(LoginRefused::Store)?;
    let address_attempt = match reserved {
        Reservation::Granted(ids) => ids.first().copied(),
        Reservation::Refused(0) => return Err(LoginRefused::AddressLocked { minutes }),
        Reservation::Refused(_) => return Err(LoginRefused::AccountLocked { minutes }),
    };
    let found = store
        .user_credentials(&email)
        .await
        .map_err(LoginRefused::Store)?;
    // Without an account, check against a fixed hash anyway: the answer takes
    // as long, so timing does not tell which addresses have accounts.
    let hash = found
        .as_ref()
        .map_or_else(|| DUMMY_HASH.to_owned(), |(_, h)| h.clone());
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || staff::verify_password(&password, &hash))
        .await
        .map_err(|e| LoginRefused::Internal(e.to_string()))?;
    match found {
        Some((user, _)) if ok && !user.disabled => {
            // A success forgets the account's failures and gives back the
            // address's attempt; a failure stays counted under both.
            store
                .clear_login_failures(&account_key)
                .await
                .map_err(LoginRefused::Store)?;
            if let Some(id) = address_attempt {
                store
                    .release_attempt(id)
                    .await
                    .map_err(LoginRefused::Store)?;
            }
            Ok(user)
        }
        _ => Err(LoginRefused::Wrong),
    }
}

/// An argon2id hash of a random password nobody knows, same parameters as real
/// ones.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA";

/// Hashes a new password on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| e.to_string())?;
    tokio::task::spawn_blocking(move || staff::hash_password(&password, &salt))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())
}

/// The minimum role an action needs, and the refusal wording.
pub fn allowed(role: Role, needs: Role) -> bool {
    role >= needs
}
