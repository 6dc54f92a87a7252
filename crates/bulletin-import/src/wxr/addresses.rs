//! A post's old addresses, kept so the new site can redirect them: the path of
//! its `<link>`, `/?p=ID`, and the dated path of WordPress's default permalinks.

use crate::body::percent_decode;

/// A post's old addresses: its `<link>`'s path, `/?p=ID`, and the dated path
/// WordPress's default permalinks give, each once and never the new URL.
pub(super) fn old_paths(
    link: &str,
    post_id: &str,
    post_name: &str,
    date: Option<jiff::civil::Date>,
    new_url: &str,
) -> Vec<String> {
    let mut paths: Vec<String> = Vec::with_capacity(3);
    let mut add = |path: String| {
        if path != "/" && path != new_url && !paths.contains(&path) {
            paths.push(path);
        }
    };
    if let Some(path) = link_path(link) {
        add(path);
    }
    if !post_id.is_empty() && post_id.bytes().all(|b| b.is_ascii_digit()) {
        add(format!("/?p={post_id}"));
    }
    if !post_name.is_empty()
        && let Some(d) = date
    {
        add(format!(
            "/{:04}/{:02}/{:02}/{}/",
            d.year(),
            d.month(),
            d.day(),
            percent_decode(post_name)
        ));
    }
    paths
}

/// The path and query of a link (`https://site/2013/01/11/slug/` →
/// `/2013/01/11/slug/`), percent-decoded; `None` for anything else.
fn link_path(link: &str) -> Option<String> {
    let link = link.trim();
    let rest = if let Some(i) = link.find("://") {
        let after = &link[i + 3..];
        match after.find(['/', '?', '#']) {
            Some(j) => &after[j..],
            None => "/",
        }
    } else if link.starts_with('/') {
        link
    } else {
        return None;
    };
    let rest = rest.split('#').next().unwrap_or("");
    let path = if rest.starts_with('?') {
        format!("/{rest}")
    } else {
        rest.to_owned()
    };
    if path.is_empty() || path.contains(char::is_whitespace) {
        return None;
    }
    Some(percent_decode(&path).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_paths() {
        assert_eq!(
            link_path("https://example.com/2013/01/11/markup/").as_deref(),
            Some("/2013/01/11/markup/")
        );
        assert_eq!(
            link_path("https://example.com/?p=12#x").as_deref(),
            Some("/?p=12")
        );
        assert_eq!(link_path("https://example.com").as_deref(), Some("/"));
        assert_eq!(
            link_path("http://e.com/%D0%B0%D0%B1/").as_deref(),
            Some("/аб/")
        );
        assert_eq!(link_path("not a link"), None);
    }

    #[test]
    fn old_paths_skip_the_new_url_and_duplicates() {
        let d = jiff::civil::date(2013, 1, 11);
        let paths = old_paths(
            "https://e.com/2013/01/11/markup/",
            "1178",
            "markup",
            Some(d),
            "/2013/01/11/markup/",
        );
        assert_eq!(paths, ["/?p=1178"]);
    }
}
