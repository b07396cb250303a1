//! The embedded store's dedupe set, held in memory. One process owns an
//! embedded store and its processor is the one writer of the set, so the
//! set can live in that process: a batch's lookups are binary searches in
//! memory rather than descents of an index, and its new keys go to disk as
//! **one row** (`event_key_runs`: the keys, 16 bytes each) rather than one
//! random index entry per event, each dirtying a page of its own (what
//! bounded the processor before: ~half of a batch's time, see
//! docs/BENCHMARKS.md). Rows smaller than [`RUN_KEYS`] are merged into one
//! once there are [`SMALL_RUNS`] of them, so each key is rewritten a few
//! times at most and a restart reads a few dozen rows.
//!
//! The set in memory holds **committed** keys only: a claim leaves the keys
//! it adds pending on its transaction, and they join the set after the
//! transaction commits ([`MemoryKeys::committed`]); a rolled-back batch
//! leaves the set as it was. The set is read from disk on first use (and
//! the keys of `event_keys` / `event_keys_young`, written by versions before
//! this one, with it), under its mutex: a commit that ends while it loads
//! waits and is added after, one that ended before is in what it reads.
//!
//! Memory: 16 bytes per key plus up to an eighth of slack (ten million
//! processed events: ~180 MB).

use super::backend;
use crate::{DedupeKey, Result};
use sqlx::{AnyConnection, Row};
use tokio::sync::Mutex;

/// Runs smaller than this many keys are merged together.
const RUN_KEYS: i64 = 1 << 20;
/// Small runs that trigger a merge.
const SMALL_RUNS: i64 = 32;
/// The set is split by a key's top bits, each part a sorted vector kept short.
const SHARD_BITS: u32 = 16;
/// Rows read per statement while loading.
const LOAD_ROWS: i64 = 100_000;

#[derive(Default)]
pub(crate) struct MemoryKeys {
    set: Mutex<Option<KeySet>>,
}

struct KeySet {
    shards: Vec<Vec<u128>>,
}

impl KeySet {
    fn new() -> Self {
        KeySet { shards: (0..1usize << SHARD_BITS).map(|_| Vec::new()).collect() }
    }

    fn shard(key: u128) -> usize {
        (key >> (128 - SHARD_BITS)) as usize
    }

    fn contains(&self, key: u128) -> bool {
        self.shards[Self::shard(key)].binary_search(&key).is_ok()
    }

    fn insert(&mut self, key: u128) {
        let shard = &mut self.shards[Self::shard(key)];
        if let Err(at) = shard.binary_search(&key) {
            if shard.len() == shard.capacity() {
                // grow by an eighth, not double: the set is most of the memory
                shard.reserve_exact((shard.len() / 8).max(4));
            }
            shard.insert(at, key);
        }
    }

    /// Sorts what [`Self::push`] added unsorted.
    fn seal(&mut self) {
        for shard in &mut self.shards {
            shard.sort_unstable();
            shard.dedup();
            shard.shrink_to(shard.len() + shard.len() / 8);
        }
    }

    fn push(&mut self, key: u128) {
        self.shards[Self::shard(key)].push(key);
    }
}

impl MemoryKeys {
    /// Which of `keys` are stored (committed).
    pub(crate) async fn seen(&self, conn: &mut AnyConnection, keys: &[DedupeKey]) -> Result<Vec<bool>> {
        let mut set = self.set.lock().await;
        let set = loaded(&mut set, conn).await?;
        Ok(keys.iter().map(|k| set.contains(k.0)).collect())
    }

    /// In the processor's write transaction (`conn`): which of `keys` are
    /// stored (committed, or claimed earlier in this transaction: `pending`),
    /// and the new ones (each once) appended as a run and to `pending`;
    /// merges the small runs when there are enough. `pending` joins the set
    /// once the transaction has committed ([`Self::committed`]).
    pub(crate) async fn claim(
        &self,
        conn: &mut AnyConnection,
        keys: &[DedupeKey],
        pending: &mut Vec<DedupeKey>,
    ) -> Result<Vec<bool>> {
        let mut found: Vec<bool> = {
            let mut set = self.set.lock().await;
            let set = loaded(&mut set, conn).await?;
            keys.iter().map(|k| set.contains(k.0)).collect()
        };
        if !pending.is_empty() {
            let mine: std::collections::HashSet<&DedupeKey> = pending.iter().collect();
            for (k, f) in keys.iter().zip(found.iter_mut()) {
                *f |= mine.contains(k);
            }
        }
        let mut fresh: Vec<DedupeKey> = keys.iter().zip(&found).filter(|(_, f)| !**f).map(|(k, _)| *k).collect();
        fresh.sort_unstable();
        fresh.dedup();
        if !fresh.is_empty() {
            append_run(conn, &fresh).await?;
            merge_small_runs(conn).await?;
        }
        pending.extend(fresh);
        Ok(found)
    }

