//! Staff accounts (admins): adding, disabling and enabling.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use bulletin_core::staff::Role;
use bulletin_store::StoreError;
use minijinja::context;
use minijinja::value::Value;

use super::extract::role;
use super::render::{Answer, note_text, page, redirect};
use super::{Staff, StaffForm, StaffPage, auth};
use crate::AppState;
use crate::error::Failure;

pub async fn users(
    State(state): State<AppState>,
    StaffPage { staff, .. }: StaffPage<role::Admin>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    users_page(
        &state,
        &staff,
        StatusCode::OK,
        None,
        note_text(q.get("note").map(String::as_str)),
    )
    .await
}

async fn users_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    error: Option<String>,
    note: Option<&str>,
) -> Answer {
    let users = state.store.users().await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|u| context! { email => u.email.clone(), role => u.role.as_str(), disabled => u.disabled, created => u.created_at.get(..10).unwrap_or("") })
        .collect();
    Ok(page(
        state,
        Some(staff),
        status,
        "admin_users.html",
        context! { users => rows, error => error, note => note },
    ))
}

pub async fn user_action(
    State(state): State<AppState>,
    StaffForm { staff, form, .. }: StaffForm<role::Admin>,
) -> Answer {
    let email = match bulletin_core::staff::normalize_email(form.get("email").unwrap_or("")) {
        Ok(e) => e,
        Err(e) => {
            return users_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e.to_string()),
                None,
            )
            .await;
        }
    };
    let actor = staff.actor();
    let result = match form.get("action").unwrap_or("") {
        "add" => {
            let Some(role) = form.get("role").and_then(Role::parse) else {
                return users_page(
                    &state,
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some("Choose a role.".into()),
                    None,
                )
                .await;
            };
            let password = form.get("password").unwrap_or("");
            if let Err(e) = bulletin_core::staff::check_password(password, &email) {
                return users_page(
                    &state,
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Some(e.to_string()),
                    None,
                )
                .await;
            }
            let hash = auth::hash_password(password.to_owned())
                .await
                .map_err(Failure::Hashing)?;
            match state.store.create_user(&email, role, &hash).await {
                Ok(_) => state
                    .store
                    .record_audit(&actor, "create", "user", &email, role.as_str(), state.now())
                    .await
                    .map(|()| "user-added"),
                Err(StoreError::Duplicate { .. }) => {
                    return users_page(
                        &state,
                        &staff,
                        StatusCode::CONFLICT,
                        Some(format!("{email} has an account already.")),
                        None,
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        what @ ("disable" | "enable") => {
            let disable = what == "disable";
            if disable && email == staff.session.email {
                return users_page(
                    &state,
                    &staff,
                    StatusCode::CONFLICT,
                    Some("You cannot disable your own account.".into()),
                    None,
                )
                .await;
            }
            match state.store.set_user_disabled(&email, disable).await {
                Ok(true) => {
                    if disable
                        && let Ok(Some((user, _))) = state.store.user_credentials(&email).await
                    {
                        let _ = state.store.delete_user_sessions(user.id).await;
                    }
                    state
                        .store
                        .record_audit(&actor, what, "user", &email, "", state.now())
                        .await
                        .map(|()| "user-changed")
                }
                Ok(false) => {
                    return users_page(
                        &state,
                        &staff,
                        StatusCode::NOT_FOUND,
                        Some(format!("There is no account {email}.")),
                        None,
                    )
                    .await;
                }
                Err(e) => Err(e),
            }
        }
        _ => {
            return users_page(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some("Unknown action.".into()),
                None,
            )
            .await;
        }
    };
    let note = result?;
    Ok(redirect(&format!("/admin/users?note={note}")))
}
