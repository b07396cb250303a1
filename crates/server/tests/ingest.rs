//! The Segment tracking API over the real router, writer, processor and store.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{ADMIN, Backend, TestApp, WRITE, basic};
use serde_json::json;
use std::io::Write;

async fn a_retried_message_id_is_stored_once(app: &TestApp) {
    let body = r#"{"userId":"u1","event":"Product Viewed","messageId":"dup-1","properties":{"sku":"A1"}}"#;
    for _ in 0..3 {
        let (s, v) = app.ingest("/v1/track", body).await;
        assert_eq!((s, v), (StatusCode::OK, json!({"success": true})));
    }
    let batch = json!({"batch": [{"type": "track", "userId": "u1", "event": "Product Viewed", "messageId": "dup-1"}]});
    assert_eq!(app.ingest("/v1/batch", &batch.to_string()).await.0, StatusCode::OK);
    app.settle().await;
    let p = app.profile("user_id:u1").await;
    assert_eq!(p["event_count"], 1);
    let (_, o) = app.get("/api/v1/overview", ADMIN).await;
    assert_eq!((o["events"].clone(), o["profiles"].clone()), (json!(1), json!(1)));
}

async fn a_batch_stores_the_valid_events_and_lists_the_rejected_ones(app: &TestApp) {
    let batch = json!({"batch": [
        {"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "ok-1",
         "properties": {"order_id": "o-1", "total": 9.9}},
        {"type": "track", "userId": "u2", "messageId": "no-event-name"},
        {"type": "identify", "messageId": "no-ids", "traits": {"a": 1}},
        {"type": "page", "anonymousId": "a2", "messageId": "ok-2", "timestamp": "not a time"},
        "not an object",
        {"type": "screen", "anonymousId": "a2", "messageId": "ok-3", "name": "Home"},
        {"type": "track", "userId": "u2", "event": "Order Completed", "messageId": "no-order-id", "properties": {"total": 1}}
    ]});
    let (s, v) = app.ingest("/v1/batch", &batch.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let rejected: Vec<(u64, String)> = v["rejected"]
        .as_array()
        .map(|a| {
            a.iter().map(|r| (r["index"].as_u64().unwrap_or(99), r["code"].as_str().unwrap_or("").into())).collect()
        })
        .unwrap_or_default();
    assert_eq!(
        rejected,
        [
            (1, "invalid_event".into()),
            (2, "missing_identity".into()),
            (3, "invalid_timestamp".into()),
            (4, "invalid_event".into()),
            (6, "invalid_order".into())
        ]
    );
    app.settle().await;
    let overview = app.get("/api/v1/overview", ADMIN).await.1;
    assert_eq!((overview["events"].as_i64(), overview["orders"].as_i64()), (Some(2), Some(1)), "{overview}");
    assert_eq!(overview["revenue"], "9.90");
}

async fn bad_bodies_get_a_code_and_store_nothing(app: &TestApp) {
    let before = app.log_head().await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("/v1/track", "{not json".into(), "malformed_json"),
        ("/v1/batch", r#"{"batch": 5}"#.into(), "malformed_json"),
        ("/v1/batch", r#"{"batch": [{"type":"track"}]}"#.into(), "invalid_event"),
        ("/v1/track", r#"{"userId": "u", "event": 5}"#.into(), "invalid_event"),
        ("/v1/track", r#"{"userId": ["u"], "event": "x"}"#.into(), "invalid_event"),
        ("/v1/identify", r#"{"traits": {"email": "a@b.c"}}"#.into(), "missing_identity"),
        (
            "/v1/track",
            format!(r#"{{"userId":"u","event":"e","properties":{{"x":"{}"}}}}"#, "y".repeat(40_000)),
            "payload_too_large",
        ),
        ("/v1/batch", format!(r#"{{"batch":[], "pad":"{}"}}"#, "z".repeat(600_000)), "payload_too_large"),
    ];
    for (path, body, code) in cases {
        let (s, v) = app.ingest(path, &body).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{path} {code}: {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert_eq!(app.log_head().await, before, "nothing half-stored");
    // and the server keeps serving
    assert_eq!(app.ingest("/v1/page", r#"{"anonymousId":"still-ok"}"#).await.0, StatusCode::OK);
}

fn gzip(s: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(s.as_bytes()).expect("gzip");
    enc.finish().expect("gzip")
}

async fn gzip_and_text_plain_bodies_and_body_write_keys_are_accepted(app: &TestApp) {
    let body = json!({"batch": [{"type": "identify", "userId": "gz", "traits": {"名字": "张三"}, "messageId": "g1"}]});
    let req = Request::post("/v1/batch")
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .header("authorization", basic(WRITE))
        .body(Body::from(gzip(&body.to_string())))
        .expect("request");
    assert_eq!(app.request(req).await.0, StatusCode::OK);
    let beacon = json!({"writeKey": WRITE, "anonymousId": "tp", "event": "Clicked", "messageId": "t1"});
    let req = Request::post("/v1/t")
        .header("content-type", "text/plain")
        .body(Body::from(beacon.to_string()))
        .expect("request");
    assert_eq!(app.request(req).await.0, StatusCode::OK);
    let bad = Request::post("/v1/batch")
        .header("content-encoding", "gzip")
        .header("authorization", basic(WRITE))
        .body(Body::from("definitely not gzip"))
        .expect("request");
    let (s, v, _) = app.request(bad).await;
    assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_encoding")));
    // a gzip bomb stops at the limit
    let bomb = format!(r#"{{"batch":[],"pad":"{}"}}"#, "0".repeat(5_000_000));
    let req = Request::post("/v1/batch")
        .header("content-encoding", "gzip")
        .header("authorization", basic(WRITE))
        .body(Body::from(gzip(&bomb)))
        .expect("request");
    let (s, v, _) = app.request(req).await;
    assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!("payload_too_large")));
    app.settle().await;
    assert_eq!(app.profile("user_id:gz").await["traits"]["名字"], "张三");
    assert_eq!(app.profile("anonymous_id:tp").await["event_count"], 1);
}

async fn ingest_needs_a_write_key(app: &TestApp) {
    let body = r#"{"userId":"u","event":"e"}"#;
    let cases = [
        (None, "missing_write_key"),
        (Some(basic("wrong-key")), "invalid_write_key"),
        (Some(basic(ADMIN)), "invalid_write_key"),
    ];
    for (auth, code) in cases {
        let mut req = Request::post("/v1/track").header("content-type", "application/json");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let (s, v, _) = app.request(req.body(Body::from(body)).expect("request")).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::UNAUTHORIZED, json!(code)));
    }
}

/// The server's clock stands at `received`; the client's runs two hours
/// ahead: the event's time is the server's receipt less the 30.25 s the
/// client says passed between the event and sending it.
async fn clock_skew_is_corrected_and_every_field_is_kept(backend: Backend) {
    let received = chrono::DateTime::parse_from_rfc3339("2026-11-11T04:00:00Z").expect("time").to_utc();
    let clock = std::sync::Arc::new(beacon_server::app::ManualClock::new(received));
    let app = TestApp::with_clock(backend, |_| {}, clock).await;
    let sent = received + chrono::Duration::hours(2);
    let ts = sent - chrono::Duration::milliseconds(30_250);
    let msg = json!({
        "type": "track", "userId": "skew", "anonymousId": null, "event": "Checkout Started", "messageId": "s1",
        "timestamp": ts.to_rfc3339(), "sentAt": sent.to_rfc3339(),
        "context": {"device": {"id": "dev-1"}, "library": {"name": "x"}}, "integrations": {"All": true},
        "properties": {"nested": {"a": [1, 2, {"b": "ü"}]}}
    });
    assert_eq!(app.ingest("/v1/batch", &json!({"batch": [msg.clone()]}).to_string()).await.0, StatusCode::OK);
    app.settle().await;
    let p = app.profile("device_id:dev-1").await;
    let id = p["id"].as_str().unwrap_or_default().to_string();
    let (_, events) = app.get(&format!("/api/v1/profiles/{id}/events"), ADMIN).await;
    let e = &events["items"][0];
    assert_eq!(e["message"], msg, "stored exactly as sent");
    let at = e["timestamp"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).expect("timestamp");
    assert_eq!(at.to_utc(), received - chrono::Duration::milliseconds(30_250), "{e}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_corrected_on_the_embedded_store() {
    clock_skew_is_corrected_and_every_field_is_kept(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_skew_is_corrected_on_postgres() {
    clock_skew_is_corrected_and_every_field_is_kept(Backend::Postgres).await;
}

async fn a_batch_context_applies_to_every_message(app: &TestApp) {
    let batch = json!({
        "context": {"device": {"id": "batch-device"}, "locale": "zh-CN"},
        "batch": [
            {"type": "track", "anonymousId": "bc-1", "event": "A", "messageId": "bc-a"},
            {"type": "track", "anonymousId": "bc-1", "event": "B", "messageId": "bc-b", "context": {"locale": "en-US"}}
        ]
    });
    assert_eq!(app.ingest("/v1/batch", &batch.to_string()).await.0, StatusCode::OK);
    app.settle().await;
    let p = app.profile("device_id:batch-device").await;
    let id = p["id"].as_str().unwrap_or_default().to_string();
    let (_, events) = app.get(&format!("/api/v1/profiles/{id}/events"), ADMIN).await;
    let locales: Vec<&str> = events["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["message"]["context"]["locale"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(locales, ["en-US", "zh-CN"], "the message's own context wins");
    // a batch context cannot smuggle events past the per-event limit
    let pad = "x".repeat(40_000);
    let big = json!({"context": {"pad": pad}, "batch": [{"type": "page", "anonymousId": "bc-2"}]});
    let (s, v) = app.ingest("/v1/batch", &big.to_string()).await;
    assert_eq!(
        (s, v["error"]["details"]["rejected"][0]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("payload_too_large"))
    );
}

both_backends!(
    a_batch_context_applies_to_every_message,
    a_retried_message_id_is_stored_once,
    a_batch_stores_the_valid_events_and_lists_the_rejected_ones,
    bad_bodies_get_a_code_and_store_nothing,
    gzip_and_text_plain_bodies_and_body_write_keys_are_accepted,
    ingest_needs_a_write_key,
);
