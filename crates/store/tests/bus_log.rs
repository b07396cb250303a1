//! What a processor of bus partitions needs from the store: chunks encoded
//! as the log keeps them, kept (archived) in the processing transaction so
//! timelines read their bodies, and locks between partitions' transactions.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::ProfileId;
use beacon_core::message::MessageKind;
use beacon_store::*;
use common::Harness;
use fixtures::{log_record, state, t};
use std::time::Duration;

/// Chunk numbers of a bus start far above the store's own.
const CHUNK: i64 = (1 << 40) + 7;

fn sample() -> Vec<NewLogRecord> {
    let mut records: Vec<NewLogRecord> = (0..3).map(log_record).collect();
    records[1].payload = r#"{"type":"identify","userId":"u","traits":{"email":"secret@x.com"}}"#.into();
    records
}

async fn chunks_round_trip_with_personal_data_sealed(store: &SqlStore) {
    let records = sample();
    let body = store.event_log().encode_chunk(&records.iter().collect::<Vec<_>>()).expect("encode");
    assert!(!String::from_utf8_lossy(&lz4_free(&body)).contains("secret@x.com"), "sealed inside the chunk");
    let back = store.event_log().decode_chunk(CHUNK, &body).expect("decode");
    assert_eq!(back.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), records);
    assert_eq!(
        back.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (0..3).map(|i| record_seq(CHUNK, i)).collect::<Vec<_>>()
    );
    assert!(store.event_log().decode_chunk(CHUNK, &body[..body.len() / 2]).is_err(), "a cut chunk is refused");
}

/// The chunk's records as they would be stored, decompressed (a chunk is
/// one LZ4 block after a kind byte and the plain length).
fn lz4_free(body: &[u8]) -> Vec<u8> {
    let len = u32::from_le_bytes(body[1..5].try_into().expect("len")) as usize;
    lz4_flex::block::decompress(&body[5..], len).expect("lz4")
}

async fn archived_chunks_feed_the_timeline(h: &Harness) {
    let store = &h.store;
    let records = sample();
    let body = store.event_log().encode_chunk(&records.iter().collect::<Vec<_>>()).expect("encode");
    let p = ProfileId(uuid::Uuid::now_v7());
    let events: Vec<ProcessedEvent> = records
        .iter()
        .enumerate()
        .map(|(i, _)| ProcessedEvent {
            seq: record_seq(CHUNK, i),
            profile_id: p,
            kind: MessageKind::Track,
            name: None,
            product: None,
            props: None,
            timestamp: t(i as u32),
        })
        .collect();
    let changes = BatchChanges { created: vec![state(p, 1)], states: vec![state(p, 1)], events, ..Default::default() };
    let mut tx = store.begin_processing("profiles.p3").await.expect("begin");
    if h.is_embedded() {
        // the embedded store's log is its own writer's
        assert!(tx.archive(&[(CHUNK, records.len(), body)]).await.is_err());
        tx.archive(&[]).await.expect("nothing to keep is fine");
        return;
    }
    tx.apply(&changes).await.expect("apply");
    tx.archive(&[(CHUNK, records.len(), body.clone())]).await.expect("archive");
    tx.archive(&[(CHUNK, records.len(), body)]).await.expect("a chunk kept twice stays once");
    tx.set_offset(record_seq(CHUNK, 2)).await.expect("offset");
    tx.commit().await.expect("commit");
    let page = store.profiles().profile_events(p, &PageRequest { after: None, limit: 10 }).await.expect("timeline");
    let mut bodies: Vec<String> = page.items.iter().map(|e| e.payload.clone()).collect();
    bodies.sort();
    let mut sent: Vec<String> = records.iter().map(|r| r.payload.clone()).collect();
    sent.sort();
    assert_eq!(bodies, sent, "bodies read back from the archived chunk, opened");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT body FROM log_chunks WHERE seq = $1")
        .bind(CHUNK)
        .fetch_one(&h.raw.log_pool)
        .await
        .expect("kept chunk");
    let plain = String::from_utf8_lossy(&lz4_free(&stored)).into_owned();
    assert!(plain.contains("userId") && !plain.contains("secret@x.com"), "kept sealed");
    assert_eq!(store.processed_offset("profiles.p3").await.expect("offset"), record_seq(CHUNK, 2));
    assert_eq!(store.processed_offset("profiles").await.expect("offset"), 0, "offsets are per partition");
}

async fn the_log_home_is_set_once(store: &SqlStore) {
    assert_eq!(store.log_home().await.expect("read"), None, "the log table by default");
    assert_eq!(store.claim_log_home("nats:A").await.expect("claim"), "nats:A");
    assert_eq!(store.claim_log_home("nats:B").await.expect("claim"), "nats:A", "the first claim stands");
    assert_eq!(store.log_home().await.expect("read").as_deref(), Some("nats:A"));
}

#[tokio::test]
async fn embedded_chunks_round_trip() {
    let h = Harness::embedded().await;
    chunks_round_trip_with_personal_data_sealed(&h.store).await;
    archived_chunks_feed_the_timeline(&h).await;
    the_log_home_is_set_once(&h.store).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres_chunks_round_trip_and_archive() {
    let h = Harness::postgres().await;
    chunks_round_trip_with_personal_data_sealed(&h.store).await;
    archived_chunks_feed_the_timeline(&h).await;
    the_log_home_is_set_once(&h.store).await;
    h.cleanup().await;
}

/// Two processing transactions on two nodes: a lock one holds makes the
/// other wait until it commits; other keys, and the same key of another
/// class, do not wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_partition_locks_wait_for_each_other() {
    let h = Harness::postgres().await;
    let other = std::sync::Arc::new(h.another().await);
    let mut first = h.store.begin_processing("profiles.p0").await.expect("begin");
    first.lock(1, &[9, 3, 3, 5]).await.expect("lock");
    let free = {
        let mut tx = other.begin_processing("profiles.p1").await.expect("begin");
        tokio::time::timeout(Duration::from_secs(5), async {
            tx.lock(1, &[4, 6]).await.expect("other keys");
            tx.lock(2, &[3, 5]).await.expect("another class");
        })
        .await
    };
    assert!(free.is_ok(), "keys the first does not hold are free");
    let waiter = {
        let other = other.clone();
        tokio::spawn(async move {
            let mut tx = other.begin_processing("profiles.p1").await.expect("begin");
            tx.lock(1, &[5, 1]).await.expect("lock");
            tx.commit().await.expect("commit");
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(!waiter.is_finished(), "5 is held by the first transaction");
    first.commit().await.expect("commit");
    tokio::time::timeout(Duration::from_secs(5), waiter).await.expect("free after the commit").expect("task");
    other.close().await;
    h.cleanup().await;
}

#[tokio::test]
async fn embedded_locks_are_nothing_to_wait_for() {
    let h = Harness::embedded().await;
    let mut tx = h.store.begin_processing("profiles").await.expect("begin");
    tx.lock(1, &[1, 2]).await.expect("lock");
    tx.commit().await.expect("commit");
    h.cleanup().await;
}
