//! Group-buy teams (拼团) over HTTP on both stores: opened and joined by
//! orders at the group price, completed at min members, full at max (also
//! when ten buyers race for the last place), failed and refunded on expiry,
//! and left by a cancelled order.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use common::{ADMIN, TestApp, VIEWER, in_parallel};
use serde_json::{Value, json};

async fn group_buy(app: &TestApp, rules: Value) {
    let spec = json!({"id": "gb", "name": "三人团 99元", "status": "active", "target": {"products": ["tea"]},
        "reward": {"type": "special_price", "price": "99"}, "group_buy": rules});
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let users: Vec<String> = (0..14).map(|i| format!(r#"{{"userId": "u{i}"}}"#)).collect();
    for u in users {
        assert_eq!(app.ingest("/v1/identify", &u).await.0, StatusCode::OK);
    }
    app.settle().await;
}

/// u`n` orders one tea in team `team` (none: opens one).
async fn order(app: &common::Client, n: u32, team: Option<&str>) -> (StatusCode, Value) {
    order_as(app, n, n, team).await
}

/// u`user` places order O`n` (idempotency key k`n`).
async fn order_as(app: &common::Client, user: u32, n: u32, team: Option<&str>) -> (StatusCode, Value) {
    let body = json!({"user_id": format!("u{user}"), "order_id": format!("O{n}"),
        "lines": [{"product_id": "tea", "price": "128.00"}], "group_buy": {"promotion": "gb", "team": team}});
    let (s, v, _) = app.post_keyed("/api/v1/orders", Some(&format!("k{n}")), body).await;
    (s, v)
}

fn reason(v: &Value) -> &str {
    v["error"]["details"]["reason"]["code"].as_str().unwrap_or("")
}

async fn team(app: &TestApp, id: &str) -> Value {
    let (s, v) = app.get(&format!("/api/v1/teams/{id}"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

async fn a_team_completes_at_min_members_and_is_full_at_max(app: &TestApp) {
    group_buy(app, json!({"min_members": 2, "max_members": 3, "minutes": 60})).await;
    let (s, v) = order(app, 1, None).await;
    assert_eq!(
        (s, v["pricing"]["total"].as_str(), v["group_buy"]["status"].as_str()),
        (StatusCode::CREATED, Some("99.00"), Some("open")),
        "{v}"
    );
    let id = v["group_buy"]["id"].as_str().unwrap_or("").to_string();
    assert!(id.starts_with('T') && id.len() == 13, "{id}");
    let (_, open) = app.get("/api/v1/promotions/gb/teams", VIEWER).await;
    assert_eq!(open["items"][0]["places_left"], 2, "{open}");
    let (s, v) = order_as(app, 1, 100, Some(&id)).await;
    assert_eq!((s, reason(&v)), (StatusCode::CONFLICT, "already_member"), "{v}");
    let (s, v) = order(app, 2, Some(&id)).await;
    assert_eq!((s, v["group_buy"]["status"].as_str()), (StatusCode::CREATED, Some("complete")), "{v}");
    assert_eq!(order(app, 3, Some(&id)).await.0, StatusCode::CREATED);
    let (s, v) = order(app, 4, Some(&id)).await;
    assert_eq!((s, reason(&v)), (StatusCode::CONFLICT, "team_full"), "{v}");
    assert_eq!(v["error"]["code"], "team_unavailable");
    assert_eq!(
        (team(app, &id).await["member_count"].as_u64(), team(app, &id).await["status"].as_str()),
        (Some(3), Some("complete"))
    );
    let (s, v) = order(app, 5, Some("TNOSUCHTEAM00")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    // a customer's teams (the 360): u1 opened this one, u2 joined it; u4, turned away, none
    let u1 = app.profile("user_id:u1").await;
    let (_, mine) = app.get(&format!("/api/v1/profiles/{}/teams", u1["id"].as_str().unwrap_or("")), VIEWER).await;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "the opener's: {mine}");
    let u2 = app.profile("user_id:u2").await;
    let (s, mine) = app.get(&format!("/api/v1/profiles/{}/teams", u2["id"].as_str().unwrap_or("")), VIEWER).await;
    assert_eq!((s, mine["items"].as_array().map(Vec::len)), (StatusCode::OK, Some(1)), "{mine}");
    assert_eq!(
        (mine["items"][0]["id"].as_str(), mine["items"][0]["status"].as_str()),
        (Some(id.as_str()), Some("complete"))
    );
    let u4 = app.profile("user_id:u4").await;
    let (_, none) = app.get(&format!("/api/v1/profiles/{}/teams", u4["id"].as_str().unwrap_or("")), VIEWER).await;
    assert_eq!(none["items"], json!([]), "{none}");
    let (s, _) = app.get("/api/v1/profiles/01a24b9d-0000-7000-8000-000000000000/teams", VIEWER).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // without group_buy, the list price
    let (_, plain) = app
        .send(Method::POST, "/api/v1/carts/price", ADMIN, json!({"lines": [{"product_id": "tea", "price": "128.00"}]}))
        .await;
    assert_eq!(plain["total"], "128.00");
}

async fn ten_buyers_race_for_the_last_place_and_one_gets_it(app: &TestApp) {
    group_buy(app, json!({"min_members": 3, "minutes": 60})).await;
    let (_, v) = order(app, 1, None).await;
    let id = v["group_buy"]["id"].as_str().unwrap_or("").to_string();
    assert_eq!(order(app, 2, Some(&id)).await.0, StatusCode::CREATED);
    let outs = in_parallel((3..13).map(|n| {
        let (c, id) = (app.client.clone(), id.clone());
        async move { order(&c, n, Some(&id)).await }
    }))
    .await;
    let placed = outs.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let full = outs.iter().filter(|(_, v)| reason(v) == "team_full").count();
    assert_eq!((placed, full), (1, 9), "{outs:?}");
    let t = team(app, &id).await;
    assert_eq!((t["member_count"].as_u64(), t["status"].as_str()), (Some(3), Some("complete")));
}

async fn an_expired_team_fails_and_its_orders_are_refunded(app: &TestApp) {
    group_buy(app, json!({"min_members": 3, "minutes": 60})).await;
    let (_, v) = order(app, 1, None).await;
    let id = v["group_buy"]["id"].as_str().unwrap_or("").to_string();
    assert_eq!(order(app, 2, Some(&id)).await.0, StatusCode::CREATED);
    app.settle().await;
    let state = &app.running.as_ref().expect("running").state;
    let teams = beacon_server::app::checkout::teams::expire;
    assert_eq!(teams(state, Utc::now()).await.expect("expire"), 0, "not yet");
    assert_eq!(teams(state, Utc::now() + Duration::minutes(61)).await.expect("expire"), 1);
    assert_eq!(team(app, &id).await["status"], "failed");
    app.settle().await;
    for o in ["O1", "O2"] {
        let (_, order) = app.get(&format!("/api/v1/orders/{o}"), ADMIN).await;
        assert_eq!(order["status"], "refunded", "{order}");
    }
}

async fn a_cancelled_order_leaves_its_open_team(app: &TestApp) {
    group_buy(app, json!({"min_members": 3, "minutes": 60, "complete_alone": true})).await;
    let (_, v) = order(app, 1, None).await;
    let id = v["group_buy"]["id"].as_str().unwrap_or("").to_string();
    assert_eq!(order(app, 2, Some(&id)).await.0, StatusCode::CREATED);
    app.settle().await;
    let cancel = r#"{"type": "track", "userId": "u2", "messageId": "c-2", "event": "Order Cancelled", "properties": {"order_id": "O2"}}"#;
    assert_eq!(app.ingest("/v1/track", cancel).await.0, StatusCode::OK);
    app.settle().await;
    assert_eq!(team(app, &id).await["member_count"], 1);
    // alone, it completes when its time is up
    let state = &app.running.as_ref().expect("running").state;
    beacon_server::app::checkout::teams::expire(state, Utc::now() + Duration::minutes(61)).await.expect("expire");
    assert_eq!(team(app, &id).await["status"], "complete");
}

both_backends!(
    a_team_completes_at_min_members_and_is_full_at_max,
    ten_buyers_race_for_the_last_place_and_one_gets_it,
    an_expired_team_fails_and_its_orders_are_refunded,
    a_cancelled_order_leaves_its_open_team
);
