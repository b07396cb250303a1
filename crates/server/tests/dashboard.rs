//! The dashboard's figures on both stores, checked by hand: days in the
//! shop's time zone (+08:00), visitors and buyers counted once over the
//! range, a merged person once, the average order value rounded half to
//! even in fen, other currencies apart, and the period before. And refunds
//! asked for through the API (the console's refund button).

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, WRITE};
use serde_json::{Value, json};

async fn batch(app: &TestApp, messages: Value) {
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": messages }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

fn order(id: &str, user: &str, at: &str, total: &str, currency: &str) -> Value {
    json!({"order_id": id, "user_id": user, "placed_at": at, "currency": currency, "total": total,
           "products": [{"product_id": "tea", "price": total, "quantity": 1}]})
}

async fn figures_by_hand(app: &TestApp) {
    // 11-10 and 11-11 in the shop's zone; 11-08 and 11-09 the period before
    batch(
        app,
        json!([
            {"type": "page", "anonymousId": "dev-a", "name": "首页", "timestamp": "2026-11-09T17:00:00Z"},
            {"type": "identify", "userId": "a", "anonymousId": "dev-a", "timestamp": "2026-11-09T17:01:00Z"},
            {"type": "page", "userId": "a", "name": "商品", "timestamp": "2026-11-09T18:00:00Z"},
            {"type": "page", "userId": "b", "name": "首页", "timestamp": "2026-11-10T02:00:00Z"},
            {"type": "identify", "userId": "c", "traits": {"city": "杭州"}, "timestamp": "2026-11-10T03:00:00Z"},
            {"type": "page", "userId": "e", "name": "首页", "timestamp": "2026-11-08T03:00:00Z"},
        ]),
    )
    .await;
    let orders = json!({"orders": [
        order("D-1", "a", "2026-11-10T01:00:00Z", "100.00", "CNY"),
        // 00:30 on 11-11 in the shop's zone (still 11-10 in UTC)
        order("D-2", "b", "2026-11-10T16:30:00Z", "50.01", "CNY"),
        order("D-3", "d", "2026-11-11T05:00:00Z", "30.00", "USD"),
        order("P-1", "e", "2026-11-08T04:00:00Z", "20.00", "CNY"),
    ]});
    let (s, v) = app.send(Method::POST, "/api/v1/orders", ADMIN, orders).await;
    assert_eq!((s, v["accepted"].as_i64()), (StatusCode::OK, Some(4)), "{v}");
    app.settle().await;
    let (s, d) = app.get("/api/v1/dashboard?from=2026-11-10&to=2026-11-11", ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!((d["tz"].as_str(), d["currency"].as_str()), (Some("+08:00"), Some("CNY")), "{d}");
    // visitors a (pages on both devices: one person), b, d (an order is an action); c only identified
    assert_eq!(d["current"]["visitors"], 3, "{d}");
    assert_eq!(d["current"]["buyers"], 3, "{d}");
    assert_eq!(d["current"]["conversion_rate"], 1.0, "{d}");
    assert_eq!((d["current"]["orders"].as_i64(), d["current"]["revenue"].as_str()), (Some(2), Some("150.01")), "{d}");
    assert_eq!(d["current"]["average_order_value"], "75.00", "75.005 half to even: {d}");
    assert_eq!(d["other_currencies"], json!([{"currency": "USD", "orders": 1, "revenue": "30.00"}]), "{d}");
    let days = &d["days"];
    assert_eq!(days[0], json!({"date": "2026-11-10", "visitors": 2, "buyers": 1, "orders": 1, "revenue": "100.00"}));
    assert_eq!(days[1], json!({"date": "2026-11-11", "visitors": 2, "buyers": 2, "orders": 1, "revenue": "50.01"}));
    let before = &d["previous"];
    assert_eq!((before["from"].as_str(), before["to"].as_str()), (Some("2026-11-08"), Some("2026-11-09")), "{d}");
    assert_eq!(
        (before["orders"].as_i64(), before["revenue"].as_str(), before["visitors"].as_i64()),
        (Some(1), Some("20.00"), Some(1))
    );
    let change = |k: &str| d["change"][k].as_f64().unwrap_or(f64::NAN);
    assert!((change("revenue") - 6.5005).abs() < 1e-9, "{d}");
    assert!((change("visitors") - 2.0).abs() < 1e-9, "{d}");
    assert!((change("orders") - 1.0).abs() < 1e-9, "{d}");
    // in UTC the same orders fall on other days
    let (_, utc) = app.get("/api/v1/dashboard?from=2026-11-10&to=2026-11-10&tz=Z", ADMIN).await;
    assert_eq!(
        (utc["current"]["orders"].as_i64(), utc["current"]["revenue"].as_str()),
        (Some(2), Some("150.01")),
        "{utc}"
    );
    // a bad range is refused, and an offset no zone uses
    for bad in ["from=2026-11-11&to=2026-11-10", "from=2026-11-10&to=2026-11-10&tz=%2B05:17"] {
        let (s, v) = app.get(&format!("/api/v1/dashboard?{bad}"), ADMIN).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")), "{v}");
    }
    merged_and_erased_visitors(app).await;
}

/// The local day's visitors at `tz`, from `from` to `to`.
async fn visitors(app: &TestApp, from: &str, to: &str, tz: &str) -> Vec<i64> {
    let (s, d) = app.get(&format!("/api/v1/dashboard?from={from}&to={to}&tz={tz}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    d["days"].as_array().expect("days").iter().map(|d| d["visitors"].as_i64().expect("visitors")).collect()
}

/// A device seen alone and later merged into a person counts once; a day
/// at +05:45 starts at 18:15 UTC, inside no quarter hour; an erased
/// person is no visitor.
async fn merged_and_erased_visitors(app: &TestApp) {
    batch(app, json!([{"type": "page", "anonymousId": "dev-f", "timestamp": "2026-11-10T04:00:00Z"}])).await;
    app.settle().await;
    assert_eq!(visitors(app, "2026-11-10", "2026-11-10", "%2B08:00").await, [3], "a, b and the new device");
    batch(
        app,
        json!([{"type": "identify", "userId": "b", "anonymousId": "dev-f", "timestamp": "2026-11-10T05:00:00Z"}]),
    )
    .await;
    app.settle().await;
    assert_eq!(visitors(app, "2026-11-10", "2026-11-10", "%2B08:00").await, [2], "the device is b's");
    batch(
        app,
        json!([
            {"type": "page", "userId": "g", "timestamp": "2026-11-09T18:14:59Z"},
            {"type": "track", "event": "Product Viewed", "userId": "h", "timestamp": "2026-11-09T18:15:00Z"},
        ]),
    )
    .await;
    app.settle().await;
    // 11-09 at +05:45: a (22:45, 23:45), g (23:59:59); 11-10: a's order (06:45), b, h (00:00)
    assert_eq!(visitors(app, "2026-11-09", "2026-11-10", "%2B05:45").await, [2, 3]);
    let h = app.profile("user_id:h").await;
    let id = h["id"].as_str().expect("id");
    let (s, v) = app.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), ADMIN, json!(null)).await;
    assert!(s.is_success(), "{s} {v}");
    app.settle().await;
    assert_eq!(visitors(app, "2026-11-09", "2026-11-10", "%2B05:45").await, [2, 2], "h erased");
}

/// A refund through the API: one unit of two, then the rest; a retry with
/// the same key is the same refund; an unknown order is not found.
async fn refunds_through_the_api(app: &TestApp) {
    let o = json!({"order_id": "R-1", "user_id": "r", "placed_at": "2026-11-10T01:00:00Z", "currency": "CNY",
        "total": "60.00", "products": [{"product_id": "tea", "price": "30.00", "quantity": 2}]});
    assert_eq!(app.send(Method::POST, "/api/v1/orders", ADMIN, o).await.0, StatusCode::OK);
    app.settle().await;
    let one = json!({"products": [{"product_id": "tea", "quantity": 1}], "reason": "破损"});
    for _ in 0..2 {
        let (s, v, _) = app.post_keyed("/api/v1/orders/R-1/refunds", Some("rf-1"), one.clone()).await;
        assert_eq!((s, v["message_id"].as_str()), (StatusCode::ACCEPTED, Some("refund:R-1:rf-1")), "{v}");
    }
    app.settle().await;
    let (_, order) = app.get("/api/v1/orders/R-1", ADMIN).await;
    assert_eq!(
        (order["refunded"].as_str(), order["status"].as_str()),
        (Some("30.00"), Some("partially_refunded")),
        "{order}"
    );
    assert_eq!(order["after_sales"].as_array().map(Vec::len), Some(1), "the retry is the same refund: {order}");
    assert_eq!(order["after_sales"][0]["reason"], "破损", "{order}");
    let (s, v, _) = app.post_keyed("/api/v1/orders/R-1/refunds", Some("rf-2"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    app.settle().await;
    let (_, order) = app.get("/api/v1/orders/R-1", ADMIN).await;
    assert_eq!((order["refunded"].as_str(), order["status"].as_str()), (Some("60.00"), Some("refunded")), "{order}");
    let (s, v, _) = app.post_keyed("/api/v1/orders/nope/refunds", None, json!({})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{v}");
    // nothing to refund, or an amount that is no amount as the document says (text)
    for bad in [json!({"total": "-5"}), json!({"total": "0"}), json!({"total": 0}), json!({"products": []})] {
        let (s, v, _) = app.post_keyed("/api/v1/orders/R-1/refunds", None, bad.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_order")), "{bad}: {v}");
    }
}

both_backends!(figures_by_hand, refunds_through_the_api);
