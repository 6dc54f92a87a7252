//! Connection URLs without their passwords, for every message and log that
//! names a database or a mail server.
//!
//! ```
//! use bulletin_core::redact;
//!
//! assert_eq!(redact::url("postgres://u:pw@h:5432/db"), "postgres://u:***@h:5432/db");
//! assert_eq!(redact::url("smtps://user:secret@mail.example.org"), "smtps://user:***@mail.example.org");
//! ```

/// `scheme://user:secret@host...` → `scheme://user:***@host...`. The user
/// stays (it says which account); a URL with only a user, or none, or no
/// `scheme://`, is returned as it is. The user and password are what comes
/// before the last `@` of the authority, which ends at the first `/`, `?` or
/// `#` after the scheme.
pub fn url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &authority[..colon],
            &rest[at..]
        ),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn database_passwords_never_shown() {
        assert_eq!(
            url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(url("sqlite://x/y.db"), "sqlite://x/y.db");
        assert_eq!(url("sqlite:bulletin.db"), "sqlite:bulletin.db");
    }

    #[test]
    fn mail_server_passwords_never_shown() {
        assert_eq!(
            url("smtps://user:hunter2@mail.example.org:465"),
            "smtps://user:***@mail.example.org:465"
        );
        assert_eq!(
            url("smtp://u%40x.org:p%3Aw@mail.example.org?tls=required"),
            "smtp://u%40x.org:***@mail.example.org?tls=required"
        );
        assert_eq!(url("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
        assert_eq!(
            url("smtp://user@mail.example.org"),
            "smtp://user@mail.example.org"
        );
    }

    #[test]
    fn the_authority_ends_before_a_path_query_or_fragment() {
        // An `@` or `:` in the query or fragment is not a password.
        assert_eq!(
            url("postgres://h/db?user=a@b:c"),
            "postgres://h/db?user=a@b:c"
        );
        assert_eq!(url("smtp://h?x=a:b@c"), "smtp://h?x=a:b@c");
        assert_eq!(url("smtp://h#a:b@c"), "smtp://h#a:b@c");
        // A password with an `@` in it (not percent-encoded) is hidden whole.
        assert_eq!(url("smtp://u:p@ss@h:25"), "smtp://u:***@h:25");
        assert_eq!(url("not a url"), "not a url");
    }
}
