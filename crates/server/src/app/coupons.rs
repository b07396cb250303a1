//! Coupon codes handed out: an operator issues codes of a template to
//! profiles or as bearer codes; a shopper claims one (领券). Both are
//! idempotent by issue key and within the template's limits, which the
//! store takes atomically (`checkout::coupons::issue`).

use super::checkout::coupons::{Target, issue, open_for_shoppers, template};
use super::profiles::{self, ProfileRef};
use super::{App, AppResult};
use beacon_core::{Error, ErrorCode, Identity};
use beacon_pricing::spec::Status;
use beacon_pricing::{Promotion, Snapshot};
use beacon_store::Issued;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use std::sync::Arc;

/// Most codes one request issues.
pub const MAX_BATCH: usize = 1000;

/// The pricing snapshot, whose promotions codes are issued from.
pub async fn snapshot(app: &App) -> AppResult<Arc<Snapshot>> {
    app.promotions.snapshot(app.store.as_ref(), app.rules.currency).await
}

/// Promotion `id` of the snapshot; `not_found` if there is none.
pub fn promotion<'a>(snapshot: &'a Snapshot, id: &str) -> AppResult<&'a Promotion> {
    snapshot.promotion(id).ok_or_else(|| Error::new(ErrorCode::NotFound, format!("no promotion {id:?}")))
}

fn limit_reached(message: String, reason: Value) -> Error {
    Error::new(ErrorCode::CouponLimitReached, message).with_details(json!({"reason": reason}))
}

/// What an operator asks for: one code to each profile, and `count` bearer
/// codes; `request_key` makes the same request again issue nothing new.
pub struct GiveCodes {
    pub promotion: String,
    pub profiles: Vec<String>,
    pub count: usize,
    pub request_key: String,
}

/// Codes issued by [`give`] or [`claim`]: each target with its outcome.
pub struct Given {
    pub snapshot: Arc<Snapshot>,
    pub results: Vec<(Target, Issued)>,
    pub now: DateTime<Utc>,
}

/// An operator issues codes (a profile merged away is issued to as its survivor).
pub async fn give(app: &App, cmd: &GiveCodes) -> AppResult<Given> {
    let snapshot = snapshot(app).await?;
    let p = promotion(&snapshot, &cmd.promotion)?;
    template(p)?;
    let n = cmd.profiles.len() + cmd.count;
    if n == 0 || n > MAX_BATCH {
        return Err(Error::new(ErrorCode::InvalidParameter, format!("issue 1 to {MAX_BATCH} codes a request")));
    }
    let now = app.now();
    if open_for_shoppers(p, now) == Err("expired") || p.status == Status::Ended {
        return Err(limit_reached(format!("promotion {:?} has ended", p.id), json!({"code": "expired"})));
    }
    let key = &cmd.request_key;
    let mut targets = Vec::with_capacity(n);
    for (i, profile) in cmd.profiles.iter().enumerate() {
        let found = profiles::find(app, &ProfileRef::id(profile)?).await?;
        let owner = found.ok_or_else(|| Error::new(ErrorCode::NotFound, format!("profiles[{i}]: no such profile")))?;
        // the profile in the key: the same key with another list issues to the new profiles
        let issue_key = format!("operator:{key}:{i}:{}", owner.id);
        targets.push(Target { profile_id: Some(owner.id.to_string()), issue_key });
    }
    for i in 0..cmd.count {
        targets.push(Target { profile_id: None, issue_key: format!("operator:{key}:bearer:{i}") });
    }
    let results = issue(app, p, "operator", &targets, now).await?;
    Ok(Given { results: targets.into_iter().zip(results).collect(), snapshot: snapshot.clone(), now })
}

/// A shopper (by profile id, else the first profile holding one of the
/// identities) claims a code; `coupon_limit_reached` when the template is
/// not claimable now or a limit is reached.
pub async fn claim(
    app: &App,
    promotion_id: &str,
    profile_id: Option<&str>,
    identities: &[Identity],
    request_key: &str,
) -> AppResult<Given> {
    let snapshot = snapshot(app).await?;
    let p = promotion(&snapshot, promotion_id)?;
    let codes = template(p)?;
    let now = app.now();
    let closed = if codes.claimable { open_for_shoppers(p, now).err() } else { Some("not_claimable") };
    if let Some(why) = closed {
        return Err(limit_reached(format!("promotion {:?} cannot be claimed: {why}", p.id), json!({"code": why})));
    }
    let profile = match profile_id {
        Some(id) => Some(profiles::by_id(app, id).await?),
        None => profiles::by_identities(app, identities).await?,
    };
    let profile = profile.ok_or_else(|| Error::new(ErrorCode::NotFound, "no profile has these identities"))?;
    let target =
        Target { profile_id: Some(profile.id.to_string()), issue_key: format!("claim:{}:{request_key}", profile.id) };
    let result = issue(app, p, "claim", std::slice::from_ref(&target), now).await?.pop();
    let result = result.ok_or_else(|| beacon_store::internal_error("no outcome for the claim"))?;
    if let Some(reason) = refusal(&result) {
        let what = reason["code"].as_str().unwrap_or("refused").to_string();
        return Err(limit_reached(format!("promotion {:?} cannot issue a code: {what}", p.id), reason));
    }
    Ok(Given { results: vec![(target, result)], snapshot: snapshot.clone(), now })
}

/// Why one code was not issued, as callers are told.
pub fn refusal(r: &Issued) -> Option<Value> {
    match r {
        Issued::New(_) | Issued::Existing(_) => None,
        Issued::QuantityReached { quantity } => Some(json!({"code": "quantity_reached", "quantity": quantity})),
        Issued::ProfileLimitReached { held } => Some(json!({"code": "profile_limit_reached", "per_profile": held})),
        Issued::CodeTaken => Some(json!({"code": "code_taken"})),
    }
}
