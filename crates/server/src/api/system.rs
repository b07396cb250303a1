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
        .route("/api/v1/settings", get(settings))
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

/// The settings in force (admins only), as `beacon.toml` and the
/// environment made them, with every secret left out: the encryption key
/// only as whether it is set, passwords in URLs as `***`.
async fn settings(
    _: crate::auth::Authorized<crate::auth::ManageKeys>,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut v = serde_json::to_value(&state.settings).map_err(|e| ApiError::internal(e.to_string()))?;
    let set = |v: &serde_json::Value| v.as_str().is_some_and(|s| !s.is_empty());
    for key in ["encryption_key", "edge_public_key"] {
        let is_set = set(&v["security"][key]);
        v["security"][key] = json!(if is_set { "(set)" } else { "" });
    }
    for (section, key) in [("storage", "database_url"), ("bus", "nats_url")] {
        if let Some(url) = v[section][key].as_str() {
            v[section][key] = json!(without_password(url));
        }
    }
    Ok(Json(v))
}

/// `scheme://user:secret@host/…` as `scheme://user:***@host/…`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user, host)) if user.contains(':') => {
            let name = user.split(':').next().unwrap_or("");
            format!("{scheme}://{name}:***@{host}{path}")
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_in_urls_are_left_out() {
        let cases = [
            ("postgres://beacon:s3cret@db:5432/shop?x=1", "postgres://beacon:***@db:5432/shop?x=1"),
            ("postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"),
            ("nats://u:p@h:4222", "nats://u:***@h:4222"),
            ("", ""),
        ];
        for (url, shown) in cases {
            assert_eq!(super::without_password(url), shown);
        }
    }
}
