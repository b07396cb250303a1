//! The marketer console in headless Chromium against the real binary
//! (`tests/browser/console.mjs`): login (a wrong password first, its error
//! in Chinese), the dashboard with the shop's orders and its chart, the
//! language switched and kept, accessibility (axe-core: no serious or
//! critical violation on the login, dashboard and account screens), the
//! session cookie out of scripts' reach, logout; a viewer's crafted change
//! refused. And the console's files: the vendored chart library is the
//! npm package's own file, byte for byte.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{ADMIN, Server, admin_post, node_modules};
use serde_json::{Value, json};

#[test]
fn a_marketer_logs_in_reads_the_dashboard_in_two_languages_and_a_viewer_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    // three orders in the last days (the shop's time zone is +08:00)
    let now = chrono::Utc::now();
    let orders: Vec<Value> = (0..3)
        .map(|i| {
            json!({"order_id": format!("C-{i}"), "user_id": format!("buyer-{i}"), "currency": "CNY",
                "placed_at": (now - chrono::Duration::hours(30 * i)).to_rfc3339(), "total": "100.00",
                "products": [{"product_id": "tea", "price": "100.00", "quantity": 1}]})
        })
        .collect();
    let (s, v) = admin_post(&server, "/api/v1/orders", &json!({ "orders": orders }));
    assert_eq!((s, v["accepted"].as_i64()), (200, Some(3)), "{v}");
    server.wait_processed();
    let users = [("yunying@shop.cn", "marketer", "zh-CN"), ("caiwu@shop.cn", "viewer", "en")];
    for (email, role, locale) in users {
        let body =
            json!({"email": email, "name": "运营小王", "role": role, "password": "春季大促 2027!", "locale": locale});
        let (s, v) = admin_post(&server, "/api/v1/users", &body);
        assert_eq!(s, 201, "{v}");
    }
    let r = common::drive_browser(
        &server,
        "console.mjs",
        &["yunying@shop.cn", "春季大促 2027!", "caiwu@shop.cn", "春季大促 2027!"],
    );
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    assert_eq!(r["login_title"], "登录", "Chinese from the browser's language: {r:#}");
    assert_eq!(r["wrong_password"], "邮箱或密码不正确。", "the API's code as a Chinese message: {r:#}");
    assert_eq!(r["dashboard_title"], "经营概览", "{r:#}");
    let kpis = r["kpis"].to_string();
    assert!(
        kpis.contains("订单数") && kpis.contains("¥300.00") && kpis.contains("¥100.00"),
        "3 orders, ¥300, ¥100 each: {kpis}"
    );
    assert!(r["chart"].as_u64().is_some_and(|n| n >= 1), "the daily chart is drawn: {r:#}");
    assert_eq!(r["cookie_visible_to_scripts"], false, "the session cookie is HttpOnly: {r:#}");
    assert_eq!((&r["switched_title"], &r["after_reload_title"]), (&json!("Dashboard"), &json!("Dashboard")), "{r:#}");
    assert_eq!(
        r["english_kpis"],
        json!(["Visitors", "Conversion rate", "Orders", "Net revenue", "Average order value"]),
        "{r:#}"
    );
    for screen in ["login_axe", "dashboard_axe", "account_axe"] {
        assert_eq!(r[screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }
    assert_eq!((&r["after_logout"], &r["session_after_logout"]), (&json!("Log in"), &json!(401)), "{r:#}");
    assert_eq!(r["viewer_title"], "Dashboard", "the viewer's own language: {r:#}");
    assert_eq!(r["viewer_change"], json!([403, "forbidden"]), "a viewer changes nothing: {r:#}");
    eprintln!("dashboard interactive {} ms after the first request (login included)", r["dashboard_ms"]);
}

#[test]
fn the_vendored_chart_library_is_the_npm_package_file() {
    let vendored = concat!(env!("CARGO_MANIFEST_DIR"), "/../server/console/vendor/echarts.min.js");
    let source = node_modules().join("echarts/dist/echarts.min.js");
    let (a, b) = (std::fs::read(vendored).expect("vendored"), std::fs::read(&source).expect("npm's (scripts/test)"));
    assert!(a == b, "console/vendor/echarts.min.js differs from echarts@6.1.0's dist/echarts.min.js: copy it again");
}

#[test]
fn an_admin_creates_a_read_only_user_and_a_key_and_sees_them_audited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let body = json!({"email": "boss@shop.cn", "role": "admin", "password": "the boss's password", "locale": "en"});
    assert_eq!(admin_post(&server, "/api/v1/users", &body).0, 201);
    let r = common::drive_browser(&server, "admin.mjs", &["boss@shop.cn", "the boss's password"]);
    assert_eq!((&r["errors"], &r["axe"]), (&json!([]), &json!([])), "{r:#}");
    assert!(r["users"].to_string().contains("caiwu@shop.cn"), "{r:#}");
    assert!(r["key_shown"].as_str().is_some_and(|k| k.starts_with("bsk_")), "the secret, once: {r:#}");
    assert!(r["keys"].to_string().contains("BI 报表"), "{r:#}");
    let audit = r["audit"].to_string();
    assert!(audit.contains("user.create") && audit.contains("key.create"), "{r:#}");
    assert!(!r["viewer_nav"].to_string().contains("Admin"), "a viewer sees no admin screen: {r:#}");
    // the settings in force, the encryption key only as set
    let settings = r["settings"].as_str().unwrap_or_default();
    assert!(settings.contains("Shop currencyCNY") && settings.contains("+08:00"), "{settings}");
    let all: Value = serde_json::from_str(r["all_settings"].as_str().unwrap_or("null")).expect("the settings as JSON");
    assert_eq!(all["security"]["encryption_key"], "", "read from the data directory's key file: {all}");
    let key_file = std::fs::read_to_string(dir.path().join("data/encryption.key")).unwrap_or_default();
    assert!(key_file.trim().is_empty() || !r.to_string().contains(key_file.trim()), "no key shown");
    // the new user is a viewer in the store too
    let auth = format!("Bearer {ADMIN}");
    let (_, b) = common::http(&server.addr, "GET", "/api/v1/users", &[("authorization", auth.as_str())], b"");
    let users: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    let finance = users["items"].as_array().into_iter().flatten().find(|u| u["email"] == "caiwu@shop.cn");
    assert_eq!(finance.map(|u| u["role"].clone()), Some(json!("viewer")), "{users}");
}

