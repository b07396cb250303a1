//! The one JSON error shape, and the one place codes become HTTP statuses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beacon_core::{Error, ErrorCode};
use beacon_store::StoreError;
use serde_json::json;

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    pub error: Error,
    /// Seconds, for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError { error: Error::new(code, message), retry_after: None }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.error.details = Some(details);
        self
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        beacon_store::internal_error(cause).into()
    }
}

impl From<Error> for ApiError {
    /// `unavailable` asks the client to retry in a second.
    fn from(error: Error) -> Self {
        let retry_after = (error.code == ErrorCode::Unavailable).then_some(1);
        ApiError { error, retry_after }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Error::from(e).into()
    }
}

/// The HTTP status of each code. Exhaustive: a new code must be placed here.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode::*;
    match code {
        MalformedJson | InvalidEncoding | PayloadTooLarge | InvalidEvent | MissingIdentity | InvalidIdentity
        | InvalidOrder | InvalidProduct | InvalidPromotion | InvalidSegment | InvalidCart | InvalidFile
        | InvalidTimestamp | InvalidParameter | InvalidCursor | InvalidRole => StatusCode::BAD_REQUEST,
        MissingWriteKey | InvalidWriteKey | Unauthenticated | InvalidCredentials => StatusCode::UNAUTHORIZED,
        Forbidden | EdgeAnonymousOnly | CsrfTokenInvalid => StatusCode::FORBIDDEN,
        NotFound | RouteNotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Conflict | CouponRejected | CouponLimitReached | TeamUnavailable | PriceChanged => StatusCode::CONFLICT,
        IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
        RateLimited => StatusCode::TOO_MANY_REQUESTS,
        RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        UriTooLong => StatusCode::URI_TOO_LONG,
        Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.error.code);
        let mut body = json!({"code": self.error.code.as_str(), "message": self.error.message});
        if let Some(details) = self.error.details {
            body["details"] = details;
        }
        let mut resp = (status, axum::Json(json!({ "error": body }))).into_response();
        if let Some(secs) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_catalogue_document_lists_every_code_with_its_status() {
        let doc = include_str!("../../../docs/ERRORS.md");
        for code in ErrorCode::ALL {
            let row = format!("| `{}` | {} | {} |", code.as_str(), status_of(*code).as_u16(), code.describe());
            assert!(doc.contains(&row), "docs/ERRORS.md is missing or outdated for: {row}");
        }
    }

    #[test]
    fn client_errors_are_4xx_and_bodies_have_the_one_shape() {
        for code in ErrorCode::ALL {
            let s = status_of(*code);
            assert!(s.is_client_error() || s.is_server_error());
        }
        let resp = ApiError::new(ErrorCode::RateLimited, "slow down").into_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    }
}
