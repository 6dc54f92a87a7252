//! Staff API tokens: each staff member makes and revokes their own.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use minijinja::context;
use minijinja::value::Value;

use super::extract::role;
use super::render::{Answer, not_found, note_text, page, redirect};
use super::{Staff, StaffForm, api, auth};
use crate::AppState;

pub async fn tokens(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    tokens_page(
        &state,
        &staff,
        StatusCode::OK,
        None,
        None,
        note_text(q.get("note").map(String::as_str)),
    )
    .await
}

async fn tokens_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    new_token: Option<(&str, &str)>,
    error: Option<&str>,
    note: Option<&str>,
) -> Answer {
    let list = state.store.api_tokens(staff.session.user_id).await?;
    let when = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default()
    };
    let rows: Vec<Value> = list
        .iter()
        .map(|t| context! {
            id => t.id, name => t.name.clone(), scopes => t.scopes.clone(), created => when(t.created_at),
            last_used => t.last_used_at.map(when), revoked => t.revoked,
        })
        .collect();
    Ok(page(
        state,
        Some(staff),
        status,
        "admin_tokens.html",
        context! {
            tokens => rows, error => error, note => note,
            new_token => new_token.map(|(name, token)| context! { name => name, token => token }),
            scopes => api::Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    ))
}

pub async fn token_action(
    State(state): State<AppState>,
    StaffForm { staff, form, .. }: StaffForm<role::Contributor>,
) -> Answer {
    let now = state.now();
    match form.get("action").unwrap_or("") {
        "create" => {
            let name = form.get("name").unwrap_or("").trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                return tokens_page(
                    &state,
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some("Name the token (up to 100 characters), e.g. what uses it."),
                    None,
                )
                .await;
            }
            let scopes: Vec<&str> = api::Scope::ALL
                .iter()
                .map(|s| s.as_str())
                .filter(|s| form.all("scope").contains(s))
                .collect();
            if scopes.is_empty() {
                return tokens_page(
                    &state,
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some("Choose at least one scope."),
                    None,
                )
                .await;
            }
            let secret = auth::random_token()?;
            let token = format!("bt_{secret}");
            state
                .store
                .create_api_token(
                    staff.session.user_id,
                    name,
                    &auth::id_hash(&token),
                    &scopes.join(" "),
                    now,
                )
                .await?;
            let _ = state
                .store
                .record_audit(
                    &staff.actor(),
                    "create",
                    "api token",
                    name,
                    &scopes.join(" "),
                    now,
                )
                .await;
            // Shown once, on this page only; only its hash is kept.
            tokens_page(
                &state,
                &staff,
                StatusCode::OK,
                Some((name, &token)),
                None,
                None,
            )
            .await
        }
        "revoke" => {
            let id: i64 = form.get("id").and_then(|v| v.parse().ok()).unwrap_or(0);
            match state
                .store
                .revoke_api_token(staff.session.user_id, id, now)
                .await?
            {
                true => {
                    let _ = state
                        .store
                        .record_audit(
                            &staff.actor(),
                            "revoke",
                            "api token",
                            &id.to_string(),
                            "",
                            now,
                        )
                        .await;
                    Ok(redirect("/admin/tokens?note=token-revoked"))
                }
                false => Err(not_found(&state, &staff, "such token of yours")),
            }
        }
        _ => {
            tokens_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some("Unknown action."),
                None,
            )
            .await
        }
    }
}
