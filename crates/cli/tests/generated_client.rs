//! A client generated from the served OpenAPI document works: the test
//! generates a Python client with openapi-python-client (PyPI) from the
//! real binary's `/openapi.json`, with no warning, and drives the server
//! through it (`tests/client/use_client.py`): a product, a promotion from
//! the typed spec, a priced cart, events with a write key, a profile found
//! by identity, and a refused promotion parsed as its error. On the
//! embedded store and on PostgreSQL. (scripts/test installs the generator
//! into target/py.)

mod common;

use common::{ADMIN, PgSchema, Server, WRITE};
use serde_json::Value;
use std::process::Command;

fn bin(name: &str) -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py/bin/").to_string() + name
}

fn generated_client_works(server: &Server) {
    let out_dir = tempfile::tempdir().expect("tempdir");
    let package = out_dir.path().join("beacon_client");
    // no formatting afterwards (that would need ruff)
    let config = out_dir.path().join("config.json");
    std::fs::write(&config, r#"{"post_hooks": []}"#).expect("write the generator's config");
    let generate = Command::new(bin("openapi-python-client"))
        .args(["generate", "--url", &format!("http://{}/openapi.json", server.addr), "--meta", "none"])
        .arg("--config")
        .arg(&config)
        .arg("--output-path")
        .arg(&package)
        .output()
        .expect("run openapi-python-client (scripts/test installs it into target/py)");
    let said = format!("{}{}", String::from_utf8_lossy(&generate.stdout), String::from_utf8_lossy(&generate.stderr));
    assert!(generate.status.success(), "generation failed: {said}");
    assert!(!said.contains("WARNING") && !said.contains("Warning("), "every part of the document is usable: {said}");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/client/use_client.py");
    let run = Command::new(bin("python"))
        .arg(script)
        .arg(out_dir.path())
        .args([&format!("http://{}", server.addr), ADMIN, WRITE])
        .output()
        .expect("run python");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    let seen: Value = serde_json::from_str(stdout.trim()).expect("the script's JSON");
    assert_eq!(seen["product"][0], 201, "{seen}");
    assert_eq!(seen["product"][2]["product_id"], "TEA-9", "parsed into the product model: {seen}");
    assert_eq!((&seen["promotion"][0], &seen["promotion"][1]["status"]), (&201.into(), &"active".into()), "{seen}");
    assert_eq!(seen["cart"][0], 200, "{seen}");
    assert_eq!(
        (&seen["cart"][1]["subtotal"], &seen["cart"][1]["total"]),
        (&"120.00".into(), &"105.00".into()),
        "{seen}"
    );
    assert_eq!(seen["cart"][1]["applied"][0]["id"], "gen-mj", "{seen}");
    assert_eq!(seen["bad"][0], 400, "{seen}");
    assert_eq!(seen["bad"][1]["error"]["code"], "invalid_promotion", "{seen}");
    assert_eq!(seen["batch"], serde_json::json!([200, {"success": true}]), "{seen}");
    assert_eq!(seen["profiles"][0], 200, "{seen}");
    assert_eq!(seen["profiles"][1]["items"][0]["traits"]["city"], "苏州", "{seen}");
    assert_eq!(seen["profiles"][1]["items"][0]["event_count"], 2, "{seen}");
}

#[test]
fn a_generated_client_works_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    generated_client_works(&Server::start(&dir.path().join("data"), None));
}

#[test]
fn a_generated_client_works_on_postgres() {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    generated_client_works(&Server::start(&dir.path().join("data"), Some(&pg.url)));
}
