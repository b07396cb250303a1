//! `/api/v1/profiles`, `/api/v1/overview`.

use super::extract::{PageParams, Path, Query, encode_cursor, page_request};
use crate::app::profiles;
use crate::auth::{Authorized, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::message::parse_time;
use beacon_core::{Currency, ErrorCode, Identity, Money};
use beacon_store::{Profile, ProfileQuery, StoredEvent};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles", get(list))
        .route("/api/v1/profiles/{id}", get(one).delete(super::privacy::erase))
        .route("/api/v1/profiles/{id}/events", get(events))
        .route("/api/v1/overview", get(overview))
}

pub fn profile_json(p: &Profile) -> Value {
    json!({
        "id": p.id,
        "identities": p.identities,
        "unverified": p.unverified,
        "traits": p.traits,
        "first_seen": p.first_seen,
        "last_seen": p.last_seen,
        "event_count": p.event_count,
        "order_count": p.orders.order_count,
        "first_order_at": p.orders.first_order_at,
        "last_order_at": p.orders.last_order_at,
        "total_spend": spend(&p.orders).map(|(total, _)| total),
        "average_order_value": spend(&p.orders).map(|(_, average)| average),
        "spend_by_currency": p.orders.by_currency.iter().map(|(code, (orders, net))| {
            json!({"currency": code, "orders": orders, "spend": Currency::parse(code).map(|c| Money { minor: *net, currency: c }.to_decimal_string())})
        }).collect::<Vec<_>>(),
        "merges": p.merges,
    })
}

/// Net spend and average order value in the currency most orders were paid
/// in, as `{"amount": "…", "currency": "…"}`.
fn spend(f: &beacon_store::OrderFigures) -> Option<(Value, Value)> {
    let (code, orders, net) = f.main_currency()?;
    let currency = Currency::parse(code)?;
    let amount = |minor| json!({"amount": Money { minor, currency }.to_decimal_string(), "currency": code});
    // half up, in minor units
    let average = (net * 2 + orders) / (orders * 2);
    Some((amount(net), amount(average)))
}

pub fn event_json(e: &StoredEvent) -> Value {
    json!({
        "seq": e.seq,
        "message_id": e.message_id,
        "type": e.kind.as_str(),
        "name": e.name,
        "product": e.product,
        "profile_id": e.profile_id,
        "timestamp": e.timestamp,
        "received_at": e.received_at,
        "message": serde_json::from_str::<Value>(&e.payload).unwrap_or(Value::Null),
    })
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(pattern = "^[a-z_]+:.+$")]
    pub identity: Option<String>,
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(format = DateTime)]
    pub seen_after: Option<String>,
    #[param(format = DateTime)]
    pub seen_before: Option<String>,
    #[param(minimum = 0)]
    pub min_events: Option<i64>,
    pub has_trait: Option<String>,
    /// Only profiles holding this tag.
    pub tag: Option<String>,
    /// The day each profile's `rfm` is figured as of (YYYY-MM-DD); today by default.
    #[param(format = Date)]
    pub rfm_as_of: Option<String>,
}

/// Adds each profile's RFM (`null`: no order yet) and lifecycle stage as of `as_of`.
async fn with_rfm(state: &AppState, items: &mut [Value], as_of: Option<chrono::NaiveDate>) -> ApiResult<()> {
    let table = crate::app::rfm::table(state, as_of).await?;
    for item in items {
        let id = item["id"].as_str().unwrap_or_default().to_string();
        let rfm = table.of(&id).map(|s| table.json(s));
        item["rfm"] = rfm.unwrap_or(Value::Null);
        let stage = table.stage(&id);
        item["lifecycle"] = json!({"as_of": table.as_of, "stage": stage.key(), "name": stage.zh()});
    }
    Ok(())
}

