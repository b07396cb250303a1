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
//! **A window.** Keys are kept by the UTC day they were processed on, and
//! forgotten once they are older than the store's dedupe window
//! (`StoreOptions::dedupe_window_days`, at least that many whole days; 0:
//! never): a message sent again after that is processed again, and memory
//! stays bounded by the traffic of the window instead of growing for ever.
//! (Keys of `event_keys` / `event_keys_young` count as processed on the
//! day they are loaded.)
//!
//! Memory: 16 bytes per key plus up to an eighth of slack (ten million
//! processed events: ~180 MB), for the events of the window.

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

pub(crate) struct MemoryKeys {
    set: Mutex<Option<Days>>,
    /// Whole days a key is kept (0: for ever).
    window_days: u32,
}

/// The UTC day (days since 1970-01-01) of `at`.
pub(crate) fn day_of(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp().div_euclid(86_400)
}

/// The keys, by the day they were processed on.
#[derive(Default)]
struct Days {
    days: std::collections::BTreeMap<i64, KeySet>,
}

impl Days {
    fn contains(&self, key: u128) -> bool {
        self.days.values().any(|set| set.contains(key))
    }

    fn day(&mut self, day: i64) -> &mut KeySet {
        self.days.entry(day).or_insert_with(KeySet::new)
    }

    /// Forgets the days before `first`.
    fn keep_from(&mut self, first: i64) {
        self.days = self.days.split_off(&first);
    }
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
    pub(crate) fn new(window_days: u32) -> Self {
        MemoryKeys { set: Mutex::new(None), window_days }
    }

    /// The first day whose keys are kept, `today`: `window_days` whole days back.
    fn first_kept(&self, today: i64) -> Option<i64> {
        (self.window_days > 0).then(|| today - i64::from(self.window_days))
    }

    /// Which of `keys` are stored (committed).
    pub(crate) async fn seen(&self, conn: &mut AnyConnection, keys: &[DedupeKey]) -> Result<Vec<bool>> {
        let mut set = self.set.lock().await;
        let set = loaded(&mut set, conn, day_of(chrono::Utc::now())).await?;
        Ok(keys.iter().map(|k| set.contains(k.0)).collect())
    }

    /// In the processor's write transaction (`conn`), on `today`: which
    /// of `keys` are stored (committed, or claimed earlier in this
    /// transaction: `pending`), and the new ones (each once) appended as a
    /// run of `today` and to `pending`; merges the small runs of the day when
    /// there are enough, and drops the runs past the window. `pending` joins
    /// the set once the transaction has committed ([`Self::committed`]).
    pub(crate) async fn claim(
        &self,
        conn: &mut AnyConnection,
        keys: &[DedupeKey],
        pending: &mut Vec<DedupeKey>,
        today: i64,
    ) -> Result<Vec<bool>> {
        let mut found: Vec<bool> = {
            let mut set = self.set.lock().await;
            let set = loaded(&mut set, conn, today).await?;
            if let Some(first) = self.first_kept(today) {
                set.keep_from(first);
            }
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
            append_run(conn, &fresh, today).await?;
            merge_small_runs(conn, today).await?;
        }
        if let Some(first) = self.first_kept(today) {
            sqlx::query("DELETE FROM event_key_runs WHERE day < $1")
                .bind(first)
                .execute(&mut *conn)
                .await
                .map_err(backend)?;
        }
        pending.extend(fresh);
        Ok(found)
    }

    /// Adds the keys a committed transaction claimed on `today` (its claim
    /// forgot the days past the window).
    pub(crate) async fn committed(&self, keys: &[DedupeKey], today: i64) {
        if let Some(set) = self.set.lock().await.as_mut() {
            let day = set.day(today);
            for k in keys {
                day.insert(k.0);
            }
        }
        // (not loaded yet: the load reads them from disk)
    }
}

async fn loaded<'a>(set: &'a mut Option<Days>, conn: &mut AnyConnection, today: i64) -> Result<&'a mut Days> {
    if set.is_none() {
        *set = Some(load(conn, today).await?);
    }
    Ok(set.get_or_insert_with(Days::default))
}

/// Reads every stored key: the runs, and the tables of earlier versions
/// (as keys of `today`).
async fn load(conn: &mut AnyConnection, today: i64) -> Result<Days> {
    let mut set = Days::default();
    let mut after = -1i64;
    loop {
        let rows = sqlx::query("SELECT id, keys, day FROM event_key_runs WHERE id > $1 ORDER BY id LIMIT 16")
            .bind(after)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0).map_err(backend)?;
        for row in &rows {
            let blob: Vec<u8> = row.try_get(1).map_err(backend)?;
            let day = set.day(row.try_get::<i64, _>(2).map_err(backend)?);
            for key in blob.chunks_exact(16) {
                day.push(DedupeKey::from_bytes(key).0);
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
            let day = set.day(today);
            for row in &rows {
                day.push(DedupeKey::from_bytes(&row.try_get::<Vec<u8>, _>(0).map_err(backend)?).0);
            }
        }
    }
    for day in set.days.values_mut() {
        day.seal();
    }
    Ok(set)
}

