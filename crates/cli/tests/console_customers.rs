//! The console's Customers screens in headless Chromium against the real
//! binary (`tests/browser/customers.mjs`): a marketer types a phone number
//! and lands on the customer 360, where a trait holding markup shows as
//! that literal text (no script runs, no dialog opens), the timeline lists
//! the events, the order opens on its lines and its refund, a merged-away
//! id shows its survivor; an openid is found by guessing; the list's
//! filters stay in the address; axe-core finds no serious or critical
//! violation on either screen, in Chinese and English; a viewer sees the
//! phone masked.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{Server, admin_post};
use serde_json::{Value, json};

const PASSWORD: &str = "春季大促 2027!";

fn batch(server: &Server, key: &str, messages: Value) {
    let (s, v) = server.post_events_as(key, "/v1/batch", json!({ "batch": messages }).to_string().as_bytes());
    assert_eq!(s, 200, "{v}");
}

/// 李雷 (identified by the shop's back end with a phone, an email and a
/// nickname that is markup), browsing as a guest first (then aliased), two
/// actions, an order of two and one of them refunded, a review; and a
/// WeChat shopper known by openid only.
fn seed(server: &Server) {
    let spring = json!({"id": "spring", "name": "春季券 满100减15", "status": "active", "min_spend": "100",
        "reward": {"type": "amount_off", "amount": "15"}, "codes": {"pattern": "SPRING-####-????", "valid_days": 7}});
    let (s, v) = admin_post(server, "/api/v1/promotions", &spring);
    assert_eq!(s, 201, "{v}");
    let key = server.server_key();
    let at = |minutes: i64| (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339();
    batch(
        server,
        &key,
        json!([
            {"type": "track", "anonymousId": "guest-77", "event": "Page Viewed", "timestamp": at(60)},
            {"type": "identify", "userId": "u-1001", "timestamp": at(50), "traits": {
                "nickname": "<script>alert(1)</script>", "phone": "13800138000", "email": "li.lei@example.com",
                "city": "深圳", "vip": true}},
            {"type": "alias", "previousId": "guest-77", "userId": "u-1001", "timestamp": at(49)},
            {"type": "track", "userId": "u-1001", "event": "Product Viewed", "timestamp": at(40),
                "properties": {"product_id": "longjing", "name": "<b>龙井</b>", "price": "99.00"}},
            {"type": "track", "userId": "u-1001", "event": "Product Added", "timestamp": at(39),
                "properties": {"product_id": "longjing", "quantity": 2}},
            {"type": "identify", "userId": "wx-2", "timestamp": at(30),
                "traits": {"name": "微信用户", "openid": "oWx-openid-7"}},
        ]),
    );
    let order = json!({"order_id": "BJ-1001", "user_id": "u-1001", "currency": "CNY", "placed_at": at(20),
        "total": "198.00", "products": [{"product_id": "longjing", "name": "龙井", "price": "99.00", "quantity": 2}]});
    let (s, v) = admin_post(server, "/api/v1/orders", &json!({ "orders": [order] }));
    assert_eq!((s, v["accepted"].as_i64()), (200, Some(1)), "{v}");
    server.wait_processed();
    batch(
        server,
        &key,
        json!([
            {"type": "track", "userId": "u-1001", "event": "Order Refunded", "timestamp": at(10), "properties": {
                "order_id": "BJ-1001", "products": [{"product_id": "longjing", "quantity": 1}], "reason": "破损"}},
            {"type": "track", "userId": "u-1001", "event": "Product Reviewed", "timestamp": at(5), "properties": {
                "product_id": "longjing", "review_id": "rv-1", "rating": 5, "review_body": "<i>好喝</i>"}},
        ]),
    );
    server.wait_processed();
    for (email, role) in [("yunying@shop.cn", "marketer"), ("caiwu@shop.cn", "viewer")] {
        let body = json!({"email": email, "name": "小王", "role": role, "password": PASSWORD, "locale": "zh-CN"});
        let (s, v) = admin_post(server, "/api/v1/users", &body);
        assert_eq!(s, 201, "{v}");
    }
}

fn text(r: &Value, key: &str) -> String {
    r[key].as_str().unwrap_or_default().to_string()
}

#[test]
fn a_marketer_finds_a_customer_by_phone_and_reads_the_360_and_a_viewer_sees_it_masked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    seed(&server);
    let r = common::drive_browser(&server, "customers.mjs", &["yunying@shop.cn", PASSWORD, "caiwu@shop.cn", PASSWORD]);
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    assert_eq!(r["dialogs"], json!([]), "no script from the data ran: {r:#}");
    assert!(text(&r, "given").starts_with("已发放券码 SPRING-"), "a coupon given from the 360: {r:#}");
    assert!(text(&r, "wallet").contains("SPRING-") && text(&r, "wallet").contains("可使用"), "in the wallet: {r:#}");

    // the list: both people, their contact as stored, the filter in the address
    assert_eq!(r["list_title"], "客户", "{r:#}");
    assert_eq!(r["list_rows"], 2, "{r:#}");
    let list = text(&r, "list_text");
    assert!(list.contains("<script>alert(1)</script>") && list.contains("+8613800138000"), "{list}");
    assert!(list.contains("微信用户") && list.contains("¥99.00"), "{list}");
    assert_eq!(r["filtered_hash"], "#/customers?min_events=3", "{r:#}");
    assert_eq!((&r["filter_kept"], &r["filtered_rows"]), (&json!("3"), &json!(1)), "only 李雷 has 3 events: {r:#}");

    // the search lands on the 360
    assert!(text(&r, "landed").starts_with("#/customers/"), "{r:#}");
    assert_eq!(r["c360_title"], "<script>alert(1)</script>", "the nickname is the name, as text: {r:#}");
    assert_eq!(r["script_trait_cells"], 1, "the trait's value shown literally: {r:#}");
    assert_eq!(r["script_elements_in_main"], 0, "{r:#}");
    let summary = text(&r, "summary");
    for part in ["手机号 +8613800138000", "邮箱 li.lei@example.com", "用户 ID u-1001", "匿名 ID guest-77", "¥99.00"]
    {
        assert!(summary.contains(part), "{part} in the summary: {summary}");
    }
    let traits = text(&r, "traits");
    assert!(traits.contains("city深圳") && traits.contains("phone13800138000"), "{traits}");
    let timeline = text(&r, "timeline");
    for event in ["Product Viewed", "Product Added", "Page Viewed", "Order Completed", "Order Refunded"] {
        assert!(timeline.contains(event), "{event} in the timeline: {timeline}");
    }
    assert!(timeline.contains("<b>龙井</b>"), "event properties as text: {timeline}");
    assert!(r["timeline_items"].as_u64().is_some_and(|n| n >= 7), "{r:#}");
    assert_eq!(r["event_json_open"], 1, "an event's data opens from the keyboard: {r:#}");
    let orders = text(&r, "orders");
    assert!(orders.contains("BJ-1001") && orders.contains("部分退款") && orders.contains("¥198.00"), "{orders}");
    let order = text(&r, "order_open");
    assert!(
        order.contains("龙井") && order.contains("破损") && order.contains("已生效"),
        "lines and the refund: {order}"
    );
    assert!(text(&r, "reviews").contains("<i>好喝</i>"), "{r:#}");
    assert!(text(&r, "merges").contains("guest-77"), "{r:#}");
    assert!(text(&r, "points").contains("可用积分"), "{r:#}");
    assert!(text(&r, "coupons").contains("暂无数据"), "{r:#}");
    assert!(text(&r, "merged_note").contains("已合并"), "a merged-away id shows its survivor: {r:#}");
    assert_eq!(r["merged_title"], "<script>alert(1)</script>", "{r:#}");
    assert_eq!(r["openid_title"], "微信用户", "an openid found by guessing: {r:#}");
    assert!(text(&r, "not_found").contains("nobody@example.com"), "{r:#}");
    assert_eq!(
        r["english_sections"],
        json!([
            "Overview",
            "Traits",
            "Points",
            "Event timeline",
            "Orders",
            "Coupons",
            "Merge history",
            "Segments and value",
            "Tags",
            "Group-buy teams",
            "Reviews"
        ]),
        "{r:#}"
    );
    for screen in ["list_axe", "c360_axe", "c360_axe_en"] {
        assert_eq!(r[screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }
    assert_eq!(r["overflow_narrow"], 0, "nothing wider than a phone's screen: {r:#}");

    // a viewer: personal data as the server masks it
    for key in ["viewer_list", "viewer_summary", "viewer_traits"] {
        let seen = text(&r, key);
        assert!(seen.contains("138****8000") && !seen.contains("13800138000"), "{key}: {seen}");
        assert!(seen.contains("l***@example.com") && !seen.contains("li.lei@"), "{key}: {seen}");
    }
}
