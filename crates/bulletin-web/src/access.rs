//! Who is reading, for the one access rule.
//!
//! `bulletin_core::render::visible_body(story, entitled)` decides what a reader
//! sees; this module answers `entitled` for the request in hand. The site layer
//! looks up the reader's session cookie once per request and runs the handler
//! inside [`VIEWER`]; pages ask [`reads_everything`]. A request without a
//! valid session is anonymous, and only anonymous pages are cached or
//! validated: a signed-in reader's pages are rendered for them and marked
//! `private, no-store`, so no cache can hand them to anyone else.
//!
//! Feeds, the sitemap, search (index, results and snippets) and the public API
//! are always anonymous: they are fetched without cookies, cached and shared.
//! A paying subscriber's full text reaches them through their private feed.

use std::sync::Arc;

use axum::http::HeaderMap;
use bulletin_core::subscriber::Subscriber;
use bulletin_store::Store;

use crate::admin::auth;

/// The signed-in reader's session cookie.
pub const READER_COOKIE: &str = "bulletin_reader";
/// A reader session ends this long after the sign-in, in any case.
pub const SESSION_MAX_AGE: i64 = 90 * 24 * 3600;
/// ...and this long after its last request.
const SESSION_IDLE: i64 = 30 * 24 * 3600;

/// A signed-in reader, as this request found them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub subscriber: Subscriber,
    pub csrf_token: String,
    /// The store's key of the session (the SHA-256 of the cookie).
    pub id_hash: String,
}

tokio::task_local! {
    /// The reader of the request being handled; unset or `None`: anonymous.
    pub static VIEWER: Option<Arc<SignedIn>>;
}

/// The request's signed-in reader, if any.
pub fn signed_in() -> Option<Arc<SignedIn>> {
    VIEWER.try_with(Clone::clone).ok().flatten()
}

/// The request's answer to the access rule: may this reader see subscribers'
/// stories whole? Only a signed-in subscriber with a paid plan may.
pub fn reads_everything() -> bool {
    signed_in().is_some_and(|s| s.subscriber.reads_everything())
}

/// Whether the request carries a reader cookie at all (cheap; no store read).
pub fn has_cookie(headers: &HeaderMap) -> bool {
    auth::cookie(headers, READER_COOKIE).is_some_and(|v| !v.is_empty())
}

/// The reader whose session cookie the request carries, if it is valid. An
/// expired session is removed.
pub async fn lookup(
    store: &dyn Store,
    headers: &HeaderMap,
    now: i64,
) -> Result<Option<SignedIn>, bulletin_store::StoreError> {
    let Some(id) = auth::cookie(headers, READER_COOKIE).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let hash = auth::id_hash(id);
    let Some(session) = store.reader_session(&hash).await? else {
        return Ok(None);
    };
    if now - session.created_at > SESSION_MAX_AGE || now - session.last_seen_at > SESSION_IDLE {
        store.delete_reader_session(&hash).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= 3600 {
        store.touch_reader_session(&hash, now).await?;
    }
    Ok(Some(SignedIn {
        subscriber: session.subscriber,
        csrf_token: session.csrf_token,
        id_hash: hash,
    }))
}