async fn append_run(conn: &mut AnyConnection, keys: &[DedupeKey], day: i64) -> Result<()> {
    let blob: Vec<u8> = keys.iter().flat_map(|k| k.to_bytes()).collect();
    insert_run(conn, blob, day).await
}

async fn insert_run(conn: &mut AnyConnection, blob: Vec<u8>, day: i64) -> Result<()> {
    sqlx::query("INSERT INTO event_key_runs (n, keys, day) VALUES ($1, $2, $3)")
        .bind((blob.len() / 16) as i64)
        .bind(blob)
        .bind(day)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    Ok(())
}

/// Once `day` has [`SMALL_RUNS`] runs under [`RUN_KEYS`] keys, they become
/// one (runs of different days stay apart: each leaves with its window).
async fn merge_small_runs(conn: &mut AnyConnection, day: i64) -> Result<()> {
    let small: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_key_runs WHERE n < $1 AND day = $2")
        .bind(RUN_KEYS)
        .bind(day)
        .fetch_one(&mut *conn)
        .await
        .map_err(backend)?;
    if small < SMALL_RUNS {
        return Ok(());
    }
    let rows = sqlx::query("SELECT keys FROM event_key_runs WHERE n < $1 AND day = $2")
        .bind(RUN_KEYS)
        .bind(day)
        .fetch_all(&mut *conn)
        .await
        .map_err(backend)?;
    let mut blob = Vec::new();
    for row in &rows {
        blob.extend_from_slice(&row.try_get::<Vec<u8>, _>(0).map_err(backend)?);
    }
    sqlx::query("DELETE FROM event_key_runs WHERE n < $1 AND day = $2")
        .bind(RUN_KEYS)
        .bind(day)
        .execute(&mut *conn)
        .await
        .map_err(backend)?;
    insert_run(conn, blob, day).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> DedupeKey {
        DedupeKey::from_bytes(&[n; 16])
    }

    /// An embedded store in a directory of its own (the window is the
    /// `MemoryKeys`' under test).
    async fn open() -> (tempfile::TempDir, crate::SqlStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::SqlStore::open(crate::StoreOptions {
            database_url: None,
            data_dir: dir.path().to_path_buf(),
            synchronous: crate::Synchronous::Normal,
            max_connections: 1,
            log_wal_limit: 1 << 20,
            pii: crate::pii::PiiCipher::new(&[1; 32]),
            dedupe_window_days: 0,
        })
        .await
        .expect("open");
        (dir, store)
    }

    async fn claim(memory: &MemoryKeys, conn: &mut AnyConnection, keys: &[DedupeKey], today: i64) -> Vec<bool> {
        let mut pending = Vec::new();
        let found = memory.claim(conn, keys, &mut pending, today).await.expect("claim");
        memory.committed(&pending, today).await;
        found
    }

    #[tokio::test]
    async fn keys_are_forgotten_past_the_window_in_memory_and_on_disk() {
        let (_dir, store) = open().await;
        let mut conn = store.pool.acquire().await.expect("conn");
        let memory = MemoryKeys::new(2);
        assert_eq!(claim(&memory, &mut conn, &[key(1)], 100).await, [false]);
        assert_eq!(claim(&memory, &mut conn, &[key(1), key(2)], 102).await, [true, false], "two whole days on");
        assert_eq!(claim(&memory, &mut conn, &[key(1), key(2)], 103).await, [false, true], "past the window");
        let days: Vec<i64> = sqlx::query_scalar("SELECT day FROM event_key_runs ORDER BY day")
            .fetch_all(&mut *conn)
            .await
            .expect("runs");
        assert_eq!(days, [102, 103], "day 100's run is gone from disk");
        // read back from disk: the same
        let reread = MemoryKeys::new(2);
        assert_eq!(claim(&reread, &mut conn, &[key(1), key(2), key(3)], 104).await, [true, true, false]);
        assert_eq!(claim(&reread, &mut conn, &[key(1), key(2), key(3)], 106).await, [false, false, true]);
        // without a window, nothing is forgotten
        let forever = MemoryKeys::new(0);
        assert_eq!(claim(&forever, &mut conn, &[key(3), key(9)], 10_000).await, [true, false]);
        drop(conn);
        store.close().await;
    }

    #[tokio::test]
    async fn small_runs_are_merged_within_their_day() {
        let (_dir, store) = open().await;
        let mut conn = store.pool.acquire().await.expect("conn");
        let memory = MemoryKeys::new(0);
        claim(&memory, &mut conn, &[key(200)], 6).await;
        for n in 0..SMALL_RUNS as u8 {
            claim(&memory, &mut conn, &[key(n)], 5).await;
        }
        let runs: Vec<(i64, i64)> =
            sqlx::query_as("SELECT day, n FROM event_key_runs ORDER BY day").fetch_all(&mut *conn).await.expect("runs");
        assert_eq!(runs, [(5, SMALL_RUNS), (6, 1)]);
        let found = claim(&MemoryKeys::new(0), &mut conn, &[key(0), key(31), key(200), key(201)], 7).await;
        assert_eq!(found, [true, true, true, false]);
        drop(conn);
        store.close().await;
    }

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
