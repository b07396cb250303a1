//! Coupon templates over HTTP on both stores: codes claimed and issued
//! within the template's limits, a profile's wallet, a code redeemed once
//! (also when 50 orders race for it) and given back by a cancellation, and
//! codes issued on sign-up once.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, VIEWER, in_parallel};
use serde_json::{Value, json};

async fn post(app: &common::Client, path: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
    let (s, v, _) = app.post_keyed(path, key, body).await;
    (s, v)
}

async fn template(app: &TestApp, codes: Value) {
    let spec = json!({"id": "spring", "name": "春季券 满100减15", "status": "active", "min_spend": "100",
        "reward": {"type": "amount_off", "amount": "15"}, "codes": codes});
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn shoppers(app: &TestApp, users: &[&str]) {
    for u in users {
        let (s, v) = app.ingest("/v1/identify", &format!(r#"{{"userId": "{u}"}}"#)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    app.settle().await;
}

async fn wallet(app: &TestApp, user: &str) -> Vec<(String, String)> {
    let id = app.profile(&format!("user_id:{user}")).await["id"].as_str().unwrap_or("").to_string();
    let (s, v) = app.get(&format!("/api/v1/profiles/{id}/coupons"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["code"].as_str().unwrap_or("").into(), c["status"].as_str().unwrap_or("").into()))
        .collect()
}

fn cart(user: &str, code: &str) -> Value {
    json!({"user_id": user, "coupons": [code], "lines": [{"product_id": "tea", "price": "120.00"}]})
}

async fn claimed_and_issued_codes_are_redeemed_once_and_given_back(app: &TestApp) {
    template(app, json!({"pattern": "SPRING-####-????", "quantity": 3, "claimable": true, "valid_days": 7})).await;
    shoppers(app, &["u1", "u2", "u3"]).await;
    let claim = |user: &str| json!({"promotion": "spring", "user_id": user});
    let (s, c1) = post(app, "/api/v1/coupons/claim", None, claim("u1")).await;
    assert_eq!(s, StatusCode::CREATED, "{c1}");
    let code = c1["code"].as_str().unwrap_or("").to_string();
    let b = code.as_bytes();
    assert!(code.len() == 16 && code.starts_with("SPRING-") && b[7..11].iter().all(u8::is_ascii_digit), "{code}");
    assert_eq!((c1["status"].as_str(), c1["channel"].as_str()), (Some("available"), Some("claim")));
    let (s, v) = post(app, "/api/v1/coupons/claim", None, claim("u1")).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("coupon_limit_reached")), "{v}");
    assert_eq!(v["error"]["details"]["reason"]["code"], "profile_limit_reached");
    // a claim retried with its Idempotency-Key answers the same code
    let (s, c2) = post(app, "/api/v1/coupons/claim", Some("claim-u2"), claim("u2")).await;
    assert_eq!(s, StatusCode::CREATED, "{c2}");
    let (s, again) = post(app, "/api/v1/coupons/claim", Some("claim-u2"), claim("u2")).await;
    assert_eq!((s, &again["code"]), (StatusCode::OK, &c2["code"]));
    // the operator issues to u3 and one bearer code: the template's 3 are gone after u3
    let u3 = app.profile("user_id:u3").await["id"].clone();
    let (s, v) = app.send(Method::POST, "/api/v1/promotions/spring/coupons", VIEWER, json!({"count": 1})).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = post(app, "/api/v1/promotions/spring/coupons", None, json!({"profiles": [u3], "count": 1})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["issued"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["refused"][0]["reason"], json!({"code": "quantity_reached", "quantity": 3}));
    let (s, _) = app.get("/api/v1/promotions/spring/coupons?limit=2", VIEWER).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "bearer codes are for marketers only");
    let (_, listed) = app.get("/api/v1/promotions/spring/coupons?limit=2", ADMIN).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));
    assert!(listed["next_cursor"].is_string(), "{listed}");

    // u1's code: priced for u1 (any case), not for u2
    let priced = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart("u1", &code.to_lowercase())).await.1;
    assert_eq!(
        (priced["total"].as_str(), &priced["redeemed"][0]["coupon"]),
        (Some("105.00"), &json!(code)),
        "{priced}"
    );
    let (_, other) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart("u2", &code)).await;
    assert_eq!(other["rejected"][0]["reason"]["code"], "coupon_not_owned", "{other}");
    let (s, v) = post(app, "/api/v1/orders", Some("o-u2"), cart("u2", &code)).await;
    assert_eq!((s, v["error"]["details"]["reason"]["code"].as_str()), (StatusCode::CONFLICT, Some("coupon_not_owned")));
    let mut order = cart("u1", &code);
    order["order_id"] = json!("A");
    let (s, v) = post(app, "/api/v1/orders", Some("o-1"), order).await;
    assert_eq!((s, v["pricing"]["total"].as_str()), (StatusCode::CREATED, Some("105.00")), "{v}");
    let (s, v) = post(app, "/api/v1/orders", Some("o-2"), cart("u1", &code)).await;
    assert_eq!(
        (s, v["error"]["details"]["reason"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("coupon_used")),
        "{v}"
    );
    assert_eq!(wallet(app, "u1").await, [(code.clone(), "used".into())]);
    let (_, used) = app.get("/api/v1/profiles/x/coupons?status=nope", VIEWER).await;
    assert_eq!(used["error"]["code"], "invalid_parameter");

    // cancelling the order gives the code back
    app.settle().await;
    let cancel = r#"{"type": "track", "userId": "u1", "messageId": "c-1", "event": "Order Cancelled", "properties": {"order_id": "A"}}"#;
    assert_eq!(app.ingest("/v1/track", cancel).await.0, StatusCode::OK);
    app.settle().await;
    assert_eq!(wallet(app, "u1").await, [(code, "available".into())]);
    let (_, unknown) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart("u1", "SPRING-0000-AAAA")).await;
    assert_eq!(unknown["rejected"][0], json!({"id": "SPRING-0000-AAAA", "reason": {"code": "unknown_coupon"}}));
}

