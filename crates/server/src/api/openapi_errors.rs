//! The error codes each operation can answer (docs/ERRORS.md has them
//! all): what every route of its kind can say (authentication, a body, a
//! query, an id in the path) and what its own rules can say. The document
//! lists them per status, so a client knows which codes to handle where,
//! and schemathesis holds the server to them.

use beacon_core::ErrorCode::{self, *};

fn domain(method: &str, path: &str) -> &'static [ErrorCode] {
    match (method, path) {
        ("post", p) if p.starts_with("/v1/") => &[InvalidEvent, MissingIdentity, InvalidIdentity, InvalidTimestamp],
        ("post", "/api/v1/events") => &[InvalidEvent, MissingIdentity, InvalidIdentity, InvalidTimestamp],
        ("post", "/api/v1/orders") => &[
            InvalidOrder,
            InvalidCart,
            InvalidIdentity,
            InvalidTimestamp,
            CouponRejected,
            TeamUnavailable,
            PriceChanged,
            IdempotencyKeyReused,
            Conflict,
        ],
        ("post", "/api/v1/carts/price") => {
            &[InvalidCart, InvalidIdentity, InvalidTimestamp, CouponRejected, TeamUnavailable, EdgeAnonymousOnly]
        }
        ("post", "/api/v1/products") | ("put", "/api/v1/products/{id}") | ("post", "/api/v1/products/bulk") => {
            &[InvalidProduct]
        }
        ("post", "/api/v1/promotions") => &[InvalidPromotion, Conflict],
        ("put", "/api/v1/promotions/{id}") => &[InvalidPromotion, Conflict],
        ("post", p) if p.starts_with("/api/v1/promotions/{id}/") && !p.ends_with("/coupons") => &[Conflict],
        ("post", "/api/v1/promotions/{id}/coupons") => &[CouponLimitReached, IdempotencyKeyReused, Conflict],
        ("post", "/api/v1/coupons/claim") => &[CouponLimitReached, InvalidIdentity, IdempotencyKeyReused, Conflict],
        ("put", "/api/v1/loyalty/program") => &[InvalidPromotion, Conflict],
        ("post", "/api/v1/keys") => &[InvalidRole],
        ("post", "/api/v1/orders/{id}/refunds") => &[InvalidOrder, InvalidEvent, IdempotencyKeyReused],
        ("post", "/api/v1/imports") => &[InvalidFile],
        ("post", "/api/v1/segments/estimate") => &[InvalidSegment],
        ("put", "/api/v1/tag-rules/{tag}") => &[InvalidSegment, InvalidParameter],
        ("put", "/api/v1/profiles/{id}/tags/{tag}") => &[InvalidParameter],
        ("post", "/api/v1/segments") | ("put", "/api/v1/segments/{id}") => &[InvalidSegment, Conflict],
        ("post", p) if p.starts_with("/api/v1/segments/{id}/") => &[Conflict],
        ("post", "/api/v1/session") => &[InvalidCredentials],
        ("post", "/api/v1/session/password") => &[InvalidCredentials],
        ("post", "/api/v1/users") | ("patch", "/api/v1/users/{id}") => &[InvalidRole, Conflict],
        ("delete", "/api/v1/keys/{id}") => &[Conflict],
        ("get", "/api/v1/profiles") | ("get", "/api/v1/orders") | ("get", "/api/v1/loyalty/leaderboard") => {
            &[InvalidTimestamp, InvalidIdentity]
        }
        ("get", "/api/v1/overview/daily") | ("get", "/api/v1/dashboard") => &[InvalidTimestamp],
        _ => &[],
    }
}

/// The codes `method path` (with authentication `auth`: `write`, `none` or
/// a role) can answer, besides `internal` and `unavailable`.
pub fn codes(method: &str, path: &str, auth: &str, body: bool, query: bool) -> Vec<ErrorCode> {
    let mut codes = vec![UriTooLong, RateLimited];
    match auth {
        "none" => {}
        "write" => codes.extend([MissingWriteKey, InvalidWriteKey]),
        _ => {
            codes.extend([Unauthenticated, Forbidden]);
            if method != "get" {
                codes.push(CsrfTokenInvalid);
            }
        }
    }
    if path.starts_with("/v1/") && method == "get" {
        codes.extend([MissingWriteKey, InvalidWriteKey]);
    }
    if body {
        // (a field read as a parameter: a key's kind, a header that goes with the body)
        codes.extend([
            MalformedJson,
            InvalidEncoding,
            PayloadTooLarge,
            UnsupportedMediaType,
            RequestTimeout,
            InvalidParameter,
        ]);
    }
    if query || path.contains('{') {
        codes.extend([InvalidParameter, InvalidCursor]);
    }
    // (a list of a profile's orders: the profile must be there)
    let names_one = ["/api/v1/loyalty/program", "/api/v1/coupons/claim", "/api/v1/orders"];
    if path.contains('{') || names_one.contains(&path) {
        codes.push(NotFound);
    }
    if path.starts_with("/api/v1/") && method != "get" {
        // lists and bodies naming a profile or a promotion that is not there
        codes.push(NotFound);
    }
    codes.extend(domain(method, path));
    let mut seen = Vec::new();
    codes.retain(|c| {
        let new = !seen.contains(c);
        seen.push(*c);
        new
    });
    codes
}
