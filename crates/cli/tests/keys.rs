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
