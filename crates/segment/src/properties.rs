//! The properties of an event a segment can filter on, as the store keeps
//! them beside the event: its top-level values that are text (up to
//! [`MAX_TEXT`] characters), numbers, true or false, or lists of those (up
//! to [`MAX_ITEMS`] items). Nested objects (a `products` list of lines) are
//! the orders' business; nulls say nothing.

use serde_json::{Map, Value};

/// Longest text kept, in characters.
pub const MAX_TEXT: usize = 256;
/// Most items of a list kept.
pub const MAX_ITEMS: usize = 32;

/// The properties kept of `properties` (the JSON text of an event's
/// `properties` object), as compact JSON; `None` when none are kept or the
/// text is not an object.
pub fn kept(properties: &str) -> Option<String> {
    let map: Map<String, Value> = serde_json::from_str(properties).ok()?;
    let kept: Map<String, Value> = map.into_iter().filter(|(_, v)| keeps(v, true)).collect();
    (!kept.is_empty()).then(|| Value::Object(kept).to_string())
}

fn keeps(v: &Value, top: bool) -> bool {
    match v {
        Value::String(s) => s.chars().count() <= MAX_TEXT,
        Value::Number(_) | Value::Bool(_) => true,
        Value::Array(items) => top && items.len() <= MAX_ITEMS && items.iter().all(|i| keeps(i, false)),
        Value::Null | Value::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_a_filter_can_read() {
        let long = "x".repeat(MAX_TEXT + 1);
        let text = serde_json::json!({
            "category": "鞋", "price": 129.5, "sale": true, "tags": ["a", 1], "none": null,
            "products": [{"sku": "s"}], "nested": {"a": 1}, "long": long, "deep": [["a"]]
        })
        .to_string();
        let kept: Value = serde_json::from_str(&kept(&text).expect("kept")).expect("json");
        assert_eq!(kept, serde_json::json!({"category": "鞋", "price": 129.5, "sale": true, "tags": ["a", 1]}));
        for none in ["{}", "[1]", "{\"a\": null}", "not json"] {
            assert_eq!(super::kept(none), None, "{none}");
        }
    }
}
