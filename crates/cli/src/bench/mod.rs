//! `beacon bench`: Beacon and a parse-only baseline side by side, in one
//! process, under the same load generator.
//!
//! The baseline is an axum handler that parses the same JSON (into
//! `serde_json::Value`) and answers 200: the cost floor of any JSON ingest
//! endpoint on this machine. Beacon's figure includes everything it does for
//! real: key lookup, validation, the durable group commit, and the processor
//! running concurrently on the same cores.

pub mod audience;
mod checkout;
mod console;
pub mod e2e;
pub mod incremental;
mod jobs;
mod loadgen;
pub mod pricing;
pub mod scale;
pub mod workers;

use anyhow::Context as _;
use axum::routing::post;
use beacon_server::app::keys;
use beacon_server::open_store;
use beacon_server::settings::Settings;
use beacon_store::Store;
use loadgen::{LoadResult, post_request};
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub(super) const WRITE_KEY: &str = "bench-write-key-0123456789";
pub(super) const ADMIN_KEY: &str = "bench-admin-key-0123456789";
pub(super) const BATCH: usize = 100;

pub struct BenchOptions {
    pub seconds: u64,
    pub connections: usize,
    pub database_url: Option<String>,
    pub synchronous: String,
    pub processor: bool,
    /// Which measurements to run: `batch`, `track`.
    pub only: Vec<String>,
}

pub(super) fn auth() -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{WRITE_KEY}:")))
}

/// The times an SDK puts on a message it makes now: `timestamp` when the
/// event happened (ms precision), `sentAt` a moment later.
pub(super) fn stamp(mut event: serde_json::Value) -> serde_json::Value {
    let now = chrono::Utc::now();
    let text = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    event["timestamp"] = json!(text(now));
    event["sentAt"] = json!(text(now + chrono::Duration::milliseconds(100)));
    event
}

fn track_event(run: &str, n: usize) -> serde_json::Value {
    stamp(json!({
        "type": "track", "event": "Product Viewed", "userId": format!("bench-user-{}", n % 10_000),
        "anonymousId": format!("anon-{}", n % 10_000), "messageId": format!("{run}-{n}"),
        "properties": {"product_id": format!("SKU-{}", n % 500), "price": 129.9, "currency": "CNY", "category": "茶叶/绿茶"},
        "context": {"library": {"name": "analytics-python", "version": "2.4.0"}, "ip": "10.1.2.3",
                    "userAgent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)", "locale": "zh-CN"}
    }))
}

/// `count` bodies for `/v1/batch`, each of [`BATCH`] events `make(run, n)`
/// numbered on from one body to the next.
fn batch_requests(run: &str, count: usize, make: fn(&str, usize) -> serde_json::Value) -> Arc<Vec<Vec<u8>>> {
    let auth = auth();
    Arc::new(
        (0..count)
            .map(|r| {
                let events: Vec<_> = (0..BATCH).map(|i| make(run, r * BATCH + i)).collect();
                post_request("/v1/batch", &auth, json!({ "batch": events }).to_string().as_bytes())
            })
            .collect(),
    )
}

/// An `Order Completed` of two lines, with its own order id.
fn order_event(run: &str, n: usize) -> serde_json::Value {
    let mut e = track_event(run, n);
    e["event"] = json!("Order Completed");
    e["properties"] = json!({
        "order_id": format!("{run}-o{n}"), "total": "289.80", "discount": "10.00", "coupon": "NEW10", "currency": "CNY",
        "products": [
            {"product_id": format!("SKU-{}", n % 500), "sku": "T-1", "name": "西湖龙井", "price": 129.9, "quantity": 1},
            {"product_id": format!("SKU-{}", (n + 7) % 500), "name": "盖碗", "price": "169.90", "quantity": 1}
        ]
    });
    e
}

fn track_requests(run: &str, count: usize) -> Arc<Vec<Vec<u8>>> {
    let auth = auth();
    Arc::new((0..count).map(|n| post_request("/v1/track", &auth, track_event(run, n).to_string().as_bytes())).collect())
}

/// The parse-only baseline server.
pub(super) async fn baseline() -> anyhow::Result<SocketAddr> {
    async fn parse(body: axum::body::Bytes) -> axum::response::Response {
        use axum::response::IntoResponse;
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(_) => axum::Json(json!({"success": true})).into_response(),
            Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
        }
    }
    // every path: the checkout benches post carts and orders to it too
    let app = axum::Router::new().route("/v1/batch", post(parse)).route("/v1/track", post(parse)).fallback(parse);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(addr)
}

pub(super) struct Beacon {
    addr: SocketAddr,
    store: Arc<beacon_store::SqlStore>,
    _dir: tempfile::TempDir,
}

