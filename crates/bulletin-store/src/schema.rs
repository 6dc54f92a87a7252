//! The store's schema against this release's migrations. By default opening a
//! store migrates it; an operator who upgrades several instances runs
//! `bulletin migrate` once and starts the new release with `serve
//! --no-migrate`, which opens with [`Migrations::Require`].
//!
//! **Migrations are additive** (new tables, new columns with defaults, new
//! indexes), so an instance of the previous release keeps working on a schema
//! a newer release migrated; stores are opened tolerating migrations they do
//! not know. (Checked by `tests/upgrade.rs`.)

/// What opening a store does about migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Migrations {
    /// Apply the ones not yet applied.
    #[default]
    Run,
    /// Apply none; refuse a store that lacks one ([`crate::StoreError::SchemaBehind`]).
    Require,
}

/// Where a store's schema stands against this release's migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// Versions applied to the store, ascending.
    pub applied: Vec<i64>,
    /// Versions this release carries, ascending.
    pub known: Vec<i64>,
}

impl SchemaStatus {
    /// This release's migrations the store lacks.
    pub fn missing(&self) -> Vec<i64> {
        self.known
            .iter()
            .copied()
            .filter(|v| !self.applied.contains(v))
            .collect()
    }

    /// Migrations a newer release applied, which this one does not know.
    pub fn newer(&self) -> Vec<i64> {
        self.applied
            .iter()
            .copied()
            .filter(|v| !self.known.contains(v))
            .collect()
    }

    /// Whether every migration of this release is applied.
    pub fn is_current(&self) -> bool {
        self.missing().is_empty()
    }
}
