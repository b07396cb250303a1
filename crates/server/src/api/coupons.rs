//! Unique coupon codes of coupon templates (promotions with `codes`):
//! issued by an operator, claimed by shoppers, listed per template and in a
//! profile's wallet. The logic is in `checkout::coupons`.

use super::extract::{Json as JsonBody, Path, Query, encode_cursor, page_request};
use crate::auth::{Authorized, ManageData, ManageMarketing, Read};
use crate::checkout::coupons::{Target, coupon_json, issue, open_for_shoppers, refusal, template};
use crate::checkout::{CartRequest, buyer};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_pricing::{Promotion, Snapshot};
use beacon_store::Issued;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// Most codes one request issues.
const MAX_BATCH: usize = 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/promotions/{id}/coupons", get(list).post(give))
        .route("/api/v1/coupons/claim", post(claim))
        .route("/api/v1/profiles/{id}/coupons", get(wallet))
}

async fn snapshot(state: &AppState) -> ApiResult<Arc<Snapshot>> {
    state.promotions.snapshot(state.store.as_ref(), state.rules.currency).await
}

fn promotion<'a>(snapshot: &'a Snapshot, id: &str) -> ApiResult<&'a Promotion> {
    snapshot.promotion(id).ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("no promotion {id:?}")))
}

/// The client's `Idempotency-Key`, else a fresh one.
fn request_key(headers: &HeaderMap) -> ApiResult<String> {
    match headers.get("idempotency-key").map(|v| v.to_str()) {
        None => Ok(uuid::Uuid::now_v7().simple().to_string()),
        Some(Ok(k)) if !k.is_empty() && k.len() <= 200 && !k.chars().any(char::is_control) => Ok(k.to_string()),
        Some(_) => Err(ApiError::new(ErrorCode::InvalidParameter, "Idempotency-Key must be 1 to 200 characters")),
    }
}

fn limit_reached(message: String, reason: Value) -> ApiError {
    ApiError::new(ErrorCode::CouponLimitReached, message).with_details(json!({"reason": reason}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Give {
    /// Profiles to issue one code each to.
    #[serde(default)]
    profiles: Vec<String>,
    /// Bearer codes (issued to nobody) to make.
    #[serde(default)]
    count: usize,
}

/// An operator issues codes to a list of profiles, or bearer codes.
async fn give(
    _: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Give>,
) -> ApiResult<Json<Value>> {
    let snapshot = snapshot(&state).await?;
    let p = promotion(&snapshot, &id)?;
    template(p)?;
    let n = req.profiles.len() + req.count;
    if n == 0 || n > MAX_BATCH {
        return Err(ApiError::new(ErrorCode::InvalidParameter, format!("issue 1 to {MAX_BATCH} codes a request")));
    }
    let now = Utc::now();
    if open_for_shoppers(p, now) == Err("expired") || p.status == beacon_pricing::spec::Status::Ended {
        return Err(limit_reached(format!("promotion {id:?} has ended"), json!({"code": "expired"})));
    }
    let key = request_key(&headers)?;
    let mut targets = Vec::with_capacity(n);
    for (i, profile) in req.profiles.iter().enumerate() {
        let parsed = crate::api::profiles::parse_profile_id(profile)?;
        // a profile merged away is issued to as its survivor
        let found = state.store.get_profile(parsed).await?;
        let owner =
            found.ok_or_else(|| ApiError::new(ErrorCode::NotFound, format!("profiles[{i}]: no such profile")))?;
        // the profile in the key: the same key with another list issues to the new profiles
        let issue_key = format!("operator:{key}:{i}:{}", owner.id);
        targets.push(Target { profile_id: Some(owner.id.to_string()), issue_key });
    }
    for i in 0..req.count {
        targets.push(Target { profile_id: None, issue_key: format!("operator:{key}:bearer:{i}") });
    }
    let results = issue(&state, p, "operator", &targets, now).await?;
    let mut issued = Vec::new();
    let mut refused = Vec::new();
    for (t, r) in targets.iter().zip(&results) {
        match r {
            Issued::New(c) | Issued::Existing(c) => issued.push(coupon_json(c, Some(p), now)),
            r => refused.push(json!({"profile_id": t.profile_id, "reason": refusal(r)})),
        }
    }
    Ok(Json(json!({"promotion": id, "issued": issued, "refused": refused})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Claim {
    promotion: String,
    /// The claimant: a profile id or any of its identities.
    #[serde(default)]
    profile_id: Option<String>,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    anonymous_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

/// A shopper claims a code (领券), within the template's limits.
async fn claim(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<Claim>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let snapshot = snapshot(&state).await?;
    let p = promotion(&snapshot, &req.promotion)?;
    let codes = template(p)?;
    let now = Utc::now();
    let closed = if codes.claimable { open_for_shoppers(p, now).err() } else { Some("not_claimable") };
    if let Some(why) = closed {
        return Err(limit_reached(format!("promotion {:?} cannot be claimed: {why}", p.id), json!({"code": why})));
    }
    let cart = CartRequest {
        profile_id: req.profile_id,
        user_id: req.user_id,
        anonymous_id: req.anonymous_id,
        email: req.email,
        phone: req.phone,
        ..Default::default()
    };
    let (profile, _) = buyer(&state, &cart).await?;
    let profile = profile.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no profile has these identities"))?;
    let target = Target {
        profile_id: Some(profile.id.to_string()),
        issue_key: format!("claim:{}:{}", profile.id, request_key(&headers)?),
    };
    let result = issue(&state, p, "claim", &[target], now).await?.pop();
    match result {
        Some(Issued::New(c)) => Ok((StatusCode::CREATED, Json(coupon_json(&c, Some(p), now)))),
        Some(Issued::Existing(c)) => Ok((StatusCode::OK, Json(coupon_json(&c, Some(p), now)))),
        Some(r) => {
            let reason = refusal(&r).unwrap_or(Value::Null);
            let what = reason["code"].as_str().unwrap_or("refused").to_string();
            Err(limit_reached(format!("promotion {:?} cannot issue a code: {what}", p.id), reason))
        }
        None => Err(ApiError::internal("no outcome for the claim")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Marketers only: bearer codes are as good as cash.
async fn list(
    _: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let snapshot = snapshot(&state).await?;
    let p = promotion(&snapshot, &id)?;
    let page = state.store.promotions().promotion_coupons(&id, &page_request(q.cursor.as_deref(), q.limit)?).await?;
    let now = Utc::now();
    Ok(Json(json!({
        "items": page.items.iter().map(|c| coupon_json(c, Some(p), now)).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletParams {
    /// `available`, `used` or `expired`.
    status: Option<String>,
}

/// A profile's coupon wallet (券包).
async fn wallet(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<WalletParams>,
) -> ApiResult<Json<Value>> {
    if q.status.as_deref().is_some_and(|s| !["available", "used", "expired"].contains(&s)) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "status must be available, used or expired"));
    }
    let parsed = crate::api::profiles::parse_profile_id(&id)?;
    let profile = state.store.get_profile(parsed).await?;
    let profile = profile.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such profile"))?;
    let snapshot = snapshot(&state).await?;
    let now = Utc::now();
    let items: Vec<Value> = state
        .store
        .promotions()
        .profile_coupons(&profile.id.to_string())
        .await?
        .iter()
        .map(|c| coupon_json(c, snapshot.promotion(&c.promotion), now))
        .filter(|c| q.status.as_deref().is_none_or(|s| c["status"] == s))
        .collect();
    Ok(Json(json!({"profile_id": profile.id, "items": items})))
}
