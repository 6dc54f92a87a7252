//! Writing a Hugo or Zola site, one story at a time.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bulletin_core::{Access, Publication, Story, render};
use serde::Serialize;

use super::Flavor;
use super::text::escape_paragraph;

/// What the site's configuration says about the publication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteInfo {
    pub title: String,
    pub base_url: String,
    /// A language tag such as `en` (the default) or `ru`.
    pub language: Option<String>,
}

impl From<&Publication> for SiteInfo {
    fn from(p: &Publication) -> SiteInfo {
        SiteInfo {
            title: p.name.clone(),
            base_url: p.base_url.clone(),
            language: None,
        }
    }
}

/// Writes stories into the site [`write_site`] started.
#[derive(Debug)]
pub struct Writer {
    flavor: Flavor,
    posts: PathBuf,
    /// Slugs written so far: two stories with one slug would be one file.
    slugs: HashSet<String>,
    /// Year folders made so far.
    years: HashSet<i16>,
    written: u64,
}

/// Starts a site in `dir` (made if missing; files bulletin writes are replaced):
/// the configuration, templates that build every page without a theme, and the
/// home and stories sections. Stories follow with [`Writer::write_story`].
pub fn write_site(dir: &Path, flavor: Flavor, site: &SiteInfo) -> io::Result<Writer> {
    let lang = language(site);
    let posts = dir.join("content").join("posts");
    fs::create_dir_all(&posts).map_err(|e| at(&posts, e))?;
    let page = |body: &str| body.replace("@LANG@", &lang).into_bytes();
    match flavor {
        Flavor::Hugo => {
            write_file(&dir.join("hugo.toml"), &to_toml(&hugo_config(site))?)?;
            let layouts = dir.join("layouts").join("_default");
            // `layouts/_default/` is read by Hugo before 0.146 and, for
            // compatibility, after it.
            write_file(
                &layouts.join("single.html"),
                &page(include_str!("layouts/hugo-single.html")),
            )?;
            write_file(
                &layouts.join("list.html"),
                &page(include_str!("layouts/hugo-list.html")),
            )?;
            write_file(
                &dir.join("content").join("_index.md"),
                &front_only(&Titled { title: &site.title })?,
            )?;
            write_file(
                &posts.join("_index.md"),
                &front_only(&Titled { title: "Stories" })?,
            )?;
        }
        Flavor::Zola => {
            write_file(&dir.join("config.toml"), &to_toml(&zola_config(site))?)?;
            let templates = dir.join("templates");
            for (name, body) in [
                ("index.html", include_str!("layouts/zola-index.html")),
                ("section.html", include_str!("layouts/zola-section.html")),
                ("page.html", include_str!("layouts/zola-page.html")),
                (
                    "tags/list.html",
                    include_str!("layouts/zola-tags-list.html"),
                ),
                (
                    "tags/single.html",
                    include_str!("layouts/zola-tags-single.html"),
                ),
            ] {
                write_file(&templates.join(name), &page(body))?;
            }
            write_file(
                &dir.join("content").join("_index.md"),
                &front_only(&Titled { title: &site.title })?,
            )?;
            write_file(
                &posts.join("_index.md"),
                &front_only(&ZolaSection {
                    title: "Stories",
                    sort_by: Some("date"),
                    paginate_by: Some(50),
                    transparent: None,
                    render: None,
                })?,
            )?;
        }
    }
    Ok(Writer {
        flavor,
        posts,
        slugs: HashSet::new(),
        years: HashSet::new(),
        written: 0,
    })
}

impl Writer {
    /// Writes `story` to `content/posts/YYYY/slug.md`. Its address on the built
    /// site is bulletin's own, `/YYYY/MM/DD/slug/`. A story that does not
    /// validate, or whose slug was already written, is refused.
    pub fn write_story(&mut self, story: &Story) -> io::Result<()> {
        story.validate().map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("story {:?}: {e}", story.slug),
            )
        })?;
        if self.slugs.contains(&story.slug) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "two stories have the slug {:?}; an export needs each once",
                    story.slug
                ),
            ));
        }
        // Made before anything is written, so a refused story leaves nothing.
        let file = story_file(self.flavor, story)?;
        let year = story.dateline.date.year();
        let year_dir = self.posts.join(format!("{year:04}"));
        if !self.years.contains(&year) {
            fs::create_dir_all(&year_dir).map_err(|e| at(&year_dir, e))?;
            if self.flavor == Flavor::Zola {
                // Zola lists only pages of a section; a transparent, unrendered
                // year section hands its pages to "posts" and makes no page.
                let title = year.to_string();
                write_file(
                    &year_dir.join("_index.md"),
                    &front_only(&ZolaSection {
                        title: &title,
                        sort_by: Some("date"),
                        paginate_by: None,
                        transparent: Some(true),
                        render: Some(false),
                    })?,
                )?;
            }
            self.years.insert(year);
        }
        write_file(&year_dir.join(format!("{}.md", story.slug)), &file)?;
        self.slugs.insert(story.slug.clone());
        self.written += 1;
        Ok(())
    }

    /// Ends the export; the number of stories written.
    pub fn finish(self) -> io::Result<u64> {
        Ok(self.written)
    }
}

