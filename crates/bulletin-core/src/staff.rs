//! Staff accounts: roles, addresses, the password rule and password hashes.
//!
//! Hashes are argon2id PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$...`, the
//! OWASP-recommended parameters). The salt comes from the caller, so this crate
//! stays free of I/O; hashing costs tens of milliseconds of CPU, so async callers
//! run it on a blocking thread.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// What a staff member may do. Contributors write drafts; editors also edit,
/// tag and publish; admins also manage users and settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Contributor,
    Editor,
    Admin,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Editor, Role::Contributor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Contributor => "contributor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A staff account as listed (never with its password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: i64,
    /// Lowercase, as [`normalize_email`] makes it.
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

/// Longest address accepted (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Shortest password accepted (NIST SP 800-63B asks at least 8; staff accounts
/// publish, so more).
pub const MIN_PASSWORD: usize = 12;
/// Longest password accepted: argon2 takes any length, but a megabyte "password"
/// is a denial of service.
pub const MAX_PASSWORD: usize = 1024;

/// `" Editor@Example.ORG "` → `"editor@example.org"`; refuses what cannot be an
/// address (and anything that could inject a header: CR, LF, controls, spaces).
pub fn normalize_email(input: &str) -> Result<String, ModelError> {
    let email = input.trim().to_lowercase();
    let invalid = |why| ModelError::Invalid {
        field: "email",
        value: email.chars().take(100).collect(),
        why,
    };
    if email.is_empty() {
        return Err(ModelError::Empty { field: "email" });
    }
    if email.chars().count() > MAX_EMAIL {
        return Err(ModelError::TooLong {
            field: "email",
            len: email.chars().count(),
            max: MAX_EMAIL,
        });
    }
    if email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("addresses have no spaces or control characters"));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err(invalid("an address has an @"));
    };
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with(['.', '-'])
        || domain.ends_with(['.', '-'])
        || domain.contains("..")
        || email.contains(['<', '>', ',', ';', '"', '(', ')', '[', ']', '\\'])
    {
        return Err(invalid("expected an address such as editor@example.org"));
    }
    Ok(email)
}

/// The password rule: long enough, not absurdly long, not the address itself.
pub fn check_password(password: &str, email: &str) -> Result<(), ModelError> {
    let len = password.chars().count();
    if len < MIN_PASSWORD {
        return Err(ModelError::Invalid {
            field: "password",
            value: String::new(),
            why: "use at least 12 characters (a few words make a good one)",
        });
    }
    if len > MAX_PASSWORD {
        return Err(ModelError::TooLong {
            field: "password",
            len,
            max: MAX_PASSWORD,
        });
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(ModelError::Invalid {
            field: "password",
            value: String::new(),
            why: "the password may not be the address",
        });
    }
    Ok(())
}

/// The argon2id PHC string of `password` with `salt` (16 random bytes).
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, ModelError> {
    Argon2::default()
        .hash_password_with_salt(password.as_bytes(), salt)
        .map(|hash| hash.to_string())
        .map_err(|_| ModelError::Invalid {
            field: "password",
            value: String::new(),
            why: "it could not be hashed",
        })
}

/// Whether `password` matches the PHC string `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_order_by_power() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("Admin"), None);
        assert!(Role::Admin > Role::Editor && Role::Editor > Role::Contributor);
    }

    #[test]
    fn addresses_are_normalized_or_refused() {
        assert_eq!(
            normalize_email(" Editor@Example.ORG ").unwrap(),
            "editor@example.org"
        );
        for bad in [
            "",
            "no-at-sign",
            "@example.org",
            "a@b",
            "a@@b.org",
            "a b@example.org",
            "a@example.org\r\nBcc: x@y.org",
            "a@.example.org",
            "a@example..org",
            "\"quoted\"@example.org",
            "a@example.org\u{0}",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_email(&format!("{}@example.org", "a".repeat(300))).is_err());
    }

    #[test]
    fn passwords_follow_the_rule_and_hash_with_argon2id() {
        assert!(check_password("short", "a@b.org").is_err());
        assert!(check_password(&"x".repeat(MAX_PASSWORD + 1), "a@b.org").is_err());
        assert!(check_password("editor@example.org", "Editor@Example.org").is_err());
        assert!(check_password("correct horse battery", "a@b.org").is_ok());
        let hash = hash_password("correct horse battery", &[7; 16]).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
        assert!(!hash.contains("correct"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
        // Another salt, another hash.
        assert_ne!(
            hash,
            hash_password("correct horse battery", &[8; 16]).unwrap()
        );
    }
}