async fn list(
    who: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    if p.min_events.is_some_and(|n| n < 0) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "min_events must be 0 or more"));
    }
    let time = |s: &Option<String>, field| s.as_deref().map(|t| parse_time(t, field)).transpose();
    let rfm_as_of = super::rfm::as_of(p.rfm_as_of.as_deref())?;
    let query = ProfileQuery {
        page: page_request(p.cursor.as_deref(), p.limit)?,
        seen_after: time(&p.seen_after, "seen_after")?,
        seen_before: time(&p.seen_before, "seen_before")?,
        min_events: p.min_events,
        has_trait: p.has_trait,
        tag: p.tag,
    };
    if let Some(pair) = &p.identity {
        // one person: the list filters do not apply
        let identity = Identity::parse_pair(pair, &state.rules.identity.normalize)?;
        let items = state.store.profiles().find_profiles(&identity).await?;
        let mut items: Vec<Value> = items.iter().map(profile_json).collect();
        with_rfm(&state, &mut items, rfm_as_of).await?;
        let view = json!({"items": items, "next_cursor": null});
        return Ok(Json(who.sees(&state, view).await?));
    }
    let page = state.store.profiles().list_profiles(&query).await?;
    let mut items: Vec<Value> = page.items.iter().map(profile_json).collect();
    with_rfm(&state, &mut items, rfm_as_of).await?;
    let view = json!({
        "items": items,
        "next_cursor": page.next.as_ref().map(encode_cursor),
    });
    Ok(Json(who.sees(&state, view).await?))
}

async fn one(who: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let mut item = [profile_json(&profiles::by_id(&state, &id).await?)];
    with_rfm(&state, &mut item, None).await?;
    let [item] = item;
    Ok(Json(who.sees(&state, item).await?))
}

async fn events(
    who: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    // a merged-away id reads its survivor's timeline; an erased or unknown one is not found
    let id = profiles::by_id(&state, &id).await?.id;
    let page = p.request()?;
    if page.after.as_ref().is_some_and(|(_, seq)| seq.parse::<i64>().is_err()) {
        return Err(ApiError::new(ErrorCode::InvalidCursor, "the cursor is not one this server issued"));
    }
    let page = state.store.profiles().profile_events(id, &page).await?;
    let view = json!({
        "items": page.items.iter().map(event_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    });
    Ok(Json(who.sees(&state, view).await?))
}

/// `revenue` is in the shop currency if any order was paid in it, else in
/// the currency of most orders; `revenue_by_currency` has them all.
async fn overview(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let o = state.store.profiles().overview().await?;
    let shop = state.rules.currency;
    let main = o.revenue.iter().find(|r| r.currency == shop.code()).or(o.revenue.first());
    let currency = main.and_then(|r| Currency::parse(&r.currency)).unwrap_or(shop);
    let revenue = Money { minor: main.map_or(0, |r| r.net_minor), currency };
    Ok(Json(json!({
        "profiles": o.profiles,
        "events": o.events,
        "orders": o.orders,
        "revenue": revenue.to_decimal_string(),
        "currency": currency.code(),
        "revenue_by_currency": super::orders::revenue_json(&o.revenue),
    })))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AfterParams {
    /// The last `seq` already read (0 to start).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
}

/// `GET /api/v1/events`: every processed event in log order, for exports.
pub async fn all_events(
    who: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<AfterParams>,
) -> ApiResult<Json<Value>> {
    if p.after.is_some_and(|a| a < 0) {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "after must be 0 or more (the last seq read)"));
    }
    let limit = p.limit.unwrap_or(super::extract::DEFAULT_PAGE);
    if limit == 0 || limit > super::extract::MAX_PAGE * 5 {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "limit must be 1..=1000"));
    }
    let items = state.store.profiles().events_after(p.after.unwrap_or(0), limit).await?;
    let next = (items.len() == limit as usize).then(|| items.last().map(|e| e.seq)).flatten();
    let view = json!({"items": items.iter().map(event_json).collect::<Vec<_>>(), "next_after": next});
    Ok(Json(who.sees(&state, view).await?))
}
