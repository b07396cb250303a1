//! Memberships in real time, on both stores, with a clock the test moves:
//! a profile enters a windowed segment as its event is processed (and a
//! segment built on that one in the same transaction), both entries are
//! events in its timeline, it leaves on the day the event leaves the window
//! without another event (a timer), a merged device's membership goes to
//! its person, and at every step the kept members are what deciding from
//! scratch finds.

mod common;

use axum::http::{Method, StatusCode};
use beacon_server::app::{Clock, ManualClock};
use chrono::{DateTime, Duration, Utc};
use common::segments::{id_of, kept_as_decided, segments_of};
use common::{ADMIN, Backend, TestApp, WRITE};
use serde_json::{Value, json};
use std::sync::Arc;

async fn send(app: &TestApp, messages: Value) {
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": messages }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

fn view(who: (&str, &str), at: DateTime<Utc>) -> Value {
    json!({"type": "track", who.0: who.1, "event": "Product Viewed", "timestamp": at.to_rfc3339(),
           "properties": {"product_id": "P1"}})
}

async fn members(app: &TestApp, segment: &str) -> i64 {
    app.get(&format!("/api/v1/segments/{segment}"), ADMIN).await.1["members"].as_i64().expect("members")
}

/// The segment events in a profile's timeline, oldest first.
async fn segment_events(app: &TestApp, id: &str) -> Vec<String> {
    let (_, v) = app.get(&format!("/api/v1/profiles/{id}/events?limit=100"), ADMIN).await;
    let mut out: Vec<String> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["name"].as_str().is_some_and(|n| n.starts_with("Segment ")))
        .map(|e| {
            format!(
                "{} {}",
                e["name"].as_str().unwrap_or(""),
                e["message"]["properties"]["segment_id"].as_str().unwrap_or("")
            )
        })
        .collect();
    out.reverse();
    out.sort();
    out
}

