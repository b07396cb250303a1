//! `/api/v1/segments`: an unsaved condition estimated, saved segments with
//! their members (paged and as CSV), count history and lifecycle (archive,
//! activate, refresh), and the segments of a profile. Conditions come as
//! `text` (the text form) or `definition` (the JSON form); see
//! docs/SEGMENTS.md.

use super::extract::{Json as JsonBody, Path, Query, encode_cursor, page_request};
use crate::app::segments::{self, SegmentInput};
use crate::auth::{Authorized, ManageMarketing, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_segment::Condition;
use beacon_store::{PageRequest, StoredSegment};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/segments", get(list).post(create))
        .route("/api/v1/segments/estimate", post(estimate))
        .route("/api/v1/segments/{id}", get(one).put(replace))
        .route("/api/v1/segments/{id}/members", get(members))
        .route("/api/v1/segments/{id}/export", get(export))
        .route("/api/v1/segments/{id}/history", get(history))
        .route("/api/v1/segments/{id}/{action}", post(act))
        .route("/api/v1/profiles/{id}/segments", get(of_profile))
}

/// A condition in one of its forms.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EstimateRequest {
    /// The text form (`performed "Product Viewed" >= 3 within 30d`).
    #[schema(max_length = 20000)]
    pub text: Option<String>,
    /// The JSON form.
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    /// How many members to name (0 to 100; 10 by default).
    #[schema(minimum = 0, maximum = 100)]
    pub sample: Option<u32>,
}

/// A segment to save.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentRequest {
    /// 1 to 64 of a-z, 0-9, `-` and `_` (made up when not given).
    #[schema(max_length = 64)]
    pub id: Option<String>,
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// The condition's text form (or `definition`).
    #[schema(max_length = 20000)]
    pub text: Option<String>,
    /// The condition's JSON form (or `text`).
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

pub(super) fn condition_of(text: Option<&str>, definition: Option<&Value>) -> ApiResult<Condition> {
    if text.is_some_and(|t| t.chars().count() > 20_000) {
        return Err(ApiError::new(ErrorCode::InvalidSegment, "the text is longer than 20,000 characters"));
    }
    Ok(segments::read(text, definition)?)
}

fn input(body: SegmentRequest) -> ApiResult<SegmentInput> {
    if body.description.as_ref().is_some_and(|d| d.chars().count() > 2000) {
        return Err(ApiError::new(ErrorCode::InvalidSegment, "a description is up to 2,000 characters"));
    }
    let condition = condition_of(body.text.as_deref(), body.definition.as_ref())?;
    Ok(SegmentInput { id: body.id, name: body.name, description: body.description, condition })
}

pub fn segment_json(s: &StoredSegment) -> Value {
    let text = serde_json::from_value::<Condition>(s.definition.clone()).map(|c| c.to_string()).ok();
    json!({
        "id": s.id, "name": s.name, "description": s.description, "definition": s.definition, "text": text,
        "status": s.status, "version": s.version, "members": s.members, "evaluated_at": s.evaluated_at,
        "created_by": s.created_by, "created_at": s.created_at, "updated_at": s.updated_at,
    })
}

async fn estimate(
    _: Authorized<Read>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<EstimateRequest>,
) -> ApiResult<Json<Value>> {
    let sample = body.sample.unwrap_or(10);
    if sample > 100 {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "sample is 0 to 100"));
    }
    let condition = condition_of(body.text.as_deref(), body.definition.as_ref())?;
    let started = std::time::Instant::now();
    let e = segments::estimate(&state, &condition, sample as usize).await?;
    Ok(Json(json!({
        "count": e.count, "profiles": e.profiles, "sample": e.sample, "text": condition.to_string(),
        "definition": condition, "took_ms": started.elapsed().as_millis() as u64,
    })))
}

async fn create(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<SegmentRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let made = segments::create(&state, input(body)?, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(segment_json(&made))))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Version {
    /// Only if the segment is still at this version (optimistic locking).
    pub if_version: Option<i64>,
}

async fn replace(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(v): Query<Version>,
    JsonBody(body): JsonBody<SegmentRequest>,
) -> ApiResult<Json<Value>> {
    let saved = segments::replace(&state, &id, input(body)?, v.if_version, &auth.actor()).await?;
    Ok(Json(segment_json(&saved)))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(segment_json(&segments::get(&state, &id).await?)))
}

/// `archive`, `activate` or `refresh` (decide the members from scratch now).
async fn act(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let saved = match action.as_str() {
        "archive" => segments::set_status(&state, &id, "archived", &auth.actor()).await?,
        "activate" => segments::set_status(&state, &id, "active", &auth.actor()).await?,
        "refresh" => {
            let changed = segments::refresh(&state, &id).await?;
            let s = segments::get(&state, &id).await?;
            let mut out = segment_json(&s);
            out["entered"] = json!(changed.entered.len());
            out["exited"] = json!(changed.exited.len());
            return Ok(Json(out));
        }
        _ => return Err(ApiError::new(ErrorCode::RouteNotFound, "the actions are archive, activate and refresh")),
    };
    Ok(Json(segment_json(&saved)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(pattern = "^(active|archived)$")]
    pub status: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

async fn list(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    if p.status.as_deref().is_some_and(|s| s != "active" && s != "archived") {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "status must be active or archived"));
    }
    let page = page_request(p.cursor.as_deref(), p.limit)?;
    let page = state.store.segments().list_segments(p.status.as_deref(), &page).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(segment_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MembersParams {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// A page of members in profile id order.
async fn members(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<MembersParams>,
) -> ApiResult<Json<Value>> {
    let segment = segments::get(&state, &id).await?;
    let page =
        state.store.segments().segment_members(&segment.id, &page_request(p.cursor.as_deref(), p.limit)?).await?;
    let items: Vec<Value> = page.items.iter().map(|m| json!({"profile_id": m.profile_id, "since": m.since})).collect();
    Ok(Json(json!({"segment": segment.id, "members": segment.members, "items": items,
                   "next_cursor": page.next.as_ref().map(encode_cursor)})))
}

/// Every member as CSV: profile id and since when.
async fn export(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let segment = segments::get(&state, &id).await?;
    let mut rows = Vec::new();
    let mut page = PageRequest { after: None, limit: 5000 };
    loop {
        let got = state.store.segments().segment_members(&segment.id, &page).await?;
        rows.extend(got.items.into_iter().map(|m| [m.profile_id, m.since.to_rfc3339()]));
        match got.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    super::csv_out::download(&format!("segment-{}.csv", segment.id), &["profile_id", "member_since"], rows)
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// From this time (RFC 3339); 30 days back by default.
    pub since: Option<DateTime<Utc>>,
}

/// The member count at the end of each hour it changed.
async fn history(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<HistoryParams>,
) -> ApiResult<Json<Value>> {
    let segment = segments::get(&state, &id).await?;
    let since = p.since.unwrap_or_else(|| state.now() - chrono::Duration::days(30));
    let items: Vec<Value> = state
        .store
        .segments()
        .segment_history(&segment.id, since)
        .await?
        .into_iter()
        .map(|(at, members)| json!({"hour": at, "members": members}))
        .collect();
    Ok(Json(json!({"segment": segment.id, "items": items})))
}

async fn of_profile(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (profile, items) = segments::of_profile(&state, &id).await?;
    let items: Vec<Value> = items
        .iter()
        .map(|(s, since)| json!({"segment_id": s.id, "name": s.name, "status": s.status, "since": since}))
        .collect();
    Ok(Json(json!({"profile": profile, "items": items})))
}
