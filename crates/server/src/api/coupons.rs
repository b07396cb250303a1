//! Unique coupon codes of coupon templates (promotions with `codes`):
//! issued by an operator, claimed by shoppers, listed per template and in a
//! profile's wallet. The logic is in `checkout::coupons`.

use super::extract::{Json as JsonBody, Path, Query, encode_cursor, page_request};
use crate::app::checkout::coupons::status;
use crate::app::coupons::{self, GiveCodes, refusal};
use crate::app::profiles;
use crate::auth::{Authorized, ManageData, ManageMarketing, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_pricing::Promotion;
use beacon_store::{Issued, StoredCoupon};
use chrono::DateTime;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/promotions/{id}/coupons", get(list).post(give))
        .route("/api/v1/coupons/claim", post(claim))
        .route("/api/v1/profiles/{id}/coupons", get(wallet))
}

/// The client's `Idempotency-Key`, else a fresh one.
fn request_key(headers: &HeaderMap) -> ApiResult<String> {
    Ok(super::extract::idempotency_key(headers)?.unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string()))
}

pub fn coupon_json(c: &StoredCoupon, p: Option<&Promotion>, now: DateTime<Utc>) -> Value {
    json!({
        "code": c.code,
        "promotion": c.promotion,
        "name": p.map(|p| p.name.as_str()),
        "status": status(c, p, now),
        "profile_id": c.profile_id,
        "channel": c.channel,
        "issued_at": c.issued_at,
        "valid_from": c.valid_from,
        "valid_until": c.valid_until,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Give {
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
    let cmd =
        GiveCodes { promotion: id, profiles: req.profiles, count: req.count, request_key: request_key(&headers)? };
    let given = coupons::give(&state, &cmd).await?;
    let p = given.snapshot.promotion(&cmd.promotion);
    let (mut issued, mut refused) = (Vec::new(), Vec::new());
    for (t, r) in &given.results {
        match r {
            Issued::New(c) | Issued::Existing(c) => issued.push(coupon_json(c, p, given.now)),
            r => refused.push(json!({"profile_id": t.profile_id, "reason": refusal(r)})),
        }
    }
    Ok(Json(json!({"promotion": cmd.promotion, "issued": issued, "refused": refused})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Claim {
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
    let (user, anonymous, email, phone) =
        (req.user_id.as_deref(), req.anonymous_id.as_deref(), req.email.as_deref(), req.phone.as_deref());
    let identities = profiles::named_identities(&state, user, anonymous, email, phone)?;
    let key = request_key(&headers)?;
    let given = coupons::claim(&state, &req.promotion, req.profile_id.as_deref(), &identities, &key).await?;
    let p = given.snapshot.promotion(&req.promotion);
    match given.results.first() {
        Some((_, Issued::New(c))) => Ok((StatusCode::CREATED, Json(coupon_json(c, p, given.now)))),
        Some((_, Issued::Existing(c))) => Ok((StatusCode::OK, Json(coupon_json(c, p, given.now)))),
        _ => Err(ApiError::internal("no code for the claim")),
    }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Marketers only: bearer codes are as good as cash.
async fn list(
    _: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let snapshot = coupons::snapshot(&state).await?;
    let p = coupons::promotion(&snapshot, &id)?;
    let page = state.store.promotions().promotion_coupons(&id, &page_request(q.cursor.as_deref(), q.limit)?).await?;
    let now = state.now();
    Ok(Json(json!({
        "items": page.items.iter().map(|c| coupon_json(c, Some(p), now)).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WalletParams {
    /// `available`, `used` or `expired`.
    #[param(pattern = "^(available|used|expired)$")]
    pub status: Option<String>,
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
    let profile = profiles::by_id(&state, &id).await?;
    let snapshot = coupons::snapshot(&state).await?;
    let now = state.now();
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
