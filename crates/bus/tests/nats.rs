//! The NATS JetStream bus against a real nats-server with JetStream at
//! 127.0.0.1:4222 (or BEACON_TEST_NATS_URL); each test has its own stream.

use beacon_bus::nats::{NatsBus, NatsOptions};
use beacon_bus::{Bus, BusError, Message, partition_of};
use std::collections::BTreeMap;

fn options(partitions: u32) -> NatsOptions {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    NatsOptions {
        url: std::env::var("BEACON_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
        stream: format!("TEST_{tag}"),
        subject_prefix: format!("test.{tag}"),
        partitions,
    }
}

async fn bus(opts: &NatsOptions) -> NatsBus {
    NatsBus::connect(opts).await.unwrap_or_else(|e| panic!("NATS with JetStream is required at {}: {e}", opts.url))
}

fn message(key: &str, id: &str) -> Message {
    Message { key: key.into(), id: id.into(), payload: format!("{{\"id\":\"{id}\"}}").into_bytes() }
}

#[tokio::test]
async fn records_land_in_their_keys_partition_in_order() {
    let opts = options(4);
    let bus = bus(&opts).await;
    let messages: Vec<Message> = (0..40).map(|i| message(&format!("user_id:u{}", i % 7), &format!("m{i}"))).collect();
    let positions = bus.append(&messages).await.expect("append");
    assert_eq!(positions.len(), 40);
    let mut expected: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (m, p) in messages.iter().zip(&positions) {
        assert_eq!(p.partition, partition_of(&m.key, 4), "the key's partition");
        expected.entry(p.partition).or_default().push(m.id.clone());
    }
    for partition in 0..4 {
        let records = bus.read(partition, 0, 100).await.expect("read");
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, expected.get(&partition).cloned().unwrap_or_default(), "partition {partition}, in order");
        assert!(records.windows(2).all(|w| w[0].position.offset < w[1].position.offset));
        assert_eq!(bus.head(partition).await.expect("head"), records.last().map_or(0, |r| r.position.offset));
        if let Some(first) = records.first() {
            assert_eq!(first.payload, format!("{{\"id\":\"{}\"}}", first.id).into_bytes());
        }
    }
    bus.destroy().await.expect("clean up");
}

#[tokio::test]
async fn a_partition_reads_on_from_an_offset_within_a_limit() {
    let opts = options(2);
    let bus = bus(&opts).await;
    let messages: Vec<Message> = (0..25).map(|i| message("user_id:same", &format!("m{i}"))).collect();
    bus.append(&messages).await.expect("append");
    let p = partition_of("user_id:same", 2);
    let first = bus.read(p, 0, 10).await.expect("read");
    assert_eq!(first.len(), 10);
    let next = bus.read(p, first[9].position.offset, 100).await.expect("read on");
    assert_eq!(
        next.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        (10..25).map(|i| format!("m{i}")).collect::<Vec<_>>()
    );
    assert!(bus.read(p, next[14].position.offset, 10).await.expect("at the end").is_empty(), "nothing after the head");
    assert!(matches!(bus.read(2, 0, 10).await, Err(BusError::Mismatch(_))), "no partition 2 of 2");
    bus.destroy().await.expect("clean up");
}

#[tokio::test]
async fn a_retried_append_is_one_record() {
    let opts = options(3);
    let bus = bus(&opts).await;
    let first = bus.append(&[message("user_id:r", "once")]).await.expect("append");
    let again = bus.append(&[message("user_id:r", "once"), message("user_id:r", "twice")]).await.expect("retry");
    assert_eq!(again[0], first[0], "the first position, not a new record");
    let records = bus.read(first[0].partition, 0, 10).await.expect("read");
    assert_eq!(records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["once", "twice"]);
    bus.destroy().await.expect("clean up");
}

#[tokio::test]
async fn the_partition_count_cannot_change() {
    let opts = options(4);
    let first = bus(&opts).await;
    let again = NatsBus::connect(&opts).await;
    assert!(again.is_ok(), "the same count reconnects");
    let other = NatsBus::connect(&NatsOptions { partitions: 8, ..opts.clone() }).await;
    assert!(matches!(other, Err(BusError::Mismatch(_))), "8 is not 4");
    assert!(matches!(NatsBus::connect(&NatsOptions { partitions: 0, ..opts }).await, Err(BusError::Mismatch(_))));
    first.destroy().await.expect("clean up");
}
