//! The bodies the OpenAPI document describes so far (issue 14 grows this
//! until every operation has them): the tracking API's messages and
//! answers, and the system routes' answers. schemathesis checks every
//! answer against them (`crates/cli/tests/api_fuzz.rs`).

use serde_json::{Value, json};

/// One Segment message, as the tracking API reads it.
fn message() -> Value {
    let id = json!({"type": ["string", "number"]});
    json!({
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": ["track", "identify", "page", "screen", "group", "alias"]},
            "userId": id, "anonymousId": id, "previousId": id, "groupId": id,
            "messageId": {"type": "string"},
            "event": {"type": "string"}, "name": {"type": "string"},
            "timestamp": {"type": "string", "format": "date-time"},
            "sentAt": {"type": "string", "format": "date-time"},
            "properties": {"type": "object"}, "traits": {"type": "object"},
            "context": {"type": "object"}, "integrations": {"type": "object"},
        }
    })
}

/// What an ingest route answers when it took the request: the messages it
/// refused are listed, the rest are stored.
fn ingest_answer() -> Value {
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

fn counted(fields: &[&str]) -> Value {
    let props: serde_json::Map<String, Value> =
        fields.iter().map(|f| (f.to_string(), json!({"type": "integer", "minimum": 0}))).collect();
    json!({"type": "object", "required": fields, "properties": props})
}

/// The request body of an operation, if it is described yet.
pub fn request(method: &str, path: &str) -> Option<Value> {
    let single = ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"];
    let schema = match (method, path) {
        ("post", "/v1/batch") | ("post", "/api/v1/events") => json!({
            "type": "object",
            "required": ["batch"],
            "properties": {"batch": {"type": "array", "items": message()}, "sentAt": {"type": "string"},
                           "context": {"type": "object"}, "integrations": {"type": "object"}}
        }),
        ("post", p) if single.contains(&p) => message(),
        _ => return None,
    };
    Some(json!({"content": {"application/json": {"schema": schema}}}))
}

/// The schema of an operation's successful answer, if it is described yet.
pub fn response(method: &str, path: &str) -> Option<Value> {
    Some(match (method, path) {
        ("post", p) if p.starts_with("/v1/") || p == "/api/v1/events" => ingest_answer(),
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
        _ => return None,
    })
}
