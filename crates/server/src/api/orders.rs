//! `/api/v1/orders`, daily figures and reviews.
//!
//! Orders posted here become `Order Completed` events in the event log, the
//! same path as orders sent through a Segment SDK, so there is one place
//! where orders are decided (the processor) and one order per `order_id`
//! however it arrives.

use super::extract::{Json as JsonBody, PageParams, Path, Query, encode_cursor, page_request};
use crate::app::{checkout, records};
use crate::auth::{Authorized, ManageData, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::message::parse_time;
use beacon_core::{Currency, ErrorCode, Money};
use beacon_store::{AfterSale, Order, OrderQuery, OrderStatus, Revenue, ReviewsOf, StoredReview};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", get(list).post(create))
        .route("/api/v1/orders/{id}", get(one))
        .route("/api/v1/orders/{id}/refunds", axum::routing::post(refund))
        .route("/api/v1/overview/daily", get(daily))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/products/{id}/reviews", get(product_reviews))
        .route("/api/v1/profiles/{id}/reviews", get(profile_reviews))
}

fn money(minor: i64, currency: Currency) -> String {
    Money { minor, currency }.to_decimal_string()
}

pub fn order_json(o: &Order) -> Value {
    let lines: Vec<Value> = o
        .lines
        .iter()
        .map(|l| {
            json!({
                "product_id": l.product_id, "sku": l.sku, "name": l.name, "category": l.category,
                "price": money(l.price_minor, o.currency), "quantity": l.quantity,
                "paid": money(l.share_minor, o.currency), "refunded_quantity": l.refunded_quantity,
            })
        })
        .collect();
    json!({
        "order_id": o.order_id,
        "profile_id": o.profile_id,
        "status": o.status.as_str(),
        "currency": o.currency.code(),
        "total": money(o.total_minor, o.currency),
        "discount": money(o.discount_minor, o.currency),
        "refunded": money(o.refunded_minor, o.currency),
        "net": money(o.net_minor(), o.currency),
        "coupon": o.coupon,
        "placed_at": o.placed_at,
        "message_id": o.message_id,
        "lines": lines,
    })
}

fn after_sale_json(a: &AfterSale) -> Value {
    let currency = a.currency.as_deref().and_then(Currency::parse);
    json!({
        "kind": a.kind.as_str(),
        "outcome": a.outcome,
        "amount": currency.map(|c| money(a.amount_minor, c)),
        "currency": a.currency,
        "reason": a.reason,
        "lines": a.lines,
        "at": a.at,
        "message_id": a.message_id,
    })
}

pub fn revenue_json(r: &[Revenue]) -> Vec<Value> {
    r.iter()
        .map(|r| {
            let amount = Currency::parse(&r.currency).map(|c| money(r.net_minor, c));
            json!({"currency": r.currency, "orders": r.orders, "revenue": amount})
        })
        .collect()
}

pub fn review_json(r: &StoredReview) -> Value {
    json!({
        "review_id": r.review_id, "product_id": r.product_id, "profile_id": r.profile_id,
        "rating": r.rating, "text": r.body, "at": r.at,
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CreateBody {
    Many(Orders),
    One(Map<String, Value>),
}

/// `{"orders": […]}`, nothing else (anything else is one order, and its
/// unknown fields are refused).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Orders {
    orders: Vec<Map<String, Value>>,
}

/// Records orders placed elsewhere (`{"order_id", "products", …}` or
/// `{"orders": […]}`), or places one from a cart (`{"lines": […], …}` with
/// an `Idempotency-Key` header: priced, limits taken, then recorded).
async fn create(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CreateBody>,
) -> ApiResult<Response> {
    let key = super::extract::idempotency_key(&headers)?;
    let orders = match body {
        CreateBody::Many(Orders { orders }) => orders,
        CreateBody::One(cart) if cart.contains_key("lines") => {
            let key = key.ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    "placing an order from a cart needs an Idempotency-Key header",
                )
            })?;
            let placed = checkout::commit::place(&state, &key, cart).await?;
            let status = if placed.replayed { StatusCode::OK } else { StatusCode::CREATED };
            let mut resp = (status, Json(placed.body)).into_response();
            if placed.replayed {
                resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            return Ok(resp);
        }
        CreateBody::One(one) => vec![one],
    };
    let (n, refused) = records::record_orders(&state, &orders).await?;
    Ok(Json(json!({"accepted": n, "rejected": records::refusals_json(&refused)})).into_response())
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    #[param(format = Uuid)]
    pub profile: Option<String>,
    #[param(pattern = "^(completed|partially_refunded|refunded|cancelled)$")]
    pub status: Option<String>,
    #[param(format = DateTime)]
    pub placed_after: Option<String>,
    #[param(format = DateTime)]
    pub placed_before: Option<String>,
}

