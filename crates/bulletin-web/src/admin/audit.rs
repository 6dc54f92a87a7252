//! The audit log: who did what, newest first (editors and admins).

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::context;
use minijinja::value::Value;

use super::StaffPage;
use super::extract::role;
use super::render::{Answer, page};
use crate::AppState;

pub async fn audit_log(
    State(state): State<AppState>,
    StaffPage { staff, .. }: StaffPage<role::Editor>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let page_number: u32 = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let entries = state
        .store
        .audit_log((page_number - 1).saturating_mul(100), 101)
        .await?;
    let more = entries.len() > 100;
    let rows: Vec<Value> = entries
        .iter()
        .take(100)
        .map(|e| context! {
            at => jiff::Timestamp::from_second(e.at).map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()).unwrap_or_default(),
            actor => e.actor.clone(), action => e.action.clone(), entity => e.entity.clone(), key => e.key.clone(), detail => e.detail.clone(),
        })
        .collect();
    Ok(page(
        &state,
        Some(&staff),
        StatusCode::OK,
        "admin_audit.html",
        context! { entries => rows, page => page_number, more => more },
    ))
}
