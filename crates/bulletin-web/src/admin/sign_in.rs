//! Signing in and out, sessions, and the first-run setup link.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use bulletin_core::staff::Role;
use bulletin_store::Actor;
use minijinja::context;

use super::extract::role;
use super::forms::Form;
use super::render::{Answer, message, no_store, page, redirect};
use super::{StaffForm, auth};
use crate::AppState;
use crate::error::Failure;

pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let note = if q.contains_key("expired") {
        Some("Your session expired; sign in again.")
    } else if q.contains_key("out") {
        Some("You are signed out.")
    } else {
        None
    };
    login_form(
        &state,
        &headers,
        StatusCode::OK,
        note,
        None,
        "",
        q.get("next").map(String::as_str),
    )
}

/// The sign-in form with a fresh double-submit token.
pub fn login_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    note: Option<&str>,
    error: Option<&str>,
    email: &str,
    next: Option<&str>,
) -> Answer {
    let token = auth::random_token()?;
    let mut r = page(
        state,
        None,
        status,
        "admin_login.html",
        context! { note => note, error => error, email => email, form_token => token.clone(), next => safe_next(next) },
    );
    let secure = auth::is_https(headers, &state.options.sessions);
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::FORM_COOKIE, &token, Some(3600), secure),
    );
    Ok(r)
}

/// Only a path inside the admin area is followed after signing in.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with("/admin/")
                && !n.starts_with("//")
                && !n.contains(['\\', '\r', '\n']) =>
        {
            n
        }
        _ => "/admin/",
    }
}

/// The double-submit check of forms shown before a session exists.
fn form_token_ok(headers: &HeaderMap, form: &Form) -> bool {
    let cookie = auth::cookie(headers, auth::FORM_COOKIE).unwrap_or("");
    let field = form.get("form_token").unwrap_or("");
    !auth::is_cross_site(headers) && !cookie.is_empty() && auth::same_secret(cookie, field)
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    body: Bytes,
) -> Answer {
    let form = Form::parse(&body);
    let email = form.get("email").unwrap_or("").trim().to_owned();
    let next = form.get("next").map(str::to_owned);
    if !form_token_ok(&headers, &form) {
        return login_form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            None,
            Some("This form is out of date or came from another site. Please sign in again."),
            &email,
            next.as_deref(),
        );
    }
    let password = form.get("password").unwrap_or("");
    let address = auth::client_address(&extensions);
    let user = match auth::check_login(
        &*state.store,
        &state.options.login_limits,
        &email,
        password,
        &address,
        state.now(),
    )
    .await
    {
        Ok(user) => user,
        Err(why) => {
            let (status, text) = match why {
                auth::LoginRefused::Wrong => (
                    StatusCode::UNAUTHORIZED,
                    "Wrong address or password.".to_owned(),
                ),
                auth::LoginRefused::AccountLocked { minutes } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Too many failed sign-ins for this account: it is locked. Try again in {minutes} minutes."
                    ),
                ),
                auth::LoginRefused::AddressLocked { minutes } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Too many failed sign-ins from your address. Try again in {minutes} minutes."
                    ),
                ),
                auth::LoginRefused::Store(e) => return Err(e.into()),
                auth::LoginRefused::Internal(e) => return Err(Failure::Hashing(e).into()),
            };
            tracing::info!(target: "bulletin::auth", address, status = status.as_u16(), "sign-in refused");
            let mut r = login_form(
                &state,
                &headers,
                status,
                None,
                Some(&text),
                &email,
                next.as_deref(),
            )?;
            if status == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("FormBased realm=\"bulletin admin\""),
                );
            }
            return Ok(r);
        }
    };
    // A session cookie the browser already had is dropped: a new id every time.
    if let Some(old) = auth::cookie(&headers, auth::SESSION_COOKIE) {
        let _ = state.store.delete_session(&auth::id_hash(old)).await;
    }
    start_session(&state, &headers, user.id, safe_next(next.as_deref())).await
}

