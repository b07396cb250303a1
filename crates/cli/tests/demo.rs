//! `beacon demo` from the real binary: it loads a shop through the public
//! APIs, the same seed gives the same shop, and the shop has what a demo
//! needs (a category tree, funnels, a promotion spike, refunds, reviews).

mod common;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs a small demo into `dir` and returns (stdout, stderr).
fn demo(dir: &Path, seed: u64) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args([
            "demo",
            "--no-serve",
            "--listen",
            "127.0.0.1:0",
            "--shoppers",
            "600",
            "--products",
            "48",
            "--days",
            "30",
        ])
        .args(["--end-date", "2026-11-15", "--seed", &seed.to_string(), "--data-dir"])
        .arg(dir)
        .env("BEACON__LOG__LEVEL", "warn")
        .stdin(Stdio::null())
        .output()
        .expect("run beacon demo");
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "{stdout}\n{stderr}");
    (stdout, stderr)
}

/// GET on a `beacon serve` of the demo's data directory, with its admin key.
fn get(addr: &str, key: &str, path: &str) -> Value {
    let (status, body) = common::http(addr, "GET", path, &[("authorization", &format!("Bearer {key}"))], b"");
    assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap_or(Value::Null)
}

/// The password the demo's summary prints for the console user `email`.
fn password(out: &str, email: &str) -> String {
    let line = out.lines().find_map(|l| l.trim_start().strip_prefix("login")?.trim_start().strip_prefix(email));
    let password = line.and_then(|l| l.strip_prefix(" / ")).and_then(|l| l.split_whitespace().next());
    password.unwrap_or_else(|| panic!("a login for {email} in {out}")).to_string()
}

/// The number after `label` in the generator's summary line.
fn count(summary: &str, label: &str) -> u64 {
    let at = summary.find(label).unwrap_or_else(|| panic!("{label} in {summary}"));
    summary[..at].trim_end().rsplit([' ', '(']).next().and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[test]
fn the_demo_loads_a_plausible_shop_the_same_way_for_the_same_seed() {
    let root = tempfile::tempdir().expect("tempdir");
    let (a, b, c) = (root.path().join("a"), root.path().join("b"), root.path().join("c"));
    let (out_a, err_a) = demo(&a, 7);
    let (out_b, _) = demo(&b, 7);
    let (out_c, _) = demo(&c, 8);
    let summary = |out: &str| out.lines().find(|l| l.starts_with("Beacon demo shop")).unwrap_or("").to_string();
    assert!(summary(&out_a).contains("600 profiles"), "{out_a}");
    assert_eq!(summary(&out_a), summary(&out_b), "same seed, same shop");
    assert_ne!(summary(&out_a), summary(&out_c), "another seed, another shop");
    assert!(out_a.contains("admin key") && out_a.contains("write key") && out_a.contains("curl -s"), "{out_a}");

    // a plausible funnel: views > carts > checkouts > orders > refunds, reviews
    let line = err_a.lines().find(|l| l.starts_with("Generated in")).unwrap_or("");
    let (views, carts, checkouts, orders) =
        (count(line, "product views"), count(line, "carts"), count(line, "checkouts"), count(line, "orders"));
    assert!(views > carts && carts > checkouts && checkouts > orders && orders > 0, "{line}");
    let rate = orders as f64 / count(line, "sessions") as f64;
    assert!((0.01..0.12).contains(&rate), "orders per session {rate}: {line}");
    assert!(count(line, "refunds") > 0 && count(line, "reviews") > 0, "{line}");

    // the data, through the API of a server started on it
    let key: Value =
        serde_json::from_str(&std::fs::read_to_string(a.join("demo-keys.json")).expect("keys")).expect("json");
    let key = key["admin"].as_str().unwrap_or("").to_string();
    // its console logins, printed again by a second start on the same directory
    let (again, _) = demo(&a, 7);
    let logins = [("admin@demo.beacon", "admin"), ("marketer@demo.beacon", "marketer")];
    for (email, _) in logins {
        assert_eq!(password(&again, email), password(&out_a, email), "{again}");
    }
    assert_ne!(password(&out_a, "admin@demo.beacon"), password(&out_b, "admin@demo.beacon"), "generated");
    let server = common::Server::start(&a, None);
    for (email, role) in logins {
        let (status, cookie, me) = common::login(&server.addr, email, &password(&out_a, email));
        assert_eq!((status, me["role"].as_str()), (201, Some(role)), "{me}");
        assert!(cookie.starts_with("beacon_session="), "{cookie}");
    }
    let tree = get(&server.addr, &key, "/api/v1/categories");
    assert_eq!(tree["items"].as_array().map(Vec::len), Some(8), "eight departments: {tree}");
    assert_eq!(tree["products"], 48);
    let days = get(&server.addr, &key, "/api/v1/overview/daily?from=2026-10-17&to=2026-11-15&tz=%2B08:00");
    let per_day: Vec<(String, i64)> = days["days"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| (d["date"].as_str().unwrap_or("").to_string(), d["orders"].as_i64().unwrap_or(0)))
        .collect();
    let peak = per_day.iter().max_by_key(|(_, n)| *n).cloned().unwrap_or_default();
    let promo = line.rsplit("promotion day ").next().unwrap_or("").trim_end_matches('.');
    assert_eq!(peak.0, promo, "the promotion day has the most orders: {per_day:?}");
    let names = get(&server.addr, &key, "/api/v1/profiles?limit=200&has_trait=name");
    let names: Vec<&str> =
        names["items"].as_array().into_iter().flatten().filter_map(|p| p["traits"]["name"].as_str()).collect();
    assert!(
        names.iter().any(|n| n.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "Chinese names: {names:?}"
    );
    assert!(names.iter().any(|n| n.is_ascii()), "English names: {names:?}");
    // its promotions are running: a cart with the new-customer coupon gets 满减 and the coupon
    let promos = get(&server.addr, &key, "/api/v1/promotions?status=active");
    assert_eq!(promos["items"].as_array().map(Vec::len), Some(6), "{promos}");
    let cart = r#"{"phone":"13900000000","coupons":["NEW20"],"lines":[{"product_id":"P00002","quantity":3}]}"#;
    let auth = format!("Bearer {key}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let (status, body) = common::http(&server.addr, "POST", "/api/v1/carts/price", &headers, cart.as_bytes());
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("json");
    let applied: Vec<&str> = v["applied"].as_array().into_iter().flatten().filter_map(|a| a["id"].as_str()).collect();
    assert!(applied.contains(&"demo-new20"), "{v}");
    // the first shoppers hold a spring coupon; another claims one
    let first = get(&server.addr, &key, "/api/v1/profiles?limit=21");
    let id = |i: usize| first["items"][i]["id"].as_str().unwrap_or("").to_string();
    let wallet = get(&server.addr, &key, &format!("/api/v1/profiles/{}/coupons", id(0)));
    assert_eq!(wallet["items"][0]["status"], "available", "{wallet}");
    let claim = format!(r#"{{"promotion":"demo-spring","profile_id":"{}"}}"#, id(20));
    let (status, body) = common::http(&server.addr, "POST", "/api/v1/coupons/claim", &headers, claim.as_bytes());
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert!(v["code"].as_str().is_some_and(|c| c.starts_with("SPRING-")), "{v}");
}
