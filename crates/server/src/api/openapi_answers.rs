//! The answers of the operations `openapi_schemas` does not describe:
//! erasure and export, order recording and placing, bulk products, product
//! history, events and reviews, categories, promotion usage, carts, coupons
//! and wallets, group-buy teams, the points program, leaderboard and points,
//! key revocation, uploaded imports, the SDK settings routes and this
//! document itself.

use super::openapi_schemas::{amount, counted, event, key, nullable, object, order, page_of, profile, with};
use serde_json::{Value, json};

fn text() -> Value {
    json!({"type": "string"})
}

fn int() -> Value {
    json!({"type": "integer"})
}

fn count() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn array(item: Value) -> Value {
    json!({"type": "array", "items": item})
}

/// An object whose every property is required.
fn all(properties: Value) -> Value {
    let keys: Vec<&str> = properties.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    object(&keys, properties.clone())
}

/// `{"code": code, …fields}`, every field required.
fn coded(code: Value, mut fields: Value) -> Value {
    fields["code"] = code;
    all(fields)
}

/// An uploaded import and how far it got.
fn import() -> Value {
    let when = json!({"type": ["string", "null"], "format": "date-time"});
    all(json!({
        "id": text(), "kind": {"enum": ["orders", "customers", "products", "events"]}, "format": {"enum": ["csv", "jsonl"]},
        "file_name": nullable("string"), "status": {"enum": ["running", "done", "failed", "interrupted"]},
        "bytes_total": count(), "bytes_read": count(), "lines": count(), "accepted": count(), "rejected": count(),
        "notes": array(text()), "error": nullable("string"), "created_by": text(), "created_at": text(),
        "updated_at": text(), "finished_at": when,
    }))
}

/// An input a batch refused, by its place in the request.
fn refusal() -> Value {
    object(&["index", "code", "message"], json!({"index": count(), "code": text(), "message": text(), "details": {}}))
}

fn review() -> Value {
    all(json!({
        "review_id": nullable("string"), "product_id": text(), "profile_id": text(),
        "rating": nullable("number"), "text": nullable("string"), "at": text(),
    }))
}

/// An audit entry (a product's history): before and after are free-form.
fn audit_entry() -> Value {
    all(
        json!({"id": int(), "at": text(), "actor": text(), "action": text(), "target": text(), "before": {}, "after": {}}),
    )
}

/// A node of the category tree, `depth` levels of children deep (paths
/// have at most 8 names).
fn category(depth: u32) -> Value {
    let child = if depth == 0 { json!({"type": "object"}) } else { category(depth - 1) };
    all(json!({"name": text(), "path": text(), "products": count(), "children": array(child)}))
}

fn coupon() -> Value {
    all(json!({
        "code": text(), "promotion": text(), "name": nullable("string"),
        "status": {"enum": ["available", "used", "expired"]}, "profile_id": nullable("string"),
        "channel": text(), "issued_at": text(), "valid_from": nullable("string"), "valid_until": nullable("string"),
    }))
}

/// Why a code was not issued (`app::coupons::refusal`).
fn coupon_refusal() -> Value {
    json!({"anyOf": [
        coded(json!({"const": "quantity_reached"}), json!({"quantity": int()})),
        coded(json!({"const": "profile_limit_reached"}), json!({"per_profile": int()})),
        coded(json!({"const": "code_taken"}), json!({})),
    ]})
}

/// A profile's points (`checkout::loyalty::points_json`).
fn points() -> Value {
    let lot = all(json!({
        "id": text(), "source": text(), "order_id": nullable("string"), "points": int(), "left": int(),
        "earned_at": text(), "vests_at": text(), "expires_at": nullable("string"),
    }));
    let next = json!({"anyOf": [{"type": "null"}, all(json!({"points": int(), "expires_at": text()}))]});
    all(json!({"available": int(), "pending": count(), "debt": count(), "next_expiry": next, "lots": array(lot)}))
}

/// A group-buy team (`checkout::teams::team_json`); `members` is how many.
fn team() -> Value {
    all(json!({
        "id": text(), "promotion": text(), "status": {"enum": ["open", "complete", "failed"]},
        "min_members": count(), "max_members": count(), "member_count": count(), "places_left": count(),
        "opened_at": text(), "expires_at": text(), "completed_at": nullable("string"),
    }))
}

