//! The newsroom's side of subscribers and the newsletter: the subscriber list
//! and plan changes (admins: addresses are personal data), and for editors the
//! newsletter of an issue previewed as a free or a paying reader gets it, a
//! test send to their own address, and the send queue's progress.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bulletin_core::staff::Role;
use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_core::{Issue, Publication, Story};
use bulletin_store::{SendProgress, StoreError, SubscriberQuery};
use minijinja::{Value, context};

use super::{Staff, issue_number, not_found, page, redirect, refused, store_error, story_action};
use crate::AppState;

/// Subscribers on one page of the list.
const PER_PAGE: u32 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/admin/subscribers",
            get(subscribers_page).post(subscriber_action),
        )
        .route("/admin/issues/{number}/newsletter", get(preview))
        .route("/admin/issues/{number}/test-send", post(test_send))
        .route("/admin/issues/{number}/send", post(queue_newsletter))
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
) -> Result<bulletin_mail::Links, String> {
    let secret = state.token_secret().await.map_err(|e| e.to_string())?;
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
    headers: HeaderMap,
    uri: Uri,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let staff = match Staff::of(&state, &headers, &uri).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = staff.require(&state, Role::Editor) {
        return r;
    }
    let Some(number) = issue_number(&number) else {
        return not_found(&state, &staff, "such issue");
    };
    let (publication, issue, stories) = match newsletter_of(&state, number).await {
        Ok(Some(n)) => n,
        Ok(None) => return not_found(&state, &staff, "such issue"),
        Err(e) => return store_error(e),
    };
    let links = match staff_links(&state, &publication, &staff.session.email).await {
        Ok(l) => l,
        Err(e) => return store_error(StoreError::Corrupt(e)),
    };
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
    response
}

/// Sends this issue's newsletter once, to the signed-in editor's own address.
async fn test_send(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let (staff, form) = match story_action(&state, &headers, &uri, &body, Role::Editor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(number) = issue_number(&number) else {
        return not_found(&state, &staff, "such issue");
    };
    let Some(mailer) = &state.options.mailer else {
        return super::message(
            &state,
            Some(&staff),
            StatusCode::SERVICE_UNAVAILABLE,
            "No mail server",
            "This site has no [smtp] settings, so it cannot send. Add them to bulletin.toml and restart.",
        );
    };
    let (publication, issue, stories) = match newsletter_of(&state, number).await {
        Ok(Some(n)) => n,
        Ok(None) => return not_found(&state, &staff, "such issue"),
        Err(e) => return store_error(e),
    };
    let to = staff.session.email.clone();
    let links = match staff_links(&state, &publication, &to).await {
        Ok(l) => l,
        Err(e) => return store_error(StoreError::Corrupt(e)),
    };
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
        Ok(()) => redirect(&format!("/admin/issues/{number}?note=test-sent")),
        Err(e) => {
            tracing::error!(server = mailer.server(), error = %e, "test send failed");
            super::message(
                &state,
                Some(&staff),
                StatusCode::BAD_GATEWAY,
                "Not sent",
                &format!("The test message could not be sent: {e}"),
            )
        }
    }
}

/// Queues a published issue's newsletter for every active subscriber not yet
/// queued for it; the sender (`bulletin send`, or `serve` with `[smtp]`)
/// delivers it. Queueing twice adds only those who subscribed since.
async fn queue_newsletter(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let (staff, _form) = match story_action(&state, &headers, &uri, &body, Role::Editor).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(number) = issue_number(&number) else {
        return not_found(&state, &staff, "such issue");
    };
    let now = super::auth::now();
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
            redirect(&format!("/admin/issues/{number}?note=queued"))
        }
        Err(e) => refused(&state, &staff, e),
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

async fn subscribers_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let staff = match Staff::of(&state, &headers, &uri).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    if let Err(r) = staff.require(&state, Role::Admin) {
        return r;
    }
    let note = match q.get("note").map(String::as_str) {
        Some("plan") => Some("Plan changed."),
        _ => None,
    };
    list(&state, &staff, &q, StatusCode::OK, note, None).await
}

