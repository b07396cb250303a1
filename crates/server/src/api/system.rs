//! Health, readiness, metrics and the OpenAPI document.

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::ErrorCode;
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(|| async { Json(super::openapi::document()) }))
        .route("/api/v1/processing", get(processing))
        .route("/api/v1/shop", get(shop))
}

async fn ready(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.is_ready() {
        return Err(ApiError::new(ErrorCode::Unavailable, "starting or shutting down"));
    }
    state.store.ping().await?;
    let crate::app::log::Progress { head, processed } = crate::app::log::progress(&state).await?;
    Ok(Json(json!({"status": "ready", "log_head": head, "processed": processed})))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render())
}

/// How far the processor has got: everything accepted before a call is
/// visible in profiles once `processed` reaches that call's `log_head`.
async fn processing(
    _: crate::auth::Authorized<crate::auth::Read>,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let crate::app::log::Progress { head, processed } = crate::app::log::progress(&state).await?;
    Ok(Json(json!({"log_head": head, "processed": processed, "caught_up": processed >= head})))
}

/// The shop's currency and time zone (`shop.*` settings), as every screen
/// formats money and days with them.
async fn shop(
    _: crate::auth::Authorized<crate::auth::Read>,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let shop = &state.settings.shop;
    Ok(Json(json!({"currency": state.rules.currency.code(), "utc_offset": shop.utc_offset})))
}
