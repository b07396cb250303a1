//! Group-buy teams (拼团), read-only: one team (for a join link), and a
//! group-buy's open teams soonest to expire first (to offer to join). Teams
//! are opened and joined by orders (`POST /api/v1/orders` with `group_buy`).

use super::extract::{Path, Query};
use crate::app::checkout::teams::view;
use crate::auth::{Authorized, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::ErrorCode;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/teams/{id}", get(one))
        .route("/api/v1/promotions/{id}/teams", get(list))
        .route("/api/v1/profiles/{id}/teams", get(of_profile))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let team = state.store.promotions().get_team(&id).await?;
    let team = team.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no team {id:?}")))?;
    Ok(Json(view(&team)?))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `open` (default), `complete` or `failed`.
    #[param(pattern = "^(open|complete|failed)$")]
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

async fn list(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let status = q.status.as_deref().unwrap_or("open");
    if !["open", "complete", "failed"].contains(&status) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "status must be open, complete or failed"));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be 1..=1000"));
    }
    crate::app::promotions::get(&state, &id).await?;
    let teams = state.store.promotions().teams(&id, status, limit).await?;
    let items = teams.iter().map(view).collect::<Result<Vec<_>, _>>()?;
    Ok(Json(json!({"promotion": id, "items": items})))
}

/// The teams a customer opened or joined (`app::checkout::teams::of_profile`).
async fn of_profile(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (id, items) = crate::app::checkout::teams::of_profile(&state, &id).await?;
    Ok(Json(json!({"profile_id": id, "items": items})))
}
