//! Points over HTTP on both stores: the program, points earned by orders
//! and reviews (up to a number a day), redeemed at checkout within the
//! program's share, given back and clawed back when orders are cancelled or
//! refunded, tiers by points, redemption limits, and leaderboards with a
//! profile's own rank.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, VIEWER};
use serde_json::{Value, json};

fn program() -> Value {
    json!({
        "earn": [{"on": "order", "per": "1.00", "points": 1},
                 {"on": "event", "event": "Product Reviewed", "points": 20, "max_per_day": 2}],
        "redeem": {"points_per_unit": 100, "max_share": "50", "min_points": 100},
        "expiry_months": 12,
        "tiers": [{"name": "silver", "min": "500"}, {"name": "gold", "min": "2000"}],
        "earn_from": ["any"]
    })
}

async fn track(app: &TestApp, body: Value) {
    let (s, v) = app.ingest("/v1/track", &body.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

async fn ordered(app: &TestApp, user: &str, id: &str, total: &str) {
    track(
        app,
        json!({"userId": user, "messageId": format!("m-{id}"), "event": "Order Completed",
        "properties": {"order_id": id, "total": total, "currency": "CNY"}}),
    )
    .await;
}

/// Processes the log, then lets the points follower catch up.
async fn follow(app: &TestApp) {
    app.settle().await;
}

async fn points(app: &TestApp, user: &str) -> Value {
    let id = app.profile(&format!("user_id:{user}")).await["id"].as_str().unwrap_or("").to_string();
    let (s, v) = app.get(&format!("/api/v1/profiles/{id}/points"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn place(app: &TestApp, key: &str, body: Value) -> (StatusCode, Value) {
    let (s, v, _) = app.post_keyed("/api/v1/orders", Some(key), body).await;
    (s, v)
}

async fn points_are_earned_redeemed_given_back_and_clawed_back(app: &TestApp) {
    let (s, _) = app.send(Method::PUT, "/api/v1/loyalty/program", VIEWER, program()).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = app
        .send(
            Method::PUT,
            "/api/v1/loyalty/program",
            ADMIN,
            json!({"earn": [{"on": "order", "per": "0", "points": 1}]}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_promotion")), "{v}");
    let (s, v) = app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, program()).await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(1)), "{v}");

    // 500.00 earns 500; three reviews on one day earn two times 20
    ordered(app, "u1", "A", "500.00").await;
    for n in 0..3 {
        track(app, json!({"userId": "u1", "messageId": format!("r{n}"), "event": "Product Reviewed", "properties": {"product_id": "tea"}})).await;
    }
    follow(app).await;
    let p = points(app, "u1").await;
    assert_eq!((p["available"].as_i64(), p["tier"].as_str()), (Some(540), Some("silver")), "{p}");

    // 300 points pay 3.00 of a 200.00 order
    let cart =
        json!({"user_id": "u1", "order_id": "B", "points": 300, "lines": [{"product_id": "tea", "price": "200.00"}]});
    let (s, v) = place(app, "b", cart).await;
    assert_eq!(
        (s, v["pricing"]["total"].as_str(), v["pricing"]["points"]["used"].as_i64()),
        (StatusCode::CREATED, Some("197.00"), Some(300)),
        "{v}"
    );
    follow(app).await;
    // 540 − 300 + 197 earned by B
    assert_eq!(points(app, "u1").await["available"], 437);
    // more points than the balance: what there is
    let (_, v) = app
        .send(
            Method::POST,
            "/api/v1/carts/price",
            ADMIN,
            json!({"user_id": "u1", "points": 5000, "lines": [{"product_id": "tea", "price": "2000.00"}]}),
        )
        .await;
    assert_eq!(
        (v["points"]["used"].as_i64(), v["points"]["limited_by"].as_str()),
        (Some(437), Some("insufficient_points")),
        "{v}"
    );

    // B cancelled: its 300 come back and its 197 go
    track(
        app,
        json!({"userId": "u1", "messageId": "c-B", "event": "Order Cancelled", "properties": {"order_id": "B"}}),
    )
    .await;
    follow(app).await;
    assert_eq!(points(app, "u1").await["available"], 540);
    // A refunded by 200.00: it earns 300 now, so 200 go
    track(app, json!({"userId": "u1", "messageId": "rf-A", "event": "Order Refunded", "properties": {"order_id": "A", "total": "200.00"}})).await;
    follow(app).await;
    let p = points(app, "u1").await;
    assert_eq!((p["available"].as_i64(), p["tier"].as_str()), (Some(340), None), "below silver now: {p}");
    // with the program paused, a refund of 0.01 more takes only its share at the rate A earned:
    // 500 earned × 299.99 kept of 500.00 = 299.99, rounded down to 299 (the paused program would have made it 0)
    let mut paused = program();
    paused["status"] = json!("paused");
    app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, paused).await;
    track(app, json!({"userId": "u1", "messageId": "rf-A2", "event": "Order Refunded", "properties": {"order_id": "A", "total": "0.01"}})).await;
    follow(app).await;
    assert_eq!(points(app, "u1").await["available"], 339);
}

async fn redemption_limits_hold_per_profile_and_day(app: &TestApp) {
    let mut limited = program();
    limited["redeem"]["limits"] = json!([{"counter": "points", "limit": 400, "period": "day", "scope": "profile"}]);
    let (s, v) = app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, limited).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    ordered(app, "u2", "E", "1000.00").await;
    follow(app).await;
    assert_eq!(points(app, "u2").await["available"], 1000);
    let order = |id: &str, n: i64| json!({"user_id": "u2", "order_id": id, "points": n, "lines": [{"product_id": "tea", "price": "200.00"}]});
    let (s, v) = place(app, "f", order("F", 300)).await;
    assert_eq!((s, v["pricing"]["points"]["used"].as_i64()), (StatusCode::CREATED, Some(300)), "{v}");
    // 100 of today's 400 are left
    let (s, v) = place(app, "g", order("G", 300)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["pricing"]["points"]["used"].as_i64(), v["pricing"]["points"]["limited_by"].as_str()),
        (Some(100), Some("points_limit_reached")),
        "{v}"
    );
    let (_, v) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, order("H", 300)).await;
    assert_eq!(
        (v["points"]["used"].as_i64(), v["points"]["limited_by"].as_str()),
        (Some(0), Some("points_limit_reached")),
        "{v}"
    );
    // F cancelled: its 300 count no more today
    track(
        app,
        json!({"userId": "u2", "messageId": "c-F", "event": "Order Cancelled", "properties": {"order_id": "F"}}),
    )
    .await;
    app.settle().await;
    let (_, v) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, order("H", 500)).await;
    assert_eq!(v["points"]["used"].as_i64(), Some(300), "{v}");
    // a promotion cannot count points, and its ids starting with ~ are Beacon's own
    for spec in [
        json!({"id": "pp", "name": "x", "reward": {"type": "amount_off", "amount": "1"},
               "limits": [{"counter": "points", "limit": 1}]}),
        json!({"id": "~points", "name": "x", "reward": {"type": "amount_off", "amount": "1"}}),
    ] {
        let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_promotion")), "{v}");
    }
}

