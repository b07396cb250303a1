//! The trust model through the real ingest path, on both stores: a client
//! write key (public) cannot attach a device to a person the shop's back
//! end knows, through an email, a phone, an openid, a user id or an alias,
//! and a checkout naming that device reaches none of the person's wallet;
//! the back end confirms a claim by naming the device at login.

mod common;

use axum::http::{Method, StatusCode};
use common::{ADMIN, CLIENT_WRITE, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

async fn send(app: &TestApp, key: &str, batch: Value) {
    let (s, v) = app.ingest_as(key, "/v1/batch", &json!({ "batch": batch }).to_string()).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    app.settle().await;
}

/// Every profile holding `identity` (`kind:value`).
async fn holders(app: &TestApp, identity: &str) -> Vec<Value> {
    let (s, v) = app.get(&format!("/api/v1/profiles?identity={identity}"), ADMIN).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v["items"].as_array().cloned().unwrap_or_default()
}

fn holds(p: &Value, kind: &str, value: &str) -> bool {
    p["identities"].as_array().into_iter().flatten().any(|i| i["type"] == kind && i["value"] == value)
}

/// The victim, known to the shop's back end (a server key), with a code in
/// the wallet; answers the victim's profile id and the code.
async fn victim(app: &TestApp) -> (String, String) {
    send(
        app,
        WRITE,
        json!([
            {"type": "identify", "userId": "victim", "anonymousId": "victim-phone", "messageId": "v1",
             "traits": {"email": "victim@example.org", "phone": "13800138000"},
             "context": {"traits": {"openid": "o-victim"}}},
        ]),
    )
    .await;
    let spec = json!({"id": "vip", "name": "VIP 满100减50", "status": "active", "min_spend": "100",
        "reward": {"type": "amount_off", "amount": "50"}, "codes": {"pattern": "VIP-####-????", "quantity": 10}});
    let (s, v) = app.send(Method::POST, "/api/v1/promotions", ADMIN, spec).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = app.profile("user_id:victim").await["id"].as_str().unwrap_or_default().to_string();
    let (s, v) =
        app.send(Method::POST, "/api/v1/promotions/vip/coupons", ADMIN, json!({"profiles": [id], "count": 1})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let code = v["issued"][0]["code"].as_str().unwrap_or_default().to_string();
    assert!(!code.is_empty(), "{v}");
    (id, code)
}

async fn no_client_claim_attaches_a_device_to_a_known_shopper(app: &TestApp) {
    let (victim_id, code) = victim(app).await;
    let claims = [
        ("email", json!({"type": "identify", "traits": {"email": "Victim@Example.org"}})),
        ("phone", json!({"type": "identify", "traits": {"phone": "+86 138 0013 8000"}})),
        ("openid", json!({"type": "identify", "context": {"traits": {"openid": "o-victim"}}})),
        ("user_id", json!({"type": "identify", "userId": "victim"})),
        ("alias", json!({"type": "alias", "userId": "victim", "previousId": "attacker-alias"})),
        ("alias_back", json!({"type": "alias", "userId": "attacker-5", "previousId": "victim"})),
        ("traits", json!({"type": "identify", "userId": "victim", "traits": {"email": "mallory@example.org"}})),
    ];
    for (n, (what, mut claim)) in claims.into_iter().enumerate() {
        let device = format!("attacker-{n}");
        if what != "traits" {
            claim["anonymousId"] = json!(device);
        }
        claim["messageId"] = json!(format!("a-{what}"));
        send(
            app,
            CLIENT_WRITE,
            json!([
                {"type": "track", "anonymousId": device, "event": "Product Viewed", "messageId": format!("b-{what}")},
                claim,
            ]),
        )
        .await;
        let (s, p) = app.get(&format!("/api/v1/profiles/{victim_id}"), ADMIN).await;
        assert_eq!(s, StatusCode::OK, "{p}");
        assert_eq!(p["id"], json!(victim_id), "{what}: the victim's profile was merged away");
        assert!(!holds(&p, "anonymous_id", &device), "{what}: the attacker's device is on the victim: {p}");
        assert_eq!(p["traits"]["email"], "victim@example.org", "{what}: {p}");
        let attacker = app.profile(&format!("anonymous_id:{device}")).await;
        assert_ne!(attacker["id"], json!(victim_id), "{what}");
        // a checkout naming the attacker's device reaches none of the victim's wallet
        let cart =
            json!({"anonymous_id": device, "coupons": [code], "lines": [{"product_id": "tea", "price": "120.00"}]});
        let (s, priced) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart).await;
        assert_eq!(s, StatusCode::OK, "{priced}");
        assert_eq!(priced["total"], "120.00", "{what}: {priced}");
        assert_ne!(priced["rejected"][0]["reason"]["code"], json!(null), "{what}: {priced}");
    }
    // the email the attacker claimed is recorded on the attacker, unverified
    let on_email = holders(app, "email:victim%40example.org").await;
    assert_eq!(on_email.len(), 2, "{on_email:?}");
    let claimed: Vec<&Value> = on_email.iter().filter(|p| p["id"] != json!(victim_id)).collect();
    assert!(claimed[0]["unverified"].as_array().is_some_and(|u| u.iter().any(|i| i["type"] == "email")), "{claimed:?}");
    // and the victim still prices the code
    let cart = json!({"user_id": "victim", "coupons": [code], "lines": [{"product_id": "tea", "price": "120.00"}]});
    let (_, priced) = app.send(Method::POST, "/api/v1/carts/price", ADMIN, cart).await;
    assert_eq!(priced["total"], "70.00", "{priced}");
    // an email typed at a guest checkout vouches for nothing either
    let order = json!({"order_id": "G-1", "anonymous_id": "attacker-guest", "email": "victim@example.org",
        "lines": [{"product_id": "tea", "price": "20.00"}]});
    let (s, v, _) = app.post_keyed("/api/v1/orders", Some("guest-1"), order).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    app.settle().await;
    let (_, p) = app.get(&format!("/api/v1/profiles/{victim_id}"), VIEWER).await;
    assert!(!holds(&p, "anonymous_id", "attacker-guest"), "{p}");
    assert_eq!(p["order_count"], 0, "{p}");
}

async fn the_back_end_confirms_a_claim_at_login(app: &TestApp) {
    send(
        app,
        WRITE,
        json!([{"type": "identify", "userId": "u1", "messageId": "s1", "traits": {"email": "u1@example.org"}}]),
    )
    .await;
    send(
        app,
        CLIENT_WRITE,
        json!([
            {"type": "page", "anonymousId": "browser-1", "name": "Home", "messageId": "c1"},
            {"type": "identify", "anonymousId": "browser-1", "userId": "u1", "messageId": "c2"},
        ]),
    )
    .await;
    assert_eq!(holders(app, "user_id:u1").await.len(), 2, "the claim waits on the browsing profile");
    // the back end, at login, names the user and the browser's anonymous id
    send(
        app,
        WRITE,
        json!([{"type": "track", "userId": "u1", "anonymousId": "browser-1", "event": "Signed In", "messageId": "s2"}]),
    )
    .await;
    let p = app.profile("user_id:u1").await;
    assert!(holds(&p, "anonymous_id", "browser-1") && holds(&p, "email", "u1@example.org"), "{p}");
    assert_eq!(p["event_count"], 4, "{p}");
    assert_eq!(p["unverified"], json!([]), "everything on it vouched for now: {p}");
    // from then on the browser's own events land on the shopper, claims and all
    send(
        app,
        CLIENT_WRITE,
        json!([
            {"type": "identify", "anonymousId": "browser-1", "messageId": "c3", "traits": {"phone": "13900139000"}},
        ]),
    )
    .await;
    let p = app.profile("user_id:u1").await;
    assert_eq!(p["event_count"], 5, "{p}");
    assert_eq!(p["unverified"], json!([{"type": "phone", "value": "+8613900139000"}]), "{p}");
}

/// Member tier and tags are the shop's to give: the shopper's own browser
/// (vouched for at login) cannot set them, the back end can.
async fn only_the_back_end_sets_tier_and_tags(app: &TestApp) {
    send(
        app,
        WRITE,
        json!([{"type": "identify", "userId": "m1", "anonymousId": "m1-browser", "messageId": "t-s1",
        "traits": {"tier": "silver", "tags": ["新客"]}}]),
    )
    .await;
    send(
        app,
        CLIENT_WRITE,
        json!([{"type": "identify", "anonymousId": "m1-browser", "messageId": "t-c1",
        "traits": {"tier": "platinum", "tags": ["vip"], "city": "杭州"}}]),
    )
    .await;
    let p = app.profile("user_id:m1").await;
    assert_eq!((&p["traits"]["tier"], &p["traits"]["tags"]), (&json!("silver"), &json!(["新客"])), "{p}");
    assert_eq!(p["traits"]["city"], "杭州", "its other traits are set: {p}");
    send(app, WRITE, json!([{"type": "identify", "userId": "m1", "messageId": "t-s2", "traits": {"tier": "gold"}}]))
        .await;
    assert_eq!(app.profile("user_id:m1").await["traits"]["tier"], "gold");
}

async fn client_only_shoppers_merge_as_segment_does(app: &TestApp) {
    send(
        app,
        CLIENT_WRITE,
        json!([
            {"type": "page", "anonymousId": "tab-1", "name": "Home", "messageId": "t1"},
            {"type": "identify", "anonymousId": "tab-2", "userId": "solo", "messageId": "t2"},
            {"type": "identify", "anonymousId": "tab-1", "userId": "solo", "messageId": "t3"},
        ]),
    )
    .await;
    let p = app.profile("user_id:solo").await;
    assert!(holds(&p, "anonymous_id", "tab-1") && holds(&p, "anonymous_id", "tab-2"), "{p}");
    assert_eq!(p["event_count"], 3, "{p}");
}

async fn write_keys_carry_their_source(app: &TestApp) {
    let (s, k) = app
        .send(
            Method::POST,
            "/api/v1/keys",
            ADMIN,
            json!({"name": "shop back end", "kind": "write", "source": "server"}),
        )
        .await;
    assert_eq!((s, &k["source"]), (StatusCode::CREATED, &json!("server")), "{k}");
    let (s, k) = app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "mini program", "kind": "write"})).await;
    assert_eq!((s, &k["source"]), (StatusCode::CREATED, &json!("client")), "{k}");
    let (s, e) =
        app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "x", "kind": "write", "source": "edge"})).await;
    assert_eq!((s, &e["error"]["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_parameter")), "{e}");
    let (s, e) =
        app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "x", "role": "admin", "source": "server"})).await;
    assert_eq!((s, &e["error"]["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_parameter")), "{e}");
}

