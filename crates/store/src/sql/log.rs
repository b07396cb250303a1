//! The event log: one row (chunk) per group commit, read back in order.

use super::{Dialect, backend};
use crate::chunk::{self, chunk_of, record_seq};
use crate::pii::PiiCipher;
use crate::{EventLog, LogRecord, NewLogRecord, Result, StoreError};
use async_trait::async_trait;
use sqlx::{AnyPool, Row};

pub(crate) struct SqlLog {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    pub(crate) pii: PiiCipher,
}

#[async_trait]
impl EventLog for SqlLog {
    async fn append(&self, records: &[NewLogRecord]) -> Result<()> {
        for part in records.chunks(chunk::MAX_CHUNK_RECORDS) {
            let sealed = part
                .iter()
                .map(|r| self.pii.seal_json(&r.payload))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            let payloads: Vec<&str> = sealed.iter().map(|c| c.as_ref()).collect();
            let body = chunk::encode(part, &payloads);
            let insert =
                sqlx::query("INSERT INTO log_chunks (count, body) VALUES ($1, $2)").bind(part.len() as i64).bind(body);
            match self.dialect {
                // one statement in autocommit: atomic and durable, one round trip
                Dialect::Sqlite => {
                    insert.execute(&self.pool).await.map_err(backend)?;
                }
                Dialect::Postgres => {
                    let mut tx = self.pool.begin().await.map_err(backend)?;
                    // chunk numbers must commit in order, even with several writers
                    sqlx::query("SELECT pg_advisory_xact_lock(7259001)").execute(&mut *tx).await.map_err(backend)?;
                    insert.execute(&mut *tx).await.map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                }
            }
        }
        Ok(())
    }

    /// Whole chunks from the one holding `after + 1`, until at least `limit`
    /// records (a chunk is never split, so a reader may get more).
    async fn read(&self, after: i64, limit: u32) -> Result<Vec<LogRecord>> {
        let mut out = Vec::new();
        let mut from = chunk_of(after);
        while out.len() < limit as usize {
            let row = sqlx::query("SELECT seq, body FROM log_chunks WHERE seq >= $1 ORDER BY seq LIMIT 1")
                .bind(from)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            let Some(row) = row else { break };
            let seq: i64 = row.try_get(0).map_err(backend)?;
            let body: Vec<u8> = row.try_get(1).map_err(backend)?;
            for mut r in chunk::decode(seq, &body)?.into_iter().filter(|r| r.seq > after) {
                r.record.payload =
                    self.pii.open_json(&r.record.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?.into_owned();
                out.push(r);
            }
            from = seq + 1;
        }
        Ok(out)
    }

    async fn head(&self) -> Result<i64> {
        let row = sqlx::query("SELECT seq, count FROM log_chunks ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(r) => {
                let (seq, count): (i64, i64) = (r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?);
                Ok(record_seq(seq, (count.max(1) - 1) as usize))
            }
            None => Ok(0),
        }
    }
}
