//! The publication a data directory holds, and its settings by name: what
//! `bulletin site show|set`, `bulletin.toml`'s `[site]`, the `BULLETIN_*`
//! variables and the command-line flags all set (the layering is the binary's
//! job; each value's own rules are here, so every layer checks the same way).

use serde::{Deserialize, Serialize};

use crate::model::single_line;
use crate::{Access, ModelError};

/// The publication a data directory holds: one per data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    /// "Central Asia & South Caucasus Bulletin"
    pub name: String,
    /// What datelines credit: "The Bulletin"
    pub credit: String,
    /// The site's own address, with no trailing slash: every absolute link
    /// (feeds, sitemaps, mail) starts with it.
    pub base_url: String,
    /// IANA time zone name, e.g. "UTC" or "Asia/Almaty".
    pub time_zone: String,
    /// The copyright line; `{holder}` and `{year}` are filled in.
    pub copyright: String,
    /// The language of the stories (BCP 47): `<html lang>`, feeds.
    #[serde(default = "default_language")]
    pub language: String,
    /// Who holds the copyright of stories written in the newsroom or imported
    /// without a holder; empty means the publication's name.
    #[serde(default)]
    pub copyright_holder: String,
    /// A new story's access until its author chooses.
    #[serde(default)]
    pub default_access: Access,
    /// The name mail is sent under when `[smtp] from_name` does not say;
    /// empty means the publication's name.
    #[serde(default)]
    pub sender_name: String,
}

fn default_language() -> String {
    "en".into()
}

impl Default for Publication {
    fn default() -> Self {
        Publication {
            name: "Central Asia & South Caucasus Bulletin".into(),
            credit: "The Bulletin".into(),
            base_url: "http://127.0.0.1:8080".into(),
            time_zone: "UTC".into(),
            copyright: "Copyright the {holder} {year}".into(),
            language: default_language(),
            copyright_holder: String::new(),
            default_access: Access::Public,
            sender_name: String::new(),
        }
    }
}

/// A setting's name and value that cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error(
        "there is no setting {0:?}; the settings are: {keys}",
        keys = Publication::KEYS.join(", ")
    )]
    UnknownKey(String),
    #[error("{key}: {why}")]
    Invalid { key: &'static str, why: String },
}

impl Publication {
    /// Every setting's name, in the order `site show` lists them.
    pub const KEYS: [&'static str; 9] = [
        "name",
        "credit",
        "base_url",
        "time_zone",
        "language",
        "copyright",
        "copyright_holder",
        "default_access",
        "sender_name",
    ];

    /// The copyright holder of new stories.
    pub fn holder(&self) -> &str {
        non_empty_or(&self.copyright_holder, &self.name)
    }

    /// The name mail is sent under.
    pub fn sender(&self) -> &str {
        non_empty_or(&self.sender_name, &self.name)
    }

    /// A setting's value as text, by its name in [`Publication::KEYS`].
    pub fn get(&self, key: &str) -> Result<String, SettingError> {
        Ok(match key {
            "name" => self.name.clone(),
            "credit" => self.credit.clone(),
            "base_url" => self.base_url.clone(),
            "time_zone" => self.time_zone.clone(),
            "language" => self.language.clone(),
            "copyright" => self.copyright.clone(),
            "copyright_holder" => self.copyright_holder.clone(),
            "default_access" => self.default_access.as_str().to_owned(),
            "sender_name" => self.sender_name.clone(),
            _ => return Err(SettingError::UnknownKey(key.to_owned())),
        })
    }