async fn roles_see_personal_data_by_need(app: &TestApp) {
    send(
        app,
        WRITE,
        json!([{"type": "identify", "userId": "pii-1", "messageId": "pii-m1",
        "traits": {"email": "li.lei@example.com", "phone": "13800138000", "name": "李雷", "city": "深圳"}},
        {"type": "identify", "userId": "pii-2", "messageId": "pii-m2", "traits": {"email": "han.mei@example.com"}}]),
    )
    .await;
    let p = app.profile("user_id:pii-1").await;
    let id = p["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(
        (p["traits"]["email"].as_str(), p["traits"]["name"].as_str()),
        (Some("li.lei@example.com"), Some("李雷"))
    );
    let (s, v) = app.get(&format!("/api/v1/profiles/{id}"), VIEWER).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["traits"]["email"], "l***@example.com", "{v}");
    assert_eq!(v["traits"]["phone"], "138****8000", "{v}");
    assert_eq!(v["traits"]["name"], "李**", "{v}");
    assert_eq!(v["traits"]["city"], "深圳", "not personal: {v}");
    assert!(v["identities"].as_array().into_iter().flatten().any(|i| i["value"] == "+86138****8000"), "{v}");
    assert!(!v.to_string().contains("li.lei@") && !v.to_string().contains("13800138000"), "{v}");
    let (_, events) = app.get(&format!("/api/v1/profiles/{id}/events"), VIEWER).await;
    let text = events.to_string();
    assert!(text.contains("pii-m1") && !text.contains("li.lei@") && !text.contains("李雷"), "{events}");
    // a marketer reads in full (security.pii_full_roles)
    let (s, k) = app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "m", "role": "marketer"})).await;
    assert_eq!(s, StatusCode::CREATED, "{k}");
    let (_, v) = app.get(&format!("/api/v1/profiles/{id}"), k["key"].as_str().unwrap_or_default()).await;
    assert_eq!(v["traits"]["email"], "li.lei@example.com", "{v}");
    // every full read of a person's personal data is audited; masked reads are not
    let (_, audit) = app.get(&format!("/api/v1/audit?target=profile:{id}"), ADMIN).await;
    let reads: Vec<&Value> =
        audit["items"].as_array().into_iter().flatten().filter(|e| e["action"] == "pii.read").collect();
    assert_eq!(reads.len(), 2, "the admin's and the marketer's reads: {audit}");
    assert_eq!(reads[0]["actor"], k["id"], "newest first, by the marketer's key: {audit}");
    let (_, list) = app.get("/api/v1/profiles?limit=50", ADMIN).await;
    assert!(list["items"].as_array().is_some_and(|i| !i.is_empty()), "{list}");
    let (_, audit) = app.get("/api/v1/audit?target=profiles", ADMIN).await;
    assert!(audit["items"][0]["after"]["profiles"].as_array().is_some_and(|p| p.contains(&json!(id))), "{audit}");
}

