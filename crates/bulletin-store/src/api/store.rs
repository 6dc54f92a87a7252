//! [`Store`]: every part of the store in one trait, for callers that need it all.

use crate::{Archive, Import, Newsroom, Outbox, PublicSite, StaffAccounts, Subscribers};

/// The single source of truth: every part of the store. Implementations: SQLite
/// and PostgreSQL.
///
/// It adds nothing to its parts, and everything that implements them all is a
/// `Store`. A caller that needs one part takes that part (the search index takes
/// [`PublicSite`]); an `Arc<dyn Store>` gives it by upcasting.
pub trait Store:
    PublicSite + Import + StaffAccounts + Newsroom + Archive + Subscribers + Outbox + Send + Sync
{
}

impl<T> Store for T where
    T: PublicSite
        + Import
        + StaffAccounts
        + Newsroom
        + Archive
        + Subscribers
        + Outbox
        + Send
        + Sync
        + ?Sized
{
}
