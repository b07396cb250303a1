//! Keys, roles, audit, rate limits, lists, system routes.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use beacon_server::api::openapi::ROUTES;
use common::{ADMIN, Backend, TestApp, VIEWER, WRITE};
use serde_json::json;

async fn every_admin_route_checks_key_and_role(app: &TestApp) {
    for (method, path, auth, _) in ROUTES {
        // (logging in is how a console user gets a session)
        if !path.starts_with("/api/") || *auth == "none" {
            continue;
        }
        let path = path.replace("{id}", "x");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let (s, v) = app.send(m.clone(), &path, "", json!({})).await;
        assert_eq!(
            (s, v["error"]["code"].clone()),
            (StatusCode::UNAUTHORIZED, json!("unauthenticated")),
            "{method} {path}"
        );
        let (s, v) = app.send(m.clone(), &path, WRITE, json!({})).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::FORBIDDEN, json!("forbidden")), "{method} {path}");
        if *auth == "admin" {
            let (s, _) = app.send(m, &path, VIEWER, json!({})).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "viewer on {method} {path}");
        }
    }
}

async fn keys_are_created_listed_revoked_and_audited(app: &TestApp) {
    let (s, created) = app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "BI", "role": "analyst"})).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let secret = created["key"].as_str().unwrap_or_default().to_string();
    assert!(secret.starts_with("bsk_") && secret.len() > 40);
    let (s, _) = app.get("/api/v1/overview", &secret).await;
    assert_eq!(s, StatusCode::OK, "an analyst reads");
    let (s, _) = app.get("/api/v1/keys", &secret).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "an analyst does not manage keys");
    let (_, list) = app.get("/api/v1/keys", ADMIN).await;
    assert!(!list.to_string().contains(&secret), "secrets are never listed");
    let id = created["id"].as_str().unwrap_or_default();
    let (s, revoked) = app.send(Method::DELETE, &format!("/api/v1/keys/{id}"), ADMIN, json!(null)).await;
    assert_eq!(s, StatusCode::OK);
    assert!(revoked["revoked_at"].is_string());
    assert_eq!(app.get("/api/v1/overview", &secret).await.0, StatusCode::UNAUTHORIZED, "revoked at once");
    let (_, audit) = app.get("/api/v1/audit?limit=2", ADMIN).await;
    let actions: Vec<&str> =
        audit["items"].as_array().map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect()).unwrap_or_default();
    assert_eq!(actions, ["key.revoke", "key.create"]);
    assert_eq!(audit["items"][0]["before"]["revoked_at"], json!(null));
    assert!(audit["items"][0]["after"]["revoked_at"].is_string());
    assert!(audit["items"][0]["actor"].as_str().is_some_and(|a| a.starts_with("key_")));
    // revoking it again changes nothing and records nothing
    let (s, again) = app.send(Method::DELETE, &format!("/api/v1/keys/{id}"), ADMIN, json!(null)).await;
    assert_eq!((s, &again["revoked_at"]), (StatusCode::OK, &revoked["revoked_at"]));
    let (_, audit) = app.get("/api/v1/audit?limit=1", ADMIN).await;
    assert_eq!(audit["items"][0]["after"]["revoked_at"], revoked["revoked_at"]);
    let (_, all) = app.get("/api/v1/audit?limit=200", ADMIN).await;
    let revokes = all["items"].as_array().map_or(0, |a| a.iter().filter(|e| e["action"] == "key.revoke").count());
    assert_eq!(revokes, 1, "{all}");
    // the last active admin key stays: revoking it is refused, another admin's is not
    let (_, list) = app.get("/api/v1/keys", ADMIN).await;
    let admin_id = |list: &serde_json::Value| {
        list["items"].as_array().into_iter().flatten().find(|k| k["role"] == "admin").map(|k| k["id"].clone())
    };
    let first = admin_id(&list).expect("the test's admin key");
    let (s, v) = app.send(Method::POST, "/api/v1/keys", ADMIN, json!({"name": "second admin", "role": "admin"})).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let second = v["key"].as_str().unwrap_or_default().to_string();
    let (s, _) =
        app.send(Method::DELETE, &format!("/api/v1/keys/{}", first.as_str().unwrap_or("")), &second, json!(null)).await;
    assert_eq!(s, StatusCode::OK, "one of two admin keys may go");
    let (s, v) = app
        .send(Method::DELETE, &format!("/api/v1/keys/{}", v["id"].as_str().unwrap_or("")), &second, json!(null))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("conflict")), "{v}");
    assert_eq!(app.get("/api/v1/keys", &second).await.0, StatusCode::OK, "still an admin");
    let bad = [
        (json!({"name": "x", "role": "god"}), "invalid_role"),
        (json!({"name": "x"}), "invalid_role"),
        (json!({"name": "x", "kind": "write", "role": "admin"}), "invalid_parameter"),
        (json!({"name": "", "kind": "write"}), "invalid_parameter"),
        (json!({"name": "line\nbreak", "kind": "write"}), "invalid_parameter"),
        (json!({"name": "bell\u{7}", "role": "viewer"}), "invalid_parameter"),
        (json!({"name": "x", "role": "admin", "extra": 1}), "malformed_json"),
    ];
    for (body, code) in bad {
        let (s, v) = app.send(Method::POST, "/api/v1/keys", &second, body).await;
        assert_eq!((s.is_client_error(), v["error"]["code"].clone()), (true, json!(code)));
    }
}

