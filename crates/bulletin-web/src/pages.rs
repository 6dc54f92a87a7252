//! The public pages. Handlers ask the store and render templates; nothing else.

use std::collections::{BTreeMap, HashMap};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bulletin_core::{Issue, Story, render};
use bulletin_store::{StoreError, StoryQuery};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::AppState;

/// Stories a tag archive page shows, as WordPress does by default.
const PER_PAGE: u32 = 10;
/// Deepest archive page served; past it, 404 (keeps a crawler from asking the
/// store to walk a million rows for one page).
const MAX_PAGE: u32 = 10_000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/{year}/{month}/{day}/{slug}/", get(story))
        .route("/tag/", get(tags))
        .route("/tag/{slug}/", get(tag_first))
        .route("/tag/{slug}/page/{page}/", get(tag_page))
        .route("/issue/", get(issues))
        .route("/issue/{number}/", get(issue))
        .fallback(not_found)
}

/// Why a page could not be shown.
enum PageError {
    NotFound,
    Store(StoreError),
    Template(minijinja::Error),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Store(e)
    }
}

impl From<minijinja::Error> for PageError {
    fn from(e: minijinja::Error) -> Self {
        PageError::Template(e)
    }
}

type Page = Result<Response, PageError>;

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A story as templates see it: every string already in its final wording.
#[derive(Serialize)]
struct StoryView {
    url: String,
    headline: String,
    dateline: String,
    credit: String,
    body: Vec<String>,
    issue_footer: Option<String>,
    copyright_footer: String,
    issue_number: Option<u32>,
    tags: Vec<TagRef>,
    countries: Vec<String>,
}

#[derive(Serialize)]
struct TagRef {
    name: String,
    slug: String,
}

impl StoryView {
    fn new(story: &Story) -> StoryView {
        StoryView {
            url: story.url(),
            headline: story.headline.clone(),
            dateline: render::dateline_caps(story, true),
            credit: story.dateline.credit.clone(),
            body: story.body.clone(),
            issue_footer: render::issue_footer(story),
            copyright_footer: render::copyright_footer(story),
            issue_number: story.issue.map(|i| i.number),
            tags: story
                .tags
                .iter()
                .map(|t| TagRef {
                    name: t.clone(),
                    slug: bulletin_core::slugify(t),
                })
                .collect(),
            countries: story.countries.clone(),
        }
    }
}

async fn render_page(state: &AppState, template: &str, ctx: minijinja::Value) -> Page {
    let publication = state.store.publication().await?;
    let ctx = context! { publication => Serde(publication), ..ctx };
    Ok(html(state.theme.render(template, ctx)?))
}

async fn home(State(state): State<AppState>) -> Response {
    respond(&state, "/", async {
        if state.store.counts().await?.stories == 0 {
            return render_page(&state, "start.html", context! {}).await;
        }
        let issues = state.store.issues().await?;
        let latest = issues
            .iter()
            .filter(|i| !i.stories.is_empty())
            .max_by_key(|i| (i.date, i.number));
        let stories = match latest {
            Some(issue) => issue_stories(&state, issue).await?,
            None => Vec::new(),
        };
        let shown = latest.map(|i| {
            context! { number => i.number, date => i.date.map(bulletin_core::format_issue_date) }
        });
        render_page(
            &state,
            "home.html",
            context! { issue => shown, stories => Serde(stories) },
        )
        .await
    })
    .await
}

/// The stories of an issue in issue order, in one query.
async fn issue_stories(state: &AppState, issue: &Issue) -> Result<Vec<StoryView>, PageError> {
    let page = state
        .store
        .stories(&StoryQuery {
            issue: Some(issue.number),
            limit: 10_000,
            ..StoryQuery::default()
        })
        .await?;
    let mut by_slug: HashMap<&str, &Story> =
        page.stories.iter().map(|s| (s.slug.as_str(), s)).collect();
    Ok(issue
        .stories
        .iter()
        .filter_map(|slug| by_slug.remove(slug.as_str()))
        .map(StoryView::new)
        .collect())
}

async fn story(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    respond(&state, uri.path(), async {
        let story = state.store.story(&slug).await?.ok_or(PageError::NotFound)?;
        // The date in the address must be the story's own.
        let d = story.dateline.date;
        let wanted = (
            format!("{:04}", d.year()),
            format!("{:02}", d.month()),
            format!("{:02}", d.day()),
        );
        if wanted != (year, month, day) {
            return Err(PageError::NotFound);
        }
        render_page(
            &state,
            "story.html",
            context! { story => Serde(StoryView::new(&story)) },
        )
        .await
    })
    .await
}

