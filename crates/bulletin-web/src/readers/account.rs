//! The account page, and a paying subscriber's private feed.

use std::collections::HashMap;

use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect};
use bulletin_core::subscriber::{SubscriberStatus, normalize_name};
use bulletin_core::token::{self, Claims, Purpose};
use bulletin_mail::links::nonce;
use minijinja::context;

use super::*;
use crate::AppState;
use crate::access::{READER_COOKIE, SignedIn};
use crate::admin::auth::{self};

// ---- The account page -----------------------------------------------------

pub(super) async fn account_page(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Answer {
    async {
        let Some(me) = crate::access::signed_in() else {
            return Ok(Redirect::to("/account/sign-in/").into_response());
        };
        let note = if q.contains_key("welcome") {
            Some("Your subscription is confirmed. Welcome.")
        } else if q.contains_key("saved") {
            Some("Saved.")
        } else {
            None
        };
        account_view(&state, &me, StatusCode::OK, note, None).await
    }
    .await
}

pub(super) async fn account_view(
    state: &AppState,
    me: &SignedIn,
    status: StatusCode,
    note: Option<&str>,
    error: Option<&str>,
) -> Answer {
    let s = &me.subscriber;
    let feed = if s.reads_everything() {
        match state.store.feed_nonce(&s.email).await? {
            Some(nonce) => {
                let (_, base) = publication_name(state).await?;
                let claims = Claims::new(Purpose::Feed, &s.email, 0, &nonce);
                Some(format!(
                    "{base}/feed/private/{}/",
                    token::sign(secret(state).await?, &claims)
                ))
            }
            None => None,
        }
    } else {
        None
    };
    page(
        state,
        status,
        "account.html",
        context! {
            email => s.email.clone(),
            name => s.name.clone(),
            plan => s.plan.as_str(),
            paid => s.reads_everything(),
            receiving => s.status == SubscriberStatus::Active,
            bounced => s.status == SubscriberStatus::Bounced,
            feed => feed,
            csrf => me.csrf_token.clone(),
            note => note,
            error => error,
        },
    )
    .await
}

pub(super) async fn account_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    async {
        let Some(me) = crate::access::signed_in() else {
            return Ok(Redirect::to("/account/sign-in/").into_response());
        };
        let field = form.get("csrf").map_or("", String::as_str);
        if auth::is_cross_site(&headers) || !auth::same_secret(&me.csrf_token, field) {
            return account_view(
                &state,
                &me,
                StatusCode::FORBIDDEN,
                None,
                Some("The page had expired. Please try again."),
            )
            .await;
        }
        let now = state.now();
        let email = me.subscriber.email.as_str();
        let store = &state.store;
        match form.get("action").map(String::as_str) {
            Some("stop") => {
                store
                    .set_subscriber_status(email, SubscriberStatus::Unsubscribed, now)
                    .await?;
            }
            // Signed in by a link sent to the address: that is consent.
            Some("start") => {
                store
                    .set_subscriber_status(email, SubscriberStatus::Active, now)
                    .await?;
            }
            Some("name") => {
                let raw = form.get("name").map_or("", String::as_str);
                match normalize_name(raw) {
                    Ok(name) => {
                        store.set_subscriber_name(email, &name, now).await?;
                    }
                    Err(e) => {
                        let error = format!("That name cannot be used: {e}.");
                        return account_view(
                            &state,
                            &me,
                            StatusCode::UNPROCESSABLE_ENTITY,
                            None,
                            Some(&error),
                        )
                        .await;
                    }
                }
            }
            Some("new-feed") if me.subscriber.reads_everything() => {
                let nonce = nonce()?;
                store.set_feed_nonce(email, Some(&nonce), now).await?;
            }
            Some("no-feed") => {
                store.set_feed_nonce(email, None, now).await?;
            }
            Some("sign-out") | Some("sign-out-everywhere") => {
                if form.get("action").map(String::as_str) == Some("sign-out") {
                    store.delete_reader_session(&me.id_hash).await?;
                } else {
                    store.delete_reader_sessions(me.subscriber.id).await?;
                }
                let secure = auth::is_https(&headers, &state.options.sessions);
                let mut response = Redirect::to("/").into_response();
                response.headers_mut().append(
                    header::SET_COOKIE,
                    auth::set_cookie(READER_COOKIE, "", Some(0), secure),
                );
                private(&mut response);
                return Ok(response);
            }
            _ => {
                return account_view(
                    &state,
                    &me,
                    StatusCode::BAD_REQUEST,
                    None,
                    Some("That is not something this page can do."),
                )
                .await;
            }
        }
        let mut response = Redirect::to("/account/?saved").into_response();
        private(&mut response);
        Ok(response)
    }
    .await
}

// ---- The private feed ------------------------------------------------------

pub(super) async fn private_feed(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Answer {
    let not_found = || {
        let mut r = (StatusCode::NOT_FOUND, "No such feed.").into_response();
        private(&mut r);
        r
    };
    async {
        let Some(claims) = verified(&state, &token, Purpose::Feed).await? else {
            return Ok(not_found());
        };
        let Some(subscriber) = state.store.subscriber(&claims.email).await? else {
            return Ok(not_found());
        };
        let current = state.store.feed_nonce(&claims.email).await?;
        if !subscriber.reads_everything() || current.as_deref() != Some(claims.nonce.as_str()) {
            return Ok(not_found());
        }
        let body = crate::feeds::private_rss(&state, PRIVATE_FEED_ITEMS, &token).await?;
        let mut response = (
            [(header::CONTENT_TYPE, "application/rss+xml; charset=utf-8")],
            body,
        )
            .into_response();
        private(&mut response);
        Ok(response)
    }
    .await
}
