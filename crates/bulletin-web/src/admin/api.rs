//! The staff JSON API (`/api/v1/admin/...`) and the OpenAPI description of the
//! whole API (`/api/v1/openapi.json`).
//!
//! Callers authenticate with a personal API token (`Authorization: Bearer ...`),
//! never with the session cookie, so no request here can be forged by another
//! site. A token has scopes (read, write, publish) and never does more than its
//! account's role allows: a contributor's token with the publish scope still
//! cannot publish. Errors are RFC 9457 problem details.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use bulletin_core::staff::Role;
use bulletin_store::{Actor, DeskQuery, DeskState, DeskStory, SaveOutcome, Session, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{auth, forms};
use crate::AppState;
use crate::search::problem;

/// The OpenAPI 3.1 description, compiled in.
const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route(
            "/api/v1/admin/stories",
            get(list_stories).post(create_story),
        )
        .route(
            "/api/v1/admin/stories/{slug}",
            get(get_story).put(update_story).delete(delete_story),
        )
        .route("/api/v1/admin/stories/{slug}/history", get(story_history))
        .route("/api/v1/admin/stories/{slug}/publish", post(publish_story))
        .route(
            "/api/v1/admin/stories/{slug}/unpublish",
            post(unpublish_story),
        )
        .route("/api/v1/admin/issues", get(list_issues).post(create_issue))
        .route("/api/v1/admin/issues/{number}", get(get_issue))
        .route("/api/v1/admin/issues/{number}/stories", put(arrange_issue))
        .route("/api/v1/admin/issues/{number}/date", put(date_issue))
        .route("/api/v1/admin/issues/{number}/publish", post(publish_issue))
        .route(
            "/api/v1/admin/issues/{number}/schedule",
            post(schedule_issue),
        )
        .route(
            "/api/v1/admin/issues/{number}/unpublish",
            post(unpublish_issue),
        )
        .route("/api/v1/admin/audit", get(audit))
        .route("/api/v1/admin/issues/{number}/sends", get(issue_sends))
        .route("/api/v1/admin/subscribers", get(list_subscribers))
        .route("/api/v1/admin/subscribers/{email}", get(get_subscriber))
        .route("/api/v1/admin/subscribers/{email}/plan", put(set_plan))
}

async fn openapi() -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        OPENAPI,
    )
        .into_response()
}

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Read,
    Write,
    Publish,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Publish => "publish",
        }
    }

    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Publish];
}

/// The caller of an API request.
struct Caller {
    session: Session,
    scopes: String,
}

impl Caller {
    fn actor(&self) -> Actor {
        Actor::user(self.session.user_id, &self.session.email)
    }

    /// Checks the token's scope and the account's role.
    fn may(&self, scope: Scope, role: Role) -> Result<(), Response> {
        if !self.scopes.split(' ').any(|s| s == scope.as_str()) {
            return Err(problem(
                StatusCode::FORBIDDEN,
                &format!("this token lacks the {} scope", scope.as_str()),
            ));
        }
        if self.session.role < role {
            return Err(problem(
                StatusCode::FORBIDDEN,
                &format!(
                    "the account's role ({}) cannot do this; it needs {}",
                    self.session.role.as_str(),
                    role.as_str()
                ),
            ));
        }
        Ok(())
    }
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let unauthorized = |detail: &str| {
        let mut r = problem(StatusCode::UNAUTHORIZED, detail);
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"bulletin\""),
        );
        r
    };
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(unauthorized(
            "send a staff API token: Authorization: Bearer TOKEN (make one at /admin/tokens)",
        ));
    };
    let Some(token) = value.strip_prefix("Bearer ").map(str::trim) else {
        return Err(unauthorized(
            "the Authorization header must be: Bearer TOKEN",
        ));
    };
    match state
        .store
        .api_token(&auth::id_hash(token), auth::now())
        .await
    {
        Ok(Some((t, session))) => Ok(Caller {
            session,
            scopes: t.scopes,
        }),
        Ok(None) => Err(unauthorized(
            "this token is unknown or revoked, or its account is disabled",
        )),
        Err(e) => Err(store_problem(e)),
    }
}