async fn start_beacon(opts: &BenchOptions) -> anyhow::Result<Beacon> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings::default();
    settings.storage.data_dir = dir.path().to_path_buf();
    settings.storage.synchronous = opts.synchronous.clone();
    settings.storage.database_url = opts.database_url.clone().unwrap_or_default();
    settings.security.admin_rate_per_second = 0;
    settings.ingest.run_processor = opts.processor;
    let store = Arc::new(open_store(&settings).await?);
    let first = keys::FirstKeys { admin: Some(ADMIN_KEY.into()), write: Some(WRITE_KEY.into()), server: None };
    keys::bootstrap(store.as_ref(), &first, chrono::Utc::now()).await?;
    let listener = beacon_server::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr()?;
    let running = beacon_server::start(settings, store.clone())?;
    tokio::spawn(beacon_server::serve(running, listener, std::future::pending()));
    Ok(Beacon { addr, store, _dir: dir })
}

/// Alternates baseline and Beacon in short rounds, so a noisy neighbour on the
/// machine hits both alike; returns the totals of each. Beacon's processor
/// runs during Beacon's rounds (its real cost) and is let catch up before each
/// baseline round, so the baseline never pays for Beacon's work.
pub(super) async fn paired(
    base: SocketAddr,
    beacon: &Beacon,
    connections: usize,
    total: Duration,
    requests: &Arc<Vec<Vec<u8>>>,
    processor: bool,
) -> anyhow::Result<(LoadResult, LoadResult)> {
    const ROUNDS: u32 = 4;
    let (mut b, mut x) = (LoadResult::default(), LoadResult::default());
    for _ in 0..ROUNDS {
        if processor {
            wait_processed(beacon.store.as_ref()).await?;
        }
        for (target, acc) in [(base, &mut b), (beacon.addr, &mut x)] {
            acc.add(loadgen::run(target, connections, total / ROUNDS, requests.clone()).await);
        }
    }
    Ok((b, x))
}

pub(super) fn line(name: &str, r: &LoadResult, unit: f64) -> String {
    format!(
        "| {name} | {:.0} | {:.2} | {:.2} | {} |",
        r.per_second() * unit,
        r.percentile_ms(50.0),
        r.percentile_ms(99.0),
        if r.failures.is_empty() {
            r.failed.to_string()
        } else {
            let by: Vec<String> = r.failures.iter().map(|(s, n)| format!("{n}×{s}")).collect();
            by.join(" ")
        }
    )
}

/// Records in the log after the processor's offset.
async fn count_unprocessed(store: &dyn Store) -> anyhow::Result<usize> {
    let mut offset = store.processed_offset(beacon_server::processor::PROCESSOR).await?;
    let mut n = 0;
    loop {
        let page = store.log().read(offset, 50_000).await?;
        let Some(last) = page.last() else { return Ok(n) };
        offset = last.seq;
        n += page.len();
    }
}

