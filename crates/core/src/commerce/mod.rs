//! Commerce facts carried by Segment's e-commerce v2 events: orders
//! (`Order Completed`), refunds (`Order Refunded`), cancellations
//! (`Order Cancelled`) and reviews (`Product Reviewed`).
//!
//! Amounts are read from the JSON text exactly (never through f64) into
//! minor units of the order's currency; digits beyond the currency's
//! precision are rounded half to even ([`crate::money::parse_minor`]).
//! What an order, a refund or a cancellation does to an order and to its
//! buyer's figures is in [`order`].

pub mod order;

use crate::error::{Error, ErrorCode};
use crate::message::id_field;
use crate::money::{Currency, parse_minor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The e-commerce events Beacon acts on, by their Segment names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommerceKind {
    OrderCompleted,
    OrderRefunded,
    OrderCancelled,
    ProductReviewed,
}

impl CommerceKind {
    /// The kind of a `track` event by its name, if it is one of these.
    pub fn of(event: &str) -> Option<CommerceKind> {
        match event {
            "Order Completed" => Some(CommerceKind::OrderCompleted),
            "Order Refunded" => Some(CommerceKind::OrderRefunded),
            "Order Cancelled" => Some(CommerceKind::OrderCancelled),
            "Product Reviewed" => Some(CommerceKind::ProductReviewed),
            _ => None,
        }
    }

    pub fn event_name(self) -> &'static str {
        match self {
            CommerceKind::OrderCompleted => "Order Completed",
            CommerceKind::OrderRefunded => "Order Refunded",
            CommerceKind::OrderCancelled => "Order Cancelled",
            CommerceKind::ProductReviewed => "Product Reviewed",
        }
    }
}

/// What one e-commerce event says.
#[derive(Debug, Clone, PartialEq)]
pub enum CommerceEvent {
    Completed(NewOrder),
    Refunded(Refund),
    Cancelled { order_id: String, reason: Option<String> },
    Reviewed(Review),
}

/// An order as placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOrder {
    pub order_id: String,
    pub currency: Currency,
    /// What the buyer paid: `total`, else `revenue`, else the lines less the discount.
    pub total_minor: i64,
    pub discount_minor: i64,
    pub coupon: Option<String>,
    pub lines: Vec<NewLine>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewLine {
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    /// Unit price.
    pub price_minor: i64,
    pub quantity: i64,
}

/// A refund: of given lines, of a given amount, or (neither) of what is left.
#[derive(Debug, Clone, PartialEq)]
pub struct Refund {
    pub order_id: String,
    /// In the order's currency (a refund in another currency is refused when applied).
    pub currency: Option<Currency>,
    pub amount_minor: Option<i64>,
    pub lines: Vec<RefundLine>,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RefundLine {
    pub product_id: Option<String>,
    pub sku: Option<String>,
    /// Units to refund; `None`: every unit not refunded yet.
    pub quantity: Option<i64>,
}

/// A product review or rating.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub review_id: Option<String>,
    pub product_id: String,
    /// 0 to 5 (half stars allowed as decimals).
    pub rating: Option<f64>,
    pub text: Option<String>,
}

/// Longest text kept from a review.
pub const MAX_REVIEW_TEXT: usize = 8_000;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOrder, message)
}

#[derive(Deserialize)]
struct Message<'a> {
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Props<'a> {
    #[serde(borrow, default)]
    order_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    total: Option<&'a RawValue>,
    #[serde(borrow, default)]
    revenue: Option<&'a RawValue>,
    #[serde(borrow, default)]
    discount: Option<&'a RawValue>,
    #[serde(borrow, default)]
    coupon: Option<&'a RawValue>,
    #[serde(borrow, default)]
    currency: Option<&'a RawValue>,
    #[serde(borrow, default)]
    products: Option<Vec<LineProps<'a>>>,
    #[serde(borrow, default)]
    reason: Option<&'a RawValue>,
    #[serde(borrow, default)]
    product_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    review_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    review_body: Option<&'a RawValue>,
    #[serde(borrow, default)]
    rating: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct LineProps<'a> {
    #[serde(borrow, default)]
    product_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sku: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<&'a RawValue>,
    #[serde(borrow, default)]
    category: Option<&'a RawValue>,
    #[serde(borrow, default)]
    price: Option<&'a RawValue>,
    #[serde(borrow, default)]
    quantity: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ProductMessage<'a> {
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct ProductProps<'a> {
    #[serde(borrow, default)]
    product_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    sku: Option<&'a RawValue>,
}

