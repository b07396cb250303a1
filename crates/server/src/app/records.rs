//! The log records of orders: an order in the shape `POST /api/v1/orders`
//! takes (and the checkout records), written as the `Order Completed` event
//! ingest would accept; the refunds the server itself decides on.

use beacon_core::ErrorCode;
use beacon_core::message::{self, Envelope, MessageKind};
use chrono::Utc;
use serde_json::{Map, Value, json};

/// The source orders posted through the API (and placed by checkouts) are
/// deduplicated under.
pub const ORDERS_SOURCE: &str = "api:orders";

/// Fields an order posted here may have.
pub const FIELDS: &[&str] = &[
    "order_id",
    "user_id",
    "anonymous_id",
    "email",
    "phone",
    "placed_at",
    "currency",
    "total",
    "revenue",
    "discount",
    "shipping",
    "coupon",
    "products",
];

/// A recorded order's own figures must agree: its products (if it lists
/// them: an order of totals only, from a till or an old system, lists
/// none) are not an empty list, each at least one unit; and when every
/// product has a price and the order a total, the products less the
/// discount plus shipping make that total.
fn check_figures(order: &Map<String, Value>, shop: beacon_core::Currency) -> Result<(), beacon_core::Error> {
    use beacon_core::commerce::{CommerceEvent, CommerceKind};
    let invalid = |m: String| beacon_core::Error::new(ErrorCode::InvalidOrder, m);
    let Some(products) = order.get("products").and_then(Value::as_array) else { return Ok(()) };
    if products.is_empty() {
        return Err(invalid("an order needs products: [{\"product_id\", \"quantity\", \"price\"}, …]".into()));
    }
    if let Some(i) = products.iter().position(|p| p.get("quantity").is_some_and(|q| q.as_i64() == Some(0))) {
        return Err(invalid(format!("products[{i}].quantity must be at least 1")));
    }
    let priced = products.iter().all(|p| p.get("price").is_some_and(|v| !v.is_null()));
    if !priced || order.get("total").is_none_or(Value::is_null) {
        return Ok(());
    }
    let props = serde_json::value::to_raw_value(&properties(order)).map_err(|e| invalid(e.to_string()))?;
    let CommerceEvent::Completed(o) =
        beacon_core::commerce::parse_properties(CommerceKind::OrderCompleted, Some(&props), shop)?
    else {
        return Ok(());
    };
    let exp = o.currency.exponent;
    let shipping = match order.get("shipping") {
        Some(Value::String(s)) => beacon_core::money::parse_minor(s, exp).ok(),
        Some(Value::Number(n)) => beacon_core::money::parse_minor(&n.to_string(), exp).ok(),
        _ => Some(0),
    }
    .ok_or_else(|| invalid("shipping must be an amount such as \"10.00\"".into()))?;
    let gross: i64 = o.lines.iter().map(|l| l.price_minor.saturating_mul(l.quantity)).fold(0, i64::saturating_add);
    let expected = gross.saturating_sub(o.discount_minor).saturating_add(shipping);
    if expected != o.total_minor {
        let money = |minor| beacon_core::Money { minor, currency: o.currency }.to_decimal_string();
        return Err(invalid(format!(
            "the products ({}) less the discount ({}) plus shipping ({}) make {}, not the total {}",
            money(gross),
            money(o.discount_minor),
            money(shipping),
            money(expected),
            money(o.total_minor)
        ))
        .with_details(json!({"products": money(gross), "discount": money(o.discount_minor),
            "shipping": money(shipping), "expected_total": money(expected), "total": money(o.total_minor)})));
    }
    Ok(())
}

/// The `Order Completed` properties of one posted order.
fn properties(order: &Map<String, Value>) -> Map<String, Value> {
    let keys = ["order_id", "currency", "total", "revenue", "discount", "shipping", "coupon", "products"];
    keys.iter().filter_map(|k| order.get(*k).map(|v| (k.to_string(), v.clone()))).collect()
}

/// The `Order Completed` message for one posted order.
fn order_message(order: &Map<String, Value>) -> Result<String, beacon_core::Error> {
    let invalid = |m: String| beacon_core::Error::new(ErrorCode::InvalidOrder, m);
    if let Some(unknown) = order.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("unknown field {unknown:?}; the fields are {}", FIELDS.join(", "))));
    }
    let mut msg = json!({"type": "track", "event": "Order Completed", "properties": properties(order)});
    let id = match order.get("order_id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = id {
        msg["messageId"] = json!(format!("order:{id}"));
    }
    for (from, to) in [("user_id", "userId"), ("anonymous_id", "anonymousId"), ("placed_at", "timestamp")] {
        if let Some(v) = order.get(from) {
            msg[to] = v.clone();
        }
    }
    let traits: Map<String, Value> =
        ["email", "phone"].iter().filter_map(|k| order.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    if !traits.is_empty() {
        msg["context"] = json!({ "traits": traits });
    }
    Ok(msg.to_string())
}

