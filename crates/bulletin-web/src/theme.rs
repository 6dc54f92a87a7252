//! Templates: the compiled-in default theme, overridden by name from a folder.
//!
//! Two minijinja environments. The public one (site and reader pages, from
//! `templates/site/` and `templates/reader/`) takes a theme folder's files by
//! name. The newsroom's (`templates/admin/`) is compiled in and never looks
//! at the theme folder: no file name, in any layout, can replace an admin
//! page. It shares only the story body partial, compiled in, for previews.

use std::hash::{Hash, Hasher};
use std::path::Path;

use minijinja::Environment;

use crate::WebError;

/// The default public theme, compiled in (zola's way): name → source. The
/// order is the fingerprint's, so ETags do not change between releases
/// that only move files.
const PUBLIC: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/site/base.html")),
    ("style.css", include_str!("../templates/site/style.css")),
    ("home.html", include_str!("../templates/site/home.html")),
    ("start.html", include_str!("../templates/site/start.html")),
    ("story.html", include_str!("../templates/site/story.html")),
    (
        "story_body.html",
        include_str!("../templates/site/story_body.html"),
    ),
    (
        "story_list.html",
        include_str!("../templates/site/story_list.html"),
    ),
    (
        "archive.html",
        include_str!("../templates/site/archive.html"),
    ),
    ("pager.html", include_str!("../templates/site/pager.html")),
    ("terms.html", include_str!("../templates/site/terms.html")),
    ("issue.html", include_str!("../templates/site/issue.html")),
    ("issues.html", include_str!("../templates/site/issues.html")),
    ("search.html", include_str!("../templates/site/search.html")),
    (
        "subscribe.html",
        include_str!("../templates/reader/subscribe.html"),
    ),
    (
        "sign_in.html",
        include_str!("../templates/reader/sign_in.html"),
    ),
    (
        "reader_message.html",
        include_str!("../templates/reader/reader_message.html"),
    ),
    (
        "account.html",
        include_str!("../templates/reader/account.html"),
    ),
    (
        "not_found.html",
        include_str!("../templates/site/not_found.html"),
    ),
];

/// The newsroom's templates, compiled in; a theme cannot reach them.
const ADMIN: &[(&str, &str)] = &[
    (
        "admin_base.html",
        include_str!("../templates/admin/admin_base.html"),
    ),
    (
        "admin_message.html",
        include_str!("../templates/admin/admin_message.html"),
    ),
    (
        "admin_login.html",
        include_str!("../templates/admin/admin_login.html"),
    ),
    (
        "admin_setup.html",
        include_str!("../templates/admin/admin_setup.html"),
    ),
    (
        "admin_stories.html",
        include_str!("../templates/admin/admin_stories.html"),
    ),
    (
        "admin_story.html",
        include_str!("../templates/admin/admin_story.html"),
    ),
    (
        "admin_history.html",
        include_str!("../templates/admin/admin_history.html"),
    ),
    (
        "admin_issues.html",
        include_str!("../templates/admin/admin_issues.html"),
    ),
    (
        "admin_issue.html",
        include_str!("../templates/admin/admin_issue.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../templates/admin/admin_audit.html"),
    ),
    (
        "admin_users.html",
        include_str!("../templates/admin/admin_users.html"),
    ),
    (
        "admin_tokens.html",
        include_str!("../templates/admin/admin_tokens.html"),
    ),
    (
        "admin_subscribers.html",
        include_str!("../templates/admin/admin_subscribers.html"),
    ),
    (
        "story_body.html",
        include_str!("../templates/site/story_body.html"),
    ),
];

/// Loaded and compiled templates. All are checked at start-up, so a broken
/// theme stops `serve` with the file and line instead of failing a request.
pub struct Theme {
    /// Site and reader pages, with the theme folder's overrides.
    env: Environment<'static>,
    /// The newsroom's pages, compiled in only.
    admin: Environment<'static>,
    /// Fingerprint of every public template source: part of each ETag, so a
    /// restart with another theme never answers 304 to a page the old theme
    /// rendered.
    id: u64,
}

fn compiled(templates: &[(&'static str, &'static str)]) -> Result<Environment<'static>, WebError> {
    let mut env = Environment::new();
    for (name, source) in templates {
        env.add_template(name, source)
            .map_err(|source| WebError::Template {
                name: (*name).to_owned(),
                source,
            })?;
    }
    Ok(env)
}

impl Theme {
    /// The default theme, with any `*.html` or `*.css` in `dir` replacing the
    /// public template of the same name.
    pub fn load(dir: Option<&Path>) -> Result<Theme, WebError> {
        let mut fingerprint = std::hash::DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut fingerprint);
        // `.html` templates escape every value unless marked safe.
        let mut env = compiled(PUBLIC)?;
        for (name, source) in PUBLIC {
            (name, source).hash(&mut fingerprint);
        }
        let admin = compiled(ADMIN)?;
        if let Some(dir) = dir {
            let folder_error = |source| WebError::ThemeFolder {
                path: dir.display().to_string(),
                source,
            };
            for entry in std::fs::read_dir(dir).map_err(folder_error)? {
                let path = entry.map_err(folder_error)?.path();
                let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                    continue;
                };
                if !(name.ends_with(".html") || name.ends_with(".css")) {
                    continue;
                }
                let name = name.to_owned();
                let source = std::fs::read_to_string(&path).map_err(folder_error)?;
                // Such files reach no page (the newsroom has its own
                // environment); they stay out of the fingerprint so that ETags
                // are what they were when they were skipped by name.
                if !name.starts_with("admin_") {
                    (&name, &source).hash(&mut fingerprint);
                }
                env.add_template_owned(name.clone(), source)
                    .map_err(|source| WebError::Template {
                        name: path.display().to_string(),
                        source,
                    })?;
            }
        }
        // Every page template must exist (an override may only replace, not
        // remove). Errors that show only while rendering, such as an include of a
        // template that is not there, surface on the first request as a 500.
        for (env, templates) in [(&env, PUBLIC), (&admin, ADMIN)] {
            for name in templates.iter().map(|(n, _)| *n) {
                env.get_template(name)
                    .map_err(|source| WebError::Template {
                        name: name.to_owned(),
                        source,
                    })?;
            }
        }
        Ok(Theme {
            env,
            admin,
            id: fingerprint.finish(),
        })
    }

    /// Changes whenever any public template source does.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Renders the public template `name` with `context`.
    pub fn render(
        &self,
        name: &str,
        context: minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }

    /// Renders the newsroom's template `name` with `context`.
    pub fn render_admin(
        &self,
        name: &str,
        context: minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        self.admin.get_template(name)?.render(context)
    }
}
