//! `/api/v1/promotions`: specs with their lifecycle (draft → scheduled →
//! active → paused → ended), every change audited (`promotion:<id>` in
//! `/api/v1/audit`).

use super::extract::{Json as JsonBody, Path, Query, encode_cursor, page_request};
use crate::app::promotions;
use crate::auth::{Authorized, ManageMarketing, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_pricing::lifecycle::{Action, effective};
use beacon_pricing::spec::Status;
use beacon_store::StoredPromotion;
use chrono::Utc;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/promotions", get(list).post(create))
        .route("/api/v1/promotions/{id}", get(one).put(replace))
        .route("/api/v1/promotions/{id}/usage", get(usage))
        .route("/api/v1/promotions/{id}/{action}", post(act))
}

fn promotion_json(p: &StoredPromotion, now: chrono::DateTime<Utc>) -> Value {
    let status = Status::parse(&p.status);
    let (starts, ends) = (p.spec.get("starts_at"), p.spec.get("ends_at"));
    let time = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| s.parse::<chrono::DateTime<Utc>>().ok());
    let now_status = status.map(|s| effective(s, time(starts), time(ends), now).as_str());
    json!({
        "id": p.id,
        "status": p.status,
        "effective_status": now_status,
        "version": p.version,
        "spec": p.spec,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

async fn create(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let made = promotions::create(&state, spec, &auth.actor()).await?;
    Ok((StatusCode::CREATED, Json(promotion_json(&made, state.now()))))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Version {
    /// Only if the promotion is still at this version (optimistic locking).
    pub if_version: Option<i64>,
}

async fn replace(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(v): Query<Version>,
    JsonBody(spec): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let saved = promotions::replace(&state, &id, spec, v.if_version, &auth.actor()).await?;
    Ok(Json(promotion_json(&saved, state.now())))
}

async fn act(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let action = Action::parse(&action)
        .ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound, "the actions are activate, pause, resume and end"))?;
    let saved = promotions::act(&state, &id, action, &auth.actor()).await?;
    Ok(Json(promotion_json(&saved, state.now())))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(promotion_json(&promotions::get(&state, &id).await?, state.now())))
}

/// How much of each limit is used: one entry per counter (limit, period, subject).
async fn usage(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = promotions::usage(&state, &id)
        .await?
        .iter()
        .map(|u| {
            json!({
                "limit_index": u.limit_index, "period": u.period, "subject": u.subject, "counts": u.counts,
                "counter": u.counter, "used": u.used, "max": u.max, "currency": u.currency,
            })
        })
        .collect();
    Ok(Json(json!({"promotion": id, "items": items})))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(pattern = "^(draft|scheduled|active|paused|ended)$")]
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
    if let Some(s) = &p.status
        && Status::parse(s).is_none()
    {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "status must be draft, scheduled, active, paused or ended",
        ));
    }
    let page = state
        .store
        .promotions()
        .list_promotions(p.status.as_deref(), &page_request(p.cursor.as_deref(), p.limit)?)
        .await?;
    Ok(Json(json!({
        "items": page.items.iter().map(|p| promotion_json(p, state.now())).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}
