//! The catalog API on both stores: upserts, filters, the category tree,
//! audited price and stock changes, and product events linked by id or SKU.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, VIEWER};
use serde_json::{Value, json};

fn ids(v: &Value) -> Vec<String> {
    v["items"].as_array().into_iter().flatten().filter_map(|p| p["product_id"].as_str().map(String::from)).collect()
}

async fn products_are_upserted_filtered_and_audited(app: &TestApp) {
    let tea = json!({"product_id": "tea-1", "sku": "T1", "name": "西湖龙井", "category": "茶叶/绿茶",
        "brand": "狮峰", "tags": ["新品"], "price": "298.00", "stock": 10});
    let (s, v) = app.send(Method::POST, "/api/v1/products", ADMIN, tea.clone()).await;
    assert_eq!((s, v["price"].as_str()), (StatusCode::CREATED, Some("298.00")), "{v}");
    let (s, v) = app
        .send(Method::POST, "/api/v1/products/bulk", ADMIN, json!({"products": [
            tea,
            {"product_id": "tea-2", "sku": "T2", "name": "Tieguanyin", "category": ["茶叶", "乌龙"], "price": 158, "tags": ["礼盒"]},
            {"product_id": "cup-1", "name": "Gaiwan", "category": "茶具", "price": "59.9", "status": "off_shelf"},
            {"product_id": "bad", "name": "no price"},
            {"product_id": "dup", "sku": "T1", "name": "same sku", "price": 1}
        ]}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!((v["created"].as_i64(), v["unchanged"].as_i64()), (Some(2), Some(1)), "{v}");
    let codes: Vec<&str> = v["rejected"].as_array().into_iter().flatten().filter_map(|r| r["code"].as_str()).collect();
    assert_eq!(codes, ["invalid_product", "conflict"], "{v}");

    assert_eq!(ids(&app.get("/api/v1/products?category=%E8%8C%B6%E5%8F%B6", ADMIN).await.1), ["tea-1", "tea-2"]);
    assert_eq!(ids(&app.get("/api/v1/products?status=off_shelf", VIEWER).await.1), ["cup-1"]);
    assert_eq!(ids(&app.get("/api/v1/products?q=guan", ADMIN).await.1), ["tea-2"]);
    let (_, page) = app.get("/api/v1/products?limit=2", ADMIN).await;
    let cursor = page["next_cursor"].as_str().unwrap_or("").to_string();
    assert_eq!(ids(&app.get(&format!("/api/v1/products?limit=2&cursor={cursor}"), ADMIN).await.1), ["tea-2"]);

    let (_, tree) = app.get("/api/v1/categories", ADMIN).await;
    let top: Vec<(String, i64)> = tree["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["name"].as_str().unwrap_or("").into(), c["products"].as_i64().unwrap_or(0)))
        .collect();
    assert_eq!(top, [("茶具".into(), 1), ("茶叶".into(), 2)], "{tree}");
    assert_eq!(tree["items"][1]["children"][0]["path"], "茶叶/乌龙");

    // a price and stock change is audited with before → after
    let (s, v) = app
        .send(
            Method::PUT,
            "/api/v1/products/tea-1",
            ADMIN,
            json!({"sku": "T1", "name": "西湖龙井", "category": "茶叶/绿茶",
            "brand": "狮峰", "tags": ["新品"], "price": "318", "stock": 8}),
        )
        .await;
    assert_eq!((s, v["price"].as_str(), v["stock"].as_i64()), (StatusCode::OK, Some("318.00"), Some(8)), "{v}");
    let (_, h) = app.get("/api/v1/products/tea-1/history", VIEWER).await;
    assert_eq!(h["items"][0]["action"], "product.update", "{h}");
    assert_eq!(h["items"][0]["before"], json!({"price": "298.00", "stock": 10}));
    assert_eq!(h["items"][0]["after"], json!({"price": "318.00", "stock": 8}));
    assert_eq!(h["items"].as_array().map(Vec::len), Some(2), "created, then one change: {h}");

    let (s, _) =
        app.send(Method::POST, "/api/v1/products", VIEWER, json!({"product_id": "x", "name": "x", "price": 1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) =
        app.send(Method::POST, "/api/v1/products", ADMIN, json!({"product_id": "x", "name": "x", "price": -1})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_product")));
    let (s, v) = app
        .send(Method::POST, "/api/v1/products", ADMIN, json!({"product_id": "x", "sku": "T2", "name": "x", "price": 1}))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(app.send(Method::DELETE, "/api/v1/products/cup-1", ADMIN, json!(null)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/products/cup-1", ADMIN).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.send(Method::DELETE, "/api/v1/products/cup-1", ADMIN, json!(null)).await.0, StatusCode::NOT_FOUND);
}

async fn product_events_link_by_id_or_sku(app: &TestApp) {
    let (s, _) = app
        .send(
            Method::POST,
            "/api/v1/products",
            ADMIN,
            json!({"product_id": "tea-1", "sku": "T1", "name": "龙井", "price": 1}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let batch = json!({"batch": [
        {"type": "track", "userId": "u1", "event": "Product Viewed", "messageId": "v1", "timestamp": "2026-11-01T00:00:00Z",
         "properties": {"product_id": "tea-1"}},
        {"type": "track", "userId": "u2", "event": "Product Added", "messageId": "v2", "timestamp": "2026-11-02T00:00:00Z",
         "properties": {"sku": "T1", "quantity": 1}},
        {"type": "track", "userId": "u2", "event": "Product Viewed", "messageId": "v3", "timestamp": "2026-11-03T00:00:00Z",
         "properties": {"product_id": "other"}},
        {"type": "track", "userId": "u2", "event": "Checkout Started", "messageId": "v4", "properties": {"product_id": "tea-1"}}
    ]});
    assert_eq!(app.ingest("/v1/batch", &batch.to_string()).await.0, StatusCode::OK);
    app.settle().await;
    let (_, v) = app.get("/api/v1/products/tea-1/events", ADMIN).await;
    let got: Vec<&str> = v["items"].as_array().into_iter().flatten().filter_map(|e| e["message_id"].as_str()).collect();
    assert_eq!(got, ["v2", "v1"], "newest first, by id and by SKU: {v}");
    assert_eq!(v["items"][0]["product"], "T1");
}

both_backends!(products_are_upserted_filtered_and_audited, product_events_link_by_id_or_sku);
