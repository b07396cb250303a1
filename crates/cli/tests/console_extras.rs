//! The promotions' extra panels, the customer 360's group-buy teams and
//! the Points screen in headless Chromium against the real binary
//! (`tests/browser/extras.mjs`): a marketer generates five codes of a
//! coupon template and exports them as CSV (the same codes), reads a flash
//! sale's stock (3 of 50 sold), a group-buy's open team and that team in
//! its opener's 360, reads the points program and its tiers, sees the
//! API's error beside the editor for a wrong change and saves a right one,
//! and reads the day's leaderboard. axe-core finds no serious violation.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{ADMIN, Server, admin_post, http};
use serde_json::{Value, json};

fn place(server: &Server, key: &str, body: &Value) -> Value {
    let auth = format!("Bearer {ADMIN}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", key)];
    let (s, b) = http(&server.addr, "POST", "/api/v1/orders", &headers, body.to_string().as_bytes());
    let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    assert_eq!(s, 201, "{v}");
    v
}

#[test]
fn codes_stock_teams_and_points_in_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    for product in [
        json!({"product_id": "TEA-1", "name": "龙井", "price": "88.00"}),
        json!({"product_id": "CUP-1", "name": "茶杯", "price": "19.00"}),
    ] {
        assert_eq!(admin_post(&server, "/api/v1/products", &product).0, 201);
    }
    for spec in [
        json!({"id": "spring", "name": "Spring coupon", "status": "active",
            "codes": {"pattern": "SPRING-####-????", "quantity": 100}, "reward": {"type": "amount_off", "amount": "10"}}),
        json!({"id": "flash", "name": "Tea flash sale", "status": "active", "target": {"products": ["TEA-1"]},
            "reward": {"type": "special_price", "price": "59"}, "limits": [{"counter": "units", "limit": 50}]}),
        json!({"id": "gb", "name": "Tea for two", "status": "active", "target": {"products": ["CUP-1"]},
            "reward": {"type": "special_price", "price": "9"}, "group_buy": {"min_members": 2, "minutes": 600}}),
    ] {
        let (s, v) = admin_post(&server, "/api/v1/promotions", &spec);
        assert_eq!(s, 201, "{v}");
    }
    let program = json!({"status": "active", "earn": [{"on": "order", "per": "1", "points": 1}],
        "tiers": [{"name": "Silver", "min": "0"}, {"name": "Gold", "min": "500"}]});
    let auth = format!("Bearer {ADMIN}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let (s, b) = http(&server.addr, "PUT", "/api/v1/loyalty/program", &headers, program.to_string().as_bytes());
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&b));
    let user = json!({"email": "yunying@shop.cn", "name": "运营", "role": "marketer", "password": "双十一大促 2027!"});
    assert_eq!(admin_post(&server, "/api/v1/users", &user).0, 201);
    for u in ["u1", "u2"] {
        let (s, v) = server.post_events("/v1/identify", json!({"userId": u}).to_string().as_bytes());
        assert_eq!(s, 200, "{v}");
    }
    server.wait_processed();
    let flash = place(&server, "k1", &json!({"user_id": "u1", "lines": [{"product_id": "TEA-1", "quantity": 3}]}));
    assert_eq!(flash["pricing"]["total"], "177.00", "{flash}");
    let team = place(
        &server,
        "k2",
        &json!({"user_id": "u2", "lines": [{"product_id": "CUP-1"}],
        "group_buy": {"promotion": "gb"}}),
    );
    let team_id = team["group_buy"]["id"].as_str().expect("a team").to_string();
    server.wait_processed();
    let (_, u2) = server.get("/api/v1/profiles?identity=user_id:u2");
    let opener = u2["items"][0]["id"].as_str().expect("u2").to_string();

    let r = common::drive_browser(&server, "extras.mjs", &["yunying@shop.cn", "双十一大促 2027!", &opener]);
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    for screen in ["codes", "teams", "loyalty"] {
        assert_eq!(r["axe"][screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }
    // codes: five made, listed, and exported (a BOM, a header, the same five)
    let codes: Vec<String> = serde_json::from_value(r["codes"].clone()).expect("codes");
    assert_eq!(codes.len(), 5, "{r:#}");
    assert!(codes.iter().all(|c| c.starts_with("SPRING-") && c.len() == 16), "{codes:?}");
    assert_eq!(r["export_name"], "spring-codes.csv");
    let export = r["export"].as_str().expect("the CSV");
    let lines: Vec<&str> = export.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "code,status,profile_id,channel,issued_at,valid_from,valid_until", "{export}");
    let mut exported: Vec<&str> = lines[1..].iter().filter_map(|l| l.split(',').next()).collect();
    let mut shown: Vec<&str> = codes.iter().map(String::as_str).collect();
    exported.sort();
    shown.sort();
    assert_eq!(exported, shown, "{export}");
    // the flash sale's stock, the group-buy's team, in the 360 too
    assert_eq!(r["stock"], "Flash-sale stock: 3 sold, 47 left (of 50)", "{r:#}");
    assert_eq!(r["stock_bar"], json!([3, 50]), "{r:#}");
    assert_eq!(r["open_teams"], json!([team_id]), "{r:#}");
    let c360 = r["c360_teams"].as_array().cloned().unwrap_or_default();
    assert_eq!(
        (&c360[0], &c360[1], &c360[2], &c360[3]),
        (&json!(team_id), &json!("gb"), &json!("open"), &json!("1 / 2"))
    );
    // points: the program, its tiers, the day's leaderboard (177 and 9 points earned)
    let program = r["program"].as_str().unwrap_or_default();
    assert!(program.contains("1 points for every") && program.contains("Not redeemable"), "{program}");
    assert_eq!(r["tiers"], json!(["Silver", "Gold"]), "{r:#}");
    assert_eq!(r["board"], json!(["177", "9"]), "{r:#}");
    // tiers out of order: the API's reason beside the editor
    assert!(r["program_error"].as_str().is_some_and(|e| e.contains("tier")), "{r:#}");
    assert_eq!(r["program_invalid"], "", "{r:#}");
    assert_eq!(r["saved"], "Program saved (version 2).", "{r:#}");
    assert!(r["vesting"].as_str().is_some_and(|v| v.contains("3 days")), "{r:#}");
}
