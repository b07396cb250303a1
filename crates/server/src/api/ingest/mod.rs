//! The Segment tracking API: `/v1/batch` and the single-call routes, with the
//! browser SDK's short aliases. Thin handlers: read the body, find the write
//! key, validate each message (core), hand the good ones to the writer.

pub mod body;
pub mod browser;

use crate::app::log::{self, fallback_message_id, record};
use crate::auth::{Authorized, ManageData};
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use beacon_core::message::{self, Envelope, IncomingMessage, MessageKind};
use beacon_core::{Error, ErrorCode};
use beacon_store::{ApiKey, KeyKind, NewLogRecord};
use chrono::Utc;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::borrow::Cow;

pub fn routes() -> Router<AppState> {
    let single = |kind: MessageKind| {
        post(move |state: State<AppState>, headers: HeaderMap, body: Body| ingest(state, headers, body, Some(kind)))
    };
    let batch = || post(|state: State<AppState>, headers: HeaderMap, body: Body| ingest(state, headers, body, None));
    Router::new()
        .route("/v1/batch", batch())
        .route("/v1/b", batch())
        .route("/v1/import", batch())
        .route("/v1/track", single(MessageKind::Track))
        .route("/v1/t", single(MessageKind::Track))
        .route("/v1/identify", single(MessageKind::Identify))
        .route("/v1/i", single(MessageKind::Identify))
        .route("/v1/page", single(MessageKind::Page))
        .route("/v1/p", single(MessageKind::Page))
        .route("/v1/screen", single(MessageKind::Screen))
        .route("/v1/s", single(MessageKind::Screen))
        .route("/v1/group", single(MessageKind::Group))
        .route("/v1/g", single(MessageKind::Group))
        .route("/v1/alias", single(MessageKind::Alias))
        .route("/v1/a", single(MessageKind::Alias))
        .route("/v1/projects/{write_key}/settings", get(browser::settings))
        .route("/sourceConfig", get(browser::source_config))
        .route("/sourceConfig/", get(browser::source_config))
        .route("/api/v1/events", post(import_events).get(super::profiles::all_events))
}

#[derive(Deserialize)]
struct BatchBody<'a> {
    #[serde(borrow)]
    batch: Vec<&'a RawValue>,
    #[serde(rename = "sentAt", borrow, default)]
    sent_at: Option<Cow<'a, str>>,
    #[serde(rename = "writeKey", borrow, default)]
    write_key: Option<Cow<'a, str>>,
    /// Applied to every message that lacks the keys (Segment batch semantics).
    #[serde(default)]
    context: Option<serde_json::Map<String, Value>>,
    #[serde(default)]
    integrations: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize)]
struct KeyOnly<'a> {
    #[serde(rename = "writeKey", borrow, default)]
    write_key: Option<Cow<'a, str>>,
}

/// The write key from HTTP Basic (user part) if present.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split_once(':').map_or(text.as_str(), |(u, _)| u);
    (!user.is_empty()).then(|| user.to_string())
}

async fn write_key(state: &AppState, from_header: Option<String>, from_body: Option<&str>) -> Result<ApiKey, ApiError> {
    let Some(secret) = from_header.as_deref().or(from_body) else {
        return Err(ApiError::new(
            ErrorCode::MissingWriteKey,
            "send the write key as the HTTP Basic user or as writeKey in the body",
        ));
    };
    let key = state.gate.lookup(state.store.as_ref(), secret).await?;
    match key {
        Some(key) if matches!(key.kind, KeyKind::Write(_)) => {
            state.gate.check_rate(&key)?;
            Ok(key)
        }
        _ => Err(ApiError::new(ErrorCode::InvalidWriteKey, "unknown or revoked write key")),
    }
}

fn malformed(e: serde_json::Error) -> ApiError {
    ApiError::new(ErrorCode::MalformedJson, format!("the body is not valid JSON: {e}"))
}

