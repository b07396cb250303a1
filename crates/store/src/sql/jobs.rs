//! The outbox, timers and leases (`crate::JobStore`) on both stores.
//!
//! A claim is one statement: it picks the due, unleased rows and leases
//! them. On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`, so claimers on
//! several nodes take different rows without waiting on each other; on
//! SQLite writes are serialised anyway (one process, `BEGIN IMMEDIATE`).

use super::SqlDialect as _;
use super::promotions::Tx;
use super::{Dialect, SqlStore, backend, from_micros, micros};
use crate::{ClaimedJob, JobStore, NewJob, PiiCipher, Queue, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{AssertSqlSafe, Row};

/// Rows per multi-row insert.
const ROWS: usize = 100;

fn table(queue: Queue) -> &'static str {
    match queue {
        Queue::Outbox => "outbox",
        Queue::Timers => "timers",
    }
}

fn seal(pii: &PiiCipher, payload: &serde_json::Value) -> Result<String> {
    pii.seal_json(&payload.to_string()).map(|t| t.into_owned()).map_err(|e| StoreError::Backend(e.to_string()))
}

/// What inserting a job whose key is held does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Held {
    /// Nothing: the job is there (an outbox message added once).
    Keep,
    /// Moves it to the new time and payload (a timer set again).
    Move,
    /// Moves it only if the new time is sooner than a time still to come.
    Sooner,
}

/// Inserts jobs inside `tx` (a key held: `held`). Returns the rows written.
pub(super) async fn insert(
    tx: &mut Tx,
    dialect: Dialect,
    pii: &PiiCipher,
    queue: Queue,
    jobs: &[NewJob],
    held: Held,
    now: DateTime<Utc>,
) -> Result<u64> {
    let t = table(queue);
    // (`Sooner` keeps a pending job's sooner time, but not that of the run
    // in hand — leased and its lease running, `created_at` being now —:
    // a timer's handler that sets the next timer of its key would
    // otherwise set it again to its own, past, time, for ever)
    let due = match held {
        Held::Sooner => format!(
            "CASE WHEN {t}.done_at IS NULL AND {t}.due_at < excluded.due_at \
             AND ({t}.lease_owner IS NULL OR {t}.lease_until <= excluded.created_at) \
             THEN {t}.due_at ELSE excluded.due_at END"
        ),
        _ => "excluded.due_at".to_string(),
    };
    let on_conflict = match held {
        Held::Keep => "ON CONFLICT (job_key) DO NOTHING".to_string(),
        Held::Move | Held::Sooner => format!(
            "ON CONFLICT (job_key) DO UPDATE SET topic = excluded.topic, payload = excluded.payload, \
             due_at = {due}, attempts = 0, lease_owner = NULL, lease_until = NULL, last_error = NULL, \
             done_at = NULL"
        ),
    };
    let reschedule = held != Held::Keep;
    // PostgreSQL refuses one upsert that touches a row twice: of a key set
    // twice in one call, the last wins
    let mut unique: Vec<&NewJob> = jobs.iter().collect();
    if reschedule {
        let mut seen = std::collections::HashSet::new();
        unique = jobs.iter().rev().filter(|j| seen.insert(j.key.as_str())).collect();
        unique.reverse();
    }
    // (of a key set twice: `Sooner` keeps the sooner time)
    let mut soonest: std::collections::HashMap<&str, DateTime<Utc>> = Default::default();
    for j in jobs.iter().filter(|_| held == Held::Sooner) {
        let at = soonest.entry(j.key.as_str()).or_insert(j.due_at);
        *at = (*at).min(j.due_at);
    }
    let mut written = 0;
    for part in unique.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO {} (job_key, topic, payload, due_at, created_at) VALUES {} {on_conflict}",
            table(queue),
            dialect.rows(part.len(), 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for j in part.iter() {
            q = q
                .bind(j.key.clone())
                .bind(j.topic.clone())
                .bind(seal(pii, &j.payload)?)
                .bind(micros(if held == Held::Sooner { soonest[j.key.as_str()] } else { j.due_at }))
                .bind(micros(now));
        }
        written += q.execute(&mut **tx).await.map_err(backend)?.rows_affected();
    }
    Ok(written)
}

impl SqlStore {
    /// One statement in its own write transaction; returns the rows it changed.
    /// Runs one write; `bookkeeping`: on the pool whose commits are not
    /// fsynced one by one (see `SqlStore::bookkeeping_pool`).
    async fn write_one(&self, sql: String, binds: Vec<Bind>, bookkeeping: bool) -> Result<u64> {
        let pool = if bookkeeping { &self.bookkeeping_pool } else { &self.pool };
        let (_write, mut tx) = self.begin_write(pool).await?;
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::Text(s) => q.bind(s),
                Bind::Int(n) => q.bind(n),
            };
        }
        let n = q.execute(&mut *tx).await.map_err(backend)?.rows_affected();
        tx.commit().await.map_err(backend)?;
        Ok(n)
    }
}

enum Bind {
    Text(String),
    Int(i64),
}

