//! The dedupe set: on PostgreSQL across its two tables (keys claimed batch
//! after batch move from the young table to the large one past its size, a
//! restart counts the young table again); on the embedded store in memory
//! and in runs on disk (a restart reads them back, small runs merge, a batch
//! that rolls back adds nothing, keys of the tables of earlier versions are
//! found). Every key stays found, on both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use common::Harness;

const BATCH: usize = 20_000;

fn pairs(batch: usize) -> Vec<(String, String)> {
    (0..BATCH).map(|i| ("src".to_string(), format!("m-{batch}-{i}"))).collect()
}

fn keyed(store: &SqlStore, pairs: &[(String, String)]) -> Vec<DedupeKey> {
    pairs.iter().map(|(s, m)| store.dedupe_key(s, m)).collect()
}

async fn claim_batch(store: &SqlStore, batch: &[DedupeKey]) -> usize {
    let mut tx = store.begin_processing("main").await.expect("begin");
    let already = tx.claim(batch).await.expect("claim").len();
    tx.commit().await.expect("commit");
    already
}

async fn keys_move_to_the_large_table_and_stay_found(h: &mut Harness) {
    // 13 batches of 20,000 = 260,000 keys: past the young table's 250,000
    for b in 0..13 {
        if b == 6 {
            h.reopen().await; // the young table is counted again at the next claim
        }
        assert_eq!(claim_batch(&h.store, &keyed(&h.store, &pairs(b))).await, 0, "batch {b} is new");
    }
    if h.is_embedded() {
        let stored = h.raw.dump_table("event_key_runs", "CAST(n AS TEXT)").await;
        assert_eq!(stored.lines().count(), 13, "a run per batch: {stored}");
        assert!(stored.lines().all(|n| n == "20000"), "{stored}");
    } else {
        let (young, large) = (h.raw.count("event_keys_young").await, h.raw.count("event_keys").await);
        assert_eq!(young + large, 260_000, "every key once: {young} young, {large} large");
        assert!(large >= 250_000 && young < 20_000, "the young keys moved: {young} young, {large} large");
    }
    // every key is found again, in whichever table it sits, by a claim and by the reader
    for b in [0, 12] {
        let mut tx = h.store.begin_processing("main").await.expect("begin");
        assert_eq!(tx.claim(&keyed(&h.store, &pairs(b))).await.expect("claim").len(), BATCH, "batch {b} again");
        drop(tx);
        let mut r = h.store.process_reader().await.expect("reader");
        assert_eq!(r.seen(&keyed(&h.store, &pairs(b))).await.expect("seen").len(), BATCH);
    }
    // a batch half old, half new, with one new key twice
    let mut mixed: Vec<(String, String)> = pairs(12)[..10].to_vec();
    mixed.extend((0..10).map(|i| ("src".to_string(), format!("new-{i}"))));
    mixed.push(("src".into(), "new-0".into()));
    let mixed = keyed(&h.store, &mixed);
    let old = keyed(&h.store, &pairs(12)[..10]);
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    let already = tx.claim(&mixed).await.expect("claim");
    assert_eq!(already.len(), 10);
    assert!(already.iter().all(|k| old.contains(k)), "{already:?}");
}

#[tokio::test]
async fn embedded() {
    let mut h = Harness::embedded().await;
    keys_move_to_the_large_table_and_stay_found(&mut h).await;
    h.cleanup().await;
}

fn small(store: &SqlStore, batch: usize) -> Vec<DedupeKey> {
    keyed(store, &(0..100).map(|i| ("src".to_string(), format!("s-{batch}-{i}"))).collect::<Vec<_>>())
}

#[tokio::test]
async fn embedded_runs_merge_and_a_rollback_adds_nothing() {
    let mut h = Harness::embedded().await;
    for b in 0..40 {
        assert_eq!(claim_batch(&h.store, &small(&h.store, b)).await, 0, "batch {b} is new");
    }
    let runs = h.raw.dump_table("event_key_runs", "CAST(n AS TEXT)").await;
    let ns: Vec<i64> = runs.lines().map(|n| n.parse().expect("n")).collect();
    assert_eq!(ns.iter().sum::<i64>(), 4_000, "every key once: {runs}");
    assert!(ns.len() < 32 && ns.contains(&3_200), "32 small runs merged into one: {runs}");
    // claimed, then rolled back: not stored, before and after a restart
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    assert!(tx.claim(&small(&h.store, 99)).await.expect("claim").is_empty());
    drop(tx);
    for round in 0..2 {
        let mut r = h.store.process_reader().await.expect("reader");
        assert!(r.seen(&small(&h.store, 99)).await.expect("seen").is_empty(), "round {round}");
        assert_eq!(r.seen(&small(&h.store, 0)).await.expect("seen").len(), 100, "round {round}");
        assert_eq!(r.seen(&small(&h.store, 39)).await.expect("seen").len(), 100, "round {round}");
        drop(r);
        h.reopen().await;
    }
    // keys moved to the tables of an earlier version stay found after a restart
    // (the first key of each run, the rest dropped)
    h.raw
        .exec_state(&[
            "INSERT INTO event_keys (key) SELECT substr(keys, 1, 16) FROM event_key_runs",
            "DELETE FROM event_key_runs",
        ])
        .await;
    h.reopen().await;
    let mut r = h.store.process_reader().await.expect("reader");
    let mut found = 0;
    for b in 0..40 {
        found += r.seen(&small(&h.store, b)).await.expect("seen").len();
    }
    assert_eq!(found, ns.len(), "one key per former run");
    drop(r);
    h.cleanup().await;
}

#[tokio::test]
async fn postgres() {
    let mut h = Harness::postgres().await;
    keys_move_to_the_large_table_and_stay_found(&mut h).await;
    h.cleanup().await;
}
