//! What operations take: query parameters and request bodies.
//!
//! Parameters and most bodies come from the very types the handlers read
//! them into (utoipa derives on the `Query` structs, the promotion spec,
//! the cart, the points program, key and coupon requests), so the
//! document cannot drift from the code. Two bodies are read field by field
//! (a product, a recorded order); they are described here next to the
//! field lists their readers check, and a test holds the two together.

use super::openapi_schemas::{batch, message};
use super::{
    audit, coupons, extract, imports, keys, loyalty, orders, products, profiles, promotions, rfm, segments, tags,
    teams, users,
};
use crate::app::checkout::CartRequest;
use beacon_pricing::loyalty::ProgramSpec;
use beacon_pricing::spec::Spec;
use serde_json::{Map, Value, json};
use utoipa::openapi::path::ParameterIn;
use utoipa::{IntoParams, OpenApi};

/// The typed bodies, whose schemas (and the schemas they use) go into
/// `components.schemas`.
#[derive(OpenApi)]
#[openapi(components(schemas(
    Spec,
    CartRequest,
    ProgramSpec,
    keys::CreateKeyRequest,
    coupons::Give,
    coupons::Claim,
    users::LoginRequest,
    users::PasswordChange,
    users::CreateUserRequest,
    users::UpdateUserRequest,
    users::PasswordReset,
    crate::app::refunds::RefundRequest,
    segments::EstimateRequest,
    segments::SegmentRequest,
    tags::TagRequest,
    tags::TagRuleRequest
)))]
struct Typed;

/// The schemas of the typed bodies, by name.
pub fn components() -> Map<String, Value> {
    let doc = serde_json::to_value(Typed::openapi()).unwrap_or_default();
    doc["components"]["schemas"].as_object().cloned().unwrap_or_default()
}

fn query<P: IntoParams>() -> Vec<Value> {
    P::into_params(|| Some(ParameterIn::Query)).iter().filter_map(|p| serde_json::to_value(p).ok()).collect()
}

/// An operation's query parameters.
pub fn parameters(method: &str, path: &str) -> Vec<Value> {
    match (method, path) {
        ("get", "/api/v1/profiles") => query::<profiles::ListParams>(),
        ("get", "/api/v1/events") => query::<profiles::AfterParams>(),
        ("get", "/api/v1/orders") => query::<orders::ListParams>(),
        ("get", "/api/v1/overview/daily") | ("get", "/api/v1/dashboard") => query::<orders::DailyParams>(),
        ("get", "/api/v1/products") => query::<products::ListParams>(),
        ("get", "/api/v1/promotions") => query::<promotions::ListParams>(),
        ("put", "/api/v1/promotions/{id}") => query::<promotions::Version>(),
        ("put", "/api/v1/loyalty/program") => query::<loyalty::Version>(),
        ("get", "/api/v1/loyalty/leaderboard") => query::<loyalty::BoardParams>(),
        ("get", "/api/v1/promotions/{id}/coupons") => query::<coupons::ListParams>(),
        ("get", "/api/v1/profiles/{id}/coupons") => query::<coupons::WalletParams>(),
        ("get", "/api/v1/promotions/{id}/teams") => query::<teams::ListParams>(),
        ("get", "/api/v1/audit") => query::<audit::AuditParams>(),
        ("post", "/api/v1/imports") => query::<imports::UploadParams>(),
        ("get", "/api/v1/segments") => query::<segments::ListParams>(),
        ("get", "/api/v1/rfm") | ("get", "/api/v1/lifecycle") => query::<rfm::AsOfParams>(),
        ("get", "/api/v1/rfm/customers") => query::<rfm::CustomersParams>(),
        ("get", "/api/v1/clusters") => query::<rfm::ClusterParams>(),
        ("get", "/api/v1/clusters/elbow") => query::<rfm::ElbowParams>(),
        ("put", "/api/v1/segments/{id}") => query::<segments::Version>(),
        ("get", "/api/v1/segments/{id}/members") => query::<segments::MembersParams>(),
        ("get", "/api/v1/lifecycle/transitions") => query::<rfm::TransitionsParams>(),
        ("get", "/api/v1/segments/{id}/history") => query::<segments::HistoryParams>(),
        ("get", "/api/v1/profiles/{id}/events")
        | ("get", "/api/v1/products/{id}/reviews")
        | ("get", "/api/v1/profiles/{id}/reviews")
        | ("get", "/api/v1/products/{id}/history")
        | ("get", "/api/v1/products/{id}/events") => query::<extract::PageParams>(),
        ("get", "/sourceConfig/") => {
            vec![json!({"name": "writeKey", "in": "query", "required": false, "schema": {"type": "string"},
                        "description": "the write key (or send it as Basic auth)"})]
        }
        _ => Vec::new(),
    }
}

