//! The bodies the OpenAPI document describes so far (issue 14 grows this
//! until every operation has them): the tracking API's messages and
//! answers, the system routes' answers, and the answers of profiles,
//! timelines, events, orders, keys, the audit log, products, promotions
//! and the daily figures. schemathesis checks every
//! answer against them (`crates/cli/tests/api_fuzz.rs`).

use serde_json::{Value, json};

/// One Segment message, as the tracking API reads it (as Segment does, a
/// null is taken for a field left out).
pub(super) fn message() -> Value {
    let id = json!({"type": ["string", "number", "null"]});
    let text = json!({"type": ["string", "null"]});
    let time = json!({"type": ["string", "null"], "format": "date-time"});
    let object = json!({"type": ["object", "null"]});
    json!({
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["track", "identify", "page", "screen", "group", "alias"]},
            "userId": id, "anonymousId": id, "previousId": id, "groupId": id,
            "messageId": text, "event": text, "name": text,
            "timestamp": time, "sentAt": time, "originalTimestamp": time,
            "properties": object, "traits": object, "context": object, "integrations": object,
            "writeKey": {"type": "string"},
        }
    })
}

/// A batch of messages.
pub(super) fn batch() -> Value {
    let object = json!({"type": ["object", "null"]});
    json!({
        "type": "object",
        "required": ["batch"],
        "properties": {"batch": {"type": "array", "items": message()},
                       "sentAt": {"type": ["string", "null"], "format": "date-time"},
                       "context": object, "integrations": object, "writeKey": {"type": "string"}}
    })
}

/// What an ingest route answers when it took the request: the messages it
/// refused are listed, the rest are stored.
pub(super) fn ingest_answer() -> Value {
    json!({
        "type": "object",
        "required": ["success"],
        "properties": {
            "success": {"const": true},
            "rejected": {"type": "array", "items": {
                "type": "object",
                "required": ["index", "code", "message"],
                "properties": {"index": {"type": "integer", "minimum": 0}, "code": {"type": "string"},
                               "message": {"type": "string"}}
            }}
        }
    })
}

pub(super) fn counted(fields: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> =
        fields.iter().map(|f| (f.to_string(), json!({"type": "integer", "minimum": 0}))).collect();
    json!({"type": "object", "required": fields, "properties": props})
}

pub(super) fn object(required: &[&str], properties: Value) -> Value {
    json!({"type": "object", "required": required, "properties": properties})
}

pub(super) fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

/// A decimal amount as text (`"176.00"`).
pub(super) fn amount() -> Value {
    json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"})
}

pub(super) fn page_of(item: Value) -> Value {
    object(&["items"], json!({"items": {"type": "array", "items": item}, "next_cursor": nullable("string")}))
}

pub(super) fn profile() -> Value {
    let identity = object(&["type", "value"], json!({"type": {"type": "string"}, "value": {"type": "string"}}));
    let money = json!({"anyOf": [{"type": "null"}, object(&["amount", "currency"], json!({"amount": amount(), "currency": {"type": "string"}}))]});
    object(
        &[
            "id",
            "identities",
            "unverified",
            "traits",
            "first_seen",
            "last_seen",
            "event_count",
            "order_count",
            "merges",
        ],
        json!({
            "id": {"type": "string"},
            "identities": {"type": "array", "items": identity},
            "unverified": {"type": "array", "items": identity},
            "traits": {"type": "object"},
            "first_seen": {"type": "string"}, "last_seen": {"type": "string"},
            "event_count": {"type": "integer", "minimum": 0}, "order_count": {"type": "integer", "minimum": 0},
            "first_order_at": nullable("string"), "last_order_at": nullable("string"),
            "total_spend": money, "average_order_value": money,
            "spend_by_currency": {"type": "array", "items": object(&["currency", "orders", "spend"], json!({
                "currency": {"type": "string"}, "orders": {"type": "integer"}, "spend": nullable("string")}))},
            "merges": {"type": "array", "items": object(&["merged_id", "at", "reason", "message_id"], json!({
                "merged_id": {"type": "string"}, "at": {"type": "string"}, "message_id": {"type": "string"},
                "reason": object(&["kind"], json!({"kind": {"enum": ["shared_identity", "alias"]},
                    "identity": identity, "previous_id": {"type": "string"}}))}))},
        }),
    )
}

pub(super) fn event() -> Value {
    object(
        &["seq", "message_id", "type", "profile_id", "timestamp", "received_at", "message"],
        json!({
            "seq": {"type": "integer"}, "message_id": {"type": "string"},
            "type": {"type": "string", "enum": ["track", "identify", "page", "screen", "group", "alias"]},
            "name": nullable("string"), "product": nullable("string"), "profile_id": {"type": "string"},
            "timestamp": {"type": "string"}, "received_at": {"type": "string"}, "message": nullable("object"),
        }),
    )
}

pub(super) fn order() -> Value {
    object(
        &["order_id", "profile_id", "status", "currency", "total", "discount", "refunded", "net", "placed_at", "lines"],
        json!({
            "order_id": {"type": "string"}, "profile_id": {"type": "string"}, "status": {"type": "string"},
            "currency": {"type": "string"}, "total": amount(), "discount": amount(), "refunded": amount(),
            "net": amount(), "coupon": nullable("string"), "placed_at": {"type": "string"},
            "lines": {"type": "array", "items": object(&["product_id", "price", "quantity"], json!({
                "product_id": {"type": "string"}, "price": amount(), "quantity": {"type": "integer"}}))},
        }),
    )
}

