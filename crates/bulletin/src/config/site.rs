//! The publication's settings in layers. One precedence rule, lowest first:
//!
//! 1. the built-in default;
//! 2. the store (`bulletin site set KEY VALUE`; shared by every instance);
//! 3. `[site]` in `bulletin.toml`;
//! 4. the environment, `BULLETIN_` and the key in capitals (`BULLETIN_BASE_URL`);
//! 5. the command line (`--base-url URL`, `--site KEY=VALUE`).
//!
//! Each value is checked where it is read, and an error names where it came
//! from. A command that opens the store writes the effective settings back to
//! it when a layer above the store changed them, so every process and every
//! output (pages, feeds, mail, the scheduler's) agrees on one publication.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use bulletin_core::Publication;

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    Store,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Store => f.write_str("store (bulletin site set)"),
            Origin::File(path) => write!(f, "{} [site]", path.display()),
            Origin::Env(var) => write!(f, "environment {var}"),
            Origin::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// The environment variable of a setting: `base_url` → `BULLETIN_BASE_URL`.
pub fn env_var(key: &str) -> String {
    format!("BULLETIN_{}", key.to_ascii_uppercase())
}

/// The layers above the store, each value already checked.
#[derive(Debug, Clone, Default)]
pub struct SiteLayers {
    /// Key → (value, origin), the highest layer's value for each key set above the store.
    overrides: BTreeMap<&'static str, (String, Origin)>,
}

/// The settings in force and where each came from.
#[derive(Debug, Clone)]
pub struct Effective {
    pub publication: Publication,
    pub origins: BTreeMap<&'static str, Origin>,
}

impl Effective {
    pub fn origin(&self, key: &str) -> &Origin {
        self.origins.get(key).unwrap_or(&Origin::Default)
    }
}

impl SiteLayers {
    /// Gathers `[site]` of `file` (at `path`), the environment (`vars`: the
    /// process's, or a test's), and the command line's `flags` (`(flag, key,
    /// value)`), checking every value.
    pub fn gather(
        file: &BTreeMap<String, toml::Value>,
        path: &Path,
        vars: impl Fn(&str) -> Option<String>,
        flags: &[(String, String, String)],
    ) -> Result<SiteLayers> {
        let mut layers = SiteLayers::default();
        for (key, value) in file {
            let key =
                known_key(key).map_err(|e| anyhow::anyhow!("{} [site]: {e}", path.display()))?;
            let Some(value) = value.as_str() else {
                bail!(
                    "{} [site]: {key} must be a string in quotes, e.g. {key} = \"...\"",
                    path.display()
                );
            };
            layers.put(key, value, Origin::File(path.to_owned()))?;
        }
        for key in Publication::KEYS {
            let var = env_var(key);
            if let Some(value) = vars(&var) {
                layers.put(key, &value, Origin::Env(var))?;
            }
        }
        for (flag, key, value) in flags {
            let key = known_key(key).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
            layers.put(key, value, Origin::Flag(flag.clone()))?;
        }
        Ok(layers)
    }

    /// Checks `value` and lets it win over the layers gathered so far.
    fn put(&mut self, key: &'static str, value: &str, origin: Origin) -> Result<()> {
        let mut scratch = Publication::default();
        if let Err(e) = check(&mut scratch, key, value) {
            bail!("{origin}: {e}");
        }
        let value = scratch.get(key)?;
        self.overrides.insert(key, (value, origin));
        Ok(())
    }

    /// The layer (above the store) that sets `key`, if any.
    pub fn overriding(&self, key: &str) -> Option<&Origin> {
        self.overrides.get(key).map(|(_, origin)| origin)
    }

    /// The settings in force over what the store holds (`stored`), and where
    /// each came from. Values in the store that equal the default count as
    /// the default's.
    pub fn resolve(&self, stored: &Publication) -> Result<Effective> {
        let default = Publication::default();
        let mut publication = stored.clone();
        let mut origins = BTreeMap::new();
        for key in Publication::KEYS {
            let origin = match self.overrides.get(key) {
                Some((value, origin)) => {
                    publication.set(key, value)?;
                    origin.clone()
                }
                None if stored.get(key)? == default.get(key)? => Origin::Default,
                None => Origin::Store,
            };
            origins.insert(key, origin);
        }
        Ok(Effective {
            publication,
            origins,
        })
    }
}

