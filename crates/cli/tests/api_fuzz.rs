//! schemathesis (PyPI), the OpenAPI fuzzer, against the real binary's served
//! document (`/openapi.json`): every operation, requests generated from the
//! document and mutated past it, 15 requests an operation, with a
//! write key on the tracking API, then with an admin key on everything. No
//! answer may be a server error; every answer's status, content type, body
//! and error code must be ones the document gives for that operation; a
//! request that breaks the document must be refused; auth must not be
//! ignorable; a deleted resource must be gone (`api/openapi*.rs`).
//! On the embedded store and on PostgreSQL. (scripts/test installs
//! schemathesis into target/py.)

mod common;

use common::{ADMIN, PgSchema, Server, WRITE};
use std::process::Command;

fn schemathesis() -> String {
    std::env::var("BEACON_TEST_SCHEMATHESIS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py/bin/st").to_string())
}

/// One schemathesis run with `auth` on the operations whose path matches `paths`.
fn run(server: &Server, auth: &str, paths: &str) -> String {
    // every check but positive_data_acceptance: the document gives types and
    // ranges, not every rule (a cursor must be one the server issued, a
    // promotion's tiers ascend), so some schema-valid requests are refused
    let checks = std::env::var("BEACON_TEST_CHECKS").unwrap_or_else(|_| {
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,\
         response_headers_conformance,negative_data_rejection,missing_required_header,ignored_auth,\
         unsupported_method,use_after_free,ensure_resource_availability"
            .into()
    });
    let out = Command::new(schemathesis())
        .args(["run", &format!("http://{}/openapi.json", server.addr)])
        .args(["--header", &format!("Authorization: {auth}"), "--include-path-regex", paths])
        .args(["--checks", &checks, "--max-examples", "15", "--seed", "20261206"])
        .args(["--workers", "1", "--request-timeout", "20", "--no-color"])
        .output()
        .expect("run schemathesis (scripts/test installs it into target/py)");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "schemathesis found server errors or answers the document does not describe:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("passed") && stdout.contains("Tested: "), "it ran the operations: {stdout}");
    stdout
}

fn no_server_error(server: &Server) {
    // some data, so that lists answer with items to check against the document
    let batch = serde_json::json!({"batch": [
        {"type": "identify", "userId": "fz-1", "anonymousId": "fz-a", "traits": {"email": "fz@example.org", "name": "模糊"}},
        {"type": "track", "userId": "fz-1", "event": "Order Completed", "properties": {"order_id": "FZ-1",
         "total": "12.50", "currency": "CNY", "products": [{"product_id": "p", "price": "12.50", "quantity": 1}]}},
        {"type": "page", "anonymousId": "fz-b", "name": "Home"}
    ]});
    let key = server.server_key();
    assert_eq!(server.post_events_as(&key, "/v1/batch", batch.to_string().as_bytes()).0, 200);
    server.wait_processed();
    let auth = format!("Bearer {ADMIN}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let product = serde_json::json!({"product_id": "TEA-1", "name": "龙井", "price": "88.00", "category": "茶叶/绿茶"});
    let promotion = serde_json::json!({"id": "mj", "name": "满150减20", "status": "active",
        "reward": {"type": "tiers", "tiers": [{"min": "150", "amount_off": "20"}]}});
    for (path, body) in [("/api/v1/products", product), ("/api/v1/promotions", promotion)] {
        let (s, b) = common::http(&server.addr, "POST", path, &headers, body.to_string().as_bytes());
        assert_eq!(s, 201, "{path}: {}", String::from_utf8_lossy(&b));
    }
    let (_, profiles) = server.get("/api/v1/profiles?limit=5");
    assert_eq!(profiles["items"].as_array().map(Vec::len), Some(2), "{profiles}");
    // the tracking API with a write key first (the admin run may revoke it)
    run(server, &format!("Basic {}", common::b64(&format!("{WRITE}:"))), "^/v1/");
    let all = run(server, &format!("Bearer {ADMIN}"), "^/");
    let operations = beacon_server::api::openapi::ROUTES.len();
    assert!(all.contains(&format!("Tested: {operations}\n")), "all {operations} operations: {all}");
    let log = std::fs::read_to_string(server.data_dir.with_extension("log")).unwrap_or_default();
    assert!(!log.contains("panicked"), "no panic in the server: {log}");
}

#[test]
fn no_generated_request_gets_a_server_error_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    no_server_error(&Server::start(&dir.path().join("data"), None));
}

#[test]
fn no_generated_request_gets_a_server_error_on_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    no_server_error(&Server::start(&dir.path().join("data"), Some(&pg.url)));
}
