//! Orders, refunds, cancellations and reviews, through the Segment API and
//! `/api/v1/orders`, on both stores.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

fn track(user: &str, event: &str, message_id: &str, at: &str, props: Value) -> Value {
    json!({"type": "track", "userId": user, "event": event, "messageId": message_id, "timestamp": at, "properties": props})
}

async fn batch(app: &TestApp, events: Vec<Value>) {
    let (s, v) = app.ingest("/v1/batch", &json!({ "batch": events }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v.get("rejected").is_none(), "{v}");
}

async fn orders_from_both_paths_count_once_per_order_id(app: &TestApp) {
    let order = json!({"order_id": "A-1", "total": "99.90", "currency": "CNY", "coupon": "双十一",
        "products": [{"product_id": "tea-1", "sku": "T1", "price": 49.95, "quantity": 2, "category": "茶叶/绿茶"}]});
    batch(
        app,
        vec![
            track("ann", "Order Completed", "m1", "2026-11-11T01:00:00Z", order.clone()),
            // the SDK retried with a new messageId: the same order
            track("ann", "Order Completed", "m2", "2026-11-11T01:00:05Z", order),
            track("ann", "Order Completed", "m3", "2026-11-12T20:00:00Z", json!({"order_id": "A-2", "revenue": 20})),
        ],
    )
    .await;
    let (s, v) = app
        .send(
            Method::POST,
            "/api/v1/orders",
            ADMIN,
            json!({"orders": [
                {"order_id": "A-3", "user_id": "ann", "placed_at": "2026-11-12T17:00:00Z", "total": "5.10"},
                {"order_id": "A-1", "user_id": "ann", "total": "99.90"},
                {"order_id": "B-1", "user_id": "bob", "email": "Bob@Example.com", "placed_at": "2026-11-12T10:00:00Z",
                 "total": 7, "currency": "USD"}
            ]}),
        )
        .await;
    assert_eq!((s, v["accepted"].as_i64()), (StatusCode::OK, Some(3)), "{v}");
    app.settle().await;

    let ann = app.profile("user_id:ann").await;
    assert_eq!(ann["order_count"], 3, "{ann}");
    assert_eq!(ann["total_spend"], json!({"amount": "125.00", "currency": "CNY"}));
    assert_eq!(ann["average_order_value"], json!({"amount": "41.67", "currency": "CNY"}));
    assert_eq!(ann["first_order_at"], "2026-11-11T01:00:00Z");
    assert_eq!(ann["last_order_at"], "2026-11-12T20:00:00Z");
    let bob = app.profile("email:bob@example.com").await;
    assert_eq!(bob["total_spend"], json!({"amount": "7.00", "currency": "USD"}));

    let (_, o) = app.get("/api/v1/overview", ADMIN).await;
    assert_eq!(
        (o["orders"].as_i64(), o["revenue"].as_str(), o["currency"].as_str()),
        (Some(4), Some("125.00"), Some("CNY")),
        "{o}"
    );
    assert_eq!(o["revenue_by_currency"][1], json!({"currency": "USD", "orders": 1, "revenue": "7.00"}));

    let (_, one) = app.get("/api/v1/orders/A-1", ADMIN).await;
    assert_eq!(one["message_id"], "m1", "the first event placed it: {one}");
    assert_eq!(one["coupon"], "双十一");
    assert_eq!(one["lines"][0]["paid"], "99.90");

    // days in Beijing time: 20:00Z on the 12th is the 13th there
    let (s, d) = app.get("/api/v1/overview/daily?from=2026-11-11&to=2026-11-13&tz=%2B08:00", ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let days: Vec<(String, i64)> = d["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| (x["date"].as_str().unwrap_or("").into(), x["orders"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(days, [("2026-11-11".into(), 1), ("2026-11-12".into(), 1), ("2026-11-13".into(), 2)], "{d}");
    let (_, utc) = app.get("/api/v1/overview/daily?from=2026-11-12&to=2026-11-12&tz=Z", ADMIN).await;
    assert_eq!(utc["days"][0]["orders"], 3, "{utc}");
    // without tz: the shop's time zone (shop.utc_offset, +08:00 by default)
    let (_, shop) = app.get("/api/v1/overview/daily?from=2026-11-13&to=2026-11-13", ADMIN).await;
    assert_eq!((shop["tz"].as_str(), shop["days"][0]["orders"].as_i64()), (Some("+08:00"), Some(2)), "{shop}");

    let (_, list) =
        app.get(&format!("/api/v1/orders?profile={}&limit=2", ann["id"].as_str().unwrap_or("")), ADMIN).await;
    let ids: Vec<&str> =
        list["items"].as_array().into_iter().flatten().filter_map(|o| o["order_id"].as_str()).collect();
    assert_eq!(ids, ["A-2", "A-3"], "newest first: {list}");
    let cursor = list["next_cursor"].as_str().unwrap_or("");
    let (_, rest) =
        app.get(&format!("/api/v1/orders?profile={}&cursor={cursor}", ann["id"].as_str().unwrap_or("")), ADMIN).await;
    assert_eq!(rest["items"][0]["order_id"], "A-1");
    assert_eq!(rest["next_cursor"], Value::Null);
}

async fn refunds_and_cancellations_change_orders_and_spend(app: &TestApp) {
    let at = "2026-11-11T02:00:00Z";
    batch(
        app,
        vec![
            track(
                "cat",
                "Order Completed",
                "o1",
                at,
                json!({"order_id": "C-1", "total": 100, "products": [
            {"sku": "X", "price": 30, "quantity": 2}, {"sku": "Y", "price": 40, "quantity": 1}]}),
            ),
            track("cat", "Order Completed", "o2", at, json!({"order_id": "C-2", "total": 50})),
            track(
                "cat",
                "Order Refunded",
                "r1",
                at,
                json!({"order_id": "C-1", "products": [{"sku": "X", "quantity": 1}], "reason": "破损"}),
            ),
            track("cat", "Order Refunded", "r2", at, json!({"order_id": "C-1", "total": 500})),
            track("cat", "Order Refunded", "r3", at, json!({"order_id": "C-1"})),
            track("cat", "Order Refunded", "r4", at, json!({"order_id": "NOPE"})),
            track("cat", "Order Cancelled", "c1", at, json!({"order_id": "C-2", "reason": "买错了"})),
            track("cat", "Order Refunded", "r5", at, json!({"order_id": "C-2", "total": 1})),
        ],
    )
    .await;
    app.settle().await;
    let (_, c1) = app.get("/api/v1/orders/C-1", ADMIN).await;
    assert_eq!(
        (c1["status"].as_str(), c1["refunded"].as_str(), c1["net"].as_str()),
        (Some("refunded"), Some("100.00"), Some("0.00")),
        "{c1}"
    );
    let outcomes: Vec<(&str, &str)> = c1["after_sales"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["outcome"].as_str().unwrap_or(""), a["amount"].as_str().unwrap_or("")))
        .collect();
    // a unit of X is 100 × 60/100 / 2 = 30.00; then the rest, capped; then nothing is left
    assert_eq!(outcomes, [("applied", "30.00"), ("applied", "70.00"), ("nothing_left_to_refund", "0.00")], "{c1}");
    assert_eq!(c1["after_sales"][0]["reason"], "破损");
    let (_, c2) = app.get("/api/v1/orders/C-2", ADMIN).await;
    assert_eq!(c2["status"], "cancelled");
    assert_eq!(c2["after_sales"][1]["outcome"], "order_cancelled", "{c2}");
    let cat = app.profile("user_id:cat").await;
    assert_eq!((cat["order_count"].as_i64(), cat["total_spend"]["amount"].as_str()), (Some(1), Some("0.00")), "{cat}");
    let (_, o) = app.get("/api/v1/overview", ADMIN).await;
    assert_eq!((o["orders"].as_i64(), o["revenue"].as_str()), (Some(1), Some("0.00")), "{o}");
}

async fn a_merge_brings_the_orders_along(app: &TestApp) {
    batch(
        app,
        vec![
            json!({"type": "track", "anonymousId": "guest-9", "event": "Order Completed", "messageId": "g1",
               "timestamp": "2026-11-01T00:00:00Z", "properties": {"order_id": "G-1", "total": 10}}),
            track("dan", "Order Completed", "d1", "2026-11-02T00:00:00Z", json!({"order_id": "D-1", "total": 15})),
            json!({"type": "alias", "previousId": "guest-9", "userId": "dan", "messageId": "al"}),
            track("dan", "Order Refunded", "d2", "2026-11-03T00:00:00Z", json!({"order_id": "G-1", "total": 4})),
        ],
    )
    .await;
    app.settle().await;
    let dan = app.profile("user_id:dan").await;
    assert_eq!((dan["order_count"].as_i64(), dan["total_spend"]["amount"].as_str()), (Some(2), Some("21.00")), "{dan}");
    assert_eq!(dan["first_order_at"], "2026-11-01T00:00:00Z");
    let (_, list) = app.get(&format!("/api/v1/orders?profile={}", dan["id"].as_str().unwrap_or("")), ADMIN).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
    // a profile nobody has is not found, not an empty list; a bad id is a bad parameter
    let (s, _) = app.get("/api/v1/orders?profile=01a24b9d-0000-7000-8000-000000000000", ADMIN).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = app.get("/api/v1/orders?profile=dan", ADMIN).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

async fn reviews_are_listed_by_product_and_by_profile(app: &TestApp) {
    batch(
        app,
        vec![
            track(
                "eve",
                "Product Reviewed",
                "v1",
                "2026-11-05T00:00:00Z",
                json!({"product_id": "tea-1", "rating": 5, "review_body": "香气很足"}),
            ),
            track(
                "fay",
                "Product Reviewed",
                "v2",
                "2026-11-06T00:00:00Z",
                json!({"product_id": "tea-1", "rating": 2, "review_body": "too bitter"}),
            ),
        ],
    )
    .await;
    app.settle().await;
    let (_, r) = app.get("/api/v1/products/tea-1/reviews", ADMIN).await;
    let texts: Vec<&str> = r["items"].as_array().into_iter().flatten().filter_map(|x| x["text"].as_str()).collect();
    assert_eq!(texts, ["too bitter", "香气很足"], "{r}");
    // reviewed in events only (not in the catalog): found; in neither: not
    assert_eq!(app.get("/api/v1/products/never-heard-of/reviews", ADMIN).await.0, StatusCode::NOT_FOUND);
    let eve = app.profile("user_id:eve").await;
    let (_, mine) = app.get(&format!("/api/v1/profiles/{}/reviews", eve["id"].as_str().unwrap_or("")), VIEWER).await;
    assert_eq!(mine["items"][0]["rating"], 5.0, "{mine}");
}

async fn bad_orders_are_refused_and_only_data_roles_may_post(app: &TestApp) {
    let before = app.log_head().await;
    let (s, v) = app
        .send(
            Method::POST,
            "/api/v1/orders",
            ADMIN,
            json!({"orders": [
                {"order_id": "Z-1", "user_id": "zed", "total": -5},
                {"order_id": "Z-2", "total": 5},
                {"order_id": "Z-3", "user_id": "zed", "total": 5, "colour": "red"},
                {"order_id": "Z-4", "user_id": "zed", "total": 5, "placed_at": "yesterday"}
            ]}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let codes: Vec<&str> =
        v["error"]["details"]["rejected"].as_array().into_iter().flatten().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!(codes, ["invalid_order", "missing_identity", "invalid_order", "invalid_timestamp"], "{v}");
    let messages = v["error"]["details"]["rejected"].to_string();
    assert!(
        messages.contains("user_id or anonymous_id") && messages.contains("placed_at"),
        "named as posted: {messages}"
    );
    assert_eq!(app.log_head().await, before, "nothing stored");
    let (s, _) =
        app.send(Method::POST, "/api/v1/orders", VIEWER, json!({"order_id": "V", "user_id": "v", "total": 1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) =
        app.send(Method::POST, "/api/v1/orders", WRITE, json!({"order_id": "W", "user_id": "w", "total": 1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a write key only ingests");
    let (s, v) = app.get("/api/v1/overview/daily?from=2026-11-12&to=2026-11-01", ADMIN).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")));
    let (s, _) = app.get("/api/v1/orders?status=lost", ADMIN).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = app.get("/api/v1/orders/none", ADMIN).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

both_backends!(
    orders_from_both_paths_count_once_per_order_id,
    refunds_and_cancellations_change_orders_and_spend,
    a_merge_brings_the_orders_along,
    reviews_are_listed_by_product_and_by_profile,
    bad_orders_are_refused_and_only_data_roles_may_post,
);
