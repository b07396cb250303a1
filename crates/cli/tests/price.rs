//! `beacon price` on the worked example of docs/promotions.md.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn price(now: &str) -> Value {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples");
    let out = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("price")
        .arg("--cart")
        .arg(docs.join("cart.json"))
        .arg("--promotions")
        .arg(docs.join("promotions.json"))
        .args(["--now", now])
        .output()
        .expect("run beacon price");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn the_worked_example_prices_as_the_docs_say() {
    let v = price("2026-11-11T12:00:00Z");
    // tea 176.00 × 90 % = 158.40; 218.30 ≥ 200 → −30 = 188.30; every 100 → −10 = 178.30; 15 % capped at 25 → 153.30
    assert_eq!(
        (v["subtotal"].as_str(), v["discount"].as_str(), v["total"].as_str()),
        (Some("235.90"), Some("82.60"), Some("153.30"))
    );
    let applied: Vec<(&str, &str)> = v["applied"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["id"].as_str().unwrap_or(""), a["amount"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        applied,
        [("tea-90", "17.60"), ("man-jian", "30.00"), ("double-11", "10.00"), ("coupon-15pct", "25.00")]
    );
    assert_eq!(v["rejected"][0]["reason"], serde_json::json!({"code": "not_stackable_with", "id": "coupon-15pct"}));
    assert_eq!(v["hints"][0], serde_json::json!({"id": "man-jian", "discount": "50.00", "spend_more": "81.70"}));
    let next_day = price("2026-11-12T12:00:00Z");
    assert_eq!(next_day["total"], "163.30");
    assert_eq!(next_day["rejected"][0]["reason"]["code"], "expired");
}
