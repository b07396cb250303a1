//! Fuzzing the three ways input gets in (proptest, run briefly in CI: 300
//! cases each, `PROPTEST_CASES` for more): the ingest parser, the cart, and
//! the promotion spec with the pricing engine behind it. Inputs are JSON of
//! the right shape with wrong, odd and extreme values in every place, and
//! byte-level mutations of good messages. Whatever comes in: no panic, a
//! refusal is a client error with a stable code (never `internal`), and
//! what is accepted holds together.

use beacon_core::message::{Envelope, validate};
use beacon_core::{Currency, ErrorCode};
use beacon_pricing::{Cart, Line, Spec, price};
use beacon_server::app::checkout::CartRequest;
use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(300)
}

/// Values that break parsers: wrong types, extremes, odd text.
fn odd_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_filter("JSON has no NaN", |f| f.is_finite()).prop_map(|f| json!(f)),
        Just(json!(u64::MAX)),
        Just(json!(-0.0)),
        Just(json!(1e308)),
        prop_oneof![
            Just(""),
            Just("0"),
            Just("-1"),
            Just("1e400"),
            Just("12.345"),
            Just("NaN"),
            Just("1970-01-01T00:00:00Z"),
            Just("9999-12-31T23:59:59Z"),
            Just("2026-02-30T00:00:00Z"),
            Just("not a time"),
            Just("a@b"),
            Just("+86 138 0013 8000"),
            Just("\u{0}\u{7}\u{202e}"),
            Just("满150减20"),
        ]
        .prop_map(|s| json!(s)),
        "\\PC{0,40}".prop_map(Value::String),
    ]
}

/// JSON whose objects use `keys` (and a few others), nested a little.
fn shaped(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    odd_scalar().prop_recursive(3, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(keys), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Map<_, _>>())),
        ]
    })
}

const MESSAGE_KEYS: &[&str] = &[
    "type",
    "userId",
    "anonymousId",
    "messageId",
    "timestamp",
    "sentAt",
    "originalTimestamp",
    "event",
    "name",
    "traits",
    "properties",
    "context",
    "integrations",
    "previousId",
    "groupId",
    "email",
    "phone",
    "products",
    "order_id",
    "total",
    "price",
    "quantity",
    "currency",
    "product_id",
    "device",
    "id",
    "openid",
    "unionid",
];
const CART_KEYS: &[&str] = &[
    "lines",
    "product_id",
    "sku",
    "price",
    "quantity",
    "category",
    "tags",
    "brand",
    "user_id",
    "profile_id",
    "anonymous_id",
    "email",
    "phone",
    "coupons",
    "shipping",
    "currency",
    "points",
    "group_buy",
    "at",
    "tier",
];
const SPEC_KEYS: &[&str] = &[
    "id",
    "name",
    "status",
    "reward",
    "type",
    "tiers",
    "min",
    "amount_off",
    "percent_off",
    "amount",
    "percent",
    "limits",
    "counter",
    "limit",
    "scope",
    "coupon",
    "codes",
    "pattern",
    "starts_at",
    "ends_at",
    "min_spend",
    "target",
    "products",
    "categories",
    "buy",
    "get",
    "priority",
    "stacking",
    "not_with",
    "group",
    "budget",
    "currency",
    "max_discount",
    "quantity",
    "price",
    "valid_days",
    "claimable",
];

/// Every place in `v` (objects' values, arrays' items), as paths.
fn places(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            at.push(k.clone());
            out.push(at.clone());
            places(c, at, out);
            at.pop();
        }),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, c)| {
            at.push(i.to_string());
            out.push(at.clone());
            places(c, at, out);
            at.pop();
        }),
        _ => {}
    }
}

