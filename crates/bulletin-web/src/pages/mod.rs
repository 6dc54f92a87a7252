//! The public pages. Handlers ask the store and render templates; nothing else.
//! Every page costs a fixed, small number of queries (no N+1): a story list is
//! one query, its count another.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use bulletin_core::{Issue, Story, render};
use bulletin_store::{StoreError, StoryQuery};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

use crate::AppState;
use crate::error::{Failure, HttpError, SitePage};
use crate::routes::RouteBook;

/// Stories an archive page shows, as WordPress does by default.
pub const PER_PAGE: u32 = 10;
/// Deepest archive page served: past it, 404 (a crawler cannot make the store
/// step over more than `MAX_PAGE * PER_PAGE` rows for one page).
const MAX_PAGE: u32 = 20_000;
/// Years linked from every page's footer, newest first.
const FOOTER_YEARS: usize = 30;
/// Stories under "Recent stories" on the home page.
const RECENT: u32 = 10;

mod archives;

pub use archives::tag_by_slug;
use archives::{
    country_archive, country_archive_page, day_archive, day_archive_page, month_archive,
    month_archive_page, place_archive, place_archive_page, tag_archive, tag_archive_page,
    year_archive, year_archive_page,
};

pub fn routes() -> RouteBook {
    RouteBook::new()
        .get("/", home)
        .get("/style.css", stylesheet)
        // Browsers ask for it on pages without an icon link (feeds): an empty
        // answer instead of a 404 in every log.
        .get("/favicon.ico", || async { StatusCode::NO_CONTENT })
        .get("/{year}/", year_archive)
        .get("/{year}/page/{page}/", year_archive_page)
        .get("/{year}/{month}/", month_archive)
        .get("/{year}/{month}/page/{page}/", month_archive_page)
        .get("/{year}/{month}/{day}/", day_archive)
        .get("/{year}/{month}/{day}/page/{page}/", day_archive_page)
        .get("/{year}/{month}/{day}/{slug}/", story)
        .get("/tag/", tags)
        .get("/tag/{slug}/", tag_archive)
        .get("/tag/{slug}/page/{page}/", tag_archive_page)
        .get("/country/", countries)
        .get("/country/{code}/", country_archive)
        .get("/country/{code}/page/{page}/", country_archive_page)
        .get("/place/", places)
        .get("/place/{slug}/", place_archive)
        .get("/place/{slug}/page/{page}/", place_archive_page)
        .get("/issue/", issues)
        .get("/issue/{number}/", issue)
        .map(|r| r.fallback(not_found))
}

pub type Page = Result<Response, Failure>;

