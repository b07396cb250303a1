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
    matches(&c, &Facts::new(&traits, events, now))
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

fn order(days_ago: i64, net: &str, lines: &[(&str, &str, &str)], now: DateTime<Utc>) -> OrderFact {
    OrderFact {
        at: now - Duration::days(days_ago),
        net: net.into(),
        coupon: None,
        lines: lines
            .iter()
            .map(|(p, c, b)| LineFact {
                product_id: Some((*p).into()),
                category: Some((*c).into()),
                brand: Some((*b).into()),
            })
            .collect(),
    }
}

#[test]
fn orders_purchases_identities_tags_and_buckets() {
    let now = at("2026-12-06T12:00:00Z");
    let orders = vec![
        order(5, "0.10", &[("P1", "鞋/跑鞋", "Nike")], now),
        order(40, "0.20", &[("P2", "茶叶/绿茶", "西湖")], now),
        order(200, "999.70", &[("P3", "鞋子", "Adidas")], now),
    ];
    let traits = Map::new();
    let kinds = ["phone".to_string(), "openid".to_string()];
    let tags = ["高价值".to_string()];
    let facts = Facts {
        profile_id: "01a24b9d-0000-7000-8000-000000000001",
        orders: &orders,
        identities: &kinds,
        tags: &tags,
        ..Facts::new(&traits, &[], now)
    };
    let is = |text: &str| matches(&parse(text).unwrap_or_else(|e| panic!("{text}: {e}")), &facts);
    // 0.1 + 0.2 is 0.3 here
    assert!(is("net_spend = 0.3 within 90d"));
    assert!(is("net_spend = 1000 and order_count = 3"));
    assert!(is("average_order > 333.33 and average_order < 333.34"), "1000 / 3");
    assert!(!is("average_order >= 0 within 1d"), "no orders: no average");
    assert!(is("order_count = 0 within 1d"));
    assert!(is(r#"bought category "鞋" within 30d"#), "鞋/跑鞋 is below 鞋");
    assert!(!is(r#"bought category "鞋" within 4d"#));
    assert!(!is(r#"bought category "鞋子/跑鞋""#));
    assert!(is(r#"bought category "鞋子""#), "鞋子 is not below 鞋, but is itself");
    assert!(is(r#"bought brand "西湖" and bought product "P3""#));
    assert!(!is(r#"bought product "P3" within 180d"#));
    assert!(is("has phone and has openid and not has email"));
    assert!(is(r#"tag "高价值" and not tag "流失风险""#));
    let b = bucket(facts.profile_id);
    assert!(b < 100);
    assert!(is(&format!("bucket = {b}")) && !is(&format!("bucket < {b}")));
    assert!(!is(r#"in segment "vip" or consent "sms""#));
}

#[test]
fn first_and_last_times_and_relative_dates() {
    let now = at("2026-12-06T12:00:00Z");
    let events = vec![
        event("App Opened", now - Duration::days(45), json!({})),
        event("App Opened", now - Duration::days(40), json!({})),
        event("Signed Up", now - Duration::days(3), json!({})),
    ];
    let t = json!({"signed_up_at": "2026-12-03T08:00:00Z", "birthday": "1990-12-10", "leap": "2000-02-29",
                   "created": "2026-01-01"});
    for (text, expected) in [
        (r#"first performed "Signed Up" within 7d"#, true),
        (r#"first performed "App Opened" within 42d"#, false),
        (r#"last performed "App Opened" before 30d"#, true),
        (r#"last performed "App Opened" before 41d"#, false),
        (r#"last performed "Never Done" before 1d"#, false),
        ("signed_up_at within 7d", true),
        ("signed_up_at within 3d", false),
        ("birthday upcoming 5d", true),
        ("birthday upcoming 4d", false),
        ("created within 30d", false),
        ("nothing within 30d", false),
    ] {
        assert_eq!(is_in(text, &t, &events, now), expected, "{text}");
    }
    // 29 February, in a year without one, on the 28th
    let feb = at("2027-02-27T12:00:00Z");
    assert!(is_in("leap upcoming 2d", &t, &[], feb));
    assert!(!is_in("leap upcoming 1d", &t, &[], feb));
}

#[test]
fn an_explanation_says_which_condition_failed_and_on_what_figure() {
    let now = at("2026-12-06T12:00:00Z");
    let views: Vec<EventFact> =
        (1..=2).map(|d| event("Product Viewed", now - Duration::days(d), json!({"category": "鞋"}))).collect();
    let orders = vec![order(3, "100.00", &[], now), order(4, "76.01", &[], now)];
    let traits = json!({"city": "上海"}).as_object().cloned().unwrap_or_default();
    let facts = Facts { orders: &orders, ..Facts::new(&traits, &views, now) };
    let c = parse(r#"city = "上海" and performed "Product Viewed" >= 3 within 30d and not average_order < 88"#)
        .expect("parses");
    let e = explain(&c, &facts);
    assert!(!e.holds);
    let parts: Vec<(bool, Option<&str>)> = e.parts.iter().map(|p| (p.holds, p.figure.as_deref())).collect();
    assert_eq!(parts, [(true, None), (false, Some("counted 2")), (true, None)], "{e:#?}");
    assert_eq!(e.parts[2].parts[0].figure.as_deref(), Some("average_order 88.00"), "176.01 / 2, shown rounded down");
    assert!(!e.parts[2].parts[0].holds, "88.005 is not under 88");
    assert_eq!(
        serde_json::to_value(&e).expect("json")["parts"][1]["condition"],
        r#"performed "Product Viewed" >= 3 within 30d"#
    );
}
