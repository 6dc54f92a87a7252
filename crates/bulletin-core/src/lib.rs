//! The bulletin model: publication, issue, story, dateline, tag — plus the small
//! pure helpers every other crate shares (WordPress-compatible slugs, AP-style
//! month names, dateline year inference, the gazetteer of places and countries).
//!
//! This crate does no I/O. Everything here is plain data and pure functions, so the
//! text reader, the store, the web site and the mailer all agree on one model.
//!
//! ```
//! use bulletin_core::{slugify, Month, infer_year};
//! use jiff::civil::date;
//!
//! assert_eq!(slugify("Tajik court imprisons son of opposition leader"),
//!            "tajik-court-imprisons-son-of-opposition-leader");
//! assert_eq!(Month::parse("NOV.").map(Month::number), Some(11));
//! // A DEC. 30 dateline in a Jan. 5 issue belongs to the year before.
//! assert_eq!(infer_year(12, 30, date(2022, 1, 5)), Some(date(2021, 12, 30)));
//! ```

pub mod backup;
mod dates;
mod gazetteer;
mod model;
mod publication;
pub mod redact;
pub mod render;
mod slug;
pub mod staff;
pub mod subscriber;
pub mod token;

pub use dates::{Month, format_issue_date, infer_year, infer_year_from_copyright};
pub use gazetteer::{Country, Gazetteer, Place, countries_in_text, gazetteer, place_display_name};
pub use model::{
    Access, Copyright, Dateline, Issue, IssueRef, IssueStatus, MAX_HEADLINE, MAX_PARAGRAPH,
    ModelError, Story, StoryJson, Tag,
};
pub use publication::{Publication, SettingError, is_loopback_host};
pub use slug::{slugify, unique_slug};

/// Re-exported so callers name dates the same way everywhere.
pub use jiff::civil::Date;