/// A good document with a few of its places replaced by odd values or
/// removed: mostly still the right shape, so the checks behind the first
/// ones run too.
fn mutated(goods: Vec<Value>) -> impl Strategy<Value = Value> {
    (
        prop::sample::select(goods),
        prop::collection::vec((any::<prop::sample::Index>(), odd_scalar(), any::<bool>()), 0..4),
    )
        .prop_map(|(mut doc, edits)| {
            for (at, odd, remove) in edits {
                let mut all = Vec::new();
                places(&doc, &mut Vec::new(), &mut all);
                if all.is_empty() {
                    break;
                }
                let path = &all[at.index(all.len())];
                let (last, parent) = path.split_last().expect("a path has a last step");
                let mut node = &mut doc;
                for step in parent {
                    node = match node {
                        Value::Object(m) => m.get_mut(step).expect("a place"),
                        Value::Array(items) => &mut items[step.parse::<usize>().expect("an index")],
                        _ => unreachable!("places are in containers"),
                    };
                }
                match node {
                    Value::Object(m) if remove => {
                        m.remove(last);
                    }
                    Value::Object(m) => {
                        m.insert(last.clone(), odd);
                    }
                    Value::Array(items) => items[last.parse::<usize>().expect("an index")] = odd,
                    _ => {}
                }
            }
            doc
        })
}

fn good_messages() -> Vec<Value> {
    vec![
        json!({"type": "track", "userId": "u-1", "messageId": "m-1", "event": "Order Completed",
               "timestamp": "2026-12-06T07:00:00Z", "properties": {"order_id": "A-1", "total": "9.90", "currency": "CNY",
               "products": [{"product_id": "p", "price": "9.90", "quantity": 1}]}}),
        json!({"type": "identify", "anonymousId": "a-1", "userId": "u-1", "traits": {"email": "a@example.com",
               "phone": "13800138000", "name": "李雷"}, "context": {"device": {"id": "d-1"}, "traits": {"openid": "o"}}}),
        json!({"type": "track", "userId": "u-1", "event": "Order Refunded", "properties": {"order_id": "A-1",
               "products": [{"product_id": "p", "quantity": 1}]}, "sentAt": "2026-12-06T07:00:01Z"}),
        json!({"type": "alias", "previousId": "a-1", "userId": "u-1"}),
        json!({"type": "page", "anonymousId": "a-1", "name": "Home", "properties": {"url": "https://shop.example.cn/"}}),
    ]
}

fn good_carts() -> Vec<Value> {
    vec![
        json!({"user_id": "u-1", "coupons": ["NEW10"], "lines": [{"product_id": "TEA-1", "price": "88.00", "quantity": 2,
               "category": "茶叶/绿茶"}], "shipping": "10.00"}),
        json!({"anonymous_id": "a-1", "email": "a@example.com", "lines": [{"sku": "S-1", "price": "0.01", "quantity": 999}],
               "points": 100, "group_buy": {"promotion": "pt", "team": "team-1"}}),
    ]
}

fn good_specs() -> Vec<Value> {
    vec![
        json!({"id": "mj", "name": "满150减20", "status": "active",
               "reward": {"type": "tiers", "tiers": [{"min": "150", "amount_off": "20"}, {"min": "300", "amount_off": "50"}]}}),
        json!({"id": "new10", "name": "新人券", "status": "active", "coupon": "NEW10", "reward": {"type": "amount_off", "amount": "10"},
               "limits": [{"counter": "redemptions", "limit": 100}, {"counter": "redemptions", "limit": 1, "scope": "identity"}]}),
        json!({"id": "pct", "name": "九折", "status": "active", "min_spend": "100",
               "reward": {"type": "percent_off", "percent": "10"}}),
        json!({"id": "b2g1", "name": "买二送一", "status": "active",
               "reward": {"type": "buy_x_get_y", "buy": 2, "get": 1}}),
    ]
}

