//! Running or checking the backend's migrations (see `crate::schema`).

use sqlx::migrate::Migrator;

use super::{BackendStore, Db};
use crate::dialect::Dialect;
use crate::schema::{Migrations, SchemaStatus};
use crate::{Result, StoreError};

/// Applies the migrations not yet applied, or (with [`Migrations::Require`])
/// refuses a store that lacks one. Migrations a newer release applied are
/// left alone either way.
pub(in super::super) async fn prepare_schema(
    pool: &sqlx::Pool<Db>,
    mut migrator: Migrator,
    migrations: Migrations,
) -> Result<()> {
    migrator.set_ignore_missing(true);
    match migrations {
        Migrations::Run => Ok(migrator.run(pool).await?),
        Migrations::Require => {
            let status = schema_status(pool, &migrator).await?;
            if status.is_current() {
                Ok(())
            } else {
                Err(StoreError::SchemaBehind {
                    missing: status.missing(),
                })
            }
        }
    }
}

/// The versions applied to the store and those `migrator` carries.
pub(in super::super) async fn schema_status(
    pool: &sqlx::Pool<Db>,
    migrator: &Migrator,
) -> Result<SchemaStatus> {
    let exists: bool = sqlx::query_scalar(<BackendStore as Dialect>::MIGRATIONS_TABLE_EXISTS)
        .fetch_one(pool)
        .await?;
    let applied: Vec<i64> = if exists {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    let mut known: Vec<i64> = migrator.iter().map(|m| m.version).collect();
    known.sort_unstable();
    Ok(SchemaStatus { applied, known })
}