pub(super) async fn wait_processed(store: &dyn Store) -> anyhow::Result<()> {
    loop {
        let head = store.log().head().await?;
        if store.processed_offset(beacon_server::processor::PROCESSOR).await? >= head {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends one track per fresh user and polls the API until the profile shows it.
async fn visible_latency(addr: SocketAddr, samples: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let user = format!("visible-{}-{i}", uuid::Uuid::new_v4().simple());
        let body = json!({"userId": user, "event": "Signed Up"}).to_string();
        let req = post_request("/v1/track", &auth(), body.as_bytes());
        let lookup = format!(
            "GET /api/v1/profiles?identity=user_id:{user} HTTP/1.1\r\nhost: b\r\nauthorization: Bearer {ADMIN_KEY}\r\n\r\n"
        );
        let started = Instant::now();
        if loadgen::send_one(addr, &req).await.is_none() {
            continue;
        }
        loop {
            match loadgen::send_one(addr, lookup.as_bytes()).await {
                Some(body) if body.contains("\"event_count\":1") => break,
                _ if started.elapsed() > Duration::from_secs(10) => break,
                _ => tokio::time::sleep(Duration::from_millis(1)).await,
            }
        }
        out.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    out
}

pub async fn run(opts: BenchOptions) -> anyhow::Result<()> {
    if opts.only.iter().all(|o| o == "pricing") {
        pricing::run();
        return Ok(());
    }
    if opts.only.iter().all(|o| o == "console") {
        return console::run(&opts).await;
    }
    if opts.only.iter().all(|o| o == "price-once") {
        pricing::once();
        return Ok(());
    }
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let dur = Duration::from_secs(opts.seconds);
    let base = baseline().await.context("baseline server")?;
    let beacon = start_beacon(&opts).await.context("starting beacon")?;
    println!("preparing request bodies…");
    let batches = batch_requests(&run_id, 3000, track_event);
    let tracks = track_requests(&format!("{run_id}-t"), 100_000);
    let orders = if opts.only.iter().any(|o| o == "orders") {
        batch_requests(&format!("{run_id}-o"), 2000, order_event)
    } else {
        Arc::default()
    };
    let store_name = if opts.database_url.is_some() { "PostgreSQL" } else { "embedded SQLite" };
    println!(
        "\nStore: {store_name}, synchronous={}, {} connections, {} s per measurement, {} cores\n",
        opts.synchronous,
        opts.connections,
        opts.seconds,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!("| measurement | per second | p50 ms | p99 ms | failed |\n|---|---|---|---|---|");
    let warm = Duration::from_secs(1);
    loadgen::run(base, opts.connections, warm, batches.clone()).await;
    let wants = |m: &str| opts.only.iter().any(|o| o == m);
    let mut ratios = Vec::new();
    let mut backlog = None;
    if wants("batch") {
        let (b_batch, x_batch) = paired(base, &beacon, opts.connections, dur, &batches, opts.processor).await?;
        println!("{}", line("parse-only baseline, /v1/batch (events/s)", &b_batch, BATCH as f64));
        println!("{}", line("Beacon durable, /v1/batch (events/s)", &x_batch, BATCH as f64));
        ratios.push(("batch", x_batch.per_second() / b_batch.per_second().max(1e-9)));
        // the processor's own rate: how fast it drains what the last round left
        let started = Instant::now();
        let n = count_unprocessed(beacon.store.as_ref()).await?;
        if opts.processor {
            wait_processed(beacon.store.as_ref()).await?;
        }
        backlog = Some((n, started.elapsed()));
    }
    for (name, make) in [("hot", e2e::hot_event as fn(&str, usize) -> serde_json::Value), ("wide", e2e::wide_event)] {
        if wants(name) && opts.processor {
            let r = e2e::measure(base, (beacon.addr, beacon.store.as_ref()), opts.connections, dur, name, make).await?;
            e2e::report(name, &r);
            ratios.push((if name == "hot" { "hot, end to end" } else { "wide, end to end" }, r.ratio()));
        }
    }
    if wants("orders") {
        let (b, x) = paired(base, &beacon, opts.connections, dur, &orders, opts.processor).await?;
        println!("{}", line("parse-only baseline, /v1/batch of orders (events/s)", &b, BATCH as f64));
        println!("{}", line("Beacon durable, /v1/batch of orders (events/s)", &x, BATCH as f64));
        ratios.push(("orders", x.per_second() / b.per_second().max(1e-9)));
        let started = Instant::now();
        let n = count_unprocessed(beacon.store.as_ref()).await?;
        if opts.processor {
            wait_processed(beacon.store.as_ref()).await?;
            println!(
                "| (processor: {n} order events left after the round, drained in {:.1} s: {:.0} orders/s) | | | | |",
                started.elapsed().as_secs_f64(),
                n as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
        }
    }
    if wants("track") {
        let (b_track, x_track) = paired(base, &beacon, opts.connections, dur, &tracks, opts.processor).await?;
        println!("{}", line("parse-only baseline, /v1/track (requests/s)", &b_track, 1.0));
        println!("{}", line("Beacon durable, /v1/track (requests/s)", &x_track, 1.0));
        ratios.push(("track", x_track.per_second() / b_track.per_second().max(1e-9)));
    }
    if wants("carts") || wants("commits") {
        ratios.extend(checkout::run(base, &beacon, opts.connections, dur, &wants, opts.processor).await?);
    }
    if wants("jobs") {
        jobs::run(beacon.store.as_ref(), &run_id).await?;
    }
    let mut vis = Vec::new();
    if opts.processor {
        wait_processed(beacon.store.as_ref()).await?;
        vis = visible_latency(beacon.addr, 300).await;
    }
    vis.sort_by(f64::total_cmp);
    let pct = |p: f64| vis.get(((p / 100.0) * (vis.len().max(1) - 1) as f64).round() as usize).copied().unwrap_or(0.0);
    println!("\n| ratio | value |\n|---|---|");
    for (name, ratio) in ratios {
        println!("| {name}: Beacon / baseline | {ratio:.2} |");
    }
    if opts.processor {
        println!(
            "\nIngest to visible on the profile (idle server, {} samples): p50 {:.1} ms, p99 {:.1} ms",
            vis.len(),
            pct(50.0),
            pct(99.0)
        );
        if let Some((n, drain)) = backlog {
            println!(
                "Processor: drained a backlog of {n} events in {:.1} s ({:.0} events/s, nothing else running)",
                drain.as_secs_f64(),
                n as f64 / drain.as_secs_f64().max(1e-9)
            );
        }
    } else if let Some((n, _)) = backlog {
        println!("\nProcessor off: {n} events stay unprocessed in the log.");
    }
    Ok(())
}