/// Creates a session and answers with its cookie and a redirect.
async fn start_session(state: &AppState, headers: &HeaderMap, user_id: i64, to: &str) -> Answer {
    let (id, csrf) = (auth::random_token()?, auth::random_token()?);
    state
        .store
        .create_session(&auth::id_hash(&id), user_id, &csrf, state.now())
        .await?;
    tracing::info!(target: "bulletin::auth", user_id, "signed in");
    let secure = auth::is_https(headers, &state.options.sessions);
    let mut r = redirect(to);
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::SESSION_COOKIE, &id, None, secure),
    );
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::FORM_COOKIE, "", Some(0), secure),
    );
    Ok(no_store(r))
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    StaffForm { staff, .. }: StaffForm<role::Contributor>,
) -> Answer {
    state.store.delete_session(&staff.hash).await?;
    let secure = auth::is_https(&headers, &state.options.sessions);
    let mut r = redirect("/admin/login?out=1");
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::SESSION_COOKIE, "", Some(0), secure),
    );
    Ok(r)
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    headers: HeaderMap,
    StaffForm { staff, .. }: StaffForm<role::Contributor>,
) -> Answer {
    state
        .store
        .delete_user_sessions(staff.session.user_id)
        .await?;
    let secure = auth::is_https(&headers, &state.options.sessions);
    let mut r = redirect("/admin/login?out=1");
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::SESSION_COOKIE, "", Some(0), secure),
    );
    Ok(r)
}

pub async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let token = q.get("token").map(String::as_str).unwrap_or("");
    if !state.setup_token_ok(token) {
        return Ok(message(
            &state,
            None,
            StatusCode::NOT_FOUND,
            "No setup here",
            "This setup link is not valid or has been used. Ask the operator for an account \
             (bulletin user add EMAIL --role ROLE).",
        ));
    }
    setup_form(&state, &headers, StatusCode::OK, token, "", None)
}

fn setup_form(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    token: &str,
    email: &str,
    error: Option<&str>,
) -> Answer {
    let form_token = auth::random_token()?;
    let mut r = page(
        state,
        None,
        status,
        "admin_setup.html",
        context! { token => token, email => email, error => error, form_token => form_token.clone() },
    );
    let secure = auth::is_https(headers, &state.options.sessions);
    r.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(auth::FORM_COOKIE, &form_token, Some(3600), secure),
    );
    Ok(r)
}

pub async fn setup(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Answer {
    let form = Form::parse(&body);
    let token = form.get("token").unwrap_or("");
    let email = form.get("email").unwrap_or("").trim();
    if !state.setup_token_ok(token) {
        return Ok(message(
            &state,
            None,
            StatusCode::NOT_FOUND,
            "No setup here",
            "This setup link is not valid or has been used.",
        ));
    }
    if !form_token_ok(&headers, &form) {
        return setup_form(
            &state,
            &headers,
            StatusCode::FORBIDDEN,
            token,
            email,
            Some("This form is out of date; please try again."),
        );
    }
    let email = match bulletin_core::staff::normalize_email(email) {
        Ok(e) => e,
        Err(e) => {
            return setup_form(
                &state,
                &headers,
                StatusCode::UNPROCESSABLE_ENTITY,
                token,
                email,
                Some(&e.to_string()),
            );
        }
    };
    let password = form.get("password").unwrap_or("");
    if form.get("confirm").unwrap_or("") != password {
        return setup_form(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            token,
            &email,
            Some("The two passwords differ."),
        );
    }
    if let Err(e) = bulletin_core::staff::check_password(password, &email) {
        return setup_form(
            &state,
            &headers,
            StatusCode::UNPROCESSABLE_ENTITY,
            token,
            &email,
            Some(&e.to_string()),
        );
    }
    // The link makes the first account only.
    if !state.store.users().await?.is_empty() {
        state.consume_setup_token();
        return Ok(message(
            &state,
            None,
            StatusCode::NOT_FOUND,
            "No setup here",
            "An account exists already: sign in.",
        ));
    }
    let hash = auth::hash_password(password.to_owned())
        .await
        .map_err(Failure::Hashing)?;
    let user = state.store.create_user(&email, Role::Admin, &hash).await?;
    state.consume_setup_token();
    let _ = state
        .store
        .record_audit(
            &Actor::user(user.id, &user.email),
            "create",
            "user",
            &user.email,
            "first admin, by the setup link",
            state.now(),
        )
        .await;
    start_session(&state, &headers, user.id, "/admin/").await
}