async fn leaderboards_rank_the_points_earned_this_month(app: &TestApp) {
    // by default only orders sent with a secret key earn: one sent with a write key (a browser could) does not
    let mut server_only = program();
    server_only.as_object_mut().map(|o| o.remove("earn_from"));
    app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, server_only).await;
    ordered(app, "u9", "Z", "900.00").await;
    follow(app).await;
    assert_eq!(points(app, "u9").await["available"], 0);
    app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, program()).await;
    for (user, id, total) in
        [("u1", "A", "300.00"), ("u2", "B", "800.00"), ("u3", "C", "300.00"), ("u4", "D", "100.00")]
    {
        ordered(app, user, id, total).await;
    }
    follow(app).await;
    let u3 = app.profile("user_id:u3").await["id"].as_str().unwrap_or("").to_string();
    let (s, v) = app.get(&format!("/api/v1/loyalty/leaderboard?period=month&limit=3&profile_id={u3}"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let ranks: Vec<(i64, i64)> = v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| (i["rank"].as_i64().unwrap_or(0), i["points"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(ranks, [(1, 800), (2, 300), (2, 300)], "{v}");
    assert_eq!((v["me"]["points"].as_i64(), v["me"]["rank"].as_i64()), (Some(300), Some(2)));
    let (s, v) = app.get("/api/v1/loyalty/leaderboard?period=year", VIEWER).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")));
}

both_backends!(
    points_are_earned_redeemed_given_back_and_clawed_back,
    redemption_limits_hold_per_profile_and_day,
    leaderboards_rank_the_points_earned_this_month
);
