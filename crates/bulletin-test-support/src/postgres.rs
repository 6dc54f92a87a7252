//! Scratch PostgreSQL databases: one per test run, dropped afterwards.
//!
//! Test support is the one place besides `bulletin-store` that writes SQL: it
//! creates and drops the scratch databases the store is then opened on.

use sqlx::Connection;

use crate::skip_or_fail;

/// The PostgreSQL server the tests use: `BULLETIN_TEST_POSTGRES_URL`, or this
/// project's machines' default, `postgres://postgres@127.0.0.1:5432/test`.
pub fn postgres_url() -> String {
    std::env::var("BULLETIN_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database of its own for one test, dropped when this value is dropped (also
/// while a test unwinds).
pub struct TempPostgres {
    admin_url: String,
    name: String,
    url: String,
    dropped: bool,
}

impl TempPostgres {
    /// A scratch database on [`postgres_url`]. When the server cannot be reached:
    /// a panic saying how to provide one, or (with `BULLETIN_ALLOW_SKIP=1`) a
    /// counted skip and `None`.
    pub async fn create_or_skip() -> Option<TempPostgres> {
        let admin_url = postgres_url();
        match TempPostgres::create(&admin_url).await {
            Ok(pg) => Some(pg),
            Err(e) => {
                skip_or_fail(
                    &format!("PostgreSQL at {admin_url} is not usable ({e})"),
                    "start PostgreSQL there, or set BULLETIN_TEST_POSTGRES_URL to a \
                     server where this user may create databases",
                );
                None
            }
        }
    }

    /// Creates `bulletin_test_<pid>_<nanos>` on the server of `admin_url`.
    pub async fn create(admin_url: &str) -> Result<TempPostgres, sqlx::Error> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let name = format!("bulletin_test_{}_{}", std::process::id(), nanos);
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        // The name is made above from digits and underscores only.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        let url = with_database(admin_url, &name);
        Ok(TempPostgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
            dropped: false,
        })
    }

    /// The URL of the scratch database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A fresh schema in the scratch database; the returned URL puts it first on
    /// the search path. `schema` must be a plain identifier.
    pub async fn schema(&self, schema: &str) -> Result<String, sqlx::Error> {
        assert!(
            schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
            "schema names are plain identifiers"
        );
        let mut conn = sqlx::PgConnection::connect(&self.url).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let sep = if self.url.contains('?') { '&' } else { '?' };
        Ok(format!(
            "{}{sep}options=-c%20search_path%3D{schema}",
            self.url
        ))
    }

    /// Drops the database now rather than at drop time.
    pub async fn drop_now(mut self) {
        drop_database(&self.admin_url, &self.name).await;
        self.dropped = true;
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Not on the caller's runtime: it may be unwinding, or there may be none.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(drop_database(&admin_url, &name));
            }
        })
        .join();
    }
}

async fn drop_database(admin_url: &str, name: &str) {
    if let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await;
        let _ = admin.close().await;
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[host_start..]
        .find('/')
        .map(|i| host_start + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn the_database_name_is_replaced_and_the_query_kept() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