async fn list(
    state: &AppState,
    staff: &Staff,
    q: &HashMap<String, String>,
    status: StatusCode,
    note: Option<&str>,
    error: Option<&str>,
) -> Response {
    let query = SubscriberQuery {
        status: q.get("status").and_then(|s| SubscriberStatus::parse(s)),
        plan: q.get("plan").and_then(|p| Plan::parse(p)),
        after: q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0),
        limit: PER_PAGE,
    };
    let (rows, total, active, paid) = match async {
        Ok::<_, StoreError>((
            state.store.subscribers(&query).await?,
            state.store.count_subscribers(&query).await?,
            state
                .store
                .count_subscribers(&SubscriberQuery {
                    status: Some(SubscriberStatus::Active),
                    ..SubscriberQuery::default()
                })
                .await?,
            state
                .store
                .count_subscribers(&SubscriberQuery {
                    plan: Some(Plan::Paid),
                    ..SubscriberQuery::default()
                })
                .await?,
        ))
    }
    .await
    {
        Ok(x) => x,
        Err(e) => return store_error(e),
    };
    let next = (rows.len() == PER_PAGE as usize)
        .then(|| rows.last().map(|s| s.id))
        .flatten();
    let when = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.strftime("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let list: Vec<Value> = rows
        .iter()
        .map(|s| {
            context! {
                email => s.email.clone(), name => s.name.clone(), status => s.status.as_str(),
                plan => s.plan.as_str(), since => when(s.created_at),
            }
        })
        .collect();
    page(
        state,
        Some(staff),
        status,
        "admin_subscribers.html",
        context! {
            subscribers => list, total => total, active => active, paid => paid,
            status_filter => query.status.map(SubscriberStatus::as_str),
            plan_filter => query.plan.map(Plan::as_str),
            next => next, note => note, error => error,
        },
    )
}

async fn subscriber_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let (staff, form) = match story_action(&state, &headers, &uri, &body, Role::Admin).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let no_query = HashMap::new();
    let email = form.get("email").unwrap_or("").trim().to_lowercase();
    let Some(plan) = form.get("plan").and_then(Plan::parse) else {
        return list(
            &state,
            &staff,
            &no_query,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some("Choose the plan free or paid."),
        )
        .await;
    };
    match change_plan(&state, &staff.actor(), &email, plan).await {
        Ok(true) => redirect("/admin/subscribers?note=plan"),
        Ok(false) => {
            list(
                &state,
                &staff,
                &no_query,
                StatusCode::NOT_FOUND,
                None,
                Some("There is no subscriber with that address."),
            )
            .await
        }
        Err(e) => refused(&state, &staff, e),
    }
}

/// Sets a subscriber's plan and records who did it. `false`: no such subscriber.
pub(crate) async fn change_plan(
    state: &AppState,
    actor: &bulletin_store::Actor,
    email: &str,
    plan: Plan,
) -> Result<bool, StoreError> {
    let now = super::auth::now();
    let Some(before) = state.store.subscriber(email).await? else {
        return Ok(false);
    };
    if before.plan == plan {
        return Ok(true);
    }
    state.store.set_subscriber_plan(email, plan, now).await?;
    state
        .store
        .record_audit(
            actor,
            "plan",
            "subscriber",
            email,
            &format!("{} to {}", before.plan.as_str(), plan.as_str()),
            now,
        )
        .await?;
    Ok(true)
}

/// The JSON of one subscriber for the staff API.
pub(crate) fn subscriber_json(s: &bulletin_core::subscriber::Subscriber) -> serde_json::Value {
    let time = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    serde_json::json!({
        "email": s.email, "name": s.name, "status": s.status.as_str(), "plan": s.plan.as_str(),
        "created_at": time(s.created_at),
        "confirmed_at": s.confirmed_at.map(time),
        "unsubscribed_at": s.unsubscribed_at.map(time),
    })
}

/// The JSON of an issue's send progress for the staff API.
pub(crate) fn progress_json(number: u32, p: &SendProgress) -> serde_json::Value {
    serde_json::json!({
        "issue": number, "total": p.total(), "queued": p.queued, "sending": p.sending,
        "sent": p.sent, "failed": p.failed,
    })
}