    /// Sets a setting from text after checking it (a `base_url` loses its
    /// trailing slash). The time zone's name is checked for form only: whether
    /// the zone exists depends on the machine's time zone database, which the
    /// caller asks.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let value = value.trim();
        let key = Publication::KEYS
            .into_iter()
            .find(|k| *k == key)
            .ok_or_else(|| SettingError::UnknownKey(key.to_owned()))?;
        let invalid = |why: String| SettingError::Invalid { key, why };
        let model = |e: ModelError| invalid(e.to_string());
        match key {
            "name" => {
                single_line("the name", value, 200).map_err(model)?;
                self.name = value.to_owned();
            }
            "credit" => {
                single_line("the credit", value, 200).map_err(model)?;
                self.credit = value.to_owned();
            }
            "base_url" => self.base_url = check_base_url(value).map_err(invalid)?,
            "time_zone" => {
                single_line("the time zone", value, 100).map_err(model)?;
                if !value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c))
                {
                    return Err(invalid(format!(
                        "{value:?} is not an IANA time zone name such as UTC or Asia/Almaty"
                    )));
                }
                self.time_zone = value.to_owned();
            }
            "language" => self.language = check_language(value).map_err(invalid)?,
            "copyright" => {
                single_line("the copyright line", value, 500).map_err(model)?;
                self.copyright = value.to_owned();
            }
            "copyright_holder" => {
                optional_line("the copyright holder", value).map_err(model)?;
                self.copyright_holder = value.to_owned();
            }
            "default_access" => {
                self.default_access = Access::parse(value).ok_or_else(|| {
                    invalid(format!("{value:?} is neither public nor subscribers"))
                })?;
            }
            "sender_name" => {
                optional_line("the sender name", value).map_err(model)?;
                if value.contains(['"', '<', '>', '\\']) {
                    return Err(invalid(
                        "a sender name may not contain quotes, angle brackets or backslashes"
                            .into(),
                    ));
                }
                self.sender_name = value.to_owned();
            }
            _ => return Err(SettingError::UnknownKey(key.to_owned())),
        }
        Ok(())
    }

    /// Whether the site's address names this machine (`localhost`,
    /// `127.0.0.0/8`, `::1`): fine for trying bulletin out, wrong in any link
    /// that leaves the machine.
    pub fn base_url_is_loopback(&self) -> bool {
        url_host(&self.base_url).is_some_and(is_loopback_host)
    }
}

/// Whether a host name or address (IPv6 with or without brackets) is this machine.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The host of an `http(s)://` URL, without port or brackets.
fn url_host(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next()?,
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    (!host.is_empty()).then_some(host)
}

fn non_empty_or<'a>(value: &'a str, fallback: &'a str) -> &'a str {
    if value.trim().is_empty() {
        fallback
    } else {
        value
    }
}

fn optional_line(field: &'static str, value: &str) -> Result<(), ModelError> {
    if value.is_empty() {
        Ok(())
    } else {
        single_line(field, value, 200)
    }
}

/// An absolute `http://` or `https://` address of the site's root: a host,
/// an optional port, nothing else (bulletin serves from the root of its host).
fn check_base_url(value: &str) -> Result<String, String> {
    let url = value.trim_end_matches('/');
    let Some(rest) = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
    else {
        return Err(format!(
            "{value:?} is not an absolute http:// or https:// address such as https://news.example.org"
        ));
    };
    if rest.contains(['?', '#']) {
        return Err(format!("{value:?} has a query or fragment"));
    }
    if rest.contains('/') {
        return Err(format!(
            "{value:?} has a path: bulletin serves from the root of its host, so give only the scheme, host and port"
        ));
    }
    if rest.contains('@') {
        return Err(format!("{value:?} carries a user name or password"));
    }
    if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{value:?} contains spaces or control characters"));
    }
    let host = url_host(url).ok_or_else(|| format!("{value:?} has no host"))?;
    let port = match rest.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(_, after)| after),
        None => Some(rest.strip_prefix(host).unwrap_or(rest)),
    }
    .unwrap_or_default();
    if let Some(port) = port.strip_prefix(':') {
        if port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("{value:?} has a port that is not 1 to 65535"));
        }
    } else if !port.is_empty() {
        return Err(format!("{value:?} has no valid host"));
    }
    let host_ok = host.parse::<std::net::Ipv6Addr>().is_ok()
        || host.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !host_ok {
        return Err(format!("{value:?} has no valid host"));
    }
    Ok(url.to_owned())
}

