//! `/api/v1/orders`, daily figures and reviews.
//!
//! Orders posted here become `Order Completed` events in the event log, the
//! same path as orders sent through a Segment SDK, so there is one place
//! where orders are decided (the processor) and one order per `order_id`
//! however it arrives.

use super::extract::{Json as JsonBody, PageParams, Path, Query, encode_cursor, page_request};
use super::profiles::parse_profile_id;
use crate::auth::{Authorized, ManageData, Read};
use crate::error::{ApiError, ApiResult};
use crate::ingest;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use beacon_core::message::{self, Envelope, MessageKind, parse_time};
use beacon_core::{Currency, ErrorCode, Money};
use beacon_store::{AfterSale, Order, OrderQuery, OrderStatus, Revenue, ReviewsOf, StoredReview};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", get(list).post(create))
        .route("/api/v1/orders/{id}", get(one))
        .route("/api/v1/overview/daily", get(daily))
        .route("/api/v1/products/{id}/reviews", get(product_reviews))
        .route("/api/v1/profiles/{id}/reviews", get(profile_reviews))
}

/// Most orders one request may carry.
pub const MAX_ORDERS: usize = 1000;
/// The source orders posted through this API are deduplicated under.
pub const ORDERS_SOURCE: &str = "api:orders";

fn money(minor: i64, currency: Currency) -> String {
    Money { minor, currency }.to_decimal_string()
}