fn html(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// A story as templates see it: every string already in its final wording, the
/// body already cut to what an anonymous reader may see.
#[derive(Serialize)]
pub struct StoryView {
    pub url: String,
    pub headline: String,
    pub dateline: String,
    pub credit: String,
    /// The first paragraph (what follows the dateline).
    pub lead: String,
    /// The visible paragraphs, lead included.
    pub body: Vec<String>,
    /// Part of the story is for subscribers only, and this reader may not see it.
    pub locked: bool,
    /// The story has a part for subscribers (whether or not this reader sees
    /// it): the template wraps that part, or the invitation standing in for
    /// it, in the element structured data names as not free.
    pub paywalled: bool,
    /// ISO 8601 dateline date.
    pub date: String,
    /// "July 18 2021".
    pub date_text: String,
    pub issue_footer: Option<String>,
    pub copyright_footer: String,
    pub issue_number: Option<u32>,
    pub tags: Vec<Term>,
    pub countries: Vec<Term>,
    pub places: Vec<Term>,
}

/// A tag, country or place with its archive address.
#[derive(Serialize)]
pub struct Term {
    pub name: String,
    pub slug: String,
}

impl StoryView {
    /// The story as the request's reader may see it (the access rule, with
    /// [`crate::access::reads_everything`]).
    pub fn new(story: &Story) -> StoryView {
        let entitled = crate::access::reads_everything();
        let body = render::visible_body(story, entitled).to_vec();
        StoryView {
            url: story.url(),
            headline: story.headline.clone(),
            dateline: render::dateline_caps(story, true),
            credit: story.dateline.credit.clone(),
            lead: body.first().cloned().unwrap_or_default(),
            locked: render::is_withheld(story, entitled),
            paywalled: render::is_withheld(story, false),
            body,
            date: story.dateline.date.to_string(),
            date_text: bulletin_core::format_issue_date(story.dateline.date),
            issue_footer: render::issue_footer(story),
            copyright_footer: render::copyright_footer(story),
            issue_number: story.issue.map(|i| i.number),
            tags: story
                .tags
                .iter()
                .map(|t| Term {
                    name: t.clone(),
                    slug: bulletin_core::slugify(t),
                })
                .collect(),
            countries: story
                .countries
                .iter()
                .map(|c| Term {
                    name: country_name(c),
                    slug: c.to_lowercase(),
                })
                .collect(),
            places: story
                .dateline
                .places
                .iter()
                .map(|p| Term {
                    name: p.clone(),
                    slug: bulletin_core::slugify(p),
                })
                .collect(),
        }
    }
}

pub fn country_name(code: &str) -> String {
    bulletin_core::gazetteer()
        .country(code)
        .map_or_else(|| code.to_owned(), |c| c.name.clone())
}

/// What every page shows around its content, and the archive-wide lists and
/// counts pages look things up in: read once per archive version (change
/// sequence), the lists on first use. At a million stories a tag list or an
/// archive count is a scan; this makes it one scan per import, not per request.
pub struct SiteFacts {
    pub seq: i64,
    pub publication: bulletin_core::Publication,
    /// Years with stories, newest first, for the footer.
    pub years: Vec<i16>,
    pub months: Vec<(i16, i8, u64)>,
    tags: tokio::sync::OnceCell<Vec<(bulletin_core::Tag, u64)>>,
    places: tokio::sync::OnceCell<Vec<(String, u64)>>,
    countries: tokio::sync::OnceCell<Vec<(String, u64)>>,
    counts: std::sync::Mutex<HashMap<String, u64>>,
}

impl SiteFacts {
    pub async fn tags(&self, state: &AppState) -> Result<&[(bulletin_core::Tag, u64)], StoreError> {
        Ok(self.tags.get_or_try_init(|| state.store.tags()).await?)
    }

    pub async fn places(&self, state: &AppState) -> Result<&[(String, u64)], StoreError> {
        Ok(self.places.get_or_try_init(|| state.store.places()).await?)
    }

    pub async fn countries(&self, state: &AppState) -> Result<&[(String, u64)], StoreError> {
        Ok(self
            .countries
            .get_or_try_init(|| state.store.countries())
            .await?)
    }

    /// `count_stories`, remembered for this archive version.
    pub async fn count(&self, state: &AppState, query: &StoryQuery) -> Result<u64, StoreError> {
        let key = format!("{query:?}");
        if let Some(&n) = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(n);
        }
        let n = state.store.count_stories(query).await?;
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        // Bounded: a crawler walking every archive cannot grow it without end.
        if counts.len() >= 10_000 {
            counts.clear();
        }
        counts.insert(key, n);
        Ok(n)
    }
}

pub async fn site_facts(state: &AppState) -> Result<Arc<SiteFacts>, StoreError> {
    let seq = state.seq.head(&*state.store).await?.seq;
    if let Some(facts) = state
        .facts
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .filter(|f| f.seq == seq)
    {
        return Ok(Arc::clone(facts));
    }
    let publication = state.store.publication().await?;
    let months = state.store.months().await?;
    let mut years: Vec<i16> = months.iter().map(|m| m.0).collect();
    years.dedup();
    let facts = Arc::new(SiteFacts {
        seq,
        publication,
        years,
        months,
        tags: Default::default(),
        places: Default::default(),
        countries: Default::default(),
        counts: Default::default(),
    });
    let mut slot = state.facts.lock().unwrap_or_else(|e| e.into_inner());
    // Keep the newer of two racing versions.
    if slot.as_ref().is_none_or(|f| f.seq <= seq) {
        *slot = Some(Arc::clone(&facts));
    }
    Ok(facts)
}

pub async fn render_page(state: &AppState, template: &str, ctx: minijinja::Value) -> Page {
    let facts = site_facts(state).await?;
    // The footer links the newest years; the issue index reaches every year.
    let shown_years = &facts.years[..facts.years.len().min(FOOTER_YEARS)];
    let ctx = context! {
        publication => Serde(&facts.publication),
        years => Serde(shown_years),
        more_years => facts.years.len() > FOOTER_YEARS,
        asset_version => format!("{:x}", state.theme.id()),
        // Set only on pages rendered for a signed-in reader, which are never
        // cached (see `crate::access`).
        reader => crate::access::signed_in().map(|s| context! {
            email => s.subscriber.email.clone(),
            paid => s.subscriber.reads_everything(),
        }),
        ..ctx
    };
    Ok(html(state.theme.render(template, ctx)?))
}

async fn stylesheet(State(state): State<AppState>) -> Response {
    match state.theme.render("style.css", context! {}) {
        Ok(css) => ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], css).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template error in style.css");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn home(State(state): State<AppState>) -> Response {
    respond(&state, "/", async {
        let Some(issue) = state.store.latest_issue().await? else {
            if state.store.counts().await?.stories == 0 {
                return render_page(&state, "start.html", context! {}).await;
            }
            return recent_only(&state).await;
        };
        let stories = issue_stories(&state, &issue).await?;
        let recent = recent_stories(&state, &issue.stories).await?;
        let shown = context! {
            number => issue.number,
            date => issue.date.map(bulletin_core::format_issue_date),
        };
        render_page(
            &state,
            "home.html",
            context! { issue => shown, stories => Serde(stories), recent => Serde(recent) },
        )
        .await
    })
    .await
}

