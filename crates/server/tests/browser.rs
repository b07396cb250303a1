//! What a browser SDK needs from the ingest routes: preflights answered,
//! every `/v1` answer readable from any origin, and the settings
//! analytics.js loads from its CDN naming this server as the API host.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
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

both_backends!(preflights_and_answers_carry_cors_headers, the_cdn_settings_name_this_server);
