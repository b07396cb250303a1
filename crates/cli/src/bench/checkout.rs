//! `beacon bench --only carts,commits`: the promotion API a shop's checkout
//! calls, over HTTP, beside the parse-only baseline given the same bodies.
//!
//! The shop: the 20,000-product catalog and 1,000 of the promotions of the
//! in-process pricing bench, 1,000 known buyers. `carts`: 5-line carts by
//! product id (completed from the catalog) for a buyer (profile looked up)
//! priced by `POST /api/v1/carts/price`. `commits`: orders placed with
//! `POST /api/v1/orders`, every one presenting the same coupon, so every
//! commit takes from the same counter row — the most contended case — then
//! a coupon with 1,000 uses hit by more orders than that, to show none is
//! redeemed twice.

use super::loadgen::{self, LoadResult, post_request_with};
use super::pricing::{CATALOG, product_json, specs};
use super::{ADMIN_KEY, Beacon, line, paired, wait_processed};

use crate::demo::rng::Rng;
use anyhow::{Context as _, bail};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

const PROMOTIONS: usize = 1000;
const BUYERS: usize = 1000;
const CART_LINES: usize = 5;
const ROUNDS: usize = 4;

fn bearer() -> String {
    format!("Bearer {ADMIN_KEY}")
}

async fn post(client: &reqwest::Client, url: &str, body: &Value) -> anyhow::Result<Value> {
    let resp = client.post(url).bearer_auth(ADMIN_KEY).json(body).send().await?;
    let status = resp.status();
    let v: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{url}: {status} {v}");
    }
    Ok(v)
}

/// Loads the catalog, the promotions and the buyers.
async fn setup(beacon: &Beacon, processor: bool) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let url = |p: &str| format!("http://{}{p}", beacon.addr);
    let all: Vec<usize> = (0..CATALOG).collect();
    for part in all.chunks(1000) {
        let products: Vec<Value> = part.iter().map(|p| product_json(*p)).collect();
        post(&client, &url("/api/v1/products/bulk"), &json!({ "products": products })).await?;
    }
    for mut spec in specs(PROMOTIONS, 7) {
        spec["status"] = json!("active");
        post(&client, &url("/api/v1/promotions"), &spec).await?;
    }
    for (id, code, limit) in [("hot", "HOT", 1_000_000_000), ("last", "LAST", 1000)] {
        let spec = json!({"id": id, "name": "bench coupon", "status": "active", "coupon": code,
            "reward": {"type": "amount_off", "amount": "1"}, "limits": [{"counter": "redemptions", "limit": limit}]});
        post(&client, &url("/api/v1/promotions"), &spec).await?;
    }
    let batch: Vec<Value> = (0..BUYERS)
        .map(|i| {
            json!({"type": "identify", "userId": format!("buyer-{i}"), "messageId": format!("buyer-{i}"),
            "traits": {"tier": if i % 5 == 0 { "gold" } else { "silver" }}})
        })
        .collect();
    let resp = client
        .post(url("/v1/batch"))
        .header("authorization", super::auth())
        .json(&json!({ "batch": batch }))
        .send()
        .await?;
    if !resp.status().is_success() {
        bail!("loading buyers: {}", resp.status());
    }
    // without the processor the buyers stay unknown and carts are priced for anonymous shoppers
    if processor {
        wait_processed(beacon.store.as_ref()).await?;
    }
    Ok(())
}

fn cart(rng: &mut Rng, buyer: usize) -> Value {
    let lines: Vec<Value> = (0..CART_LINES)
        .map(|_| json!({"product_id": format!("P{}", rng.below(CATALOG as u64)), "quantity": 1 + rng.below(3)}))
        .collect();
    json!({"user_id": format!("buyer-{}", buyer % BUYERS), "lines": lines})
}

fn cart_requests(n: usize) -> Arc<Vec<Vec<u8>>> {
    let mut rng = Rng::new(11);
    Arc::new(
        (0..n)
            .map(|i| post_request_with("/api/v1/carts/price", &bearer(), "", cart(&mut rng, i).to_string().as_bytes()))
            .collect(),
    )
}