fn component(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// A decimal amount, as text or a number.
fn amount_in() -> Value {
    json!({"type": ["string", "number"], "pattern": "^-?[0-9]+(\\.[0-9]+)?$"})
}

/// An amount, or null for none (as Segment's events take it).
fn amount_or_null() -> Value {
    json!({"type": ["string", "number", "null"], "pattern": "^-?[0-9]+(\\.[0-9]+)?$"})
}

fn text(max: usize) -> Value {
    json!({"type": "string", "maxLength": max})
}

/// A product as `POST`/`PUT /api/v1/products` read it (`catalog::parse_product`).
pub fn product_body() -> Value {
    json!({
        "type": "object",
        "required": ["product_id", "name", "price"],
        "additionalProperties": false,
        "properties": {
            "product_id": {"type": ["string", "number"], "pattern": "^[^/]+$", "maxLength": 500},
            "sku": {"type": ["string", "number", "null"]},
            "name": text(500),
            "category": {"description": "a path (\"茶叶/绿茶\", \"Tea > Green\") or the names from the root",
                         "type": ["string", "array", "null"], "items": text(500)},
            "brand": {"type": ["string", "null"], "maxLength": 500},
            "tags": {"type": ["array", "string", "null"], "maxItems": 50,
                     "items": {"type": ["string", "null"], "maxLength": 500}},
            "price": amount_in(),
            "currency": {"type": ["string", "null"], "pattern": "^[A-Za-z]{3}$"},
            "stock": {"type": ["integer", "string", "null"], "minimum": 0},
            "status": {"enum": ["on_shelf", "off_shelf", null]},
            "review_status": {"enum": ["draft", "pending", "approved", null]},
            "attributes": {"type": ["object", "null"]},
        }
    })
}

/// An order placed elsewhere, as `POST /api/v1/orders` records it
/// (`records::FIELDS`; its figures as an `Order Completed` event's).
pub fn recorded_order() -> Value {
    let line = json!({"type": "object", "properties": {
        "product_id": {"type": ["string", "number"]}, "sku": {"type": ["string", "number"]},
        "name": {"type": "string"}, "category": {"type": "string"}, "brand": {"type": "string"},
        "price": amount_in(), "quantity": {"type": "integer", "minimum": 1}}});
    json!({
        "type": "object",
        "required": ["order_id"],
        "additionalProperties": false,
        "properties": {
            "order_id": {"type": ["string", "number"]},
            "user_id": {"type": ["string", "number", "null"]}, "anonymous_id": {"type": ["string", "number", "null"]},
            "email": {"type": ["string", "null"], "format": "email"}, "phone": {"type": ["string", "null"]},
            "placed_at": {"type": ["string", "null"], "format": "date-time"},
            "currency": {"type": ["string", "null"], "pattern": "^[A-Za-z]{3}$"},
            "total": amount_or_null(), "revenue": amount_or_null(), "discount": amount_or_null(),
            "shipping": amount_or_null(), "coupon": {"type": ["string", "null"]},
            "products": {"type": "array", "minItems": 1, "items": line},
        }
    })
}

/// The request body of an operation, if it takes one.
pub fn request(method: &str, path: &str) -> Option<Value> {
    if (method, path) == ("post", "/api/v1/imports") {
        let file = json!({"schema": {"type": "string", "format": "binary"}});
        // (sent as text/csv or application/x-ndjson too, which say the format)
        return Some(json!({"required": true,
            "description": "the file as it is (gzip with Content-Encoding); its format from `format`, the \
                            Content-Type (text/csv, application/x-ndjson) or the name's extension",
            "content": {"application/octet-stream": file}}));
    }
    let single = ["/v1/track", "/v1/identify", "/v1/page", "/v1/screen", "/v1/group", "/v1/alias"];
    let schema = match (method, path) {
        ("post", "/v1/batch") | ("post", "/api/v1/events") => batch(),
        ("post", p) if single.contains(&p) => {
            // the route says what the message is; a `type` in it is not read
            let mut m = message();
            m["properties"]["type"] = json!({"type": ["string", "null"], "description": "ignored: the route decides"});
            m
        }
        ("post", "/api/v1/products") => product_body(),
        ("put", "/api/v1/products/{id}") => {
            // the id is the path's (the body may repeat it)
            let mut body = product_body();
            body["required"] = json!(["name", "price"]);
            body
        }
        ("post", "/api/v1/products/bulk") => json!({"type": "object", "required": ["products"],
            "additionalProperties": false,
            "properties": {"products": {"type": "array", "maxItems": 1000, "items": {"type": "object",
                "description": "a product as POST /api/v1/products takes it; one that is not is reported in `rejected`"}}}}),
        ("post", "/api/v1/orders") => json!({"anyOf": [
            {"description": "an order from a cart, priced and placed (needs an Idempotency-Key header)",
             "$ref": "#/components/schemas/CartRequest"},
            {"description": "an order placed elsewhere, recorded", "$ref": "#/components/schemas/RecordedOrder"},
            {"type": "object", "required": ["orders"], "additionalProperties": false, "properties": {
                "orders": {"type": "array", "maxItems": 1000, "items": component("RecordedOrder")}}},
        ]}),
        ("post", "/api/v1/carts/price") => component("CartRequest"),
        ("post", "/api/v1/promotions") | ("put", "/api/v1/promotions/{id}") => component("Spec"),
        ("put", "/api/v1/loyalty/program") => component("ProgramSpec"),
        ("post", "/api/v1/keys") => component("CreateKeyRequest"),
        ("post", "/api/v1/promotions/{id}/coupons") => component("Give"),
        ("post", "/api/v1/coupons/claim") => component("Claim"),
        ("post", "/api/v1/session") => component("LoginRequest"),
        ("post", "/api/v1/orders/{id}/refunds") => component("RefundRequest"),
        ("post", "/api/v1/session/password") => component("PasswordChange"),
        ("post", "/api/v1/users") => component("CreateUserRequest"),
        ("patch", "/api/v1/users/{id}") => component("UpdateUserRequest"),
        ("post", "/api/v1/users/{id}/password") => component("PasswordReset"),
        ("post", "/api/v1/segments/estimate") => component("EstimateRequest"),
        ("post", "/api/v1/segments") | ("put", "/api/v1/segments/{id}") => component("SegmentRequest"),
        ("put", "/api/v1/profiles/{id}/tags/{tag}") => component("TagRequest"),
        ("put", "/api/v1/tag-rules/{tag}") => component("TagRuleRequest"),
        _ => return None,
    };
    Some(json!({"required": true, "content": {"application/json": {"schema": schema}}}))
}

/// Headers an operation reads.
pub fn headers(method: &str, path: &str) -> Vec<Value> {
    let key = |description: &str| {
        json!({"name": "Idempotency-Key", "in": "header", "required": false, "description": description,
               "schema": {"type": "string", "minLength": 1, "maxLength": 200}})
    };
    let mut headers = match (method, path) {
        ("post", "/api/v1/orders") => vec![key("required to place an order from a cart: a retry answers the same")],
        ("post", "/api/v1/promotions/{id}/coupons") | ("post", "/api/v1/coupons/claim") => {
            vec![key("the same key issues nothing twice")]
        }
        ("post", "/api/v1/orders/{id}/refunds") => vec![key("a retry with the same key is the same refund")],
        _ => Vec::new(),
    };
    if method != "get" && path.starts_with("/api/v1/") && path != "/api/v1/session"
        || (method, path) == ("delete", "/api/v1/session")
    {
        headers.push(json!({"name": "X-CSRF-Token", "in": "header", "required": false,
            "description": "with the session cookie: the session's CSRF token (GET /api/v1/session)",
            "schema": {"type": "string"}}));
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(schema: &Value) -> Vec<String> {
        let mut n: Vec<String> = schema["properties"].as_object().expect("properties").keys().cloned().collect();
        n.sort();
        n
    }

    #[test]
    fn the_hand_described_bodies_name_exactly_the_fields_their_readers_take() {
        let mut product: Vec<String> = beacon_core::catalog::FIELDS.iter().map(|s| s.to_string()).collect();
        product.sort();
        assert_eq!(names(&product_body()), product);
        let mut order: Vec<String> = crate::app::records::FIELDS.iter().map(|s| s.to_string()).collect();
        order.sort();
        assert_eq!(names(&recorded_order()), order);
    }

    #[test]
    fn the_typed_bodies_are_in_the_components() {
        let c = components();
        for name in ["Spec", "RewardSpec", "CartRequest", "LineRequest", "ProgramSpec", "CreateKeyRequest", "Give"] {
            assert!(c.contains_key(name), "{name} in {:?}", c.keys().collect::<Vec<_>>());
        }
        assert_eq!(c["Spec"]["additionalProperties"], json!(false), "unknown fields are refused: {}", c["Spec"]);
    }
}
