//! Search on the site: `/search` (an HTML page whose filters are plain links and
//! form fields, so it works without JavaScript) and `/api/v1/search` (JSON), both
//! asking the one index; and the related stories of a story page.
//!
//! Parameters (both): `q`, `tag`, `country` (code or name), `place`, `issue`,
//! `from` and `to` (`2021`, `2021-07` or `2021-07-18`; a year or month means its
//! first day for `from` and its last for `to`), `sort` (`relevance` | `newest`).
//! The page takes `page`; the API `offset`, `limit` and `facets=false`.

use crate::routes::RouteBook;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use bulletin_core::Date;
use bulletin_search::{Hit, SearchError, SearchRequest, SearchResults, Sort};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use crate::AppState;
use crate::error::problem;
use crate::pages::{render_page, site_facts};

/// Results on one page of `/search`.
const PAGE_SIZE: usize = 20;
/// Related stories on a story page.
const RELATED: usize = 5;

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/search", search_page)
        .get("/search/", search_page)
        .get("/api/v1/search", search_api)
}

/// The request read from a query string, with what was wrong in it.
struct Params {
    request: SearchRequest,
    /// Every parameter as given (last one wins), for links and the form.
    given: Vec<(String, String)>,
    page: usize,
    errors: Vec<String>,
}

