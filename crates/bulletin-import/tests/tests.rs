//! One test binary for the crate (see ripgrep): a module per source kind.

mod backup;
mod markdown;
mod wxr;