/// Why links in mail would not reach readers: a `base_url` never set (still
/// the default) or naming this machine.
pub fn base_url_problem(effective: &Effective) -> Option<String> {
    let url = &effective.publication.base_url;
    if *effective.origin("base_url") == Origin::Default {
        Some(format!(
            "the site's base_url is not set (it is the default, {url})"
        ))
    } else if effective.publication.base_url_is_loopback() {
        Some(format!(
            "the site's base_url, {url} ({}), is this machine's own address",
            effective.origin("base_url")
        ))
    } else {
        None
    }
}

fn known_key(key: &str) -> Result<&'static str> {
    match Publication::KEYS.into_iter().find(|k| *k == key) {
        Some(k) => Ok(k),
        None => Err(bulletin_core::SettingError::UnknownKey(key.to_owned()).into()),
    }
}

/// Sets one setting after every check, the time zone's existence included.
pub fn check(publication: &mut Publication, key: &str, value: &str) -> Result<()> {
    publication.set(key, value)?;
    if key == "time_zone" && jiff::tz::TimeZone::get(&publication.time_zone).is_err() {
        bail!(
            "time_zone: {:?} is not a time zone this machine knows (an IANA name such as UTC or Asia/Almaty)",
            publication.time_zone
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> BTreeMap<String, toml::Value> {
        toml::from_str(text).unwrap()
    }

    fn flag(key: &str, value: &str) -> (String, String, String) {
        ("--site".into(), key.into(), value.into())
    }

    #[test]
    fn each_layer_wins_over_the_ones_below() {
        let path = Path::new("/data/bulletin.toml");
        let stored = Publication {
            name: "Stored Name".into(),
            time_zone: "Asia/Baku".into(),
            base_url: "https://stored.example.org".into(),
            ..Publication::default()
        };
        let toml = file(
            "base_url = \"https://file.example.org\"\nlanguage = \"ru\"\ntime_zone = \"Asia/Almaty\"\n",
        );
        let env = |var: &str| match var {
            "BULLETIN_BASE_URL" => Some("https://env.example.org".to_owned()),
            "BULLETIN_LANGUAGE" => Some("kk".to_owned()),
            _ => None,
        };
        let layers = SiteLayers::gather(
            &toml,
            path,
            env,
            &[flag("base_url", "https://flag.example.org/")],
        )
        .unwrap();
        let effective = layers.resolve(&stored).unwrap();
        let p = &effective.publication;
        assert_eq!(p.base_url, "https://flag.example.org");
        assert_eq!(effective.origin("base_url"), &Origin::Flag("--site".into()));
        assert_eq!(p.language, "kk");
        assert_eq!(
            effective.origin("language"),
            &Origin::Env("BULLETIN_LANGUAGE".into())
        );
        assert_eq!(p.time_zone, "Asia/Almaty");
        assert_eq!(effective.origin("time_zone"), &Origin::File(path.into()));
        assert_eq!(p.name, "Stored Name");
        assert_eq!(effective.origin("name"), &Origin::Store);
        assert_eq!(p.credit, Publication::default().credit);
        assert_eq!(effective.origin("credit"), &Origin::Default);
    }

    #[test]
    fn bad_values_name_their_origin() {
        let path = Path::new("/data/bulletin.toml");
        let no_env = |_: &str| None;
        let err = SiteLayers::gather(&file("base_url = \"example.org\"\n"), path, no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("/data/bulletin.toml [site]: base_url:"),
            "{err}"
        );

        let env = |var: &str| (var == "BULLETIN_TIME_ZONE").then(|| "Mars/Olympus".to_owned());
        let err = SiteLayers::gather(&BTreeMap::new(), path, env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("environment BULLETIN_TIME_ZONE: time_zone:")
                && err.contains("Mars/Olympus"),
            "{err}"
        );

        let err = SiteLayers::gather(&file("base_uri = \"https://x.org\"\n"), path, no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no setting \"base_uri\"") && err.contains("base_url"),
            "{err}"
        );

        let err = SiteLayers::gather(&file("default_access = 1\n"), path, no_env, &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be a string"), "{err}");

        let err = SiteLayers::gather(
            &BTreeMap::new(),
            path,
            no_env,
            &[flag("default_access", "everyone")],
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("flag --site: default_access:"), "{err}");
    }
}