/// Why the engine left a promotion out (`beacon_pricing::explain::Reason`).
fn reason() -> Value {
    let (m, n, s) = (amount(), int(), text());
    let scope = json!({"enum": ["promotion", "coupon", "profile", "identity", "store"]});
    let bare = [
        "outside_window",
        "customer_not_eligible",
        "unknown_coupon",
        "no_matching_lines",
        "not_best_for_shopper",
        "no_discount",
    ];
    json!({"anyOf": [
        coded(json!({"enum": bare}), json!({})),
        coded(json!({"const": "inactive"}),
              json!({"status": {"enum": ["draft", "scheduled", "active", "paused", "ended"]}})),
        coded(json!({"const": "not_started"}), json!({"starts_at": s})),
        coded(json!({"const": "expired"}), json!({"ended_at": s})),
        coded(json!({"const": "currency_mismatch"}), json!({"promotion_currency": s, "cart_currency": s})),
        coded(json!({"const": "min_spend_not_met"}), json!({"required": m, "actual": m})),
        coded(json!({"const": "min_items_not_met"}), json!({"required": n, "actual": n})),
        coded(json!({"const": "not_stackable_with"}), json!({"id": s})),
        coded(json!({"const": "usage_limit_reached"}), json!({
            "counter": {"enum": ["redemptions", "discount", "units", "points"]}, "limit": n, "used": n, "needed": n,
            "period": {"enum": ["total", "day", "week", "month"]}, "scope": scope})),
        coded(json!({"const": "budget_exhausted"}), json!({"limit": m, "used": m, "needed": m})),
        coded(json!({"const": "out_of_stock"}), json!({"stock": n, "sold": n, "wanted": n})),
        coded(json!({"const": "customer_required"}), json!({"scope": scope})),
        coded(json!({"enum": ["coupon_used", "coupon_not_owned"]}), json!({"coupon": s})),
        coded(json!({"const": "duplicate_coupon"}), json!({"promotion": s})),
    ]})
}

/// A priced cart and its explanation (`beacon_pricing::Priced::to_json`).
fn priced() -> Value {
    let (m, s) = (amount(), text());
    let line = all(json!({
        "index": count(), "product_id": s, "quantity": int(), "unit_price": m, "subtotal": m, "discount": m,
        "total": m, "allocations": array(all(json!({"promotion": s, "amount": m}))),
    }));
    let applied = all(json!({
        "id": s, "name": s, "amount": m, "lines": array(all(json!({"index": count(), "amount": m}))),
    }));
    let mut hint = object(
        &["id", "discount"],
        json!({
            "id": s, "discount": m, "spend_more": m, "items_more": int(),
            "gift": all(json!({"product_id": s, "quantity": int()})),
        }),
    );
    hint["anyOf"] = json!([{"required": ["spend_more"]}, {"required": ["items_more"]}]);
    let gift = all(json!({"promotion": s, "product_id": s, "sku": nullable("string"), "quantity": int(), "price": m}));
    let used = all(json!({
        "requested": int(), "used": int(), "discount": m,
        "limited_by": {"enum": ["none", "insufficient_points", "points_limit_reached", "max_share", "below_min_points"]},
    }));
    all(json!({
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "subtotal": m, "discount": m, "shipping": m, "shipping_discount": m, "total": m,
        "lines": array(line), "applied": array(applied),
        "rejected": array(all(json!({"id": s, "reason": reason()}))),
        "hints": array(hint), "gifts": array(gift),
        "points": {"anyOf": [{"type": "null"}, used]},
        "redeemed": array(all(json!({"promotion": s, "coupon": s}))),
        "search": all(json!({"combinations": count(), "exact": {"type": "boolean"}})),
    }))
}

/// An order placed from a cart (`checkout::commit::place`); an erased
/// buyer's answer keeps no `profile_id`, `user_id`, `anonymous_id`, `email`
/// or `phone`.
fn placed() -> Value {
    let (m, s) = (amount(), text());
    let product = object(
        &["product_id", "price", "quantity"],
        json!({
            "product_id": s, "sku": s, "name": s, "category": s, "price": m, "quantity": int(),
        }),
    );
    let order = object(
        &["order_id", "placed_at", "currency", "total", "discount", "products"],
        json!({
            "order_id": s, "user_id": s, "anonymous_id": s, "email": s, "phone": s, "placed_at": s,
            "currency": s, "total": m, "discount": m, "shipping": m, "coupon": s, "products": array(product),
        }),
    );
    object(
        &["order_id", "placed_at", "pricing", "order"],
        json!({
            "order_id": s, "placed_at": s, "profile_id": nullable("string"), "pricing": priced(), "order": order,
            "group_buy": team(),
        }),
    )
}