pub(super) fn key() -> Value {
    object(
        &["id", "kind", "name", "prefix", "created_at", "revoked_at"],
        json!({
            "id": {"type": "string"}, "kind": {"type": "string", "enum": ["write", "secret"]},
            "name": {"type": "string"}, "prefix": {"type": "string"},
            "created_at": {"type": "string"}, "revoked_at": nullable("string"),
        }),
    )
}

pub(super) fn product() -> Value {
    object(
        &["product_id", "name", "category", "category_path", "tags", "price", "currency", "created_at", "updated_at"],
        json!({
            "product_id": {"type": "string"}, "sku": nullable("string"), "name": {"type": "string"},
            "category": {"type": "string"}, "category_path": {"type": "array", "items": {"type": "string"}},
            "brand": nullable("string"), "tags": {"type": "array", "items": {"type": "string"}},
            "price": amount(), "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "stock": nullable("integer"), "attributes": {"type": "object"},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        }),
    )
}

pub(super) fn promotion() -> Value {
    object(
        &["id", "status", "effective_status", "version", "spec", "created_at", "updated_at"],
        json!({
            "id": {"type": "string"}, "status": {"type": "string"}, "effective_status": nullable("string"),
            "version": {"type": "integer", "minimum": 1}, "spec": {"type": "object"},
            "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        }),
    )
}

/// `schema` with `field` (of `field_schema`) required too.
pub(super) fn with(mut schema: Value, field: &str, field_schema: Value) -> Value {
    if let Some(r) = schema["required"].as_array_mut() {
        r.push(json!(field));
    }
    schema["properties"][field] = field_schema;
    schema
}

/// The schema of an operation's successful answer, if it is described yet.
pub fn response(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("post", p) if p.starts_with("/v1/") || p == "/api/v1/events" => ingest_answer(),
        ("get", "/api/v1/profiles") => page_of(profile()),
        ("get", "/api/v1/profiles/{id}") => profile(),
        ("get", "/api/v1/profiles/{id}/events") => page_of(event()),
        ("get", "/api/v1/events") => {
            object(&["items"], json!({"items": {"type": "array", "items": event()}, "next_after": nullable("integer")}))
        }
        ("get", "/api/v1/orders") => page_of(order()),
        ("get", "/api/v1/orders/{id}") => with(
            order(),
            "after_sales",
            json!({"type": "array", "items": object(
                &["kind", "at"],
                json!({"kind": {"enum": ["refund", "cancel"]}, "outcome": {}, "amount": nullable("string"),
                       "currency": nullable("string"), "reason": {}, "lines": {}, "at": {"type": "string"},
                       "message_id": {}}),
            )}),
        ),
        ("get", "/api/v1/keys") => object(&["items"], json!({"items": {"type": "array", "items": key()}})),
        ("post", "/api/v1/keys") => with(key(), "key", json!({"type": "string", "minLength": 16})),
        ("get", "/api/v1/audit") => page_of(object(
            &["id", "at", "actor", "action", "target"],
            json!({"id": {"type": "integer"}, "at": {"type": "string"}, "actor": {"type": "string"},
                   "action": {"type": "string"}, "target": {"type": "string"}}),
        )),
        ("get", "/api/v1/products") => page_of(product()),
        ("get", "/api/v1/products/{id}") | ("post", "/api/v1/products") | ("put", "/api/v1/products/{id}") => product(),
        ("get", "/api/v1/promotions") => page_of(promotion()),
        ("get", "/api/v1/promotions/{id}") | ("post", "/api/v1/promotions") | ("put", "/api/v1/promotions/{id}") => {
            promotion()
        }
        ("post", p) if p.starts_with("/api/v1/promotions/{id}/") && !p.ends_with("/coupons") => promotion(),
        ("get", "/api/v1/overview/daily") => object(
            &["from", "to", "tz", "days"],
            json!({"from": {"type": "string"}, "to": {"type": "string"}, "tz": {"type": "string"},
                   "days": {"type": "array", "items": object(&["date", "orders", "revenue"], json!({
                       "date": {"type": "string"}, "orders": {"type": "integer"}, "revenue": {"type": "array", "items": object(
                           &["currency", "orders", "revenue"], json!({"currency": {"type": "string"},
                           "orders": {"type": "integer"}, "revenue": nullable("string")}))}}))}}),
        ),
        ("get", "/healthz") => {
            json!({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}})
        }
        ("get", "/readyz") => {
            let mut s = counted(&["log_head", "processed"]);
            s["required"] = json!(["status", "log_head", "processed"]);
            s["properties"]["status"] = json!({"const": "ready"});
            s
        }
        ("get", "/api/v1/processing") => {
            let mut s = counted(&["log_head", "processed"]);
            s["required"] = json!(["log_head", "processed", "caught_up"]);
            s["properties"]["caught_up"] = json!({"type": "boolean"});
            s
        }
        ("get", "/api/v1/overview") => {
            let mut s = counted(&["profiles", "events", "orders"]);
            s["required"] = json!(["profiles", "events", "orders", "revenue", "currency", "revenue_by_currency"]);
            s["properties"]["revenue"] = json!({"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"});
            s["properties"]["currency"] = json!({"type": "string", "pattern": "^[A-Z]{3}$"});
            s["properties"]["revenue_by_currency"] = json!({"type": "array", "items": {
                "type": "object", "required": ["currency", "orders", "revenue"]}});
            s
        }
        _ => return super::openapi_answers::response(method, path),
    })
}
