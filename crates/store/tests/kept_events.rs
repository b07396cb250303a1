//! The segment stage's kept events (`segment_events`), on both stores:
//! read back as written under their stamp, personal values sealed at rest,
//! all forgotten when another stamp comes, and gone with a merge.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::ProfileId;
use beacon_segment::EventFact;
use beacon_store::*;
use common::Harness;
use fixtures::{state, t};
use serde_json::json;

async fn person(store: &SqlStore) -> ProfileId {
    let p = ProfileId(uuid::Uuid::now_v7());
    let s = state(p, 1);
    let mut tx = store.begin_processing("main").await.expect("begin");
    let changes = BatchChanges { created: vec![s.clone()], states: vec![s], ..Default::default() };
    tx.apply(&changes).await.expect("apply");
    tx.commit().await.expect("commit");
    p
}

fn viewed(at: u32, email: &str) -> EventFact {
    let properties = json!({"product_id": "P1", "email": email}).as_object().cloned().unwrap_or_default();
    EventFact { name: "Product Viewed".into(), at: t(at), properties }
}

/// The events `segment_facts` answers for `p` with kept events of `stamp`,
/// and whether they are the kept ones.
async fn read(store: &SqlStore, p: ProfileId, stamp: i64) -> (Vec<EventFact>, bool) {
    let mut tx = store.begin_processing("main").await.expect("begin");
    let wanted = FactsWanted { names: vec!["Product Viewed".into()], kept: Some(stamp), ..Default::default() };
    let facts = tx.segment_facts(&[p], &wanted).await.expect("facts");
    let f = facts.into_iter().next().expect("the profile");
    (f.events, f.kept)
}

async fn kept_events(h: &Harness) {
    let store = &h.store;
    let p = person(store).await;
    let events = vec![viewed(1, "lilei@example.com"), viewed(2, "lilei@example.com")];
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.keep_events_under(7).await.expect("under 7");
    let kept = KeptEvents { profile_id: p.to_string(), stamp: 7, events: events.clone() };
    let writes = SegmentWrites { kept: vec![kept], ..Default::default() };
    tx.write_segments(&writes, t(3)).await.expect("write");
    tx.commit().await.expect("commit");

    assert_eq!(read(store, p, 7).await, (events, true), "read back as written");
    let dump = h.raw.dump_table("segment_events", "events").await;
    assert!(dump.contains("P1") && !dump.contains("lilei@example.com"), "sealed at rest: {dump}");
    assert_eq!(read(store, p, 8).await, (Vec::new(), false), "another stamp's are not read: the history is");

    // another stamp forgets them all
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.keep_events_under(8).await.expect("under 8");
    tx.commit().await.expect("commit");
    assert!(!read(store, p, 7).await.1, "forgotten");
}

#[tokio::test]
async fn embedded() {
    kept_events(&Harness::embedded().await).await;
}

#[tokio::test]
async fn postgres() {
    let h = Harness::postgres().await;
    kept_events(&h).await;
    h.cleanup().await;
}
