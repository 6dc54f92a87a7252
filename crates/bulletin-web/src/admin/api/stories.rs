//! The staff API's stories: list, create, read, update, delete, history,
//! publish and unpublish.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use bulletin_core::staff::Role;
use bulletin_store::{DeskQuery, DeskState, DeskStory, SaveOutcome};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    Answer, ApiError, Bearer, NeedsScope, json_response, parse_json, refusal, refuse, scope,
};
use crate::AppState;
use crate::admin::extract::{NeedsRole, role};
use crate::admin::forms;

fn desk_json(d: &DeskStory) -> Value {
    json!({
        "story": d.story.to_json(),
        "state": d.state.as_str(),
        "version": d.version,
        "author": d.author,
    })
}

/// A story as the API takes it (the canonical JSON's editable fields).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoryInput {
    headline: String,
    dateline: DatelineInput,
    body: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default = "public")]
    access: String,
    /// For a new story: the issue it goes in.
    #[serde(default)]
    issue: Option<u32>,
    /// For an update: the version it is based on.
    #[serde(default)]
    version: Option<u32>,
}

fn public() -> String {
    "public".to_owned()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatelineInput {
    #[serde(default)]
    places: Vec<String>,
    date: String,
    #[serde(default)]
    credit: String,
}

impl StoryInput {
    fn fields(&self) -> forms::StoryFields {
        forms::StoryFields {
            headline: self.headline.clone(),
            places: self.dateline.places.join("/"),
            date: self.dateline.date.clone(),
            credit: self.dateline.credit.clone(),
            body: self.body.join("\n\n"),
            tags: self.tags.join(","),
            access: self.access.clone(),
            issue: self.issue.map(|n| n.to_string()).unwrap_or_default(),
        }
    }
}

/// Turns input into a story, or a 422 problem listing every problem.
async fn input_story(
    state: &AppState,
    input: &StoryInput,
    existing: Option<&bulletin_core::Story>,
) -> Result<bulletin_core::Story, ApiError> {
    let publication = state.store.publication().await?;
    // Paragraph breaks inside one paragraph would split it: refuse them.
    if input.body.iter().any(|p| p.contains('\n')) {
        return Err(refusal(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a paragraph may not contain a line break: send each paragraph as its own string",
        ));
    }
    input
        .fields()
        .to_story(&publication, existing)
        .map_err(|errors| refusal(StatusCode::UNPROCESSABLE_ENTITY, &errors.join(" ")))
}

pub async fn list_stories(
    State(state): State<AppState>,
    _c: Bearer<scope::Read, role::Contributor>,
    Query(q): Query<HashMap<String, String>>,
) -> Answer {
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let state_filter = match get("state") {
        None => None,
        Some(s) => match DeskState::parse(s) {
            Some(s) => Some(s),
            None => return refuse(StatusCode::BAD_REQUEST, "state is draft or published"),
        },
    };
    let number = |k: &str, default: u32| -> Result<u32, ApiError> {
        match get(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| refusal(StatusCode::BAD_REQUEST, &format!("{k} must be a number"))),
        }
    };
    let limit = number("limit", 50)?.clamp(1, 500);
    let offset = number("offset", 0)?;
    let issue = match get("issue") {
        None => None,
        Some(_) => Some(number("issue", 0)?),
    };
    let query = DeskQuery {
        state: state_filter,
        tag: get("tag").map(str::to_owned),
        issue,
        author: get("author").map(str::to_owned),
        text: get("q").map(|t| t.chars().take(200).collect()),
        offset,
        limit,
    };
    let (entries, total) = state.store.desk(&query).await?;
    let stories: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "slug": e.slug, "headline": e.headline, "date": e.date.to_string(),
                "issue": e.issue, "state": e.state.as_str(), "author": e.author, "waiting": e.waiting, "publish_at": e.publish_at,
            })
        })
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "total": total, "offset": offset, "limit": limit, "stories": stories }),
    )
}

