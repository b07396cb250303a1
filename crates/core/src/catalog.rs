//! The shop's catalog: what a product is, how one is read from the API or a
//! file (every field checked, unknown fields refused), and what changed
//! between two versions (for the audit log).

use crate::error::{Error, ErrorCode};
use crate::money::{Currency, Money, parse_minor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductStatus {
    OnShelf,
    OffShelf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Draft,
    Pending,
    Approved,
}

/// A product as the catalog keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// The shop's own id (what `product_id` in events refers to).
    pub product_id: String,
    pub sku: Option<String>,
    /// Any language.
    pub name: String,
    /// From the root: `["茶叶", "绿茶"]`.
    pub category: Vec<String>,
    pub brand: Option<String>,
    pub tags: Vec<String>,
    /// The list price.
    pub price: Money,
    pub stock: i64,
    pub status: ProductStatus,
    pub review_status: ReviewStatus,
    pub attributes: Map<String, Value>,
}

/// Fields a product may have.
pub const FIELDS: &[&str] = &[
    "product_id",
    "sku",
    "name",
    "category",
    "brand",
    "tags",
    "price",
    "currency",
    "stock",
    "status",
    "review_status",
    "attributes",
];

const MAX_TEXT: usize = 500;
const MAX_TAGS: usize = 50;
const MAX_DEPTH: usize = 8;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidProduct, message)
}

fn text(v: Option<&Value>, field: &str) -> Result<Option<String>, Error> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.len() > MAX_TEXT {
                return Err(invalid(format!("{field} is longer than {MAX_TEXT} bytes")));
            }
            if s.chars().any(char::is_control) {
                return Err(invalid(format!("{field} contains a control character")));
            }
            Ok(Some(s.to_string()).filter(|s| !s.is_empty()))
        }
        Some(Value::Number(n)) if field.ends_with("id") || field == "sku" => Ok(Some(n.to_string())),
        Some(_) => Err(invalid(format!("{field} must be a string"))),
    }
}

fn category(v: Option<&Value>) -> Result<Vec<String>, Error> {
    let parts: Vec<String> = match v {
        None | Some(Value::Null) => return Ok(Vec::new()),
        // "茶叶/绿茶" or "Tea > Green"
        Some(Value::String(s)) => s.split(['/', '>']).map(|p| p.trim().to_string()).collect(),
        Some(Value::Array(items)) => {
            items.iter().map(|i| text(Some(i), "category").map(Option::unwrap_or_default)).collect::<Result<_, _>>()?
        }
        Some(_) => return Err(invalid("category must be a path (\"Tea/Green\") or an array of names")),
    };
    if parts.iter().any(|p| p.is_empty() || p.chars().any(char::is_control) || p.len() > MAX_TEXT) {
        return Err(invalid("category has an empty or invalid name in its path"));
    }
    if parts.len() > MAX_DEPTH {
        return Err(invalid(format!("category is deeper than {MAX_DEPTH} levels")));
    }
    Ok(parts)
}

