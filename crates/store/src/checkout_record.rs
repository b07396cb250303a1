//! The record a checkout keeps: typed and versioned, so refunds, points,
//! teams and the lost-order sweep read fields, never the answer the caller
//! was given. Stored as JSON with every email and phone sealed, like every
//! stored payload (`PiiCipher::seal_json`).
//!
//! Version 1 was the HTTP answer itself; [`CheckoutRecord::from_answer`]
//! reads one (the store rewrites old rows at open).

use beacon_core::Currency;
use beacon_core::money::parse_minor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version written now.
pub const CHECKOUT_RECORD_VERSION: u32 = 2;

/// What a checkout committed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckoutRecord {
    /// Always first in the stored JSON (the upgrade at open looks for it).
    pub version: u32,
    /// The order it placed, as its `Order Completed` event is written
    /// (none only in a version 1 record that kept none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<PlacedOrder>,
    /// The cart's lines as priced: what each promotion took off each.
    pub lines: Vec<RecordLine>,
    /// The group-buy team it opened or joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// Points redeemed: (lot, points) taken from each lot.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub points_takes: Vec<(String, i64)>,
    /// The answer the caller was given, answered again to a retry of the
    /// same idempotency key; never read for data.
    pub answer: Value,
}

/// An order placed by a checkout. Amounts are exact decimals in `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedOrder {
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anonymous_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub currency: String,
    pub total: String,
    pub discount: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping: Option<String>,
    /// The codes used, comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coupon: Option<String>,
    /// The cart's lines at their unit prices, then gifts at zero.
    pub products: Vec<PlacedProduct>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlacedProduct {
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub price: String,
    pub quantity: i64,
}

/// One cart line as priced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordLine {
    pub product_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    pub quantity: i64,
    /// (promotion, minor units) in the order they applied.
    #[serde(default)]
    pub allocations: Vec<(String, i64)>,
}

impl PlacedOrder {
    /// The order in the shape `POST /api/v1/orders` takes.
    pub fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

impl CheckoutRecord {
    /// The stored JSON.
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a stored record of any version.
    pub fn parse(text: &str) -> Result<CheckoutRecord, String> {
        let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        match v.get("version") {
            Some(_) => serde_json::from_value(v).map_err(|e| format!("checkout record: {e}")),
            None => Self::from_answer(v),
        }
    }

    /// A version 1 record: the answer `POST /api/v1/orders` gave.
    pub fn from_answer(answer: Value) -> Result<CheckoutRecord, String> {
        let order: Option<PlacedOrder> = match &answer["order"] {
            Value::Null => None,
            v => Some(serde_json::from_value(v.clone()).map_err(|e| format!("checkout answer's order: {e}"))?),
        };
        let products = order.as_ref().map_or(&[][..], |o| &o.products[..]);
        let pricing = &answer["pricing"];
        let exponent = pricing["currency"].as_str().and_then(Currency::parse).map_or(2, |c| c.exponent);
        let minor = |v: &Value| v.as_str().and_then(|s| parse_minor(s, exponent).ok()).unwrap_or(0);
        let lines = pricing["lines"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, l)| RecordLine {
                product_id: l["product_id"].as_str().unwrap_or("").to_string(),
                sku: products.get(i).and_then(|p| p.sku.clone()),
                quantity: l["quantity"].as_i64().unwrap_or(0),
                allocations: l["allocations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| (a["promotion"].as_str().unwrap_or("").to_string(), minor(&a["amount"])))
                    .collect(),
            })
            .collect();
        let points_takes = serde_json::from_value(answer["points_takes"].clone()).unwrap_or_default();
        Ok(CheckoutRecord {
            version: CHECKOUT_RECORD_VERSION,
            team: answer["group_buy"]["id"].as_str().map(str::to_string),
            order,
            lines,
            points_takes,
            answer,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v1() -> Value {
        json!({
            "order_id": "A-1", "placed_at": "2026-11-11T00:00:00Z", "profile_id": null,
            "order": {"order_id": "A-1", "user_id": "u-1", "email": "lilei@example.com",
                "placed_at": "2026-11-11T00:00:00Z", "currency": "CNY", "total": "156.00", "discount": "20.00",
                "coupon": "NEW10", "products": [{"product_id": "tea", "sku": "TEA-1", "price": "88.00", "quantity": 2}]},
            "pricing": {"currency": "CNY", "lines": [{"product_id": "tea", "quantity": 2,
                "allocations": [{"promotion": "mj", "amount": "10.00"}, {"promotion": "new10", "amount": "10.00"}]}]},
            "group_buy": {"id": "TABC"},
            "points_takes": [["order:x", 100]],
        })
    }

    #[test]
    fn a_version_1_answer_reads_as_a_typed_record() {
        let r = CheckoutRecord::parse(&v1().to_string()).expect("v1");
        assert_eq!(r.version, CHECKOUT_RECORD_VERSION);
        let order = r.order.as_ref().expect("order");
        assert_eq!(order.email.as_deref(), Some("lilei@example.com"));
        assert_eq!(order.products[0].sku.as_deref(), Some("TEA-1"));
        assert_eq!(
            r.lines,
            [RecordLine {
                product_id: "tea".into(),
                sku: Some("TEA-1".into()),
                quantity: 2,
                allocations: vec![("mj".into(), 1000), ("new10".into(), 1000)],
            }]
        );
        assert_eq!(r.team.as_deref(), Some("TABC"));
        assert_eq!(r.points_takes, [("order:x".to_string(), 100)]);
        assert_eq!(r.answer, v1(), "the answer is kept as given");
    }

    #[test]
    fn a_record_round_trips_and_starts_with_its_version() {
        let r = CheckoutRecord::parse(&v1().to_string()).expect("v1");
        let text = r.to_text();
        assert!(text.starts_with("{\"version\":2,"), "{text}");
        assert_eq!(CheckoutRecord::parse(&text), Ok(r.clone()));
        let map = r.order.as_ref().map(PlacedOrder::to_map).unwrap_or_default();
        assert_eq!(map["total"], json!("156.00"));
        assert!(!map.contains_key("shipping"), "absent fields are left out");
    }

    #[test]
    fn an_old_answer_without_an_order_keeps_none_and_a_bad_one_is_refused() {
        assert_eq!(CheckoutRecord::parse(r#"{"order_id":"x"}"#).map(|r| r.order), Ok(None));
        assert!(CheckoutRecord::parse(r#"{"order":{"order_id":1}}"#).is_err());
        assert!(CheckoutRecord::parse("not json").is_err());
    }
}
