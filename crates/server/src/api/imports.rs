//! Uploaded imports (`/api/v1/imports`): the file is the body, how to
//! read it the query; the answer (202) is the import, whose progress
//! `GET /api/v1/imports/{id}` reads, and whose rejected lines
//! `GET /api/v1/imports/{id}/rejects` downloads as CSV. `app::imports`
//! reads the file.

use super::extract::{Path, Query};
use super::ingest::body;
use crate::app::imports::{self, MAX_UPLOAD_BYTES, Upload};
use crate::auth::{Authorized, ManageData};
use crate::error::{ApiError, ApiResult};
use crate::import::{Format, Kind, Mapping};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_store::Import;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/imports", get(list).post(upload))
        .route("/api/v1/imports/{id}", get(one))
        .route("/api/v1/imports/{id}/rejects", get(rejects))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// What the file holds.
    #[param(pattern = "^(orders|customers|products|events)$")]
    pub kind: String,
    /// `csv` (a header line, then a line per row) or `jsonl` (a JSON object
    /// per line); by default from the Content-Type (`text/csv`,
    /// `application/x-ndjson`) or the name's extension.
    #[param(pattern = "^(csv|jsonl|ndjson)$")]
    pub format: Option<String>,
    /// The file's name, as shown in the list.
    #[param(max_length = 200)]
    pub name: Option<String>,
    /// Currency of orders that name none (ISO 4217).
    #[param(pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// A named column mapping: `cdnow` (orders).
    pub preset: Option<String>,
    /// Columns to map, `COLUMN=FIELD[:DATE_FORMAT]`, comma-separated
    /// (`date=placed_at:%Y%m%d,customer=user_id`).
    pub map: Option<String>,
}

fn bad(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidParameter, message)
}

/// The file's format: asked for, or from its Content-Type or name.
fn format_of(p: &UploadParams, headers: &HeaderMap) -> ApiResult<Format> {
    if let Some(f) = &p.format {
        return match f.as_str() {
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            _ => Err(bad("format must be csv or jsonl")),
        };
    }
    let mime = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let mime = mime.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let by_type = match mime.as_str() {
        "text/csv" => Some(Format::Csv),
        "application/x-ndjson" | "application/jsonl" | "application/x-jsonlines" => Some(Format::Jsonl),
        _ => None,
    };
    let by_name = || p.name.as_deref().map(std::path::Path::new).and_then(Format::of_path);
    by_type.or_else(by_name).ok_or_else(|| bad("say the format: format=csv or format=jsonl"))
}

fn mapping_of(p: &UploadParams, kind: Kind) -> ApiResult<Mapping> {
    let mut mapping = match &p.preset {
        Some(name) => Mapping::preset(kind, name).map_err(bad)?,
        None => Mapping::default(),
    };
    for spec in p.map.as_deref().unwrap_or("").split(',').filter(|s| !s.trim().is_empty()) {
        mapping.add(kind, spec.trim()).map_err(bad)?;
    }
    if let Some(c) = &p.currency {
        let code = beacon_core::Currency::parse(c).ok_or_else(|| bad(format!("currency {c:?} is not ISO 4217")))?;
        mapping.currency = Some(code.code().to_string());
    }
    Ok(mapping)
}

fn import_json(state: &AppState, i: &Import) -> Value {
    json!({
        "id": i.id, "kind": i.kind, "format": i.format, "file_name": i.file_name,
        "status": imports::status_of(state, i),
        "bytes_total": i.bytes_total, "bytes_read": i.bytes_read, "lines": i.lines,
        "accepted": i.accepted, "rejected": i.rejected, "notes": i.notes, "error": i.error,
        "created_by": i.created_by, "created_at": i.created_at, "updated_at": i.updated_at,
        "finished_at": i.finished_at,
    })
}

/// Uploads a file to import.
async fn upload(
    who: Authorized<ManageData>,
    State(state): State<AppState>,
    Query(p): Query<UploadParams>,
    headers: HeaderMap,
    raw: Body,
) -> ApiResult<Response> {
    let kind = Kind::parse(&p.kind).ok_or_else(|| bad("kind must be orders, customers, products or events"))?;
    if p.name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(bad("name is at most 200 characters"));
    }
    let format = format_of(&p, &headers)?;
    let mapping = mapping_of(&p, kind)?;
    let body = std::sync::Arc::from(body::decoded(&headers, raw, MAX_UPLOAD_BYTES).await?);
    let file_name = p.name.clone().filter(|n| !n.trim().is_empty());
    let import = imports::start(&state, &who.actor(), Upload { kind, format, mapping, file_name, body }).await?;
    let location = HeaderValue::from_str(&format!("/api/v1/imports/{}", import.id)).ok();
    let mut resp = (StatusCode::ACCEPTED, Json(import_json(&state, &import))).into_response();
    if let Some(l) = location {
        resp.headers_mut().insert(header::LOCATION, l);
    }
    Ok(resp)
}

/// The newest imports first.
async fn list(_: Authorized<ManageData>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let items = state.store.imports().list_imports(50).await?;
    Ok(Json(json!({"items": items.iter().map(|i| import_json(&state, i)).collect::<Vec<_>>()})))
}

async fn found(state: &AppState, id: &str) -> ApiResult<Import> {
    state.store.imports().get_import(id).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such import"))
}

async fn one(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(import_json(&state, &found(&state, &id).await?)))
}

/// The rejected lines kept, as CSV: line, column, reason, the line's text.
async fn rejects(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let import = found(&state, &id).await?;
    let rejects = state.store.imports().import_rejects(&import.id).await?;
    let rows = rejects
        .iter()
        .map(|r| [r.line.to_string(), r.column.clone().unwrap_or_default(), r.reason.clone(), r.text.clone()]);
    super::csv_out::download(&format!("{}-rejected.csv", import.id), &["line", "column", "reason", "text"], rows)
}
