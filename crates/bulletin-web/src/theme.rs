//! Templates: the compiled-in default theme, overridden by name from a folder.

use std::hash::{Hash, Hasher};
use std::path::Path;

use minijinja::Environment;

use crate::WebError;

/// The default theme, compiled in (zola's way): name → source.
const DEFAULT: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("style.css", include_str!("../templates/style.css")),
    ("home.html", include_str!("../templates/home.html")),
    ("start.html", include_str!("../templates/start.html")),
    ("story.html", include_str!("../templates/story.html")),
    (
        "story_body.html",
        include_str!("../templates/story_body.html"),
    ),
    (
        "story_list.html",
        include_str!("../templates/story_list.html"),
    ),
    ("archive.html", include_str!("../templates/archive.html")),
    ("pager.html", include_str!("../templates/pager.html")),
    ("terms.html", include_str!("../templates/terms.html")),
    ("issue.html", include_str!("../templates/issue.html")),
    ("issues.html", include_str!("../templates/issues.html")),
    ("search.html", include_str!("../templates/search.html")),
    (
        "subscribe.html",
        include_str!("../templates/subscribe.html"),
    ),
    ("sign_in.html", include_str!("../templates/sign_in.html")),
    (
        "reader_message.html",
        include_str!("../templates/reader_message.html"),
    ),
    ("account.html", include_str!("../templates/account.html")),
    (
        "admin_subscribers.html",
        include_str!("../templates/admin_subscribers.html"),
    ),
    (
        "not_found.html",
        include_str!("../templates/not_found.html"),
    ),
    (
        "admin_base.html",
        include_str!("../templates/admin_base.html"),
    ),
    (
        "admin_message.html",
        include_str!("../templates/admin_message.html"),
    ),
    (
        "admin_login.html",
        include_str!("../templates/admin_login.html"),
    ),
    (
        "admin_setup.html",
        include_str!("../templates/admin_setup.html"),
    ),
    (
        "admin_stories.html",
        include_str!("../templates/admin_stories.html"),
    ),
    (
        "admin_story.html",
        include_str!("../templates/admin_story.html"),
    ),
    (
        "admin_history.html",
        include_str!("../templates/admin_history.html"),
    ),
    (
        "admin_issues.html",
        include_str!("../templates/admin_issues.html"),
    ),
    (
        "admin_issue.html",
        include_str!("../templates/admin_issue.html"),
    ),
    (
        "admin_audit.html",
        include_str!("../templates/admin_audit.html"),
    ),
    (
        "admin_users.html",
        include_str!("../templates/admin_users.html"),
    ),
    (
        "admin_tokens.html",
        include_str!("../templates/admin_tokens.html"),
    ),
];

/// Loaded and compiled templates. All are checked at start-up, so a broken
/// theme stops `serve` with the file and line instead of failing a request.
pub struct Theme {
    env: Environment<'static>,
    /// Fingerprint of every template source: part of each ETag, so a restart with
    /// another theme never answers 304 to a page the old theme rendered.
    id: u64,
}

impl Theme {
    /// The default theme, with any `*.html` or `*.css` in `dir` replacing the template of
    /// the same name.
    pub fn load(dir: Option<&Path>) -> Result<Theme, WebError> {
        let mut env = Environment::new();
        let mut fingerprint = std::hash::DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut fingerprint);
        // `.html` templates escape every value unless marked safe.
        for (name, source) in DEFAULT {
            // Admin pages are never cached: they need not change public ETags.
            if !name.starts_with("admin_") {
                (name, source).hash(&mut fingerprint);
            }
            env.add_template(name, source)
                .map_err(|source| WebError::Template {
                    name: (*name).to_owned(),
                    source,
                })?;
        }
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
        for name in DEFAULT.iter().map(|(n, _)| *n) {
            env.get_template(name)
                .map_err(|source| WebError::Template {
                    name: name.to_owned(),
                    source,
                })?;
        }
        Ok(Theme {
            env,
            id: fingerprint.finish(),
        })
    }

    /// Changes whenever any template source does.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Renders `name` with `context`.
    pub fn render(
        &self,
        name: &str,
        context: minijinja::Value,
    ) -> Result<String, minijinja::Error> {
        self.env.get_template(name)?.render(context)
    }
}
