//! The staff JSON API (`/api/v1/admin/...`) and the OpenAPI description of the
//! whole API (`/api/v1/openapi.json`).
//!
//! Callers authenticate with a personal API token (`Authorization: Bearer ...`),
//! never with the session cookie, so no request here can be forged by another
//! site. A token has scopes (read, write, publish) and never does more than its
//! account's role allows: a contributor's token with the publish scope still
//! cannot publish. Errors are RFC 9457 problem details.

use std::marker::PhantomData;

use crate::routes::RouteBook;
use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use bulletin_store::{Actor, Session};
use serde_json::Value;

use super::auth;
use super::extract::NeedsRole;
use crate::AppState;
use crate::error::{ApiProblem, HttpError, problem};

/// What an API handler returns.
type Answer = crate::error::Answer<ApiProblem>;

mod issues;
mod stories;
mod subscribers;

/// The OpenAPI 3.1 description, compiled in.
const OPENAPI: &str = include_str!("openapi.json");

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/api/v1/openapi.json", openapi)
        .get("/api/v1/admin/stories", stories::list_stories)
        .post("/api/v1/admin/stories", stories::create_story)
        .get("/api/v1/admin/stories/{slug}", stories::get_story)
        .put("/api/v1/admin/stories/{slug}", stories::update_story)
        .delete("/api/v1/admin/stories/{slug}", stories::delete_story)
        .get(
            "/api/v1/admin/stories/{slug}/history",
            stories::story_history,
        )
        .post(
            "/api/v1/admin/stories/{slug}/publish",
            stories::publish_story,
        )
        .post(
            "/api/v1/admin/stories/{slug}/unpublish",
            stories::unpublish_story,
        )
        .get("/api/v1/admin/issues", issues::list_issues)
        .post("/api/v1/admin/issues", issues::create_issue)
        .get("/api/v1/admin/issues/{number}", issues::get_issue)
        .put(
            "/api/v1/admin/issues/{number}/stories",
            issues::arrange_issue,
        )
        .put("/api/v1/admin/issues/{number}/date", issues::date_issue)
        .post(
            "/api/v1/admin/issues/{number}/publish",
            issues::publish_issue,
        )
        .post(
            "/api/v1/admin/issues/{number}/schedule",
            issues::schedule_issue,
        )
        .post(
            "/api/v1/admin/issues/{number}/unpublish",
            issues::unpublish_issue,
        )
        .get("/api/v1/admin/audit", issues::audit)
        .get("/api/v1/admin/issues/{number}/sends", issues::issue_sends)
        .get("/api/v1/admin/subscribers", subscribers::list_subscribers)
        .get(
            "/api/v1/admin/subscribers/{email}",
            subscribers::get_subscriber,
        )
        .put(
            "/api/v1/admin/subscribers/{email}/plan",
            subscribers::set_plan,
        )
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

/// A scope a call needs, as a type.
pub trait NeedsScope: Send + Sync + 'static {
    const SCOPE: Scope;
}

/// Scope markers for [`Bearer`].
pub mod scope {
    use super::{NeedsScope, Scope};

    pub struct Read;
    pub struct Write;
    pub struct Publish;

    impl NeedsScope for Read {
        const SCOPE: Scope = Scope::Read;
    }
    impl NeedsScope for Write {
        const SCOPE: Scope = Scope::Write;
    }
    impl NeedsScope for Publish {
        const SCOPE: Scope = Scope::Publish;
    }
}

/// The caller of an API request: a staff API token (`Authorization: Bearer`)
/// with scope `S`, of an account whose role is at least `R`, checked in that
/// order before the handler runs. The session cookie is never looked at.
pub struct Bearer<S: NeedsScope, R: NeedsRole> {
    session: Session,
    needs: PhantomData<(S, R)>,
}

impl<S: NeedsScope, R: NeedsRole> Bearer<S, R> {
    fn actor(&self) -> Actor {
        Actor::user(self.session.user_id, &self.session.email)
    }
}

type ApiError = HttpError<ApiProblem>;

/// A problem-details refusal, as the error side of an answer.
fn refusal(status: StatusCode, detail: &str) -> ApiError {
    HttpError::answer(problem(status, detail))
}

/// A problem-details refusal, as a whole answer.
fn refuse(status: StatusCode, detail: &str) -> Answer {
    Err(refusal(status, detail))
}

impl<S: NeedsScope, R: NeedsRole> FromRequestParts<AppState> for Bearer<S, R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let unauthorized = |detail: &str| {
            let mut r = problem(StatusCode::UNAUTHORIZED, detail);
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bulletin\""),
            );
            HttpError::answer(r)
        };
        let Some(value) = parts
            .headers
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
        let Some((t, session)) = state
            .store
            .api_token(&auth::id_hash(token), state.now())
            .await?
        else {
            return Err(unauthorized(
                "this token is unknown or revoked, or its account is disabled",
            ));
        };
        if !t.scopes.split(' ').any(|s| s == S::SCOPE.as_str()) {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                &format!("this token lacks the {} scope", S::SCOPE.as_str()),
            ));
        }
        if session.role < R::ROLE {
            return Err(refusal(
                StatusCode::FORBIDDEN,
                &format!(
                    "the account's role ({}) cannot do this; it needs {}",
                    session.role.as_str(),
                    R::ROLE.as_str()
                ),
            ));
        }
        Ok(Bearer {
            session,
            needs: PhantomData,
        })
    }
}

fn json_response(status: StatusCode, value: &Value) -> Answer {
    Ok((
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        value.to_string(),
    )
        .into_response())
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        refusal(
            StatusCode::BAD_REQUEST,
            &format!("the request body is not valid JSON for this call: {e}"),
        )
    })
}

fn parse_number(text: &str) -> Result<u32, ApiError> {
    text.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
        refusal(
            StatusCode::NOT_FOUND,
            &format!("there is no issue {text:?}"),
        )
    })
}
