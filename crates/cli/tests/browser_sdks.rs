//! The real browser SDKs in headless Chromium against the real binary:
//! Segment's analytics-next loaded through its snippet (Beacon as its CDN
//! for settings and as its API host) and RudderStack's JavaScript SDK v3
//! (Beacon as its config URL and data plane), from a page on another origin,
//! on the embedded store and on PostgreSQL.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{PgSchema, Server, WRITE};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn node_modules() -> PathBuf {
    std::env::var_os("BEACON_TEST_NODE_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/js/node_modules")))
}

/// Runs one SDK in the browser; returns the driver's report.
fn load_page(server: &Server, sdk: &str, user: &str) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/send.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(sdk)
        .arg(format!("http://{}", server.addr))
        .arg(WRITE)
        .arg(user)
        .env("BEACON_TEST_NODE_MODULES", node_modules())
        .output()
        .expect("run node (scripts/test installs Node packages into target/js and Debian's chromium)");
    assert!(
        out.status.success(),
        "{sdk} in Chromium failed: {}\n(scripts/test installs chromium and the packages in tests/browser/package.json)",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("the driver's JSON report")
}

fn check_sdk(server: &Server, sdk: &str, config_path: &str, library: &str) {
    let user = format!("{sdk}-shopper");
    let report = load_page(server, sdk, &user);
    assert_eq!(report["failed"], serde_json::json!([]), "no request failed (CORS included): {report}");
    assert_eq!(report["errors"], serde_json::json!([]), "no error in the page: {report}");
    let answered = report["answered"].as_array().cloned().unwrap_or_default();
    assert!(
        answered.iter().any(|a| a["method"] == "GET" && a["path"] == config_path && a["status"] == 200),
        "the SDK loaded its settings from Beacon: {report}"
    );
    let sends = answered.iter().filter(|a| a["method"] == "POST" && a["status"] == 200).count();
    assert_eq!(sends, 4, "page, two tracks and identify reached Beacon: {report}");

    server.wait_processed();
    let (s, found) = server.get(&format!("/api/v1/profiles?identity=user_id:{user}"));
    assert_eq!(s, 200, "{found}");
    let items = found["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "{sdk}: one profile for the shopper: {found}");
    let p = &items[0];
    let identities = p["identities"].as_array().cloned().unwrap_or_default();
    let kinds: Vec<&str> = identities.iter().filter_map(|i| i["type"].as_str()).collect();
    assert!(kinds.contains(&"anonymous_id"), "the browser's anonymous id joined the login: {p}");
    assert!(identities.iter().any(|i| i["value"] == format!("{user}@example.com")), "{p}");
    assert_eq!(p["traits"]["name"], "李雷", "{p}");
    assert_eq!(p["event_count"], 4, "{p}");
    assert_eq!(p["order_count"], 1, "{p}");
    assert_eq!(p["total_spend"]["amount"], "25.50", "{p}");

    let id = p["id"].as_str().expect("a profile id");
    let (_, events) = server.get(&format!("/api/v1/profiles/{id}/events?limit=50"));
    let items = events["items"].as_array().cloned().unwrap_or_default();
    let mut names: Vec<String> = items
        .iter()
        .map(|e| format!("{}:{}", e["type"].as_str().unwrap_or(""), e["name"].as_str().unwrap_or("")))
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{events}");
    assert!(names.iter().any(|n| n == "track:Product Viewed") && names.iter().any(|n| n == "track:Order Completed"));
    assert!(names.iter().any(|n| n.starts_with("page:")) && names.iter().any(|n| n.starts_with("identify:")));
    for e in &items {
        let context = &e["message"]["context"];
        assert_eq!(context["library"]["name"], library, "{e}");
        let url = context["page"]["url"].as_str().unwrap_or_default();
        assert!(url.starts_with("http://127.0.0.1:") && !url.contains(&server.addr), "the shop's page: {e}");
    }
}

fn check_both(server: &Server) {
    check_sdk(server, "segment", &format!("/v1/projects/{WRITE}/settings"), "analytics.js");
    check_sdk(server, "rudderstack", "/sourceConfig/", "RudderLabs JavaScript SDK");
}

#[test]
fn browser_sdks_deliver_to_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    check_both(&server);
}

#[test]
fn browser_sdks_deliver_to_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), Some(&pg.url));
    check_both(&server);
}