fn store_problem(e: StoreError) -> Response {
    match e {
        StoreError::Refused(m) => problem(StatusCode::CONFLICT, &m),
        StoreError::NotFound { what, key } => problem(
            StatusCode::NOT_FOUND,
            &format!("there is no {what} {key:?}"),
        ),
        StoreError::Duplicate { what, key } => problem(
            StatusCode::CONFLICT,
            &format!("{what} {key} already exists"),
        ),
        StoreError::InvalidStory { source, .. } => {
            problem(StatusCode::UNPROCESSABLE_ENTITY, &source.to_string())
        }
        other => {
            tracing::error!(error = %other, "store error in the staff API");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the archive is unavailable; please try again",
            )
        }
    }
}

fn json_response(status: StatusCode, value: &Value) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        value.to_string(),
    )
        .into_response()
}

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

fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        problem(
            StatusCode::BAD_REQUEST,
            &format!("the request body is not valid JSON for this call: {e}"),
        )
    })
}

/// Turns input into a story, or a 422 problem listing every problem.
async fn input_story(
    state: &AppState,
    input: &StoryInput,
    existing: Option<&bulletin_core::Story>,
) -> Result<bulletin_core::Story, Response> {
    let publication = state.store.publication().await.map_err(store_problem)?;
    // Paragraph breaks inside one paragraph would split it: refuse them.
    if input.body.iter().any(|p| p.contains('\n')) {
        return Err(problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "a paragraph may not contain a line break: send each paragraph as its own string",
        ));
    }
    input
        .fields()
        .to_story(&publication, existing)
        .map_err(|errors| problem(StatusCode::UNPROCESSABLE_ENTITY, &errors.join(" ")))
}

macro_rules! try_response {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

async fn list_stories(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Contributor));
    let get = |k: &str| q.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let state_filter = match get("state") {
        None => None,
        Some(s) => match DeskState::parse(s) {
            Some(s) => Some(s),
            None => return problem(StatusCode::BAD_REQUEST, "state is draft or published"),
        },
    };
    let number = |k: &str, default: u32| -> Result<u32, Response> {
        match get(k) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| problem(StatusCode::BAD_REQUEST, &format!("{k} must be a number"))),
        }
    };
    let limit = try_response!(number("limit", 50)).clamp(1, 500);
    let offset = try_response!(number("offset", 0));
    let issue = match get("issue") {
        None => None,
        Some(_) => Some(try_response!(number("issue", 0))),
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
    let (entries, total) = try_response!(state.store.desk(&query).await.map_err(store_problem));
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

async fn create_story(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Contributor));
    let input: StoryInput = try_response!(parse_json(&body));
    if input.version.is_some() {
        return problem(
            StatusCode::BAD_REQUEST,
            "a new story has no version: PUT /api/v1/admin/stories/{slug} updates one",
        );
    }
    let mut story = try_response!(input_story(&state, &input, None).await);
    if c.session.role < Role::Editor {
        story.tags.clear();
    }
    match state
        .store
        .save_story(story, None, "save", &c.actor(), auth::now())
        .await
    {
        Ok(SaveOutcome::Saved { slug, version }) => {
            let mut r = json_response(
                StatusCode::CREATED,
                &json!({ "slug": slug, "version": version }),
            );
            if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/admin/stories/{slug}")) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            r
        }
        Ok(SaveOutcome::Conflict { .. }) => problem(StatusCode::CONFLICT, "unexpected conflict"),
        Err(e) => store_problem(e),
    }
}

/// The story if this caller may work on it (contributors: their own drafts).
async fn editable(state: &AppState, c: &Caller, slug: &str) -> Result<DeskStory, Response> {
    match state.store.desk_story(slug).await {
        Ok(Some(d))
            if c.session.role >= Role::Editor
                || (d.state == DeskState::Draft
                    && d.author.as_deref() == Some(c.session.email.as_str())) =>
        {
            Ok(d)
        }
        Ok(Some(_)) => Err(problem(
            StatusCode::FORBIDDEN,
            "contributors may work only on their own drafts",
        )),
        Ok(None) => Err(problem(
            StatusCode::NOT_FOUND,
            &format!("there is no story {slug:?}"),
        )),
        Err(e) => Err(store_problem(e)),
    }
}

