//! WordPress's post statuses and dates: which posts become stories and with what
//! status, and WordPress's way of writing a date.

use jiff::Timestamp;

use crate::PostStatus;

/// What a post's `<wp:status>` (with its password) makes of it.
#[derive(Debug, PartialEq)]
pub(super) enum Decision {
    /// Imported with this status; the warnings say what was changed on the way.
    Import {
        status: PostStatus,
        warnings: Vec<String>,
    },
    /// Not imported: the kind it is counted under, and why.
    Skip {
        kind: &'static str,
        reason: &'static str,
    },
}

/// The status of a post whose `<wp:status>` is `word`; `scheduled_at` is when it
/// is due if it is scheduled. A password-protected post that readers would see is
/// imported as private (staff only).
pub(super) fn decide(word: &str, scheduled_at: Option<Timestamp>, has_password: bool) -> Decision {
    let mut warnings = Vec::new();
    let mut status = match word {
        "publish" => PostStatus::Published,
        "draft" => PostStatus::Draft,
        "pending" => PostStatus::Pending,
        "private" => PostStatus::Private,
        "future" => match scheduled_at {
            Some(at) => PostStatus::Scheduled(at),
            None => {
                warnings.push(
                    "it is scheduled but gives no time; it is imported as a draft".to_owned(),
                );
                PostStatus::Draft
            }
        },
        "trash" => {
            return Decision::Skip {
                kind: "trash",
                reason: "it is in WordPress's trash",
            };
        }
        "auto-draft" => {
            return Decision::Skip {
                kind: "auto-draft",
                reason: "WordPress made it automatically and nobody wrote in it",
            };
        }
        other => {
            warnings.push(format!(
                "its status “{other}” is not one WordPress has; it is imported as a draft"
            ));
            PostStatus::Draft
        }
    };
    if has_password && matches!(status, PostStatus::Published | PostStatus::Scheduled(_)) {
        warnings.push(
            "it is password-protected in WordPress; it is imported as private (staff only)"
                .to_owned(),
        );
        status = PostStatus::Private;
    }
    Decision::Import { status, warnings }
}

/// `2013-01-11 20:22:19` (WordPress's format); `None` for `0000-00-00 00:00:00`
/// (WordPress's "no date") or anything unreadable.
pub(super) fn wp_datetime(text: &str) -> Option<jiff::civil::DateTime> {
    let text = text.trim();
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
        .or_else(|_| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M", text))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(
            wp_datetime("2013-01-11 20:22:19"),
            Some(jiff::civil::date(2013, 1, 11).at(20, 22, 19, 0))
        );
        assert_eq!(wp_datetime("0000-00-00 00:00:00"), None);
        assert_eq!(wp_datetime("junk"), None);
    }

    #[test]
    fn statuses() {
        let imported = |word, at, password| match decide(word, at, password) {
            Decision::Import { status, warnings } => (status, warnings.len()),
            skip => panic!("{word}: {skip:?}"),
        };
        assert_eq!(imported("publish", None, false), (PostStatus::Published, 0));
        assert_eq!(imported("publish", None, true), (PostStatus::Private, 1));
        assert_eq!(imported("future", None, false), (PostStatus::Draft, 1));
        let at = Timestamp::UNIX_EPOCH;
        assert_eq!(
            imported("future", Some(at), false),
            (PostStatus::Scheduled(at), 0)
        );
        assert_eq!(imported("future", Some(at), true), (PostStatus::Private, 1));
        assert_eq!(imported("draft", None, true), (PostStatus::Draft, 0));
        assert_eq!(imported("inherit", None, false), (PostStatus::Draft, 1));
        assert!(matches!(
            decide("trash", None, false),
            Decision::Skip { kind: "trash", .. }
        ));
    }
}
