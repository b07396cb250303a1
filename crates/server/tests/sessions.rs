//! Console users and sessions through the API, on both stores: a login
//! sets an HttpOnly cookie and answers the CSRF token; changes made with
//! the cookie need that token; roles hold as for keys; wrong passwords,
//! disabled users, logouts, password changes, idle and absolute ends
//! close the door; logins are rate-limited per email.

mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use beacon_server::app::{Clock, ManualClock};
use common::{ADMIN, Backend, TestApp};
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "十月的苏州 autumn-2026";

fn call(method: Method, path: &str, cookie: Option<&str>, csrf: Option<&str>, body: Option<Value>) -> Request<Body> {
    let mut r = Request::builder().method(method).uri(path).header("content-type", "application/json");
    if let Some(c) = cookie {
        r = r.header("cookie", format!("theme=dark; beacon_session={c}"));
    }
    if let Some(t) = csrf {
        r = r.header("x-csrf-token", t);
    }
    r.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).expect("request")
}

/// The session token in a Set-Cookie header, and the header itself.
fn set_cookie(headers: &HeaderMap) -> (String, String) {
    let text = headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let token = text.strip_prefix("beacon_session=").and_then(|r| r.split(';').next()).unwrap_or_default();
    (token.to_string(), text)
}

async fn add_user(app: &TestApp, email: &str, role: &str) -> Value {
    let body = json!({"email": email, "name": "李雷", "role": role, "password": PASSWORD, "locale": "zh-CN"});
    let (s, v) = app.send(Method::POST, "/api/v1/users", ADMIN, body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(!v.to_string().contains("argon2"), "no hash in answers: {v}");
    v
}

/// Logs in: (token, csrf).
async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value, String) {
    let body = json!({"email": email, "password": password});
    let (s, v, h) = app.request(call(Method::POST, "/api/v1/session", None, None, Some(body))).await;
    (s, v, set_cookie(&h).0)
}

