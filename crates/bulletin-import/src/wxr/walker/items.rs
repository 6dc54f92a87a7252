//! Items: a post becomes a story (its status, date, text, tags and old addresses);
//! pages, attachments, menu items and other types are counted as skipped.

use std::io::BufRead;

use bulletin_core::slugify;

use super::Walker;
use crate::body::{self, Post};
use crate::wxr::addresses::old_paths;
use crate::wxr::status::{Decision, decide, wp_datetime};
use crate::wxr::tracker::{Mark, Tracker};
use crate::{ImportedStory, Item, html, left_out};

/// Fields of the `<item>` being read; reused from item to item.
#[derive(Debug, Default)]
pub(super) struct ItemFields {
    pub(super) mark: Mark,
    pub(super) title: String,
    pub(super) link: String,
    pub(super) content: String,
    pub(super) excerpt: String,
    pub(super) post_id: String,
    pub(super) date: String,
    pub(super) date_gmt: String,
    pub(super) name: String,
    pub(super) status: String,
    pub(super) post_type: String,
    pub(super) password: String,
    /// (is a category, nicename, name) of `<category domain="category|post_tag">`.
    pub(super) categories: Vec<(bool, String, String)>,
    /// Domain and nicename of the `<category>` being read (None: another domain).
    pub(super) category: Option<(bool, String)>,
    /// Text kept for this item so far, against the reader's `MAX_FIELD`.
    pub(super) size: usize,
}

impl ItemFields {
    pub(super) fn clear(&mut self, mark: Mark) {
        self.mark = mark;
        for field in [
            &mut self.title,
            &mut self.link,
            &mut self.content,
            &mut self.excerpt,
            &mut self.post_id,
            &mut self.date,
            &mut self.date_gmt,
            &mut self.name,
            &mut self.status,
            &mut self.post_type,
            &mut self.password,
        ] {
            field.clear();
        }
        self.categories.clear();
        self.category = None;
        self.size = 0;
    }
}

impl Walker {
    pub(super) fn finish_item<R: BufRead>(&mut self, tracker: &Tracker<R>) {
        let title = html::text(&self.item.title);
        let line = self.item.mark.line;
        let post_type = self.item.post_type.trim().to_owned();
        match post_type.as_str() {
            "post" => self.post(&title, tracker),
            "page" => self.skip("page", &title, line, "pages are not stories"),
            "attachment" => self.skip(
                "attachment",
                &title,
                line,
                "media files are not imported: stories hold text only",
            ),
            "nav_menu_item" => self.skip("nav_menu_item", &title, line, "menus are not imported"),
            "" => self.skip("item", &title, line, "it names no wp:post_type"),
            other => {
                let reason = format!("“{other}” items are not stories");
                self.skip(other, &title, line, reason);
            }
        }
    }

    /// `wordpress <site> ?p=<ID>`: the post's ID on its site, which WordPress
    /// never gives two posts. The site is the channel's `<link>` without its
    /// scheme (a site that moved to HTTPS is the same site); `None` without a
    /// numeric ID.
    fn source_identity(&self) -> Option<String> {
        let id = self.item.post_id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let site = self.site_link.trim();
        let site = site
            .split_once("://")
            .map_or(site, |(_, rest)| rest)
            .trim_end_matches('/')
            .to_ascii_lowercase();
        Some(format!("wordpress {site}/?p={id}"))
    }

    /// The name a post's message calls it by.
    fn post_name(&self, title: &str) -> String {
        if title.is_empty() {
            format!("the untitled post {}", self.item.post_id.trim())
        } else {
            format!("the post “{title}”")
        }
    }

    fn post<R: BufRead>(&mut self, title: &str, tracker: &Tracker<R>) {
        let mark = self.item.mark;
        let line = mark.line;
        let who = self.post_name(title);
        let local = wp_datetime(&self.item.date);
        let gmt = wp_datetime(&self.item.date_gmt);
        let tz = self.settings.time_zone.clone();
        let gmt = gmt.and_then(|g| jiff::tz::TimeZone::UTC.to_timestamp(g).ok());
        let date = local
            .map(|d| d.date())
            .or_else(|| gmt.map(|ts| ts.to_zoned_datetime(tz.clone()).date()));
        let scheduled_at = gmt.or_else(|| local.and_then(|l| tz.to_timestamp(l).ok()));
        let has_password = !self.item.password.is_empty();
        let (status, mut warnings) =
            match decide(self.item.status.trim(), scheduled_at, has_password) {
                Decision::Import { status, warnings } => (status, warnings),
                Decision::Skip { kind, reason } => return self.skip(kind, title, line, reason),
            };

        let (mut paragraphs, mut html_warnings) = html::paragraphs(&self.item.content);
        if paragraphs.is_empty() && !self.item.excerpt.trim().is_empty() {
            let (excerpt, excerpt_warnings) = html::paragraphs(&self.item.excerpt);
            if !excerpt.is_empty() {
                paragraphs = excerpt;
                html_warnings = excerpt_warnings;
                warnings.push("its content is empty; its excerpt is the story's text".to_owned());
            }
        }
        warnings.extend(html_warnings);
        if !body::has_text(&paragraphs) {
            // WordPress shows such a post at its address with its title: so does
            // the import, with a line saying what was left out.
            let stand_in = left_out::for_html(&self.item.content);
            warnings.push(left_out::warning(stand_in));
            paragraphs = vec![stand_in.to_owned()];
        }

        let mut tags = Vec::with_capacity(self.item.categories.len());
        for (is_category, nicename, name) in &self.item.categories {
            if *is_category && nicename == "uncategorized" {
                continue;
            }
            let name = html::text(name);
            // A name declared under another spelling of the same address is that tag.
            let canonical = self.tags.get(&slugify(&name)).cloned().unwrap_or(name);
            tags.push(canonical);
        }

        let post = Post {
            title: title.to_owned(),
            slug: Some(self.item.name.trim().to_owned()),
            date,
            paragraphs,
            tags,
        };
        match body::to_story(post, &self.settings) {
            Ok(made) => {
                let old_paths = old_paths(
                    &self.item.link,
                    self.item.post_id.trim(),
                    self.item.name.trim(),
                    local.map(|d| d.date()),
                    &made.story.url(),
                );
                self.out.push_back(Ok(Item::Story(Box::new(ImportedStory {
                    story: made.story,
                    status,
                    old_paths,
                    line,
                    title: title.to_owned(),
                    source: self.source_identity(),
                }))));
                for w in warnings.into_iter().chain(made.warnings) {
                    self.warn(tracker, mark, format!("{who}: {w}"));
                }
            }
            Err(reason) => {
                for w in warnings {
                    self.warn(tracker, mark, format!("{who}: {w}"));
                }
                self.warn(tracker, mark, format!("{who} is not imported: {reason}"));
                self.skip("post", title, line, reason);
            }
        }
    }
}
