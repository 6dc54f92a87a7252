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
//! or not the address is known, so the forms reveal no subscriber. Both are
//! rate limited per client address and per email address.
//!
//! A signed-in reader's session is a cookie of 32 random bytes whose SHA-256
//! the store keeps (`reader_sessions`), as staff sessions are kept. What the
//! reader may see is decided by [`crate::access`].

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Form, FromRequest as _, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use bulletin_core::staff::normalize_email;
use bulletin_core::subscriber::{Plan, Subscriber, SubscriberStatus, normalize_name};
use bulletin_core::token::{self, Claims, Purpose};
use bulletin_mail::links::nonce;
use bulletin_store::{NewSubscriber, StoreError};
use minijinja::context;

use crate::AppState;
use crate::access::{READER_COOKIE, SignedIn};
use crate::admin::auth::{self, FORM_COOKIE};
use crate::pages::{base_url, render_page, site_facts};

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

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/subscribe/", get(subscribe_page).post(subscribe))
        .route(
            "/subscribe",
            get(|| async { Redirect::permanent("/subscribe/") }),
        )
        .route(
            "/subscribe/confirm/{token}",
            get(confirm_page).post(confirm),
        )
        .route("/account/", get(account_page).post(account_action))
        .route(
            "/account",
            get(|| async { Redirect::permanent("/account/") }),
        )
        .route("/account/sign-in/", get(sign_in_page).post(send_sign_in))
        .route(
            "/account/sign-in/{token}",
            get(sign_in_link_page).post(sign_in),
        )
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/feed/private/{token}/", get(private_feed))
}

/// What can go wrong answering a reader.
enum Failure {
    Store(StoreError),
    Internal(String),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<crate::pages::PageError> for Failure {
    fn from(e: crate::pages::PageError) -> Self {
        match e {
            crate::pages::PageError::Store(e) => Failure::Store(e),
            crate::pages::PageError::NotFound => Failure::Internal("not found".into()),
            crate::pages::PageError::Template(e) => Failure::Internal(e.to_string()),
        }
    }
}

type Answer = Result<Response, Failure>;

fn finish(answer: Answer) -> Response {
    match answer {
        Ok(r) => r,
        Err(Failure::Store(e)) => {
            tracing::error!(error = %e, "store error on a reader page");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "The site is unavailable; please try again.",
            )
                .into_response()
        }
        Err(Failure::Internal(e)) => {
            tracing::error!(error = %e, "reader page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown.",
            )
                .into_response()
        }
    }
}

/// A reader page: never cached anywhere, never indexed.
async fn page(
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

fn private(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
}

/// A page with a message and, when `action` is set, one button that posts to it.
async fn message(
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
async fn with_form_token(
    state: &AppState,
    headers: &HeaderMap,
    make: impl AsyncFnOnce(&str) -> Answer,
) -> Answer {
    let token = auth::random_token().map_err(|e| Failure::Internal(e.to_string()))?;
    let mut response = make(&token).await?;
    let secure = auth::is_https(headers, &state.options.sessions);
    response.headers_mut().append(
        header::SET_COOKIE,
        auth::set_cookie(FORM_COOKIE, &token, Some(3600), secure),
    );
    Ok(response)
}

/// A public form's post is genuine: same site, and its token matches the cookie.
fn form_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    let cookie = auth::cookie(headers, FORM_COOKIE).unwrap_or("");
    let field = form.get("form_token").map_or("", String::as_str);
    !auth::is_cross_site(headers) && !cookie.is_empty() && auth::same_secret(cookie, field)
}

async fn secret(state: &AppState) -> Result<&[u8], Failure> {
    Ok(state.token_secret().await?)
}

/// Counts one request against both limits; `false` when either is spent.
async fn within_limits(state: &AppState, address: &str, email: &str) -> Result<bool, Failure> {
    let now = auth::now();
    let by_address = format!("reader-address:{address}");
    let by_email = format!("reader-email:{email}");
    let store = &state.store;
    if store.login_failures(&by_address, now - WINDOW).await? >= PER_ADDRESS
        || store.login_failures(&by_email, now - WINDOW).await? >= PER_EMAIL
    {
        return Ok(false);
    }
    for key in [&by_address, &by_email] {
        store.record_login_failure(key, now, now - WINDOW).await?;
    }
    Ok(true)
}

async fn publication_name(state: &AppState) -> Result<(String, String), Failure> {
    let facts = site_facts(state).await?;
    Ok((
        facts.publication.name.clone(),
        base_url(&facts.publication).to_owned(),
    ))
}

/// Sends a short message; a failure is logged (without the server's password)
/// and reported to the caller, who shows the same page either way.
async fn send_notice(state: &AppState, to: &str, subject: &str, text: &str) -> bool {
    let Some(mailer) = &state.options.mailer else {
        return false;
    };
    let sent = match mailer.notice(to, subject, text) {
        Ok(message) => mailer.send(message).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(server = mailer.server(), error = %e, "cannot send a reader notice");
            false
        }
    }
}