async fn realtime(app: &TestApp, clock: &ManualClock) {
    let t0 = clock.now();
    for (id, text) in [
        ("recent", r#"performed "Product Viewed" within 7d"#),
        ("recent-sh", r#"in segment "recent" and city = "上海""#),
    ] {
        let (s, v) =
            app.send(Method::POST, "/api/v1/segments", ADMIN, json!({"id": id, "name": id, "text": text})).await;
        assert_eq!((s, v["members"].as_i64()), (StatusCode::CREATED, Some(0)), "{v}");
    }
    let seen = t0 - Duration::hours(1);
    send(
        app,
        json!([
            {"type": "identify", "userId": "u1", "traits": {"city": "上海"}, "timestamp": seen.to_rfc3339()},
            view(("userId", "u1"), seen),
            view(("userId", "u2"), t0),
        ]),
    )
    .await;
    app.settle().await;
    let (u1, u2) = (id_of(app, "u1").await, id_of(app, "u2").await);
    assert_eq!(segments_of(app, &u1).await, ["recent", "recent-sh"], "entered both in the batch's transaction");
    assert_eq!(segments_of(app, &u2).await, ["recent"]);
    assert_eq!((members(app, "recent").await, members(app, "recent-sh").await), (2, 1));
    // the entries are events in the log, processed into the timeline
    app.settle().await;
    assert_eq!(segment_events(app, &u1).await, ["Segment Entered recent", "Segment Entered recent-sh"]);
    kept_as_decided(app, "recent").await;

    // a second before u1's view leaves the window: still in; at that moment: out, with no event of u1's
    clock.set(seen + Duration::days(7) - Duration::seconds(1));
    app.settle().await;
    assert_eq!(segments_of(app, &u1).await, ["recent", "recent-sh"]);
    clock.set(seen + Duration::days(7));
    app.settle().await;
    assert_eq!(segments_of(app, &u1).await, Vec::<String>::new(), "left on the day, by its timer");
    assert_eq!(segments_of(app, &u2).await, ["recent"], "u2's view is an hour younger");
    assert_eq!((members(app, "recent").await, members(app, "recent-sh").await), (1, 0));
    app.settle().await;
    let events = segment_events(app, &u1).await;
    assert_eq!(events.len(), 4, "{events:?}");
    assert!(
        events.contains(&"Segment Exited recent".to_string())
            && events.contains(&"Segment Exited recent-sh".to_string())
    );
    kept_as_decided(app, "recent").await;
    kept_as_decided(app, "recent-sh").await;

    // a device that viewed, then logged in as u3: one member, the person
    let now = clock.now();
    send(app, json!([view(("anonymousId", "dev-3"), now)])).await;
    app.settle().await;
    assert_eq!(members(app, "recent").await, 2);
    send(
        app,
        json!([{"type": "identify", "userId": "u3", "anonymousId": "dev-3", "traits": {"city": "上海"},
                      "timestamp": now.to_rfc3339()}]),
    )
    .await;
    app.settle().await;
    let u3 = id_of(app, "u3").await;
    assert_eq!(segments_of(app, &u3).await, ["recent", "recent-sh"]);
    assert_eq!((members(app, "recent").await, members(app, "recent-sh").await), (2, 1));
    kept_as_decided(app, "recent").await;
    kept_as_decided(app, "recent-sh").await;
    // the count history has this hour's figure
    let (_, h) = app.get("/api/v1/segments/recent/history", ADMIN).await;
    assert_eq!(h["items"].as_array().and_then(|i| i.last()).map(|x| x["members"].clone()), Some(json!(2)), "{h}");

    // "recent" edited so that u3 (上海) leaves it: "recent-sh", which names it, lets u3 go too
    let text = r#"performed "Product Viewed" within 7d and city = "北京""#;
    let (s, v) = app.send(Method::PUT, "/api/v1/segments/recent", ADMIN, json!({"name": "recent", "text": text})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(segments_of(app, &u3).await, Vec::<String>::new());
    assert_eq!((members(app, "recent").await, members(app, "recent-sh").await), (0, 0));
    kept_as_decided(app, "recent-sh").await;
}

/// A newcomer is decided for every segment (one that holds without any
/// event holds for it too), and an event outside a segment's window or
/// filters, which no leaf is moved by, changes nothing.
async fn newcomers(app: &TestApp, clock: &ManualClock) {
    for (id, text) in [
        ("no-order", r#"not performed "Order Completed""#),
        ("viewed-2d", r#"performed "Product Viewed" >= 1 within 2d where product_id = "P1""#),
    ] {
        let (s, v) =
            app.send(Method::POST, "/api/v1/segments", ADMIN, json!({"id": id, "name": id, "text": text})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let now = clock.now();
    let old = now - Duration::days(30);
    let mut other = view(("userId", "u11"), now);
    other["properties"]["product_id"] = json!("P2");
    send(
        app,
        json!([{"type": "identify", "userId": "u9", "traits": {"city": "北京"}, "timestamp": now.to_rfc3339()},
               view(("userId", "u10"), old), other]),
    )
    .await;
    app.settle().await;
    for u in ["u9", "u10", "u11"] {
        assert_eq!(segments_of(app, &id_of(app, u).await).await, ["no-order"], "{u}");
    }
    send(app, json!([view(("userId", "u10"), now)])).await;
    app.settle().await;
    assert_eq!(segments_of(app, &id_of(app, "u10").await).await, ["no-order", "viewed-2d"]);
    let order = json!({"type": "track", "userId": "u9", "event": "Order Completed", "timestamp": old.to_rfc3339(),
                       "properties": {"order_id": "o-u9", "total": "10", "currency": "CNY"}});
    send(app, json!([order])).await;
    app.settle().await;
    assert_eq!(segments_of(app, &id_of(app, "u9").await).await, Vec::<String>::new(), "an old order still counts");
    kept_as_decided(app, "no-order").await;
    kept_as_decided(app, "viewed-2d").await;
}

async fn run(backend: Backend) {
    let clock = Arc::new(ManualClock::new("2026-11-02T10:00:00Z".parse().expect("time")));
    let app = TestApp::with_clock(backend, |_| {}, clock.clone() as Arc<dyn Clock>).await;
    realtime(&app, &clock).await;
    newcomers(&app, &clock).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_on_the_embedded_store() {
    run(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_on_postgres() {
    run(Backend::Postgres).await;
}
