//! Points (积分): the program (`/api/v1/loyalty/program`, audited
//! `loyalty.update`), a profile's points, and leaderboards (积分榜单) of
//! points earned in a period, with a profile's own rank. The logic is in
//! `checkout::loyalty`.

use super::extract::{Json as JsonBody, Path, Query};
use crate::app::checkout::loyalty::{points_json, tier};
use crate::app::profiles;
use crate::auth::{Authorized, ManageMarketing, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_core::message::parse_time;
use beacon_pricing::loyalty::ProgramSpec;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/loyalty/program", get(program).put(put_program))
        .route("/api/v1/loyalty/leaderboard", get(leaderboard))
        .route("/api/v1/profiles/{id}/points", get(profile_points))
}

fn program_json(p: &beacon_store::StoredProgram) -> Value {
    json!({"spec": p.spec, "version": p.version, "updated_at": p.updated_at})
}

async fn program(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let p = state.store.loyalty().program().await?;
    let p = p.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no points program yet"))?;
    Ok(Json(program_json(&p)))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct Version {
    pub if_version: Option<i64>,
}

async fn put_program(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Query(v): Query<Version>,
    JsonBody(spec): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    ProgramSpec::parse(&spec.to_string())?.compile(state.rules.currency)?;
    let expected = match v.if_version {
        Some(n) => Some(n),
        None => state.store.loyalty().program().await?.map(|p| p.version),
    };
    let saved = state.store.loyalty().put_program(&spec, expected, &auth.actor(), state.now()).await?;
    state.loyalty.invalidate();
    Ok(Json(program_json(&saved)))
}

async fn profile_points(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let profile = profiles::by_id(&state, &id).await?;
    let now = state.now();
    let lots = state.store.loyalty().lots(&profile.id.to_string()).await?;
    let mut out = points_json(&lots, now);
    out["profile_id"] = json!(profile.id);
    if let Some(p) = state.loyalty.get(&state).await? {
        out["tier"] = json!(tier(&state, &p, &profile, now).await?);
    }
    Ok(Json(out))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardParams {
    /// `day`, `week`, `month` (default) or `total`, in the shop's time zone.
    #[param(pattern = "^(day|week|month|total)$")]
    pub period: Option<String>,
    /// A time in the period (default now).
    #[param(format = DateTime)]
    pub at: Option<String>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// Also this profile's points and rank.
    #[param(format = Uuid)]
    pub profile_id: Option<String>,
}

/// The period containing `at`, in the shop's offset from UTC.
fn period(name: &str, at: DateTime<Utc>, offset_seconds: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let offset = Duration::seconds(i64::from(offset_seconds));
    let day = (at + offset).date_naive();
    let (from, to) = match name {
        "day" => (day, day.succ_opt()?),
        "week" => {
            let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
            (monday, monday + Duration::days(7))
        }
        "month" => {
            let first = day.with_day(1)?;
            (first, first.checked_add_months(chrono::Months::new(1))?)
        }
        "total" => return Some((DateTime::UNIX_EPOCH, DateTime::from_timestamp(253_402_300_799, 0)?)),
        _ => return None,
    };
    let utc = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc() - offset);
    Some((utc(from)?, utc(to)?))
}

async fn leaderboard(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(q): Query<BoardParams>,
) -> ApiResult<Json<Value>> {
    let name = q.period.as_deref().unwrap_or("month");
    let at = q.at.as_deref().map(|t| parse_time(t, "at")).transpose()?.unwrap_or_else(|| state.now());
    let (from, to) = period(name, at, state.settings.utc_offset_seconds())
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidParameter, "period must be day, week, month or total"))?;
    let limit = q.limit.unwrap_or(10);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be 1..=1000"));
    }
    let store = state.store.loyalty();
    let top = store.leaderboard(from, to, limit).await?;
    // competition ranking: equal points, equal rank (1, 2, 2, 4)
    let items: Vec<Value> = top
        .iter()
        .enumerate()
        .map(|(i, (who, n))| {
            let rank = top.iter().position(|(_, m)| m == n).unwrap_or(i) + 1;
            json!({"rank": rank, "profile_id": who, "points": n})
        })
        .collect();
    let mut out = json!({"period": name, "from": from, "to": to, "items": items});
    if let Some(id) = &q.profile_id {
        let profile = profiles::by_id(&state, id).await?;
        let mine = store.earned(&profile.id.to_string(), from, to).await?;
        let rank = if mine > 0 { Some(store.earned_more(mine, from, to).await? + 1) } else { None };
        out["me"] = json!({"profile_id": profile.id, "points": mine, "rank": rank});
    }
    Ok(Json(out))
}