fn envelope_check(raw: &str) -> Result<(), TestCaseError> {
    let Ok(raw) = serde_json::from_str::<Box<serde_json::value::RawValue>>(raw) else { return Ok(()) };
    let id = || "generated".to_string();
    let received_at = Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).single().expect("time");
    let rules = beacon_core::extract::IdentityRules::default();
    for live in [true, false] {
        let env =
            Envelope { received_at, sent_at: None, kind: None, generated_id: &id, live, identities: Some(&rules) };
        match validate(&raw, &env) {
            Ok(m) => {
                prop_assert!(!m.message_id.is_empty());
                let v: Value = serde_json::from_str(&m.payload).expect("an accepted message is JSON");
                // (a number is taken as its text, as Segment's API does)
                let named = ["userId", "anonymousId"]
                    .iter()
                    .any(|k| v[k].as_str().is_some_and(|s| !s.trim().is_empty()) || v[k].is_number());
                prop_assert!(named, "accepted without a user or anonymous id: {}", m.payload);
            }
            Err(e) => prop_assert_ne!(e.code, ErrorCode::Internal, "{}", e.message),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn ingest_takes_any_message_shape(v in shaped(MESSAGE_KEYS), m in mutated(good_messages())) {
        envelope_check(&v.to_string())?;
        envelope_check(&m.to_string())?;
    }

    #[test]
    fn ingest_takes_any_mutation_of_a_good_message(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 1..6),
    ) {
        let good = json!({"type": "track", "userId": "u-1", "messageId": "m-1", "event": "Order Completed",
            "timestamp": "2026-12-06T07:00:00Z", "properties": {"order_id": "A-1", "total": "9.90",
            "products": [{"product_id": "p", "price": "9.90", "quantity": 1}]},
            "context": {"traits": {"email": "a@example.com", "phone": "13800138000"}}}).to_string();
        let mut bytes = good.into_bytes();
        for (at, byte, how) in edits {
            let i = at.index(bytes.len().max(1));
            match how {
                0 if i < bytes.len() => bytes[i] = byte,
                1 => bytes.insert(i.min(bytes.len()), byte),
                _ if i < bytes.len() => { bytes.remove(i); }
                _ => {}
            }
        }
        if let Ok(text) = String::from_utf8(bytes) {
            envelope_check(&text)?;
        }
    }

    #[test]
    fn a_cart_of_anything_is_read_or_refused(v in shaped(CART_KEYS), m in mutated(good_carts())) {
        for cart in [v, m] {
            if let Err(e) = CartRequest::from_json(cart, "cart") {
                prop_assert_ne!(e.code, ErrorCode::Internal, "{}", e.message);
            }
        }
    }

    #[test]
    fn a_promotion_of_anything_is_refused_or_prices_carts(
        v in prop_oneof![shaped(SPEC_KEYS), mutated(good_specs()), mutated(good_specs())],
        qty in 1..5i64,
        cents in 0..50_000i64,
    ) {
        let compiled = Spec::parse(&v.to_string()).and_then(|s| s.compile(Currency::CNY));
        match compiled {
            Err(e) => prop_assert_ne!(e.code, ErrorCode::Internal, "{}", e.message),
            Ok(promotion) => {
                let line = |id: &str| Line { product_id: id.into(), sku: None, category: vec!["茶叶".into()],
                    brand: None, tags: Vec::new(), unit_price: cents, quantity: qty };
                let cart = Cart::new(Currency::CNY, vec![line("p"), line("q")]);
                let now = Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).single().expect("time");
                let priced = price(&cart, std::slice::from_ref(&promotion), now);
                prop_assert!(priced.discount >= 0 && priced.discount <= priced.subtotal, "{priced:?}");
                prop_assert!(priced.total >= 0, "{priced:?}");
            }
        }
    }
}

/// The documents the mutations start from are good ones: what follows the
/// first checks is reached.
#[test]
fn the_documents_mutated_are_good_ones() {
    for spec in good_specs() {
        let compiled = Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY));
        assert!(compiled.is_ok(), "{spec}: {:?}", compiled.err());
    }
    for cart in good_carts() {
        let read = CartRequest::from_json(cart.clone(), "cart");
        assert!(read.is_ok(), "{cart}: {:?}", read.err());
    }
    let id = || "generated".to_string();
    let received_at = Utc.with_ymd_and_hms(2026, 12, 6, 8, 0, 0).single().expect("time");
    for m in good_messages() {
        let env = Envelope { received_at, sent_at: None, kind: None, generated_id: &id, live: false, identities: None };
        let raw = serde_json::value::to_raw_value(&m).expect("raw");
        assert!(validate(&raw, &env).is_ok(), "{m}");
    }
}
