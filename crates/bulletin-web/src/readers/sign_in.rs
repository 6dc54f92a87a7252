//! Signing in by a link sent to the reader's address.

use std::collections::HashMap;

use axum::extract::{Form, FromRequest as _, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use bulletin_core::staff::normalize_email;
use bulletin_core::token::{self, Claims, Purpose};
use bulletin_mail::links::nonce;
use minijinja::context;

use super::*;
use crate::AppState;
use crate::admin::auth::{self};

// ---- Signing in -----------------------------------------------------------

pub(super) async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Answer {
    sign_in_form(&state, &headers, StatusCode::OK, None, "").await
}

pub(super) async fn sign_in_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    error: Option<&str>,
    email: &str,
) -> Answer {
    let open = state.options.mailer.is_some();
    with_form_token(state, headers, async |token| {
        page(
            state,
            status,
            "sign_in.html",
            context! { open => open, error => error, email => email, form_token => token },
        )
        .await
    })
    .await
}

pub(super) async fn send_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Answer {
    let address = auth::client_address(request.extensions());
    let form = match Form::<HashMap<String, String>>::from_request(request, &state).await {
        Ok(Form(form)) => form,
        Err(rejection) => return Ok(rejection.into_response()),
    };
    async {
            let raw = form.get("email").map_or("", String::as_str);
            if !form_ok(&headers, &form) {
                return sign_in_form(
                    &state,
                    &headers,
                    StatusCode::FORBIDDEN,
                    Some("The form had expired. Please send it again."),
                    raw,
                )
                .await;
            }
            if state.options.mailer.is_none() {
                return sign_in_form(&state, &headers, StatusCode::SERVICE_UNAVAILABLE, None, "")
                    .await;
            }
            let Ok(email) = normalize_email(raw) else {
                return sign_in_form(
                    &state,
                    &headers,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("That is not an email address."),
                    raw,
                )
                .await;
            };
            if !within_limits(&state, &address, &email).await? {
                return message(
                    &state,
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many requests",
                    "Too many sign-in links were asked for from here or for this address. Please try again in an hour.",
                    None,
                )
                .await;
            }
            // Only confirmed addresses get a link, but the link is made for
            // every address and the store decides in the one statement that
            // queues it: the answer does the same work either way, and the
            // page says the same.
            let (publication, base) = publication_name(&state).await?;
            let now = state.now();
            let nonce = nonce()?;
            let claims = Claims::new(Purpose::SignIn, &email, now + SIGN_IN_FOR, &nonce);
            let link = format!(
                "{base}/account/sign-in/{}",
                token::sign(secret(&state).await?, &claims)
            );
            let text = format!(
                "To sign in to the {publication}, open this link within 30 minutes. It works once.\n\n{link}\n\n\
                 If you did not ask for it, you can ignore this message.\n"
            );
            queue_notice(
                &state,
                &email,
                &format!("Your sign-in link for the {publication}"),
                &text,
                true,
            )
            .await?;
            message(
                &state,
                StatusCode::OK,
                "Check your inbox",
                "If that address is subscribed, a sign-in link is on its way to it.",
                None,
            )
            .await
        }
        .await
}

pub(super) async fn sign_in_link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Answer {
    link_page(&state, &headers, &token, &SIGN_IN_LINK).await
}

pub(super) async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    async {
        match spend_link(&state, &headers, &token, &form, &SIGN_IN_LINK).await? {
            Ok(subscriber) => signed_in_response(&state, &headers, &subscriber, "/account/").await,
            Err(page) => Ok(page),
        }
    }
    .await
}
