//! The web layer's one error type.
//!
//! Every handler returns [`Answer<S>`]: a response, or an [`HttpError<S>`]
//! that `?` makes from a [`Failure`] (or anything a failure is made from). The
//! surface `S` says how the failure is shown: HTML for the site, the reader
//! pages and the newsroom, RFC 9457 problem details for the APIs. Visitors
//! never see details: a failure that is not theirs becomes a plain 500 (or
//! 503) and a log line.

use std::fmt;
use std::marker::PhantomData;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bulletin_store::StoreError;

/// Why a request was not answered as asked.
pub enum Failure {
    /// The answer is already made (a refusal page, a redirect to sign in).
    Answer(Box<Response>),
    /// Nothing at this address.
    NotFound,
    /// The store failed or refused.
    Store(StoreError),
    /// The operating system gave no random bytes.
    Randomness(getrandom::Error),
    /// A password could not be hashed.
    Hashing(String),
    /// A template failed while rendering.
    Template(minijinja::Error),
    /// A message could not be built or sent.
    Mail(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Answer(r) => write!(f, "answered {}", r.status()),
            Failure::NotFound => f.write_str("not found"),
            Failure::Store(e) => write!(f, "store: {e}"),
            Failure::Randomness(e) => write!(f, "no randomness: {e}"),
            Failure::Hashing(e) => write!(f, "cannot hash a password: {e}"),
            Failure::Template(e) => write!(f, "template: {e}"),
            Failure::Mail(e) => write!(f, "mail: {e}"),
        }
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

impl From<getrandom::Error> for Failure {
    fn from(e: getrandom::Error) -> Self {
        Failure::Randomness(e)
    }
}

impl From<minijinja::Error> for Failure {
    fn from(e: minijinja::Error) -> Self {
        Failure::Template(e)
    }
}

/// How one part of the site shows a [`Failure`].
pub trait Surface {
    /// The response for `failure`; logs what the visitor is not shown.
    fn respond(failure: Failure) -> Response;

    /// The body of a 503 while the store cannot be reached (the status,
    /// `Retry-After` and `Cache-Control` are added by the caller).
    fn unavailable() -> Response {
        plain(
            StatusCode::SERVICE_UNAVAILABLE,
            "The archive is unavailable for a moment; please try again.",
        )
    }
}

/// Seconds a client is asked to wait when the store cannot be reached.
pub const RETRY_AFTER_SECONDS: &str = "5";

/// The 503 of surface `S` while the store cannot be reached, logged and counted.
pub fn store_unavailable<S: Surface>(error: &StoreError) -> Response {
    tracing::warn!(error = %error, "the store is unavailable");
    metrics::counter!("bulletin_store_unavailable_total").increment(1);
    let mut response = S::unavailable();
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    let headers = response.headers_mut();
    headers.insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECONDS),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A failure on its way to becoming the response of surface `S`.
pub struct HttpError<S> {
    pub failure: Failure,
    surface: PhantomData<S>,
}

/// What a handler of surface `S` returns.
pub type Answer<S> = Result<Response, HttpError<S>>;

impl<S> HttpError<S> {
    /// A ready response given instead of the one asked for.
    pub fn answer(response: Response) -> Self {
        Failure::Answer(Box::new(response)).into()
    }
}

impl<S> From<Failure> for HttpError<S> {
    fn from(failure: Failure) -> Self {
        HttpError {
            failure,
            surface: PhantomData,
        }
    }
}

impl<S> From<StoreError> for HttpError<S> {
    fn from(e: StoreError) -> Self {
        Failure::Store(e).into()
    }
}

impl<S> From<getrandom::Error> for HttpError<S> {
    fn from(e: getrandom::Error) -> Self {
        Failure::Randomness(e).into()
    }
}

impl<S> From<minijinja::Error> for HttpError<S> {
    fn from(e: minijinja::Error) -> Self {
        Failure::Template(e).into()
    }
}

impl<S> fmt::Debug for HttpError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.failure, f)
    }
}

impl<S: Surface> IntoResponse for HttpError<S> {
    fn into_response(self) -> Response {
        match self.failure {
            Failure::Answer(r) => *r,
            Failure::Store(e) if e.is_unavailable() => store_unavailable::<S>(&e),
            failure => S::respond(failure),
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

/// The public site's pages, feeds and files.
pub struct SitePage;

impl Surface for SitePage {
    fn respond(failure: Failure) -> Response {
        match failure {
            Failure::Answer(r) => *r,
            Failure::NotFound => plain(StatusCode::NOT_FOUND, "not found"),
            Failure::Store(e) => {
                tracing::error!(error = %e, "store error");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The archive is unavailable; please try again.",
                )
            }
            other => {
                tracing::error!(error = %other, "page failed");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "This page could not be shown.",
                )
            }
        }
    }
}

/// Reader pages (`/subscribe/`, `/account/`, `/unsubscribe/`, the private
/// feed): never cached, never indexed.
pub struct ReaderPage;

impl Surface for ReaderPage {
    fn respond(failure: Failure) -> Response {
        let mut response = match failure {
            Failure::Answer(r) => return *r,
            Failure::NotFound => plain(StatusCode::NOT_FOUND, "Not found."),
            Failure::Store(e) => {
                tracing::error!(error = %e, "store error on a reader page");
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "The site is unavailable; please try again.",
                )
            }
            other => {
                tracing::error!(error = %other, "reader page failed");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "This page could not be shown.",
                )
            }
        };
        if response.status() == StatusCode::NOT_FOUND {
            let headers = response.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            headers.insert("x-robots-tag", HeaderValue::from_static("noindex"));
        }
        response
    }
}

/// The newsroom's pages at `/admin/`: never stored by anyone.
pub struct AdminPage;

impl Surface for AdminPage {
    fn respond(failure: Failure) -> Response {
        let mut response = match failure {
            Failure::Answer(r) => return *r,
            Failure::NotFound => plain(StatusCode::NOT_FOUND, "Not found."),
            Failure::Template(e) => {
                tracing::error!(error = %e, "admin template error");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "This page could not be shown.",
                )
            }
            other => {
                tracing::error!(error = %other, "failure in the admin area");
                plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The archive is unavailable; please try again.",
                )
            }
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// The JSON APIs under `/api/`: RFC 9457 problem details.
pub struct ApiProblem;

impl Surface for ApiProblem {
    fn unavailable() -> Response {
        problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "the archive is unavailable for a moment; please try again",
        )
    }

    fn respond(failure: Failure) -> Response {
        match failure {
            Failure::Answer(r) => *r,
            Failure::NotFound => problem(StatusCode::NOT_FOUND, "not found"),
            Failure::Store(StoreError::Refused(m)) => problem(StatusCode::CONFLICT, &m),
            Failure::Store(StoreError::NotFound { what, key }) => problem(
                StatusCode::NOT_FOUND,
                &format!("there is no {what} {key:?}"),
            ),
            Failure::Store(StoreError::Duplicate { what, key }) => problem(
                StatusCode::CONFLICT,
                &format!("{what} {key} already exists"),
            ),
            Failure::Store(StoreError::InvalidStory { source, .. }) => {
                problem(StatusCode::UNPROCESSABLE_ENTITY, &source.to_string())
            }
            other => {
                tracing::error!(error = %other, "failure in the staff API");
                problem(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "the archive is unavailable; please try again",
                )
            }
        }
    }
}

/// RFC 9457 problem details.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}
