//! [`Subscribers`] over one backend, and the import transaction's
//! `put_subscribers` (times are Unix seconds).

use bulletin_core::subscriber::{Plan, Subscriber, SubscriberStatus};
use sqlx::Row as _;

use super::{BackendImport, BackendStore, DbRow, corrupt};
use crate::{
    NewSubscriber, ReaderSession, Result, StoreError, SubscriberPut, SubscriberQuery, Subscribers,
};

const COLUMNS: &str = "id, email, name, status, plan, created_at, confirmed_at,
    unsubscribed_at";

fn subscriber_row(row: &DbRow) -> Result<Subscriber> {
    let status: String = row.try_get("status")?;
    let plan: String = row.try_get("plan")?;
    Ok(Subscriber {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        status: SubscriberStatus::parse(&status)
            .ok_or_else(|| corrupt(format_args!("subscriber status {status:?}")))?,
        plan: Plan::parse(&plan)
            .ok_or_else(|| corrupt(format_args!("subscriber plan {plan:?}")))?,
        created_at: row.try_get("created_at")?,
        confirmed_at: row.try_get("confirmed_at")?,
        unsubscribed_at: row.try_get("unsubscribed_at")?,
    })
}

/// The filters of `q` as SQL over `$1` (status) and `$2` (plan).
const FILTER: &str = "($1 = '' OR status = $1) AND ($2 = '' OR plan = $2)";

fn filter_binds(q: &SubscriberQuery) -> (&'static str, &'static str) {
    (
        q.status.map_or("", SubscriberStatus::as_str),
        q.plan.map_or("", Plan::as_str),
    )
}

/// Timestamps that follow a status change.
const STATUS_TIMES: &str = "
    confirmed_at = CASE WHEN $1 = 'active' AND confirmed_at IS NULL
                        THEN $3 ELSE confirmed_at END,
    unsubscribed_at = CASE WHEN $1 = 'unsubscribed' THEN $3
                           WHEN $1 = 'active' THEN NULL
                           ELSE unsubscribed_at END";

impl BackendImport {
    pub(crate) async fn put_subscribers_sql(
        &mut self,
        subscribers: Vec<NewSubscriber>,
        now: i64,
    ) -> Result<Vec<SubscriberPut>> {
        let mut out = Vec::with_capacity(subscribers.len());
        for new in subscribers {
            let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE email = $1");
            let existing = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(&new.email)
                .fetch_optional(&mut *self.tx)
                .await?
                .map(|row| subscriber_row(&row))
                .transpose()?;
            let Some(old) = existing else {
                insert(&mut self.tx, &new, now).await?;
                out.push(SubscriberPut::Added);
                continue;
            };
            let kept_out = matches!(
                old.status,
                SubscriberStatus::Unsubscribed | SubscriberStatus::Bounced
            );
            let status = if kept_out { old.status } else { new.status };
            let name = if new.name.is_empty() {
                old.name.clone()
            } else {
                new.name.clone()
            };
            if (status, new.plan, &name) == (old.status, old.plan, &old.name) {
                out.push(if kept_out && new.status != old.status {
                    SubscriberPut::KeptOut
                } else {
                    SubscriberPut::Unchanged
                });
                continue;
            }
            let sql = format!(
                "UPDATE subscribers SET status = $1, plan = $2, updated_at = $3,
                     name = $4, {STATUS_TIMES}
                 WHERE email = $5"
            );
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(status.as_str())
                .bind(new.plan.as_str())
                .bind(now)
                .bind(&name)
                .bind(&new.email)
                .execute(&mut *self.tx)
                .await?;
            out.push(if kept_out && new.status != old.status {
                SubscriberPut::KeptOut
            } else {
                SubscriberPut::Updated
            });
        }
        Ok(out)
    }
}

async fn insert(tx: &mut super::Tx, new: &NewSubscriber, now: i64) -> Result<()> {
    let active = new.status == SubscriberStatus::Active;
    sqlx::query(
        "INSERT INTO subscribers (email, name, status, plan, created_at, updated_at,
             confirmed_at, unsubscribed_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
    )
    .bind(&new.email)
    .bind(&new.name)
    .bind(new.status.as_str())
    .bind(new.plan.as_str())
    .bind(now)
    .bind(active.then_some(now))
    .bind((new.status == SubscriberStatus::Unsubscribed).then_some(now))
    .execute(&mut **tx)
    .await
    .map_err(|e| crate::rows::duplicate(e, "subscriber", &new.email))?;
    Ok(())
}

