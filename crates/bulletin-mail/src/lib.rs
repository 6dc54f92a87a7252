//! The newsletter: an issue rendered as an email, one copy per recipient.
//!
//! [`render`] makes the subject, an HTML part (tables and inline styles for the
//! common mail clients, dark-mode colours where supported, no scripts, no
//! images) and a plain-text part that is the bulletin text format of the
//! issue's stories, followed by a `-- ` signature line and the links. What a
//! reader sees of each story is decided by the one access rule,
//! `bulletin_core::render::visible_body`: a [`Reader::Free`] gets the headline,
//! dateline and first paragraph of a subscribers' story and an invitation to
//! subscribe; a [`Reader::Paid`] gets every story whole.
//!
//! [`message`] turns a rendered copy into one recipient's message: text and
//! HTML as multipart/alternative, `List-Id`, and one-click unsubscribe
//! (`List-Unsubscribe` and `List-Unsubscribe-Post`, RFC 8058). Names,
//! subjects and addresses with line breaks or other control characters are
//! refused with a [`MailError`] before any message exists. [`send`] sends it.
//!
//! [`sender`] is the newsletter's send engine: an issue from the durable
//! queue (`bulletin_store::Outbox`) to the SMTP server, rate limited, retried,
//! each outcome recorded before a worker takes another row. `bulletin send`
//! and `bulletin serve`'s standing sender run it and word what it reports.
//!
//! ```
//! use bulletin_core::{Access, Copyright, Date, Dateline, Issue, IssueRef, IssueStatus,
//!                     Publication, Story};
//! use bulletin_mail::{Links, Newsletter, Reader};
//!
//! let publication = Publication::default();
//! let issue = Issue {
//!     number: 12,
//!     date: Some(Date::constant(2024, 3, 7)),
//!     status: IssueStatus::Published,
//!     stories: vec!["ferry-line-reopens".into()],
//! };
//! let story = Story {
//!     slug: "ferry-line-reopens".into(),
//!     headline: "Ferry line reopens".into(),
//!     dateline: Dateline { places: vec!["Baku".into()], date: Date::constant(2024, 3, 5),
//!                          year_inferred: false, credit: "The Bulletin".into() },
//!     body: vec!["The ferry sailed again.".into(), "Fares stay the same.".into()],
//!     tags: vec![], countries: vec!["AZ".into()],
//!     issue: Some(IssueRef { number: 12, date: issue.date }),
//!     first_published: false,
//!     copyright: Copyright { holder: publication.name.clone(), year: 2024 },
//!     access: Access::Subscribers,
//! };
//! let stories = [story];
//! let newsletter = Newsletter { publication: &publication, issue: &issue, stories: &stories };
//! let links = Links {
//!     site: "https://bulletin.example.org".into(),
//!     unsubscribe: "https://bulletin.example.org/unsubscribe/t0k3n".into(),
//!     account: "https://bulletin.example.org/account/".into(),
//!     subscribe: "https://bulletin.example.org/subscribe/".into(),
//! };
//!
//! let free = bulletin_mail::render(&newsletter, Reader::Free, &links);
//! assert_eq!(free.subject,
//!            "Central Asia & South Caucasus Bulletin \u{2014} Issue 12, March 7 2024");
//! assert!(free.text.contains("The ferry sailed again."));
//! assert!(!free.text.contains("Fares stay the same."));
//! assert!(!free.html.contains("Fares stay the same."));
//!
//! let from = bulletin_mail::sender(Some("The Bulletin"), "news@bulletin.example.org")?;
//! // The send queue fixes each recipient's Message-ID when it queues the issue.
//! let message = bulletin_mail::message(&free, &from, "reader@example.org", Some("A Reader"),
//!                                      &links, "newsletter.bulletin.example.org",
//!                                      Some("issue-12-17"))?;
//! let raw = String::from_utf8(message.formatted())?;
//! assert!(raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"));
//! assert!(raw.contains("Message-ID: <issue-12-17@bulletin.example.org>\r\n"));
//!
//! // A line break in a name is refused, not encoded.
//! assert!(bulletin_mail::message(&free, &from, "reader@example.org",
//!                                Some("A Reader\r\nBcc: all@example.org"),
//!                                &links, "newsletter.bulletin.example.org", None).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod bounces;
pub mod dkim;
mod error;
pub mod links;
mod message;
mod render;
pub mod sender;
mod smtp;

pub use error::MailError;
pub use message::{message, message_from, sender};
pub use render::{
    INVITATION, Links, Newsletter, Reader, Rendered, SIGNATURE_DELIMITER, render, subject,
};
pub use smtp::{Connection, Mailer, SmtpSettings, SmtpTransport, send, smtp_transport};

/// Re-exported so callers build mailboxes and send messages with the same
/// version this crate uses.
pub use lettre;
