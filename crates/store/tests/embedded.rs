//! The embedded store's own behaviour, beside the shared conformance suite:
//! its encryption-key check, when log appends become readable, the size of
//! the log's and the state's WAL under a steady stream of writes, and the
//! move of the checkout tables to `checkout.db`.

#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use fixtures::{log_record, options, record};

#[tokio::test]
async fn a_different_encryption_key_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let open = |key: u8| SqlStore::open(options(dir.path(), Synchronous::Normal, 64 << 20, key));
    open(1).await.expect("first open records the key").close().await;
    assert!(matches!(open(2).await, Err(StoreError::Conflict(_))), "another key would corrupt the data");
    open(1).await.expect("the right key opens again").close().await;
}

/// The embedded log: an append is read only after a sync (so the processor
/// never acts on what a power loss could take back), and whatever a crash
/// left committed is visible after reopening; under either fsync policy.
#[tokio::test]
async fn embedded_appends_are_read_only_once_synced() {
    for synchronous in [Synchronous::Normal, Synchronous::Full] {
        let dir = tempfile::tempdir().expect("tempdir");
        let open = || SqlStore::open(options(dir.path(), synchronous, 64 << 20, 7));
        let store = open().await.expect("open");
        let log = store.event_log();
        log.append(&[log_record(1)]).await.expect("append");
        log.sync().await.expect("sync");
        log.append(&[log_record(2), log_record(3)]).await.expect("append");
        let seen = log.read(0, 100).await.expect("read");
        assert_eq!(seen.iter().map(|r| r.record.message_id.as_str()).collect::<Vec<_>>(), ["m1"], "{synchronous:?}");
        assert!(log.head().await.expect("head") > seen[0].seq, "the head counts committed records");
        log.sync().await.expect("sync");
        let all = log.read(0, 100).await.expect("read");
        assert_eq!(all.len(), 3);
        assert_eq!(log.head().await.ok(), all.last().map(|r| r.seq), "the head is the last committed record");
        log.append(&[log_record(4)]).await.expect("append, never synced");
        store.close().await;
        let again = open().await.expect("reopen");
        assert_eq!(again.event_log().read(0, 100).await.expect("read").len(), 4, "the committed append survives");
        again.close().await;
    }
}

/// Text LZ4 cannot shrink (no repeats), so the test writes what it says.
fn incompressible(seed: u64, len: usize) -> String {
    let mut x = seed | 1;
    let mut out = String::with_capacity(len + 16);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.push_str(&format!("{x:016x}"));
    }
    format!(r#"{{"event":"blob","data":"{out}"}}"#)
}

/// Under a steady stream of appends the WAL is started over once past its
/// limit; without that it would hold every byte ever appended (SQLite starts
/// a WAL over only after a checkpoint that left no frame behind).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_wal_stays_near_its_limit_under_steady_appends() {
    const LIMIT: u64 = 1 << 20;
    const CHUNKS: usize = 320;
    const BYTES: usize = 64 << 10;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqlStore::open(options(dir.path(), Synchronous::Normal, LIMIT, 3)).await.expect("open");
    let log = store.event_log();
    let wal = dir.path().join("events.db-wal");
    let mut largest = 0;
    for n in 0..CHUNKS {
        log.append(&[record(n, incompressible(n as u64, BYTES))]).await.expect("append");
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        // a stream, not one burst: the checkpointer runs beside the appends
        // (in a tight loop on a busy machine it could fall seconds behind)
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let written = (CHUNKS * BYTES) as u64;
    // measured here: ~4.6 MB with the restart, all 20+ MB without it
    assert!(largest < written / 2, "the WAL grew to {largest} bytes for {written} appended (limit {LIMIT})");
    log.sync().await.expect("sync");
    let all = log.read(0, CHUNKS as u32).await.expect("read");
    assert_eq!(all.len(), CHUNKS, "every append is read back across WAL restarts");
    assert_eq!(all[CHUNKS - 1].record.payload, incompressible((CHUNKS - 1) as u64, BYTES));
    store.close().await;
}

/// The processor's commits never checkpoint the state's WAL themselves: a
/// checkpointer beside them does, and starts it over past twice the log's
/// limit, so under batch after batch it stays bounded, and what the
/// batches wrote is all there after a reopen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_state_wal_stays_near_its_limit_under_steady_batches() {
    const LIMIT: u64 = 1 << 20;
    const BATCHES: usize = 120;
    const PROFILES: usize = 40;
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || SqlStore::open(options(dir.path(), Synchronous::Normal, LIMIT, 3));
    let store = open().await.expect("open");
    let wal = dir.path().join("beacon.db-wal");
    let mut largest = 0;
    let mut ids = Vec::new();
    for b in 0..BATCHES {
        let states: Vec<ProfileState> = (0..PROFILES)
            .map(|p| {
                let mut s = fixtures::state(beacon_core::ProfileId(uuid::Uuid::now_v7()), 1);
                let noise = incompressible((b * PROFILES + p) as u64, 4 << 10);
                s.traits.insert("noise".into(), serde_json::Value::String(noise));
                s
            })
            .collect();
        ids.extend(states.iter().map(|s| s.id));
        let mut tx = store.begin_processing("main").await.expect("begin");
        tx.apply(&BatchChanges { created: states.clone(), states, ..Default::default() }).await.expect("apply");
        tx.set_offset(b as i64 + 1).await.expect("offset");
        tx.commit().await.expect("commit");
        largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        // (a steady stream, not a burst the checkpointer never sees between)
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // each profile's traits seal ~8 KB of noise: ~40 MB in all
    let written = (BATCHES * PROFILES * (8 << 10)) as u64;
    assert!(largest < written / 4, "the WAL grew to {largest} bytes for ~{written} written (limit {})", 2 * LIMIT);
    store.close().await;
    let store = open().await.expect("reopen");
    for id in [ids[0], ids[ids.len() / 2], ids[ids.len() - 1]] {
        assert!(store.profiles().get_profile(id).await.expect("read").is_some(), "{id} kept across WAL restarts");
    }
    store.close().await;
}