async fn profile_lists_page_with_cursors_and_reject_bad_parameters(app: &TestApp) {
    let batch: Vec<_> =
        (0..7).map(|i| json!({"type": "identify", "userId": format!("list-{i}"), "traits": {"n": i}})).collect();
    assert_eq!(app.ingest("/v1/batch", &json!({"batch": batch}).to_string()).await.0, StatusCode::OK);
    app.settle().await;
    let mut seen = Vec::new();
    let mut url = "/api/v1/profiles?limit=3".to_string();
    loop {
        let (s, page) = app.get(&url, VIEWER).await;
        assert_eq!(s, StatusCode::OK, "{page}");
        seen.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/profiles?limit=3&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    for (url, code) in [
        ("/api/v1/profiles?limit=0", "invalid_parameter"),
        ("/api/v1/profiles?limit=abc", "invalid_parameter"),
        ("/api/v1/profiles?cursor=!!", "invalid_cursor"),
        ("/api/v1/profiles?identity=nokind", "invalid_parameter"),
        ("/api/v1/profiles?has_trait=%00", "invalid_parameter"),
        ("/api/v1/products/a%00b", "invalid_parameter"),
        ("/api/v1/profiles?identity=email:not-an-email", "invalid_identity"),
        ("/api/v1/profiles?seen_after=yesterday", "invalid_timestamp"),
        ("/api/v1/profiles?bogus=1", "invalid_parameter"),
        ("/api/v1/profiles/not-a-uuid", "invalid_parameter"),
    ] {
        let (s, v) = app.get(url, ADMIN).await;
        assert_eq!((s, v["error"]["code"].clone()), (StatusCode::BAD_REQUEST, json!(code)), "{url}");
    }
    let (s, v) = app.get(&format!("/api/v1/profiles/{}", uuid::Uuid::now_v7()), ADMIN).await;
    assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
}

async fn system_routes_answer_and_the_openapi_document_lists_every_route(app: &TestApp) {
    assert_eq!(app.get("/healthz", "").await.0, StatusCode::OK);
    let (s, r) = app.get("/readyz", "").await;
    assert_eq!((s, r["status"].clone()), (StatusCode::OK, json!("ready")));
    assert_eq!(app.ingest("/v1/track", r#"{"userId":"m","event":"e"}"#).await.0, StatusCode::OK);
    let (s, text) = app.get("/metrics", "").await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap_or_default().to_string();
    for metric in [
        "beacon_ingest_events_total",
        "beacon_http_request_seconds",
        "beacon_store_append_seconds",
        "beacon_writer_queue_depth",
    ] {
        assert!(text.contains(metric), "{metric} missing from /metrics");
    }
    let (_, doc) = app.get("/openapi.json", "").await;
    for (method, path, _, _) in ROUTES {
        assert!(doc["paths"][path][method].is_object(), "{method} {path} undocumented");
        // and the route exists: anything but route_not_found
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let (_, v) = app.send(m, &path.replace("{id}", "x"), ADMIN, json!({})).await;
        assert_ne!(v["error"]["code"], "route_not_found", "{method} {path}");
    }
    let (s, v) = app.get("/nope", ADMIN).await;
    assert_eq!((s, v["error"]["code"].clone()), (StatusCode::NOT_FOUND, json!("route_not_found")));
}

both_backends!(
    every_admin_route_checks_key_and_role,
    keys_are_created_listed_revoked_and_audited,
    profile_lists_page_with_cursors_and_reject_bad_parameters,
    system_routes_answer_and_the_openapi_document_lists_every_route,
);

#[tokio::test]
async fn a_key_over_its_rate_gets_429_with_retry_after() {
    let app = TestApp::with(Backend::Embedded, |s| s.security.admin_rate_per_second = 2).await;
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..10 {
        let req = Request::get("/api/v1/overview")
            .header("authorization", format!("Bearer {ADMIN}"))
            .body(Body::empty())
            .expect("req");
        let (s, v, h) = app.request(req).await;
        if s == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(v["error"]["code"], "rate_limited");
            retry_after = h.get("retry-after").and_then(|v| v.to_str().ok()).map(str::to_string);
        }
        statuses.push(s.as_u16());
    }
    assert!(statuses.starts_with(&[200, 200]), "{statuses:?}");
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(retry_after.is_some_and(|s| s.parse::<u64>().is_ok_and(|n| n >= 1)));
    app.stop().await;
}
