//! `/api/v1/profiles`, `/api/v1/overview`.

use super::extract::{PageParams, Path, Query, encode_cursor, page_request};
use crate::auth::{Authorized, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::message::parse_time;
use beacon_core::{ErrorCode, Identity, Money, ProfileId};
use beacon_store::{Profile, ProfileQuery, StoredEvent};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles", get(list))
        .route("/api/v1/profiles/{id}", get(one))
        .route("/api/v1/profiles/{id}/events", get(events))
        .route("/api/v1/overview", get(overview))
}

pub fn profile_json(p: &Profile) -> Value {
    json!({
        "id": p.id,
        "identities": p.identities,
        "traits": p.traits,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "event_count": p.event_count,
        "merges": p.merges,
    })
}

fn event_json(e: &StoredEvent) -> Value {
    json!({
        "seq": e.seq,
        "message_id": e.message_id,
        "type": e.kind.as_str(),
        "name": e.name,
        "timestamp": e.timestamp,
        "received_at": e.received_at,
        "message": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
    })
}

fn parse_profile_id(s: &str) -> ApiResult<ProfileId> {
    s.parse().map_err(|_| ApiError::new(ErrorCode::InvalidParameter, format!("{s:?} is not a profile id")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    identity: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
    seen_after: Option<String>,
    seen_before: Option<String>,
    min_events: Option<i64>,
    has_trait: Option<String>,
}

async fn list(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    if let Some(pair) = &p.identity {
        let identity = Identity::parse_pair(pair, &state.rules.normalize)?;
        let items = state.store.find_profiles(&identity).await?;
        return Ok(Json(json!({"items": items.iter().map(profile_json).collect::<Vec<_>>(), "next_cursor": null})));
    }
    let time = |s: &Option<String>, field| s.as_deref().map(|t| parse_time(t, field)).transpose();
    let query = ProfileQuery {
        page: page_request(p.cursor.as_deref(), p.limit)?,
        seen_after: time(&p.seen_after, "seen_after")?,
        seen_before: time(&p.seen_before, "seen_before")?,
        min_events: p.min_events,
        has_trait: p.has_trait,
    };
    let page = state.store.list_profiles(&query).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(profile_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let id = parse_profile_id(&id)?;
    let profile =
        state.store.get_profile(id).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such profile"))?;
    Ok(Json(profile_json(&profile)))
}

async fn events(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let id = parse_profile_id(&id)?;
    let page = p.request()?;
    if page.after.as_ref().is_some_and(|(_, seq)| seq.parse::<i64>().is_err()) {
        return Err(ApiError::new(ErrorCode::InvalidCursor, "the cursor is not one this server issued"));
    }
    let page = state.store.profile_events(id, &page).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(event_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn overview(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let o = state.store.overview().await?;
    let revenue = Money { minor: o.revenue_minor, currency: beacon_core::Currency::CNY };
    Ok(Json(json!({
        "profiles": o.profiles,
        "events": o.events,
        "orders": o.orders,
        "revenue": revenue.to_decimal_string(),
        "currency": revenue.currency.code(),
    })))
}
