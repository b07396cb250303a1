//! The console's promotions screens and cart simulator in headless Chromium
//! against the real binary (`tests/browser/promotions.mjs`), in Chinese: a
//! draft activated and then ended (after a confirmation), a 满减 promotion
//! (满100减15) created through the form — a save without the tier's value
//! first, the API's error shown beside that field — then a cart of 2 ×
//! TEA-1 with a coupon code priced in the simulator: the 满减 applies, the
//! coupon is rejected for its minimum spend, in Chinese with how much is
//! missing. axe-core finds no serious or critical violation on the list, the
//! form and the simulator. Then the API says the promotion is what the form
//! meant, and that the simulator ordered nothing.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{Server, admin_post};
use serde_json::{Value, json};

fn texts(v: &Value) -> String {
    v.as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" | ")).unwrap_or_default()
}

#[test]
fn a_marketer_creates_a_man_jian_and_prices_a_cart_in_the_simulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let product = json!({"product_id": "TEA-1", "name": "龙井", "price": "88.00", "category": "茶叶/绿茶"});
    let (s, v) = admin_post(&server, "/api/v1/products", &product);
    assert_eq!(s, 201, "{v}");
    // a coupon the test cart (176.00, 161.00 after the 满减) does not reach
    let coupon = json!({"id": "vip20", "name": "会员券 满500减20", "status": "active", "coupon": "VIP20",
        "min_spend": "500", "reward": {"type": "amount_off", "amount": "20"}});
    let (s, v) = admin_post(&server, "/api/v1/promotions", &coupon);
    assert_eq!(s, 201, "{v}");
    // a draft for another product, to activate and end from the list
    let draft = json!({"id": "cup-draft", "name": "茶杯特价", "target": {"products": ["CUP-9"]},
        "reward": {"type": "special_price", "price": "9.90"}});
    let (s, v) = admin_post(&server, "/api/v1/promotions", &draft);
    assert_eq!((s, &v["status"]), (201, &json!("draft")), "{v}");
    let user = json!({"email": "yunying@shop.cn", "name": "运营小王", "role": "marketer",
        "password": "双十一大促 2027!", "locale": "zh-CN"});
    let (s, v) = admin_post(&server, "/api/v1/users", &user);
    assert_eq!(s, 201, "{v}");
    // a known shopper for the simulator to find
    let shopper = json!({"userId": "u-1001", "traits": {"name": "张三"}});
    let (s, v) = server.post_events("/v1/identify", shopper.to_string().as_bytes());
    assert_eq!(s, 200, "{v}");
    server.wait_processed();

    let r = common::drive_browser(&server, "promotions.mjs", &["yunying@shop.cn", "双十一大促 2027!"]);
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    for screen in ["list_axe", "form_axe", "sim_axe"] {
        assert_eq!(r[screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }

    // the list and the lifecycle
    assert_eq!(r["list_title"], "促销活动", "{r:#}");
    assert_eq!(
        (&r["draft_row"], &r["activated"], &r["ended"]),
        (&json!("草稿"), &json!("进行中"), &json!("已结束")),
        "{r:#}"
    );
    assert!(r["confirm_end"].as_str().is_some_and(|s| s.contains("茶杯特价")), "asked before ending: {r:#}");
    assert_eq!(r["confirm_focused"], "确认结束", "the confirmation takes the focus: {r:#}");
    assert_eq!(r["flash"], "「茶杯特价」已结束。", "{r:#}");

    // the form: the API's error beside the field it names, then saved
    assert_eq!(r["form_title"], "新建活动", "{r:#}");
    let fe = &r["field_error"];
    assert_eq!((&fe["label"], &fe["invalid"]), (&json!("第 1 档优惠值"), &json!(true)), "{r:#}");
    let message = fe["message"].as_str().unwrap_or_default();
    assert!(message.contains("促销设置不正确") && message.contains("reward.tiers[0]"), "{message}");
    assert!(r["form_alert"].as_str().is_some_and(|s| s.contains("reward.tiers[0]")), "{r:#}");
    let spec = json!({"id": "mj-100-15", "name": "满100减15", "status": "active", "ends_at": "2099-12-31T23:59:00+08:00",
        "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "15"}]},
        "limits": [{"counter": "discount", "limit": "1000", "period": "total", "scope": "promotion"}]});
    assert_eq!(r["json"], spec, "the JSON view follows the form: {r:#}");
    assert_eq!(r["saved_flash"], "「满100减15」已保存。", "{r:#}");
    assert_eq!(r["created_status"], "进行中", "{r:#}");
    let created = texts(&r["created"]);
    assert!(created.contains("满减") && created.contains("满¥100.00减¥15.00") && created.contains("2099"), "{created}");
    let usage = r["usage"].as_str().unwrap_or_default();
    assert!(usage.contains("优惠金额（预算）") && usage.contains("¥1,000.00") && usage.contains("¥0.00"), "{usage}");

    // the simulator
    assert!(r["dry_run_notice"].as_str().is_some_and(|s| s.contains("不会下单")), "{r:#}");
    assert!(r["customer"].as_str().is_some_and(|s| s.contains("张三")), "{r:#}");
    assert_eq!(r["line_product"], "TEA-1", "the product search fills the line: {r:#}");
    assert_eq!(r["total"], "¥161.00", "176.00 less 15.00: {r:#}");
    let applied = texts(&r["applied"]);
    assert!(applied.contains("满100减15") && applied.contains("−¥15.00"), "{applied}");
    let rejected = texts(&r["rejected"]);
    assert!(
        rejected.contains("会员券 满500减20")
            && rejected.contains("未达到最低消费")
            && rejected.contains("需满 ¥500.00")
            && rejected.contains("还差 ¥339.00")
            && rejected.contains("min_spend_not_met"),
        "the coupon's reason in Chinese with how much is missing: {rejected}"
    );
    assert!(texts(&r["hints"]).contains("再买 ¥339.00"), "{r:#}");
    assert!(texts(&r["lines"]).contains("TEA-1"), "{r:#}");
    assert_eq!(r["narrow_overflow"], false, "no sideways scrolling on a phone: {r:#}");

    // the API: the promotion is what the form said, the draft ended, nothing ordered
    let (s, p) = server.get("/api/v1/promotions/mj-100-15");
    assert_eq!((s, &p["status"], &p["version"]), (200, &json!("active"), &json!(1)), "{p}");
    let mut stored = spec.clone();
    if let Some(o) = stored.as_object_mut() {
        o.remove("status");
    }
    assert_eq!(p["spec"], stored, "{p}");
    let (_, p) = server.get("/api/v1/promotions/cup-draft");
    assert_eq!(p["status"], "ended", "{p}");
    let (_, orders) = server.get("/api/v1/orders");
    assert_eq!(orders["items"], json!([]), "the simulator places no order: {orders}");
}
