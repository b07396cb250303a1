//! Segments through the API on both stores, against a shop counted by hand:
//! the issue's example estimated in both forms, errors with their position
//! or path, saved segments with members (paged, CSV), history, the
//! segments of a profile, edits, archive and refresh, references between
//! segments, and who may do what.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::{ADMIN, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

const EXAMPLE: &str = r#"performed "Product Viewed" >= 3 within 30d where category = "鞋" and not performed "Order Completed" within 30d"#;

fn viewed(user: &str, category: &str, at: DateTime<Utc>) -> Value {
    json!({"type": "track", "userId": user, "event": "Product Viewed", "timestamp": at.to_rfc3339(),
           "properties": {"product_id": "P1", "category": category, "price": 299}})
}

/// a: 3 shoe views in the window → in. b: 3 views, one of them 31 days ago → out.
/// c: 3 views and an order → out. d: 2 shoe views and 1 tea view → out.
/// e: 4 views, its order 40 days ago → in. f: views on a device, then logged in → in (merged).
async fn shop(app: &TestApp) -> DateTime<Utc> {
    let now = Utc::now().duration_trunc(Duration::hours(1)).expect("hour");
    let day = |n: i64| now - Duration::days(n);
    let mut m = Vec::new();
    for (user, days) in [("a", vec![1, 2, 29]), ("b", vec![1, 2, 31]), ("c", vec![1, 2, 3]), ("e", vec![1, 5, 9, 12])] {
        for d in days {
            m.push(viewed(user, "鞋", day(d)));
        }
    }
    m.push(viewed("d", "鞋", day(1)));
    m.push(viewed("d", "鞋", day(2)));
    m.push(viewed("d", "茶", day(3)));
    for (user, d, id) in [("c", 4, "O-c"), ("e", 40, "O-e")] {
        m.push(json!({"type": "track", "userId": user, "event": "Order Completed", "timestamp": day(d).to_rfc3339(),
                      "properties": {"order_id": id, "total": "299.00", "currency": "CNY",
                                     "products": [{"product_id": "P1", "price": "299.00", "quantity": 1}]}}));
    }
    for d in [1, 2, 3] {
        let mut v = viewed("x", "鞋", day(d));
        v.as_object_mut().expect("object").remove("userId");
        v["anonymousId"] = json!("dev-f");
        m.push(v);
    }
    m.push(json!({"type": "identify", "userId": "f", "anonymousId": "dev-f", "traits": {"city": "上海"},
                  "timestamp": day(1).to_rfc3339()}));
    let (s, v) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": m }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
    now
}

async fn user_of(app: &TestApp, id: &str) -> String {
    let (_, p) = app.get(&format!("/api/v1/profiles/{id}"), ADMIN).await;
    p["identities"]
        .as_array()
        .and_then(|ids| {
            ids.iter().find(|i| i["type"] == "user_id").and_then(|i| i["value"].as_str()).map(str::to_string)
        })
        .unwrap_or_default()
}

async fn users_of(app: &TestApp, ids: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids.as_array().expect("ids") {
        out.push(user_of(app, id.as_str().expect("id")).await);
    }
    out.sort();
    out
}

