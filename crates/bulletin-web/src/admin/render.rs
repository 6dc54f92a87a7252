//! What every admin page shares: the page frame, messages, refusals and
//! redirects.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulletin_core::staff::Role;
use bulletin_store::StoreError;
use minijinja::context;
use minijinja::value::Value;

use super::Staff;
use crate::AppState;
use crate::error::{AdminPage, HttpError};

/// What an admin handler returns.
pub type Answer = crate::error::Answer<AdminPage>;

/// A `303 See Other` to `to`.
pub fn redirect(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

pub fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Renders an admin template with what every admin page shows.
pub fn page(
    state: &AppState,
    staff: Option<&Staff>,
    status: StatusCode,
    template: &str,
    ctx: Value,
) -> Response {
    let me = staff.map(|s| {
        context! {
            email => s.session.email.clone(),
            role => s.session.role.as_str(),
            editor => s.session.role >= Role::Editor,
            admin => s.session.role >= Role::Admin,
        }
    });
    let csrf = staff.map(|s| s.session.csrf_token.clone());
    let ctx = context! { me => me, csrf => csrf, asset_version => format!("{:x}", state.theme.id()), ..ctx };
    match state.theme.render_admin(template, ctx) {
        Ok(body) => no_store(
            (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                body,
            )
                .into_response(),
        ),
        Err(e) => HttpError::<AdminPage>::from(e).into_response(),
    }
}

pub fn message(
    state: &AppState,
    staff: Option<&Staff>,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    page(
        state,
        staff,
        status,
        "admin_message.html",
        context! { title => title, text => text },
    )
}

/// A 404 page saying there is no `what`, to return with `?`.
pub fn not_found(state: &AppState, staff: &Staff, what: &str) -> HttpError<AdminPage> {
    HttpError::answer(message(
        state,
        Some(staff),
        StatusCode::NOT_FOUND,
        "Not found",
        &format!("There is no {what}."),
    ))
}

/// A store refusal or validation error as a page with the right status; any
/// other store failure as the plain 500.
pub fn refused(state: &AppState, staff: &Staff, e: StoreError) -> HttpError<AdminPage> {
    let (status, title, text) = match e {
        StoreError::Refused(m) => (StatusCode::CONFLICT, "Not done", m),
        StoreError::NotFound { what, key } => (
            StatusCode::NOT_FOUND,
            "Not found",
            format!("There is no {what} {key:?}."),
        ),
        StoreError::Duplicate { what, key } => (
            StatusCode::CONFLICT,
            "Already exists",
            format!("{what} {key} already exists."),
        ),
        StoreError::InvalidStory { source, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not saved",
            source.to_string(),
        ),
        other => return other.into(),
    };
    HttpError::answer(message(state, Some(staff), status, title, &text))
}

/// A store write's answer: a redirect to `to` when it worked, else why not.
pub fn done<T>(state: &AppState, staff: &Staff, result: Result<T, StoreError>, to: &str) -> Answer {
    match result {
        Ok(_) => Ok(redirect(to)),
        Err(e) => Err(refused(state, staff, e)),
    }
}

/// An issue number from a path: a positive whole number.
pub fn issue_number(text: &str) -> Option<u32> {
    text.parse().ok().filter(|n| *n > 0)
}

/// Fixed notes shown after a redirect (`?note=`), never text from the request.
pub fn note_text(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "saved" => "Saved.",
        "created" => "Created.",
        "published" => "Published: it is on the site now.",
        "unpublished" => "Unpublished: visitors no longer see it.",
        "deleted" => "Deleted.",
        "scheduled" => "Scheduled.",
        "restored" => "Restored as a new version.",
        "arranged" => "The issue's stories are updated.",
        "signed-out-everywhere" => "Every other session has been signed out.",
        "user-added" => "Account added.",
        "user-changed" => "Account updated.",
        "token-revoked" => "Token revoked: it no longer works.",
        "test-sent" => "The test newsletter is on its way to your address.",
        "queued" => {
            "The newsletter is queued for every subscriber; it goes out as the sender works through the queue."
        }
        _ => return None,
    })
}
