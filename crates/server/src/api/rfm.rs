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
    Router::new().route("/api/v1/rfm", get(summary)).route("/api/v1/rfm/customers", get(customers))
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
