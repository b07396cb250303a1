//! Dedupe keys of processed messages ([`EventKey`]), 16 bytes each: the
//! message's own time in ms (6 bytes, big-endian), then 10 bytes of a keyed
//! hash of its source and messageId. Messages that arrive together carry
//! times close together, so a batch's keys land side by side in the index:
//! a batch writes (and its lookups read) a few pages at the index's right
//! edge, not one page per key scattered over an index as large as the
//! event history. Nobody without the store's key can craft a messageId whose
//! key collides with another's.
//!
//! Stores written before (`meta.event_key_format` not `2`) keyed by the hash
//! alone: [`SqlStore::upgrade_event_keys`] rebuilds their keys at open from
//! the events' bodies in the log, in one transaction.

use super::process::SqlProcessTx;
use super::{Dialect, SqlDialect as _, SqlStore, backend};
use crate::pii::PiiCipher;
use crate::{EventKey, Result};
use sqlx::{AssertSqlSafe, Row};

/// The `meta` entry saying which key format `event_keys` holds.
const FORMAT: &str = "event_key_format";

/// Rows per statement.
const ROWS: usize = 800;

/// The stored key of a message.
pub(crate) fn event_key(pii: &PiiCipher, k: &EventKey) -> Vec<u8> {
    let len = (k.source_id.len() as u64).to_le_bytes();
    let hash = pii.keyed_hash(&[b"event\0", &len, k.source_id.as_bytes(), k.message_id.as_bytes()]);
    let ms = k.sent_ms.unwrap_or(0).clamp(0, (1 << 48) - 1).to_be_bytes();
    let mut key = Vec::with_capacity(16);
    key.extend_from_slice(&ms[2..]);
    key.extend_from_slice(&hash[..10]);
    key
}

/// Inserts keys; `tolerant`: one already there is left as it is (a
/// rebuild), else it fails the statement (the processor never writes a key
/// twice).
async fn insert_keys(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    dialect: Dialect,
    keys: &[Vec<u8>],
    tolerant: bool,
) -> Result<()> {
    let (insert, conflict) =
        if tolerant { ("INSERT", " ON CONFLICT (key) DO NOTHING") } else { (dialect.bulk_insert(), "") };
    for part in keys.chunks(ROWS) {
        let sql = format!("{insert} INTO event_keys (key) VALUES {}{conflict}", dialect.rows(part.len(), 1));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for key in part {
            q = q.bind(key.as_slice());
        }
        q.execute(&mut **tx).await.map_err(backend)?;
    }
    Ok(())
}

impl SqlProcessTx {
    /// Records the batch's messages as processed (the keys `seen` hashed
    /// are taken from its cache).
    pub(super) async fn write_keys(&mut self, keys: &[EventKey]) -> Result<()> {
        let bytes: Vec<Vec<u8>> =
            keys.iter().map(|k| self.keys.remove(k).unwrap_or_else(|| event_key(&self.pii, k))).collect();
        insert_keys(&mut self.tx, self.dialect, &bytes, false).await
    }
}

impl SqlStore {
    /// Rebuilds the dedupe keys of a store written before the current key
    /// format, from the processed events' bodies in the log; returns how
    /// many it wrote.
    pub(super) async fn upgrade_event_keys(&self) -> Result<usize> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        if self.dialect == Dialect::Postgres {
            // two nodes starting at once: the second waits, then finds it done
            sqlx::query("LOCK TABLE event_keys IN ACCESS EXCLUSIVE MODE").execute(&mut *tx).await.map_err(backend)?;
        }
        let format: Option<String> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT value FROM meta WHERE key = '{FORMAT}'")))
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if format.as_deref() == Some("2") {
            return Ok(0);
        }
        sqlx::query("DELETE FROM event_keys").execute(&mut *tx).await.map_err(backend)?;
        let (mut after, mut written) = (i64::MIN, 0);
        loop {
            let rows = sqlx::query("SELECT seq FROM events WHERE seq > $1 ORDER BY seq LIMIT 5000")
                .bind(after)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
            let seqs: Vec<i64> = rows.iter().map(|r| r.try_get(0).map_err(backend)).collect::<Result<_>>()?;
            let Some(last) = seqs.last() else { break };
            after = *last;
            let bodies = self.log.records_at(&seqs).await?;
            let keys: Vec<Vec<u8>> = seqs
                .iter()
                .filter_map(|s| bodies.get(s))
                .map(|r| {
                    let k = EventKey {
                        source_id: r.record.source_id.clone(),
                        message_id: r.record.message_id.clone(),
                        sent_ms: beacon_core::extract::sent_ms_of(&r.record.payload),
                    };
                    event_key(&self.pii, &k)
                })
                .collect();
            written += keys.len();
            insert_keys(&mut tx, self.dialect, &keys, true).await?;
        }
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO meta (key, value) VALUES ('{FORMAT}', '2') ON CONFLICT (key) DO UPDATE SET value = '2'"
        )))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        if written > 0 {
            tracing::info!("dedupe keys rebuilt in the time-ordered format: {written} events");
        }
        Ok(written)
    }
}
