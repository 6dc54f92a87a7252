//! The staff API's issues, the audit log and the send queue's progress.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Bearer, json_response, parse_json, parse_number, refuse, scope};
use crate::AppState;
use crate::admin::extract::role;
use crate::admin::forms;

fn issue_json(i: &bulletin_store::IssueDesk) -> Value {
    json!({
        "number": i.number,
        "date": i.date.map(|d| d.to_string()),
        "status": i.status.as_str(),
        "publish_at": i.publish_at.and_then(|t| jiff::Timestamp::from_second(t).ok()).map(|t| t.to_string()),
        "stories": i.stories.iter().map(|e| json!({ "slug": e.slug, "headline": e.headline, "state": e.state.as_str() })).collect::<Vec<_>>(),
    })
}

/// An issue as JSON after a change, with `status`.
async fn issue_answer(state: &AppState, number: u32, status: StatusCode) -> Answer {
    match state.store.issue_desk(number).await {
        Ok(Some(i)) => json_response(status, &issue_json(&i)),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn list_issues(
    State(state): State<AppState>,
    _caller: Bearer<scope::Read, role::Editor>,
) -> Answer {
    let issues = state.store.issue_list().await?;
    let list: Vec<Value> = issues
        .iter()
        .map(|i| {
            json!({
                "number": i.number, "date": i.date.map(|d| d.to_string()), "status": i.status.as_str(),
                "publish_at": i.publish_at.and_then(|t| jiff::Timestamp::from_second(t).ok()).map(|t| t.to_string()),
                "stories": i.stories,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "issues": list }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewIssue {
    number: u32,
    #[serde(default)]
    date: Option<String>,
}

pub async fn create_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Editor>,
    body: Bytes,
) -> Answer {
    let input: NewIssue = parse_json(&body)?;
    if input.number == 0 {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, "issue numbers start at 1");
    }
    let date = match forms::issue_date(input.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state
        .store
        .create_issue(input.number, date, &c.actor(), state.now())
        .await
    {
        Ok(()) => issue_answer(&state, input.number, StatusCode::CREATED).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn get_issue(
    State(state): State<AppState>,
    _caller: Bearer<scope::Read, role::Editor>,
    Path(number): Path<String>,
) -> Answer {
    let number = parse_number(&number)?;
    match state.store.issue_desk(number).await {
        Ok(Some(i)) => json_response(StatusCode::OK, &issue_json(&i)),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arrangement {
    stories: Vec<String>,
}

pub async fn arrange_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Editor>,
    Path(number): Path<String>,
    body: Bytes,
) -> Answer {
    let number = parse_number(&number)?;
    let input: Arrangement = parse_json(&body)?;
    match state
        .store
        .set_issue_stories(number, &input.stories, &c.actor(), state.now())
        .await
    {
        Ok(()) => issue_answer(&state, number, StatusCode::OK).await,
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueDate {
    /// YYYY-MM-DD, or null for unknown.
    date: Option<String>,
}

pub async fn date_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Editor>,
    Path(number): Path<String>,
    body: Bytes,
) -> Answer {
    let number = parse_number(&number)?;
    let input: IssueDate = parse_json(&body)?;
    let date = match forms::issue_date(input.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state
        .store
        .set_issue_date(number, date, &c.actor(), state.now())
        .await
    {
        Ok(()) => issue_answer(&state, number, StatusCode::OK).await,
        Err(e) => Err(e.into()),
    }
}

pub async fn publish_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(number): Path<String>,
) -> Answer {
    let number = parse_number(&number)?;
    match state
        .store
        .publish_issue(number, &c.actor(), state.now())
        .await
    {
        Ok(n) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "published", "stories_published": n }),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Schedule {
    /// RFC 3339.
    at: String,
}

pub async fn schedule_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(number): Path<String>,
    body: Bytes,
) -> Answer {
    let number = parse_number(&number)?;
    let input: Schedule = parse_json(&body)?;
    let Ok(at) = input.at.parse::<jiff::Timestamp>() else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "{:?} is not an RFC 3339 time, e.g. 2026-12-01T09:00:00Z",
                input.at
            ),
        );
    };
    match state
        .store
        .schedule_issue(number, at.as_second(), &c.actor(), state.now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "scheduled", "publish_at": at.to_string() }),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn unpublish_issue(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(number): Path<String>,
) -> Answer {
    let number = parse_number(&number)?;
    match state
        .store
        .unpublish_issue(number, &c.actor(), state.now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "draft" }),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn audit(
    State(state): State<AppState>,
    _caller: Bearer<scope::Read, role::Editor>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let offset = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100u32)
        .clamp(1, 500);
    let entries = state.store.audit_log(offset, limit).await?;
    let list: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "at": jiff::Timestamp::from_second(e.at).map(|t| t.to_string()).unwrap_or_default(),
                "actor": e.actor, "action": e.action, "entity": e.entity, "key": e.key, "detail": e.detail,
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "entries": list }))
}

/// The newsletter's send progress for an issue.
pub async fn issue_sends(
    State(state): State<AppState>,
    _c: Bearer<scope::Read, role::Editor>,
    Path(number): Path<String>,
) -> Answer {
    let number = parse_number(&number)?;
    if state.store.issue_desk(number).await?.is_none() {
        return refuse(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        );
    }
    let progress = state.store.send_progress(number).await?;
    json_response(
        StatusCode::OK,
        &crate::admin::newsletter::progress_json(number, &progress),
    )
}
