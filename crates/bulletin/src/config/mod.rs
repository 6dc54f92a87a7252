//! Settings: `bulletin.toml` in the data directory, typed and validated once at
//! start-up; unknown keys are rejected. The publication's own settings come in
//! layers (see [`site`]).

pub mod site;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use bulletin_core::redact;
use serde::Deserialize;

/// The contents of `bulletin.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `postgres://...` to keep the store on PostgreSQL; `sqlite://PATH` for another
    /// SQLite file. The command line and `BULLETIN_DATABASE_URL` take precedence.
    pub database: Option<String>,
    /// The SMTP server the newsletter and the site's sign-up and sign-in
    /// messages go through. Without it, `bulletin send` refuses and the site's
    /// subscribe form says sign-ups are closed.
    pub smtp: Option<bulletin_mail::SmtpSettings>,
    /// The publication's settings (`base_url = "https://news.example.org"`, ...),
    /// over what the store holds; see [`site`].
    #[serde(default)]
    pub site: BTreeMap<String, toml::Value>,
}

/// Everything a command needs to know about where bulletin keeps its data.
#[derive(Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub smtp: Option<bulletin_mail::SmtpSettings>,
    /// The publication's settings set above the store.
    pub site: site::SiteLayers,
}

impl Settings {
    /// [`Settings::load_with`] with no flags and an empty environment.
    #[cfg(test)]
    fn load(data_dir: &Path, database: Option<&str>) -> Result<Settings> {
        Settings::load_with(data_dir, database, &[], |_| None)
    }

    /// Reads `DIR/bulletin.toml` if present; `database` (from `--database` or the
    /// environment) overrides it; the default is SQLite in the data directory.
    /// The publication's settings are layered over the store with the
    /// command line's (`(flag, key, value)`) and the environment's, read
    /// through `vars`.
    pub fn load_with(
        data_dir: &Path,
        database: Option<&str>,
        site_flags: &[(String, String, String)],
        vars: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings> {
        let path = data_dir.join("bulletin.toml");
        let config = match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str::<ConfigFile>(&text).with_context(|| {
                format!("{} is not a valid bulletin configuration", path.display())
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ConfigFile::default(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let database_url = match database.or(config.database.as_deref()) {
            Some(url) => {
                let url = url.trim();
                if !(url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:"))
                {
                    bail!(
                        "unsupported database URL {:?}: use postgres://USER@HOST/DB or sqlite://PATH",
                        redact::url(url)
                    );
                }
                url.to_owned()
            }
            None => {
                std::fs::create_dir_all(data_dir).with_context(|| {
                    format!("cannot create the data directory {}", data_dir.display())
                })?;
                format!("sqlite://{}", data_dir.join("bulletin.db").display())
            }
        };
        if let Some(smtp) = &config.smtp {
            // Checked once here, so a typo in the address stops start-up
            // rather than the first send.
            bulletin_mail::Mailer::new(smtp)
                .with_context(|| format!("{}: [smtp] is not usable", path.display()))?;
        }
        let site = site::SiteLayers::gather(&config.site, &path, vars, site_flags)?;
        Ok(Settings {
            data_dir: data_dir.to_owned(),
            database_url,
            smtp: config.smtp,
            site,
        })
    }

    /// The path of the configuration file (which may not exist).
    pub fn config_path(&self) -> PathBuf {
        self.data_dir.join("bulletin.toml")
    }

    /// The `[smtp]` settings to send with: the sender's name, when the file
    /// does not give one, is the publication's ([`bulletin_core::Publication::sender`]).
    pub fn smtp_for(
        &self,
        publication: &bulletin_core::Publication,
    ) -> Option<bulletin_mail::SmtpSettings> {
        Some(self.smtp.as_ref()?.named(publication.sender()))
    }

    /// The database URL with any password hidden, for messages and logs.
    pub fn database_display(&self) -> String {
        redact::url(&self.database_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_are_shown_without_their_password() {
        let dir = tempfile::tempdir().unwrap();
        let settings = Settings::load(dir.path(), Some("postgres://u:pw@h:5432/db")).unwrap();
        assert_eq!(settings.database_display(), "postgres://u:***@h:5432/db");
        let err = format!(
            "{:#}",
            Settings::load(dir.path(), Some("mysql://u:pw@h/db")).unwrap_err()
        );
        assert!(err.contains("\"mysql://u:***@h/db\""), "{err}");
    }

    #[test]
    fn unknown_keys_rejected() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bulletin.toml"), "databse = \"x\"\n").unwrap();
        let err = Settings::load(dir.path(), None).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }

    #[test]
    fn smtp_settings_are_checked_and_never_show_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bulletin.toml");
        std::fs::write(
            &path,
            "[smtp]\nurl = \"smtp://u:hunter2@127.0.0.1:2525\"\nfrom = \"news@example.org\"\n",
        )
        .unwrap();
        let settings = Settings::load(dir.path(), None).unwrap();
        let smtp = settings.smtp.as_ref().unwrap();
        assert_eq!(smtp.per_second, 20);
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("u:***@127.0.0.1:2525"), "{shown}");

        std::fs::write(
            &path,
            "[smtp]\nurl = \"smtp://127.0.0.1\"\nfrom = \"not an address\"\n",
        )
        .unwrap();
        let err = format!("{:#}", Settings::load(dir.path(), None).unwrap_err());
        assert!(
            err.contains("[smtp]") && err.contains("sender address"),
            "{err}"
        );

        std::fs::write(
            &path,
            "[smtp]\nurl = \"smtp://127.0.0.1\"\nfrom = \"a@b.org\"\npassword = \"x\"\n",
        )
        .unwrap();
        let err = format!("{:#}", Settings::load(dir.path(), None).unwrap_err());
        assert!(err.contains("unknown field"), "{err}");
    }

    #[test]
    fn precedence() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("bulletin.toml"),
            "database = \"postgres://a@b/c\"\n",
        )
        .unwrap();
        assert_eq!(
            Settings::load(dir.path(), None).unwrap().database_url,
            "postgres://a@b/c"
        );
        assert_eq!(
            Settings::load(dir.path(), Some("sqlite://z.db"))
                .unwrap()
                .database_url,
            "sqlite://z.db"
        );
        assert!(Settings::load(dir.path(), Some("mysql://x")).is_err());
    }
}