pub async fn create_story(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Contributor>,
    body: Bytes,
) -> Answer {
    let input: StoryInput = parse_json(&body)?;
    if input.version.is_some() {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a new story has no version: PUT /api/v1/admin/stories/{slug} updates one",
        );
    }
    let mut story = input_story(&state, &input, None).await?;
    if c.session.role < Role::Editor {
        story.tags.clear();
    }
    match state
        .store
        .save_story(story, None, "save", &c.actor(), state.now())
        .await
    {
        Ok(SaveOutcome::Saved { slug, version }) => {
            let mut r = json_response(
                StatusCode::CREATED,
                &json!({ "slug": slug, "version": version }),
            )?;
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/admin/stories/{slug}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            Ok(r)
        }
        Ok(SaveOutcome::Conflict { .. }) => refuse(StatusCode::CONFLICT, "unexpected conflict"),
        Err(e) => Err(e.into()),
    }
}

/// The story if this caller may work on it (contributors: their own drafts).
async fn editable<S: NeedsScope, R: NeedsRole>(
    state: &AppState,
    c: &Bearer<S, R>,
    slug: &str,
) -> Result<DeskStory, ApiError> {
    match state.store.desk_story(slug).await? {
        Some(d)
            if c.session.role >= Role::Editor
                || (d.state == DeskState::Draft
                    && d.author.as_deref() == Some(c.session.email.as_str())) =>
        {
            Ok(d)
        }
        Some(_) => Err(refusal(
            StatusCode::FORBIDDEN,
            "contributors may work only on their own drafts",
        )),
        None => Err(refusal(
            StatusCode::NOT_FOUND,
            &format!("there is no story {slug:?}"),
        )),
    }
}

pub async fn get_story(
    State(state): State<AppState>,
    c: Bearer<scope::Read, role::Contributor>,
    Path(slug): Path<String>,
) -> Answer {
    let d = editable(&state, &c, &slug).await?;
    json_response(StatusCode::OK, &desk_json(&d))
}

pub async fn update_story(
    State(state): State<AppState>,
    c: Bearer<scope::Write, role::Contributor>,
    Path(slug): Path<String>,
    body: Bytes,
) -> Answer {
    let d = editable(&state, &c, &slug).await?;
    let input: StoryInput = parse_json(&body)?;
    let Some(base) = input.version else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "send the version you edited (from GET), so that no one's save is overwritten",
        );
    };
    let mut story = input_story(&state, &input, Some(&d.story)).await?;
    if c.session.role < Role::Editor {
        story.tags = d.story.tags.clone();
    }
    match state
        .store
        .save_story(story, Some(base), "save", &c.actor(), state.now())
        .await
    {
        Ok(SaveOutcome::Saved { slug, version }) => {
            json_response(StatusCode::OK, &json!({ "slug": slug, "version": version }))
        }
        Ok(SaveOutcome::Conflict { current, by, .. }) => {
            let body = json!({
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": format!(
                    "{by} saved this story after version {base}; nothing was written. \
                     Merge with the current version and send its number."
                ),
                "current": desk_json(&current),
            });
            Ok((
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "application/problem+json")],
                body.to_string(),
            )
                .into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn delete_story(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(slug): Path<String>,
) -> Answer {
    match state
        .store
        .delete_desk_story(&slug, &c.actor(), state.now())
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn story_history(
    State(state): State<AppState>,
    c: Bearer<scope::Read, role::Contributor>,
    Path(slug): Path<String>,
) -> Answer {
    editable(&state, &c, &slug).await?;
    let history = state.store.history(&slug).await?;
    let entries: Vec<Value> = history
        .iter()
        .map(|h| {
            json!({
                "number": h.number, "actor": h.actor, "action": h.action,
                "at": jiff::Timestamp::from_second(h.at).map(|t| t.to_string()).unwrap_or_default(),
                "story": h.story.to_json(),
            })
        })
        .collect();
    json_response(StatusCode::OK, &json!({ "slug": slug, "history": entries }))
}

pub async fn publish_story(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(slug): Path<String>,
) -> Answer {
    match state
        .store
        .publish_story(&slug, &c.actor(), state.now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "slug": slug, "state": "published" }),
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn unpublish_story(
    State(state): State<AppState>,
    c: Bearer<scope::Publish, role::Editor>,
    Path(slug): Path<String>,
) -> Answer {
    match state
        .store
        .unpublish_story(&slug, &c.actor(), state.now())
        .await
    {
        Ok(()) => json_response(StatusCode::OK, &json!({ "slug": slug, "state": "draft" })),
        Err(e) => Err(e.into()),
    }
}