/// Validates every message of a batch; returns the records to store and the
/// rejected ones (`index`, `code`, `message`).
fn check_batch(
    batch: &BatchBody<'_>,
    source: &str,
    received_at: chrono::DateTime<Utc>,
    live: bool,
    identities: Option<&beacon_core::extract::IdentityRules>,
) -> Result<(Vec<NewLogRecord>, Vec<Value>), ApiError> {
    let sent_at = match batch.sent_at.as_deref() {
        Some(t) => Some(message::parse_time(t, "sentAt")?),
        None => None,
    };
    let (mut accepted, mut rejected) = (Vec::with_capacity(batch.batch.len()), Vec::new());
    for (i, raw) in batch.batch.iter().enumerate() {
        let env = Envelope { received_at, sent_at, kind: None, generated_id: &fallback_message_id, live, identities };
        match message::validate(raw, &env).and_then(|m| with_batch_defaults(batch, m)) {
            Ok(m) => accepted.push(record(source, m, received_at)),
            Err(e) => rejected.push(json!({"index": i, "code": e.code.as_str(), "message": e.message})),
        }
    }
    Ok((accepted, rejected))
}

/// Applies a batch's `context` and `integrations` to one of its messages.
fn with_batch_defaults(batch: &BatchBody<'_>, mut m: IncomingMessage) -> Result<IncomingMessage, Error> {
    if batch.context.is_none() && batch.integrations.is_none() {
        return Ok(m);
    }
    if let Some(payload) =
        message::apply_batch_defaults(&m.payload, batch.context.as_ref(), batch.integrations.as_ref())
    {
        m.payload = payload;
    }
    if m.payload.len() > message::MAX_EVENT_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("with the batch context the event is over {} bytes", message::MAX_EVENT_BYTES),
        ));
    }
    Ok(m)
}

pub use log::IMPORT_SOURCE;

/// `POST /api/v1/events`: a Segment batch body sent with a secret key (for
/// imports and back-office tools); the same checks and path as `/v1/batch`.
async fn import_events(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let bytes = body::read(&headers, body).await?;
    let batch: BatchBody<'_> = serde_json::from_slice(&bytes).map_err(malformed)?;
    let rules = Some(&state.rules.identity);
    let (accepted, rejected) = check_batch(&batch, IMPORT_SOURCE, state.now(), false, rules)?;
    store_checked(&state, IMPORT_SOURCE, accepted, rejected).await
}

async fn ingest(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
    kind: Option<MessageKind>,
) -> Result<Json<Value>, ApiError> {
    let bytes = body::read(&headers, body).await?;
    let received_at = state.now();
    let header_key = basic_user(&headers);
    match kind {
        None => {
            let batch: BatchBody<'_> = serde_json::from_slice(&bytes).map_err(malformed)?;
            let key = write_key(&state, header_key, batch.write_key.as_deref()).await?;
            let rules = Some(&state.rules.identity);
            let (accepted, rejected) = check_batch(&batch, &key.id, received_at, true, rules)?;
            store_checked(&state, &key.id, accepted, rejected).await
        }
        Some(kind) => {
            let raw: &RawValue = serde_json::from_slice(&bytes).map_err(malformed)?;
            // the body is scanned for a writeKey only when no header carried one
            let body_key = match header_key {
                Some(_) => None,
                None => serde_json::from_str::<KeyOnly<'_>>(raw.get()).ok().and_then(|k| k.write_key),
            };
            let key = write_key(&state, header_key, body_key.as_deref()).await?;
            let env = Envelope {
                received_at,
                sent_at: None,
                kind: Some(kind),
                generated_id: &fallback_message_id,
                live: true,
                identities: Some(&state.rules.identity),
            };
            let accepted = vec![record(&key.id, message::validate(raw, &env)?, received_at)];
            store_checked(&state, &key.id, accepted, Vec::new()).await
        }
    }
}

/// Stores the accepted records and answers: `200` with the rejected ones
/// listed, or `400` when nothing was valid.
async fn store_checked(
    state: &AppState,
    source: &str,
    accepted: Vec<NewLogRecord>,
    rejected: Vec<Value>,
) -> Result<Json<Value>, ApiError> {
    let (n_ok, n_bad) = (accepted.len(), rejected.len());
    metrics::counter!("beacon_ingest_events_total", "result" => "rejected").increment(n_bad as u64);
    if n_ok == 0 && n_bad > 0 {
        return Err(ApiError::new(ErrorCode::InvalidEvent, "no event in the batch is valid")
            .with_details(json!({ "rejected": rejected })));
    }
    if n_ok > 0 {
        log::append(state, accepted).await?;
    }
    metrics::counter!("beacon_ingest_events_total", "result" => "accepted").increment(n_ok as u64);
    tracing::trace!(source = %source, accepted = n_ok, rejected = n_bad, "ingested");
    let mut out = json!({"success": true});
    if n_bad > 0 {
        out["rejected"] = Value::Array(rejected);
    }
    Ok(Json(out))
}
