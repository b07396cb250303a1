//! The one catalogue of stable error codes.
//!
//! Codes are public API: add new ones, never rename or remove. The HTTP status
//! for each code is decided in the server crate only (one exhaustive `match`).

use serde::Serialize;

macro_rules! codes {
    ($($variant:ident => $code:literal, $doc:literal;)*) => {
        /// A stable, machine-readable error code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $(#[doc = $doc] $variant,)*
        }

        impl ErrorCode {
            /// Every code, in catalogue order (used by docs and tests).
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears on the wire.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// A one-line description for the error catalogue.
            pub fn describe(self) -> &'static str {
                match self { $(ErrorCode::$variant => $doc,)* }
            }
        }
    };
}

codes! {
    MalformedJson => "malformed_json", "The body is not valid JSON (or not the JSON shape the route expects).";
    InvalidEncoding => "invalid_encoding", "The body could not be decoded (bad gzip stream or unsupported Content-Encoding).";
    PayloadTooLarge => "payload_too_large", "The body or one event is over the size limit.";
    InvalidEvent => "invalid_event", "An event is missing a required field or a field has the wrong type.";
    MissingIdentity => "missing_identity", "An event has neither userId nor anonymousId.";
    InvalidIdentity => "invalid_identity", "An identity value cannot be normalised (e.g. a phone number that is not a number).";
    InvalidOrder => "invalid_order", "An order, refund, cancellation or review is missing a field or has an invalid amount, quantity or currency.";
    InvalidCart => "invalid_cart", "A cart to price is invalid: a missing price, a negative quantity, too many lines.";
    InvalidPromotion => "invalid_promotion", "A promotion spec is invalid: an unknown field, a missing reward, a negative amount, tiers out of order.";
    InvalidProduct => "invalid_product", "A product is missing a field or has an invalid value (price, stock, status, category).";
    InvalidSegment => "invalid_segment", "A segment's condition cannot be read: the text form at a position (details: position, expected, found), JSON the language cannot mean (details: path), or a saved segment it names that does not exist.";
    InvalidFile => "invalid_file", "An uploaded file cannot be imported: it is empty, or a CSV without a header line (the message says why).";
    InvalidTimestamp => "invalid_timestamp", "A timestamp is not ISO-8601 / RFC 3339.";
    InvalidParameter => "invalid_parameter", "A query or path parameter is invalid.";
    InvalidCursor => "invalid_cursor", "A pagination cursor is not one this server issued.";
    InvalidRole => "invalid_role", "The role is not one of admin, marketer, analyst, viewer.";
    MissingWriteKey => "missing_write_key", "No write key was given (HTTP Basic user or writeKey in the body).";
    InvalidWriteKey => "invalid_write_key", "The write key is unknown or revoked.";
    Unauthenticated => "unauthenticated", "No valid secret key or session was presented.";
    Forbidden => "forbidden", "The key's role does not allow this action.";
    InvalidCredentials => "invalid_credentials", "The email and password of a console login do not match an enabled user.";
    CsrfTokenInvalid => "csrf_token_invalid", "A state-changing call made with the console's session cookie lacks the session's X-CSRF-Token header (or sends another).";
    EdgeAnonymousOnly => "edge_anonymous_only", "An edge node prices carts of anonymous shoppers only: it holds no key to look a shopper up by; price it on a core node.";
    NotFound => "not_found", "The resource does not exist.";
    RouteNotFound => "route_not_found", "No route matches this path.";
    MethodNotAllowed => "method_not_allowed", "The route exists but not with this method.";
    UnsupportedMediaType => "unsupported_media_type", "The Content-Type is not accepted here.";
    Conflict => "conflict", "The change conflicts with the current state (e.g. a duplicate).";
    CouponRejected => "coupon_rejected", "A presented coupon cannot be used for this order; details.reason says why (usage_limit_reached, expired, min_spend_not_met…).";
    CouponLimitReached => "coupon_limit_reached", "A coupon template cannot issue this code: it issued its quantity, or the profile holds as many of its codes as it may (details.reason: quantity_reached, profile_limit_reached), or it is not open for claims (not_claimable, inactive, expired).";
    TeamUnavailable => "team_unavailable", "A group-buy order cannot open or join its team (details.reason: team_full, team_expired, team_failed, already_member, customer_required, or why the group price did not apply).";
    PriceChanged => "price_changed", "The order would cost another total than the expected_total sent (a promotion ran out or changed); price the cart again.";
    IdempotencyKeyReused => "idempotency_key_reused", "The Idempotency-Key was used before for a different request.";
    RateLimited => "rate_limited", "Too many requests for this key; retry after the given delay.";
    RequestTimeout => "request_timeout", "The request's body did not arrive in time (`server.body_timeout_secs`).";
    UriTooLong => "uri_too_long", "The request's URI is over 8 KiB.";
    Unavailable => "unavailable", "The server is starting or shutting down; retry later.";
    Internal => "internal", "An internal error; the cause is in the server log.";
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A domain error: a stable code, a human message and optional details.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<serde_json::Value>,
}

impl Error {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Error { code, message: message.into(), details: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_snake_case_and_match_serde() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(s.to_string()));
        }
    }
}
