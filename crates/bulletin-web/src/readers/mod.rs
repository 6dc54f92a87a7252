//! Readers: subscribing (double opt-in), signing in by a magic link, the
//! account page, unsubscribing (a page, and RFC 8058's one-click POST), and a
//! paying subscriber's private feed.
//!
//! Every link a message carries is a signed token (`bulletin_core::token`)
//! made with the site secret [`bulletin_mail::links::TOKEN_SECRET`]. Links that
//! change something are never acted on by a GET: mail scanners open links,
//! so a GET shows a page with a button, and the POST acts. Confirmation and
//! sign-in tokens expire and are spent once (`Store::spend_token`). The one
//! exception is the one-click unsubscribe POST, which RFC 8058 wants to work
//! without cookies or a form token: its token is the authority, and it only
//! ever unsubscribes.
//!
//! Every answer to "subscribe" or "send me a link" is the same page whether
//! or not the address is known, so the forms reveal no subscriber; and it
//! takes the same path, because mail is only queued (`Outbox::queue_notice`)
//! and the standing sender delivers it, so no answer waits for the SMTP
//! server. Both are rate limited per client address and per email address,
//! each request reserved atomically before anything is queued.
//!
//! A signed-in reader's session is a cookie of 32 random bytes whose SHA-256
//! the store keeps (`reader_sessions`), as staff sessions are kept. What the
//! reader may see is decided by [`crate::access`].

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Redirect, Response};

use bulletin_store::{AttemptLimit, Notice, Reservation};
use minijinja::context;

use crate::AppState;
use crate::admin::auth::{self, FORM_COOKIE};
use crate::error::{Failure, ReaderPage};
use crate::pages::{base_url, render_page, site_facts};
use crate::routes::RouteBook;

/// How long a confirmation link works.
pub const CONFIRM_FOR: i64 = 48 * 3600;
/// How long a sign-in link works.
pub const SIGN_IN_FOR: i64 = 30 * 60;
/// Sign-up and sign-in requests per client address per window.
const PER_ADDRESS: u64 = 10;
/// Messages to one email address per window (no mail-bombing through us).
const PER_EMAIL: u64 = 3;
const WINDOW: i64 = 3600;
/// Items of the private feed.
const PRIVATE_FEED_ITEMS: u32 = 50;

mod account;
mod links;
mod sign_in;
mod subscribe;
pub(crate) mod unsubscribe;

use account::{account_action, account_page, private_feed};
use links::confirm;
use links::confirm_page;
use links::{SIGN_IN_LINK, bad_link, link_page, signed_in_response, spend_link, verified};
use sign_in::{send_sign_in, sign_in, sign_in_link_page, sign_in_page};
use subscribe::{subscribe, subscribe_page};
use unsubscribe::{unsubscribe, unsubscribe_page};

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/subscribe/", subscribe_page)
        .post("/subscribe/", subscribe)
        .get("/subscribe", || async {
            Redirect::permanent("/subscribe/")
        })
        .get("/subscribe/confirm/{token}", confirm_page)
        .post("/subscribe/confirm/{token}", confirm)
        .get("/account/", account_page)
        .post("/account/", account_action)
        .get("/account", || async { Redirect::permanent("/account/") })
        .get("/account/sign-in/", sign_in_page)
        .post("/account/sign-in/", send_sign_in)
        .get("/account/sign-in/{token}", sign_in_link_page)
        .post("/account/sign-in/{token}", sign_in)
        .get("/unsubscribe/{token}", unsubscribe_page)
        .post("/unsubscribe/{token}", unsubscribe)
        .get("/feed/private/{token}/", private_feed)
}

/// What a reader handler returns; failures show as [`ReaderPage`] says.
pub(super) type Answer = crate::error::Answer<ReaderPage>;

/// A reader page: never cached anywhere, never indexed.
pub(super) async fn page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    ctx: minijinja::Value,
) -> Answer {
    let mut response = render_page(state, template, ctx).await?;
    *response.status_mut() = status;
    private(&mut response);
    Ok(response)
}

pub(super) fn private(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
}

/// A page with a message and, when `action` is set, one button that posts to it.
pub(super) async fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    text: &str,
    action: Option<(&str, &str, Option<&str>)>,
) -> Answer {
    let (form_action, button, form_token) = action.unwrap_or_default();
    page(
        state,
        status,
        "reader_message.html",
        context! {
            title => title,
            text => text,
            form_action => form_action,
            button => button,
            form_token => form_token,
        },
    )
    .await
}

/// A page carrying a form with a fresh double-submit token, and its cookie.
pub(super) async fn with_form_token(
    state: &AppState,
    headers: &HeaderMap,
    make: impl AsyncFnOnce(&str) -> Answer,
) -> Answer {
    let token = auth::random_token()?;
    let mut response = make(&token).await?;
    let secure = auth::is_https(headers, &state.options.sessions);
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(FORM_COOKIE, &token, Some(3600), secure),
    );
    Ok(response)
}

/// A public form's post is genuine: same site, and its token matches the cookie.
pub(super) fn form_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let cookie = auth::cookie(headers, FORM_COOKIE).unwrap_or("");
    let field = form.get("form_token").map_or("", String::as_str);
    !auth::is_cross_site(headers) && !cookie.is_empty() && auth::same_secret(cookie, field)
}

pub(super) async fn secret(state: &AppState) -> Result<&[u8], Failure> {
    state.token_secret().await
}

/// Counts one request against both limits; `false` when either is spent. The
/// store reserves the request atomically before any mail is queued, so
/// parallel posts cannot all pass a count read before any was recorded.
pub(super) async fn within_limits(
    state: &AppState,
    address: &str,
    email: &str,
) -> Result<bool, Failure> {
    let now = state.now();
    let by_address = format!("reader-address:{address}");
    let by_email = format!("reader-email:{email}");
    let limits = [
        AttemptLimit {
            key: &by_address,
            max: PER_ADDRESS,
        },
        AttemptLimit {
            key: &by_email,
            max: PER_EMAIL,
        },
    ];
    let reserved = state
        .store
        .reserve_attempt(&limits, now, now.saturating_sub(WINDOW))
        .await?;
    Ok(matches!(reserved, Reservation::Granted(_)))
}

pub(super) async fn publication_name(state: &AppState) -> Result<(String, String), Failure> {
    let facts = site_facts(state).await?;
    Ok((
        facts.publication.name.clone(),
        base_url(&facts.publication).to_owned(),
    ))
}

/// Queues a short message for the standing sender and wakes it; the page
/// the reader gets does not wait for the SMTP server. With
/// `only_if_confirmed`, the store queues it only for a confirmed subscriber,
/// in the same one statement either way, so the answer does the same work
/// whether or not the address is known.
pub(super) async fn queue_notice(
    state: &AppState,
    to: &str,
    subject: &str,
    text: &str,
    only_if_confirmed: bool,
) -> Result<(), Failure> {
    let notice = Notice {
        email: to.to_owned(),
        subject: subject.to_owned(),
        text: text.to_owned(),
    };
    state
        .store
        .queue_notice(&notice, only_if_confirmed, state.now())
        .await?;
    state.options.mail_queued.notify_one();
    Ok(())
}
