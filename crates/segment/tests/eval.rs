//! Membership of one profile, decided by hand: "viewed 3 times in 30 days,
//! did not buy", window edges, property filters on exact decimals, trait
//! comparisons of each kind, a missing trait.

use beacon_segment::*;
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

fn event(name: &str, when: DateTime<Utc>, properties: Value) -> EventFact {
    EventFact { name: name.into(), at: when, properties: properties.as_object().cloned().unwrap_or_default() }
}

fn is_in(text: &str, traits: &Value, events: &[EventFact], now: DateTime<Utc>) -> bool {
    let c = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let traits: Map<String, Value> = traits.as_object().cloned().unwrap_or_default();
    matches(&c, &Facts { traits: &traits, events, now })
}

#[test]
fn viewed_three_times_in_thirty_days_and_did_not_buy() {
    let now = at("2026-12-06T12:00:00Z");
    let view =
        |days: i64, category: &str| event("Product Viewed", now - Duration::days(days), json!({"category": category}));
    let segment = r#"performed "Product Viewed" >= 3 within 30d where category = "鞋" and not performed "Order Completed" within 30d"#;
    let three = vec![view(1, "鞋"), view(10, "鞋"), view(29, "鞋"), view(2, "茶叶")];
    assert!(is_in(segment, &json!({}), &three, now));
    // the third view 30 days ago to the second is out of the window (after now − 30d, not at it)
    let edge = vec![view(1, "鞋"), view(10, "鞋"), view(30, "鞋")];
    assert!(!is_in(segment, &json!({}), &edge, now));
    // another category does not count
    let mixed = vec![view(1, "鞋"), view(10, "鞋"), view(3, "茶叶")];
    assert!(!is_in(segment, &json!({}), &mixed, now));
    // a purchase in the window takes them out; one before it does not
    let mut bought = three.clone();
    bought.push(event("Order Completed", now - Duration::days(5), json!({})));
    assert!(!is_in(segment, &json!({}), &bought, now));
    let mut long_ago = three.clone();
    long_ago.push(event("Order Completed", now - Duration::days(31), json!({})));
    assert!(is_in(segment, &json!({}), &long_ago, now));
    // an event after `now` (a clock ahead) is not counted yet
    let future = vec![view(1, "鞋"), view(10, "鞋"), view(-1, "鞋")];
    assert!(!is_in(segment, &json!({}), &future, now));
}

#[test]
fn counts_and_property_filters() {
    let now = at("2026-12-06T12:00:00Z");
    let buy = |price: Value| event("Order Completed", now - Duration::hours(1), json!({"price": price}));
    let events = vec![buy(json!("100.00")), buy(json!(99.99)), buy(json!("100.01")), buy(json!(null))];
    assert!(is_in(r#"performed "Order Completed" = 2 where price >= 100"#, &json!({}), &events, now));
    assert!(is_in(r#"performed "Order Completed" = 1 where price > 100"#, &json!({}), &events, now));
    assert!(is_in(r#"performed "Order Completed" = 3 where price exists"#, &json!({}), &events, now));
    assert!(is_in(r#"performed "Order Completed" = 0 within 1h"#, &json!({}), &events, now), "after now − 1h only");
    assert!(is_in(r#"performed "Order Completed" < 5"#, &json!({}), &events, now));
    assert!(is_in(r#"performed "Signed Up" = 0"#, &json!({}), &events, now));
    assert!(!is_in(r#"performed "Signed Up""#, &json!({}), &events, now));
}

#[test]
fn traits_compare_by_kind() {
    let now = at("2026-12-06T12:00:00Z");
    let t =
        json!({"city": "上海", "age": "31", "spend": 1299.5, "vip": true, "tags": ["运动", "鞋"], "bio": "爱喝龙井"});
    for (text, expected) in [
        (r#"city = "上海""#, true),
        (r#"city != "上海""#, false),
        (r#"region != "华东""#, true),
        (r#"region = "华东""#, false),
        ("age >= 18", true),
        ("age > 31", false),
        ("spend > 1299.49", true),
        ("spend <= 1299.50", true),
        ("vip = true", true),
        ("vip = false", false),
        (r#"tags contains "鞋""#, true),
        (r#"tags contains "茶""#, false),
        (r#"bio contains "龙井""#, true),
        (r#"city in ["北京", "上海"]"#, true),
        (r#"city in ["北京"]"#, false),
        ("phone exists", false),
        ("city exists", true),
        (r#"city > 1"#, false),
        ("everyone", true),
        ("nobody", false),
        (r#"city = "上海" and (age < 18 or vip = true)"#, true),
    ] {
        assert_eq!(is_in(text, &t, &[], now), expected, "{text}");
    }
}