#[test]
fn a_marketer_finds_a_product_and_refunds_one_unit_of_an_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let product =
        json!({"product_id": "TEA-LJ", "name": "西湖龙井", "price": "80.00", "category": "茶叶/绿茶", "stock": 9});
    assert_eq!(admin_post(&server, "/api/v1/products", &product).0, 201);
    let order = json!({"order_id": "OPS-1", "user_id": "buyer", "currency": "CNY", "total": "160.00",
        "products": [{"product_id": "TEA-LJ", "name": "西湖龙井", "price": "80.00", "quantity": 2}]});
    assert_eq!(admin_post(&server, "/api/v1/orders", &order).0, 200);
    server.wait_processed();
    let body = json!({"email": "ops@shop.cn", "role": "marketer", "password": "运营的密码 2027"});
    assert_eq!(admin_post(&server, "/api/v1/users", &body).0, 201);
    let r = common::drive_browser(&server, "ops.mjs", &["ops@shop.cn", "运营的密码 2027", "OPS-1"]);
    assert_eq!(r["errors"], json!([]), "{r:#}");
    for screen in ["products", "product", "order"] {
        assert_eq!(r["axe"][screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }
    assert_eq!(r["products"], 1, "{r:#}");
    assert!(r["history"].to_string().contains("product."), "the product's history: {r:#}");
    let facts = r["after_refund"].as_str().unwrap_or_default();
    assert!(facts.contains("部分退款") && facts.contains("¥80.00"), "refunded one unit of two: {facts}");
    assert!(r["after_sales"].to_string().contains("包装破损"), "{r:#}");
    // the refund is in the store, as the API shows it
    let auth = format!("Bearer {ADMIN}");
    let (_, b) = common::http(&server.addr, "GET", "/api/v1/orders/OPS-1", &[("authorization", auth.as_str())], b"");
    let o: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    assert_eq!((o["refunded"].as_str(), o["status"].as_str()), (Some("80.00"), Some("partially_refunded")), "{o}");
}