impl Params {
    fn get(&self, name: &str) -> &str {
        self.given
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

fn read_params(query: Option<&str>) -> Params {
    let mut given: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let v = v.trim().to_owned();
        given.retain(|(name, _)| name != &k);
        given.push((k.into_owned(), v));
    }
    let mut p = Params {
        request: SearchRequest::default(),
        given,
        page: 1,
        errors: Vec::new(),
    };
    let text = |p: &Params, name: &str| {
        let v = p.get(name);
        (!v.is_empty()).then(|| v.to_owned())
    };
    p.request.q = p.get("q").to_owned();
    p.request.tag = text(&p, "tag");
    p.request.country = text(&p, "country");
    p.request.place = text(&p, "place");
    if let Some(issue) = text(&p, "issue") {
        match issue.parse::<u32>() {
            Ok(n) => p.request.issue = Some(n),
            Err(_) => p
                .errors
                .push(format!("issue {issue:?} is not an issue number")),
        }
    }
    for (name, end) in [("from", false), ("to", true)] {
        if let Some(value) = text(&p, name) {
            match parse_date(&value, end) {
                Some(date) if name == "from" => p.request.from = Some(date),
                Some(date) => p.request.to = Some(date),
                None => p.errors.push(format!(
                    "{name} {value:?} is not a date: use 2021, 2021-07 or 2021-07-18"
                )),
            }
        }
    }
    if let Some(sort) = text(&p, "sort") {
        match Sort::parse(&sort) {
            Some(sort) => p.request.sort = sort,
            None => p.errors.push(format!(
                "sort {sort:?} is not known: use relevance or newest"
            )),
        }
    }
    for (name, default) in [("page", 1usize), ("offset", 0), ("limit", PAGE_SIZE)] {
        let Some(value) = text(&p, name) else {
            continue;
        };
        match value.parse::<usize>() {
            Ok(n) if name != "page" || n >= 1 => match name {
                "page" => p.page = n,
                "offset" => p.request.offset = n,
                _ => p.request.limit = n,
            },
            _ => p.errors.push(format!(
                "{name} {value:?} is not a number{}",
                if default == 1 { " from 1 up" } else { "" }
            )),
        }
    }
    p.request.facets = !matches!(p.get("facets"), "false" | "0" | "no");
    p
}

/// `2021` · `2021-07` · `2021-07-18`; a year or month means its first day, or its
/// last when `end`.
fn parse_date(text: &str, end: bool) -> Option<Date> {
    let parts: Vec<&str> = text.split('-').collect();
    let number = |s: &str, len: usize| -> Option<i64> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let year = i16::try_from(number(parts.first()?, 4)?).ok()?;
    match parts.len() {
        1 => Date::new(year, if end { 12 } else { 1 }, if end { 31 } else { 1 }).ok(),
        2 => {
            let month = i8::try_from(number(parts[1], 2)?).ok()?;
            let first = Date::new(year, month, 1).ok()?;
            Some(if end { first.last_of_month() } else { first })
        }
        3 => {
            let month = i8::try_from(number(parts[1], 2)?).ok()?;
            let day = i8::try_from(number(parts[2], 2)?).ok()?;
            Date::new(year, month, day).ok()
        }
        _ => None,
    }
}

/// `path?` with `given`, each of `set` replaced (or removed when `None`).
fn link(path: &str, given: &[(String, String)], set: &[(&str, Option<&str>)]) -> String {
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in given {
        if !v.is_empty() && !set.iter().any(|(name, _)| name == k) {
            out.append_pair(k, v);
        }
    }
    for (k, v) in set {
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            out.append_pair(k, v);
        }
    }
    let query = out.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

async fn run(
    state: &AppState,
    request: SearchRequest,
) -> Option<Result<SearchResults, SearchError>> {
    let index = state.options.search.clone()?;
    Some(
        tokio::task::spawn_blocking(move || index.search(&request))
            .await
            .unwrap_or_else(|e| Err(SearchError::Task(e.to_string()))),
    )
}

/// A facet value with the address that narrows the search to it.
#[derive(Serialize)]
struct FacetLink {
    value: String,
    label: String,
    count: u64,
    url: String,
    active: bool,
}

async fn search_page(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let mut p = read_params(query.as_deref());
    p.request.limit = PAGE_SIZE;
    p.request.offset = (p.page - 1).saturating_mul(PAGE_SIZE);
    p.request.facets = true;
    let asked = !p.request.q.trim().is_empty()
        || ["tag", "country", "place", "issue", "from", "to"]
            .iter()
            .any(|k| !p.get(k).is_empty());
    let mut status = StatusCode::OK;
    let mut errors = std::mem::take(&mut p.errors);
    let mut results = None;
    if asked && errors.is_empty() {
        match run(&state, p.request.clone()).await {
            None => {
                status = StatusCode::SERVICE_UNAVAILABLE;
                errors.push("Search is not available on this site right now.".into());
            }
            Some(Ok(r)) => results = Some(r),
            Some(Err(e)) if e.is_bad_request() => errors.push(e.to_string()),
            Some(Err(e)) => {
                tracing::error!(error = %e, "search failed");
                status = StatusCode::INTERNAL_SERVER_ERROR;
                errors.push("The search could not be run; please try again.".into());
            }
        }
    }
    if !errors.is_empty() && status == StatusCode::OK {
        status = StatusCode::BAD_REQUEST;
    }
    let facts = match site_facts(&state).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "store error");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "The archive is unavailable; please try again.",
            )
                .into_response();
        }
    };
    let countries: Vec<Value> = match facts.countries(&state).await {
        Ok(list) => list
            .iter()
            .map(|(code, _)| {
                context! { code => code, name => crate::pages::country_name(code) }
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let ctx = page_context(&p, results.as_ref(), errors, countries);
    match render_page(&state, "search.html", ctx).await {
        Ok(page) => (status, page).into_response(),
        Err(_) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "This page could not be shown.",
        )
            .into_response(),
    }
}

fn page_context(
    p: &Params,
    results: Option<&SearchResults>,
    errors: Vec<String>,
    countries: Vec<Value>,
) -> Value {
    let given = &p.given;
    let narrow =
        |name: &str, value: &str| link("/search", given, &[(name, Some(value)), ("page", None)]);
    let facets = results.and_then(|r| r.facets.as_ref()).map(|f| {
        let country = p.get("country").to_ascii_uppercase();
        let tag = p.get("tag");
        let countries: Vec<FacetLink> = f
            .countries
            .iter()
            .map(|(code, n)| FacetLink {
                value: code.clone(),
                label: crate::pages::country_name(code),
                count: *n,
                url: narrow("country", code),
                active: country == *code,
            })
            .collect();
        let tags: Vec<FacetLink> = f
            .tags
            .iter()
            .take(30)
            .map(|(name, n)| FacetLink {
                value: name.clone(),
                label: name.clone(),
                count: *n,
                url: narrow("tag", name),
                active: tag == name || bulletin_core::slugify(name) == tag,
            })
            .collect();
        let years: Vec<FacetLink> = f
            .years
            .iter()
            .map(|(year, n)| {
                let y = year.to_string();
                FacetLink {
                    url: link(
                        "/search",
                        given,
                        &[("from", Some(&y)), ("to", Some(&y)), ("page", None)],
                    ),
                    active: p.get("from") == y && p.get("to") == y,
                    value: y.clone(),
                    label: y,
                    count: *n,
                }
            })
            .collect();
        context! { countries => Serde(countries), tags => Serde(tags), years => Serde(years) }
    });
    // Each filter in force, with the address that drops it.
    let mut active = Vec::new();
    for (name, label) in [
        ("tag", "tag"),
        ("country", "country"),
        ("place", "place"),
        ("issue", "issue"),
        ("from", "from"),
        ("to", "to"),
    ] {
        let value = p.get(name);
        if !value.is_empty() {
            let shown = if name == "country" && value.len() == 2 {
                crate::pages::country_name(&value.to_ascii_uppercase())
            } else {
                value.to_owned()
            };
            active.push(context! {
                label => label,
                value => shown,
                remove => link("/search", given, &[(name, None), ("page", None)]),
            });
        }
    }
    let (pages, prev, next) = match results {
        Some(r) => {
            let reachable = bulletin_search::MAX_WINDOW / PAGE_SIZE;
            let pages = (r.total as usize).div_ceil(PAGE_SIZE).min(reachable);
            let at = |n: usize| {
                link(
                    "/search",
                    given,
                    &[("page", (n > 1).then(|| n.to_string()).as_deref())],
                )
            };
            (
                pages,
                (p.page > 1 && p.page <= pages + 1).then(|| at(p.page - 1)),
                (p.page < pages).then(|| at(p.page + 1)),
            )
        }
        None => (0, None, None),
    };
    let sorts: Vec<Value> = [("relevance", "Best match"), ("newest", "Newest first")]
        .iter()
        .map(|(value, label)| {
            context! {
                value => *value,
                label => *label,
                url => link("/search", given, &[("sort", Some(value)), ("page", None)]),
                active => results.map(|r| r.sort) == Sort::parse(value),
            }
        })
        .collect();
    context! {
        q => p.get("q"),
        form => context! {
            tag => p.get("tag"),
            country => p.get("country").to_ascii_uppercase(),
            place => p.get("place"),
            issue => p.get("issue"),
            from => p.get("from"),
            to => p.get("to"),
            sort => p.get("sort"),
        },
        countries => countries,
        errors => errors,
        asked => results.is_some(),
        total => results.map_or(0, |r| r.total),
        hits => Serde(results.map_or(&[][..], |r| &r.hits[..])),
        notes => Serde(results.map_or(&[][..], |r| &r.notes[..])),
        also_searched => Serde(results.map_or(&[][..], |r| &r.also_searched[..])),
        facets => facets,
        active => active,
        sorts => sorts,
        page => p.page,
        pages => pages,
        prev => prev,
        next => next,
    }
}

async fn search_api(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    let p = read_params(query.as_deref());
    if !p.errors.is_empty() {
        return problem(StatusCode::BAD_REQUEST, &p.errors.join("; "));
    }
    if p.given.iter().any(|(k, _)| k == "page") {
        return problem(
            StatusCode::BAD_REQUEST,
            "the API pages with offset and limit, not page",
        );
    }
    let results = match run(&state, p.request.clone()).await {
        None => {
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "search is not available on this site",
            );
        }
        Some(Ok(r)) => r,
        Some(Err(e)) if e.is_bad_request() => {
            return problem(StatusCode::BAD_REQUEST, &e.to_string());
        }
        Some(Err(e)) => {
            tracing::error!(error = %e, "search failed");
            return problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the search could not be run",
            );
        }
    };
    let end = results.offset + results.hits.len();
    let next = (end < results.total as usize && end + results.limit <= bulletin_search::MAX_WINDOW)
        .then(|| {
            link(
                "/api/v1/search",
                &p.given,
                &[
                    ("offset", Some(&end.to_string())),
                    ("limit", Some(&results.limit.to_string())),
                ],
            )
        });
    let facets = results.facets.as_ref().map(|f| {
        serde_json::json!({
            "countries": f.countries.iter().map(|(code, n)| serde_json::json!({
                "code": code, "name": crate::pages::country_name(code), "count": n,
            })).collect::<Vec<_>>(),
            "tags": f.tags.iter().map(|(name, n)| serde_json::json!({
                "name": name, "slug": bulletin_core::slugify(name), "count": n,
            })).collect::<Vec<_>>(),
            "years": f.years.iter().map(|(year, n)| serde_json::json!({
                "year": year, "count": n,
            })).collect::<Vec<_>>(),
        })
    });
    let body = serde_json::json!({
        "query": {
            "q": p.request.q,
            "tag": p.request.tag,
            "country": p.request.country,
            "place": p.request.place,
            "issue": p.request.issue,
            "from": p.request.from.map(|d| d.to_string()),
            "to": p.request.to.map(|d| d.to_string()),
            "sort": results.sort,
        },
        "total": results.total,
        "offset": results.offset,
        "limit": results.limit,
        "hits": results.hits,
        "facets": facets,
        "notes": results.notes,
        "also_searched": results.also_searched.iter().map(|(typed, names)| serde_json::json!({
            "typed": typed, "names": names,
        })).collect::<Vec<_>>(),
        "next": next,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Stories like this one, for its page; none when the site has no index.
pub async fn related(state: &AppState, slug: &str) -> Vec<Hit> {
    let Some(index) = state.options.search.clone() else {
        return Vec::new();
    };
    let slug = slug.to_owned();
    match tokio::task::spawn_blocking(move || index.related(&slug, RELATED)).await {
        Ok(Ok(hits)) => hits,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "related stories unavailable");
            Vec::new()
        }
        Err(e) => {
            tracing::warn!(error = %e, "related stories task failed");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_accept_years_months_and_days() {
        let d = |y, m, d| Date::new(y, m, d).unwrap();
        assert_eq!(parse_date("2021", false), Some(d(2021, 1, 1)));
        assert_eq!(parse_date("2021", true), Some(d(2021, 12, 31)));
        assert_eq!(parse_date("2024-02", true), Some(d(2024, 2, 29)));
        assert_eq!(parse_date("2021-07-18", false), Some(d(2021, 7, 18)));
        for bad in [
            "",
            "21",
            "2021-13",
            "2021-02-30",
            "2021-7-1",
            "yesterday",
            "2021-01-01-01",
        ] {
            assert_eq!(parse_date(bad, false), None, "{bad}");
        }
    }

    #[test]
    fn links_replace_and_drop_parameters() {
        let given = vec![
            ("q".to_owned(), "human rights".to_owned()),
            ("page".to_owned(), "3".to_owned()),
            ("tag".to_owned(), String::new()),
        ];
        assert_eq!(
            link(
                "/search",
                &given,
                &[("country", Some("KZ")), ("page", None)]
            ),
            "/search?q=human+rights&country=KZ"
        );
        assert_eq!(link("/search", &[], &[]), "/search");
    }

    #[test]
    fn parameters_are_read_with_clear_errors() {
        let p = read_params(Some("q=a&q=b&issue=x&from=2021&to=soon&sort=best&page=0"));
        assert_eq!(p.request.q, "b");
        assert_eq!(p.errors.len(), 4, "{:?}", p.errors);
        assert!(p.errors.iter().any(|e| e.contains("soon")));
        let p = read_params(Some("q=%FF%FE&country=kz&facets=false"));
        assert!(p.errors.is_empty());
        assert!(!p.request.facets);
    }
}
