//! Extractors whose rejections use the one JSON error shape, and cursors.

use crate::error::ApiError;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use beacon_core::ErrorCode;
use beacon_store::{PageRequest, Position};
use serde::de::DeserializeOwned;

/// Largest page a list returns.
pub const MAX_PAGE: u32 = 200;
pub const DEFAULT_PAGE: u32 = 50;

pub struct Query<T>(pub T);
pub struct Path<T>(pub T);
pub struct Json<T>(pub T);

/// A NUL character (`%00`) in a parameter: no text column stores one
/// (PostgreSQL refuses it), so it is refused here, for every route.
fn refuse_nul(text: &str, what: &str) -> Result<(), ApiError> {
    if text.contains("%00") || text.contains('\0') {
        return Err(ApiError::new(ErrorCode::InvalidParameter, format!("the {what} holds a NUL character (%00)")));
    }
    Ok(())
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(parts.uri.query().unwrap_or(""), "query")?;
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e: QueryRejection| ApiError::new(ErrorCode::InvalidParameter, e.body_text()))
    }
}

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        refuse_nul(parts.uri.path(), "path")?;
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|e: PathRejection| ApiError::new(ErrorCode::InvalidParameter, e.body_text()))
    }
}

/// A JSON body (`Content-Type: application/json`; gzip decoded; at most
/// [`super::ingest::body::MAX_ADMIN_BYTES`]) read into `T`.
impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let mime = parts.headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if mime != "application/json" && !(mime.starts_with("application/") && mime.ends_with("+json")) {
            return Err(ApiError::new(
                ErrorCode::UnsupportedMediaType,
                format!("send the body as Content-Type: application/json, not {mime:?}"),
            ));
        }
        let bytes = super::ingest::body::decoded(&parts.headers, body, super::ingest::body::MAX_ADMIN_BYTES).await?;
        // every body this API takes is an object (serde would read an array
        // as a struct's fields in order)
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(ApiError::new(ErrorCode::MalformedJson, "the body must be a JSON object ({…})"));
        }
        serde_json::from_slice(&bytes).map(Json).map_err(|e| {
            ApiError::new(ErrorCode::MalformedJson, format!("the body is not the JSON this route takes: {e}"))
        })
    }
}

pub fn encode_cursor(pos: &Position) -> String {
    B64.encode(format!("{}:{}", pos.0, pos.1))
}

pub fn decode_cursor(s: &str) -> Result<Position, ApiError> {
    let bad = || ApiError::new(ErrorCode::InvalidCursor, "the cursor is not one this server issued");
    let text = String::from_utf8(B64.decode(s).map_err(|_| bad())?).map_err(|_| bad())?;
    let (a, b) = text.split_once(':').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, b.to_string()))
}

pub fn page_request(cursor: Option<&str>, limit: Option<u32>) -> Result<PageRequest, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if limit == 0 || limit > MAX_PAGE {
        return Err(ApiError::new(ErrorCode::InvalidParameter, format!("limit must be 1..={MAX_PAGE}")));
    }
    Ok(PageRequest { after: cursor.map(decode_cursor).transpose()?, limit })
}

/// `?cursor=…&limit=…`, for lists with no other parameters.
#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

impl PageParams {
    pub fn request(&self) -> Result<PageRequest, ApiError> {
        page_request(self.cursor.as_deref(), self.limit)
    }
}

/// The `Idempotency-Key` header, if sent: 1 to 200 characters, no control
/// characters (surrounding spaces dropped).
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key").map(|v| v.to_str().map(str::trim)) {
        None => Ok(None),
        Some(Ok(k)) if !k.is_empty() && k.len() <= 200 && !k.chars().any(char::is_control) => Ok(Some(k.to_string())),
        Some(_) => Err(ApiError::new(ErrorCode::InvalidParameter, "Idempotency-Key must be 1 to 200 characters")),
    }
}
