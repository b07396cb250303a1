//! The attacker's grep: personal data sent every way Beacon takes it (traits
//! under every default personal key, event properties and context, a
//! checkout's buyer, a recorded order) is nowhere in the clear at rest: not
//! in any file of the data directory (databases, their journals, the event
//! log, the checkout database), not in the server's log, and on PostgreSQL
//! not in a dump of the schema. It still reads back in full for an admin.

mod common;

use common::{ADMIN, PgSchema, Server, http};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Command;

/// Every secret sent, as it would appear in the clear.
const SECRETS: &[&str] = &[
    "pii.ann@example.org",
    "13912345678",
    "8613987654321",
    "pii.alt@example.org",
    "隐私张三",
    "隐私路88号",
    "Zhangsecret",
    "110101199003078888",
    "1990-03-07",
    "收货路99号",
    "pii.ship@example.org",
    "Lastsecret",
    "pii.buyer@example.org",
    "8613911112222",
    "pii.import@example.org",
    "o_openid_secret_123",
];

fn admin(server: &Server, method: &str, path: &str, extra: &[(&str, &str)], body: Value) -> (u16, Value) {
    let auth = format!("Bearer {ADMIN}");
    let mut headers = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    headers.extend_from_slice(extra);
    let (s, b) = http(&server.addr, method, path, &headers, body.to_string().as_bytes());
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

fn send_everything(server: &Server) {
    let key = server.server_key();
    let batch = json!({"batch": [
        {"type": "identify", "userId": "pii-u", "messageId": "pii-1", "traits": {
            "email": "pii.ann@example.org", "mobile": "13912345678", "phone_number": "+8613987654321",
            "emailAddress": "pii.alt@example.org", "name": "隐私张三", "address": {"street": "隐私路88号"},
            "firstName": "Zhangsecret", "id_number": "110101199003078888", "birthday": "1990-03-07",
            "openid": "o_openid_secret_123", "tier_hint": "gold"}},
        {"type": "track", "userId": "pii-u", "messageId": "pii-2", "event": "Order Completed", "properties": {
            "order_id": "PII-1", "total": 10, "currency": "CNY",
            "shipping_address": {"street": "收货路99号", "city": "杭州"}, "email": "pii.ship@example.org"}},
        {"type": "page", "userId": "pii-u", "messageId": "pii-3", "name": "Home",
         "context": {"traits": {"last_name": "Lastsecret"}, "library": {"name": "analytics-python"}}},
    ]});
    let (s, v) = server.post_events_as(&key, "/v1/batch", batch.to_string().as_bytes());
    assert_eq!(s, 200, "{v}");
    let cart = json!({"email": "pii.buyer@example.org", "phone": "+8613911112222",
                      "lines": [{"product_id": "TEA-1", "price": "88.00", "quantity": 1}]});
    let (s, v) = admin(server, "POST", "/api/v1/orders", &[("idempotency-key", "pii-checkout")], cart);
    assert_eq!(s, 201, "{v}");
    let recorded = json!({"orders": [{"order_id": "PII-R", "user_id": "pii-r", "email": "pii.import@example.org", "total": "5.00"}]});
    let (s, v) = admin(server, "POST", "/api/v1/orders", &[], recorded);
    assert_eq!(s, 200, "{v}");
    server.wait_processed();
}

/// The profile still reads back in full for an admin.
fn reads_back(server: &Server) {
    let (s, found) = server.get("/api/v1/profiles?identity=user_id:pii-u");
    assert_eq!(s, 200, "{found}");
    let p = &found["items"][0];
    assert_eq!(p["traits"]["phone_number"], "+8613987654321", "{p}");
    assert_eq!(p["traits"]["emailAddress"], "pii.alt@example.org", "{p}");
    assert_eq!(p["traits"]["address"]["street"], "隐私路88号", "{p}");
    assert_eq!(p["traits"]["tier_hint"], "gold");
    let (_, buyer) = server.get("/api/v1/profiles?identity=email:pii.buyer@example.org");
    assert_eq!(buyer["items"].as_array().map(Vec::len), Some(1), "the checkout's buyer: {buyer}");
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn assert_no_secret(what: &str, bytes: &[u8]) {
    for secret in SECRETS {
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "{secret:?} is in the clear in {what}");
    }
}

fn grep_data_dir(server: &Server) {
    let mut files = Vec::new();
    files_under(&server.data_dir, &mut files);
    let stores = files.iter().filter(|f| f.extension().is_some_and(|e| e == "db")).count();
    let on_postgres = server.database_url.is_some();
    assert!(on_postgres || stores >= 3, "the data directory holds the stores: {files:?}");
    for file in &files {
        assert_no_secret(&file.display().to_string(), &std::fs::read(file).expect("read file"));
    }
    let log = server.data_dir.with_extension("log");
    assert_no_secret("the server's log", &std::fs::read(&log).unwrap_or_default());
}

#[test]
fn no_personal_data_in_the_clear_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&dir.path().join("data"), None);
    send_everything(&server);
    reads_back(&server);
    grep_data_dir(&server);
    assert!(server.terminate().success());
    grep_data_dir(&server);
}

#[test]
fn no_personal_data_in_the_clear_on_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&dir.path().join("data"), Some(&pg.url));
    send_everything(&server);
    reads_back(&server);
    assert!(server.terminate().success());
    grep_data_dir(&server);
    let dump = Command::new("pg_dump")
        .arg("--data-only")
        .arg("--schema")
        .arg(&pg.schema)
        .arg(&pg.base)
        .output()
        .expect("pg_dump (PostgreSQL's client tools)");
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    assert!(dump.stdout.len() > 1000, "the dump holds the data");
    assert_no_secret("a dump of the PostgreSQL schema", &dump.stdout);
}
