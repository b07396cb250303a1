//! A refund asked for through the API (the console's "refund" button, or
//! the shop's back end): written as the `Order Refunded` event a Segment
//! SDK would send, from the orders source, so the processor decides it as
//! any refund (lines, amount or what is left; coupons, limits, stock and
//! points come back). An `Idempotency-Key` makes a retry the same event.

use super::{App, AppResult, log, records};
use beacon_core::{Error, ErrorCode, IdentityKind};
use serde_json::{Map, Value, json};

/// A refund of an order: some lines, an amount, or (neither) what is left.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundRequest {
    /// Lines to refund (`product_id` or `sku`; `quantity`, default every unit not refunded yet).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub products: Option<Vec<Map<String, Value>>>,
    /// An amount instead of lines, in the order's currency.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub total: Option<Value>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// Writes the refund of `order_id`; answers its message id (the processor
/// applies it a moment later: the order then shows it in `after_sales`).
pub async fn refund(app: &App, order_id: &str, req: &RefundRequest, key: Option<&str>) -> AppResult<Value> {
    let order = app
        .store
        .orders()
        .get_order(order_id)
        .await?
        .ok_or_else(|| Error::new(ErrorCode::NotFound, "no such order"))?;
    // sent as the buyer (the event goes on their timeline)
    let buyer = app.store.profiles().get_profile(order.profile_id).await?;
    let held = |kind: IdentityKind| {
        buyer.as_ref().and_then(|p| p.identities.iter().find(|i| i.kind == kind)).map(|i| i.value.clone())
    };
    let message_id = match key {
        Some(k) => format!("refund:{order_id}:{k}"),
        None => format!("refund:{order_id}:{}", uuid::Uuid::now_v7().simple()),
    };
    let invalid = |m: &str| Error::new(ErrorCode::InvalidOrder, m.to_string());
    if req.products.as_ref().is_some_and(Vec::is_empty) {
        return Err(invalid("products is empty: name the lines to refund, or leave it out to refund what is left"));
    }
    if let Some(total) = &req.total {
        let text = total.as_str().ok_or_else(|| invalid("total is an amount as text, like \"12.50\""))?;
        let minor = beacon_core::money::parse_minor(text, order.currency.exponent)
            .map_err(|e| invalid(&format!("total {text:?}: {e}")))?;
        if minor <= 0 {
            return Err(invalid("total must be more than 0"));
        }
    }
    let mut props = json!({"order_id": order_id, "currency": order.currency.code()});
    if let Some(p) = &req.products {
        props["products"] = json!(p);
    }
    if let Some(t) = &req.total {
        props["total"] = t.clone();
    }
    if let Some(r) = &req.reason {
        props["reason"] = json!(r);
    }
    let now = app.now();
    let mut msg = json!({"type": "track", "event": "Order Refunded", "messageId": message_id, "timestamp": now,
                         "properties": props});
    match (held(IdentityKind::UserId), held(IdentityKind::AnonymousId)) {
        (Some(u), _) => msg["userId"] = json!(u),
        (None, Some(a)) => msg["anonymousId"] = json!(a),
        // a buyer erased, or known by email or phone only
        (None, None) => msg["anonymousId"] = json!(format!("order:{order_id}")),
    }
    let raw_props =
        serde_json::value::to_raw_value(&props).map_err(|e| Error::new(ErrorCode::InvalidOrder, e.to_string()))?;
    let kind = beacon_core::commerce::CommerceKind::OrderRefunded;
    beacon_core::commerce::parse_properties(kind, Some(&raw_props), app.rules.currency)?;
    // checked as the processor will read it, so a bad refund is refused here
    log::append_internal(app, records::ORDERS_SOURCE, msg).await?;
    Ok(json!({"order_id": order_id, "message_id": message_id, "status": "accepted"}))
}