/// Reads a product from its JSON form. `currency` applies when none is given.
pub fn parse_product(input: &Map<String, Value>, currency: Currency) -> Result<Product, Error> {
    if let Some(unknown) = input.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("unknown field {unknown:?}; the fields are {}", FIELDS.join(", "))));
    }
    let product_id = text(input.get("product_id"), "product_id")?.ok_or_else(|| invalid("product_id is required"))?;
    if product_id.contains('/') {
        return Err(invalid("product_id must not contain '/'"));
    }
    let name = text(input.get("name"), "name")?.ok_or_else(|| invalid("name is required"))?;
    let currency = match input.get("currency") {
        None | Some(Value::Null) => currency,
        Some(Value::String(c)) => {
            Currency::parse(c).ok_or_else(|| invalid(format!("currency {c:?} is not an ISO-4217 code such as CNY")))?
        }
        Some(_) => return Err(invalid("currency must be a string such as CNY")),
    };
    let price_text = match input.get("price") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) => return Err(invalid("price is required")),
        Some(_) => return Err(invalid("price must be a decimal number or string")),
    };
    let minor = parse_minor(&price_text, currency.exponent).map_err(|e| invalid(format!("price: {e}")))?;
    if minor < 0 {
        return Err(invalid("price must not be negative"));
    }
    let stock = match input.get("stock") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => {
            n.as_i64().filter(|s| *s >= 0).ok_or_else(|| invalid("stock must be a whole number ≥ 0"))?
        }
        Some(Value::String(s)) => s
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|s| *s >= 0)
            .ok_or_else(|| invalid("stock must be a whole number ≥ 0"))?,
        Some(_) => return Err(invalid("stock must be a whole number ≥ 0")),
    };
    let tags = match input.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut tags = items
                .iter()
                .map(|t| text(Some(t), "tags").map(Option::unwrap_or_default))
                .collect::<Result<Vec<_>, _>>()?;
            tags.retain(|t| !t.is_empty());
            tags.sort();
            tags.dedup();
            tags
        }
        // "a,b" from a CSV
        Some(Value::String(s)) => {
            let mut tags: Vec<String> = s.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect();
            tags.sort();
            tags.dedup();
            tags
        }
        Some(_) => return Err(invalid("tags must be an array of strings")),
    };
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!("at most {MAX_TAGS} tags")));
    }
    let choice = |field: &str, default: &str| -> Result<String, Error> {
        Ok(text(input.get(field), field)?.unwrap_or_else(|| default.to_string()))
    };
    let status = match choice("status", "on_shelf")?.as_str() {
        "on_shelf" => ProductStatus::OnShelf,
        "off_shelf" => ProductStatus::OffShelf,
        other => return Err(invalid(format!("status {other:?} must be on_shelf or off_shelf"))),
    };
    let review_status = match choice("review_status", "approved")?.as_str() {
        "draft" => ReviewStatus::Draft,
        "pending" => ReviewStatus::Pending,
        "approved" => ReviewStatus::Approved,
        other => return Err(invalid(format!("review_status {other:?} must be draft, pending or approved"))),
    };
    let attributes = match input.get("attributes") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("attributes must be an object")),
    };
    Ok(Product {
        product_id,
        sku: text(input.get("sku"), "sku")?,
        name,
        category: category(input.get("category"))?,
        brand: text(input.get("brand"), "brand")?,
        tags,
        price: Money { minor, currency },
        stock,
        status,
        review_status,
        attributes,
    })
}

impl Product {
    /// The JSON form (what [`parse_product`] reads back).
    pub fn to_json(&self) -> Value {
        json!({
            "product_id": self.product_id,
            "sku": self.sku,
            "name": self.name,
            "category": self.category.join("/"),
            "category_path": self.category,
            "brand": self.brand,
            "tags": self.tags,
            "price": self.price.to_decimal_string(),
            "currency": self.price.currency.code(),
            "stock": self.stock,
            "status": serde_json::to_value(self.status).unwrap_or(Value::Null),
            "review_status": serde_json::to_value(self.review_status).unwrap_or(Value::Null),
            "attributes": self.attributes,
        })
    }
}

/// The fields that differ between two versions: (before, after), each an
/// object of just those fields; `None` if nothing changed.
pub fn diff(before: &Product, after: &Product) -> Option<(Value, Value)> {
    let (a, b) = (before.to_json(), after.to_json());
    let (Value::Object(a), Value::Object(b)) = (a, b) else { return None };
    let mut old = Map::new();
    let mut new = Map::new();
    for (key, value) in &b {
        if key == "category_path" {
            continue;
        }
        if a.get(key) != Some(value) {
            old.insert(key.clone(), a.get(key).cloned().unwrap_or(Value::Null));
            new.insert(key.clone(), value.clone());
        }
    }
    (!new.is_empty()).then(|| (Value::Object(old), Value::Object(new)))
}

#[cfg(test)]
#[path = "catalog_tests.rs"]
mod tests;