fn order_requests(run: &str, range: std::ops::Range<usize>, code: &str) -> Arc<Vec<Vec<u8>>> {
    let mut rng = Rng::new(13 ^ range.start as u64);
    Arc::new(
        range
            .map(|i| {
                // a product of 101.00 or more: no line-level promotion of the bench takes it all,
                // so every order leaves the coupon something to take off
                let p = rng.below(CATALOG as u64) as usize;
                let p = if p % 500 < 100 { p + 100 } else { p };
                let mut body = json!({"user_id": format!("buyer-{}", i % BUYERS), "coupons": [code],
                    "lines": [{"product_id": format!("P{p}"), "quantity": 1}]});
                body["order_id"] = json!(format!("{run}-{code}-{i}"));
                let key = format!("idempotency-key: {run}-{code}-{i}\r\n");
                post_request_with("/api/v1/orders", &bearer(), &key, body.to_string().as_bytes())
            })
            .collect(),
    )
}

async fn used(addr: SocketAddr, promotion: &str) -> anyhow::Result<i64> {
    let v: Value = reqwest::Client::new()
        .get(format!("http://{addr}/api/v1/promotions/{promotion}/usage"))
        .bearer_auth(ADMIN_KEY)
        .send()
        .await?
        .json()
        .await?;
    Ok(v["items"].as_array().into_iter().flatten().filter_map(|c| c["used"].as_i64()).sum())
}

pub async fn run(
    base: SocketAddr,
    beacon: &Beacon,
    connections: usize,
    dur: Duration,
    wants: &dyn Fn(&str) -> bool,
    processor: bool,
) -> anyhow::Result<Vec<(&'static str, f64)>> {
    println!("(loading {CATALOG} products, {PROMOTIONS} promotions, {BUYERS} buyers…)");
    setup(beacon, processor).await.context("loading the bench shop")?;
    let mut ratios = Vec::new();
    if wants("carts") {
        let carts = cart_requests(20_000);
        let mut sizes = Vec::new();
        for r in carts.iter().take(200) {
            sizes.push(loadgen::send_one(beacon.addr, r).await.map_or(0, |b| b.len()));
        }
        println!(
            "| (answers: {:.1} KB on average, the request {:.1} KB) | | | | |",
            sizes.iter().sum::<usize>() as f64 / sizes.len().max(1) as f64 / 1024.0,
            carts[0].len() as f64 / 1024.0
        );
        let (b, x) = paired(base, beacon, connections, dur, &carts, processor).await?;
        println!("{}", line("parse-only baseline, the same carts (requests/s)", &b, 1.0));
        println!("{}", line("Beacon, POST /api/v1/carts/price (carts/s)", &x, 1.0));
        ratios.push(("carts", x.per_second() / b.per_second().max(1e-9)));
    }
    if wants("commits") {
        let run = uuid::Uuid::new_v4().simple().to_string();
        // baseline and Beacon in turns, each round with new orders (more than a round can send)
        let (mut b, mut x) = (LoadResult::default(), LoadResult::default());
        for round in 0..ROUNDS {
            let orders = order_requests(&run, round * 100_000..(round + 1) * 100_000, "HOT");
            if processor {
                wait_processed(beacon.store.as_ref()).await?;
            }
            for (target, acc) in [(base, &mut b), (beacon.addr, &mut x)] {
                let r = loadgen::run(target, connections, dur / ROUNDS as u32, orders.clone()).await;
                acc.add(r);
            }
        }
        println!("{}", line("parse-only baseline, the same orders (requests/s)", &b, 1.0));
        // only new orders count: a replay (the same key again) commits nothing
        x.ok = x.created;
        println!("{}", line("Beacon, POST /api/v1/orders, one coupon for all (commits/s)", &x, 1.0));
        ratios.push(("commits", x.per_second() / b.per_second().max(1e-9)));
        if let Some(why) = &x.first_failure {
            println!("| (first refusal: {}) | | | | |", why.replace('|', "/"));
        }
        let hot = used(beacon.addr, "hot").await?;
        println!("| (coupon HOT: {} orders committed, counter at {hot}) | | | | |", x.created);
        if hot != x.created as i64 {
            bail!("the coupon's counter ({hot}) is not the number of orders committed ({})", x.created);
        }
        // 5,000 orders (and retries of them) on 1,000 uses
        let last = order_requests(&run, 0..5000, "LAST");
        let r: LoadResult = loadgen::run(beacon.addr, connections, dur.min(Duration::from_secs(4)), last).await;
        let taken = used(beacon.addr, "last").await?;
        println!("| (coupon LAST, 1,000 uses: {} orders committed, counter at {taken}) | | | | |", r.created);
        if taken != 1000 || r.created != 1000 {
            bail!("LAST: {} orders committed, counter {taken}; expected exactly 1,000", r.created);
        }
    }
    Ok(ratios)
}
