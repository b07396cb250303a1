//! Reading an ingest body: content type, size limits, gzip.

use crate::error::ApiError;
use axum::body::Body;
use axum::http::{HeaderMap, header};
use beacon_core::ErrorCode;
use beacon_core::message::MAX_BATCH_BYTES;
use std::io::Read;

fn too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, format!("the body is over {MAX_BATCH_BYTES} bytes (after decompression)"))
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
    let raw = axum::body::to_bytes(body, MAX_BATCH_BYTES).await.map_err(|e| {
        if std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>()) {
            too_large()
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
                .take(MAX_BATCH_BYTES as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|_| ApiError::new(ErrorCode::InvalidEncoding, "the body is not a valid gzip stream"))?;
            if out.len() > MAX_BATCH_BYTES {
                return Err(too_large());
            }
            Ok(out)
        }
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidEncoding,
            format!("Content-Encoding {other:?} is not supported; use gzip or none"),
        )),
    }
}
