//! The newsletter in the newsroom (editors): an issue previewed as a free or
//! a paying reader gets it, a test send to the editor's own address, queueing
//! it for every subscriber, and the send queue's progress.

use std::collections::HashMap;

use crate::routes::RouteBook;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;

use bulletin_core::{Issue, Publication, Story};
use bulletin_store::{SendProgress, StoreError};
use minijinja::{Value, context};

use super::extract::role;
use super::render::{Answer, issue_number, message, not_found, redirect, refused};
use super::{StaffForm, StaffPage};
use crate::AppState;
use crate::error::Failure;

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/admin/issues/{number}/newsletter", preview)
        .post("/admin/issues/{number}/test-send", test_send)
        .post("/admin/issues/{number}/send", queue_newsletter)
}

/// An issue as its newsletter: the issue's stories in order, drafts included
/// (a preview comes before publishing).
pub(crate) async fn newsletter_of(
    state: &AppState,
    number: u32,
) -> Result<Option<(Publication, Issue, Vec<Story>)>, StoreError> {
    let Some(desk) = state.store.issue_desk(number).await? else {
        return Ok(None);
    };
    let mut stories = Vec::with_capacity(desk.stories.len());
    for entry in &desk.stories {
        if let Some(d) = state.store.desk_story(&entry.slug).await? {
            stories.push(d.story);
        }
    }
    let issue = Issue {
        number,
        date: desk.date,
        status: desk.status,
        stories: stories.iter().map(|s| s.slug.clone()).collect(),
    };
    Ok(Some((state.store.publication().await?, issue, stories)))
}

/// The links of a preview or test copy: the real site's, with an unsubscribe
/// link that is signed for the staff member's own address.
async fn staff_links(
    state: &AppState,
    publication: &Publication,
    email: &str,
) -> Result<bulletin_mail::Links, Failure> {
    let secret = state.token_secret().await?;
    Ok(bulletin_mail::links::recipient_links(
        &publication.base_url,
        secret,
        email,
        "preview",
    ))
}

fn reader_of(q: &HashMap<String, String>) -> bulletin_mail::Reader {
    match q.get("as").map(String::as_str) {
        Some("free") => bulletin_mail::Reader::Free,
        _ => bulletin_mail::Reader::Paid,
    }
}

/// The newsletter as an email client would show it (`?as=free` or `paid`).
async fn preview(
    State(state): State<AppState>,
    StaffPage { staff, .. }: StaffPage<role::Editor>,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let number = issue_number(&number).ok_or_else(|| not_found(&state, &staff, "such issue"))?;
    let (publication, issue, stories) = newsletter_of(&state, number)
        .await?
        .ok_or_else(|| not_found(&state, &staff, "such issue"))?;
    let links = staff_links(&state, &publication, &staff.session.email).await?;
    let newsletter = bulletin_mail::Newsletter {
        publication: &publication,
        issue: &issue,
        stories: &stories,
    };
    let rendered = bulletin_mail::render(&newsletter, reader_of(&q), &links);
    let (content_type, body) = if q.get("part").map(String::as_str) == Some("text") {
        ("text/plain; charset=utf-8", rendered.text)
    } else {
        ("text/html; charset=utf-8", rendered.html)
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    // Email HTML is styled inline, which the site's policy forbids; this page
    // gets its own: inline styles and nothing else (no scripts, no loads).
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'self'",
        ),
    );
    Ok(response)
}

/// Sends this issue's newsletter once, to the signed-in editor's own address.
async fn test_send(
    State(state): State<AppState>,
    Path(number): Path<String>,
    StaffForm { staff, form, .. }: StaffForm<role::Editor>,
) -> Answer {
    let number = issue_number(&number).ok_or_else(|| not_found(&state, &staff, "such issue"))?;
    let Some(mailer) = &state.options.mailer else {
        return Ok(message(
            &state,
            Some(&staff),
            StatusCode::SERVICE_UNAVAILABLE,
            "No mail server",
            "This site has no [smtp] settings, so it cannot send. Add them to bulletin.toml and restart.",
        ));
    };
    let (publication, issue, stories) = newsletter_of(&state, number)
        .await?
        .ok_or_else(|| not_found(&state, &staff, "such issue"))?;
    let to = staff.session.email.clone();
    let links = staff_links(&state, &publication, &to).await?;
    let newsletter = bulletin_mail::Newsletter {
        publication: &publication,
        issue: &issue,
        stories: &stories,
    };
    let reader = match form.get("as") {
        Some("free") => bulletin_mail::Reader::Free,
        _ => bulletin_mail::Reader::Paid,
    };
    let rendered = bulletin_mail::render(&newsletter, reader, &links);
    let list_id = mailer.list_id().map_or_else(
        || bulletin_mail::links::default_list_id(&publication.base_url),
        str::to_owned,
    );
    let sent =
        match bulletin_mail::message(&rendered, mailer.from(), &to, None, &links, &list_id, None) {
            Ok(message) => mailer.send(message).await,
            Err(e) => Err(e),
        };
    match sent {
        Ok(()) => Ok(redirect(&format!("/admin/issues/{number}?note=test-sent"))),
        Err(e) => {
            tracing::error!(server = mailer.server(), error = %e, "test send failed");
            Ok(message(
                &state,
                Some(&staff),
                StatusCode::BAD_GATEWAY,
                "Not sent",
                &format!("The test message could not be sent: {e}"),
            ))
        }
    }
}

/// Queues a published issue's newsletter for every active subscriber not yet
/// queued for it; the sender (`bulletin send`, or `serve` with `[smtp]`)
/// delivers it. Queueing twice adds only those who subscribed since.
async fn queue_newsletter(
    State(state): State<AppState>,
    Path(number): Path<String>,
    StaffForm { staff, .. }: StaffForm<role::Editor>,
) -> Answer {
    let number = issue_number(&number).ok_or_else(|| not_found(&state, &staff, "such issue"))?;
    let now = state.now();
    match state.store.queue_issue(number, now).await {
        Ok(added) => {
            let _ = state
                .store
                .record_audit(
                    &staff.actor(),
                    "queue",
                    "newsletter",
                    &number.to_string(),
                    &format!("{added} recipients"),
                    now,
                )
                .await;
            Ok(redirect(&format!("/admin/issues/{number}?note=queued")))
        }
        Err(e) => Err(refused(&state, &staff, e)),
    }
}

/// The send queue's counts for an issue, for the issue page.
pub(crate) async fn progress(state: &AppState, number: u32) -> Option<Value> {
    match state.store.send_progress(number).await {
        Ok(p) if p.total() > 0 => Some(progress_value(&p)),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "cannot read send progress");
            None
        }
    }
}

fn progress_value(p: &SendProgress) -> Value {
    context! {
        total => p.total(), queued => p.queued, sending => p.sending,
        sent => p.sent, failed => p.failed,
        percent => if p.total() == 0 { 0 } else { (p.sent + p.failed) * 100 / p.total() },
    }
}

/// The JSON of an issue's send progress for the staff API.
pub(crate) fn progress_json(number: u32, p: &SendProgress) -> serde_json::Value {
    serde_json::json!({
        "issue": number, "total": p.total(), "queued": p.queued, "sending": p.sending,
        "sent": p.sent, "failed": p.failed,
    })
}
