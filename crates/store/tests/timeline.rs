//! The batched event layout on both backends: timelines written a row per
//! profile (product) per batch read back in event-time order across batches,
//! page by page, with bodies from the log; dedupe keys stop a replay.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::ProfileId;
use beacon_core::message::MessageKind;
use beacon_store::*;
use common::Harness;
use fixtures::{record, state, t};

fn event(rec: &LogRecord, profile: ProfileId, product: Option<&str>, min: u32) -> NewEvent {
    NewEvent {
        seq: rec.seq,
        profile_id: profile,
        source_id: rec.record.source_id.clone(),
        message_id: rec.record.message_id.clone(),
        kind: MessageKind::Track,
        name: Some("Product Viewed".into()),
        product: product.map(str::to_string),
        props: None,
        timestamp: t(min),
        received_at: rec.record.received_at,
        payload: rec.record.payload.clone(),
    }
}

async fn timelines_read_across_batches_in_event_time_order(store: &SqlStore) {
    let log = store.event_log();
    let records: Vec<NewLogRecord> = (0..9).map(|n| record(n, format!(r#"{{"n":{n}}}"#))).collect();
    log.append(&records).await.expect("append");
    log.sync().await.expect("sync");
    let recs = log.read(0, 100).await.expect("read");
    let (ann, bob) = (ProfileId(uuid::Uuid::now_v7()), ProfileId(uuid::Uuid::now_v7()));
    // three batches; event times out of log order (a late mobile flush), two
    // events at the same minute (ties go to the later seq first)
    let minutes = [5, 1, 9, 7, 7, 7, 2, 8, 4];
    let mut created = vec![state(ann, 0), state(bob, 0)];
    for chunk in recs.chunks(3) {
        let events = chunk
            .iter()
            .map(|r| {
                let n = (r.seq - recs[0].seq) as usize;
                let who = if n == 4 { bob } else { ann };
                ProcessedEvent::from(&event(r, who, n.is_multiple_of(2).then_some("tea-1"), minutes[n]))
            })
            .collect();
        let mut tx = store.begin_processing("main").await.expect("begin");
        let keys: Vec<DedupeKey> = chunk.iter().map(|r| store.dedupe_key("src", &r.record.message_id)).collect();
        let seen = tx.claim(&keys).await.expect("seen");
        assert!(seen.is_empty(), "not processed yet");
        tx.apply(&BatchChanges { created: std::mem::take(&mut created), events, ..Default::default() })
            .await
            .expect("apply");
        tx.commit().await.expect("commit");
    }
    let mut tx = store.begin_processing("main").await.expect("begin");
    let again: Vec<DedupeKey> = recs.iter().map(|r| store.dedupe_key("src", &r.record.message_id)).collect();
    assert_eq!(tx.claim(&again).await.expect("seen").len(), 9, "every processed event dedupes");
    drop(tx);

    // ann's eight events, two at a time, newest event time first
    let (mut got, mut after) = (Vec::new(), None);
    loop {
        let page = store.profiles().profile_events(ann, &PageRequest { after, limit: 2 }).await.expect("page");
        assert!(page.items.len() <= 2);
        got.extend(page.items.iter().map(|e| (e.timestamp, e.payload.clone(), e.message_id.clone())));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    let mut want: Vec<usize> = (0..9).filter(|n| *n != 4).collect();
    want.sort_by_key(|n| std::cmp::Reverse((minutes[*n], *n)));
    assert_eq!(
        got.iter().map(|(_, p, _)| p.clone()).collect::<Vec<_>>(),
        want.iter().map(|n| format!(r#"{{"n":{n}}}"#)).collect::<Vec<_>>(),
        "{got:?}"
    );
    assert_eq!(got[0].2, "m2", "the body comes from the log");
    let bobs = store.profiles().profile_events(bob, &PageRequest { after: None, limit: 10 }).await.expect("bob");
    assert_eq!(bobs.items.len(), 1);
    assert_eq!(bobs.items[0].profile_id, bob);
    // the product's timeline: the even-numbered events, whoever viewed them
    let v = serde_json::json!({"product_id": "tea-1", "name": "龙井", "price": "298.00", "stock": 1});
    let tea = beacon_core::catalog::parse_product(v.as_object().expect("object"), beacon_core::Currency::CNY)
        .expect("valid product");
    let viewed = store.catalog().product_events(&tea, &PageRequest { after: None, limit: 10 }).await.expect("product");
    let mut want: Vec<usize> = (0..9usize).filter(|n| n.is_multiple_of(2)).collect();
    want.sort_by_key(|n| std::cmp::Reverse((minutes[*n], *n)));
    assert_eq!(
        viewed.items.iter().map(|e| e.payload.clone()).collect::<Vec<_>>(),
        want.iter().map(|n| format!(r#"{{"n":{n}}}"#)).collect::<Vec<_>>()
    );
    assert!(viewed.items.iter().any(|e| e.profile_id == bob));
}

/// A store whose events table still has the layout before (whole events,
/// four indexes) and no timeline tables: at open the rows move over, their
/// bodies are read from the log and their messageIds still dedupe.
async fn an_older_event_layout_moves_over_at_open(h: &mut Harness, migration: i64) {
    let log = h.store.event_log();
    log.append(&[record(1, r#"{"event":"旧"}"#.into())]).await.expect("append");
    log.sync().await.expect("sync");
    let rec = log.read(0, 10).await.expect("read").remove(0);
    let profile = ProfileId(uuid::Uuid::now_v7());
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    tx.apply(&BatchChanges { created: vec![state(profile, 0)], ..Default::default() }).await.expect("profile");
    tx.commit().await.expect("commit");
    let old_row = format!(
        "INSERT INTO events (seq, profile_id, source_id, message_id, kind, name, ts, received_at, payload, product) \
         VALUES ({}, '{profile}', 'src', '{}', 'track', 'Product Viewed', {}, {}, 'sealed body', 'tea-1')",
        rec.seq,
        rec.record.message_id,
        t(3).timestamp_micros(),
        t(3).timestamp_micros()
    );
    h.raw
        .exec_state(&[
            "DROP TABLE events",
            "DROP TABLE event_keys",
            "DROP TABLE timeline",
            "DROP TABLE product_timeline",
            &format!("DELETE FROM _sqlx_migrations WHERE version = {migration}"),
            // the old layout, with the column the audiences migration adds before the move
            "CREATE TABLE events (seq BIGINT PRIMARY KEY, profile_id TEXT NOT NULL, source_id TEXT NOT NULL, \
             message_id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT, ts BIGINT NOT NULL, received_at BIGINT NOT NULL, \
             payload TEXT NOT NULL, product TEXT, props TEXT, UNIQUE (source_id, message_id))",
            "CREATE INDEX events_timeline ON events (profile_id, ts DESC, seq DESC)",
            "CREATE INDEX events_product ON events (product, ts) WHERE product IS NOT NULL",
            &old_row,
        ])
        .await;
    h.reopen().await;
    let page =
        h.store.profiles().profile_events(profile, &PageRequest { after: None, limit: 5 }).await.expect("timeline");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].payload, r#"{"event":"旧"}"#, "the body, from the log");
    assert_eq!(page.items[0].timestamp, t(3));
    let v = serde_json::json!({"product_id": "tea-1", "name": "龙井", "price": "298.00", "stock": 1});
    let tea = beacon_core::catalog::parse_product(v.as_object().expect("object"), beacon_core::Currency::CNY)
        .expect("valid product");
    let viewed = h.store.catalog().product_events(&tea, &PageRequest { after: None, limit: 5 }).await.expect("product");
    assert_eq!(viewed.items.len(), 1);
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    let seen = tx.claim(&[h.store.dedupe_key("src", &rec.record.message_id)]).await.expect("seen");
    assert_eq!(seen.len(), 1, "an event processed before the move still dedupes");
    drop(tx);
    assert_eq!(h.raw.dump_table("events", "kind").await, "track");
    assert!(h.raw.refuses("SELECT payload FROM events").await, "no payload column is left");
}

#[tokio::test]
async fn embedded() {
    let h = Harness::embedded().await;
    timelines_read_across_batches_in_event_time_order(&h.store).await;
}

#[tokio::test]
async fn postgres() {
    let h = Harness::postgres().await;
    timelines_read_across_batches_in_event_time_order(&h.store).await;
    h.cleanup().await;
}

#[tokio::test]
async fn embedded_upgrade() {
    let mut h = Harness::embedded().await;
    an_older_event_layout_moves_over_at_open(&mut h, 11).await;
}

#[tokio::test]
async fn postgres_upgrade() {
    let mut h = Harness::postgres().await;
    an_older_event_layout_moves_over_at_open(&mut h, 10).await;
    h.cleanup().await;
}

/// Before the fix, an embedded merge left one of the merged profile's events
/// under the merged id: migration 12 gives such events to the survivor.
#[tokio::test]
async fn embedded_events_a_merge_left_behind_go_to_the_survivor() {
    let mut h = Harness::embedded().await;
    let log = h.store.event_log();
    log.append(&(1..=3).map(|n| record(n, format!(r#"{{"n":{n}}}"#))).collect::<Vec<_>>()).await.expect("append");
    log.sync().await.expect("sync");
    let recs = log.read(0, 10).await.expect("read");
    let (a, b) = (ProfileId(uuid::Uuid::now_v7()), ProfileId(uuid::Uuid::now_v7()));
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    let events =
        recs.iter().enumerate().map(|(i, r)| (&event(r, if i == 0 { a } else { b }, None, i as u32)).into()).collect();
    tx.apply(&BatchChanges { created: vec![state(a, 0), state(b, 0)], events, ..Default::default() })
        .await
        .expect("apply");
    let merge = fixtures::alias_merge(b, a, t(5), "u");
    tx.apply(&BatchChanges { merges: vec![merge], ..Default::default() }).await.expect("merge");
    tx.commit().await.expect("commit");
    // as the bug left it: the merged profile's last event still its own
    h.raw
        .exec_state(&[
            &format!("UPDATE events SET profile_id = '{b}' WHERE seq = {}", recs[2].seq),
            "DELETE FROM _sqlx_migrations WHERE version = 12",
        ])
        .await;
    assert_eq!(owners(&h.store).await, [a, a, b], "the fixture");
    h.reopen().await;
    assert_eq!(owners(&h.store).await, [a, a, a]);
}

async fn owners(store: &SqlStore) -> Vec<ProfileId> {
    store.profiles().events_after(0, 10).await.expect("events").iter().map(|e| e.profile_id).collect()
}
