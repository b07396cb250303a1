//! A person's rights: everything held about them as one document, and
//! erasure (profile, merged profiles, identities, events and their bodies in
//! the log, reviews) keeping their orders for the books without them; both
//! admin only and audited, on both stores.

mod common;

use axum::http::{Method, StatusCode};
use beacon_store::Store as _;
use common::{ADMIN, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

const SECRET: &str = "gone.person@example.org";

/// Everything sent so far processed, on the log or on the bus's partitions.
async fn settle(app: &TestApp) {
    app.caught_up(std::time::Duration::from_secs(30)).await;
    app.settle().await;
}

async fn send(app: &TestApp, batch: Value) {
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": batch }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

/// Two people: `gone` (browsing anonymously, then logging in: two profiles
/// merged; an order, a review) and `stays`.
async fn two_people(app: &TestApp) -> String {
    let user = json!({"type": "identify", "userId": "gone", "messageId": "g0",
                      "traits": {"email": SECRET, "phone": "+8613900001111", "name": "将被遗忘"}});
    let browsing = json!({"type": "page", "anonymousId": "gone-device", "messageId": "g1", "name": "Home"});
    for first in [user, browsing] {
        send(app, json!([first])).await;
        settle(app).await;
    }
    send(
        app,
        json!([
            {"type": "identify", "userId": "gone", "anonymousId": "gone-device", "messageId": "g2"},
            {"type": "track", "userId": "gone", "messageId": "g3", "event": "Order Completed",
             "properties": {"order_id": "ER-1", "total": 30, "currency": "CNY",
                            "products": [{"product_id": "TEA-1", "price": 30, "quantity": 1}]}},
            {"type": "track", "userId": "gone", "messageId": "g4", "event": "Product Reviewed",
             "properties": {"product_id": "TEA-1", "rating": 5, "review_body": "好茶，我是将被遗忘"}},
            {"type": "identify", "userId": "stays", "messageId": "s1", "traits": {"email": "stays@example.org"}},
            {"type": "track", "userId": "stays", "messageId": "s2", "event": "Product Viewed",
             "properties": {"product_id": "TEA-1"}},
        ]),
    )
    .await;
    settle(app).await;
    let gone = app.profile("user_id:gone").await;
    assert_eq!(gone["merges"].as_array().map(Vec::len), Some(1), "browsing and login merged: {gone}");
    gone["id"].as_str().expect("id").to_string()
}

async fn a_person_gets_everything_held_about_them(app: &TestApp) {
    let id = two_people(app).await;
    let (s, v) = app.get(&format!("/api/v1/profiles/{id}/export"), VIEWER).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{v}");
    let (s, doc) = app.get(&format!("/api/v1/profiles/{id}/export"), ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{doc}");
    assert_eq!(doc["profile"]["traits"]["email"], SECRET, "in full: {doc}");
    assert_eq!(doc["events"].as_array().map(Vec::len), Some(5), "{doc}");
    assert_eq!(doc["orders"][0]["order_id"], "ER-1");
    assert_eq!(doc["reviews"][0]["text"], "好茶，我是将被遗忘");
    assert!(doc["points"].is_object() && doc["coupons"].is_array(), "{doc}");
    let (_, audit) = app.get(&format!("/api/v1/audit?target=profile:{id}"), ADMIN).await;
    assert_eq!(audit["items"][0]["action"], "profile.export", "{audit}");
}

async fn an_erased_person_is_gone_and_their_orders_stay(app: &TestApp) {
    let id = two_people(app).await;
    let (_, before) = app.get("/api/v1/overview", ADMIN).await;
    let (s, _) = app.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), VIEWER, json!(null)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, report) = app.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), ADMIN, json!(null)).await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!((report["events"].as_u64(), report["event_bodies_overwritten"].as_u64()), (Some(5), Some(5)));
    assert_eq!(report["profiles"].as_array().map(Vec::len), Some(2), "the merged one too: {report}");
    assert_eq!(report["orders_kept_without_buyer"], json!(["ER-1"]));

    // the person: not by id, not by any identity; the other person untouched
    assert_eq!(app.get(&format!("/api/v1/profiles/{id}"), ADMIN).await.0, StatusCode::NOT_FOUND);
    for identity in ["user_id:gone", "anonymous_id:gone-device", &format!("email:{SECRET}")] {
        let (_, found) = app.get(&format!("/api/v1/profiles?identity={identity}"), ADMIN).await;
        assert_eq!(found["items"], json!([]), "{identity}");
    }
    assert_eq!(app.profile("user_id:stays").await["event_count"], 2);
    // its only review went with them: the product (not in the catalog) is not found
    let (s, reviews) = app.get("/api/v1/products/TEA-1/reviews", ADMIN).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{reviews}");

    // the books: the order, owned by nobody; one profile and its events fewer
    let (s, order) = app.get("/api/v1/orders/ER-1", ADMIN).await;
    assert_eq!((s, order["total"].as_str()), (StatusCode::OK, Some("30.00")), "{order}");
    assert_eq!(order["profile_id"], "00000000-0000-0000-0000-000000000000");
    let (_, after) = app.get("/api/v1/overview", ADMIN).await;
    assert_eq!(after["profiles"].as_i64(), before["profiles"].as_i64().map(|n| n - 1), "{after}");
    assert_eq!(after["events"].as_i64(), before["events"].as_i64().map(|n| n - 5));
    assert_eq!(
        (after["orders"].clone(), after["revenue"].clone()),
        (before["orders"].clone(), before["revenue"].clone())
    );

    // the log keeps their records' places, not what they said
    let records = app.store.log().read(0, 10_000).await.expect("read the log");
    let text: String = records.iter().map(|r| r.record.payload.clone()).collect();
    assert!(!text.contains("gone") && !text.contains(SECRET) && text.contains("stays@example.org"), "{text}");

    // audited; asked again, there is nothing to erase
    let (_, audit) = app.get(&format!("/api/v1/audit?target=profile:{id}"), ADMIN).await;
    assert_eq!(audit["items"][0]["action"], "profile.erase", "{audit}");
    let (s, _) = app.send(Method::DELETE, &format!("/api/v1/profiles/{id}"), ADMIN, json!(null)).await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // after: a refund of the kept order applies to it; the person coming
    // back is a new profile, with nothing of the old one
    send(
        app,
        json!([
            {"type": "track", "userId": "gone", "messageId": "g5", "event": "Order Refunded",
             "properties": {"order_id": "ER-1", "total": 30, "currency": "CNY"}},
            {"type": "identify", "userId": "gone", "messageId": "g6", "traits": {"plan": "new"}},
        ]),
    )
    .await;
    settle(app).await;
    let (_, order) = app.get("/api/v1/orders/ER-1", ADMIN).await;
    assert_eq!(order["status"], "refunded", "{order}");
    let back = app.profile("user_id:gone").await;
    assert_ne!(back["id"].as_str(), Some(id.as_str()));
    assert_eq!((back["traits"].get("email"), back["event_count"].as_i64()), (None, Some(2)), "{back}");
}

both_backends!(a_person_gets_everything_held_about_them, an_erased_person_is_gone_and_their_orders_stay);

/// On the bus (NATS JetStream, workers sharing its partitions, PostgreSQL):
/// the person's messages sit in several partitions; the erasure takes the
/// locks their batches take, and the same holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_person_is_gone_on_the_bus_too() {
    let bus = common::TestBus::new(3).await;
    let app = TestApp::with_bus(&bus, |_| {}).await;
    an_erased_person_is_gone_and_their_orders_stay(&app).await;
    app.stop().await;
    bus.destroy().await;
}
