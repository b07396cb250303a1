//! The dedupe set: a 16-byte keyed hash of (source, messageId) per processed
//! event, in two tables. A key's place in an index is random by nature (the
//! contract is the messageId alone, so no time can go into the key), and in
//! one large index each inserted key dirties a page of its own: a batch of
//! 20,000 keys into an index of ten million rewrote ~17,000 pages (70 MB of
//! WAL) per batch. So a batch inserts into `event_keys_young`, kept small
//! (its pages are few and hot: a batch rewrites at most those), and once it
//! holds [`YOUNG_MAX`] keys they move to `event_keys` in one pass in key
//! order, which writes each page of the large index once per move rather than
//! once per batch. A lookup descends both (reads only).
//!
//! That is the set shared by processors on several nodes (PostgreSQL). The
//! embedded store, written by one process, keeps its set in memory and on
//! disk as runs instead ([`super::dedupe_memory`]).

use super::dedupe_memory::MemoryKeys;
use super::{Dialect, SqlDialect as _, backend};
use crate::{DedupeKey, Result};
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};

/// Keys the young table holds before they move to the large one.
pub(super) const YOUNG_MAX: i64 = 250_000;

/// Rows per statement.
const ROWS: usize = 800;

/// Which of `keys` (hashed) are stored, in either table.
pub(super) fn seen_sql(dialect: Dialect, keys: usize) -> String {
    format!(
        "SELECT key FROM event_keys WHERE key IN ({}) UNION ALL SELECT key FROM event_keys_young WHERE key IN ({})",
        dialect.params_from(0, keys),
        dialect.params_from(keys, keys)
    )
}

/// The stored ones among `keys` (already hashed).
async fn stored(conn: &mut AnyConnection, dialect: Dialect, keys: &[Vec<u8>]) -> Result<foldhash::HashSet<Vec<u8>>> {
    let mut out = foldhash::HashSet::default();
    for part in keys.chunks(ROWS) {
        let mut q = sqlx::query(AssertSqlSafe(seen_sql(dialect, part.len())));
        for k in part.iter().chain(part) {
            q = q.bind(k.as_slice());
        }
        for row in q.fetch_all(&mut *conn).await.map_err(backend)? {
            out.insert(row.try_get::<Vec<u8>, _>(0).map_err(backend)?);
        }
    }
    Ok(out)
}

/// The stored ones among `keys`.
pub(super) async fn seen(
    conn: &mut AnyConnection,
    dialect: Dialect,
    memory: Option<&MemoryKeys>,
    keys: &[DedupeKey],
) -> Result<HashSet<DedupeKey>> {
    if let Some(memory) = memory {
        let found = memory.seen(conn, keys).await?;
        return Ok(keys.iter().zip(found).filter(|(_, f)| *f).map(|(k, _)| *k).collect());
    }
    let bytes: Vec<Vec<u8>> = keys.iter().map(|k| k.to_bytes().to_vec()).collect();
    let found = stored(conn, dialect, &bytes).await?;
    Ok(keys.iter().zip(&bytes).filter(|(_, b)| found.contains(*b)).map(|(k, _)| *k).collect())
}

/// Records `keys` in the embedded store's set, answering those stored
/// before (a key twice in `keys` is recorded once and answered as new); the
/// keys it adds go to `pending`, for the set once the transaction commits.
pub(super) async fn claim_in_memory(
    conn: &mut AnyConnection,
    memory: &MemoryKeys,
    pending: &mut Vec<DedupeKey>,
    keys: &[DedupeKey],
    today: i64,
) -> Result<HashSet<DedupeKey>> {
    let found = memory.claim(conn, keys, pending, today).await?;
    Ok(keys.iter().zip(found).filter(|(_, f)| *f).map(|(k, _)| *k).collect())
}

/// Records `keys` in the shared tables, answering those stored before (a
/// key twice in `keys` is recorded once and answered as new); moves the
/// young keys to the large table once there are enough. `young` counts the
/// young table's keys in this process (negative: not counted yet); after a
/// rollback it counts too many, which only moves them a little early.
pub(super) async fn claim(
    conn: &mut AnyConnection,
    dialect: Dialect,
    young: &AtomicI64,
    keys: &[DedupeKey],
) -> Result<HashSet<DedupeKey>> {
    let bytes: Vec<Vec<u8>> = keys.iter().map(|k| k.to_bytes().to_vec()).collect();
    let mut found = stored(conn, dialect, &bytes).await?;
    let fresh: Vec<&Vec<u8>> = bytes.iter().filter(|k| !found.contains(*k)).collect();
    let mut added = 0i64;
    let mut inserted: foldhash::HashSet<Vec<u8>> = Default::default();
    for part in fresh.chunks(ROWS) {
        let returning = if dialect == Dialect::Postgres { " RETURNING key" } else { "" };
        let sql = format!(
            "INSERT INTO event_keys_young (key) VALUES {} ON CONFLICT (key) DO NOTHING{returning}",
            dialect.rows(part.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in part {
            q = q.bind(k.as_slice());
        }
        if dialect == Dialect::Postgres {
            for row in q.fetch_all(&mut *conn).await.map_err(backend)? {
                inserted.insert(row.try_get::<Vec<u8>, _>(0).map_err(backend)?);
            }
            added = inserted.len() as i64;
        } else {
            added += q.execute(&mut *conn).await.map_err(backend)?.rows_affected() as i64;
        }
    }
    if dialect == Dialect::Postgres {
        // processors of several partitions claim at once: a key another
        // one recorded after the lookup above was not inserted here
        let lost: Vec<Vec<u8>> = fresh.iter().filter(|k| !inserted.contains(**k)).map(|k| (*k).clone()).collect();
        found.extend(lost);
    }
    let mut count = young.load(Ordering::Relaxed);
    if count < 0 {
        let row = sqlx::query("SELECT COUNT(*) FROM event_keys_young").fetch_one(&mut *conn).await.map_err(backend)?;
        count = row.try_get::<i64, _>(0).map_err(backend)?;
    } else {
        count += added;
    }
    if count >= YOUNG_MAX {
        // in key order: each page of the large index is reached once
        let sql = match dialect {
            // one statement: the keys moved are exactly the keys deleted,
            // even while processors of other partitions add keys
            Dialect::Postgres => {
                "WITH moved AS (DELETE FROM event_keys_young RETURNING key) \
                 INSERT INTO event_keys (key) SELECT key FROM moved ORDER BY key ON CONFLICT (key) DO NOTHING"
            }
            // (one writer: nothing comes between the two)
            Dialect::Sqlite => {
                "INSERT INTO event_keys (key) SELECT key FROM event_keys_young ORDER BY key ON CONFLICT (key) DO NOTHING"
            }
        };
        sqlx::query(sql).execute(&mut *conn).await.map_err(backend)?;
        if dialect == Dialect::Sqlite {
            sqlx::query("DELETE FROM event_keys_young").execute(&mut *conn).await.map_err(backend)?;
        }
        count = 0;
    }
    young.store(count, Ordering::Relaxed);
    Ok(keys.iter().zip(&bytes).filter(|(_, b)| found.contains(*b)).map(|(k, _)| *k).collect())
}
