//! `/api/v1/audit`: who changed what, when, before → after.

use super::extract::{Query, encode_cursor, page_request};
use crate::auth::{Authorized, ReadAudit};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Only entries about this target, e.g. `product:tea-1`.
    pub target: Option<String>,
}

async fn list(
    _: Authorized<ReadAudit>,
    State(state): State<AppState>,
    Query(p): Query<AuditParams>,
) -> ApiResult<Json<Value>> {
    let page = page_request(p.cursor.as_deref(), p.limit)?;
    entries(&state, p.target.as_deref(), &page).await
}

/// A page of audit entries as JSON (also a product's history).
pub async fn entries(
    state: &AppState,
    target: Option<&str>,
    page: &beacon_store::PageRequest,
) -> ApiResult<Json<Value>> {
    let page = state.store.audit().list_audit(target, page).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "at": a.entry.at, "actor": a.entry.actor, "action": a.entry.action,
                "target": a.entry.target, "before": a.entry.before, "after": a.entry.after,
            })
        })
        .collect();
    Ok(Json(json!({"items": items, "next_cursor": page.next.as_ref().map(encode_cursor)})))
}