fn text(s: &str) -> Bind {
    Bind::Text(s.to_string())
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue(&self, queue: Queue, jobs: &[NewJob]) -> Result<usize> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let n = insert(&mut tx, self.dialect, &self.pii, queue, jobs, Held::Keep, Utc::now()).await?;
        tx.commit().await.map_err(backend)?;
        Ok(n as usize)
    }

    async fn schedule(&self, queue: Queue, jobs: &[NewJob]) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        insert(&mut tx, self.dialect, &self.pii, queue, jobs, Held::Move, Utc::now()).await?;
        tx.commit().await.map_err(backend)
    }

    async fn cancel(&self, queue: Queue, key: &str) -> Result<bool> {
        let sql = format!("DELETE FROM {} WHERE job_key = $1 AND done_at IS NULL", table(queue));
        Ok(self.write_one(sql, vec![text(key)], false).await? > 0)
    }

    async fn claim(
        &self,
        queue: Queue,
        topic: &str,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>> {
        let t = table(queue);
        let lock = self.dialect.skip_locked();
        let sql = format!(
            "UPDATE {t} SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 WHERE job_key IN \
             (SELECT job_key FROM {t} WHERE topic = $3 AND done_at IS NULL AND due_at <= $4 \
              AND (lease_until IS NULL OR lease_until <= $5) ORDER BY due_at, job_key LIMIT {} {lock}) \
             RETURNING job_key, topic, payload, due_at, attempts, lease_until",
            limit.max(1)
        );
        if self.dialect == Dialect::Sqlite {
            // nothing due is the common case: look without the write lock first
            let any = format!(
                "SELECT 1 FROM {t} WHERE topic = $1 AND done_at IS NULL AND due_at <= $2 \
                 AND (lease_until IS NULL OR lease_until <= $3) LIMIT 1"
            );
            let found = sqlx::query(AssertSqlSafe(any))
                .bind(topic)
                .bind(micros(now))
                .bind(micros(now))
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            if found.is_none() {
                return Ok(Vec::new());
            }
        }
        let (_write, mut tx) = self.begin_write(&self.bookkeeping_pool).await?;
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner)
            .bind(micros(now + lease))
            .bind(topic)
            .bind(micros(now))
            .bind(micros(now))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let payload: String = row.try_get("payload").map_err(backend)?;
            let payload = self.pii.open_json(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            out.push(ClaimedJob {
                key: row.try_get("job_key").map_err(backend)?,
                topic: row.try_get("topic").map_err(backend)?,
                payload: serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                due_at: from_micros(row.try_get("due_at").map_err(backend)?)?,
                attempts: row.try_get("attempts").map_err(backend)?,
                lease_until: from_micros(row.try_get("lease_until").map_err(backend)?)?,
            });
        }
        out.sort_by(|a, b| (a.due_at, &a.key).cmp(&(b.due_at, &b.key)));
        Ok(out)
    }

    async fn complete(&self, queue: Queue, key: &str, owner: &str, now: DateTime<Utc>) -> Result<bool> {
        let sql = format!(
            "UPDATE {} SET done_at = $1, lease_owner = NULL, lease_until = NULL \
             WHERE job_key = $2 AND lease_owner = $3 AND done_at IS NULL",
            table(queue)
        );
        Ok(self.write_one(sql, vec![Bind::Int(micros(now)), text(key), text(owner)], true).await? > 0)
    }

    async fn retry(&self, queue: Queue, key: &str, owner: &str, error: &str, at: DateTime<Utc>) -> Result<bool> {
        let sql = format!(
            "UPDATE {} SET due_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL \
             WHERE job_key = $3 AND lease_owner = $4 AND done_at IS NULL",
            table(queue)
        );
        let error: String = error.chars().take(1000).collect();
        let binds = vec![Bind::Int(micros(at)), Bind::Text(error), text(key), text(owner)];
        Ok(self.write_one(sql, binds, true).await? > 0)
    }

    async fn purge_done(&self, queue: Queue, before: DateTime<Utc>, limit: u32) -> Result<u64> {
        let t = table(queue);
        let sql = format!(
            "DELETE FROM {t} WHERE job_key IN \
             (SELECT job_key FROM {t} WHERE done_at IS NOT NULL AND done_at < $1 LIMIT {})",
            limit.max(1)
        );
        self.write_one(sql, vec![Bind::Int(micros(before))], true).await
    }

    async fn pending(&self, queue: Queue, topic: &str) -> Result<i64> {
        let sql = format!("SELECT COUNT(*) FROM {} WHERE topic = $1 AND done_at IS NULL", table(queue));
        let row = sqlx::query(AssertSqlSafe(sql)).bind(topic).fetch_one(&self.pool).await.map_err(backend)?;
        row.try_get(0).map_err(backend)
    }

    async fn pending_due(&self, queue: Queue, topic: &str, now: DateTime<Utc>) -> Result<i64> {
        let sql =
            format!("SELECT COUNT(*) FROM {} WHERE topic = $1 AND done_at IS NULL AND due_at <= $2", table(queue));
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(topic)
            .bind(micros(now))
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        row.try_get(0).map_err(backend)
    }

    async fn acquire_lease(&self, name: &str, owner: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> Result<bool> {
        let sql = "INSERT INTO leases (name, owner, until_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until_at = excluded.until_at \
                   WHERE leases.owner = excluded.owner OR leases.until_at <= $4";
        let binds = vec![text(name), text(owner), Bind::Int(micros(until)), Bind::Int(micros(now))];
        Ok(self.write_one(sql.to_string(), binds, true).await? > 0)
    }

    async fn leases(&self, prefix: &str, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
        // the table is a few rows per node: filtered here, free of collations and LIKE's wildcards
        let rows = sqlx::query("SELECT name, owner FROM leases WHERE until_at > $1 ORDER BY name")
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut out = Vec::new();
        for r in &rows {
            let name: String = r.try_get(0).map_err(backend)?;
            if name.starts_with(prefix) {
                out.push((name, r.try_get(1).map_err(backend)?));
            }
        }
        out.sort();
        Ok(out)
    }

    async fn release_lease(&self, name: &str, owner: &str) -> Result<()> {
        let sql = "DELETE FROM leases WHERE name = $1 AND owner = $2";
        self.write_one(sql.to_string(), vec![text(name), text(owner)], true).await.map(drop)
    }
}