/// One story's Markdown file: front matter, then the paragraphs.
pub(crate) fn story_file(flavor: Flavor, story: &Story) -> io::Result<Vec<u8>> {
    let date = toml_date(story.dateline.date)?;
    let bulletin = BulletinOut::new(story)?;
    let front = match flavor {
        Flavor::Hugo => to_toml(&HugoFront {
            title: &story.headline,
            date,
            slug: &story.slug,
            tags: &story.tags,
            bulletin,
        })?,
        Flavor::Zola => {
            let d = story.dateline.date;
            to_toml(&ZolaFront {
                title: &story.headline,
                date,
                slug: &story.slug,
                // Zola's URL is the page's path; bulletin's is by date.
                path: format!(
                    "{:04}/{:02}/{:02}/{}/",
                    d.year(),
                    d.month(),
                    d.day(),
                    story.slug
                ),
                taxonomies: (!story.tags.is_empty())
                    .then_some(ZolaTaxonomies { tags: &story.tags }),
                extra: ZolaExtra { bulletin },
            })?
        }
    };
    let mut out =
        Vec::with_capacity(front.len() + story.body.iter().map(String::len).sum::<usize>() + 64);
    out.extend_from_slice(b"+++\n");
    out.extend_from_slice(&front);
    out.extend_from_slice(b"+++\n");
    for (i, paragraph) in story.body.iter().enumerate() {
        out.push(b'\n');
        out.extend_from_slice(escape_paragraph(paragraph).as_bytes());
        out.push(b'\n');
        // A subscribers' story shows its lead only: the summary divider after it
        // makes Hugo's and Zola's summary that paragraph, which the templates
        // show instead of the whole story (the one access rule of
        // bulletin_core::render::visible_body).
        if i == 0 && story.access == Access::Subscribers && story.body.len() > 1 {
            out.extend_from_slice(match flavor {
                Flavor::Hugo => b"\n<!--more-->\n",
                Flavor::Zola => b"\n<!-- more -->\n",
            });
        }
    }
    Ok(out)
}

/// The language tag, if it is one (it goes into templates and configuration).
fn language(site: &SiteInfo) -> String {
    match &site.language {
        Some(l)
            if !l.is_empty()
                && l.len() <= 35
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') =>
        {
            l.clone()
        }
        _ => "en".to_owned(),
    }
}

fn at(path: &Path, e: io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn write_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| at(parent, e))?;
    }
    let mut file = io::BufWriter::new(fs::File::create(path).map_err(|e| at(path, e))?);
    file.write_all(contents)
        .and_then(|()| file.flush())
        .map_err(|e| at(path, e))
}

fn to_toml<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    toml::to_string(value)
        .map(String::into_bytes)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// A Markdown file that is front matter only (a section's page).
fn front_only<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut out = b"+++\n".to_vec();
    out.extend_from_slice(&to_toml(value)?);
    out.extend_from_slice(b"+++\n");
    Ok(out)
}

fn toml_date(d: jiff::civil::Date) -> io::Result<toml::value::Datetime> {
    let year = u16::try_from(d.year())
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the date {d} has no four-digit year"),
            )
        })?;
    Ok(toml::value::Datetime {
        date: Some(toml::value::Date {
            year,
            month: d.month().unsigned_abs(),
            day: d.day().unsigned_abs(),
        }),
        time: None,
        offset: None,
    })
}

