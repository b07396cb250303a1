//! `/api/v1/rfm`: RFM value tiers as of a day (the shop's today by
//! default): the groups and the R × F grid with customers and revenue, and
//! every buyer's figures, scores and group, paged. The rules are in
//! docs/INSIGHT.md.

use super::extract::{Query, encode_cursor, page_request};
use crate::app::rfm;
use crate::auth::{Authorized, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_insight::rfm::Group;
use chrono::NaiveDate;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/rfm", get(summary))
        .route("/api/v1/rfm/customers", get(customers))
        .route("/api/v1/lifecycle", get(funnel))
        .route("/api/v1/lifecycle/transitions", get(transitions))
        .route("/api/v1/clusters", get(clusters))
        .route("/api/v1/clusters/elbow", get(elbow))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfParams {
    /// The day (YYYY-MM-DD, in the shop's time zone) RFM is figured as of; today by default.
    #[param(format = Date)]
    pub as_of: Option<String>,
}

/// A day from 1970 to 9999 (`YYYY-MM-DD`), if given.
pub fn as_of(s: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    let Some(s) = s else { return Ok(None) };
    match s.parse::<NaiveDate>() {
        Ok(d) if d.year_ce().1 >= 1970 && d.year_ce().1 <= 9999 => Ok(Some(d)),
        _ => Err(ApiError::new(ErrorCode::InvalidParameter, format!("as_of {s:?} is not a day (YYYY-MM-DD)"))),
    }
}

use chrono::Datelike as _;

async fn summary(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<AsOfParams>,
) -> ApiResult<Json<Value>> {
    let table = rfm::table(&state, as_of(p.as_of.as_deref())?).await?;
    Ok(Json(table.summary()))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CustomersParams {
    #[param(format = Date)]
    pub as_of: Option<String>,
    /// Only this group (champions, loyal, potential, at_risk, promising, new, hibernating, lost).
    pub group: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Every buyer's RFM, by profile id.
async fn customers(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<CustomersParams>,
) -> ApiResult<Json<Value>> {
    let group = match p.group.as_deref() {
        None => None,
        Some(g) => Some(Group::parse(g).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                "group is one of champions, loyal, potential, at_risk, promising, new, hibernating, lost",
            )
        })?),
    };
    let page = page_request(p.cursor.as_deref(), p.limit)?;
    let table = rfm::table(&state, as_of(p.as_of.as_deref())?).await?;
    let after = page.after.as_ref().map(|(_, id)| id.as_str()).unwrap_or("");
    let limit = page.limit as usize;
    let mut items = Vec::with_capacity(limit);
    let mut more = false;
    let start = table.customers.partition_point(|s| s.id.as_str() <= after);
    for s in table.customers[start..].iter().filter(|s| group.is_none_or(|g| s.group == g)) {
        if items.len() == limit {
            more = true;
            break;
        }
        let mut v = table.json(s);
        v["profile_id"] = json!(s.id);
        items.push(v);
    }
    let next = more
        .then(|| items.last().and_then(|v| v["profile_id"].as_str()).map(|id| encode_cursor(&(0, id.to_string()))))
        .flatten();
    Ok(Json(json!({"as_of": table.as_of, "items": items, "next_cursor": next})))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClusterParams {
    #[param(format = Date)]
    pub as_of: Option<String>,
    /// Clusters (1 to 12; 4 by default).
    #[param(minimum = 1, maximum = 12)]
    pub k: Option<usize>,
    /// Seeds k-means++ (the same seed, the same clusters).
    #[param(minimum = 0, maximum = 1000000000)]
    pub seed: Option<u64>,
}

/// The buyers clustered by k-means on their RFM.
async fn clusters(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ClusterParams>,
) -> ApiResult<Json<Value>> {
    let k = p.k.unwrap_or(4);
    if !(1..=rfm::MAX_K).contains(&k) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "k is 1 to 12"));
    }
    let (table, r) = rfm::clusters(&state, as_of(p.as_of.as_deref())?, k, seed(p.seed)?).await?;
    let clusters: Vec<Value> = r
        .clusters
        .iter()
        .enumerate()
        .map(|(i, c)| {
            json!({"cluster": i, "name": c.name, "name_zh": c.name_zh, "customers": c.size, "centroid": c.centroid,
                   "recency_days": c.recency_days, "frequency": c.frequency, "monetary": c.monetary})
        })
        .collect();
    Ok(Json(json!({
        "as_of": table.as_of, "currency": table.currency.code(), "k": r.k, "customers": table.customers.len(),
        "features": ["ln(1 + recency_days)", "ln(1 + frequency)", "ln(1 + monetary)"], "scaled": "z-score",
        "inertia": r.inertia, "silhouette": r.silhouette, "clusters": clusters,
    })))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ElbowParams {
    #[param(format = Date)]
    pub as_of: Option<String>,
    /// The largest k (2 to 12; 8 by default).
    #[param(minimum = 2, maximum = 12)]
    pub max_k: Option<usize>,
    #[param(minimum = 0, maximum = 1000000000)]
    pub seed: Option<u64>,
}

/// Inertia and silhouette by k, to choose k.
async fn elbow(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ElbowParams>,
) -> ApiResult<Json<Value>> {
    let max_k = p.max_k.unwrap_or(8);
    if !(2..=rfm::MAX_K).contains(&max_k) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "max_k is 2 to 12"));
    }
    let points = rfm::elbow(&state, as_of(p.as_of.as_deref())?, max_k, seed(p.seed)?).await?;
    Ok(Json(json!({"items": points})))
}

/// Profiles per lifecycle stage as of a day.
async fn funnel(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<AsOfParams>,
) -> ApiResult<Json<Value>> {
    let table = rfm::table(&state, as_of(p.as_of.as_deref())?).await?;
    let profiles = state.store.profiles().overview().await?.profiles;
    let mut out = table.funnel(profiles);
    out["rules"] = json!(state.settings.lifecycle);
    Ok(Json(out))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransitionsParams {
    /// The moves of the last this many days (1 to 366; 30 by default).
    #[param(minimum = 1, maximum = 366)]
    pub days: Option<u32>,
}

/// How many profiles moved from each lifecycle stage to each other lately.
async fn transitions(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<TransitionsParams>,
) -> ApiResult<Json<Value>> {
    let days = p.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "days is 1 to 366"));
    }
    let since = state.now() - chrono::Duration::days(i64::from(days));
    let moves = crate::app::lifecycle::transitions(&state, since).await?;
    let items: Vec<Value> =
        moves.into_iter().map(|(from, to, n)| json!({"from": from, "to": to, "profiles": n})).collect();
    Ok(Json(json!({"days": days, "since": since, "items": items})))
}

/// k-means' seed: 0 to 1,000,000,000 (0 by default).
fn seed(s: Option<u64>) -> ApiResult<u64> {
    match s.unwrap_or(0) {
        s if s <= 1_000_000_000 => Ok(s),
        _ => Err(ApiError::new(ErrorCode::InvalidParameter, "seed is 0 to 1,000,000,000")),
    }
}