/// The product a `track` event named `event` is about: Segment's product
/// events (`Product Viewed`, `Product Added`, … every name starting with
/// "Product ") carry `properties.product_id`, else `sku`.
pub fn product_of(event: &str, message: &str) -> Option<String> {
    if !event.starts_with("Product ") {
        return None;
    }
    product_in(event, serde_json::from_str::<ProductMessage<'_>>(message).ok()?.properties?)
}

/// [`product_of`], from the event's `properties` as written.
pub fn product_in(event: &str, properties: &RawValue) -> Option<String> {
    if !event.starts_with("Product ") {
        return None;
    }
    let props = serde_json::from_str::<ProductProps<'_>>(properties.get()).ok()?;
    let id = |raw| id_field(raw, "product").ok().flatten();
    id(props.product_id).or_else(|| id(props.sku))
}

/// Reads the commerce facts of a stored `track` message (its JSON text).
/// `currency` applies where the event names none.
pub fn parse(kind: CommerceKind, message: &str, currency: Currency) -> Result<CommerceEvent, Error> {
    let msg: Message<'_> =
        serde_json::from_str(message).map_err(|e| invalid(format!("the event is unreadable: {e}")))?;
    parse_properties(kind, msg.properties, currency)
}

/// [`parse`], from the event's `properties` alone (already cut out of the
/// message by the caller's own reading).
pub fn parse_properties(
    kind: CommerceKind,
    properties: Option<&RawValue>,
    currency: Currency,
) -> Result<CommerceEvent, Error> {
    let props: Props<'_> = match properties {
        Some(raw) if raw.get() != "null" => {
            serde_json::from_str(raw.get()).map_err(|e| invalid(format!("{}: properties: {e}", kind.event_name())))?
        }
        _ => Props::default(),
    };
    parse_props(kind, &props, currency)
        .map_err(|e| Error { message: format!("{}: {}", kind.event_name(), e.message), ..e })
}

