//! `/api/v1/audit`: who changed what, when, before → after.

use super::extract::{Query, encode_cursor, page_request};
use crate::auth::{Authorized, ReadAudit};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/audit", get(list))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    cursor: Option<String>,
    limit: Option<u32>,
}

async fn list(
    _: Authorized<ReadAudit>,
    State(state): State<AppState>,
    Query(p): Query<Params>,
) -> ApiResult<Json<Value>> {
    let page = state.store.list_audit(&page_request(p.cursor.as_deref(), p.limit)?).await?;
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
