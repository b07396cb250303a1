//! The OpenAPI 3.1 document, generated from one route table so that every
//! route is described (a test checks the table against the router).

use super::openapi_requests as requests;
use beacon_core::ErrorCode;
use serde_json::{Map, Value, json};

/// (method, path, auth, summary)
pub const ROUTES: &[(&str, &str, &str, &str)] = &[
    ("post", "/v1/batch", "write", "Send a batch of Segment messages (also /v1/b, /v1/import)"),
    ("post", "/v1/track", "write", "Record an action (also /v1/t)"),
    ("post", "/v1/identify", "write", "Tie a user to their traits (also /v1/i)"),
    ("post", "/v1/page", "write", "Record a page view (also /v1/p)"),
    ("post", "/v1/screen", "write", "Record a screen view (also /v1/s)"),
    ("post", "/v1/group", "write", "Associate a user with a group (also /v1/g)"),
    ("post", "/v1/alias", "write", "Merge a previous id into a user (also /v1/a)"),
    ("get", "/v1/projects/{writeKey}/settings", "none", "Segment analytics.js CDN settings naming this server"),
    ("get", "/sourceConfig/", "none", "RudderStack JavaScript SDK source configuration (?writeKey=)"),
    (
        "get",
        "/api/v1/profiles",
        "read",
        "Find profiles by identity (?identity=TYPE:VALUE) or list them (cursor, limit, seen_after, seen_before, min_events, has_trait)",
    ),
    ("get", "/api/v1/profiles/{id}", "read", "One profile; a merged-away id resolves to its survivor"),
    ("get", "/api/v1/profiles/{id}/events", "read", "A profile's timeline, newest first (cursor, limit)"),
    (
        "delete",
        "/api/v1/profiles/{id}",
        "admin",
        "Erase a person: profile, merged profiles, identities, events (their log bodies too), reviews, wallet, \
         points; orders kept for the books without them; audited",
    ),
    (
        "get",
        "/api/v1/profiles/{id}/export",
        "admin",
        "Everything held about a person, in full, as one document; audited",
    ),
    ("get", "/api/v1/overview", "read", "Counts of profiles, events, orders and net revenue (per currency too)"),
    (
        "get",
        "/api/v1/dashboard",
        "read",
        "Orders, net revenue and average order value from, to (days in the shop's time zone, or tz), every day, \
         the period before and the change",
    ),
    ("get", "/api/v1/shop", "read", "The shop's currency and time zone (offset from UTC)"),
    (
        "get",
        "/api/v1/overview/daily",
        "read",
        "Orders and net revenue per day (from, to: YYYY-MM-DD; tz: an offset like +08:00)",
    ),
    (
        "get",
        "/api/v1/orders",
        "read",
        "Orders, newest first (cursor, limit, profile, status, placed_after, placed_before)",
    ),
    (
        "post",
        "/api/v1/orders",
        "marketer",
        "Record orders: one order object or {orders: [...]} (up to 1000); the same order_id is one order",
    ),
    ("get", "/api/v1/orders/{id}", "read", "One order with its lines, refunds and cancellation"),
    (
        "post",
        "/api/v1/orders/{id}/refunds",
        "marketer",
        "Refund lines of an order, an amount, or what is left: {products, total, reason} (Idempotency-Key: a \
         retry is the same refund); applied by the processor a moment later (202)",
    ),
    (
        "get",
        "/api/v1/products",
        "read",
        "Products by id (cursor, limit, category incl. sub-categories, brand, tag, status, q: part of the name)",
    ),
    ("post", "/api/v1/products", "marketer", "Create or update a product by product_id (201 if created)"),
    (
        "post",
        "/api/v1/products/bulk",
        "marketer",
        "Create or update up to 1000 products: {products: [...]} → created, updated, unchanged, rejected",
    ),
    ("get", "/api/v1/products/{id}", "read", "One product"),
    ("put", "/api/v1/products/{id}", "marketer", "Create or replace a product"),
    ("delete", "/api/v1/products/{id}", "marketer", "Delete a product (audited)"),
    ("get", "/api/v1/products/{id}/history", "read", "Changes to a product (price, stock…): who, when, before → after"),
    ("get", "/api/v1/products/{id}/events", "read", "Events about a product (by product_id or sku), newest first"),
    ("get", "/api/v1/categories", "read", "The category tree with product counts"),
    ("get", "/api/v1/products/{id}/reviews", "read", "Reviews of a product, newest first (cursor, limit)"),
    ("get", "/api/v1/profiles/{id}/reviews", "read", "Reviews a profile wrote, newest first (cursor, limit)"),
    (
        "post",
        "/api/v1/events",
        "marketer",
        "Import a batch of Segment messages ({batch: [...]}, as /v1/batch) with a secret key",
    ),
    ("get", "/api/v1/events", "read", "Every processed event in log order (after: the last seq read, limit ≤ 1000)"),
    ("get", "/api/v1/processing", "read", "The log head and how far the processor has got (caught_up)"),
    ("get", "/api/v1/promotions", "read", "Promotions by id (cursor, limit, status)"),
    (
        "post",
        "/api/v1/promotions",
        "marketer",
        "Create a promotion from its spec (draft unless it says scheduled or active)",
    ),
    ("get", "/api/v1/promotions/{id}", "read", "One promotion with its status, effective status and version"),
    ("put", "/api/v1/promotions/{id}", "marketer", "Replace a promotion's spec (if_version: only if unchanged)"),
    ("post", "/api/v1/promotions/{id}/activate", "marketer", "Activate a draft (scheduled if it starts later)"),
    ("post", "/api/v1/promotions/{id}/pause", "marketer", "Pause an active promotion"),
    ("post", "/api/v1/promotions/{id}/resume", "marketer", "Resume a paused promotion"),
    ("post", "/api/v1/promotions/{id}/end", "marketer", "End a promotion for good"),
    ("get", "/api/v1/promotions/{id}/usage", "read", "Every counter of a promotion's limits (PII by keyed hash only)"),
    ("post", "/api/v1/carts/price", "read", "Price a cart for a shopper: the explanation, hints, points (a dry run)"),
    (
        "get",
        "/api/v1/promotions/{id}/coupons",
        "marketer",
        "The unique codes a coupon template issued, oldest first (cursor, limit)",
    ),
    (
        "post",
        "/api/v1/promotions/{id}/coupons",
        "marketer",
        "Issue codes of a coupon template: {profiles: [...], count: N} (Idempotency-Key optional)",
    ),
    ("post", "/api/v1/coupons/claim", "marketer", "A shopper claims a code: {promotion, profile_id | identity}"),
    ("get", "/api/v1/profiles/{id}/coupons", "read", "A profile's coupon wallet (status: available, used, expired)"),
    ("get", "/api/v1/teams/{id}", "read", "A group-buy team: status, members, places left, expiry"),
    ("get", "/api/v1/promotions/{id}/teams", "read", "A group-buy's teams, soonest to expire first (status, limit)"),
    ("get", "/api/v1/profiles/{id}/teams", "read", "The group-buy teams a customer opened or joined, newest first"),
    ("get", "/api/v1/loyalty/program", "read", "The points program"),
    ("put", "/api/v1/loyalty/program", "marketer", "Set the points program (if_version: only if unchanged; audited)"),
    (
        "get",
        "/api/v1/loyalty/leaderboard",
        "read",
        "Points earned in a period, most first, with ranks (period, at, limit, profile_id: own rank)",
    ),
    (
        "get",
        "/api/v1/profiles/{id}/points",
        "read",
        "A profile's points: available, pending, debt, next expiry, tier, lots",
    ),
    (
        "post",
        "/api/v1/imports",
        "marketer",
        "Import a file (the body: CSV or JSONL, up to 64 MiB) of orders, customers, products or events in the \
         background (202); the same lines make the same ids, so uploading a file again stores nothing twice",
    ),
    ("get", "/api/v1/imports", "marketer", "The newest imports first (50)"),
    ("get", "/api/v1/imports/{id}", "marketer", "An import's progress: bytes and lines read, imported, rejected"),
    (
        "get",
        "/api/v1/imports/{id}/rejects",
        "marketer",
        "The lines an import rejected, as CSV: line, column, reason, the line as uploaded (up to 10,000)",
    ),
    (
        "post",
        "/api/v1/segments/estimate",
        "read",
        "How many profiles a condition selects now ({text} or {definition}), and a sample of them",
    ),
    ("get", "/api/v1/segments", "read", "Saved segments, newest first (status, cursor, limit)"),
    (
        "post",
        "/api/v1/segments",
        "marketer",
        "Save a segment ({id?, name, description?, text | definition}); its members are decided at once (audited)",
    ),
    ("get", "/api/v1/segments/{id}", "read", "One segment: its condition in both forms, members, version"),
    (
        "put",
        "/api/v1/segments/{id}",
        "marketer",
        "Replace a segment's name, description and condition (if_version); members decided again (audited)",
    ),
    ("post", "/api/v1/segments/{id}/archive", "marketer", "Archive a segment: its members are no longer kept"),
    ("post", "/api/v1/segments/{id}/activate", "marketer", "Make an archived segment active: members decided afresh"),
    ("post", "/api/v1/segments/{id}/refresh", "marketer", "Decide a segment's members from scratch now"),
    ("get", "/api/v1/segments/{id}/members", "read", "A segment's members in profile id order (cursor, limit)"),
    ("get", "/api/v1/segments/{id}/export", "read", "Every member of a segment as CSV: profile_id, member_since"),
    ("get", "/api/v1/segments/{id}/history", "read", "A segment's member count at the end of each hour it changed"),
    ("get", "/api/v1/profiles/{id}/segments", "read", "The saved segments a profile is in, since when"),
    (
        "get",
        "/api/v1/lifecycle/transitions",
        "read",
        "How many profiles moved from each lifecycle stage to each other in the last days (days; 30)",
    ),
    ("get", "/api/v1/profiles/{id}/tags", "read", "A profile's tags: family, source (rule, computed, manual), when"),
    ("put", "/api/v1/profiles/{id}/tags/{tag}", "marketer", "Tag a profile by hand ({family?}; audited)"),
    (
        "delete",
        "/api/v1/profiles/{id}/tags/{tag}",
        "marketer",
        "Remove a tag from a profile, whatever gave it (audited)",
    ),
    ("get", "/api/v1/tags", "read", "Every tag with its family, source and how many profiles hold it"),
    ("post", "/api/v1/tags/sweep", "marketer", "Decide the computed and rule tags now (they are every 10 minutes)"),
    ("get", "/api/v1/tag-rules", "read", "Tag rules: a tag for every profile a condition selects"),
    (
        "put",
        "/api/v1/tag-rules/{tag}",
        "marketer",
        "Save a tag rule ({family?, text | definition}); its tags follow at the next sweep (audited)",
    ),
    ("delete", "/api/v1/tag-rules/{tag}", "marketer", "Delete a tag rule and the tags it gave (audited)"),
    (
        "get",
        "/api/v1/rfm",
        "read",
        "RFM value tiers as of a day (as_of; today): customers and revenue per group and per R × F cell",
    ),
    (
        "get",
        "/api/v1/rfm/customers",
        "read",
        "Every buyer's recency, frequency, monetary, scores 1–5 and group as of a day (as_of, group, cursor, limit)",
    ),
    (
        "get",
        "/api/v1/clusters",
        "read",
        "Buyers clustered by k-means on their RFM (as_of, k, seed): inertia, silhouette, each cluster's size, \
         centre, means and suggested name",
    ),
    ("get", "/api/v1/clusters/elbow", "read", "Inertia and silhouette for k from 2 to max_k, to choose k by"),
    ("get", "/api/v1/lifecycle", "read", "Profiles per lifecycle stage as of a day (as_of), and the rules"),
    ("get", "/api/v1/keys", "admin", "List API keys (never the secrets)"),
    ("get", "/api/v1/settings", "admin", "The settings in force (beacon.toml, BEACON__… variables), secrets left out"),
    ("post", "/api/v1/keys", "admin", "Create a key: {name, kind: secret|write, role}; the secret is shown once"),
    ("delete", "/api/v1/keys/{id}", "admin", "Revoke a key"),
    ("get", "/api/v1/audit", "admin", "The audit log, newest first (cursor, limit, target)"),
    (
        "post",
        "/api/v1/session",
        "none",
        "Log in to the console: {email, password} → a session cookie (HttpOnly) and the CSRF token to send back",
    ),
    ("get", "/api/v1/session", "read", "Who is calling: the console user (with the CSRF token) or the key"),
    ("delete", "/api/v1/session", "read", "Log out: this console session ends"),
    ("post", "/api/v1/session/password", "read", "Change your own password: {current, new}; your other sessions end"),
    ("get", "/api/v1/users", "admin", "Console users"),
    ("post", "/api/v1/users", "admin", "Create a console user: {email, name, role, password, locale} (audited)"),
    ("patch", "/api/v1/users/{id}", "admin", "Change a user's name, role or locale; disable or enable them (audited)"),
    ("post", "/api/v1/users/{id}/password", "admin", "Set a user's password; their sessions end (audited)"),
    ("delete", "/api/v1/users/{id}/sessions", "admin", "End every session of a user (audited)"),
    ("get", "/healthz", "none", "Liveness"),
    ("get", "/readyz", "none", "Readiness: store reachable, accepting traffic"),
    ("get", "/metrics", "none", "Prometheus metrics"),
    ("get", "/openapi.json", "none", "This document"),
];

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
