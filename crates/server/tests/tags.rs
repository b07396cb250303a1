//! Tags on both stores: computed tags of every family for a shop counted by
//! hand, a tag given by hand (kept by later sweeps, audited, counted in a
//! segment), a tag rule and its removal, the list filter, and bad input.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, DurationRound, Utc};
use common::{ADMIN, CLIENT_WRITE, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

fn order(user: &str, id: &str, days_ago: i64, total: &str, coupon: Option<&str>) -> Value {
    let at = Utc::now() - Duration::days(days_ago);
    let mut p = json!({"order_id": id, "total": total, "currency": "CNY",
        "products": [{"product_id": "P1", "price": total, "quantity": 1, "category": "鞋/跑鞋"}]});
    if let Some(c) = coupon {
        p["coupon"] = json!(c);
    }
    json!({"type": "track", "userId": user, "event": "Order Completed", "timestamp": at.to_rfc3339(), "properties": p})
}

/// alice: 女, born 1990, in 上海; views and an add of shoes; three orders,
/// each with a coupon, the first refunded in full. bob: one order, no
/// coupon, 400 days ago. c1, c2, c3: three accounts on one device.
async fn shop(app: &TestApp) {
    let now = Utc::now().duration_trunc(Duration::hours(1)).expect("hour");
    let mut m = vec![json!({"type": "identify", "userId": "alice",
        "traits": {"gender": "女", "birthday": "1990-03-01", "city": "上海", "email": "alice@example.com"}})];
    for (event, days) in [("Product Viewed", 1), ("Product Viewed", 2), ("Product Added", 2)] {
        m.push(json!({"type": "track", "userId": "alice", "event": event,
            "timestamp": (now - Duration::days(days)).to_rfc3339(),
            "properties": {"product_id": "P2", "category": ["鞋", "跑鞋"], "price": 99}}));
    }
    m.push(order("alice", "A-1", 20, "100.00", Some("NEW10")));
    m.push(order("alice", "A-2", 10, "100.00", Some("NEW10")));
    m.push(order("alice", "A-3", 5, "100.00", Some("VIP5")));
    m.push(json!({"type": "track", "userId": "alice", "event": "Order Refunded",
        "properties": {"order_id": "A-1", "total": "100.00"}}));
    m.push(order("bob", "B-1", 400, "30.00", None));
    for user in ["c1", "c2", "c3"] {
        m.push(json!({"type": "track", "userId": user, "anonymousId": "device-shared", "event": "App Opened"}));
    }
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": m }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
}

async fn id_of(app: &TestApp, user: &str) -> String {
    let (s, p) = app.get(&format!("/api/v1/profiles?identity=user_id:{user}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{p}");
    p["items"][0]["id"].as_str().unwrap_or_else(|| panic!("no profile for {user}: {p}")).to_string()
}

/// A profile's tags as (tag, family, source).
async fn tags_of(app: &TestApp, id: &str) -> Vec<(String, String, String)> {
    let (s, v) = app.get(&format!("/api/v1/profiles/{id}/tags"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let items = v["items"].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|t| (t["tag"].as_str(), t["family"].as_str(), t["source"].as_str()))
        .map(|(a, b, c)| (a.unwrap_or("").to_string(), b.unwrap_or("").to_string(), c.unwrap_or("").to_string()))
        .collect()
}

/// The tags' names but the value tier, stage and cluster ([`own_tags`]).
fn names(tags: &[(String, String, String)]) -> Vec<&str> {
    tags.iter().map(|(t, _, _)| t.as_str()).filter(|t| !OWN.iter().any(|p| t.starts_with(p))).collect()
}

const OWN: [&str; 3] = ["value:", "stage:", "cluster:"];

/// A buyer's value tier and stage tags are its profile's RFM group and
/// lifecycle stage; it has one cluster tag.
async fn own_tags(app: &TestApp, id: &str) {
    let tags = tags_of(app, id).await;
    let (_, p) = app.get(&format!("/api/v1/profiles/{id}"), ADMIN).await;
    let of = |prefix: &str| {
        tags.iter().filter(|(t, _, _)| t.starts_with(prefix)).map(|(t, ..)| t.clone()).collect::<Vec<_>>()
    };
    assert_eq!(of("value:"), [format!("value:{}", p["rfm"]["group"].as_str().expect("group"))], "{tags:?}");
    assert_eq!(of("stage:"), [format!("stage:{}", p["lifecycle"]["stage"].as_str().expect("stage"))], "{tags:?}");
    assert_eq!(of("cluster:").len(), 1, "{tags:?}");
    let value = p["rfm"]["group"].as_str().expect("group");
    assert!(count(app, &format!("value_tier \"{value}\"")).await >= 1);
}

async fn segments_of(app: &TestApp, id: &str) -> Vec<String> {
    let (_, v) = app.get(&format!("/api/v1/profiles/{id}/segments"), ADMIN).await;
    v["items"].as_array().expect("items").iter().map(|s| s["segment_id"].as_str().unwrap_or("").to_string()).collect()
}

async fn sweep(app: &TestApp) -> Value {
    let (s, v) = app.send(Method::POST, "/api/v1/tags/sweep", ADMIN, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn count(app: &TestApp, text: &str) -> u64 {
    let (s, v) = app.send(Method::POST, "/api/v1/segments/estimate", ADMIN, json!({"text": text})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["count"].as_u64().expect("count")
}

async fn tags(app: &TestApp) {
    shop(app).await;
    let first = sweep(app).await;
    assert!(first["added"].as_u64().unwrap_or(0) >= 12, "{first}");
    assert_eq!(sweep(app).await, json!({"added": 0, "removed": 0}), "a second sweep changes nothing");

    let alice = id_of(app, "alice").await;
    let got = tags_of(app, &alice).await;
    // sorted by tag; alice is 36 in 2026; three orders in 20 days: loyal;
    // 100 of 300 refunded (≥ 30 %); every order with a coupon
    assert_eq!(
        names(&got),
        [
            "basic:age_35-44",
            "basic:city_上海",
            "basic:gender_female",
            "interest:鞋",
            "loyalty:loyal",
            "risk:coupon_only",
            "risk:high_refunds",
            "spending:medium", // of two buyers, the better: 1 + ⌊5 · 1/2⌋
        ],
        "{got:?}"
    );
    assert!(got.iter().all(|(_, _, source)| source == "computed"), "{got:?}");
    assert!(got.iter().any(|(t, f, _)| t == "interest:鞋" && f == "interest"));
    let bob = id_of(app, "bob").await;
    assert_eq!(names(&tags_of(app, &bob).await), ["loyalty:one_time", "spending:low"]);
    own_tags(app, &alice).await;
    own_tags(app, &bob).await;
    assert_eq!(count(app, r#"value_tier "no-such-group""#).await, 0);
    for user in ["c1", "c2", "c3"] {
        let id = id_of(app, user).await;
        assert_eq!(names(&tags_of(app, &id).await), ["risk:shared_device"], "{user}");
    }
    assert_eq!(count(app, r#"tag "risk:shared_device""#).await, 3);
    // orders that used a coupon, counted by hand: alice 3 (one in the last 7 days), everyone else none
    assert_eq!(count(app, "coupon_orders >= 3").await, 1);
    assert_eq!(count(app, "coupon_orders >= 1 within 7d").await, 1);
    assert_eq!(count(app, "coupon_orders >= 2 within 7d").await, 0);
    assert_eq!(count(app, "coupon_orders = 0").await, 4);

    // saved segments naming tags follow every change of them at once
    for (id, text) in [("vip", r#"tag "VIP""#), ("repeat", r#"tag "回头客""#)] {
        let (s, v) =
            app.send(Method::POST, "/api/v1/segments", ADMIN, json!({"id": id, "name": id, "text": text})).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }

    // by hand: a new tag, and a computed one taken over
    let (s, v) =
        app.send(Method::PUT, &format!("/api/v1/profiles/{bob}/tags/VIP"), ADMIN, json!({"family": "loyalty"})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["tag"].as_str(), v["family"].as_str(), v["source"].as_str()),
        (Some("VIP"), Some("loyalty"), Some("manual"))
    );
    let (s, v) =
        app.send(Method::PUT, &format!("/api/v1/profiles/{alice}/tags/spending:medium"), ADMIN, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(count(app, r#"tag "VIP""#).await, 1);
    assert_eq!(segments_of(app, &bob).await, ["vip"], "in the segment as the tag is written");
    // the viewer may read, not tag
    let (s, _) = app.send(Method::PUT, &format!("/api/v1/profiles/{bob}/tags/x"), VIEWER, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // a rule: every profile with three orders or more
    let (s, v) = app
        .send(Method::PUT, "/api/v1/tag-rules/回头客", ADMIN, json!({"family": "loyalty", "text": "order_count >= 3"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["text"], "order_count >= 3");
    sweep(app).await;
    let alice_tags = tags_of(app, &alice).await;
    assert!(alice_tags.contains(&("回头客".into(), "loyalty".into(), "rule".into())), "{alice_tags:?}");
    assert_eq!(segments_of(app, &alice).await, ["repeat"], "in the segment as the sweep tags");
    assert!(alice_tags.contains(&("spending:medium".into(), "basic".into(), "manual".into())), "{alice_tags:?}");
    assert!(names(&tags_of(app, &bob).await).contains(&"VIP"), "a sweep keeps hand-made tags");
    // the customer list by tag
    let (s, v) = app.get("/api/v1/profiles?tag=VIP", VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let listed: Vec<&str> = v["items"].as_array().expect("items").iter().filter_map(|p| p["id"].as_str()).collect();
    assert_eq!(listed, [bob.as_str()]);
    let (_, counts) = app.get("/api/v1/tags", VIEWER).await;
    let rule_count = counts["items"].as_array().expect("items").iter().find(|c| c["tag"] == "回头客").cloned();
    assert_eq!(rule_count, Some(json!({"tag": "回头客", "family": "loyalty", "source": "rule", "profiles": 1})));

    // the rule deleted: its tags go at once; a hand-made tag removed
    let (s, _) = app.send(Method::DELETE, "/api/v1/tag-rules/回头客", ADMIN, json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(!names(&tags_of(app, &alice).await).contains(&"回头客"));
    assert_eq!(segments_of(app, &alice).await, Vec::<String>::new(), "out as the rule's tags go");
    let (s, _) = app.send(Method::DELETE, &format!("/api/v1/profiles/{bob}/tags/VIP"), ADMIN, json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(segments_of(app, &bob).await, Vec::<String>::new(), "out as the tag is removed");
    let (s, v) = app.send(Method::DELETE, &format!("/api/v1/profiles/{bob}/tags/VIP"), ADMIN, json!(null)).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));

    // bad input: nothing stored
    for (path, body) in [
        (format!("/api/v1/profiles/{bob}/tags/x"), json!({"family": "nope"})),
        (format!("/api/v1/profiles/{bob}/tags/%20padded"), json!({})),
        (format!("/api/v1/profiles/{bob}/tags/{}", "x".repeat(65)), json!({})),
    ] {
        let (s, v) = app.send(Method::PUT, &path, ADMIN, body).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")), "{path}");
    }
    let (s, v) = app.send(Method::PUT, "/api/v1/tag-rules/x", ADMIN, json!({"text": "order_count >="})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_segment")), "{v}");
    assert_eq!(names(&tags_of(app, &bob).await), ["loyalty:one_time", "spending:low"]);

    let (_, audit) = app.get("/api/v1/audit?limit=50", ADMIN).await;
    let actions: Vec<&str> =
        audit["items"].as_array().expect("items").iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["profile.tag", "profile.untag", "tag_rule.put", "tag_rule.delete"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

fn consent(user: &str, minutes_ago: i64, prefs: Value) -> Value {
    json!({"type": "track", "userId": user, "event": "Page Viewed", "anonymousId": format!("anon-{user}"),
        "timestamp": (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339(),
        "context": {"consent": {"categoryPreferences": prefs}}})
}

/// Segment's consent object (`context.consent.categoryPreferences`) keeps
/// each person's latest word per purpose, and saved segments follow it as
/// it changes.
async fn consents(app: &TestApp) {
    let (s, v) = app
        .send(
            Method::POST,
            "/api/v1/segments",
            ADMIN,
            json!({"id": "sms-ok", "name": "SMS", "text": "consent \"sms\""}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let send = |key: &'static str, m: Value| async move {
        let (s, v) = app.ingest_as(key, "/v1/batch", &json!({"batch": [m]}).to_string()).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        app.settle().await;
    };
    send(WRITE, consent("k1", 30, json!({"email": true, "sms": false}))).await;
    send(WRITE, consent("k2", 30, json!({"email": true}))).await;
    assert_eq!(count(app, r#"consent "email""#).await, 2);
    assert_eq!(count(app, r#"consent "sms""#).await, 0);
    // k1 changes their mind (from a page: the client's key, a profile it only counts events for)
    send(CLIENT_WRITE, consent("k1", 20, json!({"email": false, "sms": true}))).await;
    assert_eq!(count(app, r#"consent "email""#).await, 1);
    let (_, members) = app.get("/api/v1/segments/sms-ok/members", VIEWER).await;
    assert_eq!(members["items"].as_array().map(Vec::len), Some(1), "entered in real time: {members}");
    // an older word arriving late changes nothing
    send(WRITE, consent("k1", 25, json!({"sms": false}))).await;
    assert_eq!(count(app, r#"consent "sms""#).await, 1);
    let (_, members) = app.get("/api/v1/segments/sms-ok/members", VIEWER).await;
    assert_eq!(members["items"].as_array().map(Vec::len), Some(1), "{members}");
}

/// The server's own events of a profile (`Segment Entered`) land on it, and
/// never make a profile of a user id a client claimed alone.
async fn server_events_never_fork_a_client_profile(app: &TestApp) {
    let body = json!({"id": "viewers", "name": "Viewers", "text": "performed \"Product Viewed\" >= 1"});
    let (s, v) = app.send(Method::POST, "/api/v1/segments", ADMIN, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let m = json!({"batch": [
        {"type": "identify", "userId": "cl-1"},
        {"type": "track", "userId": "cl-1", "event": "Product Viewed"},
        {"type": "track", "userId": "cl-2", "anonymousId": "browser-2", "event": "Product Viewed"},
    ]});
    let (s, v) = app.ingest_as(CLIENT_WRITE, "/v1/batch", &m.to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
    app.settle().await;
    for user in ["cl-1", "cl-2"] {
        let (_, found) = app.get(&format!("/api/v1/profiles?identity=user_id:{user}"), ADMIN).await;
        assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "one profile for {user}: {found}");
    }
    // the one with a browser id to name it by has its entry on its timeline
    let id = id_of(app, "cl-2").await;
    let (_, events) = app.get(&format!("/api/v1/profiles/{id}/events?limit=20"), ADMIN).await;
    let names: Vec<&str> =
        events["items"].as_array().expect("items").iter().filter_map(|e| e["name"].as_str()).collect();
    assert!(names.contains(&"Segment Entered"), "{names:?}");
}

both_backends!(tags, consents, server_events_never_fork_a_client_profile);