/// An archive of stories without issues: the home page lists the newest.
async fn recent_only(state: &AppState) -> Page {
    let recent = recent_stories(state, &[]).await?;
    render_page(state, "home.html", context! { recent => Serde(recent) }).await
}

/// The newest stories not in `except` (the latest issue, shown above them).
async fn recent_stories(state: &AppState, except: &[String]) -> Result<Vec<StoryView>, Failure> {
    let page = state
        .store
        .stories(&StoryQuery {
            limit: RECENT + except.len() as u32,
            ..StoryQuery::default()
        })
        .await?;
    Ok(page
        .stories
        .iter()
        .filter(|s| !except.contains(&s.slug))
        .take(RECENT as usize)
        .map(StoryView::new)
        .collect())
}

/// The stories of an issue in issue order, in one query.
pub async fn issue_stories(state: &AppState, issue: &Issue) -> Result<Vec<StoryView>, Failure> {
    Ok(issue_stories_raw(state, issue)
        .await?
        .iter()
        .map(StoryView::new)
        .collect())
}

pub async fn issue_stories_raw(state: &AppState, issue: &Issue) -> Result<Vec<Story>, StoreError> {
    let page = state
        .store
        .stories(&StoryQuery {
            issue: Some(issue.number),
            limit: 10_000,
            ..StoryQuery::default()
        })
        .await?;
    let mut by_slug: HashMap<String, Story> = page
        .stories
        .into_iter()
        .map(|s| (s.slug.clone(), s))
        .collect();
    Ok(issue
        .stories
        .iter()
        .filter_map(|slug| by_slug.remove(slug))
        .collect())
}

async fn story(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
    uri: Uri,
) -> Response {
    respond(&state, uri.path(), async {
        if !is_slug(&slug) {
            return Err(Failure::NotFound);
        }
        let story = state.store.story(&slug).await?.ok_or(Failure::NotFound)?;
        // The date in the address must be the story's own.
        let d = story.dateline.date;
        let wanted = (
            format!("{:04}", d.year()),
            format!("{:02}", d.month()),
            format!("{:02}", d.day()),
        );
        if wanted != (year, month, day) {
            return Err(Failure::NotFound);
        }
        // Previous and next in the issue: two point lookups.
        let (mut previous, mut next) = (None, None);
        let issue = match story.issue {
            Some(issue) => state.store.issue(issue.number).await?,
            None => None,
        };
        if let Some(issue) = issue
            && let Some(at) = issue.stories.iter().position(|s| *s == story.slug)
        {
            if at > 0 {
                previous = neighbour(&state, &issue.stories[at - 1]).await?;
            }
            if let Some(slug) = issue.stories.get(at + 1) {
                next = neighbour(&state, slug).await?;
            }
        }
        let facts = site_facts(&state).await?;
        let canonical = format!("{}{}", base_url(&facts.publication), story.url());
        let json_ld = crate::feeds::json_ld(
            &story,
            &facts.publication,
            &canonical,
            crate::access::reads_everything(),
        );
        let related = crate::search::related(&state, &story.slug).await;
        render_page(
            &state,
            "story.html",
            context! {
                story => Serde(StoryView::new(&story)),
                summary => summary(&story),
                canonical => canonical,
                json_ld => json_ld,
                previous => previous,
                next => next,
                related => Serde(related),
            },
        )
        .await
    })
    .await
}

/// The visible lead cut to about 300 characters at a word, for descriptions.
fn summary(story: &Story) -> String {
    const MAX: usize = 300;
    let lead = render::visible_body(story, false)
        .first()
        .map_or("", String::as_str);
    if lead.chars().count() <= MAX {
        return lead.to_owned();
    }
    let cut: String = lead.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':']))
}

async fn neighbour(state: &AppState, slug: &str) -> Result<Option<minijinja::Value>, StoreError> {
    Ok(state
        .store
        .story(slug)
        .await?
        .map(|s| context! { url => s.url(), headline => s.headline }))
}

/// The publication's address without a trailing slash.
pub fn base_url(publication: &bulletin_core::Publication) -> &str {
    publication.base_url.trim_end_matches('/')
}

