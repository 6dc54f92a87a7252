//! Subscribers: who gets the newsletter and who may read paid text.
//!
//! Payment stays outside bulletin: staff (or an import) set a subscriber's plan.
//! Addresses are normalised as staff addresses are ([`crate::staff::normalize_email`]);
//! names are checked here, because both end up in mail headers.

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// Where a subscriber is in their life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    /// Signed up; the confirmation link has not been followed yet.
    Pending,
    /// Confirmed: gets the newsletter.
    Active,
    /// Asked to get nothing more.
    Unsubscribed,
    /// Mail to the address failed for good (a permanent SMTP answer).
    Bounced,
}

impl SubscriberStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Active => "active",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Bounced => "bounced",
        }
    }

    pub fn parse(s: &str) -> Option<SubscriberStatus> {
        match s {
            "pending" => Some(SubscriberStatus::Pending),
            "active" => Some(SubscriberStatus::Active),
            "unsubscribed" => Some(SubscriberStatus::Unsubscribed),
            "bounced" => Some(SubscriberStatus::Bounced),
            _ => None,
        }
    }
}

/// What a subscriber has paid for (outside bulletin).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Plan {
    #[default]
    Free,
    Paid,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Paid => "paid",
        }
    }

    pub fn parse(s: &str) -> Option<Plan> {
        match s {
            "free" => Some(Plan::Free),
            "paid" => Some(Plan::Paid),
            _ => None,
        }
    }
}

/// One subscriber as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub id: i64,
    /// Lowercase, as [`crate::staff::normalize_email`] makes it.
    pub email: String,
    /// May be empty.
    pub name: String,
    pub status: SubscriberStatus,
    pub plan: Plan,
    /// Unix seconds.
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

impl Subscriber {
    /// The subscriber's side of the one access rule
    /// ([`crate::render::visible_body`]): a paid plan on a confirmed address
    /// reads subscribers' stories whole. An address never confirmed does not,
    /// whatever its plan; unsubscribing from the newsletter does not end what
    /// was paid for.
    pub fn reads_everything(&self) -> bool {
        self.plan == Plan::Paid
            && self.confirmed_at.is_some()
            && self.status != SubscriberStatus::Pending
    }
}

/// Longest name accepted.
pub const MAX_SUBSCRIBER_NAME: usize = 200;

/// A display name fit for a `To:` header: trimmed, at most
/// [`MAX_SUBSCRIBER_NAME`] characters, no control characters (CR and LF would
/// let a name write headers of its own) and no angle brackets or quotes.
pub fn normalize_name(input: &str) -> Result<String, ModelError> {
    let name = input.trim();
    let len = name.chars().count();
    if len > MAX_SUBSCRIBER_NAME {
        return Err(ModelError::TooLong {
            field: "name",
            len,
            max: MAX_SUBSCRIBER_NAME,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ModelError::BadCharacter {
            field: "name",
            what: "line breaks or control characters",
        });
    }
    if name.contains(['<', '>', '"']) {
        return Err(ModelError::BadCharacter {
            field: "name",
            what: "'<', '>' or '\"'",
        });
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_carry_headers() {
        assert_eq!(normalize_name("  Aigerim  ").unwrap(), "Aigerim");
        assert_eq!(normalize_name("").unwrap(), "");
        for bad in [
            "Eve\r\nBcc: all@example.org",
            "Eve\nX",
            "Eve\u{0}",
            "Eve <eve@example.org>",
            "\"Eve\"",
        ] {
            assert!(normalize_name(bad).is_err(), "{bad:?}");
        }
        assert!(normalize_name(&"n".repeat(201)).is_err());
    }

    #[test]
    fn words_round_trip() {
        for s in [
            SubscriberStatus::Pending,
            SubscriberStatus::Active,
            SubscriberStatus::Unsubscribed,
            SubscriberStatus::Bounced,
        ] {
            assert_eq!(SubscriberStatus::parse(s.as_str()), Some(s));
        }
        for p in [Plan::Free, Plan::Paid] {
            assert_eq!(Plan::parse(p.as_str()), Some(p));
        }
        assert_eq!(Plan::parse("gold"), None);
    }
}