/// A BCP 47 tag in its common form: a 2–3 letter language, then subtags.
fn check_language(value: &str) -> Result<String, String> {
    let mut parts = value.split('-');
    let language = parts.next().unwrap_or_default();
    let ok = (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if ok {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a language tag such as en, ru or en-GB"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(key: &str, value: &str) -> Result<Publication, SettingError> {
        let mut p = Publication::default();
        p.set(key, value).map(|()| p)
    }

    #[test]
    fn base_urls_are_absolute_roots() {
        assert_eq!(
            set("base_url", "https://news.example.org/")
                .unwrap()
                .base_url,
            "https://news.example.org"
        );
        assert_eq!(
            set("base_url", "http://[::1]:8080").unwrap().base_url,
            "http://[::1]:8080"
        );
        for bad in [
            "news.example.org",
            "ftp://news.example.org",
            "https://",
            "https://news.example.org/archive",
            "https://u:p@news.example.org",
            "https://news.example.org?x=1",
            "https://news.example.org:0",
            "https://news.example.org:99999",
            "https://news example.org",
            "https://news..org",
        ] {
            let err = set("base_url", bad).unwrap_err();
            assert!(
                matches!(
                    &err,
                    SettingError::Invalid {
                        key: "base_url",
                        ..
                    }
                ),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn loopback_addresses_are_recognised() {
        for (url, loopback) in [
            ("http://127.0.0.1:8080", true),
            ("http://127.9.9.9", true),
            ("http://localhost:3000", true),
            ("http://[::1]:8080", true),
            ("https://news.example.org", false),
            ("http://10.0.0.1", false),
        ] {
            let p = set("base_url", url).unwrap();
            assert_eq!(p.base_url_is_loopback(), loopback, "{url}");
        }
    }

    #[test]
    fn every_key_reads_back_what_was_set() {
        let values = [
            ("name", "Caspian Letter"),
            ("credit", "The Letter"),
            ("base_url", "https://letter.example.org"),
            ("time_zone", "Asia/Almaty"),
            ("language", "ru"),
            ("copyright", "© {holder} {year}"),
            ("copyright_holder", "Letter Ltd"),
            ("default_access", "subscribers"),
            ("sender_name", "The Letter desk"),
        ];
        assert_eq!(values.len(), Publication::KEYS.len());
        let mut p = Publication::default();
        for (key, value) in values {
            p.set(key, value).unwrap();
        }
        for (key, value) in values {
            assert_eq!(p.get(key).unwrap(), value, "{key}");
        }
        assert_eq!(p.holder(), "Letter Ltd");
        assert_eq!(p.sender(), "The Letter desk");
        assert!(matches!(
            p.set("base_uri", "x"),
            Err(SettingError::UnknownKey(_))
        ));
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        for (key, value) in [
            ("name", ""),
            ("name", "two\nlines"),
            ("language", "english language"),
            ("language", "e"),
            ("time_zone", "Asia/Almaty; DROP"),
            ("default_access", "everyone"),
            ("sender_name", "Desk <x@y>"),
        ] {
            let err = set(key, value).unwrap_err().to_string();
            assert!(
                err.starts_with(&format!("{key}:")),
                "{key}={value:?}: {err}"
            );
        }
    }

    #[test]
    fn empty_holder_and_sender_mean_the_name() {
        let p = Publication::default();
        assert_eq!(p.holder(), p.name);
        assert_eq!(p.sender(), p.name);
    }

    #[test]
    fn old_backups_without_the_new_settings_still_read() {
        let old = r#"{"name":"N","credit":"C","base_url":"https://n.example.org","time_zone":"UTC","copyright":"Copyright the {holder} {year}"}"#;
        let p: Publication = serde_json::from_str(old).unwrap();
        assert_eq!(p.language, "en");
        assert_eq!(p.default_access, Access::Public);
    }
}
