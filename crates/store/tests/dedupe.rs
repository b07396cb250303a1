//! The dedupe set across its two tables: keys claimed batch after batch
//! move from the young table to the large one past its size, a restart
//! counts the young table again, and every key stays found — on both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use common::Harness;

const BATCH: usize = 20_000;

fn keys(batch: usize) -> Vec<(String, String)> {
    (0..BATCH).map(|i| ("src".to_string(), format!("m-{batch}-{i}"))).collect()
}

async fn claim_batch(store: &SqlStore, batch: &[(String, String)]) -> usize {
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
        assert_eq!(claim_batch(&h.store, &keys(b)).await, 0, "batch {b} is new");
    }
    let (young, large) = (h.raw.count("event_keys_young").await, h.raw.count("event_keys").await);
    assert_eq!(young + large, 260_000, "every key once: {young} young, {large} large");
    assert!(large >= 250_000 && young < 20_000, "the young keys moved: {young} young, {large} large");
    // every key is found again, in whichever table it sits, by a claim and by the reader
    for b in [0, 12] {
        let mut tx = h.store.begin_processing("main").await.expect("begin");
        assert_eq!(tx.claim(&keys(b)).await.expect("claim").len(), BATCH, "batch {b} again");
        drop(tx);
        let mut r = h.store.process_reader().await.expect("reader");
        assert_eq!(r.seen(&keys(b)).await.expect("seen").len(), BATCH);
    }
    // a batch half old, half new, with one new key twice
    let mut mixed: Vec<(String, String)> = keys(12)[..10].to_vec();
    mixed.extend((0..10).map(|i| ("src".to_string(), format!("new-{i}"))));
    mixed.push(("src".into(), "new-0".into()));
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    let already = tx.claim(&mixed).await.expect("claim");
    assert_eq!(already.len(), 10);
    assert!(already.iter().all(|(_, m)| m.starts_with("m-12-")), "{already:?}");
}

#[tokio::test]
async fn embedded() {
    let mut h = Harness::embedded().await;
    keys_move_to_the_large_table_and_stay_found(&mut h).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres() {
    let mut h = Harness::postgres().await;
    keys_move_to_the_large_table_and_stay_found(&mut h).await;
    h.cleanup().await;
}