fn program() -> Value {
    all(json!({"spec": {"type": "object"}, "version": int(), "updated_at": text()}))
}

/// One counter of a promotion's limits (`app::promotions::usage`): counts,
/// or amounts of `currency` for a discount budget.
fn usage() -> Value {
    let item = all(json!({
        "limit_index": {"type": ["integer", "null"], "minimum": 0}, "counts": nullable("string"),
        "period": nullable("string"), "subject": nullable("string"), "counter": nullable("string"),
        "used": {"anyOf": [int(), amount()]}, "max": {"anyOf": [int(), amount(), {"type": "null"}]},
        "currency": nullable("string"),
    }));
    all(json!({"promotion": text(), "items": array(item)}))
}

/// analytics.js's CDN settings naming this server.
fn segment_settings() -> Value {
    let segment = all(json!({
        "apiKey": text(), "apiHost": text(), "protocol": {"enum": ["http", "https"]},
        "unbundledIntegrations": array(text()), "addBundledMetadata": {"type": "boolean"},
    }));
    let obj = json!({"type": "object"});
    all(json!({
        "integrations": all(json!({"Segment.io": segment})), "plan": obj, "edgeFunction": obj,
        "analyticsNextEnabled": {"type": "boolean"}, "middlewareSettings": obj, "enabledMiddleware": obj,
        "metrics": all(json!({"sampleRate": {"type": "number"}})), "legacyVideoPluginsEnabled": {"type": "boolean"},
        "remotePlugins": array(json!({"type": "object"})),
    }))
}

/// RudderStack's source configuration.
fn source_config() -> Value {
    let source = all(json!({
        "id": text(), "name": text(), "writeKey": text(), "workspaceId": text(), "enabled": {"type": "boolean"},
        "config": {"type": "object"}, "destinations": array(json!({"type": "object"})),
    }));
    all(json!({"isHosted": {"type": "boolean"}, "source": source}))
}

/// The dashboard's figures (`app::dashboard`).
fn dashboard() -> Value {
    let ratio = json!({"type": ["number", "null"]});
    let figures = json!({"visitors": count(), "buyers": count(), "conversion_rate": ratio, "orders": count(),
                         "revenue": amount(), "average_order_value": nullable("string")});
    all(json!({
        "from": text(), "to": text(), "tz": text(), "currency": text(),
        "current": all(figures.clone()),
        "previous": with(with(all(figures), "from", text()), "to", text()),
        "change": all(json!({"visitors": ratio, "conversion_rate": ratio, "orders": ratio, "revenue": ratio,
                             "average_order_value": ratio})),
        "days": array(all(json!({"date": text(), "visitors": count(), "buyers": count(), "orders": count(),
                                 "revenue": amount()}))),
        "other_currencies": array(all(json!({"currency": text(), "orders": count(), "revenue": nullable("string")}))),
    }))
}

fn role() -> Value {
    json!({"enum": ["admin", "marketer", "analyst", "viewer"]})
}

/// A console user (never the password's hash).
fn user() -> Value {
    all(json!({
        "id": text(), "email": text(), "name": text(), "role": role(), "locale": {"enum": ["zh-CN", "en", null]},
        "created_at": text(), "password_changed_at": text(), "disabled_at": nullable("string"),
    }))
}

/// A console login: who, and the CSRF token to send back.
fn session() -> Value {
    all(json!({"kind": {"const": "user"}, "user": user(), "role": role(), "csrf_token": text(), "expires_at": text()}))
}

