//! Tags and categories: each becomes a tag once (names that make the same slug are
//! one tag), and their old addresses (`/tag/old-slug/`, `/category/parent/child/`)
//! redirect to the new ones once all of them are known.

use std::io::BufRead;

use bulletin_core::{Tag, slugify};

use super::Walker;
use crate::Item;
use crate::body::percent_decode;
use crate::html;
use crate::wxr::elements::TermKind;
use crate::wxr::tracker::{Mark, Tracker};

/// Fields of the `<wp:category>`, `<wp:tag>` or `<wp:term>` being read.
#[derive(Debug, Default)]
pub(super) struct TermFields {
    pub(super) slug: String,
    pub(super) parent: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) taxonomy: String,
}

/// A category kept for its redirect, made once all categories are known (a
/// category's old address names its parents).
#[derive(Debug)]
pub(super) struct PendingCategory {
    nicename: String,
    tag_slug: String,
}

impl Walker {
    /// Declares a tag (or a category, which becomes a tag); returns its slug.
    /// Names that make the same slug are one tag: the first name stays.
    fn declare_tag<R: BufRead>(
        &mut self,
        name: &str,
        wp_slug: &str,
        description: &str,
        mark: Mark,
        tracker: &Tracker<R>,
    ) -> Option<String> {
        let mut slug = slugify(name);
        if slug.is_empty() {
            slug = slugify(wp_slug);
        }
        if slug.is_empty() || name.is_empty() {
            self.warn(
                tracker,
                mark,
                format!(
                    "the tag or category “{name}” ({wp_slug}) has no usable name; it is left out"
                ),
            );
            return None;
        }
        match self.tags.get(&slug) {
            Some(existing) if existing == name => {}
            Some(existing) => {
                let message = format!(
                    "the tag or category “{name}” and “{existing}” have the same address /tag/{slug}/; they become one tag, “{existing}”"
                );
                self.warn(tracker, mark, message);
            }
            None => {
                self.tags.insert(slug.clone(), name.to_owned());
                self.out.push_back(Ok(Item::Tag(Tag {
                    name: name.to_owned(),
                    slug: slug.clone(),
                    description: description.to_owned(),
                })));
            }
        }
        Some(slug)
    }

    pub(super) fn finish_term<R: BufRead>(
        &mut self,
        kind: TermKind,
        mark: Mark,
        tracker: &Tracker<R>,
    ) {
        let term = std::mem::take(&mut self.term);
        let mut name = html::text(&term.name);
        if name.contains(',') {
            // Commas separate tags in bulletin text; a tag cannot hold one.
            let fixed = name
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            self.warn(
                tracker,
                mark,
                format!("the tag or category “{name}” holds commas, which tags may not; it is imported as “{fixed}”"),
            );
            name = fixed;
        }
        let wp_slug = percent_decode(term.slug.trim()).into_owned();
        let description = html::text(&term.description);
        let kind = match (kind, term.taxonomy.trim()) {
            (TermKind::Term, "category") => TermKind::Category,
            (TermKind::Term, "post_tag") => TermKind::Tag,
            (kind, _) => kind,
        };
        match kind {
            TermKind::Category => {
                let parent = percent_decode(term.parent.trim()).into_owned();
                if !wp_slug.is_empty() {
                    self.parents.insert(wp_slug.clone(), parent);
                }
                if wp_slug == "uncategorized" {
                    self.out.push_back(Ok(Item::Skipped {
                        kind: "category".to_owned(),
                        title: name,
                        line: mark.line,
                        reason: "WordPress's default category is not kept as a tag".to_owned(),
                        item: false,
                    }));
                    return;
                }
                if let Some(tag_slug) =
                    self.declare_tag(&name, &wp_slug, &description, mark, tracker)
                    && !wp_slug.is_empty()
                {
                    self.pending_categories.push(PendingCategory {
                        nicename: wp_slug,
                        tag_slug,
                    });
                }
            }
            TermKind::Tag => {
                if let Some(tag_slug) =
                    self.declare_tag(&name, &wp_slug, &description, mark, tracker)
                    && !wp_slug.is_empty()
                    && wp_slug != tag_slug
                {
                    // Made once all tags are known: an old slug that another tag
                    // now has is that tag's address, not a redirect.
                    self.pending_tags.push((wp_slug, tag_slug));
                }
            }
            TermKind::Term => {
                let taxonomy = term.taxonomy.trim();
                self.out.push_back(Ok(Item::Skipped {
                    kind: "term".to_owned(),
                    title: name,
                    line: mark.line,
                    reason: format!(
                        "terms of WordPress menus and other taxonomies (here “{taxonomy}”) are not imported"
                    ),
                    item: false,
                }));
            }
        }
    }

    fn redirect(&mut self, from: String, to: String) {
        if from != to && self.redirected.insert(from.clone()) {
            self.out.push_back(Ok(Item::Redirect { from, to }));
        }
    }

    /// Redirects from the old addresses of tags and categories
    /// (`/category/parent/child/`), once all tags and parents are known.
    pub(super) fn flush_categories(&mut self) {
        for (wp_slug, tag_slug) in std::mem::take(&mut self.pending_tags) {
            if !self.tags.contains_key(&wp_slug) {
                self.redirect(format!("/tag/{wp_slug}/"), format!("/tag/{tag_slug}/"));
            }
        }
        for pending in std::mem::take(&mut self.pending_categories) {
            let mut path = vec![pending.nicename.as_str()];
            let mut at = pending.nicename.as_str();
            // WordPress forbids cycles; a damaged file must not loop.
            while path.len() < 16 {
                match self.parents.get(at) {
                    Some(parent) if !parent.is_empty() && !path.contains(&parent.as_str()) => {
                        path.push(parent);
                        at = parent;
                    }
                    _ => break,
                }
            }
            path.reverse();
            let from = format!("/category/{}/", path.join("/"));
            let to = format!("/tag/{}/", pending.tag_slug);
            self.redirect(from, to);
        }
    }
}
