//! The processor's pipeline (deciding the next batch while the current one is
//! written) gives exactly what one batch at a time gives: the same stream —
//! anonymous browsing, logins that merge, orders, refunds, retried orders and
//! resent messages — through a background processor with batches so small
//! that it is always behind, and through the one-at-a-time drain, on both
//! stores, compared profile by profile.

mod common;

use common::stream::{ingest, profiles, stream};
use common::{Backend, TestApp};
use std::time::Duration;

async fn pipelined_equals_one_at_a_time(backend: Backend) {
    let messages = stream(900);
    // always behind: every batch full (4 requests of 3 messages), so the pipeline decides ahead
    let piped = TestApp::with(backend, |s| {
        s.ingest.processor_batch = 4;
        s.ingest.processor_overlap = Some(true);
        // after its first (short) batch it waits, and finds a backlog
        s.ingest.processor_linger_ms = 300;
    })
    .await;
    ingest(&piped, &messages).await;
    let head = piped.log_head().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        use beacon_store::Store;
        let at = piped.store.processed_offset(beacon_server::processor::PROCESSOR).await.expect("offset");
        if at >= head {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the background processor stalled at {at} of {head}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let serial = TestApp::new(backend).await;
    ingest(&serial, &messages).await;
    serial.settle().await;
    let (a, b) = (profiles(&piped).await, profiles(&serial).await);
    assert!(a.iter().any(|p| p.to_string().contains("\"order_count\":")), "the stream places orders");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x, y);
    }
    let (_, oa) = piped.get("/api/v1/overview", common::ADMIN).await;
    let (_, ob) = serial.get("/api/v1/overview", common::ADMIN).await;
    assert_eq!(oa, ob);
    piped.stop().await;
    serial.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded() {
    pipelined_equals_one_at_a_time(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres() {
    pipelined_equals_one_at_a_time(Backend::Postgres).await;
}
