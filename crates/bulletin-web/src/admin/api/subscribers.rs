//! The staff API's subscribers (admins only: addresses are personal data).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{Answer, Bearer, json_response, parse_json, refuse, scope};
use crate::AppState;
use crate::admin::extract::role;

/// Subscribers, by id; `status`, `plan`, `after` (an id) and `limit` (at most
/// 1,000) filter and page. Admins only: addresses are personal data.
pub async fn list_subscribers(
    State(state): State<AppState>,
    _c: Bearer<scope::Read, role::Admin>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => match bulletin_core::subscriber::SubscriberStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    "status must be pending, active, unsubscribed or bounced",
                );
            }
        },
    };
    let plan = match q.get("plan").map(String::as_str) {
        None | Some("") => None,
        Some(p) => match bulletin_core::subscriber::Plan::parse(p) {
            Some(p) => Some(p),
            None => return refuse(StatusCode::BAD_REQUEST, "plan must be free or paid"),
        },
    };
    let query = bulletin_store::SubscriberQuery {
        status,
        plan,
        after: q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0),
        limit: q
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(100u32)
            .clamp(1, 1000),
    };
    let rows = state.store.subscribers(&query).await?;
    let total = state.store.count_subscribers(&query).await?;
    let next = (rows.len() == query.limit as usize)
        .then(|| rows.last().map(|s| s.id))
        .flatten();
    let list: Vec<Value> = rows
        .iter()
        .map(crate::admin::subscribers::subscriber_json)
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "subscribers": list, "total": total, "next_after": next }),
    )
}

pub async fn get_subscriber(
    State(state): State<AppState>,
    _c: Bearer<scope::Read, role::Admin>,
    Path(email): Path<String>,
) -> Answer {
    let email = email.trim().to_lowercase();
    match state.store.subscriber(&email).await {
        Ok(Some(s)) => json_response(
            StatusCode::OK,
            &crate::admin::subscribers::subscriber_json(&s),
        ),
        Ok(None) => refuse(
            StatusCode::NOT_FOUND,
            &format!("there is no subscriber {email:?}"),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanInput {
    plan: String,
}

/// Sets a subscriber's plan (payment happens outside bulletin; this records
/// its outcome). Takes effect at once on every output.
pub async fn set_plan(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Admin>,
    Path(email): Path<String>,
    body: Bytes,
) -> Answer {
    let input: PlanInput = parse_json(&body)?;
    let Some(plan) = bulletin_core::subscriber::Plan::parse(input.plan.trim()) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plan must be free or paid",
        );
    };
    let email = email.trim().to_lowercase();
    match crate::admin::subscribers::change_plan(&state, &c.actor(), &email, plan).await {
        Ok(true) => match state.store.subscriber(&email).await {
            Ok(Some(s)) => json_response(
                StatusCode::OK,
                &crate::admin::subscribers::subscriber_json(&s),
            ),
            Ok(None) => refuse(StatusCode::NOT_FOUND, "the subscriber was removed"),
            Err(e) => Err(e.into()),
        },
        Ok(false) => refuse(
            StatusCode::NOT_FOUND,
            &format!("there is no subscriber {email:?}"),
        ),
        Err(e) => Err(e.into()),
    }
}