/// The schema of an operation's successful answer, if this file describes it.
pub fn response(method: &str, path: &str) -> Option<Value> {
    let ids = || array(text());
    Some(match (method, path) {
        ("delete", "/api/v1/profiles/{id}") => all(json!({
            "profile_id": text(), "erased": {"const": true}, "profiles": ids(), "events": count(),
            "event_bodies_overwritten": count(), "orders_kept_without_buyer": ids(),
            "removed": {"type": "object", "additionalProperties": count()},
        })),
        ("get", "/api/v1/profiles/{id}/export") => all(json!({
            "exported_at": text(), "profile": profile(), "events": array(event()), "orders": array(order()),
            "reviews": array(review()), "coupons": array(coupon()), "points": points(),
        })),
        ("post", "/api/v1/orders") => json!({"anyOf": [
            all(json!({"accepted": count(), "rejected": array(refusal())})),
            placed(),
        ]}),
        ("post", "/api/v1/products/bulk") => {
            with(counted(&["created", "updated", "unchanged"]), "rejected", array(refusal()))
        }
        ("get", "/api/v1/products/{id}/history") => page_of(audit_entry()),
        ("get", "/api/v1/products/{id}/events") => page_of(event()),
        ("get", "/api/v1/categories") => all(json!({"items": array(category(8)), "products": count()})),
        ("get", "/api/v1/products/{id}/reviews") | ("get", "/api/v1/profiles/{id}/reviews") => page_of(review()),
        ("get", "/api/v1/promotions/{id}/usage") => usage(),
        ("post", "/api/v1/carts/price") => with(with(priced(), "profile_id", nullable("string")), "priced_at", text()),
        ("get", "/api/v1/promotions/{id}/coupons") => page_of(coupon()),
        ("post", "/api/v1/promotions/{id}/coupons") => all(json!({
            "promotion": text(), "issued": array(coupon()),
            "refused": array(all(json!({"profile_id": nullable("string"), "reason": coupon_refusal()}))),
        })),
        ("post", "/api/v1/coupons/claim") => coupon(),
        ("get", "/api/v1/profiles/{id}/coupons") => all(json!({"profile_id": text(), "items": array(coupon())})),
        ("get", "/api/v1/teams/{id}") => team(),
        ("get", "/api/v1/promotions/{id}/teams") => all(json!({"promotion": text(), "items": array(team())})),
        ("get", "/api/v1/profiles/{id}/teams") => all(json!({"profile_id": text(), "items": array(team())})),
        ("get", "/api/v1/loyalty/program") | ("put", "/api/v1/loyalty/program") => program(),
        ("get", "/api/v1/loyalty/leaderboard") => {
            let rank = json!({"type": "integer", "minimum": 1});
            let mut s = all(json!({
                "period": {"enum": ["day", "week", "month", "total"]}, "from": text(), "to": text(),
                "items": array(all(json!({"rank": rank, "profile_id": text(), "points": int()}))),
            }));
            s["properties"]["me"] = all(json!({"profile_id": text(), "points": int(), "rank": nullable("integer")}));
            s
        }
        ("get", "/api/v1/profiles/{id}/points") => {
            let mut s = with(points(), "profile_id", text());
            s["properties"]["tier"] = nullable("string");
            s
        }
        ("delete", "/api/v1/keys/{id}") => key(),
        ("get", "/v1/projects/{writeKey}/settings") => segment_settings(),
        ("get", "/sourceConfig/") => source_config(),
        ("get", "/openapi.json") => json!({"type": "object", "required": ["openapi", "paths"]}),
        ("post", "/api/v1/session") => session(),
        ("post", "/api/v1/orders/{id}/refunds") => {
            all(json!({"order_id": text(), "message_id": text(), "status": {"const": "accepted"}}))
        }
        ("get", "/api/v1/shop") => all(json!({"currency": text(), "utc_offset": text()})),
        ("get", "/api/v1/settings") => {
            let sections = ["server", "storage", "ingest", "identity", "shop", "security", "log", "bus"];
            let properties: serde_json::Map<String, Value> =
                sections.iter().map(|s| (s.to_string(), json!({"type": "object"}))).collect();
            all(Value::Object(properties))
        }
        ("get", "/api/v1/dashboard") => dashboard(),
        ("get", "/api/v1/session") => json!({"anyOf": [session(), all(json!({
            "kind": {"const": "key"}, "key": key(), "role": role()}))]}),
        ("get", "/api/v1/users") => all(json!({"items": array(user())})),
        ("post", "/api/v1/users") | ("patch", "/api/v1/users/{id}") => user(),
        ("delete", "/api/v1/users/{id}/sessions") => all(json!({"user_id": text(), "sessions_ended": count()})),
        ("post", "/api/v1/imports") | ("get", "/api/v1/imports/{id}") => import(),
        ("get", "/api/v1/imports") => all(json!({"items": array(import())})),
        _ => return None,
    })
}
