//! The public pages. Handlers ask the store and render templates; nothing else.
//! Every page costs a fixed, small number of queries (no N+1): a story list is
//! one query, its count another.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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

/// Stories an archive page shows, as WordPress does by default.
pub const PER_PAGE: u32 = 10;
/// Deepest archive page served: past it, 404 (a crawler cannot make the store
/// step over more than `MAX_PAGE * PER_PAGE` rows for one page).
const MAX_PAGE: u32 = 20_000;
/// Years linked from every page's footer, newest first.
const FOOTER_YEARS: usize = 30;
/// Stories under "Recent stories" on the home page.
const RECENT: u32 = 10;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/style.css", get(stylesheet))
        // Browsers ask for it on pages without an icon link (feeds): an empty
        // answer instead of a 404 in every log.
        .route("/favicon.ico", get(|| async { StatusCode::NO_CONTENT }))
        .route("/{year}/", get(year_archive))
        .route("/{year}/page/{page}/", get(year_archive_page))
        .route("/{year}/{month}/", get(month_archive))
        .route("/{year}/{month}/page/{page}/", get(month_archive_page))
        .route("/{year}/{month}/{day}/", get(day_archive))
        .route("/{year}/{month}/{day}/page/{page}/", get(day_archive_page))
        .route("/{year}/{month}/{day}/{slug}/", get(story))
        .route("/tag/", get(tags))
        .route("/tag/{slug}/", get(tag_archive))
        .route("/tag/{slug}/page/{page}/", get(tag_archive_page))
        .route("/country/", get(countries))
        .route("/country/{code}/", get(country_archive))
        .route("/country/{code}/page/{page}/", get(country_archive_page))
        .route("/place/", get(places))
        .route("/place/{slug}/", get(place_archive))
        .route("/place/{slug}/page/{page}/", get(place_archive_page))
        .route("/issue/", get(issues))
        .route("/issue/{number}/", get(issue))
        .fallback(not_found)
}

/// Why a page could not be shown.
pub enum PageError {
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

pub type Page = Result<Response, PageError>;

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
async fn recent_stories(state: &AppState, except: &[String]) -> Result<Vec<StoryView>, PageError> {
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
pub async fn issue_stories(state: &AppState, issue: &Issue) -> Result<Vec<StoryView>, PageError> {
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
            return Err(PageError::NotFound);
        }
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
fn page_number(text: &str) -> Result<u32, PageError> {
    if text.starts_with('0') {
        return Err(PageError::NotFound);
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
        _ => Err(PageError::NotFound),
    }
}

/// A story archive: which stories, how it is titled, where it lives.
pub struct Archive {
    pub heading: String,
    /// The archive's own address, ending in `/`; pages are `{base}page/N/`.
    pub base: String,
    pub query: StoryQuery,
    pub feed: Option<String>,
    /// Month links shown above a year archive.
    pub months: Vec<minijinja::Value>,
}

/// Renders page `page` of `archive`: one count, one page query.
async fn archive_page(state: &AppState, archive: Archive, page: u32) -> Page {
    let count = site_facts(state)
        .await?
        .count(state, &archive.query)
        .await?;
    let pages = count.div_ceil(u64::from(PER_PAGE));
    if count == 0 || u64::from(page) > pages {
        return Err(PageError::NotFound);
    }
    let query = StoryQuery {
        offset: (page - 1) * PER_PAGE,
        limit: PER_PAGE,
        ..archive.query
    };
    let stories = state.store.stories(&query).await?.stories;
    let views: Vec<StoryView> = stories.iter().map(StoryView::new).collect();
    render_page(
        state,
        "archive.html",
        context! {
            heading => archive.heading,
            stories => Serde(views),
            count => count,
            page => page,
            pages => pages,
            page_links => page_links(u64::from(page), pages),
            base => archive.base,
            feed => archive.feed,
            months => archive.months,
        },
    )
    .await
}

/// Page numbers to link: the first, the last, and two either side of the
/// current one; 0 stands for a gap.
fn page_links(page: u64, pages: u64) -> Vec<u64> {
    let mut wanted: Vec<u64> = [1, pages]
        .into_iter()
        .chain(page.saturating_sub(2)..=page + 2)
        .filter(|n| (1..=pages).contains(n))
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut links = Vec::with_capacity(wanted.len() + 2);
    for n in wanted {
        if links.last().is_some_and(|&last| n > last + 1) {
            links.push(0);
        }
        links.push(n);
    }
    links
}

/// The handler pair every archive kind has: first page and `/page/N/`. Path
/// parameters arrive in order as a list; the paged form ends with the page.
macro_rules! archive_routes {
    ($first:ident, $paged:ident, $build:ident) => {
        async fn $first(
            State(state): State<AppState>,
            Path(params): Path<Vec<String>>,
            uri: Uri,
        ) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let archive = $build(&state, params).await?;
                archive_page(&state, archive, 1).await
            })
            .await
        }

