//! `beacon import` against the real server binary: CDNOW twice gives the
//! exact published figures, a killed import re-run doubles nothing, broken
//! lines are reported and the rest imported — embedded and PostgreSQL.

mod common;

use common::{ADMIN, PgSchema, Server};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn cdnow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/cdnow/cdnow_transactions.csv")
}

fn import(server: &Server, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_beacon"));
    cmd.arg("import")
        .args(args)
        .env("BEACON_URL", format!("http://{}", server.addr))
        .env("BEACON_KEY", ADMIN)
        .stdin(Stdio::null());
    cmd
}

fn run(server: &Server, args: &[&str]) -> Output {
    import(server, args).output().expect("run beacon import")
}

/// (orders, revenue, currency, profiles) from the overview.
fn figures(server: &Server) -> (i64, String, String, i64) {
    let (s, o) = server.get("/api/v1/overview");
    assert_eq!(s, 200, "{o}");
    let text = |v: &Value| v.as_str().unwrap_or("").to_string();
    (
        o["orders"].as_i64().unwrap_or(-1),
        text(&o["revenue"]),
        text(&o["currency"]),
        o["profiles"].as_i64().unwrap_or(-1),
    )
}

const CDNOW: (i64, &str, &str, i64) = (69_659, "2500315.63", "USD", 23_570);

fn exact(f: (i64, String, String, i64)) -> bool {
    f == (CDNOW.0, CDNOW.1.to_string(), CDNOW.2.to_string(), CDNOW.3)
}

fn cdnow_twice(database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), database_url);
    let file = cdnow();
    let file = file.to_str().unwrap_or("");
    for round in 1..=2 {
        let out = run(&server, &["orders", file, "--preset", "cdnow"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "round {round}: {stderr}");
        assert!(stderr.contains("69659 lines read; 69659 orders accepted, 0 lines rejected"), "{stderr}");
        // the import waits for processing, so the figures are final when it returns
        let f = figures(&server);
        assert!(exact(f.clone()), "round {round}: {f:?}");
    }
    let (_, o) = server.get("/api/v1/overview");
    assert_eq!(o["events"], 69_659, "the second import stored nothing twice: {o}");
    // a known customer: 00002 bought twice on 1997-01-12 (1 CD for 12.00, 5 for 77.00)
    let (_, p) = server.get("/api/v1/profiles?identity=user_id:00002");
    let p = &p["items"][0];
    assert_eq!((p["order_count"].as_i64(), p["total_spend"]["amount"].as_str()), (Some(2), Some("89.00")), "{p}");
}

#[test]
fn cdnow_imported_twice_gives_the_exact_figures() {
    cdnow_twice(None);
}

#[test]
fn cdnow_imported_twice_gives_the_exact_figures_on_postgres() {
    let pg = PgSchema::new();
    cdnow_twice(Some(&pg.url));
}

#[test]
fn an_import_killed_halfway_and_run_again_doubles_nothing() {
    killed_and_run_again(None);
}

#[test]
fn an_import_killed_halfway_and_run_again_doubles_nothing_on_postgres() {
    let pg = PgSchema::new();
    killed_and_run_again(Some(&pg.url));
}