fn parse_props(kind: CommerceKind, p: &Props<'_>, currency: Currency) -> Result<CommerceEvent, Error> {
    let order_id = || required_id(p.order_id, "order_id");
    Ok(match kind {
        CommerceKind::OrderCompleted => {
            let currency = currency_of(p.currency)?.unwrap_or(currency);
            let exp = currency.exponent;
            let lines = p.products.iter().flatten().map(|l| line(l, exp)).collect::<Result<Vec<_>, _>>()?;
            let discount_minor = non_negative(p.discount, "discount", exp)?.unwrap_or(0);
            let total_minor = match (non_negative(p.total, "total", exp)?, non_negative(p.revenue, "revenue", exp)?) {
                (Some(t), _) | (None, Some(t)) => t,
                (None, None) if !lines.is_empty() => {
                    let gross = lines
                        .iter()
                        .try_fold(0i64, |acc, l| l.price_minor.checked_mul(l.quantity).and_then(|v| acc.checked_add(v)))
                        .ok_or_else(|| invalid("the lines add up to more than can be counted"))?;
                    (gross - discount_minor).max(0)
                }
                (None, None) => return Err(invalid("an order needs total, revenue or products with prices")),
            };
            CommerceEvent::Completed(NewOrder {
                order_id: order_id()?,
                currency,
                total_minor,
                discount_minor,
                coupon: text(p.coupon, "coupon", 200)?,
                lines,
            })
        }
        CommerceKind::OrderRefunded => {
            let refund_currency = currency_of(p.currency)?;
            let exp = refund_currency.unwrap_or(currency).exponent;
            let amount = match p.total {
                Some(_) => non_negative(p.total, "total", exp)?,
                None => non_negative(p.revenue, "revenue", exp)?,
            };
            let lines = p
                .products
                .iter()
                .flatten()
                .map(|l| {
                    let (product_id, sku) = (id_field(l.product_id, "product_id")?, id_field(l.sku, "sku")?);
                    if product_id.is_none() && sku.is_none() {
                        return Err(invalid("a refunded product needs product_id or sku"));
                    }
                    Ok(RefundLine { product_id, sku, quantity: quantity(l.quantity)? })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            CommerceEvent::Refunded(Refund {
                order_id: order_id()?,
                currency: refund_currency,
                amount_minor: amount,
                lines,
                reason: text(p.reason, "reason", 1000)?,
            })
        }
        CommerceKind::OrderCancelled => {
            CommerceEvent::Cancelled { order_id: order_id()?, reason: text(p.reason, "reason", 1000)? }
        }
        CommerceKind::ProductReviewed => CommerceEvent::Reviewed(Review {
            review_id: id_field(p.review_id, "review_id")?,
            product_id: required_id(p.product_id, "product_id")?,
            rating: rating(p.rating)?,
            text: text(p.review_body, "review_body", MAX_REVIEW_TEXT)?,
        }),
    })
}

fn required_id(raw: Option<&RawValue>, field: &str) -> Result<String, Error> {
    id_field(raw, field).map_err(|e| invalid(e.message))?.ok_or_else(|| invalid(format!("{field} is required")))
}

fn line(l: &LineProps<'_>, exp: u8) -> Result<NewLine, Error> {
    let price_minor = non_negative(l.price, "products[].price", exp)?.unwrap_or(0);
    Ok(NewLine {
        product_id: id_field(l.product_id, "product_id").map_err(|e| invalid(e.message))?,
        sku: id_field(l.sku, "sku").map_err(|e| invalid(e.message))?,
        name: text(l.name, "products[].name", 500)?,
        category: text(l.category, "products[].category", 500)?,
        price_minor,
        quantity: quantity(l.quantity)?.unwrap_or(1),
    })
}

/// A JSON string (or null), without control characters, at most `max` bytes.
fn text(raw: Option<&RawValue>, field: &str, max: usize) -> Result<Option<String>, Error> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else { return Ok(None) };
    let s: Cow<'_, str> = serde_json::from_str(raw.get()).map_err(|_| invalid(format!("{field} must be a string")))?;
    if s.len() > max {
        return Err(invalid(format!("{field} is longer than {max} bytes")));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t') {
        return Err(invalid(format!("{field} contains a control character")));
    }
    Ok(Some(s.into_owned()).filter(|s| !s.trim().is_empty()))
}

/// An amount ≥ 0: a JSON number or a decimal string, in minor units.
fn non_negative(raw: Option<&RawValue>, field: &str, exp: u8) -> Result<Option<i64>, Error> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else { return Ok(None) };
    let text = raw.get();
    let owned;
    let number = if text.starts_with('"') {
        owned = serde_json::from_str::<String>(text).map_err(|_| invalid(format!("{field} is not a valid string")))?;
        owned.as_str()
    } else {
        text
    };
    let minor = parse_minor(number, exp).map_err(|e| invalid(format!("{field}: {e}")))?;
    if minor < 0 {
        return Err(invalid(format!("{field} must not be negative")));
    }
    Ok(Some(minor))
}

/// A whole number of units ≥ 0 (`null`: not given).
fn quantity(raw: Option<&RawValue>) -> Result<Option<i64>, Error> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else { return Ok(None) };
    match raw.get().parse::<i64>() {
        Ok(q) if (0..=1_000_000_000).contains(&q) => Ok(Some(q)),
        Ok(_) => Err(invalid("quantity must be between 0 and 1000000000")),
        Err(_) => Err(invalid(format!("quantity must be a whole number, not {}", raw.get()))),
    }
}

fn currency_of(raw: Option<&RawValue>) -> Result<Option<Currency>, Error> {
    match text(raw, "currency", 3).map_err(|_| invalid("currency must be an ISO-4217 code such as CNY"))? {
        None => Ok(None),
        Some(code) => Currency::parse(&code)
            .map(Some)
            .ok_or_else(|| invalid(format!("currency {code:?} is not an ISO-4217 code such as CNY"))),
    }
}

fn rating(raw: Option<&RawValue>) -> Result<Option<f64>, Error> {
    let Some(raw) = raw.filter(|r| r.get() != "null") else { return Ok(None) };
    let value: f64 = match serde_json::from_str::<serde_json::Value>(raw.get()) {
        Ok(serde_json::Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
        Ok(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(f64::NAN),
        _ => f64::NAN,
    };
    if !(0.0..=5.0).contains(&value) {
        return Err(invalid("rating must be a number from 0 to 5"));
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests;