        async fn $paged(
            State(state): State<AppState>,
            Path(mut params): Path<Vec<String>>,
            uri: Uri,
        ) -> Response {
            let path = uri.path().to_owned();
            respond(&state, &path, async {
                let page = page_number(&params.pop().unwrap_or_default())?;
                let archive = $build(&state, params).await?;
                archive_page(&state, archive, page).await
            })
            .await
        }
    };
}

archive_routes!(tag_archive, tag_archive_page, tag_by_slug);
archive_routes!(country_archive, country_archive_page, country_by_code);
archive_routes!(place_archive, place_archive_page, place_by_slug);
archive_routes!(year_archive, year_archive_page, year_by_number);
archive_routes!(month_archive, month_archive_page, month_by_numbers);
archive_routes!(day_archive, day_archive_page, day_by_numbers);

/// The `N`th path parameter ("" when absent: no page has it).
fn param(params: &[String], n: usize) -> &str {
    params.get(n).map_or("", String::as_str)
}

pub async fn tag_by_slug(state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let slug = param(&params, 0);
    if !is_slug(slug) {
        return Err(PageError::NotFound);
    }
    let facts = site_facts(state).await?;
    let (tag, _) = facts
        .tags(state)
        .await?
        .iter()
        .find(|(t, _)| t.slug == *slug)
        .cloned()
        .ok_or(PageError::NotFound)?;
    Ok(Archive {
        heading: format!("Tag Archives: {}", tag.name),
        base: format!("/tag/{}/", tag.slug),
        feed: Some(format!("/tag/{}/feed/", tag.slug)),
        query: StoryQuery {
            tag: Some(tag.name),
            ..StoryQuery::default()
        },
        months: Vec::new(),
    })
}

async fn country_by_code(_state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let code = param(&params, 0);
    // Addresses use the lowercase code (/country/kz/); the store keeps uppercase.
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(PageError::NotFound);
    }
    Ok(Archive {
        heading: format!("Country Archives: {}", country_name(&code.to_uppercase())),
        base: format!("/country/{code}/"),
        feed: None,
        query: StoryQuery {
            country: Some(code.to_uppercase()),
            ..StoryQuery::default()
        },
        months: Vec::new(),
    })
}

async fn place_by_slug(state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let slug = param(&params, 0);
    if !is_slug(slug) {
        return Err(PageError::NotFound);
    }
    let facts = site_facts(state).await?;
    let (place, _) = facts
        .places(state)
        .await?
        .iter()
        .find(|(p, _)| bulletin_core::slugify(p) == slug)
        .cloned()
        .ok_or(PageError::NotFound)?;
    Ok(Archive {
        heading: format!("Place Archives: {place}"),
        base: format!("/place/{slug}/"),
        feed: None,
        query: StoryQuery {
            place: Some(place),
            ..StoryQuery::default()
        },
        months: Vec::new(),
    })
}

/// "2021" → 2021; "21", "02021" or "x" → no page.
fn year_of(text: &str) -> Result<i16, PageError> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::NotFound);
    }
    text.parse().map_err(|_| PageError::NotFound)
}

/// "07" → 7 within 1..=max; two digits, as WordPress writes them.
fn two_digits(text: &str, max: i8) -> Result<i8, PageError> {
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::NotFound);
    }
    match text.parse::<i8>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(PageError::NotFound),
    }
}