async fn estimates_by_hand(app: &TestApp) {
    shop(app).await;
    let (s, e) =
        app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, json!({"text": EXAMPLE, "sample": 10})).await;
    assert_eq!(s, StatusCode::OK, "{e}");
    assert_eq!((e["count"].as_u64(), e["profiles"].as_u64()), (Some(3), Some(6)), "{e}");
    assert_eq!(users_of(app, &e["sample"]).await, ["a", "e", "f"], "{e}");
    assert_eq!(e["text"], EXAMPLE, "{e}");
    // the JSON form answers the same
    let (_, j) =
        app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, json!({"definition": e["definition"]})).await;
    assert_eq!(j["count"], 3, "{j}");
    let cases = [
        (r#"city = "上海""#, 1),
        (r#"performed "Product Viewed" = 0"#, 0),
        (r#"not performed "Product Viewed" within 30d"#, 0),
        (r#"performed "Product Viewed" where price > 298.99 and order_count >= 1"#, 2),
        ("net_spend > 299 or average_order = 299", 2),
        (r#"bought product "P1" within 30d"#, 1),
        ("bucket < 100", 6),
        ("nobody", 0),
    ];
    for (text, count) in cases {
        let (s, v) = app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, json!({"text": text})).await;
        assert_eq!((s, v["count"].as_u64()), (StatusCode::OK, Some(count)), "{text}: {v}");
    }
    // errors say where
    let (s, v) =
        app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, json!({"text": "performed Product"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_segment")), "{v}");
    assert_eq!(
        v["error"]["details"],
        json!({"position": 10, "expected": "the event's name in quotes", "found": "\"Product\""})
    );
    let bad = json!({"definition": {"all": [{"trait": {"key": "", "op": "=", "value": 1}}]}});
    let (s, v) = app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, bad).await;
    assert_eq!((s, v["error"]["details"]["path"].as_str()), (StatusCode::BAD_REQUEST, Some("all[0].trait.key")), "{v}");
    for body in [json!({}), json!({"text": "a = 1", "definition": {"all": []}}), json!({"text": "in segment \"nope\""})]
    {
        let (s, v) = app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, body.clone()).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_segment")), "{body}: {v}");
    }
    let (s, v) =
        app.send(Method::POST, "/api/v1/segments/estimate", VIEWER, json!({"text": "a = 1", "sample": 101})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
}

async fn saved_segments(app: &TestApp) {
    shop(app).await;
    let body = json!({"id": "shoe-browsers", "name": "看鞋没买", "text": EXAMPLE});
    let (s, v) = app.send(Method::POST, "/api/v1/segments", VIEWER, body.clone()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "a viewer saves nothing: {v}");
    let (s, seg) = app.send(Method::POST, "/api/v1/segments", ADMIN, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{seg}");
    assert_eq!(
        (seg["members"].as_i64(), seg["version"].as_i64(), seg["text"].as_str()),
        (Some(3), Some(1), Some(EXAMPLE))
    );
    let (s, v) = app.send(Method::POST, "/api/v1/segments", ADMIN, body).await;
    assert_eq!(s, StatusCode::CONFLICT, "the id is taken: {v}");
    // members, two pages
    let (_, p1) = app.get("/api/v1/segments/shoe-browsers/members?limit=2", ADMIN).await;
    let cursor = p1["next_cursor"].as_str().expect("a second page").to_string();
    let (_, p2) = app.get(&format!("/api/v1/segments/shoe-browsers/members?limit=2&cursor={cursor}"), ADMIN).await;
    let ids: Vec<Value> = p1["items"]
        .as_array()
        .into_iter()
        .chain(p2["items"].as_array())
        .flatten()
        .map(|m| m["profile_id"].clone())
        .collect();
    assert_eq!(users_of(app, &json!(ids)).await, ["a", "e", "f"]);
    assert!(p2["next_cursor"].is_null(), "{p2}");
    // the CSV has the same members
    let (s, csv) = app.get_text("/api/v1/segments/shoe-browsers/export", ADMIN).await;
    assert_eq!(s, StatusCode::OK);
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "profile_id,member_since");
    assert_eq!(lines.len(), 4, "{csv}");
    for id in &ids {
        assert!(csv.contains(id.as_str().expect("id")), "{csv}");
    }
    // history: this hour's count
    let (_, h) = app.get("/api/v1/segments/shoe-browsers/history", ADMIN).await;
    assert_eq!(h["items"].as_array().map(|i| i.last().map(|x| x["members"].clone())), Some(Some(json!(3))), "{h}");
    // a member's segments
    let (_, ps) = app.get(&format!("/api/v1/profiles/{}/segments", ids[0].as_str().expect("id")), ADMIN).await;
    assert_eq!(ps["items"][0]["segment_id"], "shoe-browsers", "{ps}");
    // another segment built on it, and no cycle
    let (s, v) = app
        .send(
            Method::POST,
            "/api/v1/segments",
            ADMIN,
            json!({"id": "sh-shoes", "name": "上海", "text": r#"in segment "shoe-browsers" and city = "上海""#}),
        )
        .await;
    assert_eq!((s, v["members"].as_i64()), (StatusCode::CREATED, Some(1)), "{v}");
    let cycle = json!({"name": "看鞋没买", "text": r#"in segment "sh-shoes""#});
    let (s, v) = app.send(Method::PUT, "/api/v1/segments/shoe-browsers", ADMIN, cycle).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_segment")), "{v}");
    // an edit decides the members again; a stale version is refused
    let edit = json!({"name": "看鞋", "text": r#"performed "Product Viewed" >= 3 within 30d where category = "鞋""#});
    let (s, v) = app.send(Method::PUT, "/api/v1/segments/shoe-browsers?if_version=1", ADMIN, edit.clone()).await;
    assert_eq!((s, v["members"].as_i64(), v["version"].as_i64()), (StatusCode::OK, Some(4), Some(2)), "{v}");
    let (s, _) = app.send(Method::PUT, "/api/v1/segments/shoe-browsers?if_version=1", ADMIN, edit).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // archive, refresh refused, activate
    let (_, v) = app.send(Method::POST, "/api/v1/segments/shoe-browsers/archive", ADMIN, json!({})).await;
    assert_eq!(v["status"], "archived", "{v}");
    let (s, _) = app.send(Method::POST, "/api/v1/segments/shoe-browsers/refresh", ADMIN, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT);
    let (_, v) = app.send(Method::POST, "/api/v1/segments/shoe-browsers/activate", ADMIN, json!({})).await;
    assert_eq!((v["status"].as_str(), v["members"].as_i64()), (Some("active"), Some(4)), "{v}");
    let (_, v) = app.send(Method::POST, "/api/v1/segments/shoe-browsers/refresh", ADMIN, json!({})).await;
    assert_eq!((v["entered"].as_u64(), v["exited"].as_u64()), (Some(0), Some(0)), "{v}");
    // listed, newest first; audited
    let (_, l) = app.get("/api/v1/segments", VIEWER).await;
    let listed: Vec<&str> = l["items"].as_array().expect("items").iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(listed, ["sh-shoes", "shoe-browsers"], "{l}");
    let (_, audit) = app.get("/api/v1/audit?target=segment:shoe-browsers", ADMIN).await;
    assert_eq!(audit["items"].as_array().map(Vec::len), Some(4), "create, edit, archive, activate: {audit}");
    for (path, code) in
        [("/api/v1/segments/nope", StatusCode::NOT_FOUND), ("/api/v1/segments/nope/members", StatusCode::NOT_FOUND)]
    {
        assert_eq!(app.get(path, ADMIN).await.0, code, "{path}");
    }
    let (s, _) = app
        .send(Method::POST, "/api/v1/segments", ADMIN, json!({"id": "Bad Id", "name": "x", "text": "everyone"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

both_backends!(estimates_by_hand, saved_segments);
