//! Walks the error catalogue: every code a request can provoke is provoked
//! here, answered with the status `status_of` gives it and the one body
//! shape `{"error": {"code", "message", "details"?}}`, through the real
//! router and store. The few no request here provokes on demand are named
//! with where they are proved instead (or that they are not).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use beacon_core::ErrorCode;
use common::{ADMIN, Backend, TestApp, VIEWER, WRITE};
use serde_json::{Value, json};

/// Codes no request here provokes, and where they are proved.
const ELSEWHERE: &[(&str, &str)] = &[
    ("edge_anonymous_only", "tests/edge.rs: an edge node (needs PostgreSQL)"),
    ("rate_limited", "auth.rs unit test: the gate's token bucket (tests run without limits)"),
    ("request_timeout", "crates/cli/tests/shutdown.rs: a stalled body on the real listener"),
    (
        "unavailable",
        "not provoked by any test yet: the writer's full queue (503, Retry-After), a database that does not answer",
    ),
    ("internal", "no request should provoke it"),
];

fn req(method: Method, path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(body.into()).expect("request")
}

fn basic(key: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{key}:")))
}

async fn provoke(app: &TestApp, code: &str) -> (StatusCode, Value) {
    let admin = format!("Bearer {ADMIN}");
    let a = [("authorization", admin.as_str()), ("content-type", "application/json")];
    let w = basic(WRITE);
    let w = [("authorization", w.as_str()), ("content-type", "application/json")];
    let post = |path: &str, h: &[(&str, &str)], body: Value| req(Method::POST, path, h, body.to_string());
    let order = |extra: Value| {
        let mut o = json!({"user_id": "walker", "lines": [{"product_id": "tea", "price": "120.00"}]});
        for (k, v) in extra.as_object().into_iter().flatten() {
            o[k] = v.clone();
        }
        o
    };
    let keyed = |key: &'static str| [a[0], a[1], ("idempotency-key", key)];
    let r = match code {
        "malformed_json" => req(Method::POST, "/v1/batch", &w, "{"),
        "invalid_encoding" => req(Method::POST, "/v1/batch", &[w[0], w[1], ("content-encoding", "br")], "{}"),
        "payload_too_large" => req(Method::POST, "/api/v1/promotions", &a, format!("\"{}\"", "x".repeat(3 << 20))),
        "invalid_event" => post("/v1/track", &w, json!({"userId": "u"})),
        "missing_identity" => post("/v1/track", &w, json!({"event": "e"})),
        "invalid_identity" => post("/v1/identify", &w, json!({"userId": "u", "traits": {"email": "nope"}})),
        "invalid_order" => {
            post("/api/v1/orders", &a, json!({"orders": [{"order_id": "o", "user_id": "u", "products": []}]}))
        }
        "invalid_cart" => post("/api/v1/carts/price", &a, json!({"lines": [], "surprise": 1})),
        "invalid_promotion" => post("/api/v1/promotions", &a, json!({"id": "p-1", "status": "active"})),
        "invalid_product" => post("/api/v1/products", &a, json!({"product_id": "x", "price": "-1"})),
        "invalid_segment" => post("/api/v1/segments/estimate", &a, json!({"text": "performed Product"})),
        "invalid_file" => req(Method::POST, "/api/v1/imports?kind=orders&format=csv", &a, ""),
        "invalid_timestamp" => post("/v1/track", &w, json!({"userId": "u", "event": "e", "timestamp": "yesterday"})),
        "invalid_parameter" => req(Method::GET, "/api/v1/profiles?limit=many", &a, ""),
        "invalid_cursor" => req(Method::GET, "/api/v1/profiles?cursor=not-ours", &a, ""),
        "invalid_role" => post("/api/v1/keys", &a, json!({"name": "x", "role": "god"})),
        "missing_write_key" => req(Method::POST, "/v1/track", &[("content-type", "application/json")], "{}"),
        "invalid_write_key" => req(Method::POST, "/v1/track", &[("authorization", &basic("nope"))], "{}"),
        "unauthenticated" => req(Method::GET, "/api/v1/profiles", &[], ""),
        "forbidden" => req(Method::GET, "/api/v1/keys", &[("authorization", &format!("Bearer {VIEWER}"))], ""),
        "not_found" => req(Method::GET, "/api/v1/orders/none", &a, ""),
        "route_not_found" => req(Method::GET, "/nowhere", &[], ""),
        "method_not_allowed" => req(Method::DELETE, "/v1/track", &w, ""),
        "unsupported_media_type" => {
            req(Method::POST, "/api/v1/promotions", &[a[0], ("content-type", "text/xml")], "<p/>")
        }
        "conflict" => {
            let spec = json!({"id": "dup", "name": "dup", "status": "active", "reward": {"type": "percent_off", "percent": "5"}});
            let first = app.request(post("/api/v1/promotions", &a, spec.clone())).await;
            assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
            post("/api/v1/promotions", &a, spec)
        }
        "coupon_rejected" => post("/api/v1/orders", &keyed("c1"), order(json!({"coupons": ["NO-SUCH-CODE"]}))),
        "coupon_limit_reached" => {
            let spec = json!({"id": "tpl", "name": "券", "status": "active", "reward": {"type": "amount_off", "amount": "5"},
                "codes": {"pattern": "T-####-????", "quantity": 5, "claimable": true}});
            assert_eq!(app.request(post("/api/v1/promotions", &a, spec)).await.0, StatusCode::CREATED);
            let claim = json!({"promotion": "tpl", "user_id": "walker"});
            assert_eq!(app.request(post("/api/v1/coupons/claim", &a, claim.clone())).await.0, StatusCode::CREATED);
            post("/api/v1/coupons/claim", &a, claim)
        }
        "team_unavailable" => {
            let spec = json!({"id": "gb", "name": "团", "status": "active", "target": {"products": ["other"]},
                "reward": {"type": "special_price", "price": "99"}, "group_buy": {"min_members": 2, "max_members": 3, "minutes": 60}});
            assert_eq!(app.request(post("/api/v1/promotions", &a, spec)).await.0, StatusCode::CREATED);
            post("/api/v1/orders", &keyed("t1"), order(json!({"group_buy": {"promotion": "gb"}})))
        }
        "price_changed" => post("/api/v1/orders", &keyed("p1"), order(json!({"expected_total": "1.00"}))),
        "idempotency_key_reused" => {
            let first = app.request(post("/api/v1/orders", &keyed("i1"), order(json!({"order_id": "I-1"})))).await;
            assert_eq!(first.0, StatusCode::CREATED, "{}", first.1);
            post("/api/v1/orders", &keyed("i1"), order(json!({"order_id": "I-2"})))
        }
        "invalid_credentials" => post("/api/v1/session", &[a[1]], json!({"email": "no@shop.cn", "password": "x"})),
        "csrf_token_invalid" => {
            let user = json!({"email": "csrf@shop.cn", "role": "admin", "password": "a long enough password"});
            assert_eq!(app.request(post("/api/v1/users", &a, user)).await.0, StatusCode::CREATED);
            let login = json!({"email": "csrf@shop.cn", "password": "a long enough password"});
            let (s, _, h) = app.request(post("/api/v1/session", &[a[1]], login)).await;
            assert_eq!(s, StatusCode::CREATED);
            let cookie = h.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let cookie = cookie.split(';').next().unwrap_or_default().to_string();
            post("/api/v1/keys", &[a[1], ("cookie", &cookie)], json!({"name": "k", "role": "viewer"}))
        }
        "uri_too_long" => req(Method::GET, &format!("/api/v1/profiles?identity={}", "x".repeat(9000)), &a, ""),
        other => panic!("no way to provoke {other} here: add one, or name it in ELSEWHERE"),
    };
    let (s, v, _) = app.request(r).await;
    (s, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_code_of_the_catalogue_is_answered_as_documented() {
    let app = TestApp::new(Backend::Embedded).await;
    assert_eq!(app.ingest("/v1/identify", r#"{"userId": "walker"}"#).await.0, StatusCode::OK);
    app.settle().await;
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/ERRORS.md")).expect("docs");
    for code in ErrorCode::ALL {
        let name = code.as_str();
        let status = beacon_server::error::status_of(*code);
        let row = format!("| `{name}` | {} |", status.as_u16());
        assert!(docs.contains(&row), "docs/ERRORS.md has no row {row}");
        if ELSEWHERE.iter().any(|(c, _)| *c == name) {
            continue;
        }
        let (s, v) = provoke(&app, name).await;
        assert_eq!((s, v["error"]["code"].as_str()), (status, Some(name)), "{name}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{name}: {v}");
        let keys: Vec<&String> = v["error"].as_object().map(|o| o.keys().collect()).unwrap_or_default();
        assert!(keys.iter().all(|k| ["code", "message", "details"].contains(&k.as_str())), "{name}: {v}");
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{name}: nothing beside error: {v}");
    }
    app.stop().await;
}
