//! One profile per person, through the real ingest path.

mod common;

use common::{ADMIN, TestApp};
use serde_json::{Value, json};

async fn send(app: &TestApp, batch: Value) {
    let (s, v) = app.ingest("/v1/batch", &json!({ "batch": batch }).to_string()).await;
    assert_eq!(s, 200, "{v}");
}

fn kinds(p: &Value) -> Vec<String> {
    let mut v: Vec<String> = p["identities"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| format!("{}:{}", i["type"].as_str().unwrap_or(""), i["value"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

async fn anonymous_browsing_merges_into_the_shopper_at_login(app: &TestApp) {
    send(app, json!([
        {"type": "page", "anonymousId": "anon-1", "name": "Home", "messageId": "p1", "timestamp": "2026-05-01T10:00:00Z"},
        {"type": "track", "anonymousId": "anon-1", "event": "Product Viewed", "messageId": "p2", "timestamp": "2026-05-01T10:01:00Z",
         "context": {"device": {"id": "phone-1"}}},
    ]))
    .await;
    app.settle().await;
    let anon = app.profile("anonymous_id:anon-1").await;
    send(app, json!([
        {"type": "identify", "userId": "shopper-1", "anonymousId": "anon-2", "messageId": "p3", "timestamp": "2026-05-01T10:05:00Z",
         "traits": {"email": "Li.Lei@Example.com", "phone": "138-0013-8000", "name": "李雷"}},
        {"type": "track", "anonymousId": "anon-1", "event": "Signed In", "messageId": "p4", "timestamp": "2026-05-01T10:06:00Z",
         "context": {"traits": {"email": "li.lei@example.com"}}},
    ]))
    .await;
    app.settle().await;
    let p = app.profile("phone:%2B8613800138000").await;
    assert_eq!(
        kinds(&p),
        [
            "anonymous_id:anon-1",
            "anonymous_id:anon-2",
            "device_id:phone-1",
            "email:li.lei@example.com",
            "phone:+8613800138000",
            "user_id:shopper-1"
        ]
    );
    assert_eq!(p["event_count"], 4);
    assert_eq!(p["first_seen"], "2026-05-01T10:00:00Z");
    assert_eq!(p["traits"]["name"], "李雷");
    let merges = p["merges"].as_array().cloned().unwrap_or_default();
    assert_eq!(merges.len(), 1, "{p}");
    assert_eq!(merges[0]["reason"]["kind"], "shared_identity");
    assert_eq!(merges[0]["message_id"], "p4");
    // the old profile id still resolves, to the survivor
    let old = anon["id"].as_str().unwrap_or_default();
    let (s, resolved) = app.get(&format!("/api/v1/profiles/{old}"), ADMIN).await;
    assert_eq!((s.as_u16(), resolved["id"].clone()), (200, p["id"].clone()));
    let (_, timeline) = app.get(&format!("/api/v1/profiles/{old}/events?limit=3"), ADMIN).await;
    let ids: Vec<&str> = timeline["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["message_id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["p4", "p3", "p2"], "newest first");
    let cursor = timeline["next_cursor"].as_str().unwrap_or_default();
    let (_, rest) = app.get(&format!("/api/v1/profiles/{old}/events?limit=3&cursor={cursor}"), ADMIN).await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(rest["next_cursor"], Value::Null);
}

async fn two_user_ids_sharing_a_phone_stay_two_people(app: &TestApp) {
    send(
        app,
        json!([
            {"type": "identify", "userId": "mum", "traits": {"phone": "+86 139 0000 0000"}, "messageId": "f1"},
            {"type": "identify", "userId": "son", "traits": {"phone": "13900000000"}, "messageId": "f2"},
            {"type": "track", "userId": "son", "anonymousId": "shared-tablet", "event": "x", "messageId": "f3"},
            {"type": "track", "userId": "mum", "anonymousId": "shared-tablet", "event": "x", "messageId": "f4"},
        ]),
    )
    .await;
    app.settle().await;
    let (_, found) = app.get("/api/v1/profiles?identity=phone:13900000000", ADMIN).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(2), "{found}");
    let (_, tablet) = app.get("/api/v1/profiles?identity=anonymous_id:shared-tablet", ADMIN).await;
    assert_eq!(tablet["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.profile("user_id:mum").await["event_count"], 2);
}

async fn alias_merges_explicitly_and_says_so(app: &TestApp) {
    send(app, json!([
        {"type": "identify", "userId": "old-account", "traits": {"plan": "free"}, "messageId": "a1", "timestamp": "2026-01-01T00:00:00Z"},
        {"type": "identify", "userId": "new-account", "traits": {"plan": "pro"}, "messageId": "a2", "timestamp": "2026-02-01T00:00:00Z"},
        {"type": "alias", "userId": "new-account", "previousId": "old-account", "messageId": "a3", "timestamp": "2026-02-02T00:00:00Z"},
    ]))
    .await;
    app.settle().await;
    let p = app.profile("user_id:old-account").await;
    assert_eq!(p, app.profile("user_id:new-account").await);
    assert_eq!(p["traits"]["plan"], "pro", "newest trait wins");
    assert_eq!(p["merges"][0]["reason"], json!({"kind": "alias", "previous_id": "old-account"}));
    // later events under either user id land on the merged profile
    send(
        app,
        json!([
            {"type": "track", "userId": "old-account", "event": "x", "messageId": "a4"},
            {"type": "track", "userId": "new-account", "event": "y", "messageId": "a5"},
        ]),
    )
    .await;
    app.settle().await;
    assert_eq!(app.profile("user_id:old-account").await["event_count"], 5);
}

async fn traits_merge_key_by_key_newest_first_in_any_arrival_order(app: &TestApp) {
    send(
        app,
        json!([
            {"type": "identify", "userId": "t1", "messageId": "t-b", "timestamp": "2026-03-02T00:00:00Z",
             "traits": {"city": "深圳", "tags": ["vip", "早鸟"]}},
            {"type": "identify", "userId": "t1", "messageId": "t-a", "timestamp": "2026-03-01T00:00:00Z",
             "traits": {"city": "北京", "age": 31, "address": {"street": "长安街", "zip": null}}},
        ]),
    )
    .await;
    app.settle().await;
    let p = app.profile("user_id:t1").await;
    assert_eq!(
        p["traits"],
        json!({"city": "深圳", "tags": ["vip", "早鸟"], "age": 31, "address": {"street": "长安街", "zip": null}})
    );
}

both_backends!(
    anonymous_browsing_merges_into_the_shopper_at_login,
    two_user_ids_sharing_a_phone_stay_two_people,
    alias_merges_explicitly_and_says_so,
    traits_merge_key_by_key_newest_first_in_any_arrival_order,
);
