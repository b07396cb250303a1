//! Segments on the wallet's coupons and the points, in real time on both
//! stores with a clock the test moves: a profile enters the segment of
//! holders of a usable "spring" code when one is issued to it, leaves when
//! it uses the code at a checkout, enters again when the order is
//! cancelled and the code given back, and leaves when the code expires
//! without another event (a timer), or its template is ended; it enters
//! the segment of 100 points or more when an order's points vest. At every step the kept members are
//! what deciding from scratch finds.

mod common;

use axum::http::{Method, StatusCode};
use beacon_server::app::{Clock, ManualClock};
use chrono::Duration;
use common::segments::{id_of, kept_as_decided, save, segments_of};
use common::{ADMIN, Backend, TestApp, WRITE};
use serde_json::json;
use std::sync::Arc;

async fn wallets(app: &TestApp, clock: &ManualClock) {
    let t0 = clock.now();
    let program = json!({"earn": [{"on": "order", "per": "1.00", "points": 1}], "vesting_days": 7,
        "expiry_months": 1, "earn_from": ["any"]});
    let (s, v) = app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, program).await;
    assert!(s.is_success(), "{v}");
    let spec = json!({"id": "spring", "name": "春季券", "status": "active", "reward": {"type": "amount_off", "amount": "5"},
        "codes": {"pattern": "SP-********", "valid_days": 10, "per_profile": 2}});
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    save(app, "has-spring", r#"coupons "spring" >= 1"#).await;
    save(app, "points-100", "points >= 100").await;
    let (s, v) = app.ingest_as(WRITE, "/v1/identify", r#"{"userId": "w1"}"#).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
    let w1 = id_of(app, "w1").await;
    assert_eq!(segments_of(app, &w1).await, Vec::<String>::new());

    // a code issued: in at once
    let (s, v, _) = app.post_keyed("/api/v1/promotions/spring/coupons", None, json!({"profiles": [w1]})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let code = v["issued"][0]["code"].as_str().expect("code").to_string();
    assert_eq!(segments_of(app, &w1).await, ["has-spring"]);
    kept_as_decided(app, "has-spring").await;

    // used at a checkout (an order of 150.00: 145 points, vesting in a week): out
    let order = json!({"user_id": "w1", "order_id": "W-1", "coupons": [code],
        "lines": [{"product_id": "tea", "price": "150.00"}]});
    let (s, v, _) = app.post_keyed("/api/v1/orders", Some("w-1"), order).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.settle().await;
    assert_eq!(segments_of(app, &w1).await, Vec::<String>::new(), "the code is used, the points not vested");
    kept_as_decided(app, "has-spring").await;

    // the points vest: in "points-100" on the day, by its timer
    clock.set(t0 + Duration::days(7) + Duration::seconds(1));
    app.settle().await;
    assert_eq!(segments_of(app, &w1).await, ["points-100"]);
    kept_as_decided(app, "points-100").await;

    // the order cancelled: the code given back (in again), the points taken back (out)
    let cancel = json!({"type": "track", "userId": "w1", "event": "Order Cancelled",
        "properties": {"order_id": "W-1"}, "timestamp": clock.now().to_rfc3339()});
    let (s, v) = app.ingest_as(WRITE, "/v1/track", &cancel.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
    assert_eq!(segments_of(app, &w1).await, ["has-spring"]);
    kept_as_decided(app, "has-spring").await;
    kept_as_decided(app, "points-100").await;

    // the code's ten days end: out, with no event
    clock.set(t0 + Duration::days(10) + Duration::seconds(1));
    app.settle().await;
    assert_eq!(segments_of(app, &w1).await, Vec::<String>::new(), "the code expired");
    kept_as_decided(app, "has-spring").await;

    // a new code (in), then the template ended by hand: its codes with it (out)
    let (s, v, _) = app.post_keyed("/api/v1/promotions/spring/coupons", None, json!({"profiles": [w1]})).await;
    assert_eq!((s, v["issued"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{v}");
    assert_eq!(segments_of(app, &w1).await, ["has-spring"]);
    let (s, v) = app.send(Method::POST, "/api/v1/promotions/spring/end", ADMIN, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(segments_of(app, &w1).await, Vec::<String>::new(), "the template ended");
    kept_as_decided(app, "has-spring").await;
}

async fn run(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-02T10:00:00Z".parse().expect("time")));
    let app = TestApp::with_clock(backend, |_| {}, clock.clone() as Arc<dyn Clock>).await;
    wallets(&app, &clock).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_on_the_embedded_store() {
    run(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wallets_on_postgres() {
    run(Backend::Postgres).await;
}
