//! End to end: events acknowledged *and* visible on the profiles, per second,
//! beside the parse-only baseline on the same request bodies.
//!
//! Two workloads, as the pipeline issue sets them: **hot** (batches of 100
//! events over 50 shoppers, who come back again and again) and **wide** (a
//! new shopper every two events: an `identify` with an email, then a
//! `track`). Every event is new (each request body is sent at most once), so
//! nothing is skipped as a duplicate. The clock runs from the first request
//! until the processor's offset reaches the log's head.

use super::loadgen::{self, LoadResult};
use super::{BATCH, batch_requests, line, wait_processed};
use beacon_store::Store;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Shoppers of the hot workload.
const HOT_SHOPPERS: usize = 50;
/// Events prepared per second of measurement (more than Beacon ingests).
const EVENTS_PER_SECOND: usize = 160_000;

fn context() -> serde_json::Value {
    json!({"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "10.1.2.3",
           "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "locale": "zh-CN"})
}

fn viewed(run: &str, n: usize, user: &str) -> serde_json::Value {
    super::stamp(json!({
        "type": "track", "event": "Product Viewed", "userId": user, "messageId": format!("{run}-{n}"),
        "properties": {"product_id": format!("SKU-{}", n % 500), "price": 129.9, "currency": "CNY", "category": "茶叶/绿茶"},
        "context": context()
    }))
}

/// Event `n` of the hot workload: 50 shoppers round-robin; one in 25 events
/// is an `identify` changing a trait, the rest product views.
pub fn hot_event(run: &str, n: usize) -> serde_json::Value {
    let user = format!("{run}-hot-{}", n % HOT_SHOPPERS);
    if n.is_multiple_of(25) {
        let tier = ["gold", "silver"][n % 2];
        super::stamp(json!({"type": "identify", "userId": user, "messageId": format!("{run}-{n}"),
               "traits": {"tier": tier, "visits": n / HOT_SHOPPERS}, "context": context()}))
    } else {
        viewed(run, n, &user)
    }
}

/// Event `n` of the wide workload: shopper `n / 2` is new; their first event
/// names them (user id, device, email), the second is a product view.
pub fn wide_event(run: &str, n: usize) -> serde_json::Value {
    let shopper = n / 2;
    let user = format!("{run}-w{shopper}");
    if n.is_multiple_of(2) {
        super::stamp(json!({"type": "identify", "userId": user, "anonymousId": format!("{run}-dev{shopper}"),
               "messageId": format!("{run}-{n}"),
               "traits": {"email": format!("w{shopper}@{run}.example.com"), "name": format!("顾客{shopper}")},
               "context": context()}))
    } else {
        viewed(run, n, &user)
    }
}

/// One workload's figures.
pub struct EndToEnd {
    pub baseline: LoadResult,
    pub ingest: LoadResult,
    /// From the first request until the last was answered.
    pub acknowledged_after: Duration,
    /// From the first request until every acknowledged event was processed.
    pub visible_after: Duration,
}

impl EndToEnd {
    pub fn events_per_second(&self) -> f64 {
        (self.ingest.ok as f64 * BATCH as f64) / self.visible_after.as_secs_f64().max(1e-9)
    }

    pub fn ratio(&self) -> f64 {
        self.events_per_second() / (self.baseline.per_second() * BATCH as f64).max(1e-9)
    }
}

/// Measures one workload: the baseline over the bodies, then Beacon over the
/// same bodies, each sent once, timed until processed.
pub async fn measure(
    base: SocketAddr,
    (addr, store): (SocketAddr, &dyn Store),
    connections: usize,
    duration: Duration,
    name: &str,
    make: fn(&str, usize) -> serde_json::Value,
) -> anyhow::Result<EndToEnd> {
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let events = EVENTS_PER_SECOND * duration.as_secs().max(1) as usize;
    let bodies = batch_requests(&format!("{run}{name}"), events.div_ceil(BATCH), make);
    let baseline = loadgen::run_each(base, connections, duration, bodies.clone()).await;
    wait_processed(store).await?;
    let started = Instant::now();
    let ingest = loadgen::run_each(addr, connections, duration, bodies).await;
    let acknowledged_after = started.elapsed();
    wait_processed(store).await?;
    Ok(EndToEnd { baseline, ingest, acknowledged_after, visible_after: started.elapsed() })
}

/// Prints the table rows of one workload.
pub fn report(name: &str, r: &EndToEnd) {
    println!("{}", line(&format!("parse-only baseline, {name} (events/s)"), &r.baseline, BATCH as f64));
    println!("{}", line(&format!("Beacon acknowledged, {name} (events/s)"), &r.ingest, BATCH as f64));
    println!(
        "| Beacon end to end, {name}: acknowledged and on the profile (events/s; {} acknowledged in {:.1} s, all visible after {:.1} s) | {:.0} | | | |",
        r.ingest.ok * BATCH as u64,
        r.acknowledged_after.as_secs_f64(),
        r.visible_after.as_secs_f64(),
        r.events_per_second()
    );
}