async fn get_story(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Contributor));
    let d = try_response!(editable(&state, &c, &slug).await);
    json_response(StatusCode::OK, &desk_json(&d))
}

async fn update_story(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
    body: Bytes,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Contributor));
    let d = try_response!(editable(&state, &c, &slug).await);
    let input: StoryInput = try_response!(parse_json(&body));
    let Some(base) = input.version else {
        return problem(
            StatusCode::BAD_REQUEST,
            "send the version you edited (from GET), so that no one's save is overwritten",
        );
    };
    let mut story = try_response!(input_story(&state, &input, Some(&d.story)).await);
    if c.session.role < Role::Editor {
        story.tags = d.story.tags.clone();
    }
    match state
        .store
        .save_story(story, Some(base), "save", &c.actor(), auth::now())
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
            (
                StatusCode::CONFLICT,
                [(header::CONTENT_TYPE, "application/problem+json")],
                body.to_string(),
            )
                .into_response()
        }
        Err(e) => store_problem(e),
    }
}

async fn delete_story(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    match state
        .store
        .delete_desk_story(&slug, &c.actor(), auth::now())
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_problem(e),
    }
}

async fn story_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Contributor));
    try_response!(editable(&state, &c, &slug).await);
    let history = try_response!(state.store.history(&slug).await.map_err(store_problem));
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

async fn publish_story(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    match state
        .store
        .publish_story(&slug, &c.actor(), auth::now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "slug": slug, "state": "published" }),
        ),
        Err(e) => store_problem(e),
    }
}

async fn unpublish_story(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    match state
        .store
        .unpublish_story(&slug, &c.actor(), auth::now())
        .await
    {
        Ok(()) => json_response(StatusCode::OK, &json!({ "slug": slug, "state": "draft" })),
        Err(e) => store_problem(e),
    }
}

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
async fn issue_answer(state: &AppState, number: u32, status: StatusCode) -> Response {
    match state.store.issue_desk(number).await {
        Ok(Some(i)) => json_response(status, &issue_json(&i)),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        ),
        Err(e) => store_problem(e),
    }
}

fn parse_number(text: &str) -> Result<u32, Response> {
    text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        problem(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {text:?}"),
        )
    })
}

async fn list_issues(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Editor));
    let issues = try_response!(state.store.issue_list().await.map_err(store_problem));
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

async fn create_issue(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Editor));
    let input: NewIssue = try_response!(parse_json(&body));
    if input.number == 0 {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "issue numbers start at 1");
    }
    let date = match forms::issue_date(input.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return problem(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state
        .store
        .create_issue(input.number, date, &c.actor(), auth::now())
        .await
    {
        Ok(()) => issue_answer(&state, input.number, StatusCode::CREATED).await,
        Err(e) => store_problem(e),
    }
}

async fn get_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Editor));
    let number = try_response!(parse_number(&number));
    match state.store.issue_desk(number).await {
        Ok(Some(i)) => json_response(StatusCode::OK, &issue_json(&i)),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        ),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Arrangement {
    stories: Vec<String>,
}

async fn arrange_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Editor));
    let number = try_response!(parse_number(&number));
    let input: Arrangement = try_response!(parse_json(&body));
    match state
        .store
        .set_issue_stories(number, &input.stories, &c.actor(), auth::now())
        .await
    {
        Ok(()) => issue_answer(&state, number, StatusCode::OK).await,
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IssueDate {
    /// YYYY-MM-DD, or null for unknown.
    date: Option<String>,
}

async fn date_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Editor));
    let number = try_response!(parse_number(&number));
    let input: IssueDate = try_response!(parse_json(&body));
    let date = match forms::issue_date(input.date.as_deref()) {
        Ok(d) => d,
        Err(e) => return problem(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state
        .store
        .set_issue_date(number, date, &c.actor(), auth::now())
        .await
    {
        Ok(()) => issue_answer(&state, number, StatusCode::OK).await,
        Err(e) => store_problem(e),
    }
}

async fn publish_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    let number = try_response!(parse_number(&number));
    match state
        .store
        .publish_issue(number, &c.actor(), auth::now())
        .await
    {
        Ok(n) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "published", "stories_published": n }),
        ),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Schedule {
    /// RFC 3339.
    at: String,
}

