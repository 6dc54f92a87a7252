//! The parts of a complete backup (`bulletin export --format json`), as plain data
//! shared by the store, which reads and restores them, and the importer, which
//! streams them to and from JSON.
//!
//! Times of the archive tables are RFC 3339 in UTC to the second
//! (`2026-11-28T16:30:00Z`): both backends keep that exactly, so a backup taken
//! from SQLite, restored into PostgreSQL and taken again is the same file. The
//! newsroom's times are Unix seconds, as it stores them.

use serde::{Deserialize, Serialize};

use crate::subscriber::{Plan, Subscriber, SubscriberStatus};
use crate::{Date, IssueStatus, Story, StoryJson, staff::Role};

/// The value of a backup's `"format"` key.
pub const BACKUP_FORMAT: &str = "bulletin-backup";
/// The version of the backup layout this build writes and reads.
pub const BACKUP_VERSION: u32 = 1;

/// An issue with everything the newsroom knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupIssue {
    pub number: u32,
    pub date: Option<Date>,
    pub status: IssueStatus,
    /// When a scheduled issue goes live (Unix seconds).
    pub publish_at: Option<i64>,
    /// Its public stories' slugs, in issue order.
    pub stories: Vec<String>,
}

/// A public story with its times and earlier versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupStory {
    pub story: Story,
    pub created_at: String,
    pub updated_at: String,
    /// Oldest first.
    pub revisions: Vec<BackupRevision>,
}

/// An earlier version of a public story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRevision {
    pub number: u32,
    pub replaced_at: String,
    pub story: StoryJson,
}

/// How a draft came to be waiting: "draft", "pending" (for review), "private"
/// (staff only) or "future" (to go live at `publish_at`).
pub const DRAFT_STATUSES: [&str; 4] = ["draft", "pending", "private", "future"];

/// A story that is not public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDraft {
    /// Its `issue`, if any, is the issue it waits in.
    pub story: StoryJson,
    /// One of [`DRAFT_STATUSES`].
    pub status: String,
    /// For "future": when it goes live (Unix seconds).
    pub publish_at: Option<i64>,
    /// Its place in its issue (0 when in none).
    pub issue_position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// One save in the newsroom's history of a story.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupHistory {
    pub slug: String,
    pub number: u32,
    /// The staff account that saved it, by address; `None` for the system.
    pub user: Option<String>,
    pub actor: String,
    pub action: String,
    pub at: i64,
    pub story: StoryJson,
}

/// A staff account. The password hash travels only when asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupUser {
    pub email: String,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

/// A subscriber, without the store's row id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupSubscriber {
    pub email: String,
    pub name: String,
    pub status: SubscriberStatus,
    pub plan: Plan,
    /// Unix seconds.
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
}

impl From<Subscriber> for BackupSubscriber {
    fn from(s: Subscriber) -> BackupSubscriber {
        BackupSubscriber {
            email: s.email,
            name: s.name,
            status: s.status,
            plan: s.plan,
            created_at: s.created_at,
            confirmed_at: s.confirmed_at,
            unsubscribed_at: s.unsubscribed_at,
        }
    }
}

/// An old address answered with a 301 to a new one (both paths on this site).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    pub from: String,
    pub to: String,
}

/// An RFC 3339 time as a backup writes it: UTC, whole seconds. `None` when
/// `text` is not a time.
pub fn backup_time(text: &str) -> Option<String> {
    let t: jiff::Timestamp = text.parse().ok()?;
    let t = t.round(jiff::Unit::Second).ok()?;
    Some(t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backup_times_are_utc_seconds() {
        assert_eq!(
            backup_time("2026-11-28T16:30:00.123456789Z").as_deref(),
            Some("2026-11-28T16:30:00Z")
        );
        assert_eq!(
            backup_time("2026-11-28T18:30:00.6+02:00").as_deref(),
            Some("2026-11-28T16:30:01Z")
        );
        assert_eq!(backup_time("yesterday"), None);
    }
}
