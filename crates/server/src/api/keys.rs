//! `/api/v1/keys`: create, list, revoke. Admin only; every change audited.

use super::extract::{Json as JsonBody, Path};
use crate::app::keys::{self, CreateKey};
use crate::auth::{Authorized, ManageKeys};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use beacon_store::ApiKey;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    /// `secret` (default) or `write`.
    kind: Option<String>,
    role: Option<String>,
    /// A write key's source: `client` (default) or `server`.
    source: Option<String>,
}

async fn list(_: Authorized<ManageKeys>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let keys = state.store.keys().list_keys().await?;
    Ok(Json(json!({"items": keys.iter().map(ApiKey::to_json).collect::<Vec<_>>()})))
}

async fn create(
    who: Authorized<ManageKeys>,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let cmd = CreateKey::parse(&req.name, req.kind.as_deref(), req.role.as_deref(), req.source.as_deref())?;
    let issued = keys::create_key(state.store.as_ref(), &cmd, &who.actor(), state.now()).await?;
    state.gate.invalidate();
    let mut body = issued.record.to_json();
    body["key"] = json!(issued.secret);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    who: Authorized<ManageKeys>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let revoked = keys::revoke_key(state.store.as_ref(), &id, &who.actor(), state.now()).await?;
    state.gate.invalidate();
    Ok(Json(revoked.to_json()))
}