    /// Adds the keys a committed transaction claimed.
    pub(crate) async fn committed(&self, keys: &[DedupeKey]) {
        if let Some(set) = self.set.lock().await.as_mut() {
            for k in keys {
                set.insert(k.0);
            }
        }
        // (not loaded yet: the load reads them from disk)
    }
}

async fn loaded<'a>(set: &'a mut Option<KeySet>, conn: &mut AnyConnection) -> Result<&'a mut KeySet> {
    if set.is_none() {
        *set = Some(load(conn).await?);
    }
    Ok(set.get_or_insert_with(KeySet::new))
}

/// Reads every stored key: the runs, and the tables of earlier versions.
async fn load(conn: &mut AnyConnection) -> Result<KeySet> {
    let mut set = KeySet::new();
    let mut after = -1i64;
    loop {
        let rows = sqlx::query("SELECT id, keys FROM event_key_runs WHERE id > $1 ORDER BY id LIMIT 16")
            .bind(after)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0).map_err(backend)?;
        for row in &rows {
            let blob: Vec<u8> = row.try_get(1).map_err(backend)?;
            for key in blob.chunks_exact(16) {
                set.push(DedupeKey::from_bytes(key).0);
            }
        }
    }
    for table in ["event_keys", "event_keys_young"] {
        let mut after: Vec<u8> = Vec::new();
        loop {
            let sql = format!("SELECT key FROM {table} WHERE key > $1 ORDER BY key LIMIT {LOAD_ROWS}");
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(after.as_slice())
                .fetch_all(&mut *conn)
                .await
                .map_err(backend)?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0).map_err(backend)?;
            for row in &rows {
                set.push(DedupeKey::from_bytes(&row.try_get::<Vec<u8>, _>(0).map_err(backend)?).0);
            }
        }
    }
    set.seal();
    Ok(set)
}

async fn append_run(conn: &mut AnyConnection, keys: &[DedupeKey]) -> Result<()> {
    let blob: Vec<u8> = keys.iter().flat_map(|k| k.to_bytes()).collect();
    insert_run(conn, blob).await
}

async fn insert_run(conn: &mut AnyConnection, blob: Vec<u8>) -> Result<()> {
    sqlx::query("INSERT INTO event_key_runs (n, keys) VALUES ($1, $2)")
        .bind((blob.len() / 16) as i64)
        .bind(blob)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Once there are [`SMALL_RUNS`] runs under [`RUN_KEYS`] keys, they become one.
async fn merge_small_runs(conn: &mut AnyConnection) -> Result<()> {
    let small: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_key_runs WHERE n < $1")
        .bind(RUN_KEYS)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    if small < SMALL_RUNS {
        return Ok(());
    }
    let rows = sqlx::query("SELECT keys FROM event_key_runs WHERE n < $1")
        .bind(RUN_KEYS)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let mut blob = Vec::new();
    for row in &rows {
        blob.extend_from_slice(&row.try_get::<Vec<u8>, _>(0).map_err(backend)?);
    }
    sqlx::query("DELETE FROM event_key_runs WHERE n < $1").bind(RUN_KEYS).execute(&mut *conn).await.map_err(backend)?;
    insert_run(conn, blob).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_finds_what_it_holds_in_either_way_it_was_filled() {
        let keys: Vec<u128> =
            (0..50_000u128).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835)).collect();
        let (mut pushed, mut inserted) = (KeySet::new(), KeySet::new());
        for k in &keys[..25_000] {
            pushed.push(*k);
            pushed.push(*k); // twice: kept once
            inserted.insert(*k);
            inserted.insert(*k);
        }
        pushed.seal();
        for set in [&pushed, &inserted] {
            assert!(keys[..25_000].iter().all(|k| set.contains(*k)));
            assert!(keys[25_000..].iter().all(|k| !set.contains(*k)));
            assert_eq!(set.shards.iter().map(Vec::len).sum::<usize>(), 25_000);
            assert!(set.shards.iter().all(|s| s.windows(2).all(|w| w[0] < w[1])));
        }
        assert_eq!(DedupeKey::from_bytes(&keys[7].to_be_bytes()).0, keys[7]);
    }
}
