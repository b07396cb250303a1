//! Bad input gets a clear error with a stable code, and nothing wrong is
//! stored: recorded orders whose figures disagree, event times no clock
//! could mean, identities that cannot be read, promotion names and points
//! programs of the wrong shape. On both stores.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp};
use serde_json::{Value, json};

fn codes(v: &Value) -> Vec<(i64, String)> {
    let list = v["rejected"].as_array().or_else(|| v["error"]["details"]["rejected"].as_array());
    list.into_iter()
        .flatten()
        .map(|r| (r["index"].as_i64().unwrap_or(-1), r["code"].as_str().unwrap_or("").to_string()))
        .collect()
}

async fn recorded_orders_must_add_up(app: &TestApp) {
    let line = |q: i64| json!([{"product_id": "tea", "price": "30.00", "quantity": q}]);
    let orders = json!({"orders": [
        {"order_id": "ok-1", "user_id": "u", "products": line(2), "discount": "5.00", "shipping": "8.00", "total": "63.00"},
        {"order_id": "bad-1", "user_id": "u", "products": line(2), "discount": "5.00", "total": "99.00"},
        {"order_id": "bad-2", "user_id": "u", "products": line(0), "total": "0.00"},
        {"order_id": "bad-3", "user_id": "u", "products": [], "total": "10.00"},
        {"order_id": "ok-2", "user_id": "u", "total": "12.50"},
    ]});
    let (s, v) = app.send(Method::POST, "/api/v1/orders", ADMIN, orders).await;
    assert_eq!((s, v["accepted"].as_i64()), (StatusCode::OK, Some(2)), "{v}");
    let expect: Vec<(i64, String)> = [1, 2, 3].iter().map(|i| (*i, "invalid_order".to_string())).collect();
    assert_eq!(codes(&v), expect, "{v}");
    let why = v["rejected"][0]["message"].as_str().unwrap_or("");
    assert!(why.contains("55.00") && why.contains("99.00"), "{why}");
    assert!(v["rejected"][1]["message"].as_str().unwrap_or("").contains("quantity"), "{v}");
    app.settle().await;
    let p = app.profile("user_id:u").await;
    assert_eq!((p["order_count"].as_i64(), p["total_spend"]["amount"].as_str()), (Some(2), Some("75.50")), "{p}");
    assert_eq!(app.get("/api/v1/orders/bad-1", ADMIN).await.0, StatusCode::NOT_FOUND, "nothing half-stored");
}

async fn events_with_impossible_times_or_unreadable_identities_are_refused(app: &TestApp) {
    let tomorrow_plus = (chrono::Utc::now() + chrono::TimeDelta::hours(30)).to_rfc3339();
    let batch = json!({"batch": [
        {"type": "track", "event": "Viewed", "userId": "t1", "messageId": "g1"},
        {"type": "identify", "userId": "t1", "messageId": "b1", "traits": {"email": "not-an-email"}},
        {"type": "identify", "userId": "t1", "messageId": "b2", "traits": {"phone": "call me maybe"}},
        {"type": "track", "event": "Viewed", "userId": "t1", "messageId": "b3", "timestamp": "1970-01-01T00:00:00Z"},
        {"type": "track", "event": "Viewed", "userId": "t1", "messageId": "b4", "timestamp": tomorrow_plus},
    ]});
    let (s, v) = app.ingest("/v1/batch", &batch.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let expect = [(1, "invalid_identity"), (2, "invalid_identity"), (3, "invalid_timestamp"), (4, "invalid_timestamp")];
    let expect: Vec<(i64, String)> = expect.iter().map(|(i, c)| (*i, c.to_string())).collect();
    assert_eq!(codes(&v), expect, "{v}");
    let (s, v) = app.ingest("/v1/identify", r#"{"userId": "t1", "traits": {"email": "@"}}"#).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_identity")), "{v}");
    app.settle().await;
    assert_eq!(app.profile("user_id:t1").await["event_count"], 1, "only the good one stored");
    // history is imported through the admin API, with its own times
    let old = json!({"batch": [{"type": "track", "event": "Viewed", "userId": "t2", "messageId": "h1",
        "timestamp": "1997-03-01T10:00:00Z"}]});
    let (s, v) = app.send(Method::POST, "/api/v1/events", ADMIN, old).await;
    assert_eq!((s, v.get("rejected")), (StatusCode::OK, None), "{v}");
}

async fn promotion_names_and_points_programs_of_the_wrong_shape_are_refused(app: &TestApp) {
    let promo = |name: &str| json!({"id": "p1", "name": name, "status": "active", "reward": {"type": "percent_off", "percent": "10"}});
    for name in ["x".repeat(101), "满100减10\u{7}".to_string(), "  ".to_string()] {
        let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, promo(&name)).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_promotion")), "{v}");
    }
    let list = json!(["p2", "a list", "active"]);
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, list).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed_json")), "{v}");
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, promo(&"满".repeat(100))).await;
    assert_eq!(s, StatusCode::CREATED, "a hundred characters of Chinese is fine: {v}");
    for program in [json!([]), json!("points"), json!(5), json!(null)] {
        let (s, v) = app.send(Method::PUT, "/api/v1/loyalty/program", ADMIN, program.clone()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{program}: {v}");
        assert!(matches!(v["error"]["code"].as_str(), Some("invalid_promotion" | "malformed_json")), "{v}");
    }
    assert_eq!(app.get("/api/v1/loyalty/program", ADMIN).await.0, StatusCode::NOT_FOUND, "none stored");
}

both_backends!(
    recorded_orders_must_add_up,
    events_with_impossible_times_or_unreadable_identities_are_refused,
    promotion_names_and_points_programs_of_the_wrong_shape_are_refused,
);