/// A data directory from before `checkout.db` keeps its checkouts: their
/// rows move there when the store opens, and the old tables are dropped.
#[tokio::test]
async fn checkouts_in_beacon_db_move_to_checkout_db() {
    use sqlx::{AnyPool, Executor};
    let dir = tempfile::tempdir().expect("tempdir");
    let open = || SqlStore::open(options(dir.path(), Synchronous::Normal, 64 << 20, 3));
    open().await.expect("open").close().await;
    // a stale copy in checkout.db (an older binary ran after an interrupted move)
    let shop = AnyPool::connect(&format!("sqlite://{}", dir.path().join("checkout.db").display())).await.expect("raw");
    shop.execute("INSERT INTO promotion_counters VALUES ('c|0|total|*', 'c', 3)").await.expect("stale row");
    shop.close().await;
    // the layout of a directory last opened at migration 0005: its tables in
    // beacon.db, with rows; 0006 to 0009 not run
    let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
    let raw = AnyPool::connect(&url).await.expect("raw");
    raw.execute(include_str!("../migrations/sqlite_checkout/0001_checkout.sql")).await.expect("old tables");
    raw.execute(
        "DROP TABLE coupons; DROP TABLE group_teams; DROP TABLE points_lots; DROP TABLE points_moves; \
         DROP TABLE loyalty_program; DROP TABLE outbox; DROP TABLE timers; DROP TABLE leases; DROP TABLE event_keys; DROP TABLE event_keys_young; DROP TABLE event_key_runs; DROP TABLE timeline; DROP TABLE product_timeline; \
         DROP TABLE profile_counters; DROP TABLE users; DROP TABLE sessions; DROP TABLE visits; DROP TABLE imports; \
         DROP TABLE import_rejects; DROP TABLE profile_tags; DROP TABLE consents; \
         DROP TABLE segments; DROP TABLE segment_members; DROP TABLE segment_counts; DROP TABLE profile_stages; \
         DROP TABLE tag_rules; DROP TABLE segment_events; DELETE FROM meta WHERE key LIKE 'props_backfill%'; \
         ALTER TABLE events DROP COLUMN props; ALTER TABLE profiles ADD COLUMN first_seen BIGINT NOT NULL DEFAULT 0; \
         ALTER TABLE profiles ADD COLUMN last_seen BIGINT NOT NULL DEFAULT 0; \
         ALTER TABLE profiles ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0; \
         ALTER TABLE api_keys DROP COLUMN source; ALTER TABLE identities DROP COLUMN verified; \
         DELETE FROM _sqlx_migrations WHERE version >= 6; \
         INSERT INTO checkouts VALUES ('k-old', 'o-old', 'h', 'p1', '[]', '{\"order_id\":\"o-old\"}', 1); \
         INSERT INTO promotion_counters VALUES ('c|0|total|*', 'c', 7)",
    )
    .await
    .expect("old rows");
    raw.close().await;

    let store = open().await.expect("reopen");
    let p = store.promotions();
    let old = p.get_checkout("o-old").await.expect("get").expect("moved");
    assert_eq!(old.idempotency_key, "k-old");
    let used = p.counters(&["c|0|total|*".to_string()]).await.expect("counters");
    assert_eq!(used.get("c|0|total|*"), Some(&7), "beacon.db's rows are the record until they are dropped");
    store.close().await;
    let raw = AnyPool::connect(&url).await.expect("raw");
    let left: Vec<String> = sqlx::query_scalar("SELECT name FROM sqlite_master WHERE name = 'checkouts'")
        .fetch_all(&raw)
        .await
        .expect("tables");
    assert!(left.is_empty(), "the old tables are dropped from beacon.db");
}

/// The data directory is its owner's only: 0700, and every file in it 0600,
/// the WAL files SQLite makes as it writes included; an older directory's
/// 0644 files are tightened when it is opened.
#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("dir");
    std::fs::write(data.join("old-notes.txt"), "from before").expect("file");
    std::fs::set_permissions(data.join("old-notes.txt"), std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let store = SqlStore::open(options(&data, Synchronous::Normal, 64 << 20, 3)).await.expect("open");
    store.event_log().append(&[log_record(1)]).await.expect("append");
    store.event_log().sync().await.expect("sync");
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    let files: Vec<_> = std::fs::read_dir(&data).expect("list").map(|e| e.expect("entry").path()).collect();
    assert!(files.iter().any(|f| f.to_string_lossy().ends_with("-wal")), "{files:?}");
    for f in files.iter().filter(|f| f.is_file()) {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    store.close().await;
}
