//! The console's Import screen in headless Chromium against the real
//! binary (`tests/browser/import.mjs`), in Chinese: a marketer uploads a
//! CSV of 20,000 orders with two bad lines, sees the import running and
//! then done with every byte read and the counts, downloads the two bad
//! lines with their reasons; axe-core finds no serious violation; a viewer
//! has no Import in the navigation. Then the API holds the 20,000 orders.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{Server, admin_post};
use serde_json::json;
use std::fmt::Write as _;

const ORDERS: usize = 20_000;

#[test]
fn a_marketer_imports_orders_and_downloads_the_rejected_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    for (email, role) in [("yunying@shop.cn", "marketer"), ("caiwu@shop.cn", "viewer")] {
        let user = json!({"email": email, "name": role, "role": role, "password": "双十一大促 2027!"});
        let (s, v) = admin_post(&server, "/api/v1/users", &user);
        assert_eq!(s, 201, "{v}");
    }
    let mut csv = String::from("order_id,user_id,placed_at,currency,product_id,price,quantity\n");
    for i in 0..ORDERS {
        let _ = writeln!(csv, "D-{i},u{},2026-11-{:02}T10:00:00Z,CNY,tea,{}.50,1", i % 3000, 1 + i % 28, 10 + i % 90);
        if i == 100 {
            csv.push_str("D-bad-1,u1,yesterday,CNY,tea,1.00,1\n");
        }
        if i == 15_000 {
            csv.push_str("D-bad-2,u1,2026-11-11,CNY,tea,-3,1\n");
        }
    }
    let file = dir.path().join("双十一订单.csv");
    std::fs::write(&file, &csv).expect("write the CSV");

    let args = [
        "yunying@shop.cn",
        "双十一大促 2027!",
        file.to_str().expect("UTF-8 path"),
        "caiwu@shop.cn",
        "双十一大促 2027!",
    ];
    let r = common::drive_browser(&server, "import.mjs", &args);
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    assert_eq!((&r["axe"], &r["axe_done"]), (&json!([]), &json!([])), "no serious accessibility violation: {r:#}");
    let statuses = r["statuses"].as_array().cloned().unwrap_or_default();
    assert!(statuses.contains(&json!("导入中")), "the import was seen running: {r:#}");
    assert_eq!(statuses.last(), Some(&json!("已完成")), "{r:#}");
    assert_eq!(r["last"]["value"], r["last"]["max"], "the bar ends full: {r:#}");
    assert_eq!(r["last"]["max"], csv.len(), "{r:#}");
    let counts = &r["counts"];
    assert_eq!(
        (&counts["lines"], &counts["accepted"], &counts["rejected"]),
        (&json!("20,002"), &json!("20,000"), &json!("2")),
        "{r:#}"
    );
    let rejects = r["rejects"].as_str().unwrap_or_default();
    let lines: Vec<&str> = rejects.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 3, "{rejects}");
    assert!(lines[1].starts_with("103,placed_at,") && lines[1].contains("D-bad-1,u1,yesterday"), "{rejects}");
    assert!(lines[2].starts_with("15004,price,") && lines[2].contains(",price -3 is negative,"), "{rejects}");
    assert_eq!(r["recent"][1], "双十一订单.csv", "{r:#}");
    let nav = r["viewer_nav"].as_array().cloned().unwrap_or_default();
    assert!(!nav.is_empty() && !nav.contains(&json!("导入数据")), "a viewer cannot import: {r:#}");

    server.wait_processed();
    let (s, overview) = server.get("/api/v1/overview");
    assert_eq!((s, &overview["orders"]), (200, &json!(ORDERS)), "{overview}");
}
