//! Reading an ingest body: content type, size limits, gzip.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use beacon_core::ErrorCode;
use beacon_core::message::MAX_BATCH_BYTES;
use std::io::Read;

/// Largest body an admin route reads (after decompression): a bulk request
/// of a thousand orders or products fits.
pub const MAX_ADMIN_BYTES: usize = 2 << 20;

fn too_large(limit: usize) -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is over {limit} bytes (after decompression)"))
}

/// Accepts `application/json`, `text/plain` (browser beacons) or no type.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else { return Ok(()) };
    let mime = value.to_str().unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if matches!(mime.as_str(), "application/json" | "text/plain" | "") {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!("Content-Type {mime:?} is not accepted; send application/json or text/plain"),
        ))
    }
}

/// The decoded body, at most [`MAX_BATCH_BYTES`] long.
pub async fn read(headers: &HeaderMap, body: Body) -> Result<Vec<u8>, ApiError> {
    check_content_type(headers)?;
    decoded(headers, body, MAX_BATCH_BYTES).await
}

/// The body, gunzipped if it says so, at most `limit` bytes either way.
pub async fn decoded(headers: &HeaderMap, body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let raw = axum::body::to_bytes(body, limit).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            too_large(limit)
        } else {
            ApiError::new(ErrorCode::InvalidEncoding, "the body could not be read")
        }
    })?;
    let encoding =
        headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_ascii_lowercase());
    match encoding.as_deref() {
        None | Some("" | "identity") => Ok(raw.to_vec()),
        Some("gzip" | "x-gzip") => {
            let mut out = Vec::with_capacity(raw.len() * 4);
            // read one byte past the limit to tell "exactly at" from "over"
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| ApiError::new(ErrorCode::InvalidEncoding, "the body is not a valid gzip stream"))?;
            if out.len() > limit {
                return Err(too_large(limit));
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidEncoding,
            format!("Content-Encoding {other:?} is not supported; use gzip or none"),
        )),
    }
}
