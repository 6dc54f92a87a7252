//! Single-use links (confirmation, sign-in): a GET shows a page with a
//! button, the POST spends the token.

use std::collections::HashMap;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use bulletin_core::subscriber::{Subscriber, SubscriberStatus};
use bulletin_core::token::{self, Claims, Purpose};

use super::*;
use crate::AppState;
use crate::access::READER_COOKIE;
use crate::admin::auth::{self, FORM_COOKIE};
use crate::error::Failure;

/// Checks a link's token; `None` for every kind of bad token alike.
pub(super) async fn verified(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> Result<Option<Claims>, Failure> {
    let secret = secret(state).await?;
    match token::verify(secret, token, purpose, state.now()) {
        Ok(claims) => Ok(Some(claims)),
        Err(e) => {
            tracing::info!(target: "bulletin::readers", reason = %e, "link refused");
            Ok(None)
        }
    }
}

pub(super) async fn bad_link(state: &AppState, what: &str) -> Answer {
    message(
        state,
        StatusCode::BAD_REQUEST,
        "This link does not work",
        &format!("The link is broken, has expired or was already used. {what}"),
        None,
    )
    .await
}

/// A single-use link from a message (confirm a sign-up, sign in): what its
/// page says, and what to do when it no longer works.
pub(super) struct OneTimeLink {
    purpose: Purpose,
    /// The path the token follows.
    prefix: &'static str,
    title: &'static str,
    text: &'static str,
    button: &'static str,
    /// What to do instead when the link is broken, expired or spent.
    instead: &'static str,
}

pub(super) const CONFIRM_LINK: OneTimeLink = OneTimeLink {
    purpose: Purpose::Confirm,
    prefix: "/subscribe/confirm/",
    title: "Confirm your subscription",
    text: "One more step: press the button to start receiving the newsletter.",
    button: "Confirm my subscription",
    instead: "Sign up again to get a new one.",
};

pub(super) const SIGN_IN_LINK: OneTimeLink = OneTimeLink {
    purpose: Purpose::SignIn,
    prefix: "/account/sign-in/",
    title: "Sign in",
    text: "Press the button to sign in on this device.",
    button: "Sign in",
    instead: "Ask for a new sign-in link.",
};

/// A GET of a single-use link: a page with one button, changing nothing.
pub(super) async fn link_page(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    link: &OneTimeLink,
) -> Answer {
    if verified(state, token, link.purpose).await?.is_none() {
        return bad_link(state, link.instead).await;
    }
    let action = format!("{}{token}", link.prefix);
    with_form_token(state, headers, async |form_token| {
        message(
            state,
            StatusCode::OK,
            link.title,
            link.text,
            Some((&action, link.button, Some(form_token))),
        )
        .await
    })
    .await
}

/// The button's POST: checks the token and the form, spends the token, and
/// gives its subscriber, or the page to show instead.
pub(super) async fn spend_link(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    form: &HashMap<String, String>,
    link: &OneTimeLink,
) -> Result<Result<Subscriber, Response>, crate::error::HttpError<ReaderPage>> {
    let Some(claims) = verified(state, token, link.purpose).await? else {
        return bad_link(state, link.instead).await.map(Err);
    };
    if !form_ok(headers, form) {
        return message(
            state,
            StatusCode::FORBIDDEN,
            "Please try again",
            "The page had expired. Open the link from the message again.",
            None,
        )
        .await
        .map(Err);
    }
    if !state
        .store
        .spend_token(&claims.nonce, claims.expires, state.now())
        .await?
    {
        return bad_link(state, link.instead).await.map(Err);
    }
    match state.store.subscriber(&claims.email).await? {
        Some(subscriber) => Ok(Ok(subscriber)),
        None => bad_link(state, link.instead).await.map(Err),
    }
}

pub(super) async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Answer {
    link_page(&state, &headers, &token, &CONFIRM_LINK).await
}

pub(super) async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    async {
        let subscriber = match spend_link(&state, &headers, &token, &form, &CONFIRM_LINK).await? {
            Ok(subscriber) => subscriber,
            Err(page) => return Ok(page),
        };
        // The reader proved the address: pending, unsubscribed and bounced
        // alike become active (this is the consent an import cannot give).
        if subscriber.status != SubscriberStatus::Active {
            state
                .store
                .set_subscriber_status(&subscriber.email, SubscriberStatus::Active, state.now())
                .await?;
        }
        let mut response =
            signed_in_response(&state, &headers, &subscriber, "/account/?welcome").await?;
        response.headers_mut().append(
            header::SET_COOKIE,
            auth::set_cookie(
                FORM_COOKIE,
                "",
                Some(0),
                auth::is_https(&headers, &state.options.sessions),
            ),
        );
        Ok(response)
    }
    .await
}

/// Starts a session for `subscriber` (a fresh id: no fixation) and sends the
/// browser to `to`.
pub(super) async fn signed_in_response(
    state: &AppState,
    headers: &HeaderMap,
    subscriber: &Subscriber,
    to: &str,
) -> Answer {
    let id = auth::random_token()?;
    let csrf = auth::random_token()?;
    state
        .store
        .create_reader_session(&auth::id_hash(&id), subscriber.id, &csrf, state.now())
        .await?;
    let secure = auth::is_https(headers, &state.options.sessions);
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(
            READER_COOKIE,
            &id,
            Some(crate::access::SESSION_MAX_AGE as u64),
            secure,
        ),
    );
    private(&mut response);
    Ok(response)
}
