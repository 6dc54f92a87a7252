//! Subscribers in the newsroom (admins: addresses are personal data): the
//! list, and changing a subscriber's plan.

use std::collections::HashMap;

use crate::routes::RouteBook;
use axum::extract::{Query, State};
use axum::http::StatusCode;

use bulletin_core::subscriber::{Plan, SubscriberStatus};
use bulletin_store::{StoreError, SubscriberQuery};
use minijinja::{Value, context};

use super::extract::role;
use super::render::{Answer, page, redirect, refused};
use super::{Staff, StaffForm, StaffPage};
use crate::AppState;

/// Subscribers on one page of the list.
const PER_PAGE: u32 = 100;

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/admin/subscribers", subscribers_page)
        .post("/admin/subscribers", subscriber_action)
}

async fn subscribers_page(
    State(state): State<AppState>,
    StaffPage { staff, .. }: StaffPage<role::Admin>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
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
) -> Answer {
    let query = SubscriberQuery {
        status: q.get("status").and_then(|s| SubscriberStatus::parse(s)),
        plan: q.get("plan").and_then(|p| Plan::parse(p)),
        after: q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0),
        limit: PER_PAGE,
    };
    let rows = state.store.subscribers(&query).await?;
    let total = state.store.count_subscribers(&query).await?;
    let active = state
        .store
        .count_subscribers(&SubscriberQuery {
            status: Some(SubscriberStatus::Active),
            ..SubscriberQuery::default()
        })
        .await?;
    let paid = state
        .store
        .count_subscribers(&SubscriberQuery {
            plan: Some(Plan::Paid),
            ..SubscriberQuery::default()
        })
        .await?;
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
    Ok(page(
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
    ))
}

async fn subscriber_action(
    State(state): State<AppState>,
    StaffForm { staff, form, .. }: StaffForm<role::Admin>,
) -> Answer {
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
        Ok(true) => Ok(redirect("/admin/subscribers?note=plan")),
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
        Err(e) => Err(refused(&state, &staff, e)),
    }
}

/// Sets a subscriber's plan and records who did it. `false`: no such subscriber.
pub(crate) async fn change_plan(
    state: &AppState,
    actor: &bulletin_store::Actor,
    email: &str,
    plan: Plan,
) -> Result<bool, StoreError> {
    let now = state.now();
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