fn date(year: i16, month: i8, day: i8) -> Result<bulletin_core::Date, PageError> {
    bulletin_core::Date::new(year, month, day).map_err(|_| PageError::NotFound)
}

async fn year_by_number(state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let year = year_of(param(&params, 0))?;
    let facts = site_facts(state).await?;
    let months = facts
        .months
        .iter()
        .filter(|m| m.0 == year)
        .rev()
        .map(|&(y, m, count)| {
            let name = bulletin_core::Month::new(m).map_or("", bulletin_core::Month::ap);
            context! { url => format!("/{y:04}/{m:02}/"), name => format!("{name} {y}"), count => count }
        })
        .collect();
    Ok(Archive {
        heading: format!("Yearly Archives: {year}"),
        base: format!("/{year:04}/"),
        feed: None,
        query: StoryQuery {
            from: Some(date(year, 1, 1)?),
            to: Some(date(year, 12, 31)?),
            ..StoryQuery::default()
        },
        months,
    })
}

async fn month_by_numbers(_state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let year = year_of(param(&params, 0))?;
    let month = two_digits(param(&params, 1), 12)?;
    let first = date(year, month, 1)?;
    let name = bulletin_core::Month::new(month).map_or("", bulletin_core::Month::ap);
    Ok(Archive {
        heading: format!("Monthly Archives: {name} {year}"),
        base: format!("/{year:04}/{month:02}/"),
        feed: None,
        query: StoryQuery {
            from: Some(first),
            to: Some(first.last_of_month()),
            ..StoryQuery::default()
        },
        months: Vec::new(),
    })
}

async fn day_by_numbers(_state: &AppState, params: Vec<String>) -> Result<Archive, PageError> {
    let year = year_of(param(&params, 0))?;
    let month = two_digits(param(&params, 1), 12)?;
    let day = date(year, month, two_digits(param(&params, 2), 31)?)?;
    Ok(Archive {
        heading: format!("Daily Archives: {}", bulletin_core::format_issue_date(day)),
        base: format!("/{year:04}/{month:02}/{:02}/", day.day()),
        feed: None,
        query: StoryQuery {
            from: Some(day),
            to: Some(day),
            ..StoryQuery::default()
        },
        months: Vec::new(),
    })
}

async fn tags(State(state): State<AppState>) -> Response {
    respond(&state, "/tag/", async {
        let facts = site_facts(&state).await?;
        let terms: Vec<_> = facts
            .tags(&state)
            .await?
            .iter()
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
) -> Result<bulletin_core::Issue, PageError> {
    match state.store.issue(number).await? {
        Some(issue) if issue.status == bulletin_core::IssueStatus::Published => Ok(issue),
        _ => Err(PageError::NotFound),
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
pub fn issue_number(text: &str) -> Result<u32, PageError> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PageError::NotFound);
    }
    text.parse::<u32>().map_err(|_| PageError::NotFound)
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

/// Turns a page result into a response: 404 with the helpful page, 500 with a
/// plain message (details go to the log, not to the visitor).
pub async fn respond(state: &AppState, path: &str, page: impl Future<Output = Page>) -> Response {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_keep_ends_and_neighbours() {
        assert_eq!(page_links(1, 1), vec![1]);
        assert_eq!(page_links(1, 3), vec![1, 2, 3]);
        assert_eq!(page_links(1, 10), vec![1, 2, 3, 0, 10]);
        assert_eq!(page_links(5, 10), vec![1, 0, 3, 4, 5, 6, 7, 0, 10]);
        assert_eq!(page_links(10, 10), vec![1, 0, 8, 9, 10]);
    }

    #[test]
    fn page_numbers_are_plain_positive_integers() {
        assert!(matches!(page_number("1"), Ok(1)));
        assert!(matches!(page_number("500"), Ok(500)));
        for bad in ["0", "-1", "01", "x", "", "1.5", "99999999999"] {
            assert!(page_number(bad).is_err(), "{bad}");
        }
    }
}
