//! `/api/v1/promotions`: specs with their lifecycle (draft → scheduled →
//! active → paused → ended), every change audited (`promotion:<id>` in
//! `/api/v1/audit`).

use super::extract::{Json as JsonBody, Path, Query, encode_cursor, page_request};
use crate::auth::{Authorized, ManageMarketing, Read};
use crate::checkout::cache::compile;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_pricing::lifecycle::{Action, effective, transition};
use beacon_pricing::spec::Status;
use beacon_store::StoredPromotion;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/promotions", get(list).post(create))
        .route("/api/v1/promotions/{id}", get(one).put(replace))
        .route("/api/v1/promotions/{id}/usage", get(usage))
        .route("/api/v1/promotions/{id}/{action}", post(act))
}

fn promotion_json(p: &StoredPromotion) -> Value {
    let status = Status::parse(&p.status);
    let (starts, ends) = (p.spec.get("starts_at"), p.spec.get("ends_at"));
    let time = |v: Option<&Value>| v.and_then(Value::as_str).and_then(|s| s.parse::<chrono::DateTime<Utc>>().ok());
    let now_status = status.map(|s| effective(s, time(starts), time(ends), Utc::now()).as_str());
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

/// Checks a spec against the shop currency; returns it without `status`.
fn checked(
    state: &AppState,
    mut spec: Map<String, Value>,
    id: Option<&str>,
) -> ApiResult<(Map<String, Value>, Status)> {
    let status = match spec.remove("status") {
        None => Status::Draft,
        Some(Value::String(s)) => match Status::parse(&s) {
            Some(st @ (Status::Draft | Status::Active | Status::Scheduled)) => st,
            _ => {
                return Err(ApiError::new(
                    ErrorCode::InvalidPromotion,
                    "status, when given, must be draft, scheduled or active (pause and end are actions)",
                ));
            }
        },
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidPromotion, "status must be a string")),
    };
    if let Some(id) = id {
        match spec.get("id") {
            None => {
                spec.insert("id".into(), json!(id));
            }
            Some(v) if v == id => {}
            Some(_) => {
                return Err(ApiError::new(ErrorCode::InvalidPromotion, "the spec's id is not the one in the path"));
            }
        }
    }
    let stored = StoredPromotion {
        id: spec.get("id").and_then(Value::as_str).unwrap_or_default().to_string(),
        status: status.as_str().into(),
        spec: Value::Object(spec.clone()),
        version: 0,
        created_at: Utc::now(),
        updated_at: Utc::now(),
    };
    compile(&stored, state.rules.currency)?;
    Ok((spec, status))
}

async fn create(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    JsonBody(spec): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let (spec, mut status) = checked(&state, spec, None)?;
    let id = spec.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
    if status == Status::Active {
        // active from a future start is scheduled
        status = transition(Status::Draft, Action::Activate, starts_at(&spec), Utc::now())?;
    }
    let made = state
        .store
        .promotions()
        .create_promotion(&id, status.as_str(), &Value::Object(spec), &auth.actor(), Utc::now())
        .await?;
    state.promotions.invalidate();
    Ok((StatusCode::CREATED, Json(promotion_json(&made))))
}

fn starts_at(spec: &Map<String, Value>) -> Option<chrono::DateTime<Utc>> {
    spec.get("starts_at").and_then(Value::as_str).and_then(|s| s.parse().ok())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Version {
    /// Only if the promotion is still at this version (optimistic locking).
    if_version: Option<i64>,
}

async fn replace(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(v): Query<Version>,
    JsonBody(spec): JsonBody<Map<String, Value>>,
) -> ApiResult<Json<Value>> {
    let current = stored(&state, &id).await?;
    if current.status == "ended" {
        return Err(ApiError::new(ErrorCode::Conflict, "an ended promotion cannot change; copy it into a new one"));
    }
    let had_status = spec.contains_key("status");
    let (spec, _) = checked(&state, spec, Some(&id))?;
    if had_status {
        return Err(ApiError::new(
            ErrorCode::InvalidPromotion,
            "status changes through /activate, /pause, /resume and /end, not in the spec",
        ));
    }
    let version = v.if_version.unwrap_or(current.version);
    let saved = state
        .store
        .promotions()
        .update_promotion(&id, version, &current.status, &Value::Object(spec), &auth.actor(), Utc::now())
        .await?;
    state.promotions.invalidate();
    Ok(Json(promotion_json(&saved)))
}

async fn act(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path((id, action)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let action = Action::parse(&action)
        .ok_or_else(|| ApiError::new(ErrorCode::RouteNotFound, "the actions are activate, pause, resume and end"))?;
    let current = stored(&state, &id).await?;
    let from = Status::parse(&current.status)
        .ok_or_else(|| ApiError::internal(format!("stored status {:?}", current.status)))?;
    let spec = current.spec.as_object().cloned().unwrap_or_default();
    let to = transition(from, action, starts_at(&spec), Utc::now())?;
    let saved = state
        .store
        .promotions()
        .update_promotion(&id, current.version, to.as_str(), &current.spec, &auth.actor(), Utc::now())
        .await?;
    state.promotions.invalidate();
    Ok(Json(promotion_json(&saved)))
}

async fn stored(state: &AppState, id: &str) -> ApiResult<StoredPromotion> {
    state
        .store
        .promotions()
        .get_promotion(id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such promotion"))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(promotion_json(&stored(&state, &id).await?)))
}

/// How much of each limit is used: one entry per counter (limit, period, subject).
async fn usage(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let p = stored(&state, &id).await?;
    let limits = p.spec.get("limits").and_then(Value::as_array).cloned().unwrap_or_default();
    let counters = state.store.promotions().promotion_counters(&id).await?;
    let items: Vec<Value> = counters
        .iter()
        .map(|(key, used)| {
            // <id>|<limit>|<period>|<subject>, the id itself may hold '|'; a coupon
            // template's counters have `code`, `issued` or `held` for the limit
            let mut rest = key.strip_prefix(&format!("{id}|")).unwrap_or(key).splitn(3, '|');
            let first = rest.next();
            let limit: Option<usize> = first.and_then(|l| l.parse().ok());
            let spec = limit.and_then(|l| limits.get(l));
            json!({
                "limit": limit, "period": rest.next(), "subject": rest.next(), "used": used,
                "counts": if limit.is_some() { Some("limit") } else { first },
                "counter": spec.and_then(|s| s.get("counter")), "max": spec.and_then(|s| s.get("limit")),
            })
        })
        .collect();
    Ok(Json(json!({"promotion": id, "items": items})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
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
        "items": page.items.iter().map(promotion_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}
