//! What the site tells its operators: one access-log line and the request
//! metrics per answer, and the probes `/healthz` (the process answers) and
//! `/readyz` (the store answers, its schema is current, the search index is
//! caught up). Metrics go through the `metrics` facade, which does nothing
//! until the binary installs a recorder (`serve --metrics-addr`).
//!
//! Metric names (Prometheus): `bulletin_http_requests_total{route,status}`,
//! `bulletin_http_request_duration_seconds{route}`,
//! `bulletin_page_cache_total{result}` (hit, miss, 304, lag, ...); the search,
//! index, scheduler and sender metrics are recorded where that work is done.

use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::AppState;
use crate::routes::RouteBook;

/// Longest a readiness check waits for the store.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
}

/// Whether `path` is a probe: answered outside the page cache and validators,
/// and left out of the access log unless asked for.
pub fn is_probe(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz")
}

/// What [`record`] needs of one answered request.
pub struct Answered<'a> {
    pub method: &'a Method,
    /// The route's pattern (`/tag/{slug}/`), or `None` when no route matched.
    pub route: Option<&'a str>,
    pub path: &'a str,
    pub status: StatusCode,
    pub bytes: u64,
    pub started: Instant,
    /// How the page cache answered ("hit", "miss", "304", "-", ...).
    pub cache: &'static str,
}

/// Logs the request (unless it is a probe and probes are not logged) and
/// counts it.
pub fn record(state: &AppState, answered: &Answered<'_>) {
    let elapsed = answered.started.elapsed();
    let route = answered.route.unwrap_or("(no route)").to_owned();
    metrics::counter!(
        "bulletin_http_requests_total",
        "route" => route.clone(),
        "status" => answered.status.as_u16().to_string()
    )
    .increment(1);
    metrics::histogram!("bulletin_http_request_duration_seconds", "route" => route)
        .record(elapsed.as_secs_f64());
    if answered.cache != "-" {
        metrics::counter!("bulletin_page_cache_total", "result" => answered.cache).increment(1);
    }
    if is_probe(answered.path) && !state.options.log_probes {
        return;
    }
    // The path only: query strings may carry what a reader typed.
    tracing::info!(
        target: "bulletin::access",
        method = %answered.method,
        path = %truncate(&loggable_path(answered.path), 200),
        status = answered.status.as_u16(),
        bytes = answered.bytes,
        micros = elapsed.as_micros() as u64,
        cache = answered.cache,
    );
}

/// The process is up and answering.
async fn healthz() -> Response {
    no_store((StatusCode::OK, "ok\n").into_response())
}

/// Ready for traffic: the store answers within two seconds, its schema has
/// every migration of this release, and the search index is no more than
/// [`crate::Options::ready_max_lag`] changes behind it. 503 (with
/// `Retry-After`) otherwise; the JSON body says which check failed.
async fn readyz(State(state): State<AppState>) -> Response {
    let last_change = tokio::time::timeout(PROBE_TIMEOUT, state.store.last_change()).await;
    let (store_ok, store, seq) = match last_change {
        Ok(Ok(seq)) => (true, json!({"ok": true}), Some(seq)),
        Ok(Err(e)) => (false, json!({"ok": false, "error": e.to_string()}), None),
        Err(_) => (
            false,
            json!({"ok": false, "error": "no answer within 2 s"}),
            None,
        ),
    };
    let schema = match tokio::time::timeout(PROBE_TIMEOUT, state.store.schema_status()).await {
        Ok(Ok(status)) => json!({"ok": status.is_current(), "missing": status.missing()}),
        Ok(Err(e)) => json!({"ok": false, "error": e.to_string()}),
        Err(_) => json!({"ok": false, "error": "no answer within 2 s"}),
    };
    let max_lag = state.options.ready_max_lag;
    let index = match (&state.options.search, seq) {
        (None, _) => json!({"ok": true, "note": "no search index"}),
        (Some(index), Some(seq)) => {
            let lag = seq.saturating_sub(index.applied_seq()).max(0);
            json!({"ok": lag.unsigned_abs() <= max_lag, "lag": lag, "max_lag": max_lag})
        }
        (Some(_), None) => json!({"ok": false, "error": "the store did not answer"}),
    };
    let ready = store_ok && schema["ok"] == true && index["ok"] == true;
    let body = json!({
        "status": if ready { "ready" } else { "not ready" },
        "checks": {"store": store, "schema": schema, "index": index},
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut response = no_store((status, axum::Json(body)).into_response());
    if !ready {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    }
    response
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The path as the access log may show it: the signed tokens of reader links
/// (confirmation, sign-in, unsubscribe, private feed) are secrets, so they
/// are replaced by `TOKEN`.
fn loggable_path(path: &str) -> std::borrow::Cow<'_, str> {
    for prefix in [
        "/subscribe/confirm/",
        "/account/sign-in/",
        "/unsubscribe/",
        "/feed/private/",
    ] {
        if let Some(rest) = path.strip_prefix(prefix)
            && !rest.is_empty()
        {
            let tail = if rest.ends_with('/') { "/" } else { "" };
            return format!("{prefix}TOKEN{tail}").into();
        }
    }
    path.into()
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_tokens_never_reach_the_log() {
        assert_eq!(
            loggable_path("/feed/private/v1.abc.def/"),
            "/feed/private/TOKEN/"
        );
        assert_eq!(
            loggable_path("/unsubscribe/v1.abc.def"),
            "/unsubscribe/TOKEN"
        );
        assert_eq!(
            loggable_path("/subscribe/confirm/v1.x.y"),
            "/subscribe/confirm/TOKEN"
        );
        assert_eq!(
            loggable_path("/account/sign-in/v1.x.y"),
            "/account/sign-in/TOKEN"
        );
        assert_eq!(loggable_path("/account/sign-in/"), "/account/sign-in/");
        assert_eq!(
            loggable_path("/2021/07/18/a-story/"),
            "/2021/07/18/a-story/"
        );
    }

    #[test]
    fn long_paths_are_cut_on_a_character_boundary() {
        let path = format!("/{}", "é".repeat(300));
        let cut = truncate(&path, 200);
        assert!(cut.len() <= 200 && path.starts_with(cut));
    }
}
