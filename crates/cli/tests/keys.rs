//! `beacon keys create/list` work on the store directly, and the keys they
//! make work over the API with exactly their role.

mod common;

use common::Server;
use std::process::Command;

fn beacon(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_beacon")).args(args).output().expect("run beacon");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

#[test]
fn cli_keys_are_usable_with_their_role_and_bad_roles_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf-8 path");
    let (ok, viewer, err) = beacon(&["keys", "create", "--role", "viewer", "--name", "dash", "--data-dir", d]);
    assert!(ok, "{err}");
    let viewer = viewer.trim().to_string();
    assert!(viewer.starts_with("bsk_"));
    let (ok, _, err) = beacon(&["keys", "create", "--role", "overlord", "--data-dir", d]);
    assert!(!ok && err.contains("overlord"), "{err}");
    let (ok, list, _) = beacon(&["keys", "list", "--data-dir", d]);
    assert!(ok && list.contains("viewer") && !list.contains(&viewer), "{list}");

    let server = Server::start(&data, None);
    let get = |key: &str, path: &str| {
        common::http(&server.addr, "GET", path, &[("authorization", &format!("Bearer {key}"))], b"").0
    };
    assert_eq!(get(&viewer, "/api/v1/overview"), 200);
    assert_eq!(get(&viewer, "/api/v1/keys"), 403);
    // keys existed before the first start, so the environment's keys were not created
    assert_eq!(get(common::ADMIN, "/api/v1/overview"), 401);
}

/// A first start that cannot listen makes no keys; the next start that can
/// makes them and prints them once; a later start given other keys says so.
#[test]
fn first_start_keys_are_made_only_once_listening_and_other_keys_later_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let d = data.to_str().expect("utf-8 path");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = taken.local_addr().expect("addr").to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["serve", "--data-dir", d, "--listen", &port])
        .env_remove("BEACON_ADMIN_KEY")
        .env_remove("BEACON_WRITE_KEY")
        .output()
        .expect("run beacon");
    assert!(!out.status.success(), "the port is taken");
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(!printed.contains("bsk_"), "no key shown by a start that failed: {printed}");
    drop(taken);
    let (ok, list, err) = beacon(&["keys", "list", "--data-dir", d]);
    assert!(ok && list.trim().is_empty(), "no key made by a start that failed: {list}{err}");

    let mut server = Server::start(&data, None);
    let (ok, list, _) = beacon(&["keys", "list", "--data-dir", d]);
    assert!(ok && list.lines().count() == 2, "the environment's two keys, made once listening: {list}");
    assert!(list.contains("\"source\":\"client\""), "the bootstrap write key is a client's: {list}");
    server.terminate();
    let log = data.with_extension("log");
    std::fs::write(&log, "").expect("empty the log");
    let env = [("BEACON_ADMIN_KEY".to_string(), "another-admin-key-000000".to_string())];
    let mut server = Server::start_with(&data, None, &env);
    server.terminate();
    let log = std::fs::read_to_string(&log).expect("log");
    assert!(log.contains("BEACON_ADMIN_KEY is set but is not a key of this store"), "{log}");
}
