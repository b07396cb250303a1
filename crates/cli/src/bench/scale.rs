//! `beacon bench --scale`: many profiles and events through the real ingest
//! path, then the server's memory and profile-lookup latency.

use super::loadgen::{post_request, send_one};
use super::{ADMIN_KEY, BenchOptions, auth, start_beacon, wait_processed};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BATCH: usize = 100;

/// Event `n` of the data set: each profile gets one identify (email, phone)
/// and then tracks, round-robin over the profiles.
fn event(n: usize, profiles: usize) -> serde_json::Value {
    let user = n % profiles;
    let tier = ["gold", "silver", "bronze"][user % 3];
    super::stamp(if n < profiles {
        json!({"type": "identify", "userId": format!("u{user}"), "messageId": format!("s{n}"),
               "traits": {"email": format!("user{user}@example.com"), "phone": format!("+86138{:08}", user),
                          "name": format!("用户{user}"), "tier": tier}})
    } else {
        json!({"type": "track", "userId": format!("u{user}"), "event": "Product Viewed", "messageId": format!("s{n}"),
               "properties": {"product_id": format!("SKU-{}", n % 5000), "price": 59.0}})
    })
}

/// Sends events `0..total` (`make(n, profiles)`) in batches over
/// `connections`, retrying on back-pressure; answers how many were taken.
pub(super) async fn send_all(
    addr: SocketAddr,
    total: usize,
    profiles: usize,
    connections: usize,
    make: fn(usize, usize) -> serde_json::Value,
) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let auth = auth();
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let (next, auth) = (next.clone(), auth.clone());
            tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b * BATCH >= total {
                        return sent;
                    }
                    let events: Vec<_> = (b * BATCH..((b + 1) * BATCH).min(total)).map(|n| make(n, profiles)).collect();
                    let req = post_request("/v1/batch", &auth, json!({ "batch": events }).to_string().as_bytes());
                    // retry on back-pressure (503) like an SDK would
                    for _ in 0..100 {
                        if send_one(addr, &req).await.is_some() {
                            sent += events.len();
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        sent += t.await.unwrap_or(0);
    }
    sent
}

pub(super) fn rss_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub async fn run(opts: &BenchOptions, profiles: usize, events: usize) -> anyhow::Result<()> {
    let beacon = start_beacon(opts).await?;
    println!("Scale: {profiles} profiles, {events} events through POST /v1/batch ({BATCH} per batch)…");
    let started = Instant::now();
    let sent = send_all(beacon.addr, events, profiles, opts.connections, event).await;
    let ingest = started.elapsed();
    println!(
        "ingested {sent} events in {:.1} s ({:.0} events/s)",
        ingest.as_secs_f64(),
        sent as f64 / ingest.as_secs_f64()
    );
    wait_processed(beacon.store.as_ref()).await?;
    let processed = started.elapsed();
    println!(
        "processed all in {:.1} s, {:.1} s after the last acknowledgement ({:.0} events/s overall)",
        processed.as_secs_f64(),
        (processed - ingest).as_secs_f64(),
        sent as f64 / processed.as_secs_f64()
    );
    let mut lat = Vec::new();
    for i in 0..2000usize {
        let user = (i * 7919) % profiles;
        let (kind, value) = match i % 3 {
            0 => ("user_id", format!("u{user}")),
            1 => ("email", format!("user{user}@example.com")),
            _ => ("phone", format!("%2B86138{:08}", user)),
        };
        let req = format!(
            "GET /api/v1/profiles?identity={kind}:{value} HTTP/1.1\r\nhost: b\r\nauthorization: Bearer {ADMIN_KEY}\r\n\r\n"
        );
        let t = Instant::now();
        let body = send_one(beacon.addr, req.as_bytes()).await.unwrap_or_default();
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(body.contains(&format!("\"u{user}\"")), "lookup {kind}:{value} failed: {body}");
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((p / 100.0) * (lat.len() - 1) as f64).round() as usize];
    let (rss, peak) = rss_mb();
    let overview = send_one(
        beacon.addr,
        format!("GET /api/v1/overview HTTP/1.1\r\nhost: b\r\nauthorization: Bearer {ADMIN_KEY}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap_or_default();
    println!("overview: {overview}");
    println!(
        "profile lookup by user_id / email / phone over HTTP (2000 lookups): p50 {:.2} ms, p99 {:.2} ms",
        pct(50.0),
        pct(99.0)
    );
    println!("process memory (server, load generator and all): RSS now {rss:.0} MB, peak {peak:.0} MB");
    Ok(())
}