async fn racing_claims_and_orders_never_pass_a_limit(app: &TestApp) {
    template(app, json!({"pattern": "R-****-****", "quantity": 21, "claimable": true})).await;
    let users: Vec<String> = (0..60).map(|i| format!("r{i}")).collect();
    shoppers(app, &users.iter().map(String::as_str).collect::<Vec<_>>()).await;
    // one bearer code first, then 60 claims at once for the 20 left
    let (_, v) = post(app, "/api/v1/promotions/spring/coupons", None, json!({"count": 1})).await;
    let bearer = v["issued"][0]["code"].as_str().unwrap_or("").to_string();
    assert!(!bearer.is_empty(), "{v}");
    let claims = users.iter().map(|u| {
        let (c, body) = (app.client.clone(), json!({"promotion": "spring", "user_id": u}));
        async move { post(&c, "/api/v1/coupons/claim", None, body).await }
    });
    let outs = in_parallel(claims).await;
    let created = outs.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let refused = outs.iter().filter(|(_, v)| v["error"]["code"] == "coupon_limit_reached").count();
    assert_eq!((created, refused), (20, 40));
    // 50 orders by 50 shoppers at once with the bearer code: one gets it
    let orders = users.iter().take(50).map(|u| {
        let (c, u, body) = (app.client.clone(), u.clone(), cart(u, &bearer));
        async move { post(&c, "/api/v1/orders", Some(&u), body).await }
    });
    let outs = in_parallel(orders).await;
    let placed = outs.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
    let used = outs.iter().filter(|(_, v)| v["error"]["details"]["reason"]["code"] == "coupon_used").count();
    assert_eq!((placed, used), (1, 49));
}

async fn a_sign_up_is_issued_a_code_once(app: &TestApp) {
    template(app, json!({"pattern": "WELCOME-******", "on_signup": true, "valid_days": 30})).await;
    for id in ["s-1", "s-2"] {
        let event = format!(r#"{{"type": "track", "userId": "new-1", "messageId": "{id}", "event": "Signed Up"}}"#);
        assert_eq!(app.ingest("/v1/track", &event).await.0, StatusCode::OK);
    }
    app.settle().await;
    let state = &app.running.as_ref().expect("running").state;
    let again = beacon_server::workers::drain(state, std::time::Duration::from_secs(10)).await.expect("again");
    assert_eq!(again, 0, "nothing new");
    let codes = wallet(app, "new-1").await;
    assert_eq!(codes.len(), 1, "{codes:?}");
    assert!(codes[0].0.starts_with("WELCOME-") && codes[0].1 == "available", "{codes:?}");
}

both_backends!(
    claimed_and_issued_codes_are_redeemed_once_and_given_back,
    racing_claims_and_orders_never_pass_a_limit,
    a_sign_up_is_issued_a_code_once
);
