//! `/api/v1/keys`: create, list, revoke. Admin only; every change audited.

use super::extract::{Json as JsonBody, Path};
use crate::auth::{Authorized, ManageKeys};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, kind_json};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_core::access::Role;
use beacon_store::{ApiKey, KeyKind, NewAuditEntry};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/keys", get(list).post(create)).route("/api/v1/keys/{id}", delete(revoke))
}

fn key_json(k: &ApiKey) -> Value {
    let mut v = kind_json(k.kind);
    v["id"] = json!(k.id);
    v["name"] = json!(k.name);
    v["prefix"] = json!(k.prefix);
    v["created_at"] = json!(k.created_at);
    v["revoked_at"] = json!(k.revoked_at);
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateKeyRequest {
    name: String,
    /// `secret` (default) or `write`.
    kind: Option<String>,
    role: Option<String>,
}

async fn list(_: Authorized<ManageKeys>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let keys = state.store.list_keys().await?;
    Ok(Json(json!({"items": keys.iter().map(key_json).collect::<Vec<_>>()})))
}

fn parse_kind(req: &CreateKeyRequest) -> ApiResult<KeyKind> {
    match (req.kind.as_deref().unwrap_or("secret"), req.role.as_deref()) {
        ("write", None) => Ok(KeyKind::Write),
        ("write", Some(_)) => Err(ApiError::new(ErrorCode::InvalidParameter, "write keys have no role")),
        ("secret", Some(role)) => Role::parse(role).map(KeyKind::Secret).ok_or_else(|| {
            ApiError::new(ErrorCode::InvalidRole, format!("role {role:?} is not admin, marketer, analyst or viewer"))
        }),
        ("secret", None) => Err(ApiError::new(ErrorCode::InvalidRole, "a secret key needs a role")),
        (other, _) => Err(ApiError::new(ErrorCode::InvalidParameter, format!("kind {other:?} is not secret or write"))),
    }
}

async fn create(
    who: Authorized<ManageKeys>,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<CreateKeyRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let kind = parse_kind(&req)?;
    if req.name.trim().is_empty() || req.name.len() > 200 {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "name must be 1 to 200 bytes"));
    }
    let issued = keys::issue(kind, req.name.trim(), None, Utc::now());
    keys::create(state.store.as_ref(), &issued, &who.actor()).await?;
    state.gate.invalidate();
    let mut body = key_json(&issued.record);
    body["key"] = json!(issued.secret);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    who: Authorized<ManageKeys>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let now = Utc::now();
    let before = state.store.list_keys().await?.into_iter().find(|k| k.id == id);
    let Some(before) = before else { return Err(ApiError::new(ErrorCode::NotFound, "no such key")) };
    let after = state.store.revoke_key(&id, now).await?;
    state.gate.invalidate();
    state
        .store
        .append_audit(&NewAuditEntry {
            at: now,
            actor: who.actor(),
            action: "key.revoke".into(),
            target: id,
            before: Some(key_json(&before)),
            after: Some(key_json(&after)),
        })
        .await?;
    Ok(Json(key_json(&after)))
}