/// Slugs are lowercase ASCII letters, digits and hyphens; anything else cannot
/// name a story, tag or place, so it is answered 404 without asking the store.
fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 200
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `"3"` → 3 within 1..=MAX_PAGE; anything else (0, -1, "x", "01") is no page.
fn page_number(text: &str) -> Result<u32, Failure> {
    if text.starts_with('0') {
        return Err(Failure::NotFound);
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(Failure::NotFound),
    }
}

async fn tags(State(state): State<AppState>) -> Response {
    respond(&state, "/tag/", async {
        let facts = site_facts(&state).await?;
        let terms: Vec<_> = facts
            .tags(&state)
            .await?
            .iter()
            // A tag without public stories has no page to link to.
            .filter(|(_, count)| *count > 0)
            .map(|(t, count)| {
                context! { name => t.name.clone(), url => format!("/tag/{}/", t.slug), count => count }
            })
            .collect();
        render_page(
            &state,
            "terms.html",
            context! { heading => "Tags", terms => terms },
        )
        .await
    })
    .await
}

async fn countries(State(state): State<AppState>) -> Response {
    respond(&state, "/country/", async {
        let facts = site_facts(&state).await?;
        let mut terms: Vec<_> = facts
            .countries(&state)
            .await?
            .iter()
            .map(|(code, count)| (country_name(code), code.to_lowercase(), *count))
            .collect();
        terms.sort();
        let terms: Vec<_> = terms
            .into_iter()
            .map(|(name, code, count)| {
                context! { name => name, url => format!("/country/{code}/"), count => count }
            })
            .collect();
        render_page(
            &state,
            "terms.html",
            context! { heading => "Countries", terms => terms },
        )
        .await
    })
    .await
}

async fn places(State(state): State<AppState>) -> Response {
    respond(&state, "/place/", async {
        let facts = site_facts(&state).await?;
        let terms: Vec<_> = facts
            .places(&state)
            .await?
            .iter()
            .filter(|(p, _)| !bulletin_core::slugify(p).is_empty())
            .map(|(place, count)| {
                let url = format!("/place/{}/", bulletin_core::slugify(place));
                context! { name => place, url => url, count => count }
            })
            .collect();
        render_page(
            &state,
            "terms.html",
            context! { heading => "Places", terms => terms },
        )
        .await
    })
    .await
}

async fn issues(State(state): State<AppState>) -> Response {
    respond(&state, "/issue/", async {
        let mut years: BTreeMap<std::cmp::Reverse<i16>, Vec<minijinja::Value>> = BTreeMap::new();
        for issue in state.store.issues().await?.into_iter().rev() {
            if issue.status != bulletin_core::IssueStatus::Published {
                continue;
            }
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
        render_page(&state, "issues.html", context! { issue_years => years }).await
    })
    .await
}

/// Issue `number` if visitors may see it: a draft or scheduled issue is not found.
pub(crate) async fn published_issue(
    state: &AppState,
    number: u32,
) -> Result<bulletin_core::Issue, Failure> {
    match state.store.issue(number).await? {
        Some(issue) if issue.status == bulletin_core::IssueStatus::Published => Ok(issue),
        _ => Err(Failure::NotFound),
    }
}

async fn issue(State(state): State<AppState>, Path(number): Path<String>, uri: Uri) -> Response {
    let path = uri.path().to_owned();
    respond(&state, &path, async {
        let number = issue_number(&number)?;
        let issue = published_issue(&state, number).await?;
        let stories = issue_stories(&state, &issue).await?;
        let (previous, next) = state.store.neighbour_issues(number).await?;
        let shown = context! {
            number => issue.number,
            date => issue.date.map(bulletin_core::format_issue_date),
        };
        render_page(
            &state,
            "issue.html",
            context! {
                issue => shown,
                stories => Serde(stories),
                previous => previous,
                next => next,
            },
        )
        .await
    })
    .await
}

/// "493" → 493; leading zeros, signs and words are no issue.
pub fn issue_number(text: &str) -> Result<u32, Failure> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::NotFound);
    }
    text.parse::<u32>().map_err(|_| Failure::NotFound)
}

async fn not_found(State(state): State<AppState>, uri: Uri) -> Response {
    not_found_page(&state, uri.path()).await
}

pub async fn not_found_page(state: &AppState, path: &str) -> Response {
    match render_page(state, "not_found.html", context! { path => path }).await {
        Ok(page) => (StatusCode::NOT_FOUND, page).into_response(),
        Err(_) => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// Turns a page result into a response: 404 with the helpful page; any other
/// failure as the site shows it (a plain 500, details in the log).
pub async fn respond(state: &AppState, path: &str, page: impl Future<Output = Page>) -> Response {
    match page.await {
        Ok(response) => response,
        Err(Failure::NotFound) => not_found_page(state, path).await,
        Err(failure) => {
            tracing::error!(path, "page failed");
            HttpError::<SitePage>::from(failure).into_response()
        }
    }
}
