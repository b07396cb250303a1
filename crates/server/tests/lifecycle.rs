//! Lifecycle stages on both stores, with a clock the test moves: a buyer is
//! new, growing after 30 days, at risk after 90, churned after 180 and won
//! back by an order after that; each move after the first sweep (which
//! stores what it finds without a word) is a
//! `Lifecycle Stage Changed` event in the profile's timeline; the funnel
//! counts every profile (potential: no order).

mod common;

use beacon_server::app::{Clock, ManualClock, lifecycle};
use chrono::{DateTime, Duration, Utc};
use common::{ADMIN, Backend, TestApp, WRITE};
use serde_json::{Value, json};
use std::sync::Arc;

async fn order(app: &TestApp, user: &str, id: &str, at: DateTime<Utc>) {
    let m = json!({"type": "track", "userId": user, "event": "Order Completed", "timestamp": at.to_rfc3339(),
                   "properties": {"order_id": id, "total": "50.00", "currency": "CNY",
                                  "products": [{"product_id": "tea", "price": "50.00", "quantity": 1}]}});
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": [m] }).to_string()).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    app.settle().await;
}

async fn stage_of(app: &TestApp, user: &str) -> String {
    let p = app.profile(&format!("user_id:{user}")).await;
    p["lifecycle"]["stage"].as_str().unwrap_or("").to_string()
}

/// Sweeps as the worker does, then lets the events it leaves reach the timeline.
async fn sweep(app: &TestApp) -> usize {
    let state = &app.running.as_ref().expect("running").state;
    let moved = lifecycle::sweep(state).await.expect("sweep");
    app.settle().await;
    app.settle().await;
    moved
}

async fn changes(app: &TestApp, user: &str) -> Vec<String> {
    let id = app.profile(&format!("user_id:{user}")).await["id"].as_str().unwrap_or("").to_string();
    let (_, v) = app.get(&format!("/api/v1/profiles/{id}/events?limit=100"), ADMIN).await;
    let mut out: Vec<String> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["name"] == "Lifecycle Stage Changed")
        .map(|e| {
            format!(
                "{}>{}",
                e["message"]["properties"]["from"].as_str().unwrap_or(""),
                e["message"]["properties"]["to"].as_str().unwrap_or("")
            )
        })
        .collect();
    out.reverse();
    out
}

async fn stages(app: &TestApp, clock: &ManualClock) {
    let t0 = clock.now();
    let (s, v) = app.ingest_as(WRITE, "/v1/identify", &json!({"userId": "browser"}).to_string()).await;
    assert_eq!(s.as_u16(), 200, "{v}");
    // the first sweep (the workers' own at start, or this one) stores the stages without a word
    sweep(app).await;
    order(app, "a", "A-1", t0).await;
    // (figures are kept a minute: the clock moves past it)
    clock.set(t0 + Duration::minutes(2));
    sweep(app).await;
    assert_eq!(stage_of(app, "a").await, "new");
    assert_eq!(changes(app, "a").await, ["potential>new"]);
    let (_, f) = app.get("/api/v1/lifecycle", ADMIN).await;
    let count = |f: &Value, stage: &str| {
        f["stages"].as_array().and_then(|s| s.iter().find(|x| x["stage"] == stage)).and_then(|x| x["profiles"].as_i64())
    };
    assert_eq!((count(&f, "potential"), count(&f, "new")), (Some(1), Some(1)), "{f}");

    for (days, stage) in [(30, "growing"), (90, "at_risk"), (180, "churned")] {
        clock.set(t0 + Duration::days(days));
        sweep(app).await;
        assert_eq!(stage_of(app, "a").await, stage, "day {days}");
    }
    // an order after 200 days away: won back (the table is kept a minute: the clock moves past it)
    let back = t0 + Duration::days(200);
    clock.set(back);
    order(app, "a", "A-2", back).await;
    clock.set(back + Duration::minutes(2));
    sweep(app).await;
    assert_eq!(stage_of(app, "a").await, "won_back");
    assert_eq!(sweep(app).await, 0, "nothing moved since");
    let moves = ["potential>new", "new>growing", "growing>at_risk", "at_risk>churned", "churned>won_back"];
    assert_eq!(changes(app, "a").await, moves);
    // the moves counted: in the year, every one; in the last 30 days, the last two
    let pairs = |v: &Value| -> Vec<String> {
        let items = v["items"].as_array().cloned().unwrap_or_default();
        let mut out: Vec<String> = items
            .iter()
            .map(|m| {
                format!("{}>{} {}", m["from"].as_str().unwrap_or(""), m["to"].as_str().unwrap_or(""), m["profiles"])
            })
            .collect();
        out.sort();
        out
    };
    let (s, year) = app.get("/api/v1/lifecycle/transitions?days=366", ADMIN).await;
    assert_eq!(s.as_u16(), 200, "{year}");
    let mut all: Vec<String> = moves.iter().map(|m| format!("{m} 1")).collect();
    all.sort();
    assert_eq!(pairs(&year), all);
    let (_, month) = app.get("/api/v1/lifecycle/transitions", ADMIN).await;
    assert_eq!(pairs(&month), ["at_risk>churned 1", "churned>won_back 1"], "{month}");
    let (s, v) = app.get("/api/v1/lifecycle/transitions?days=0", ADMIN).await;
    assert_eq!((s.as_u16(), v["error"]["code"].as_str()), (400, Some("invalid_parameter")));
}

async fn run(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-03-02T04:00:00Z".parse().expect("time")));
    let app = TestApp::with_clock(backend, |_| {}, clock.clone() as Arc<dyn Clock>).await;
    stages(&app, &clock).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_on_the_embedded_store() {
    run(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_on_postgres() {
    run(Backend::Postgres).await;
}