async fn tags(State(state): State<AppState>) -> Response {
    respond(&state, "/tag/", async {
        let tags: Vec<_> = state
            .store
            .tags()
            .await?
            .into_iter()
            .map(|(t, count)| context! { name => t.name, slug => t.slug, count => count })
            .collect();
        render_page(&state, "tags.html", context! { tags => tags }).await
    })
    .await
}

async fn tag_first(State(state): State<AppState>, Path(slug): Path<String>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    respond(&state, &path, tag_archive(&state, slug, 1)).await
}

async fn tag_page(
    State(state): State<AppState>,
    Path((slug, page)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    let path = uri.path().to_owned();
    match page.parse::<u32>() {
        Ok(page) if (1..=MAX_PAGE).contains(&page) => {
            respond(&state, &path, tag_archive(&state, slug, page)).await
        }
        _ => not_found_page(&state, &path).await,
    }
}

async fn tag_archive(state: &AppState, slug: String, page: u32) -> Page {
    let (tag, count) = state
        .store
        .tags()
        .await?
        .into_iter()
        .find(|(t, _)| t.slug == slug)
        .ok_or(PageError::NotFound)?;
    let pages = count.div_ceil(u64::from(PER_PAGE)).max(1);
    if u64::from(page) > pages {
        return Err(PageError::NotFound);
    }
    // Keyset pages of PER_PAGE: page N follows N-1 cursors.
    let mut query = StoryQuery {
        tag: Some(tag.name.clone()),
        limit: PER_PAGE,
        ..StoryQuery::default()
    };
    let mut stories = Vec::new();
    for n in 1..=page {
        let result = state.store.stories(&query).await?;
        if n == page {
            stories = result.stories;
        } else {
            match result.next {
                Some(next) => query.after = Some(next),
                None => return Err(PageError::NotFound),
            }
        }
    }
    let views: Vec<StoryView> = stories.iter().map(StoryView::new).collect();
    render_page(
        state,
        "tag.html",
        context! {
            tag => context! { name => tag.name, slug => tag.slug.clone() },
            stories => Serde(views),
            count => count,
            page => page,
            pages => pages,
            base => format!("/tag/{}/", tag.slug),
        },
    )
    .await
}

async fn issues(State(state): State<AppState>) -> Response {
    respond(&state, "/issue/", async {
        let mut years: BTreeMap<std::cmp::Reverse<i16>, Vec<minijinja::Value>> = BTreeMap::new();
        for issue in state.store.issues().await?.into_iter().rev() {
            let year = issue.date.map_or(0, |d| d.year());
            years
                .entry(std::cmp::Reverse(year))
                .or_default()
                .push(context! {
                    number => issue.number,
                    date => issue.date.map(bulletin_core::format_issue_date),
                    count => issue.stories.len(),
                });
        }
        let years: Vec<_> = years
            .into_iter()
            .map(|(y, issues)| {
                let label = if y.0 == 0 {
                    "Undated".to_owned()
                } else {
                    y.0.to_string()
                };
                context! { year => label, issues => issues }
            })
            .collect();
        render_page(&state, "issues.html", context! { years => years }).await
    })
    .await
}

async fn issue(State(state): State<AppState>, Path(number): Path<String>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    respond(&state, &path, async {
        let number = number.parse::<u32>().map_err(|_| PageError::NotFound)?;
        let issue = state
            .store
            .issue(number)
            .await?
            .ok_or(PageError::NotFound)?;
        let stories = issue_stories(&state, &issue).await?;
        let shown = context! {
            number => issue.number,
            date => issue.date.map(bulletin_core::format_issue_date),
        };
        render_page(
            &state,
            "issue.html",
            context! { issue => shown, stories => Serde(stories) },
        )
        .await
    })
    .await
}

async fn not_found(State(state): State<AppState>, uri: Uri) -> Response {
    not_found_page(&state, uri.path()).await
}

async fn not_found_page(state: &AppState, path: &str) -> Response {
    match render_page(state, "not_found.html", context! { path => path }).await {
        Ok(page) => (StatusCode::NOT_FOUND, page).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Turns a page result into a response: 404 with the helpful page, 500 with a
/// plain message (details go to the log, not to the visitor).
async fn respond(state: &AppState, path: &str, page: impl Future<Output = Page>) -> Response {
    match page.await {
        Ok(response) => response,
        Err(PageError::NotFound) => not_found_page(state, path).await,
        Err(PageError::Store(e)) => {
            tracing::error!(path, error = %e, "store error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The archive is unavailable; please try again.",
            )
                .into_response()
        }
        Err(PageError::Template(e)) => {
            tracing::error!(path, error = %e, "template error");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "This page could not be shown.",
            )
                .into_response()
        }
    }
}
