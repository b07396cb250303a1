//! `beacon keys rotate-pii` beside a running server taking events: a new
//! data key, every stored value sealed again under it, nothing lost or
//! left readable only by the old key; the server reads everything
//! throughout and after a restart, on the embedded store and on PostgreSQL.

mod common;

use common::{ADMIN, PgSchema, Server, http};
use serde_json::{Value, json};
use std::process::Command;

fn rotate(server: &Server, args: &[&str]) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beacon"));
    cmd.args(["keys", "rotate-pii", "--data-dir"]).arg(&server.data_dir).args(args);
    if let Some(url) = &server.database_url {
        cmd.arg("--database-url").arg(url);
    }
    let out = cmd.env("BEACON__LOG__LEVEL", "warn").output().expect("run beacon");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn identify(server: &Server, key: &str, n: usize) {
    let body = json!({"type": "identify", "userId": format!("rot-{n}"), "messageId": format!("rot-{n}"),
        "traits": {"email": format!("rot{n}@example.org"), "phone": format!("+86139{n:08}"), "name": "轮换"}});
    let (s, v) = server.post_events_as(key, "/v1/identify", body.to_string().as_bytes());
    assert_eq!(s, 200, "{v}");
}

fn email_of(server: &Server, n: usize) -> Value {
    let (s, found) = server.get(&format!("/api/v1/profiles?identity=user_id:rot-{n}"));
    assert_eq!(s, 200, "{found}");
    found["items"][0]["traits"]["email"].clone()
}

fn rotates_beside_a_running_server(mut server: Server) {
    let key = server.server_key();
    for n in 0..20 {
        identify(&server, &key, n);
    }
    let cart =
        json!({"email": "rot.buyer@example.org", "lines": [{"product_id": "T", "price": "5.00", "quantity": 1}]});
    let auth = format!("Bearer {ADMIN}");
    let headers =
        [("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", "rot-1")];
    let (s, _) = http(&server.addr, "POST", "/api/v1/orders", &headers, cart.to_string().as_bytes());
    assert_eq!(s, 201);
    server.wait_processed();
    let (ok, before, err) = rotate(&server, &["--check"]);
    assert!(ok && before.contains("key 0:") && !before.contains("key 1:"), "{before}{err}");

    // events keep coming while it rotates
    let (ok, out, err) = std::thread::scope(|s| {
        let sending = s.spawn(|| (20..60).for_each(|n| identify(&server, &key, n)));
        let result = rotate(&server, &[]);
        sending.join().expect("sender");
        result
    });
    assert!(ok, "{out}{err}");
    assert!(out.contains("key 1:") && out.contains("(current)") && !out.contains("key 0:"), "{out}");
    server.wait_processed();
    for n in [0, 30, 59] {
        assert_eq!(email_of(&server, n), format!("rot{n}@example.org"), "the server reads old and new alike");
    }
    identify(&server, &key, 60);
    server.wait_processed();
    let (ok, check, _) = rotate(&server, &["--check"]);
    assert!(ok && !check.contains("key 0:") && check.contains("key 1:"), "{check}");

    assert!(server.terminate().success());
    server.restart();
    assert_eq!(email_of(&server, 7), "rot7@example.org", "after a restart, the keys come from the database");
    let (_, found) = server.get("/api/v1/profiles?identity=email:rot.buyer@example.org");
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1), "{found}");
    // a second rotation moves everything again
    let (ok, out, err) = rotate(&server, &[]);
    assert!(ok && out.contains("key 2:") && !out.contains("key 1:"), "{out}{err}");
    assert_eq!(email_of(&server, 60), "rot60@example.org");
}

#[test]
fn the_pii_key_rotates_beside_a_running_server_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    rotates_beside_a_running_server(Server::start(&dir.path().join("data"), None));
}

#[test]
fn the_pii_key_rotates_beside_a_running_server_on_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    rotates_beside_a_running_server(Server::start(&dir.path().join("data"), Some(&pg.url)));
}