fn killed_and_run_again(database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), database_url);
    let file = cdnow();
    let file = file.to_str().unwrap_or("");
    // small batches, so it is still running when killed
    let mut child = import(&server, &["orders", file, "--preset", "cdnow", "--batch", "25"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn import");
    let deadline = Instant::now() + Duration::from_secs(120);
    while server.get("/api/v1/processing").1["log_head"].as_i64().unwrap_or(0) < 5_000 {
        assert!(Instant::now() < deadline, "the import made no progress");
        assert!(child.try_wait().ok().flatten().is_none(), "the import finished before it could be killed");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("kill -9 the import");
    let _ = child.wait();
    server.wait_processed();
    let partial = figures(&server);
    assert!(partial.0 > 0 && partial.0 < CDNOW.0, "killed halfway: {partial:?}");
    let out = run(&server, &["orders", file, "--preset", "cdnow"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let f = figures(&server);
    assert!(exact(f.clone()), "after the re-run: {f:?}");
}

#[test]
fn broken_lines_are_reported_and_the_rest_is_imported() {
    broken_lines(None);
}

#[test]
fn broken_lines_are_reported_and_the_rest_is_imported_on_postgres() {
    let pg = PgSchema::new();
    broken_lines(Some(&pg.url));
}

fn broken_lines(database_url: Option<&str>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), database_url);
    let csv = dir.path().join("orders.csv");
    let mut body = b"order_id,user_id,placed_at,sku,price,quantity,total,colour\n".to_vec();
    body.extend_from_slice(b"A,ann,2026-11-11,T1,10.00,1,30.00,red\n");
    body.extend_from_slice(b"A,ann,2026-11-11,T2,10.00,2,30.00,red\n"); // A: two lines
    body.extend_from_slice(b"B,bob,11/11/2026,T1,10.00,1,10.00,\n"); // bad date
    body.extend_from_slice(b"C,cat,2026-11-11,T1,10.00,-1,10.00,\n"); // negative quantity
    body.extend_from_slice(b"D,dan,2026-11-11,T1,10.00,1,10.00\n"); // a field short
    body.extend_from_slice(b"E,\xff\xfe,2026-11-11,T1,10.00,1,10.00,\n"); // not UTF-8
    body.extend_from_slice(b"F,fay,2026-11-11,T1,10.00,1,5.00,\n");
    body.extend_from_slice(b"F,fay,2026-11-11,T2,abc,1,5.00,\n"); // F's second line is bad: none of F
    body.extend_from_slice(b"G,gus,2026-11-12T08:00:00+08:00,T1,1,1,1.00,\n");
    body.extend_from_slice(b"H,hal,2026-11-12,T1,1,1,1.00,,\n"); // a field too many
    std::fs::write(&csv, body).expect("write csv");
    let rejects = dir.path().join("rejects.tsv");
    let out = run(&server, &["orders", csv.to_str().unwrap_or(""), "--rejects", rejects.to_str().unwrap_or("")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "some lines were rejected: {stderr}");
    for expect in [
        "not imported: column colour",
        "line 4, column placed_at: \"11/11/2026\" is not a time",
        "line 5, column quantity: quantity -1 is negative",
        "line 6: 7 fields, but the header has 8",
        "line 7, column user_id: not UTF-8 text",
        "line 9, column price: \"abc\"",
        "line 8: not imported: another line of the same order is bad",
        "line 11: 9 fields, but the header has 8",
        "10 lines read; 2 orders accepted, 7 lines rejected",
    ] {
        assert!(stderr.contains(expect), "missing {expect:?} in:\n{stderr}");
    }
    let report = std::fs::read_to_string(&rejects).expect("rejects file");
    assert_eq!(report.lines().count(), 7, "{report}");
    let f = figures(&server);
    assert_eq!((f.0, f.1.as_str()), (2, "31.00"), "A and G only: {f:?}");
    let (_, a) = server.get("/api/v1/orders/A");
    assert_eq!(a["lines"].as_array().map(Vec::len), Some(2), "{a}");
    assert_eq!(server.get("/api/v1/orders/F").0, 404, "nothing of F is half-written");

    // and out again
    let exported = dir.path().join("orders-out.csv");
    let out = export(&server, &["orders", "--output", exported.to_str().unwrap_or("")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&exported).expect("export");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("order_id,profile_id,status,placed_at,currency,total,discount,refunded,net,coupon,lines")
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 2, "{text}");
    assert!(rows[0].starts_with("G,") && rows[1].starts_with("A,"), "newest first: {text}");
    let out = export(&server, &["events", "--format", "jsonl"]);
    let events: Vec<Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["name"], "Order Completed");
}

fn export(server: &Server, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("export")
        .args(args)
        .env("BEACON_URL", format!("http://{}", server.addr))
        .env("BEACON_KEY", ADMIN)
        .stdin(Stdio::null())
        .output()
        .expect("run beacon export")
}

#[test]
fn products_and_customers_import_from_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let products = dir.path().join("products.csv");
    std::fs::write(
        &products,
        "product_id,sku,name,category,brand,tags,price,stock\n\
         tea-1,T1,西湖龙井,茶叶/绿茶,狮峰,\"新品,礼盒\",298.00,10\n\
         tea-2,T2,铁观音,茶叶/乌龙,,,-5,3\n\
         cup-1,C1,盖碗,茶具,,,59.9,lots\n",
    )
    .expect("write");
    let out = run(&server, &["products", products.to_str().unwrap_or("")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("line 3, column price: price -5 is negative"), "{stderr}");
    assert!(stderr.contains("line 4: invalid_product: stock must be a whole number"), "{stderr}");
    let (_, tea) = server.get("/api/v1/products/tea-1");
    assert_eq!(
        (tea["tags"].clone(), tea["category"].clone()),
        (serde_json::json!(["新品", "礼盒"]), "茶叶/绿茶".into())
    );

    let customers = dir.path().join("customers.csv");
    std::fs::write(&customers, "user_id,email,phone,name,city\nc1,Ann@Example.com,13800138000,安,杭州\n")
        .expect("write");
    let out = run(&server, &["customers", customers.to_str().unwrap_or("")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, p) = server.get("/api/v1/profiles?identity=phone:%2B8613800138000");
    let p = &p["items"][0];
    assert_eq!(
        (p["traits"]["city"].as_str(), p["traits"]["email"].as_str()),
        (Some("杭州"), Some("Ann@Example.com")),
        "{p}"
    );
    let again = run(&server, &["customers", customers.to_str().unwrap_or("")]);
    assert!(again.status.success());
    let (_, p) = server.get("/api/v1/profiles?identity=email:ann@example.com");
    assert_eq!(p["items"][0]["event_count"], 1, "the same file twice is one identify: {p}");
}
