//! What a browser SDK needs from the ingest routes: preflights answered,
//! every `/v1` answer readable from any origin, and the settings
//! analytics.js loads from its CDN naming this server as the API host, and
//! the source configuration RudderStack's JavaScript SDK loads.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine as _;
use common::{ADMIN, CLIENT_WRITE, TestApp};
use serde_json::json;

async fn preflights_and_answers_carry_cors_headers(app: &TestApp) {
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/v1/t")
        .header("origin", "https://shop.example.cn")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .body(Body::empty())
        .expect("request");
    let (s, _, h) = app.request(preflight).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(h["access-control-allow-origin"], "*");
    assert!(h["access-control-allow-methods"].to_str().unwrap_or("").contains("POST"), "{h:?}");
    assert_eq!(h["access-control-allow-headers"], "content-type");
    assert_eq!(h["access-control-max-age"], "86400");
    // analytics.js sends text/plain with the key in the body: no preflight
    let body = json!({"type": "track", "event": "Product Viewed", "anonymousId": "tab-1", "writeKey": CLIENT_WRITE});
    let req = Request::builder()
        .method(Method::POST)
        .uri("/v1/t")
        .header("origin", "https://shop.example.cn")
        .header("content-type", "text/plain")
        .body(Body::from(body.to_string()))
        .expect("request");
    let (s, v, h) = app.request(req).await;
    assert_eq!((s, &h["access-control-allow-origin"]), (StatusCode::OK, &"*".parse().expect("header")), "{v}");
    // errors too, so the page's code can read them
    let req = Request::builder().method(Method::POST).uri("/v1/t").body(Body::from("{}")).expect("request");
    let (s, _, h) = app.request(req).await;
    assert_eq!((s, h.get("access-control-allow-origin").is_some()), (StatusCode::UNAUTHORIZED, true));
    // the admin API is not for pages
    let (_, _, h) = app.request(Request::builder().uri("/api/v1/keys").body(Body::empty()).expect("r")).await;
    assert!(h.get("access-control-allow-origin").is_none());
}

async fn the_cdn_settings_name_this_server(app: &TestApp) {
    let req = Request::builder()
        .uri(format!("/v1/projects/{CLIENT_WRITE}/settings"))
        .header("host", "beacon.example.cn:8080")
        .body(Body::empty())
        .expect("request");
    let (s, v, h) = app.request(req).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(h["access-control-allow-origin"], "*");
    let io = &v["integrations"]["Segment.io"];
    assert_eq!(
        (io["apiKey"].as_str(), io["apiHost"].as_str()),
        (Some(CLIENT_WRITE), Some("beacon.example.cn:8080/v1"))
    );
    assert_eq!(io["protocol"], "http");
    let unknown = Request::builder().uri("/v1/projects/nope/settings").body(Body::empty()).expect("request");
    let (s, v, _) = app.request(unknown).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
    let secret = Request::builder().uri(format!("/v1/projects/{ADMIN}/settings")).body(Body::empty()).expect("r");
    assert_eq!(app.request(secret).await.0, StatusCode::UNAUTHORIZED, "a secret key is no write key");
}

async fn the_rudderstack_source_config_names_the_key(app: &TestApp) {
    let by_query = Request::builder()
        .uri(format!("/sourceConfig/?p=npm&v=3.34.1&writeKey={CLIENT_WRITE}"))
        .header("origin", "http://shop.example.cn")
        .body(Body::empty())
        .expect("request");
    let (s, v, h) = app.request(by_query).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!((v["source"]["writeKey"].as_str(), v["source"]["enabled"].as_bool()), (Some(CLIENT_WRITE), Some(true)));
    assert_eq!(v["source"]["destinations"], json!([]), "no device-mode destination: {v}");
    let basic = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_WRITE}:")));
    let by_basic =
        Request::builder().uri("/sourceConfig").header("authorization", basic).body(Body::empty()).expect("request");
    assert_eq!(app.request(by_basic).await.0, StatusCode::OK);
    let none = Request::builder().uri("/sourceConfig/").body(Body::empty()).expect("request");
    let (s, v, _) = app.request(none).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("missing_write_key")), "{v}");
    let unknown = Request::builder().uri("/sourceConfig/?writeKey=nope").body(Body::empty()).expect("request");
    let (s, v, _) = app.request(unknown).await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_write_key")));
}

both_backends!(
    preflights_and_answers_carry_cors_headers,
    the_cdn_settings_name_this_server,
    the_rudderstack_source_config_names_the_key
);
