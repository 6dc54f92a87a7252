//! Subscribing: the form, and the double opt-in message.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest as _, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bulletin_core::staff::normalize_email;
use bulletin_core::subscriber::{Plan, SubscriberStatus, normalize_name};
use bulletin_core::token::{self, Claims, Purpose};
use bulletin_mail::links::nonce;
use bulletin_store::{NewSubscriber, StoreError};
use minijinja::context;

use super::*;
use crate::AppState;
use crate::admin::auth::{self};

// ---- Subscribing ----------------------------------------------------------

pub(super) async fn subscribe_page(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    subscribe_form(&state, &headers, StatusCode::OK, None, "", "").await
}

pub(super) async fn subscribe_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
    name: &str,
) -> Answer {
    let open = state.options.mailer.is_some();
    with_form_token(state, headers, async |token| {
        page(
            state,
            status,
            "subscribe.html",
            context! { open => open, error => error, email => email, name => name, form_token => token },
        )
        .await
    })
    .await
}

pub(super) async fn subscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Answer {
    let address = auth::client_address(request.extensions());
    let form = match Form::<HashMap<String, String>>::from_request(request, &state).await {
        Ok(Form(form)) => form,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    subscribe_with(&state, &headers, &address, form).await
}

pub(super) async fn subscribe_with(
    state: &AppState,
    headers: &HeaderMap,
    address: &str,
    form: HashMap<String, String>,
) -> Answer {
    let raw_email = form.get("email").map_or("", String::as_str);
    let raw_name = form.get("name").map_or("", String::as_str);
    if state.options.mailer.is_none() {
        return subscribe_form(
            state,
            headers,
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            "",
            "",
        )
        .await;
    }
    if !form_ok(headers, &form) {
        return subscribe_form(
            state,
            headers,
            StatusCode::FORBIDDEN,
            Some("The form had expired. Please send it again."),
            raw_email,
            raw_name,
        )
        .await;
    }
    let email = match normalize_email(raw_email) {
        Ok(email) => email,
        Err(e) => {
            let error = format!("That email address cannot be used: {e}.");
            return subscribe_form(
                state,
                headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&error),
                raw_email,
                raw_name,
            )
            .await;
        }
    };
    let name = match normalize_name(raw_name) {
        Ok(name) => name,
        Err(e) => {
            let error = format!("That name cannot be used: {e}.");
            return subscribe_form(
                state,
                headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(&error),
                raw_email,
                "",
            )
            .await;
        }
    };
    if !within_limits(state, address, &email).await? {
        return message(
            state,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests",
            "Too many sign-ups came from here or for this address. Please try again in an hour.",
            None,
        )
        .await;
    }
    let now = state.now();
    let (publication, base) = publication_name(state).await?;
    let secret = secret(state).await?;
    let existing = state.store.subscriber(&email).await?;
    let known = match existing {
        Some(s) => Some(s),
        None => {
            let new = NewSubscriber {
                email: email.clone(),
                name,
                plan: Plan::Free,
                status: SubscriberStatus::Pending,
            };
            match state.store.add_subscriber(&new, now).await {
                Ok(_) => None,
                // Two sign-ups racing: the other made the row.
                Err(StoreError::Duplicate { .. }) => state.store.subscriber(&email).await?,
                Err(e) => return Err(e.into()),
            }
        }
    };
    let nonce = nonce()?;
    match known {
        // Already receiving it: a sign-in link instead, so the same form
        // serves a reader who only wants in.
        Some(s) if s.status == SubscriberStatus::Active => {
            let claims = Claims::new(Purpose::SignIn, &email, now + SIGN_IN_FOR, &nonce);
            let link = format!("{base}/account/sign-in/{}", token::sign(secret, &claims));
            let text = format!(
                "You asked to subscribe to the {publication}, and this address already receives it.\n\n\
                 To manage your subscription, sign in with this link (it works for 30 minutes, once):\n\n{link}\n\n\
                 If you did not ask, you can ignore this message.\n"
            );
            queue_notice(
                state,
                &email,
                &format!("Your sign-in link for the {publication}"),
                &text,
                false,
            )
            .await?;
        }
        _ => {
            let claims = Claims::new(Purpose::Confirm, &email, now + CONFIRM_FOR, &nonce);
            let link = format!("{base}/subscribe/confirm/{}", token::sign(secret, &claims));
            let text = format!(
                "Someone, probably you, asked to receive the {publication} at this address.\n\n\
                 To confirm, open this link within 48 hours:\n\n{link}\n\n\
                 If you did not ask, ignore this message and you will hear no more from us.\n"
            );
            queue_notice(
                state,
                &email,
                &format!("Confirm your subscription to the {publication}"),
                &text,
                false,
            )
            .await?;
        }
    }
    message(
        state,
        StatusCode::OK,
        "Check your inbox",
        "If the address can receive mail, a message is on its way to it. Open the link in it to finish.",
        None,
    )
    .await
}
