//! schemathesis (PyPI), the OpenAPI fuzzer, against the real binary's served
//! document (`/openapi.json`): every operation, requests generated from the
//! document and mutated past it, 15 requests an operation, with an
//! admin key. No answer may be a server error, and every answer's status
//! and content type must be ones the document gives for that operation.
//! On the embedded store and on PostgreSQL. (scripts/test installs
//! schemathesis into target/py.)

mod common;

use common::{ADMIN, PgSchema, Server};
use std::process::Command;

fn schemathesis() -> String {
    std::env::var("BEACON_TEST_SCHEMATHESIS")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/py/bin/st").to_string())
}

fn no_server_error(server: &Server) {
    let out = Command::new(schemathesis())
        .args(["run", &format!("http://{}/openapi.json", server.addr)])
        .args(["--header", &format!("Authorization: Bearer {ADMIN}")])
        .args(["--checks", "not_a_server_error,status_code_conformance,content_type_conformance"])
        .args(["--max-examples", "15", "--seed", "20261206"])
        .args(["--workers", "1", "--request-timeout", "20", "--no-color"])
        .output()
        .expect("run schemathesis (scripts/test installs it into target/py)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "schemathesis found server errors or undocumented answers:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("passed") && stdout.contains("Tested: "), "it ran the operations: {stdout}");
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