// ---- Subscribing ----------------------------------------------------------

async fn subscribe_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    finish(subscribe_form(&state, &headers, StatusCode::OK, None, "", "").await)
}

async fn subscribe_form(
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

async fn subscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let address = auth::client_address(request.extensions());
    let form = match Form::<HashMap<String, String>>::from_request(request, &state).await {
        Ok(Form(form)) => form,
        Err(rejection) => return rejection.into_response(),
    };
    finish(subscribe_with(&state, &headers, &address, form).await)
}

async fn subscribe_with(
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
    let now = auth::now();
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
    let nonce = nonce().map_err(|e| Failure::Internal(e.to_string()))?;
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
            send_notice(
                state,
                &email,
                &format!("Your sign-in link for the {publication}"),
                &text,
            )
            .await;
        }
        _ => {
            let claims = Claims::new(Purpose::Confirm, &email, now + CONFIRM_FOR, &nonce);
            let link = format!("{base}/subscribe/confirm/{}", token::sign(secret, &claims));
            let text = format!(
                "Someone, probably you, asked to receive the {publication} at this address.\n\n\
                 To confirm, open this link within 48 hours:\n\n{link}\n\n\
                 If you did not ask, ignore this message and you will hear no more from us.\n"
            );
            send_notice(
                state,
                &email,
                &format!("Confirm your subscription to the {publication}"),
                &text,
            )
            .await;
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

/// Checks a link's token; `None` for every kind of bad token alike.
async fn verified(
    state: &AppState,
    token: &str,
    purpose: Purpose,
) -> Result<Option<Claims>, Failure> {
    let secret = secret(state).await?;
    match token::verify(secret, token, purpose, auth::now()) {
        Ok(claims) => Ok(Some(claims)),
        Err(e) => {
            tracing::info!(target: "bulletin::readers", reason = %e, "link refused");
            Ok(None)
        }
    }
}

async fn bad_link(state: &AppState, what: &str) -> Answer {
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
struct OneTimeLink {
    purpose: Purpose,
    /// The path the token follows.
    prefix: &'static str,
    title: &'static str,
    text: &'static str,
    button: &'static str,
    /// What to do instead when the link is broken, expired or spent.
    instead: &'static str,
}

const CONFIRM_LINK: OneTimeLink = OneTimeLink {
    purpose: Purpose::Confirm,
    prefix: "/subscribe/confirm/",
    title: "Confirm your subscription",
    text: "One more step: press the button to start receiving the newsletter.",
    button: "Confirm my subscription",
    instead: "Sign up again to get a new one.",
};

const SIGN_IN_LINK: OneTimeLink = OneTimeLink {
    purpose: Purpose::SignIn,
    prefix: "/account/sign-in/",
    title: "Sign in",
    text: "Press the button to sign in on this device.",
    button: "Sign in",
    instead: "Ask for a new sign-in link.",
};

/// A GET of a single-use link: a page with one button, changing nothing.
async fn link_page(
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
async fn spend_link(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    form: &HashMap<String, String>,
    link: &OneTimeLink,
) -> Result<Result<Subscriber, Response>, Failure> {
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
        .spend_token(&claims.nonce, claims.expires, auth::now())
        .await?
    {
        return bad_link(state, link.instead).await.map(Err);
    }
    match state.store.subscriber(&claims.email).await? {
        Some(subscriber) => Ok(Ok(subscriber)),
        None => bad_link(state, link.instead).await.map(Err),
    }
}

async fn confirm_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    finish(link_page(&state, &headers, &token, &CONFIRM_LINK).await)
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    finish(
        async {
            let subscriber =
                match spend_link(&state, &headers, &token, &form, &CONFIRM_LINK).await? {
                    Ok(subscriber) => subscriber,
                    Err(page) => return Ok(page),
                };
            // The reader proved the address: pending, unsubscribed and bounced
            // alike become active (this is the consent an import cannot give).
            if subscriber.status != SubscriberStatus::Active {
                state
                    .store
                    .set_subscriber_status(&subscriber.email, SubscriberStatus::Active, auth::now())
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
        .await,
    )
}

/// Starts a session for `subscriber` (a fresh id: no fixation) and sends the
/// browser to `to`.
async fn signed_in_response(
    state: &AppState,
    headers: &HeaderMap,
    subscriber: &Subscriber,
    to: &str,
) -> Answer {
    let id = auth::random_token().map_err(|e| Failure::Internal(e.to_string()))?;
    let csrf = auth::random_token().map_err(|e| Failure::Internal(e.to_string()))?;
    state
        .store
        .create_reader_session(&auth::id_hash(&id), subscriber.id, &csrf, auth::now())
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

// ---- Signing in -----------------------------------------------------------

async fn sign_in_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    finish(sign_in_form(&state, &headers, StatusCode::OK, None, "").await)
}

async fn sign_in_form(
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

async fn send_sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let address = auth::client_address(request.extensions());
    let form = match Form::<HashMap<String, String>>::from_request(request, &state).await {
        Ok(Form(form)) => form,
        Err(rejection) => return rejection.into_response(),
    };
    finish(
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
            // Only confirmed addresses get a link; the page says the same
            // either way.
            if let Some(s) = state.store.subscriber(&email).await?
                && s.confirmed_at.is_some()
            {
                let (publication, base) = publication_name(&state).await?;
                let now = auth::now();
                let nonce = nonce().map_err(|e| Failure::Internal(e.to_string()))?;
                let claims = Claims::new(Purpose::SignIn, &email, now + SIGN_IN_FOR, &nonce);
                let link = format!(
                    "{base}/account/sign-in/{}",
                    token::sign(secret(&state).await?, &claims)
                );
                let text = format!(
                    "To sign in to the {publication}, open this link within 30 minutes. It works once.\n\n{link}\n\n\
                     If you did not ask for it, you can ignore this message.\n"
                );
                send_notice(
                    &state,
                    &email,
                    &format!("Your sign-in link for the {publication}"),
                    &text,
                )
                .await;
            }
            message(
                &state,
                StatusCode::OK,
                "Check your inbox",
                "If that address is subscribed, a sign-in link is on its way to it.",
                None,
            )
            .await
        }
        .await,
    )
}

async fn sign_in_link_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
) -> Response {
    finish(link_page(&state, &headers, &token, &SIGN_IN_LINK).await)
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    finish(
        async {
            match spend_link(&state, &headers, &token, &form, &SIGN_IN_LINK).await? {
                Ok(subscriber) => {
                    signed_in_response(&state, &headers, &subscriber, "/account/").await
                }
                Err(page) => Ok(page),
            }
        }
        .await,
    )
}

// ---- The account page -----------------------------------------------------

async fn account_page(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
) -> Response {
    finish(
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
        .await,
    )
}

async fn account_view(
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

async fn account_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    finish(
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
            let now = auth::now();
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
                    let nonce = nonce().map_err(|e| Failure::Internal(e.to_string()))?;
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
        .await,
    )
}

// ---- Unsubscribing --------------------------------------------------------

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    finish(
        async {
            let Some(claims) = verified(&state, &token, Purpose::Unsubscribe).await? else {
                return bad_link(&state, "Sign in to your account to unsubscribe.").await;
            };
            let action = format!("/unsubscribe/{token}");
            let text = format!(
                "Stop sending the newsletter to {}? You can subscribe again at any time.",
                claims.email
            );
            // No form token: the signed link is the authority, as in the
            // one-click POST a mail client makes.
            message(
                &state,
                StatusCode::OK,
                "Unsubscribe",
                &text,
                Some((&action, "Unsubscribe", None)),
            )
            .await
        }
        .await,
    )
}

/// RFC 8058: a POST of `List-Unsubscribe=One-Click` to the link unsubscribes,
/// without cookies or any other token. The button on the page posts the same.
async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    finish(
        async {
            let Some(claims) = verified(&state, &token, Purpose::Unsubscribe).await? else {
                return bad_link(&state, "Sign in to your account to unsubscribe.").await;
            };
            let one_click = is_one_click(&body);
            if !one_click {
                return message(
                    &state,
                    StatusCode::BAD_REQUEST,
                    "Unsubscribe",
                    "Use the button on the unsubscribe page.",
                    None,
                )
                .await;
            }
            let now = auth::now();
            if let Some(s) = state.store.subscriber(&claims.email).await?
                && s.status == SubscriberStatus::Active
            {
                state
                    .store
                    .set_subscriber_status(&claims.email, SubscriberStatus::Unsubscribed, now)
                    .await?;
                tracing::info!(target: "bulletin::readers", "a subscriber unsubscribed");
            }
            message(
                &state,
                StatusCode::OK,
                "You are unsubscribed",
                "No more newsletters will be sent to this address. If you pay for a subscription, it is unchanged: sign in to read.",
                None,
            )
            .await
        }
        .await,
    )
}