async fn schedule_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    let number = try_response!(parse_number(&number));
    let input: Schedule = try_response!(parse_json(&body));
    let Ok(at) = input.at.parse::<jiff::Timestamp>() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "{:?} is not an RFC 3339 time, e.g. 2026-12-01T09:00:00Z",
                input.at
            ),
        );
    };
    match state
        .store
        .schedule_issue(number, at.as_second(), &c.actor(), auth::now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "scheduled", "publish_at": at.to_string() }),
        ),
        Err(e) => store_problem(e),
    }
}

async fn unpublish_issue(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Publish, Role::Editor));
    let number = try_response!(parse_number(&number));
    match state
        .store
        .unpublish_issue(number, &c.actor(), auth::now())
        .await
    {
        Ok(()) => json_response(
            StatusCode::OK,
            &json!({ "number": number, "status": "draft" }),
        ),
        Err(e) => store_problem(e),
    }
}

async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Editor));
    let offset = q.get("offset").and_then(|v| v.parse().ok()).unwrap_or(0);
    let limit = q
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100u32)
        .clamp(1, 500);
    let entries = try_response!(
        state
            .store
            .audit_log(offset, limit)
            .await
            .map_err(store_problem)
    );
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
async fn issue_sends(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Editor));
    let number = try_response!(parse_number(&number));
    if try_response!(state.store.issue_desk(number).await.map_err(store_problem)).is_none() {
        return problem(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {number}"),
        );
    }
    let progress = try_response!(
        state
            .store
            .send_progress(number)
            .await
            .map_err(store_problem)
    );
    json_response(
        StatusCode::OK,
        &super::subscribers::progress_json(number, &progress),
    )
}

/// Subscribers, by id; `status`, `plan`, `after` (an id) and `limit` (at most
/// 1,000) filter and page. Admins only: addresses are personal data.
async fn list_subscribers(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Admin));
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) => match bulletin_core::subscriber::SubscriberStatus::parse(s) {
            Some(s) => Some(s),
            None => {
                return problem(
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
            None => return problem(StatusCode::BAD_REQUEST, "plan must be free or paid"),
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
    let rows = try_response!(state.store.subscribers(&query).await.map_err(store_problem));
    let total = try_response!(
        state
            .store
            .count_subscribers(&query)
            .await
            .map_err(store_problem)
    );
    let next = (rows.len() == query.limit as usize)
        .then(|| rows.last().map(|s| s.id))
        .flatten();
    let list: Vec<Value> = rows
        .iter()
        .map(super::subscribers::subscriber_json)
        .collect();
    json_response(
        StatusCode::OK,
        &json!({ "subscribers": list, "total": total, "next_after": next }),
    )
}

async fn get_subscriber(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Read, Role::Admin));
    let email = email.trim().to_lowercase();
    match state.store.subscriber(&email).await {
        Ok(Some(s)) => json_response(StatusCode::OK, &super::subscribers::subscriber_json(&s)),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            &format!("there is no subscriber {email:?}"),
        ),
        Err(e) => store_problem(e),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanInput {
    plan: String,
}

/// Sets a subscriber's plan (payment happens outside bulletin; this records
/// its outcome). Takes effect at once on every output.
async fn set_plan(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(email): Path<String>,
    body: Bytes,
) -> Response {
    let c = try_response!(caller(&state, &headers).await);
    try_response!(c.may(Scope::Write, Role::Admin));
    let input: PlanInput = try_response!(parse_json(&body));
    let Some(plan) = bulletin_core::subscriber::Plan::parse(input.plan.trim()) else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "plan must be free or paid",
        );
    };
    let email = email.trim().to_lowercase();
    match super::subscribers::change_plan(&state, &c.actor(), &email, plan).await {
        Ok(true) => match state.store.subscriber(&email).await {
            Ok(Some(s)) => json_response(StatusCode::OK, &super::subscribers::subscriber_json(&s)),
            Ok(None) => problem(StatusCode::NOT_FOUND, "the subscriber was removed"),
            Err(e) => store_problem(e),
        },
        Ok(false) => problem(
            StatusCode::NOT_FOUND,
            &format!("there is no subscriber {email:?}"),
        ),
        Err(e) => store_problem(e),
    }
}
