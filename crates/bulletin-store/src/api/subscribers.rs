//! Subscribers: sign-ups, confirmation, plans, unsubscribing, and imports of lists
//! from elsewhere (times are Unix seconds).
//!
//! Consent is kept by the store, not by callers: nothing but the subscriber's own
//! confirmation makes a pending address active through [`Subscribers`], and an
//! import never brings back an address that unsubscribed or bounced.

use async_trait::async_trait;
use bulletin_core::subscriber::{Plan, Subscriber, SubscriberStatus};

use crate::Result;

/// A subscriber to add or update. `email` as
/// [`bulletin_core::staff::normalize_email`] makes it, `name` as
/// [`bulletin_core::subscriber::normalize_name`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscriber {
    pub email: String,
    pub name: String,
    pub plan: Plan,
    pub status: SubscriberStatus,
}

/// What [`crate::ImportTx::put_subscribers`] did with one subscriber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberPut {
    Added,
    Updated,
    Unchanged,
    /// Known as unsubscribed or bounced: plan and name updated, status kept (an
    /// import is not consent).
    KeptOut,
}

/// Which subscribers to list or count; every filter that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriberQuery {
    pub status: Option<SubscriberStatus>,
    pub plan: Option<Plan>,
    /// Keyset paging: ids above this (0: from the start).
    pub after: i64,
    /// Page size; capped at 10,000 (0 also means 10,000).
    pub limit: u32,
}

#[async_trait]
pub trait Subscribers: Send + Sync {
    /// Adds a subscriber; a known address is [`crate::StoreError::Duplicate`].
    async fn add_subscriber(&self, new: &NewSubscriber, now: i64) -> Result<Subscriber>;
    async fn subscriber(&self, email: &str) -> Result<Option<Subscriber>>;
    /// Moves a subscriber to `status`; the first move to active records when it
    /// was confirmed, a move to unsubscribed when. `false`: no such subscriber.
    async fn set_subscriber_status(
        &self,
        email: &str,
        status: SubscriberStatus,
        now: i64,
    ) -> Result<bool>;
    /// `false`: no such subscriber.
    async fn set_subscriber_plan(&self, email: &str, plan: Plan, now: i64) -> Result<bool>;
    /// By id, after `query.after`.
    async fn subscribers(&self, query: &SubscriberQuery) -> Result<Vec<Subscriber>>;
    /// How many match the filters (`after` and `limit` ignored).
    async fn count_subscribers(&self, query: &SubscriberQuery) -> Result<u64>;
    /// The site's secret called `name`: `candidate` (fresh random bytes, hex or
    /// base64) if none is stored yet, else the one stored. Instances racing on one
    /// database all get the same one.
    async fn site_secret(&self, name: &str, candidate: &str, now: i64) -> Result<String>;
    /// Spends a single-use token's nonce: `true` the first time, `false` ever
    /// after (until `expires_at`, past which the token is refused anyway and
    /// its nonce is forgotten).
    async fn spend_token(&self, nonce: &str, expires_at: i64, now: i64) -> Result<bool>;
    /// `false`: no such subscriber. `name` as
    /// [`bulletin_core::subscriber::normalize_name`] makes it.
    async fn set_subscriber_name(&self, email: &str, name: &str, now: i64) -> Result<bool>;

    /// Starts a signed-in subscriber's session (a magic link was used).
    async fn create_reader_session(
        &self,
        id_hash: &str,
        subscriber_id: i64,
        csrf_token: &str,
        now: i64,
    ) -> Result<()>;
    /// The session with this id hash and its subscriber as they are now.
    async fn reader_session(&self, id_hash: &str) -> Result<Option<ReaderSession>>;
    async fn touch_reader_session(&self, id_hash: &str, now: i64) -> Result<()>;
    async fn delete_reader_session(&self, id_hash: &str) -> Result<()>;
    /// Signs a subscriber out everywhere; how many sessions ended.
    async fn delete_reader_sessions(&self, subscriber_id: i64) -> Result<u64>;

    /// The nonce of the subscriber's private feed token, if they have one.
    async fn feed_nonce(&self, email: &str) -> Result<Option<String>>;
    /// Sets (a new address; the old one stops working) or clears the private
    /// feed's nonce. `false`: no such subscriber.
    async fn set_feed_nonce(&self, email: &str, nonce: Option<&str>, now: i64) -> Result<bool>;
}

/// A signed-in subscriber's session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderSession {
    pub subscriber: Subscriber,
    /// Every state-changing form of the account page carries it.
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}
