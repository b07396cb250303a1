//! The event log table: multi-row inserts inside one transaction per group
//! commit, read back in sequence order by the processor.

use super::{Dialect, backend, from_micros, micros};
use crate::{EventLog, LogRecord, NewLogRecord, Result, StoreError};
use async_trait::async_trait;
use beacon_core::message::MessageKind;
use sqlx::AnyPool;
use sqlx::{AssertSqlSafe, Row};

/// Rows per INSERT statement (6 parameters each).
const ROWS_PER_INSERT: usize = 128;

pub(crate) struct SqlLog {
    pub(crate) pool: AnyPool,
    #[allow(dead_code)]
    pub(crate) dialect: Dialect,
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO event_log (source_id, message_id, kind, received_at, ts, payload) VALUES ");
    for r in 0..rows {
        let b = r * 6;
        if r > 0 {
            sql.push(',');
        }
        sql.push_str(&format!("(${},${},${},${},${},${})", b + 1, b + 2, b + 3, b + 4, b + 5, b + 6));
    }
    sql
}

#[async_trait]
impl EventLog for SqlLog {
    async fn append(&self, records: &[NewLogRecord]) -> Result<()> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        for chunk in records.chunks(ROWS_PER_INSERT) {
            let sql = insert_sql(chunk.len());
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.source_id.as_str())
                    .bind(r.message_id.as_str())
                    .bind(r.kind.as_str())
                    .bind(micros(r.received_at))
                    .bind(micros(r.timestamp))
                    .bind(r.payload.as_str());
            }
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn read(&self, after: i64, limit: u32) -> Result<Vec<LogRecord>> {
        let rows = sqlx::query(
            "SELECT seq, source_id, message_id, kind, received_at, ts, payload FROM event_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get("kind").map_err(backend)?;
                Ok(LogRecord {
                    seq: row.try_get("seq").map_err(backend)?,
                    record: NewLogRecord {
                        source_id: row.try_get("source_id").map_err(backend)?,
                        message_id: row.try_get("message_id").map_err(backend)?,
                        kind: MessageKind::parse(&kind)
                            .ok_or_else(|| StoreError::Corrupt(format!("message kind {kind:?}")))?,
                        received_at: from_micros(row.try_get("received_at").map_err(backend)?)?,
                        timestamp: from_micros(row.try_get("ts").map_err(backend)?)?,
                        payload: row.try_get("payload").map_err(backend)?,
                    },
                })
            })
            .collect()
    }

    async fn head(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS head FROM event_log")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        row.try_get::<i64, _>("head").map_err(backend)
    }
}
