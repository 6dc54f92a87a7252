//! The addresses a page had on the Hugo or Zola site it comes from, in the form
//! [`crate::ImportedStory::old_paths`] wants.

use std::collections::BTreeMap;

use bulletin_core::{Month, slugify};
use jiff::civil::Date;

/// `raw` as an old path: scheme and host dropped, percent-decoded, starting with
/// `/`, ending with `/` unless its last segment names a file; the query kept, the
/// fragment dropped. `None` for an empty path.
pub(crate) fn normalize(raw: &str) -> Option<String> {
    let mut s = raw.trim();
    for scheme in ["https://", "http://", "//"] {
        if let Some(rest) = s.strip_prefix(scheme) {
            s = rest.find('/').map_or("/", |i| &rest[i..]);
            break;
        }
    }
    let s = s.split('#').next().unwrap_or("");
    let (path, query) = match s.find('?') {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let path = percent_decode(path);
    if path.is_empty() && query.is_none() {
        return None;
    }
    let mut out = String::with_capacity(path.len() + 2);
    if !path.starts_with('/') {
        out.push('/');
    }
    out.push_str(&path);
    let last = out.rsplit('/').next().unwrap_or("");
    if !out.ends_with('/') && !last.contains('.') {
        out.push('/');
    }
    if let Some(q) = query {
        out.push_str(q);
    }
    Some(out)
}

/// `%XX` sequences decoded; left as they are when the result is not UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// What a page's address is made from.
pub(crate) struct PagePlace<'a> {
    /// Folders from the content folder to the page (a bundle's own folder not
    /// included).
    pub dirs: &'a [String],
    /// The file's name without extension, or a bundle's folder name.
    pub name: &'a str,
    pub slug: Option<&'a str>,
    pub title: &'a str,
    pub date: Option<Date>,
}

/// The parts of a Hugo configuration that decide page addresses.
#[derive(Debug, Clone, Default)]
pub(crate) struct HugoUrls {
    /// Section → permalink pattern (`posts = "/:year/:month/:slug/"`).
    pub permalinks: BTreeMap<String, String>,
    pub ugly_urls: bool,
    pub keep_case: bool,
}

impl HugoUrls {
    /// The address Hugo gives a page without a `url` of its own.
    pub fn page_path(&self, page: &PagePlace<'_>) -> Option<String> {
        let section = page.dirs.first().map(String::as_str).unwrap_or("");
        let path = match self.permalinks.get(section) {
            Some(pattern) => expand_permalink(pattern, page, section)?,
            None => {
                let last = page.slug.unwrap_or(page.name);
                let mut p = String::from("/");
                for d in page.dirs {
                    p.push_str(d);
                    p.push('/');
                }
                p.push_str(last);
                if self.ugly_urls {
                    p.push_str(".html");
                } else {
                    p.push('/');
                }
                p
            }
        };
        let path = hugo_path(&path);
        Some(if self.keep_case {
            path
        } else {
            path.to_lowercase()
        })
    }
}

/// Hugo's path cleaning: spaces become `-`.
fn hugo_path(p: &str) -> String {
    p.chars()
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect()
}

/// Fills in a Hugo permalink pattern; `None` when it needs a date the page has not.
fn expand_permalink(pattern: &str, page: &PagePlace<'_>, section: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(i) = rest.find(':') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        let token = &after[..len];
        let title_slug = || slugify(page.title);
        let value = match token {
            "year" => format!("{:04}", page.date?.year()),
            "month" => format!("{:02}", page.date?.month()),
            // Always lower case, even when the site keeps the case of paths: what
            // bulletin has always computed (Hugo itself would keep "January").
            "monthname" => Month::of(page.date?).name().to_ascii_lowercase(),
            "day" => format!("{:02}", page.date?.day()),
            "yearday" => page.date?.day_of_year().to_string(),
            "section" => section.to_owned(),
            "sections" => page.dirs.join("/"),
            "title" => title_slug(),
            "slug" => page.slug.map_or_else(title_slug, str::to_owned),
            "filename" | "contentbasename" => page.name.to_owned(),
            "slugorfilename" | "slugorcontentbasename" => page.slug.unwrap_or(page.name).to_owned(),
            _ => {
                // Not a token Hugo knows: the colon stays as text.
                out.push(':');
                rest = after;
                continue;
            }
        };
        out.push_str(&value);
        rest = &after[len..];
    }
    out.push_str(rest);
    if !out.starts_with('/') {
        out.insert(0, '/');
    }
    Some(out)
}

/// The address Zola gives a page without a `path` of its own:
/// `/<folders>/<slug>/`, the slug slugified (Zola's default `slugify.paths`).
pub(crate) fn zola_page_path(page: &PagePlace<'_>) -> String {
    let slug = slugify(page.slug.unwrap_or(page.name));
    let mut p = String::from("/");
    for d in page.dirs {
        p.push_str(d);
        p.push('/');
    }
    p.push_str(&slug);
    p.push('/');
    p
}

/// A date at the start of a file name, as Zola reads it (`2021-07-18-name` or
/// `2021-07-18_name`): the date and the rest.
pub(crate) fn dated_name(name: &str) -> Option<(Date, &str)> {
    let date: Date = name.get(..10)?.parse().ok()?;
    let rest = &name[10..];
    if rest.is_empty() {
        return Some((date, rest));
    }
    rest.strip_prefix(['-', '_']).map(|rest| (date, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn normalising() {
        assert_eq!(normalize("old-url").as_deref(), Some("/old-url/"));
        assert_eq!(normalize("/a/b.html").as_deref(), Some("/a/b.html"));
        assert_eq!(
            normalize("https://example.com/caf%C3%A9?p=1#x").as_deref(),
            Some("/café/?p=1")
        );
        assert_eq!(normalize("/%FF/").as_deref(), Some("/%FF/"));
        assert_eq!(normalize("  ").as_deref(), None);
        assert_eq!(normalize("/?p=12").as_deref(), Some("/?p=12"));
    }

    #[test]
    fn hugo_addresses() {
        let dirs = ["posts".to_owned(), "2021".to_owned()];
        let page = PagePlace {
            dirs: &dirs,
            name: "My File",
            slug: None,
            title: "A Title",
            date: Some(date(2021, 7, 8)),
        };
        let mut urls = HugoUrls::default();
        assert_eq!(
            urls.page_path(&page).as_deref(),
            Some("/posts/2021/my-file/")
        );
        urls.permalinks
            .insert("posts".into(), "/:year/:month/:day/:slug/".into());
        assert_eq!(
            urls.page_path(&page).as_deref(),
            Some("/2021/07/08/a-title/")
        );
        urls.permalinks
            .insert("posts".into(), ":sections/:monthname/:filename".into());
        assert_eq!(
            urls.page_path(&page).as_deref(),
            Some("/posts/2021/july/my-file")
        );
    }

    #[test]
    fn zola_addresses() {
        let dirs = ["blog".to_owned()];
        let page = PagePlace {
            dirs: &dirs,
            name: "Hello World",
            slug: None,
            title: "",
            date: None,
        };
        assert_eq!(zola_page_path(&page), "/blog/hello-world/");
        assert_eq!(
            dated_name("2021-07-18-hello"),
            Some((date(2021, 7, 18), "hello"))
        );
        assert_eq!(dated_name("2021-07-18"), Some((date(2021, 7, 18), "")));
        assert_eq!(dated_name("2021-07-18x"), None);
        assert_eq!(dated_name("hello"), None);
    }
}