async fn sessions(app: &TestApp, clock: &ManualClock) {
    let marketer = add_user(app, "Li.Lei@Shop.cn", "marketer").await;
    add_user(app, "finance@shop.cn", "viewer").await;
    let (s, v) = app
        .send(
            Method::POST,
            "/api/v1/users",
            ADMIN,
            json!({"email": "li.lei@shop.cn", "role": "viewer", "password": PASSWORD}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "one user per email: {v}");

    // a login: the cookie is HttpOnly and SameSite, the answer has the CSRF token
    let body = json!({"email": "li.lei@shop.cn", "password": PASSWORD});
    let (s, me, headers) = app.request(call(Method::POST, "/api/v1/session", None, None, Some(body))).await;
    assert_eq!(s, StatusCode::CREATED, "{me}");
    let (token, header) = set_cookie(&headers);
    assert!(header.contains("HttpOnly") && header.contains("SameSite=Lax") && header.contains("Path=/"), "{header}");
    assert!(!header.contains("Secure"), "plain HTTP here: {header}");
    let csrf = me["csrf_token"].as_str().unwrap_or_default().to_string();
    assert!(token.len() >= 40 && csrf.len() >= 40 && token != csrf, "{me}");
    assert_eq!((me["user"]["id"].clone(), me["role"].as_str()), (marketer["id"].clone(), Some("marketer")));
    let (s, again, _) = app.request(call(Method::GET, "/api/v1/session", Some(&token), None, None)).await;
    assert_eq!((s, &again["csrf_token"]), (StatusCode::OK, &me["csrf_token"]), "{again}");
    let (s, v, _) = app.request(call(Method::GET, "/api/v1/profiles", Some(&token), None, None)).await;
    assert_eq!(s, StatusCode::OK, "reads with the cookie: {v}");

    // a change with the cookie needs the token; the audit log names the user
    let promo = json!({"id": "mj", "name": "满100减10", "reward": {"type": "amount_off", "amount": "10"}});
    for bad in [None, Some("forged")] {
        let (s, v, _) =
            app.request(call(Method::POST, "/api/v1/promotions", Some(&token), bad, Some(promo.clone()))).await;
        assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("csrf_token_invalid")), "{v}");
    }
    let (s, v, _) = app.request(call(Method::POST, "/api/v1/promotions", Some(&token), Some(&csrf), Some(promo))).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, audit) = app.get("/api/v1/audit?target=promotion:mj", ADMIN).await;
    assert_eq!(audit["items"][0]["actor"], marketer["id"], "{audit}");

    // roles hold: a viewer changes nothing, even with its token
    let (s, viewer, viewer_token) = login(app, "finance@shop.cn", PASSWORD).await;
    assert_eq!(s, StatusCode::CREATED, "{viewer}");
    let vt = viewer["csrf_token"].as_str().unwrap_or_default();
    let p2 = json!({"id": "p2", "name": "x", "reward": {"type": "amount_off", "amount": "1"}});
    let (s, v, _) =
        app.request(call(Method::POST, "/api/v1/promotions", Some(&viewer_token), Some(vt), Some(p2))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "{v}");
    let (s, v, _) = app.request(call(Method::GET, "/api/v1/users", Some(&viewer_token), None, None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");

    // wrong password, unknown email: the same refusal
    for (email, password) in [("li.lei@shop.cn", "wrong password!"), ("nobody@shop.cn", PASSWORD)] {
        let (s, v, t) = login(app, email, password).await;
        assert_eq!(
            (s, v["error"]["code"].as_str(), t.as_str()),
            (StatusCode::UNAUTHORIZED, Some("invalid_credentials"), "")
        );
    }

    // a password change: the current one must match; other sessions end, this one stays
    let (_, _, other) = login(app, "li.lei@shop.cn", PASSWORD).await;
    let change = |current: &str| json!({"current": current, "new": "a new password 2027"});
    let (s, v, _) = app
        .request(call(
            Method::POST,
            "/api/v1/session/password",
            Some(&token),
            Some(&csrf),
            Some(change("nope-nope-nope")),
        ))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_credentials")), "{v}");
    let (s, v, _) = app
        .request(call(Method::POST, "/api/v1/session/password", Some(&token), Some(&csrf), Some(change(PASSWORD))))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&other), None, None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.request(call(Method::GET, "/api/v1/session", Some(&token), None, None)).await.0, StatusCode::OK);
    assert_eq!(login(app, "li.lei@shop.cn", PASSWORD).await.0, StatusCode::UNAUTHORIZED, "the old password is gone");
    let (s, _, fresh) = login(app, "li.lei@shop.cn", "a new password 2027").await;
    assert_eq!(s, StatusCode::CREATED);

    // logout ends the session and clears the cookie
    let (s, _, h) = app.request(call(Method::DELETE, "/api/v1/session", Some(&fresh), Some("x"), None)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "logout needs the token too");
    let fresh_csrf =
        app.request(call(Method::GET, "/api/v1/session", Some(&fresh), None, None)).await.1["csrf_token"].clone();
    let (s, _, h2) =
        app.request(call(Method::DELETE, "/api/v1/session", Some(&fresh), fresh_csrf.as_str(), None)).await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{h:?}");
    assert!(set_cookie(&h2).1.contains("Max-Age=0"), "{h2:?}");
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&fresh), None, None)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // an admin disables a user: their sessions end, they cannot log in
    let id = viewer["user"]["id"].as_str().unwrap_or_default();
    let (s, v) = app.send(Method::PATCH, &format!("/api/v1/users/{id}"), ADMIN, json!({"disabled": true})).await;
    assert_eq!((s, v["disabled_at"].is_string()), (StatusCode::OK, true), "{v}");
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&viewer_token), None, None)).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(login(app, "finance@shop.cn", PASSWORD).await.0, StatusCode::UNAUTHORIZED);

    // idle for longer than the idle limit, then past the absolute end
    clock.advance(chrono::TimeDelta::seconds(61)); // (five logins a minute per email)
    let (_, _, idle) = login(app, "li.lei@shop.cn", "a new password 2027").await;
    clock.advance(chrono::TimeDelta::minutes(119));
    assert_eq!(app.request(call(Method::GET, "/api/v1/session", Some(&idle), None, None)).await.0, StatusCode::OK);
    clock.advance(chrono::TimeDelta::minutes(119));
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&idle), None, None)).await.0,
        StatusCode::OK,
        "activity keeps it"
    );
    for _ in 0..6 {
        clock.advance(chrono::TimeDelta::minutes(100));
        let _ = app.request(call(Method::GET, "/api/v1/session", Some(&idle), None, None)).await;
    }
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&idle), None, None)).await.0,
        StatusCode::UNAUTHORIZED,
        "12 hours at most"
    );
    let (_, _, lazy) = login(app, "li.lei@shop.cn", "a new password 2027").await;
    clock.advance(chrono::TimeDelta::minutes(121));
    assert_eq!(
        app.request(call(Method::GET, "/api/v1/session", Some(&lazy), None, None)).await.0,
        StatusCode::UNAUTHORIZED,
        "idle"
    );

    // a key asking who it is
    let (s, v) = app.get("/api/v1/session", ADMIN).await;
    assert_eq!((s, v["kind"].as_str(), v["role"].as_str()), (StatusCode::OK, Some("key"), Some("admin")), "{v}");
    assert!(v["key"]["id"].is_string() && v.get("csrf_token").is_none(), "{v}");

    // logins are rate-limited per email: five a minute, then wait
    for _ in 0..5 {
        let _ = login(app, "li.lei@shop.cn", "guess guess guess").await;
    }
    let (s, v, _) = login(app, "li.lei@shop.cn", "a new password 2027").await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("rate_limited")), "{v}");
    clock.advance(chrono::TimeDelta::seconds(61));
    assert_eq!(login(app, "li.lei@shop.cn", "a new password 2027").await.0, StatusCode::CREATED);
}

async fn run(backend: Backend) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let app = TestApp::with_clock(backend, |_| {}, clock.clone() as Arc<dyn Clock>).await;
    sessions(&app, &clock).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_on_the_embedded_store() {
    run(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_on_postgres() {
    run(Backend::Postgres).await;
}
