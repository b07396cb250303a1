//! What a browser SDK needs besides the tracking routes: CORS on `/v1/*`
//! (any origin: a write key is public and no cookie is sent; preflights
//! answered and cached for a day), and the settings analytics.js loads from
//! its CDN (`/v1/projects/{writeKey}/settings`) naming this server as its API
//! host, so a page loads Segment's SDK with Beacon as both CDN and API; and
//! the source configuration RudderStack's JavaScript SDK loads
//! (`/sourceConfig/?writeKey=…`, its `configUrl`).

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beacon_core::ErrorCode;
use beacon_store::KeyKind;
use serde_json::{Value, json};

const ALLOW_HEADERS: &str = "content-type, authorization, content-encoding";

/// Answers preflights of `/v1/*` and lets any origin read its answers.
pub async fn cors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if !path.starts_with("/v1/") && !path.starts_with("/sourceConfig") {
        return next.run(req).await;
    }
    if req.method() == Method::OPTIONS {
        let asked = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
        // (the headers asked for: an SDK may add its own; none of them grants anything)
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static(ALLOW_HEADERS)));
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        return resp;
    }
    let mut resp = next.run(req).await;
    resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    resp
}

/// `GET /v1/projects/{writeKey}/settings`: the CDN settings of analytics.js,
/// for an active write key; its events go to this server.
pub async fn settings(
    State(state): State<AppState>,
    axum::extract::Path(write_key): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    active_write_key(&state, &write_key).await?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let tls = headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) == Some("https");
    Ok(Json(json!({
        "integrations": {
            "Segment.io": {
                "apiKey": write_key,
                "apiHost": format!("{host}/v1"),
                "protocol": if tls { "https" } else { "http" },
                "unbundledIntegrations": [],
                "addBundledMetadata": true,
            }
        },
        "plan": {"track": {"__default": {"enabled": true, "integrations": {}}}, "identify": {"__default": {"enabled": true}}, "group": {"__default": {"enabled": true}}},
        "edgeFunction": {},
        "analyticsNextEnabled": true,
        "middlewareSettings": {},
        "enabledMiddleware": {},
        "metrics": {"sampleRate": 0},
        "legacyVideoPluginsEnabled": false,
        "remotePlugins": [],
    })))
}

async fn active_write_key(state: &AppState, write_key: &str) -> Result<beacon_store::ApiKey, ApiError> {
    match state.gate.lookup(state.store.as_ref(), write_key).await? {
        Some(k) if matches!(k.kind, KeyKind::Write(_)) => Ok(k),
        _ => Err(ApiError::new(ErrorCode::InvalidWriteKey, "unknown or revoked write key")),
    }
}

#[derive(serde::Deserialize)]
pub struct SourceConfigQuery {
    #[serde(rename = "writeKey")]
    write_key: Option<String>,
}

/// `GET /sourceConfig/?writeKey=…` (or the key as the HTTP Basic user): the
/// source RudderStack's JavaScript SDK loads before it sends; no device-mode
/// destinations, so every event goes to the data plane (this server).
pub async fn source_config(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<SourceConfigQuery>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let Some(write_key) = super::basic_user(&headers).or(q.write_key) else {
        return Err(ApiError::new(
            ErrorCode::MissingWriteKey,
            "send the write key as writeKey in the query or as the HTTP Basic user",
        ));
    };
    let key = active_write_key(&state, &write_key).await?;
    Ok(Json(json!({
        "isHosted": false,
        "source": {
            "id": key.id,
            "name": key.name,
            "writeKey": write_key,
            "workspaceId": "beacon",
            "enabled": true,
            "config": {"statsCollection": {"errors": {"enabled": false}, "metrics": {"enabled": false}}},
            "destinations": [],
        }
    })))
}
