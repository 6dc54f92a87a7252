//! The SQL both backends share, written once.
//!
//! Each backend's module compiles this folder as its own submodule
//! (`#[path = "../sql/mod.rs"] mod sql;`), after naming what the SQL works on:
//! `BackendStore` (the store, with its `pool` and `begin_write`),
//! `BackendImport` (its import transaction, with `tx` and `cache`), `Db` (the
//! sqlx database), and the few functions whose Rust differs (`batch_writer`,
//! `delete_story`, `years`, `read_int4`, `read_int2`); and after implementing
//! [`Dialect`] for its store, for the SQL text that differs and its clock. Parameters are `$N`, which both
//! backends take; the newer tables keep times as BIGINT Unix seconds.
//!
//! Helpers that several files use are here; each file holds one concern.

use self::publishing::{
    add_history, draft_of, free_slug, insert_draft, issue_head, next_draft_position, public_story,
    publish_draft_in, publish_in, update_draft, version,
};
use self::site::story_row;
pub(super) use self::site::{all_tag_slugs, loaded_issue, stories_by_id, tag_ids};
pub(super) use self::writes::{log_change, seed_publication};
use super::{
    BackendImport, BackendStore, Db, batch_writer, delete_story, read_int2, read_int4, years,
};
use crate::dialect::Dialect;
use crate::rows::{
    corrupt, issue_status, number, parse_date, story_content, story_from_content, tag_pattern,
    tags_json, text_pattern,
};
use crate::{Actor, Result, StoreError};

mod archive;
mod import;
mod issues;
mod newsroom;
mod notices;
mod outbox;
mod publishing;
pub(super) mod schema;
pub(super) mod site;
mod staff;
mod subscribers;
mod throttle;
mod writes;

/// A row of the backend's database.
type DbRow = <Db as sqlx::Database>::Row;

/// A write transaction of the backend.
type Tx = sqlx::Transaction<'static, Db>;

fn refused(message: String) -> StoreError {
    StoreError::Refused(message)
}

fn not_found(what: &'static str, key: impl ToString) -> StoreError {
    StoreError::NotFound {
        what,
        key: key.to_string(),
    }
}

fn date_of(s: Option<String>) -> Result<Option<bulletin_core::Date>> {
    s.as_deref().map(parse_date).transpose()
}

/// `CAST(expr AS <the backend's type of issues.date>)`.
fn date_cast(expr: &str) -> String {
    format!("CAST({expr} AS {})", <BackendStore as Dialect>::DATE_TYPE)
}

/// `CAST(expr AS <the backend's type of created_at and changes.at>)`.
fn time_cast(expr: &str) -> String {
    format!("CAST({expr} AS {})", <BackendStore as Dialect>::TIME_TYPE)
}

async fn audit(
    tx: &mut Tx,
    actor: &Actor,
    action: &str,
    entity: &str,
    key: &str,
    detail: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, user_id, actor, action, entity, key, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(now)
    .bind(actor.user_id)
    .bind(&actor.name)
    .bind(action)
    .bind(entity)
    .bind(key)
    .bind(detail)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