/// A checkout naming a profile and another person's user id is refused
/// (priced for one, recorded on the other, it would spend one wallet for
/// the other's order); an identity no one holds yet joins the profile.
async fn a_checkout_names_one_person(app: &TestApp) {
    let (victim_id, _) = victim(app).await;
    send(
        app,
        WRITE,
        json!([{"type": "identify", "anonymousId": "shopper-x", "messageId": "x1",
        "traits": {"city": "杭州"}}]),
    )
    .await;
    let x = app.profile("anonymous_id:shopper-x").await["id"].as_str().unwrap_or_default().to_string();
    assert_ne!(x, victim_id);
    let cart = |user: &str| json!({"profile_id": x, "user_id": user, "lines": [{"product_id": "tea", "price": "30.00", "quantity": 1}]});
    for path in ["/api/v1/carts/price", "/api/v1/orders"] {
        let (s, v, _) = app.post_keyed(path, Some("one-person-1"), cart("victim")).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_cart")), "{path}: {v}");
    }
    let (s, placed, _) = app.post_keyed("/api/v1/orders", Some("one-person-2"), cart("x-login")).await;
    assert_eq!(s, StatusCode::CREATED, "{placed}");
    app.settle().await;
    let order = placed["order_id"].as_str().unwrap_or_default();
    let (_, o) = app.get(&format!("/api/v1/orders/{order}"), ADMIN).await;
    let (_, now_x) = app.get(&format!("/api/v1/profiles/{x}"), ADMIN).await;
    assert_eq!(o["profile_id"], now_x["id"], "the order is the profile's: {o} {now_x}");
    assert!(holds(&now_x, "user_id", "x-login"), "the new user id joined the profile: {now_x}");
    let (_, victim) = app.get(&format!("/api/v1/profiles/{victim_id}"), ADMIN).await;
    assert_eq!(victim["order_count"], 0, "{victim}");
}

both_backends!(
    a_checkout_names_one_person,
    no_client_claim_attaches_a_device_to_a_known_shopper,
    the_back_end_confirms_a_claim_at_login,
    client_only_shoppers_merge_as_segment_does,
    write_keys_carry_their_source,
    roles_see_personal_data_by_need,
    only_the_back_end_sets_tier_and_tags,
);
