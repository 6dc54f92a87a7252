//! Story archives: by tag, country, place, year, month and day, each a
//! first page and `/page/N/`, one count and one page query each.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use bulletin_store::StoryQuery;
use minijinja::context;

use super::*;
use crate::AppState;
use crate::error::Failure;

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
pub(super) async fn archive_page(state: &AppState, archive: Archive, page: u32) -> Page {
    let count = site_facts(state)
        .await?
        .count(state, &archive.query)
        .await?;
    let pages = count.div_ceil(u64::from(PER_PAGE));
    if count == 0 || u64::from(page) > pages {
        return Err(Failure::NotFound);
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
pub(super) fn page_links(page: u64, pages: u64) -> Vec<u64> {
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
        pub(super) async fn $first(
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

        pub(super) async fn $paged(
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
pub(super) fn param(params: &[String], n: usize) -> &str {
    params.get(n).map_or("", String::as_str)
}

pub async fn tag_by_slug(state: &AppState, params: Vec<String>) -> Result<Archive, Failure> {
    let slug = param(&params, 0);
    if !is_slug(slug) {
        return Err(Failure::NotFound);
    }
    let facts = site_facts(state).await?;
    let (tag, _) = facts
        .tags(state)
        .await?
        .iter()
        .find(|(t, _)| t.slug == *slug)
        .cloned()
        .ok_or(Failure::NotFound)?;
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

pub(super) async fn country_by_code(
    _state: &AppState,
    params: Vec<String>,
) -> Result<Archive, Failure> {
    let code = param(&params, 0);
    // Addresses use the lowercase code (/country/kz/); the store keeps uppercase.
    if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_lowercase()) {
        return Err(Failure::NotFound);
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

pub(super) async fn place_by_slug(
    state: &AppState,
    params: Vec<String>,
) -> Result<Archive, Failure> {
    let slug = param(&params, 0);
    if !is_slug(slug) {
        return Err(Failure::NotFound);
    }
    let facts = site_facts(state).await?;
    let (place, _) = facts
        .places(state)
        .await?
        .iter()
        .find(|(p, _)| bulletin_core::slugify(p) == slug)
        .cloned()
        .ok_or(Failure::NotFound)?;
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
pub(super) fn year_of(text: &str) -> Result<i16, Failure> {
    if text.len() != 4 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::NotFound);
    }
    text.parse().map_err(|_| Failure::NotFound)
}

/// "07" → 7 within 1..=max; two digits, as WordPress writes them.
pub(super) fn two_digits(text: &str, max: i8) -> Result<i8, Failure> {
    if text.len() != 2 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Failure::NotFound);
    }
    match text.parse::<i8>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Failure::NotFound),
    }
}

pub(super) fn date(year: i16, month: i8, day: i8) -> Result<bulletin_core::Date, Failure> {
    bulletin_core::Date::new(year, month, day).map_err(|_| Failure::NotFound)
}

pub(super) async fn year_by_number(
    state: &AppState,
    params: Vec<String>,
) -> Result<Archive, Failure> {
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

pub(super) async fn month_by_numbers(
    _state: &AppState,
    params: Vec<String>,
) -> Result<Archive, Failure> {
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

pub(super) async fn day_by_numbers(
    _state: &AppState,
    params: Vec<String>,
) -> Result<Archive, Failure> {
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
