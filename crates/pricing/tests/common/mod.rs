//! Carts and promotions written as JSON, as a shop would.

#![allow(dead_code)]

use beacon_core::Currency;
use beacon_core::money::parse_minor;
use beacon_pricing::{Cart, Line, Promotion, Spec};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;

pub mod generate;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 11, 12, 0, 0).single().unwrap_or_default()
}

/// `[["tea-1", "茶叶/绿茶", "88.00", 2], …]` or objects with brand/tags.
pub fn cart(lines: Value) -> Cart {
    let lines = lines
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|l| match l {
            Value::Array(a) => Line {
                product_id: a[0].as_str().unwrap_or("").into(),
                sku: None,
                category: a[1].as_str().unwrap_or("").split('/').filter(|s| !s.is_empty()).map(String::from).collect(),
                brand: None,
                tags: Vec::new(),
                unit_price: parse_minor(a[2].as_str().unwrap_or("0"), 2).unwrap_or(0),
                quantity: a[3].as_i64().unwrap_or(1),
            },
            o => Line {
                product_id: o["id"].as_str().unwrap_or("").into(),
                sku: o["sku"].as_str().map(String::from),
                category: o["category"]
                    .as_str()
                    .unwrap_or("")
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect(),
                brand: o["brand"].as_str().map(String::from),
                tags: o["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(String::from)).collect(),
                unit_price: parse_minor(o["price"].as_str().unwrap_or("0"), 2).unwrap_or(0),
                quantity: o["qty"].as_i64().unwrap_or(1),
            },
        })
        .collect();
    Cart::new(Currency::CNY, lines)
}

pub fn promos(specs: Value) -> Vec<Promotion> {
    specs
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|s| Spec::parse(&s.to_string()).and_then(|s| s.compile(Currency::CNY)).expect("valid promotion"))
        .collect()
}

/// Prices and returns the explanation as JSON.
pub fn price(lines: Value, specs: Value) -> Value {
    beacon_pricing::price(&cart(lines), &promos(specs), now()).to_json()
}

/// (applied ids and amounts), for short assertions.
pub fn applied(v: &Value) -> Vec<(String, String)> {
    v["applied"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| (a["id"].as_str().unwrap_or("").into(), a["amount"].as_str().unwrap_or("").into()))
        .collect()
}

pub fn rejected(v: &Value) -> Vec<(String, String)> {
    v["rejected"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| (r["id"].as_str().unwrap_or("").into(), r["reason"]["code"].as_str().unwrap_or("").into()))
        .collect()
}
