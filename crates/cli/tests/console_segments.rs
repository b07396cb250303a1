//! The segment builder and the customer 360's audience card in headless
//! Chromium against the real binary (`tests/browser/segments.mjs`): a
//! marketer builds a segment in the visual editor and watches the estimate
//! change as a condition changes (the text form following), adds a row on
//! the wallet's coupons (a code issued to one of them), writes it as
//! text and watches it change again (the rows following), sees a text that
//! does not read refused beside the editor, saves it, reads its members,
//! and opens a member's 360: its segments, RFM group and lifecycle stage,
//! its computed tags, a tag added by hand and removed; the customer list
//! filtered by a tag;
//! then the customer value screen: the RFM grid, the lifecycle funnel and
//! the clusters.
//! axe-core finds no serious violation.
//!
//! Needs Node.js, Chromium and the npm packages pinned in
//! `tests/browser/package.json`; scripts/test installs them.

mod common;

use common::{Server, admin_post};
use serde_json::{Value, json};

#[test]
fn build_a_segment_in_both_forms_and_see_it_on_the_360() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&dir.path().join("data"), None);
    let now = chrono::Utc::now();
    let at = |h: i64| (now - chrono::Duration::hours(h)).to_rfc3339();
    let mut batch: Vec<Value> = Vec::new();
    // views: u1 5 (and a phone), u2 3, u3 1, u4 none; u1 bought
    for (user, views) in [("u1", 5), ("u2", 3), ("u3", 1)] {
        for i in 0..views {
            batch.push(json!({"type": "track", "userId": user, "event": "Product Viewed", "timestamp": at(i + 1),
                              "properties": {"product_id": "P1", "category": "鞋"}}));
        }
    }
    batch.push(json!({"type": "identify", "userId": "u1", "traits": {"phone": "+8613800000001", "name": "李雷"}}));
    batch.push(json!({"type": "identify", "userId": "u4"}));
    batch.push(json!({"type": "track", "userId": "u1", "event": "Order Completed", "timestamp": at(1),
                      "properties": {"order_id": "O-1", "total": "99.00", "currency": "CNY",
                                     "products": [{"product_id": "P1", "price": "99.00", "quantity": 1}]}}));
    let (s, v) = server.post_events("/v1/batch", json!({ "batch": batch }).to_string().as_bytes());
    assert_eq!(s, 200, "{v}");
    let user = json!({"email": "yunying@shop.cn", "name": "运营", "role": "marketer", "password": "双十一大促 2027!"});
    assert_eq!(admin_post(&server, "/api/v1/users", &user).0, 201);
    server.wait_processed();
    let (_, u1) = server.get("/api/v1/profiles?identity=user_id:u1");
    let u1 = u1["items"][0]["id"].as_str().expect("u1").to_string();

    // a coupon template, and a code of it in u1's wallet
    let spring = json!({"id": "spring", "name": "春季券", "status": "active",
        "reward": {"type": "amount_off", "amount": "5"}, "codes": {"pattern": "SP-********"}});
    assert_eq!(admin_post(&server, "/api/v1/promotions", &spring).0, 201);
    let (s, v) = admin_post(&server, "/api/v1/promotions/spring/coupons", &json!({"profiles": [u1]}));
    assert_eq!(s, 200, "{v}");
    // the computed tags, decided now rather than at the sweeper's next round
    let (s, v) = admin_post(&server, "/api/v1/tags/sweep", &json!({}));
    assert_eq!(s, 200, "{v}");
    let r = common::drive_browser(&server, "segments.mjs", &["yunying@shop.cn", "双十一大促 2027!", &u1]);
    assert_eq!(r["errors"], json!([]), "no page or console error: {r:#}");
    for screen in ["builder", "detail", "c360", "insights"] {
        assert_eq!(r["axe"][screen], json!([]), "no serious accessibility violation on {screen}: {r:#}");
    }
    // the visual editor: >= 3 views in 30 days is u1 and u2; >= 1 adds u3 (of 4 profiles)
    assert_eq!(r["visual_first"], "About 2 people (of 4, 50.0%)", "{r:#}");
    assert_eq!(r["visual_second"], "About 3 people (of 4, 75.0%)", "{r:#}");
    assert_eq!(r["text_of_visual"], r#"performed "Product Viewed" within 30d"#, "at least once: the default {r:#}");
    // the text form: and has a phone is u1 alone; the rows follow it
    assert_eq!(r["text_estimate"], "About 1 people (of 4, 25.0%)", "{r:#}");
    assert_eq!(r["rows_of_text"], 2, "{r:#}");
    // a row on the wallet: u1's one spring code, then two (nobody); the text follows
    assert_eq!(r["wallet_estimate"], "About 0 people (of 4, 0.0%)", "{r:#}");
    assert!(r["text_of_wallet"].as_str().is_some_and(|t| t.ends_with(r#"and coupons "spring" >= 2"#)), "{r:#}");
    assert!(r["text_error"].as_str().is_some_and(|e| e.contains("expected")), "{r:#}");
    // saved: its members
    assert_eq!(r["members"], json!([u1]), "{r:#}");
    assert!(r["detail"].as_str().is_some_and(|d| d.contains("has phone")), "{r:#}");
    // the 360: the segment, the RFM group, the stage
    let card = r["c360"].as_str().unwrap_or_default();
    assert!(card.contains("Phone viewers") && card.contains("New") && card.contains("R/F/M scores"), "{card}");
    // tags: u1 viewed shoes five times and bought once (the only buyer: the lowest spend score)
    let computed: Vec<String> = serde_json::from_value(r["computed_tags"].clone()).expect("tags");
    let computed: Vec<&str> = computed.iter().map(|t| t.trim_end_matches('×').trim()).collect();
    // (and the value tier, stage and cluster, each under its own prefix)
    let plain: Vec<&str> = computed
        .iter()
        .copied()
        .filter(|t| !["value:", "stage:", "cluster:"].iter().any(|p| t.starts_with(p)))
        .collect();
    assert_eq!(
        plain,
        ["interest:鞋 computed", "spending:low computed", "loyalty:one_time computed"],
        "by family: interest, spending, loyalty {r:#}"
    );
    assert!(computed.contains(&"stage:new computed"), "{computed:?}");
    assert_eq!(computed.len(), 6, "{computed:?}");
    assert_eq!(r["manual_tag"], "双十一 by hand×", "{r:#}");
    assert_eq!(r["tags_after_removal"], 6, "{r:#}");
    assert_eq!(r["tagged_rows"], 1, "the customer list by tag: u1 alone {r:#}");
    // customer value: the 5 × 5 grid, the funnel (three profiles without an order, u1 new)
    assert_eq!(r["grid_cells"], 25, "{r:#}");
    let funnel: Vec<String> = serde_json::from_value(r["funnel"].clone()).expect("funnel");
    assert!(funnel.contains(&"Potential 3".to_string()) && funnel.contains(&"New 1".to_string()), "{funnel:?}");
    assert!(r["bubbles"].as_u64().unwrap_or(0) >= 1, "the clusters drawn: {r:#}");
    assert_eq!(r["moves"], json!(["Moves in the last 30 days"]), "{r:#}");
}
