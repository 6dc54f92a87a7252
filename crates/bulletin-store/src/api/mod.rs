//! What the store offers, without SQL: one trait per kind of caller, and the
//! values they take and return. The backends (`sqlite`, `postgres`) implement
//! every trait; [`store::Store`] is all of them.

pub mod archive;
pub mod import;
pub mod newsroom;
pub mod outbox;
pub mod site;
pub mod staff;
pub mod store;
pub mod subscribers;
