//! Promotions over HTTP on both stores: the lifecycle and its audit, carts
//! priced for a shopper, orders placed with limits taken atomically and
//! idempotently, and no over-redemption under 1,000 concurrent orders.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, TestApp, VIEWER, in_parallel};
use serde_json::{Value, json};

async fn place(app: &common::Client, key: &str, body: Value) -> (StatusCode, Value, bool) {
    let (s, v, h) = app.post_keyed("/api/v1/orders", Some(key), body).await;
    (s, v, h.get("idempotent-replayed").is_some())
}

async fn promo(app: &TestApp, spec: Value) {
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
}

async fn price(app: &TestApp, cart: Value) -> Value {
    let (s, v) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v
}

fn codes(v: &Value, key: &str) -> Vec<(String, String)> {
    v[key]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| {
            let code = x["reason"]["code"].as_str().or(x["amount"].as_str()).unwrap_or("");
            (x["id"].as_str().unwrap_or("").to_string(), code.to_string())
        })
        .collect()
}

fn s(x: &str) -> String {
    x.to_string()
}

async fn the_lifecycle_is_enforced_and_audited(app: &TestApp) {
    let spec = json!({"id": "m", "name": "满100减20", "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "20"}]}});
    let (s1, v) = app.send(Method::POST, "/api/v1/promotions", VIEWER, spec.clone()).await;
    assert_eq!((s1, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")));
    let (s1, v) = app
        .send(
            Method::POST,
            "/api/v1/promotions",
            ADMIN,
            json!({"id": "x", "name": "x", "reward": {"type": "amount_off", "amount": "-1"}}),
        )
        .await;
    assert_eq!((s1, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_promotion")), "{v}");
    promo(app, spec.clone()).await;
    let (s1, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s1, StatusCode::CONFLICT, "{v}");
    let cart = json!({"lines": [{"product_id": "a", "price": "120.00"}]});
    assert_eq!(codes(&price(app, cart.clone()).await, "rejected"), [(s("m"), s("inactive"))], "a draft does not apply");

    let (s1, v) = app.send(Method::POST, "/api/v1/promotions/m/activate", ADMIN, json!({})).await;
    assert_eq!((s1, v["status"].as_str(), v["version"].as_i64()), (StatusCode::OK, Some("active"), Some(2)), "{v}");
    assert_eq!(codes(&price(app, cart.clone()).await, "applied"), [(s("m"), s("20.00"))]);
    let (s1, v) = app.send(Method::POST, "/api/v1/promotions/m/activate", ADMIN, json!({})).await;
    assert_eq!((s1, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")));
    app.send(Method::POST, "/api/v1/promotions/m/pause", ADMIN, json!({})).await;
    assert_eq!(codes(&price(app, cart.clone()).await, "rejected"), [(s("m"), s("inactive"))]);
    app.send(Method::POST, "/api/v1/promotions/m/resume", ADMIN, json!({})).await;
    // an edit keeps the status; a stale version is refused
    let edit = json!({"name": "满100减30", "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "30"}]}});
    let (s1, v) = app.send(Method::PUT, "/api/v1/promotions/m?if_version=2", ADMIN, edit.clone()).await;
    assert_eq!(s1, StatusCode::CONFLICT, "{v}");
    let (s1, v) = app.send(Method::PUT, "/api/v1/promotions/m", ADMIN, edit).await;
    assert_eq!((s1, v["status"].as_str()), (StatusCode::OK, Some("active")), "{v}");
    assert_eq!(codes(&price(app, cart.clone()).await, "applied"), [(s("m"), s("30.00"))]);
    app.send(Method::POST, "/api/v1/promotions/m/end", ADMIN, json!({})).await;
    let (s1, _) = app.send(Method::POST, "/api/v1/promotions/m/resume", ADMIN, json!({})).await;
    assert_eq!(s1, StatusCode::CONFLICT);
    let (_, audit) = app.get("/api/v1/audit?target=promotion:m", ADMIN).await;
    let actions: Vec<&str> =
        audit["items"].as_array().into_iter().flatten().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "promotion.ended",
            "promotion.update",
            "promotion.active",
            "promotion.paused",
            "promotion.active",
            "promotion.create"
        ],
        "{audit}"
    );
    let (_, list) = app.get("/api/v1/promotions?status=ended", VIEWER).await;
    assert_eq!(list["items"][0]["id"], "m", "{list}");
}

async fn carts_are_priced_for_the_shopper_from_the_catalog(app: &TestApp) {
    app.send(
        Method::POST,
        "/api/v1/products",
        ADMIN,
        json!({"product_id": "tea-1", "name": "龙井", "category": "茶叶/绿茶", "price": "298.00"}),
    )
    .await;
    let (st, v) =
        app.ingest("/v1/identify", r#"{"userId": "u-gold", "traits": {"tier": "gold", "phone": "13800138000"}}"#).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    app.settle().await;
    promo(
        app,
        json!({"id": "member", "name": "金卡会员价", "status": "active", "target": {"categories": ["茶叶"]},
        "eligibility": {"tiers": ["gold"]}, "reward": {"type": "special_price", "price": "268.00"}}),
    )
    .await;
    let v = price(app, json!({"user_id": "u-gold", "lines": [{"product_id": "tea-1", "quantity": 2}]})).await;
    assert_eq!((v["subtotal"].as_str(), v["total"].as_str()), (Some("596.00"), Some("536.00")), "{v}");
    assert!(v["profile_id"].is_string(), "{v}");
    let v = price(app, json!({"user_id": "someone-else", "lines": [{"product_id": "tea-1"}]})).await;
    assert_eq!(codes(&v, "rejected"), [(s("member"), s("customer_not_eligible"))]);
    let (st, v) =
        app.send(Method::POST, "/api/v1/carts/price", ADMIN, json!({"lines": [{"product_id": "nope"}]})).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cart")), "{v}");
    let (st, _) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, json!({"lines": [], "colour": "red"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // a preview at another time
    promo(
        app,
        json!({"id": "later", "name": "双12", "status": "active", "starts_at": "2026-12-12T00:00:00Z",
        "reward": {"type": "amount_off", "amount": "12"}}),
    )
    .await;
    let v = price(app, json!({"lines": [{"product_id": "tea-1"}], "now": "2026-12-12T08:00:00Z"})).await;
    assert_eq!(codes(&v, "applied"), [(s("later"), s("12.00"))], "{v}");
}

async fn orders_take_limits_once_and_replay(app: &TestApp) {
    promo(
        app,
        json!({"id": "c2", "name": "两张券", "status": "active", "coupon": "TWO",
        "reward": {"type": "amount_off", "amount": "5"}, "limits": [{"counter": "redemptions", "limit": 2}]}),
    )
    .await;
    let order = |n: u32| {
        json!({"user_id": format!("u{n}"), "order_id": format!("o{n}"), "coupons": ["two"],
        "lines": [{"product_id": "x", "price": "30.00", "quantity": 1}]})
    };
    let (st, v) = app.send(Method::POST, "/api/v1/orders", ADMIN, order(1)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_parameter")), "no key: {v}");
    let (st, first, replayed) = place(app, "k1", order(1)).await;
    assert_eq!(
        (st, first["pricing"]["total"].as_str(), replayed),
        (StatusCode::CREATED, Some("25.00"), false),
        "{first}"
    );
    let (st, again, replayed) = place(app, "k1", order(1)).await;
    assert_eq!((st, replayed), (StatusCode::OK, true));
    assert_eq!(again, first, "a retry answers the first result");
    let (st, v, _) = place(app, "k1", order(9)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("idempotency_key_reused")));
    let (st, v, _) = place(app, "k-other", order(1)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "order o1 exists: {v}");
    let mut wrong = order(2);
    wrong["expected_total"] = json!("30.00");
    let (st, v, _) = place(app, "k2", wrong).await;
    assert_eq!(
        (st, v["error"]["code"].as_str(), v["error"]["details"]["total"].as_str()),
        (StatusCode::CONFLICT, Some("price_changed"), Some("25.00"))
    );
    assert_eq!(place(app, "k2b", order(2)).await.0, StatusCode::CREATED);
    let (st, v, _) = place(app, "k3", order(3)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("coupon_rejected")), "{v}");
    assert_eq!(v["error"]["details"]["reason"]["code"], "usage_limit_reached", "{v}");
    // the orders are recorded with the engine's figures, once
    app.settle().await;
    let (_, o) = app.get("/api/v1/orders/o1", ADMIN).await;
    assert_eq!(
        (o["total"].as_str(), o["discount"].as_str(), o["coupon"].as_str()),
        (Some("25.00"), Some("5.00"), Some("TWO")),
        "{o}"
    );
    let (_, list) = app.get("/api/v1/orders", ADMIN).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(2), "{list}");
}

async fn a_gift_is_recorded_on_the_order_and_its_stock_taken(app: &TestApp) {
    promo(app, json!({"id": "cup", "name": "满100赠杯", "status": "active", "min_spend": "100",
        "reward": {"type": "gift", "product_id": "gift-cup", "quantity": 1}, "limits": [{"counter": "units", "limit": 1}]})).await;
    let body = |n: u32| json!({"user_id": format!("g{n}"), "order_id": format!("G{n}"), "lines": [{"product_id": "tea", "price": "120.00"}]});
    let (st, v, _) = place(app, "g1", body(1)).await;
    assert_eq!((st, v["pricing"]["gifts"][0]["product_id"].as_str()), (StatusCode::CREATED, Some("gift-cup")), "{v}");
    let (st, v, _) = place(app, "g2", body(2)).await;
    assert_eq!((st, v["pricing"]["gifts"].as_array().map(Vec::len)), (StatusCode::CREATED, Some(0)), "stock gone: {v}");
    app.settle().await;
    let (_, o) = app.get("/api/v1/orders/G1", ADMIN).await;
    let lines: Vec<(&str, &str)> = o["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| (l["product_id"].as_str().unwrap_or(""), l["paid"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(lines, [("tea", "120.00"), ("gift-cup", "0.00")], "{o}");
    // 满99包邮 on a shipping fee of 12: the order pays 120.00 and records 12.00 of promotion cost
    promo(
        app,
        json!({"id": "ship", "name": "满99包邮", "status": "active", "min_spend": "99",
        "reward": {"type": "free_shipping"}}),
    )
    .await;
    let mut shipped = body(3);
    shipped["shipping"] = json!("12.00");
    let (st, v, _) = place(app, "g3", shipped).await;
    assert_eq!(
        (st, v["pricing"]["shipping_discount"].as_str(), v["pricing"]["total"].as_str()),
        (StatusCode::CREATED, Some("12.00"), Some("120.00")),
        "{v}"
    );
    app.settle().await;
    let (_, o) = app.get("/api/v1/orders/G3", ADMIN).await;
    assert_eq!((o["total"].as_str(), o["discount"].as_str()), (Some("120.00"), Some("12.00")), "{o}");
}

async fn a_thousand_concurrent_orders_never_over_redeem(app: &TestApp) {
    promo(
        app,
        json!({"id": "hundred", "name": "100张", "status": "active", "coupon": "C100",
        "reward": {"type": "amount_off", "amount": "1"}, "limits": [{"counter": "redemptions", "limit": 100}]}),
    )
    .await;
    promo(
        app,
        json!({"id": "flash", "name": "秒杀", "status": "active", "target": {"products": ["fs"]},
        "reward": {"type": "special_price", "price": "1.00"},
        "limits": [{"counter": "units", "limit": 50}, {"counter": "units", "limit": 1, "scope": "identity"}]}),
    )
    .await;
    let tries = (0..1000).map(|i| {
        let c = app.client.clone();
        async move {
            let body = json!({"user_id": format!("buyer-{i}"), "coupons": ["C100"],
                "lines": [{"product_id": "x", "price": "9.00"}]});
            place(&c, &format!("c-{i}"), body).await.0
        }
    });
    let statuses = in_parallel(tries).await;
    let created = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (100, 900));
    // flash sale: 1,000 attempts by 500 buyers (each twice) on 50 units, limit 1 each
    let tries = (0..1000).map(|i| {
        let c = app.client.clone();
        async move {
            let body = json!({"user_id": format!("fan-{}", i % 500), "expected_total": "1.00",
                "lines": [{"product_id": "fs", "price": "99.00"}]});
            let (st, v, _) = place(&c, &format!("f-{i}"), body).await;
            (st, v["profile_id"].clone(), i % 500)
        }
    });
    let outs = in_parallel(tries).await;
    let mut winners: Vec<usize> = outs.iter().filter(|o| o.0 == StatusCode::CREATED).map(|o| o.2).collect();
    assert_eq!(winners.len(), 50, "exactly the stock is sold");
    winners.sort_unstable();
    winners.dedup();
    assert_eq!(winners.len(), 50, "nobody bought twice");
    assert!(outs.iter().all(|o| o.0 == StatusCode::CREATED || o.0 == StatusCode::CONFLICT));
}

async fn an_order_whose_event_was_lost_after_its_checkout_is_written_again(app: &TestApp) {
    use beacon_store::{Checkout, Store};
    // as if the node stopped between the checkout's commit and its order event
    let order = json!({"order_id": "LOST-1", "user_id": "u-lost", "placed_at": "2026-11-11T12:00:00Z", "currency": "CNY",
        "total": "25.00", "discount": "5.00", "coupon": "TWO", "products": [{"product_id": "x", "price": "30.00", "quantity": 1}]});
    // older than the sweep at start looks back, so only the sweep below finds it
    let at = chrono::Utc::now() - beacon_server::app::checkout::recover::LOOK_BACK - chrono::Duration::days(1);
    let c = Checkout {
        idempotency_key: "lost-key".into(),
        order_id: "LOST-1".into(),
        request_hash: "h".into(),
        profile_id: None,
        takes: vec![],
        record: beacon_store::CheckoutRecord::from_answer(json!({"order_id": "LOST-1", "order": order}))
            .expect("record"),
        created_at: at,
        team: None,
        points: Vec::new(),
    };
    app.store.promotions().commit_checkouts(&[c]).await.expect("commit");
    app.settle().await;
    assert_eq!(app.get("/api/v1/orders/LOST-1", ADMIN).await.0, StatusCode::NOT_FOUND);
    let state = &app.running.as_ref().expect("running").state;
    let (from, to) = (at - chrono::Duration::seconds(1), chrono::Utc::now());
    assert_eq!(beacon_server::app::checkout::recover::sweep(state, from, to).await.expect("sweep"), 1);
    app.settle().await;
    let (st, o) = app.get("/api/v1/orders/LOST-1", ADMIN).await;
    assert_eq!((st, o["total"].as_str(), o["discount"].as_str()), (StatusCode::OK, Some("25.00"), Some("5.00")), "{o}");
    assert_eq!(beacon_server::app::checkout::recover::sweep(state, from, to).await.expect("again"), 0, "recorded now");
}

async fn limits_per_identity_never_store_a_phone_or_email_in_the_clear(app: &TestApp) {
    promo(app, json!({"id": "once", "name": "每个手机号一次", "status": "active",
        "reward": {"type": "amount_off", "amount": "1"}, "limits": [{"counter": "redemptions", "limit": 1, "scope": "identity"}]})).await;
    let body = json!({"phone": "138 0013 8000", "email": "Ann@Example.com", "lines": [{"product_id": "x", "price": "9.00"}], "expected_total": "8.00"});
    assert_eq!(place(app, "p-1", body.clone()).await.0, StatusCode::CREATED);
    let subjects: Vec<String> = used(app, "once").await.into_iter().map(|(s, _)| s).collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects.iter().all(|s| !s.contains("8000") && !s.contains("example")), "{subjects:?}");
    assert!(subjects.iter().any(|s| s.starts_with("phone#")) && subjects.iter().any(|s| s.starts_with("email#")));
    // the same phone on another order is still counted
    let mut again = body;
    again["email"] = json!("other@example.com");
    let (st, v, _) = place(app, "p-2", again).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("price_changed")), "{v}");
}

/// A budget's usage is money in the shop currency, next to its maximum in
/// the same unit; a count stays a count; each entry names its limit's index.
async fn usage_reports_budgets_in_money_and_counts_as_counts(app: &TestApp) {
    promo(
        app,
        json!({"id": "budget", "name": "满100减15", "status": "active", "min_spend": "100",
            "reward": {"type": "amount_off", "amount": "15"},
            "limits": [{"counter": "discount", "limit": "200"}, {"counter": "redemptions", "limit": 50}]}),
    )
    .await;
    let cart = json!({"user_id": "b1", "lines": [{"product_id": "tea", "price": "120.00"}]});
    let (s, v, _) = place(app, "budget-1", cart).await;
    assert_eq!((s, v["pricing"]["total"].as_str()), (StatusCode::CREATED, Some("105.00")), "{v}");
    let (_, u) = app.get("/api/v1/promotions/budget/usage", ADMIN).await;
    let item = |i: i64| u["items"].as_array().into_iter().flatten().find(|x| x["limit_index"] == i).cloned();
    let budget = item(0).unwrap_or_default();
    assert_eq!(
        (&budget["counter"], &budget["used"], &budget["max"], &budget["currency"]),
        (&json!("discount"), &json!("15.00"), &json!("200.00"), &json!("CNY")),
        "{u}"
    );
    let count = item(1).unwrap_or_default();
    assert_eq!((&count["used"], &count["max"], &count["currency"]), (&json!(1), &json!(50), &json!(null)), "{u}");
}

both_backends!(
    usage_reports_budgets_in_money_and_counts_as_counts,
    the_lifecycle_is_enforced_and_audited,
    carts_are_priced_for_the_shopper_from_the_catalog,
    orders_take_limits_once_and_replay,
    a_thousand_concurrent_orders_never_over_redeem,
    refunds_and_cancellations_give_limits_back_once,
    an_order_whose_event_was_lost_after_its_checkout_is_written_again,
    limits_per_identity_never_store_a_phone_or_email_in_the_clear,
    a_gift_is_recorded_on_the_order_and_its_stock_taken,
);

async fn used(app: &TestApp, promotion: &str) -> Vec<(String, i64)> {
    let (_, v) = app.get(&format!("/api/v1/promotions/{promotion}/usage"), ADMIN).await;
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| (c["subject"].as_str().unwrap_or("").to_string(), c["used"].as_i64().unwrap_or(-1)))
        .collect()
}

async fn refunds_and_cancellations_give_limits_back_once(app: &TestApp) {
    promo(
        app,
        json!({"id": "fs", "name": "秒杀", "status": "active", "target": {"products": ["fs"]},
        "reward": {"type": "special_price", "price": "1.00"},
        "limits": [{"counter": "units", "limit": 3}, {"counter": "redemptions", "limit": 5, "scope": "identity"}]}),
    )
    .await;
    let order = |user: &str, id: &str, qty: i64| {
        json!({"user_id": user, "order_id": id,
        "lines": [{"product_id": "fs", "price": "99.00", "quantity": qty}], "expected_total": format!("{qty}.00")})
    };
    assert_eq!(place(app, "a", order("u1", "A", 2)).await.0, StatusCode::CREATED);
    assert_eq!(place(app, "b", order("u2", "B", 1)).await.0, StatusCode::CREATED);
    let (st, v, _) = place(app, "c", order("u3", "C", 1)).await;
    assert_eq!((st, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("price_changed")), "sold out: {v}");
    assert_eq!(used(app, "fs").await, [(s("*"), 3), (s("user_id:u1"), 1), (s("user_id:u2"), 1)]);
    app.settle().await;
    // one unit of A back, sent twice (an SDK retry): one unit of stock returns, once
    let refund = r#"{"type": "track", "userId": "u1", "messageId": "r-1", "event": "Order Refunded",
        "properties": {"order_id": "A", "products": [{"product_id": "fs", "quantity": 1}]}}"#;
    for _ in 0..2 {
        assert_eq!(app.ingest("/v1/track", refund).await.0, StatusCode::OK);
    }
    app.settle().await;
    let state = &app.running.as_ref().expect("running").state;
    let again = beacon_server::workers::drain(state, std::time::Duration::from_secs(10)).await.expect("again");
    assert_eq!(again, 0, "given back once");
    assert_eq!(
        used(app, "fs").await,
        [(s("*"), 2), (s("user_id:u1"), 1), (s("user_id:u2"), 1)],
        "a partial refund keeps the redemption"
    );
    assert_eq!(place(app, "c2", order("u3", "C", 1)).await.0, StatusCode::CREATED, "the unit is for sale again");
    // cancelling B gives back its unit and its redemption
    let cancel = r#"{"type": "track", "userId": "u2", "messageId": "c-1", "event": "Order Cancelled", "properties": {"order_id": "B"}}"#;
    assert_eq!(app.ingest("/v1/track", cancel).await.0, StatusCode::OK);
    app.settle().await;
    assert_eq!(used(app, "fs").await, [(s("*"), 2), (s("user_id:u1"), 1), (s("user_id:u2"), 0), (s("user_id:u3"), 1)]);
}