/// Whether a POST body says `List-Unsubscribe=One-Click`, URL-encoded or as
/// `multipart/form-data` (RFC 8058's own example uses the latter).
fn is_one_click(body: &[u8]) -> bool {
    if form_urlencoded::parse(body).any(|(k, v)| k == "List-Unsubscribe" && v == "One-Click") {
        return true;
    }
    let text = String::from_utf8_lossy(body);
    text.split("\r\n\r\n")
        .collect::<Vec<_>>()
        .windows(2)
        .any(|pair| {
            let head = pair[0].to_ascii_lowercase();
            head.contains("content-disposition: form-data")
                && head.contains("name=\"list-unsubscribe\"")
                && pair[1].lines().next().map(str::trim) == Some("One-Click")
        })
}

// ---- The private feed ------------------------------------------------------

async fn private_feed(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let not_found = || {
        let mut r = (StatusCode::NOT_FOUND, "No such feed.").into_response();
        private(&mut r);
        r
    };
    let answer = async {
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
    .await;
    finish(answer)
}

#[cfg(test)]
mod tests {
    use super::is_one_click;

    #[test]
    fn one_click_bodies() {
        assert!(is_one_click(b"List-Unsubscribe=One-Click"));
        assert!(is_one_click(b"a=b&List-Unsubscribe=One-Click"));
        let multipart = "--XYZ\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--XYZ--\r\n";
        assert!(is_one_click(multipart.as_bytes()));
        assert!(!is_one_click(b""));
        assert!(!is_one_click(b"List-Unsubscribe=Yes"));
        let other = "--XYZ\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nOne-Click\r\n--XYZ--\r\n";
        assert!(!is_one_click(other.as_bytes()));
    }
}
