//! The real Segment and RudderStack Python SDKs against the real binary, gzip
//! on and off, on the embedded store and on PostgreSQL.

mod common;

use common::{PgSchema, Server};
use serde_json::Value;
use std::process::Command;

fn python() -> String {
    std::env::var("BEACON_TEST_PYTHON").unwrap_or_else(|_| {
        let venv = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py/bin/python");
        if std::path::Path::new(venv).exists() { venv.to_string() } else { "python3".to_string() }
    })
}

/// Sends as the shop's back end (server libraries: a server key).
fn send(server: &Server, key: &str, sdk: &str, prefix: &str, gzip: bool) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/send_events.py");
    let out = Command::new(python())
        .arg(script)
        .arg(sdk)
        .arg(format!("http://{}", server.addr))
        .arg(key)
        .arg(prefix)
        .arg(if gzip { "1" } else { "0" })
        .output()
        .expect("run python (scripts/test installs the SDKs into target/py)");
    assert!(
        out.status.success(),
        "{sdk} SDK failed: {}\n(scripts/test installs segment-analytics-python and rudder-sdk-python)",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn identities(p: &Value) -> Vec<String> {
    let mut v: Vec<String> = p["identities"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| format!("{}:{}", i["type"].as_str().unwrap_or(""), i["value"].as_str().unwrap_or("")))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn check_sdks(server: &Server) {
    let cases = [("segment", false), ("segment", true), ("rudderstack", false), ("rudderstack", true)];
    let key = server.server_key();
    for (sdk, gzip) in cases {
        let prefix = format!("{sdk}-{}", if gzip { "gz" } else { "plain" });
        send(server, &key, sdk, &prefix, gzip);
    }
    server.wait_processed();
    for (sdk, gzip) in cases {
        let prefix = format!("{sdk}-{}", if gzip { "gz" } else { "plain" });
        let (s, found) = server.get(&format!("/api/v1/profiles?identity=user_id:{prefix}-old"));
        assert_eq!(s, 200, "{found}");
        let items = found["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "{prefix}: one profile holds every identity: {found}");
        let p = &items[0];
        let mut expected = vec![
            format!("anonymous_id:{prefix}-anon"),
            format!("device_id:{prefix}-device"),
            format!("email:{prefix}@example.com"),
            "phone:+8613800138000".to_string(),
            format!("user_id:{prefix}-old"),
            format!("user_id:{prefix}-user"),
        ];
        expected.sort();
        assert_eq!(identities(p), expected, "{prefix}");
        assert_eq!(p["event_count"], 5, "{prefix}: the retried messageId counts once: {p}");
        assert_eq!(p["traits"]["name"], "韩梅梅");
        assert_eq!(p["traits"]["plan"], "basic");
        let id = p["id"].as_str().unwrap_or_default();
        let (_, events) = server.get(&format!("/api/v1/profiles/{id}/events?limit=50"));
        let names: Vec<&str> = events["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["type"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 5, "{events}");
        assert!(names.contains(&"alias") && names.contains(&"page"));
    }
}

#[test]
fn real_sdks_deliver_to_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    check_sdks(&server);
}

#[test]
fn real_sdks_deliver_to_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), Some(&pg.url));
    check_sdks(&server);
}
