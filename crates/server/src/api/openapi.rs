//! The OpenAPI 3.1 document, generated from one route table so that every
//! route is described (a test checks the table against the router).

use super::openapi_requests as requests;
use beacon_core::ErrorCode;
use serde_json::{Map, Value, json};

pub use super::openapi_routes::ROUTES;

/// What an operation answers when it succeeds, as the handlers do.
fn successes(method: &str, path: &str) -> Vec<(&'static str, &'static str)> {
    match (method, path) {
        ("post", "/api/v1/keys")
        | ("post", "/api/v1/promotions")
        | ("post", "/api/v1/users")
        | ("post", "/api/v1/segments") => {
            vec![("201", "Created")]
        }
        ("post", "/api/v1/session") => vec![("201", "Logged in (Set-Cookie: beacon_session)")],
        ("delete", "/api/v1/session") => vec![("204", "Logged out (the cookie is cleared)")],
        ("post", "/api/v1/session/password") | ("post", "/api/v1/users/{id}/password") => {
            vec![("204", "Changed")]
        }
        // a create-or-update: 201 when it made the product, 200 when it changed one
        ("post", "/api/v1/products") | ("put", "/api/v1/products/{id}") => {
            vec![("201", "Created"), ("200", "Updated or unchanged")]
        }
        // an order placed (201), its retry or recorded orders (200)
        ("post", "/api/v1/orders") => vec![("201", "Placed"), ("200", "Recorded, or a retry answered again")],
        ("post", "/api/v1/coupons/claim") => vec![("201", "Issued"), ("200", "Issued before (the same key)")],
        ("delete", "/api/v1/products/{id}")
        | ("delete", "/api/v1/profiles/{id}/tags/{tag}")
        | ("delete", "/api/v1/tag-rules/{tag}") => vec![("204", "Deleted")],
        ("post", "/api/v1/orders/{id}/refunds") => vec![("202", "Accepted: the processor applies it")],
        ("post", "/api/v1/imports") => {
            vec![("202", "Accepted: the file is read in the background (Location: the import)")]
        }
        _ => vec![("200", "OK")],
    }
}

/// An error answer whose code is one of `codes`.
fn errors(codes: &[&str]) -> Value {
    let schema = json!({"allOf": [{"$ref": "#/components/schemas/Error"},
        {"properties": {"error": {"properties": {"code": {"enum": codes}}}}}]});
    json!({"description": codes.join(", "), "content": {"application/json": {"schema": schema}}})
}

fn error_schema() -> Value {
    let codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    json!({
        "type": "object",
        "required": ["error"],
        "properties": {"error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "enum": codes},
                "message": {"type": "string"},
                "details": {}
            }
        }}
    })
}

pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, auth, summary) in ROUTES {
        let security = match *auth {
            "write" => json!([{"writeKey": []}]),
            "none" => json!([]),
            role => json!([{"secretKey": [role]}, {"sessionCookie": [role]}]),
        };
        let mut params: Vec<Value> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                // a profile is named by its id (a UUID); anything else by the shop's own id
                let schema = match name == "id" && path.starts_with("/api/v1/profiles/") {
                    true => json!({"type": "string", "format": "uuid"}),
                    false => json!({"type": "string", "minLength": 1}),
                };
                json!({"name": name, "in": "path", "required": true, "schema": schema})
            })
            .collect();
        params.extend(requests::parameters(method, path));
        params.extend(requests::headers(method, path));
        let body = requests::request(method, path);
        let mut responses = Map::new();
        for (status, description) in successes(method, path) {
            let content = match *path {
                "/metrics" => json!({"text/plain": {}}),
                "/api/v1/imports/{id}/rejects" | "/api/v1/segments/{id}/export" => {
                    json!({"text/csv": {"schema": {"type": "string"}}})
                }
                _ if status == "204" => Value::Null,
                _ => match super::openapi_schemas::response(method, path) {
                    Some(schema) => json!({"application/json": {"schema": schema}}),
                    None => json!({"application/json": {}}),
                },
            };
            let mut r = json!({"description": description});
            if !content.is_null() {
                r["content"] = content;
            }
            responses.insert(status.to_string(), r);
        }
        let query = params.iter().any(|p| p["in"] == "query");
        let codes = super::openapi_errors::codes(method, path, auth, body.is_some(), query);
        let mut by_status: Vec<(u16, Vec<&str>)> = Vec::new();
        for code in codes {
            let status = crate::error::status_of(code).as_u16();
            match by_status.iter_mut().find(|(s, _)| *s == status) {
                Some((_, list)) => list.push(code.as_str()),
                None => by_status.push((status, vec![code.as_str()])),
            }
        }
        for (status, list) in by_status {
            responses.insert(status.to_string(), errors(&list));
        }
        let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}});
        responses.insert("4XX".into(), json!({"description": "Other client errors", "content": error}));
        responses.insert("503".into(), json!({"description": "Not ready or unavailable", "content": error}));
        let mut op = json!({
            "summary": summary,
            "security": security,
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = body {
            op["requestBody"] = body;
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = op;
    }
    let mut schemas = requests::components();
    schemas.insert("Error".into(), error_schema());
    schemas.insert("RecordedOrder".into(), requests::recorded_order());
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Beacon", "version": env!("CARGO_PKG_VERSION"),
                 "description": "E-commerce marketing platform: Segment-compatible ingest, profiles, admin API."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "writeKey": {"type": "http", "scheme": "basic", "description": "write key as the user, empty password"},
                "secretKey": {"type": "http", "scheme": "bearer", "description": "secret key with a role"},
                "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "beacon_session",
                    "description": "a console login (POST /api/v1/session); calls that change anything also send \
                                    X-CSRF-Token"}
            }
        }
    })
}