async fn list(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let time = |s: &Option<String>, field| s.as_deref().map(|t| parse_time(t, field)).transpose();
    let status = match p.status.as_deref() {
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidParameter,
                "status must be completed, partially_refunded, refunded or cancelled",
            )
        })?),
        None => None,
    };
    // a merged-away id lists its survivor's orders; an erased or unknown one is not found
    let profile = match p.profile.as_deref() {
        Some(id) => Some(crate::app::profiles::by_id(&state, id).await?.id),
        None => None,
    };
    let query = OrderQuery {
        page: page_request(p.cursor.as_deref(), p.limit)?,
        profile,
        status,
        placed_after: time(&p.placed_after, "placed_after")?,
        placed_before: time(&p.placed_before, "placed_before")?,
    };
    let page = state.store.orders().list_orders(&query).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(order_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let order = state
        .store
        .orders()
        .get_order(&id)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such order"))?;
    let after_sales = state.store.orders().after_sales(&id).await?;
    let mut out = order_json(&order);
    out["after_sales"] = after_sales.iter().map(after_sale_json).collect();
    Ok(Json(out))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DailyParams {
    #[param(format = Date)]
    pub from: String,
    #[param(format = Date)]
    pub to: String,
    /// `+08:00`, `-05:00` or `Z`; the shop's (`shop.utc_offset`) by default.
    #[param(pattern = "^(Z|[+-][0-9]{2}:(00|15|30|45))$")]
    pub tz: Option<String>,
}

/// The range and offset of `from`, `to` and `tz` (the shop's by default).
fn range(state: &AppState, p: &DailyParams) -> ApiResult<(chrono::NaiveDate, chrono::NaiveDate, i32, String)> {
    let date = |s: &str, field: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::new(ErrorCode::InvalidParameter, format!("{field} must be a date like 2026-11-11")))
    };
    let (from, to) = (date(&p.from, "from")?, date(&p.to, "to")?);
    if to < from || (to - from).num_days() > 3660 {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "to must be on or after from, at most ten years on"));
    }
    let tz = p.tz.clone().unwrap_or_else(|| state.settings.shop.utc_offset.clone());
    let offset = beacon_core::zone::parse_utc_offset(&tz).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            "tz must be an offset like +08:00, +05:45 or Z (whole quarter hours, as every offset in use is)",
        )
    })?;
    Ok((from, to, offset, tz))
}

/// The dashboard's figures: `app::dashboard`.
async fn dashboard(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<DailyParams>,
) -> ApiResult<Json<Value>> {
    let (from, to, offset, tz) = range(&state, &p)?;
    let mut out = crate::app::dashboard::figures(&state, from, to, offset).await?;
    out["tz"] = json!(tz);
    Ok(Json(out))
}

async fn daily(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<DailyParams>,
) -> ApiResult<Json<Value>> {
    let (from, to, offset, tz) = range(&state, &p)?;
    let days = state.store.orders().daily_figures(from, to, offset).await?;
    let days: Vec<Value> = days
        .iter()
        .map(|d| json!({"date": d.day.to_string(), "orders": d.revenue.iter().map(|r| r.orders).sum::<i64>(), "revenue": revenue_json(&d.revenue)}))
        .collect();
    Ok(Json(json!({"from": from.to_string(), "to": to.to_string(), "tz": tz, "days": days})))
}

async fn reviews(state: &AppState, who: &Authorized<Read>, of: ReviewsOf, p: PageParams) -> ApiResult<Json<Value>> {
    let page = state.store.orders().list_reviews(&of, &p.request()?).await?;
    let view = json!({
        "items": page.items.iter().map(review_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    });
    Ok(Json(who.sees(state, view).await?))
}

async fn product_reviews(
    who: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    // a product reviewed in events may not be in the catalog; one that is in
    // neither (never, or deleted with nothing said of it) is not found
    let first_page = p.cursor.is_none();
    let answer = reviews(&state, &who, ReviewsOf::Product(id.clone()), p).await?;
    let nothing = answer.0["items"].as_array().is_some_and(Vec::is_empty);
    if first_page && nothing && state.store.catalog().get_product(&id).await?.is_none() {
        return Err(ApiError::new(ErrorCode::NotFound, "no such product, and no review of it"));
    }
    Ok(answer)
}

async fn profile_reviews(
    who: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    // a merged-away id reads its survivor's; an erased or unknown one is not found
    let profile = crate::app::profiles::by_id(&state, &id).await?;
    reviews(&state, &who, ReviewsOf::Profile(profile.id), p).await
}

/// Refunds lines of an order, an amount, or what is left (`app::refunds`).
async fn refund(
    _: Authorized<ManageData>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<crate::app::refunds::RefundRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let key = super::extract::idempotency_key(&headers)?;
    let out = crate::app::refunds::refund(&state, &id, &req, key.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, Json(out)))
}
