//! Two nodes on one PostgreSQL database, requests spawned on a
//! multi-threaded runtime so they run in parallel: limits, budgets and
//! points hold across nodes, read back from the store afterwards.

mod common;

use axum::http::StatusCode;
use common::{Backend, TestApp};
use serde_json::{Value, json};
use std::sync::Arc;

async fn promo(app: &TestApp, spec: Value) {
    let (s, v) = app.send(axum::http::Method::POST, "/api/v1/promotions", common::ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

/// Places `n` orders, alternating between the nodes, each on its own task.
async fn place_everywhere(nodes: &[Arc<TestApp>], n: usize, body: impl Fn(usize) -> Value) -> Vec<(StatusCode, Value)> {
    common::in_parallel((0..n).map(|i| {
        let (node, body) = (nodes[i % nodes.len()].client.clone(), body(i));
        async move {
            let (s, v, _) = node.post_keyed("/api/v1/orders", Some(&format!("k-{i}")), body).await;
            (s, v)
        }
    }))
    .await
}

async fn used(app: &TestApp, promotion: &str) -> Vec<(Option<String>, i64)> {
    let (_, v) = app.get(&format!("/api/v1/promotions/{promotion}/usage"), common::ADMIN).await;
    let mut items: Vec<(Option<String>, i64)> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| {
            // a count, or a budget's amount in the shop currency (minor units here)
            let money = u["used"].as_str().and_then(|s| beacon_core::money::parse_minor(s, 2).ok());
            (u["subject"].as_str().map(String::from), u["used"].as_i64().or(money).unwrap_or(-1))
        })
        .collect();
    items.sort();
    items
}

async fn two_nodes() -> (Arc<TestApp>, Arc<TestApp>) {
    let first = TestApp::new(Backend::Postgres).await;
    let second = first.another_node().await;
    (Arc::new(first), Arc::new(second))
}

async fn stop(first: Arc<TestApp>, second: Arc<TestApp>) {
    Arc::into_inner(second).expect("no task holds the node").stop().await;
    Arc::into_inner(first).expect("no task holds the node").stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_coupon_limit_holds_across_two_nodes_in_parallel() {
    let (a, b) = two_nodes().await;
    promo(
        &a,
        json!({"id": "c100", "name": "100张", "status": "active", "coupon": "C100",
            "reward": {"type": "amount_off", "amount": "1"}, "limits": [{"counter": "redemptions", "limit": 100}]}),
    )
    .await;
    let outs = place_everywhere(&[a.clone(), b.clone()], 400, |i| {
        json!({"user_id": format!("buyer-{i}"), "coupons": ["C100"], "lines": [{"product_id": "x", "price": "9.00"}]})
    })
    .await;
    let created = outs.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = outs.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (100, 300), "{:?}", outs.iter().find(|(s, _)| !s.is_success()));
    assert_eq!(used(&a, "c100").await, [(Some("*".to_string()), 100)], "the counter read back");
    a.settle().await;
    let (_, orders) = a.get("/api/v1/orders?limit=200", common::ADMIN).await;
    let with_coupon = orders["items"].as_array().map_or(0, |o| o.iter().filter(|o| o["coupon"] == "C100").count());
    assert_eq!(with_coupon, 100, "orders recorded with the coupon");
    stop(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_discount_budget_of_varying_amounts_is_never_passed() {
    let (a, b) = two_nodes().await;
    // 10% off, a budget of 100.00: orders of 10.00 to 99.00 take 1.00 to 9.90 each
    promo(
        &a,
        json!({"id": "ten", "name": "九折", "status": "active", "reward": {"type": "percent_off", "percent": "10"},
            "limits": [{"counter": "discount", "limit": "100.00"}]}),
    )
    .await;
    let outs = place_everywhere(&[a.clone(), b.clone()], 120, |i| {
        let price = format!("{}.00", 10 + (i * 37) % 90);
        json!({"user_id": format!("b-{i}"), "lines": [{"product_id": "x", "price": price}]})
    })
    .await;
    assert!(outs.iter().all(|(s, _)| *s == StatusCode::CREATED), "the budget runs out, the orders go on");
    let minor = |v: &Value| {
        let s = v.as_str().unwrap_or("0");
        beacon_core::money::parse_minor(s, 2).unwrap_or(i64::MIN)
    };
    let given: i64 = outs.iter().map(|(_, v)| minor(&v["pricing"]["discount"])).sum();
    assert!(given <= 10_000, "the budget is 100.00, {given} was given");
    assert!(given > 9_000, "most of it is used: {given}");
    assert_eq!(used(&a, "ten").await, [(Some("*".to_string()), given)], "the counter is what the orders took");
    stop(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn points_spent_at_once_on_two_nodes_are_spent_once() {
    let (a, b) = two_nodes().await;
    let program = json!({"earn": [{"on": "event", "event": "Gift", "points": 1000}],
        "redeem": {"points_per_unit": 100, "max_share": "100", "min_points": 1}, "earn_from": ["any"]});
    let (s, v) = a.send(axum::http::Method::PUT, "/api/v1/loyalty/program", common::ADMIN, program).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let gift = json!({"userId": "rich", "messageId": "g-1", "event": "Gift"}).to_string();
    assert_eq!(a.ingest("/v1/track", &gift).await.0, StatusCode::OK);
    a.settle().await;
    // 1,000 points; ten orders on two nodes each ask for all of them
    let outs = place_everywhere(
        &[a.clone(), b.clone()],
        10,
        |_| json!({"user_id": "rich", "points": 1000, "lines": [{"product_id": "x", "price": "50.00"}]}),
    )
    .await;
    let spent: i64 = outs
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .map(|(_, v)| v["pricing"]["points"]["used"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(spent, 1000, "{outs:?}");
    let profile = a.profile("user_id:rich").await;
    let (_, points) =
        a.get(&format!("/api/v1/profiles/{}/points", profile["id"].as_str().unwrap_or("")), common::ADMIN).await;
    assert_eq!((points["available"].as_i64(), points["debt"].as_i64()), (Some(0), Some(0)), "{points}");
    stop(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flash_sale_sells_its_stock_once_per_buyer_across_two_nodes() {
    let (a, b) = two_nodes().await;
    promo(
        &a,
        json!({"id": "flash", "name": "秒杀", "status": "active", "target": {"products": ["fs"]},
            "reward": {"type": "special_price", "price": "1.00"},
            "limits": [{"counter": "units", "limit": 30}, {"counter": "units", "limit": 1, "scope": "identity"}]}),
    )
    .await;
    // 120 fans, each trying twice (once on each node), for 30 units at the flash price
    let outs = place_everywhere(&[a.clone(), b.clone()], 240, |i| {
        json!({"user_id": format!("fan-{}", i / 2), "expected_total": "1.00",
            "lines": [{"product_id": "fs", "price": "99.00"}]})
    })
    .await;
    let mut winners: Vec<usize> =
        outs.iter().enumerate().filter(|(_, (s, _))| *s == StatusCode::CREATED).map(|(i, _)| i / 2).collect();
    assert_eq!(winners.len(), 30, "exactly the stock is sold");
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners.len(), 30, "nobody bought twice");
    assert!(outs.iter().all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::CONFLICT));
    let usage = used(&b, "flash").await;
    let everyone: i64 = usage.iter().filter(|(s, _)| s.as_deref() == Some("*")).map(|(_, n)| n).sum();
    assert_eq!(everyone, 30, "the stock counter read back: {usage:?}");
    assert!(usage.iter().all(|(_, n)| *n <= 30), "{usage:?}");
    stop(a, b).await;
}