/// The log record of one order posted in the API's order shape, checked
/// as ingest checks an `Order Completed` event.
pub fn order_record(
    order: &Map<String, Value>,
    received_at: chrono::DateTime<Utc>,
) -> Result<beacon_store::NewLogRecord, beacon_core::Error> {
    let env = Envelope {
        received_at,
        sent_at: None,
        kind: Some(MessageKind::Track),
        generated_id: &super::log::fallback_message_id,
        live: false,
        identities: None,
    };
    let text = order_message(order)?;
    let raw = serde_json::value::RawValue::from_string(text)
        .map_err(|e| beacon_core::Error::new(ErrorCode::InvalidOrder, format!("the order cannot be written: {e}")))?;
    let m = message::validate(&raw, &env).map_err(|mut e| {
        // name the fields as they were posted here, not as the Segment message has them
        e.message = match e.code {
            ErrorCode::MissingIdentity => "user_id or anonymous_id is required".into(),
            ErrorCode::InvalidTimestamp => e.message.replacen("timestamp", "placed_at", 1),
            _ => e.message.replace("userId", "user_id").replace("anonymousId", "anonymous_id"),
        };
        e
    })?;
    Ok(super::log::record(ORDERS_SOURCE, m, received_at))
}

/// The log record of the refund of a checkout's `order` (its fields as
/// `order_record` takes them) that the server decides on (a group-buy team
/// failed); `message_id` makes a retry write it once.
pub fn refund_record(
    order: &Map<String, Value>,
    message_id: &str,
    reason: &str,
    at: chrono::DateTime<Utc>,
) -> Result<beacon_store::NewLogRecord, beacon_core::Error> {
    let mut msg = json!({"type": "track", "event": "Order Refunded", "messageId": message_id, "timestamp": at,
        "properties": {"order_id": order.get("order_id"), "reason": reason}});
    for (from, to) in [("user_id", "userId"), ("anonymous_id", "anonymousId")] {
        if let Some(v) = order.get(from) {
            msg[to] = v.clone();
        }
    }
    let env = Envelope {
        received_at: at,
        sent_at: None,
        kind: Some(MessageKind::Track),
        generated_id: &super::log::fallback_message_id,
        live: false,
        identities: None,
    };
    let raw = serde_json::value::RawValue::from_string(msg.to_string())
        .map_err(|e| beacon_core::Error::new(ErrorCode::InvalidOrder, format!("the refund cannot be written: {e}")))?;
    Ok(super::log::record(ORDERS_SOURCE, message::validate(&raw, &env)?, at))
}

/// Most orders one request may record.
pub const MAX_ORDERS: usize = 1000;

/// An order refused by [`record_orders`]: its place in the request and why.
pub struct Refused {
    pub index: usize,
    pub error: beacon_core::Error,
}

/// Records orders placed elsewhere: each valid one goes into the log as an
/// `Order Completed` event (the processor decides it, once per order id);
/// returns how many were accepted and the refused ones. Nothing is written
/// when no order is valid (`invalid_order`, the refusals in its details).
pub async fn record_orders(
    app: &super::App,
    orders: &[Map<String, Value>],
) -> Result<(usize, Vec<Refused>), beacon_core::Error> {
    if orders.len() > MAX_ORDERS {
        return Err(beacon_core::Error::new(
            ErrorCode::PayloadTooLarge,
            format!("at most {MAX_ORDERS} orders per request"),
        ));
    }
    let received_at = app.now();
    let (mut accepted, mut refused) = (Vec::new(), Vec::new());
    for (index, order) in orders.iter().enumerate() {
        match order_record(order, received_at).and_then(|r| check_figures(order, app.rules.currency).map(|()| r)) {
            Ok(r) => accepted.push(r),
            Err(error) => refused.push(Refused { index, error }),
        }
    }
    if accepted.is_empty() && !refused.is_empty() {
        return Err(beacon_core::Error::new(ErrorCode::InvalidOrder, "no order in the request is valid")
            .with_details(json!({ "rejected": refusals_json(&refused) })));
    }
    let n = accepted.len();
    if n > 0 {
        super::log::append(app, accepted).await?;
    }
    Ok((n, refused))
}

/// The refusals as the API lists them.
pub fn refusals_json(refused: &[Refused]) -> Vec<Value> {
    refused
        .iter()
        .map(|r| {
            let mut v = json!({"index": r.index, "code": r.error.code.as_str(), "message": r.error.message});
            if let Some(details) = &r.error.details {
                v["details"] = details.clone();
            }
            v
        })
        .collect()
}