#[async_trait::async_trait]
impl Subscribers for BackendStore {
    async fn add_subscriber(&self, new: &NewSubscriber, now: i64) -> Result<Subscriber> {
        let mut import = self.begin_newsroom().await?;
        insert(&mut import.tx, new, now).await?;
        import.tx.commit().await?;
        self.subscriber(&new.email)
            .await?
            .ok_or_else(|| StoreError::NotFound {
                what: "subscriber",
                key: new.email.clone(),
            })
    }

    async fn subscriber(&self, email: &str) -> Result<Option<Subscriber>> {
        let sql = format!("SELECT {COLUMNS} FROM subscribers WHERE email = $1");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| subscriber_row(&row))
            .transpose()
    }

    async fn set_subscriber_status(
        &self,
        email: &str,
        status: SubscriberStatus,
        now: i64,
    ) -> Result<bool> {
        let sql = format!(
            "UPDATE subscribers SET status = $1, updated_at = $3, {STATUS_TIMES}
             WHERE email = $2"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status.as_str())
            .bind(email)
            .bind(now)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(done > 0)
    }

    async fn set_subscriber_plan(&self, email: &str, plan: Plan, now: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE subscribers SET plan = $1, updated_at = $2 WHERE email = $3")
                .bind(plan.as_str())
                .bind(now)
                .bind(email)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(done > 0)
    }

    async fn subscribers(&self, q: &SubscriberQuery) -> Result<Vec<Subscriber>> {
        let (status, plan) = filter_binds(q);
        let limit = if q.limit == 0 {
            10_000
        } else {
            q.limit.min(10_000)
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM subscribers WHERE {FILTER} AND id > $3
             ORDER BY id LIMIT $4"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(plan)
            .bind(q.after)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(subscriber_row)
            .collect()
    }

    async fn site_secret(&self, name: &str, candidate: &str, now: i64) -> Result<String> {
        sqlx::query(
            "INSERT INTO site_secrets (name, value, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(candidate)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT value FROM site_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn spend_token(&self, nonce: &str, expires_at: i64, now: i64) -> Result<bool> {
        let mut import = self.begin_newsroom().await?;
        sqlx::query("DELETE FROM spent_tokens WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *import.tx)
            .await?;
        let spent = sqlx::query(
            "INSERT INTO spent_tokens (nonce, expires_at) VALUES ($1, $2)
             ON CONFLICT (nonce) DO NOTHING",
        )
        .bind(nonce)
        .bind(expires_at)
        .execute(&mut *import.tx)
        .await?
        .rows_affected();
        import.tx.commit().await?;
        Ok(spent == 1)
    }

    async fn set_subscriber_name(&self, email: &str, name: &str, now: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE subscribers SET name = $1, updated_at = $2 WHERE email = $3")
                .bind(name)
                .bind(now)
                .bind(email)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(done > 0)
    }

    async fn create_reader_session(
        &self,
        id_hash: &str,
        subscriber_id: i64,
        csrf_token: &str,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO reader_sessions (id_hash, subscriber_id, csrf_token,
                 created_at, last_seen_at)
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(id_hash)
        .bind(subscriber_id)
        .bind(csrf_token)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn reader_session(&self, id_hash: &str) -> Result<Option<ReaderSession>> {
        let columns = COLUMNS
            .split(',')
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, r.csrf_token, r.created_at AS session_created_at,
                    r.last_seen_at
             FROM reader_sessions r JOIN subscribers s ON s.id = r.subscriber_id
             WHERE r.id_hash = $1"
        );
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id_hash)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(ReaderSession {
            subscriber: subscriber_row(&row)?,
            csrf_token: row.try_get("csrf_token")?,
            created_at: row.try_get("session_created_at")?,
            last_seen_at: row.try_get("last_seen_at")?,
        }))
    }

    async fn touch_reader_session(&self, id_hash: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE reader_sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_reader_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM reader_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn delete_reader_sessions(&self, subscriber_id: i64) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM reader_sessions WHERE subscriber_id = $1")
                .bind(subscriber_id)
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    async fn feed_nonce(&self, email: &str) -> Result<Option<String>> {
        let nonce: Option<Option<String>> =
            sqlx::query_scalar("SELECT feed_nonce FROM subscribers WHERE email = $1")
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
        Ok(nonce.flatten())
    }

    async fn set_feed_nonce(&self, email: &str, nonce: Option<&str>, now: i64) -> Result<bool> {
        let done =
            sqlx::query("UPDATE subscribers SET feed_nonce = $1, updated_at = $2 WHERE email = $3")
                .bind(nonce)
                .bind(now)
                .bind(email)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(done > 0)
    }

    async fn count_subscribers(&self, q: &SubscriberQuery) -> Result<u64> {
        let (status, plan) = filter_binds(q);
        let sql = format!("SELECT count(*) FROM subscribers WHERE {FILTER}");
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(status)
            .bind(plan)
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