fn hugo_config(site: &SiteInfo) -> HugoConfig<'_> {
    let mut base_url = site.base_url.trim().to_owned();
    if !base_url.ends_with('/') {
        base_url.push('/');
    }
    HugoConfig {
        base_url,
        title: &site.title,
        default_content_language: site.language.as_ref().map(|_| language(site)),
        // Stories are published; their dateline date, the page date, may be
        // later than the build (a date-only page is midnight UTC).
        build_future: true,
        permalinks: BTreeMap::from([("posts", "/:year/:month/:day/:slug/")]),
        taxonomies: BTreeMap::from([("tag", "tags")]),
        markup: HugoMarkup {
            goldmark: HugoGoldmark {
                // Curly quotes and dashes would change the stories' text.
                extensions: HugoExtensions { typographer: false },
            },
        },
    }
}

fn zola_config(site: &SiteInfo) -> ZolaConfig<'_> {
    ZolaConfig {
        base_url: site.base_url.trim(),
        title: &site.title,
        default_language: site.language.as_ref().map(|_| language(site)),
        compile_sass: false,
        build_search_index: false,
        taxonomies: vec![ZolaTaxonomy { name: "tags" }],
    }
}

#[derive(Serialize)]
struct HugoConfig<'a> {
    #[serde(rename = "baseURL")]
    base_url: String,
    title: &'a str,
    #[serde(
        rename = "defaultContentLanguage",
        skip_serializing_if = "Option::is_none"
    )]
    default_content_language: Option<String>,
    #[serde(rename = "buildFuture")]
    build_future: bool,
    permalinks: BTreeMap<&'static str, &'static str>,
    taxonomies: BTreeMap<&'static str, &'static str>,
    markup: HugoMarkup,
}

#[derive(Serialize)]
struct HugoMarkup {
    goldmark: HugoGoldmark,
}

#[derive(Serialize)]
struct HugoGoldmark {
    extensions: HugoExtensions,
}

#[derive(Serialize)]
struct HugoExtensions {
    // A boolean before Hugo 0.112, a table after; `false` works in both.
    typographer: bool,
}

#[derive(Serialize)]
struct ZolaConfig<'a> {
    base_url: &'a str,
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_language: Option<String>,
    compile_sass: bool,
    build_search_index: bool,
    taxonomies: Vec<ZolaTaxonomy>,
}

#[derive(Serialize)]
struct ZolaTaxonomy {
    name: &'static str,
}

#[derive(Serialize)]
struct Titled<'a> {
    title: &'a str,
}

#[derive(Serialize)]
struct ZolaSection<'a> {
    title: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sort_by: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    paginate_by: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transparent: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    render: Option<bool>,
}

#[derive(Serialize)]
struct HugoFront<'a> {
    title: &'a str,
    date: toml::value::Datetime,
    slug: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    /// Hugo gives templates unknown keys as `.Params`.
    bulletin: BulletinOut<'a>,
}

#[derive(Serialize)]
struct ZolaFront<'a> {
    title: &'a str,
    date: toml::value::Datetime,
    slug: &'a str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    taxonomies: Option<ZolaTaxonomies<'a>>,
    /// Zola refuses unknown top-level keys; `extra` is for the site's own.
    extra: ZolaExtra<'a>,
}

#[derive(Serialize)]
struct ZolaTaxonomies<'a> {
    tags: &'a [String],
}

#[derive(Serialize)]
struct ZolaExtra<'a> {
    bulletin: BulletinOut<'a>,
}

/// bulletin's fields in front matter (read back by the reader), and the dateline
/// and footers as bulletin words them, for templates (derived, not read back).
#[derive(Serialize)]
struct BulletinOut<'a> {
    places: &'a [String],
    credit: &'a str,
    year_inferred: bool,
    countries: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    issue: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_date: Option<toml::value::Datetime>,
    first_published: bool,
    copyright_holder: &'a str,
    copyright_year: i16,
    access: &'static str,
    dateline_caps: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    issue_footer: Option<String>,
    copyright_footer: String,
}

impl<'a> BulletinOut<'a> {
    fn new(story: &'a Story) -> io::Result<BulletinOut<'a>> {
        Ok(BulletinOut {
            places: &story.dateline.places,
            credit: &story.dateline.credit,
            year_inferred: story.dateline.year_inferred,
            countries: &story.countries,
            issue: story.issue.map(|i| i.number),
            issue_date: story
                .issue
                .and_then(|i| i.date)
                .map(toml_date)
                .transpose()?,
            first_published: story.first_published,
            copyright_holder: &story.copyright.holder,
            copyright_year: story.copyright.year,
            access: story.access.as_str(),
            dateline_caps: render::dateline_caps(story, true),
            issue_footer: render::issue_footer(story),
            copyright_footer: render::copyright_footer(story),
        })
    }
}
