//! A deterministic stream of shoppers' messages — anonymous browsing, logins
//! that merge, orders, refunds, retried orders and resent messages — and
//! the profiles it leaves, to compare two ways of processing it.

use super::TestApp;
use axum::http::StatusCode;
use serde_json::{Value, json};

pub const SHOPPERS: u64 = 12;

/// A deterministic stream of `n` messages (a small LCG: no seed to record).
pub fn stream(n: usize) -> Vec<Value> {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |m: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    let mut out: Vec<Value> = Vec::with_capacity(n);
    let mut orders = Vec::new();
    for i in 0..n {
        let s = next(SHOPPERS);
        let at = format!("2026-11-11T{:02}:{:02}:{:02}Z", i / 3600, (i / 60) % 60, i % 60);
        let id = format!("m-{i}");
        let msg = match next(9) {
            0 | 1 => json!({"type": "track", "anonymousId": format!("anon-{s}"), "event": "Product Viewed",
                "messageId": id, "timestamp": at, "properties": {"product_id": format!("p-{}", next(5))}}),
            2 => {
                let plan = ["free", "pro", "vip"][next(3) as usize];
                json!({"type": "identify", "anonymousId": format!("anon-{s}"), "userId": format!("user-{s}"),
                "messageId": id, "timestamp": at,
                "traits": {"email": format!("s{s}@example.com"), "plan": plan}})
            }
            3 => json!({"type": "track", "userId": format!("user-{s}"), "event": "Product Viewed",
                "messageId": id, "timestamp": at, "properties": {"product_id": format!("p-{}", next(5))}}),
            4 => {
                let order = format!("o-{i}");
                orders.push((s, order.clone()));
                json!({"type": "track", "userId": format!("user-{s}"), "event": "Order Completed", "messageId": id,
                    "timestamp": at, "properties": {"order_id": order, "total": format!("{}.{:02}", 10 + next(90), next(100)),
                    "currency": "CNY", "products": [{"product_id": format!("p-{}", next(5)), "price": 10, "quantity": 1}]}})
            }
            5 if !orders.is_empty() => {
                let (buyer, order) = orders[next(orders.len() as u64) as usize].clone();
                let part =
                    if next(2) == 0 { json!({"order_id": order, "total": 3}) } else { json!({"order_id": order}) };
                json!({"type": "track", "userId": format!("user-{buyer}"), "event": "Order Refunded",
                    "messageId": id, "timestamp": at, "properties": part})
            }
            6 if !orders.is_empty() => {
                // a back end re-sending an order under a new messageId
                let (buyer, order) = orders[next(orders.len() as u64) as usize].clone();
                json!({"type": "track", "userId": format!("user-{buyer}"), "event": "Order Completed", "messageId": id,
                    "timestamp": at, "properties": {"order_id": order, "total": "1.00", "currency": "CNY"}})
            }
            7 if i > 0 => out[next(i as u64) as usize].clone(), // an SDK resending a message
            _ => json!({"type": "identify", "userId": format!("user-{s}"), "messageId": id, "timestamp": at,
                "traits": {"phone": format!("+86138001380{s:02}"), "visits": next(50)}}),
        };
        out.push(msg);
    }
    out
}

pub async fn ingest(app: &TestApp, messages: &[Value]) {
    for chunk in messages.chunks(3) {
        let (s, v) = app.ingest("/v1/batch", &json!({ "batch": chunk }).to_string()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
}

/// Each shopper's profile, without the ids a run draws at random.
pub async fn profiles(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for s in 0..SHOPPERS {
        for identity in [format!("user_id:user-{s}"), format!("anonymous_id:anon-{s}")] {
            let (status, v) = app.get(&format!("/api/v1/profiles?identity={identity}"), super::ADMIN).await;
            assert_eq!(status, StatusCode::OK, "{v}");
            let mut items = v["items"].as_array().cloned().unwrap_or_default();
            for p in &mut items {
                let merges = p["merges"].as_array().map_or(0, Vec::len);
                let p = p.as_object_mut().expect("a profile is an object");
                p.remove("id");
                p.insert("merges".into(), json!(merges));
            }
            out.push(json!({ identity: items }));
        }
    }
    out
}