fn order_json(o: &Order) -> Value {
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

fn review_json(r: &StoredReview) -> Value {
    json!({
        "review_id": r.review_id, "product_id": r.product_id, "profile_id": r.profile_id,
        "rating": r.rating, "text": r.body, "at": r.at,
    })
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CreateBody {
    Many { orders: Vec<Map<String, Value>> },
    One(Map<String, Value>),
}

/// Fields an order posted here may have.
const FIELDS: &[&str] = &[
    "order_id",
    "user_id",
    "anonymous_id",
    "email",
    "phone",
    "placed_at",
    "currency",
    "total",
    "revenue",
    "discount",
    "shipping",
    "coupon",
    "products",
];

/// The `Order Completed` message for one posted order.
fn order_message(order: &Map<String, Value>) -> Result<String, beacon_core::Error> {
    let invalid = |m: String| beacon_core::Error::new(ErrorCode::InvalidOrder, m);
    if let Some(unknown) = order.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(invalid(format!("unknown field {unknown:?}; the fields are {}", FIELDS.join(", "))));
    }
    let mut props = Map::new();
    for key in ["order_id", "currency", "total", "revenue", "discount", "shipping", "coupon", "products"] {
        if let Some(v) = order.get(key) {
            props.insert(key.into(), v.clone());
        }
    }
    let mut msg = json!({"type": "track", "event": "Order Completed", "properties": props});
    let id = match order.get("order_id") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    if let Some(id) = id {
        msg["messageId"] = json!(format!("order:{id}"));
    }
    for (from, to) in [("user_id", "userId"), ("anonymous_id", "anonymousId"), ("placed_at", "timestamp")] {
        if let Some(v) = order.get(from) {
            msg[to] = v.clone();
        }
    }
    let traits: Map<String, Value> =
        ["email", "phone"].iter().filter_map(|k| order.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    if !traits.is_empty() {
        msg["context"] = json!({ "traits": traits });
    }
    Ok(msg.to_string())
}

/// The log record of one order posted in the API's order shape, checked
/// as ingest checks an `Order Completed` event.
pub(crate) fn order_record(
    order: &Map<String, Value>,
    received_at: chrono::DateTime<Utc>,
) -> Result<beacon_store::NewLogRecord, beacon_core::Error> {
    let env = Envelope {
        received_at,
        sent_at: None,
        kind: Some(MessageKind::Track),
        generated_id: &ingest::fallback_message_id,
    };
    let text = order_message(order)?;
    let raw = serde_json::value::RawValue::from_string(text)
        .map_err(|e| beacon_core::Error::new(ErrorCode::InvalidOrder, format!("the order cannot be written: {e}")))?;
    let m = message::validate(&raw, &env).map_err(|mut e| {
        // name the fields as they were posted here, not as the Segment message has them
        e.message = match e.code {
            ErrorCode::MissingIdentity => "user_id or anonymous_id is required".into(),
            ErrorCode::InvalidTimestamp => e.message.replacen("timestamp", "placed_at", 1),
            _ => e.message.replace("userId", "user_id").replace("anonymousId", "anonymous_id"),
        };
        e
    })?;
    Ok(ingest::record(ORDERS_SOURCE, m, received_at))
}

/// The log record of the refund of a checkout's `order` (its fields as
/// `order_record` takes them) that the server decides on (a group-buy team
/// failed); `message_id` makes a retry write it once.
pub(crate) fn refund_record(
    order: &Map<String, Value>,
    message_id: &str,
    reason: &str,
    at: chrono::DateTime<Utc>,
) -> Result<beacon_store::NewLogRecord, beacon_core::Error> {
    let mut msg = json!({"type": "track", "event": "Order Refunded", "messageId": message_id, "timestamp": at,
        "properties": {"order_id": order.get("order_id"), "reason": reason}});
    for (from, to) in [("user_id", "userId"), ("anonymous_id", "anonymousId")] {
        if let Some(v) = order.get(from) {
            msg[to] = v.clone();
        }
    }
    let env = Envelope {
        received_at: at,
        sent_at: None,
        kind: Some(MessageKind::Track),
        generated_id: &ingest::fallback_message_id,
    };
    let raw = serde_json::value::RawValue::from_string(msg.to_string())
        .map_err(|e| beacon_core::Error::new(ErrorCode::InvalidOrder, format!("the refund cannot be written: {e}")))?;
    Ok(ingest::record(ORDERS_SOURCE, message::validate(&raw, &env)?, at))
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
    let orders = match body {
        CreateBody::Many { orders } => orders,
        CreateBody::One(cart) if cart.contains_key("lines") => {
            let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).ok_or_else(|| {
                ApiError::new(
                    ErrorCode::InvalidParameter,
                    "placing an order from a cart needs an Idempotency-Key header",
                )
            })?;
            let placed = crate::checkout::commit::place(&state, key.trim(), cart).await?;
            let status = if placed.replayed { StatusCode::OK } else { StatusCode::CREATED };
            let mut resp = (status, Json(placed.body)).into_response();
            if placed.replayed {
                resp.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            return Ok(resp);
        }
        CreateBody::One(one) => vec![one],
    };
    if orders.len() > MAX_ORDERS {
        return Err(ApiError::new(ErrorCode::PayloadTooLarge, format!("at most {MAX_ORDERS} orders per request")));
    }
    let received_at = Utc::now();
    let (mut accepted, mut rejected) = (Vec::new(), Vec::new());
    for (index, order) in orders.iter().enumerate() {
        match order_record(order, received_at) {
            Ok(r) => accepted.push(r),
            Err(e) => rejected.push(json!({"index": index, "code": e.code.as_str(), "message": e.message})),
        }
    }
    if accepted.is_empty() && !rejected.is_empty() {
        return Err(ApiError::new(ErrorCode::InvalidOrder, "no order in the request is valid")
            .with_details(json!({ "rejected": rejected })));
    }
    let n = accepted.len();
    if n > 0 {
        ingest::write(&state, accepted).await?;
    }
    Ok(Json(json!({"accepted": n, "rejected": rejected})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    cursor: Option<String>,
    limit: Option<u32>,
    profile: Option<String>,
    status: Option<String>,
    placed_after: Option<String>,
    placed_before: Option<String>,
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
    let query = OrderQuery {
        page: page_request(p.cursor.as_deref(), p.limit)?,
        profile: p.profile.as_deref().map(parse_profile_id).transpose()?,
        status,
        placed_after: time(&p.placed_after, "placed_after")?,
        placed_before: time(&p.placed_before, "placed_before")?,
    };
    let page = state.store.list_orders(&query).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(order_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let order = state.store.get_order(&id).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such order"))?;
    let after_sales = state.store.after_sales(&id).await?;
    let mut out = order_json(&order);
    out["after_sales"] = after_sales.iter().map(after_sale_json).collect();
    Ok(Json(out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DailyParams {
    from: String,
    to: String,
    /// `+08:00`, `-05:00` or `Z` (the default).
    tz: Option<String>,
}

async fn daily(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<DailyParams>,
) -> ApiResult<Json<Value>> {
    let date = |s: &str, field: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::new(ErrorCode::InvalidParameter, format!("{field} must be a date like 2026-11-11")))
    };
    let (from, to) = (date(&p.from, "from")?, date(&p.to, "to")?);
    if to < from || (to - from).num_days() > 3660 {
        return Err(ApiError::new(ErrorCode::InvalidParameter, "to must be on or after from, at most ten years on"));
    }
    let tz = p.tz.as_deref().unwrap_or("Z");
    let offset = beacon_core::zone::parse_utc_offset(tz)
        .ok_or_else(|| ApiError::new(ErrorCode::InvalidParameter, "tz must be an offset like +08:00 or Z"))?;
    let days = state.store.daily_figures(from, to, offset).await?;
    let days: Vec<Value> = days
        .iter()
        .map(|d| json!({"date": d.day.to_string(), "orders": d.revenue.iter().map(|r| r.orders).sum::<i64>(), "revenue": revenue_json(&d.revenue)}))
        .collect();
    Ok(Json(json!({"from": from.to_string(), "to": to.to_string(), "tz": tz, "days": days})))
}

async fn reviews(state: &AppState, of: ReviewsOf, p: PageParams) -> ApiResult<Json<Value>> {
    let page = state.store.list_reviews(&of, &p.request()?).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(review_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn product_reviews(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    reviews(&state, ReviewsOf::Product(id), p).await
}

async fn profile_reviews(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    reviews(&state, ReviewsOf::Profile(parse_profile_id(&id)?), p).await
}
