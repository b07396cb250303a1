//! `/api/v1/audit`: who changed what, when, before → after.

use super::extract::{PageParams, Query, encode_cursor};
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

async fn list(
    _: Authorized<ReadAudit>,
    State(state): State<AppState>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let page = state.store.list_audit(&p.request()?).await?;
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
