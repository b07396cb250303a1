//! `beacon users create/list` work on the store directly, on both stores:
//! the first admin of a fresh install is made from the command line, its
//! generated password (printed once) logs in to the console, and refusals
//! (a taken email, a short password, an unknown role) are messages with a
//! failing exit, not panics.

mod common;

use common::{PgSchema, Server};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// `beacon users ARGS` on this store: (success, stdout, stderr).
fn users(store: &[&str], args: &[&str], password_env: Option<&str>) -> (bool, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beacon"));
    cmd.arg("users").args(args).args(store).env("BEACON__LOG__LEVEL", "warn").env_remove("BEACON_USER_PASSWORD");
    if let Some(p) = password_env {
        cmd.env("BEACON_USER_PASSWORD", p);
    }
    let out = cmd.output().expect("run beacon users");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.success(), stdout, stderr)
}

/// The value after `label` on a line of `text`.
fn after<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines().find_map(|l| l.strip_prefix(label)).map(str::trim).unwrap_or_else(|| panic!("{label} in {text}"))
}

fn refused(store: &[&str], args: &[&str], message: &str) {
    let (ok, out, err) = users(store, args, None);
    assert!(!ok, "{args:?} is refused: {out}");
    assert!(err.starts_with("error: ") && err.contains(message), "{args:?}: {err}");
}

fn users_are_made_from_the_command_line_and_log_in(data: &Path, database_url: Option<&str>) {
    let d = data.to_str().expect("utf-8 path");
    let mut store = vec!["--data-dir", d];
    if let Some(url) = database_url {
        store.extend(["--database-url", url]);
    }
    let (ok, out, err) = users(&store, &["create", "--email", "Owner@Shop.CN", "--role", "admin"], None);
    assert!(ok, "{out}{err}");
    let id = after(&out, "created user ").split_whitespace().next().unwrap_or("").to_string();
    assert!(id.starts_with("u_") && out.contains("<owner@shop.cn>, role admin"), "{out}");
    let password = after(&out, "password: ").to_string();
    assert_eq!(password.chars().count(), 16, "a generated password: {out}");
    assert!(out.contains("http://127.0.0.1:8080/"), "the console's address: {out}");

    // a password from the environment is taken and not printed
    let env_password = "十月的苏州 autumn-2026";
    let args = ["create", "--email", "li.lei@shop.cn", "--role", "marketer", "--name", "李雷", "--locale", "zh-CN"];
    let (ok, out, err) = users(&store, &args, Some(env_password));
    assert!(ok && !out.contains("password:") && !out.contains(env_password), "{out}{err}");

    refused(
        &store,
        &["create", "--email", "OWNER@shop.cn", "--role", "viewer", "--password", "long-enough-1"],
        "exists",
    );
    refused(&store, &["create", "--email", "new@shop.cn", "--role", "viewer", "--password", "short"], "10 to 128");
    refused(&store, &["create", "--email", "new@shop.cn", "--role", "overlord"], "overlord");
    refused(&store, &["create", "--email", "nobody", "--role", "viewer"], "not an email address");
    refused(&store, &["create", "--email", "new@shop.cn", "--role", "viewer", "--locale", "fr"], "locale");

    let (ok, list, err) = users(&store, &["list"], None);
    assert!(ok, "{err}");
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "the refused ones were not made: {list}");
    assert_eq!(&rows[0][..3], ["owner@shop.cn", "admin", "active"], "{list}");
    assert_eq!(&rows[1][..3], ["li.lei@shop.cn", "marketer", "active"], "{list}");
    assert!(rows[0][3].starts_with("created ") && rows[0][4] == id, "{list}");
    assert!(!list.contains("argon2") && !list.contains(&password), "{list}");

    // both log in to the console with their passwords, and only with them
    let server = Server::start(data, database_url);
    let (status, cookie, me) = common::login(&server.addr, "owner@shop.cn", &password);
    assert_eq!(status, 201, "{me}");
    assert!(cookie.starts_with("beacon_session=") && cookie.contains("HttpOnly"), "{cookie}");
    assert_eq!((me["user"]["id"].as_str(), me["role"].as_str()), (Some(id.as_str()), Some("admin")), "{me}");
    let session = cookie.split(';').next().unwrap_or_default();
    let (status, body) = common::http(&server.addr, "GET", "/api/v1/users", &[("cookie", session)], b"");
    assert_eq!(status, 200, "the admin's session manages users: {}", String::from_utf8_lossy(&body));
    let (status, _, me) = common::login(&server.addr, "li.lei@shop.cn", env_password);
    assert_eq!((status, me["role"].as_str()), (201, Some("marketer")), "{me}");
    let (status, _, _) = common::login(&server.addr, "owner@shop.cn", "not-the-password");
    assert_eq!(status, 401);

    // the audit log says the command line made them
    let (status, audit) = server.get(&format!("/api/v1/audit?target=user:{id}"));
    assert_eq!(status, 200, "{audit}");
    let made = audit["items"].as_array().into_iter().flatten().find(|e| e["action"] == "user.create");
    assert_eq!(made.map(|e| &e["actor"]), Some(&Value::from("cli")), "{audit}");
}

#[test]
fn cli_users_log_in_on_the_embedded_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    users_are_made_from_the_command_line_and_log_in(&dir.path().join("data"), None);
}

#[test]
fn cli_users_log_in_on_postgres() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = PgSchema::new();
    users_are_made_from_the_command_line_and_log_in(&dir.path().join("data"), Some(&pg.url));
}
