//! An order's life after it is placed, and what it adds to its buyer's
//! figures. Pure: the processor holds the orders a batch touches and calls
//! these in log order.
//!
//! Rules (documented in docs/COMMERCE.md):
//! - The first `Order Completed` for an `order_id` places the order; later
//!   ones for the same id change nothing.
//! - The order total is allocated to its lines in proportion to their gross
//!   (largest remainder, ties to the earlier line), so refunding every unit
//!   of every line returns exactly the total, never a cent more.
//! - A refund returns the given lines, or the given amount, or else all that
//!   is left; never more than is left. A cancelled order takes no refund.
//! - A cancellation takes what is left of the order out of the buyer's spend
//!   and the order out of their order count.

use super::{NewOrder, Refund};
use crate::ids::ProfileId;
use crate::money::Currency;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Completed,
    PartiallyRefunded,
    Refunded,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Completed => "completed",
            OrderStatus::PartiallyRefunded => "partially_refunded",
            OrderStatus::Refunded => "refunded",
            OrderStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OrderStatus> {
        [OrderStatus::Completed, OrderStatus::PartiallyRefunded, OrderStatus::Refunded, OrderStatus::Cancelled]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
    pub price_minor: i64,
    pub quantity: i64,
    /// This line's part of the order total.
    pub share_minor: i64,
    pub refunded_quantity: i64,
}

/// An order as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub order_id: String,
    pub profile_id: ProfileId,
    pub currency: Currency,
    pub total_minor: i64,
    pub discount_minor: i64,
    pub refunded_minor: i64,
    pub status: OrderStatus,
    pub coupon: Option<String>,
    pub placed_at: DateTime<Utc>,
    /// The event that placed it.
    pub message_id: String,
    pub lines: Vec<Line>,
}

/// Why a refund or a cancellation changed nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotApplied {
    UnknownOrder,
    Cancelled,
    NothingLeft,
    WrongCurrency { order: String, refund: String },
    UnknownLine { product: String },
}

impl NotApplied {
    pub fn code(&self) -> &'static str {
        match self {
            NotApplied::UnknownOrder => "unknown_order",
            NotApplied::Cancelled => "order_cancelled",
            NotApplied::NothingLeft => "nothing_left_to_refund",
            NotApplied::WrongCurrency { .. } => "wrong_currency",
            NotApplied::UnknownLine { .. } => "unknown_line",
        }
    }
}

/// `total` split over `weights` in proportion, exactly (largest remainder,
/// ties to the earlier index). All-zero weights split evenly.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    match weights.len() {
        0 => return Vec::new(),
        1 => return vec![total],
        _ => {}
    }
    let ones = vec![1i64; weights.len()];
    let weights = if weights.iter().all(|w| *w <= 0) { &ones } else { weights };
    let sum: i128 = weights.iter().map(|w| i128::from((*w).max(0))).sum();
    let mut out = Vec::with_capacity(weights.len());
    let mut rems = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = i128::from(total) * i128::from((*w).max(0));
        out.push((exact / sum) as i64);
        rems.push((exact % sum, i));
    }
    let left = total - out.iter().sum::<i64>();
    rems.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, i) in rems.into_iter().take(left.max(0) as usize) {
        out[i] += 1;
    }
    out
}

impl Order {
    pub fn place(new: &NewOrder, profile_id: ProfileId, placed_at: DateTime<Utc>, message_id: &str) -> Order {
        let gross: Vec<i64> = new.lines.iter().map(|l| l.price_minor.saturating_mul(l.quantity)).collect();
        let shares = allocate(new.total_minor, &gross);
        Order {
            order_id: new.order_id.clone(),
            profile_id,
            currency: new.currency,
            total_minor: new.total_minor,
            discount_minor: new.discount_minor,
            refunded_minor: 0,
            status: OrderStatus::Completed,
            coupon: new.coupon.clone(),
            placed_at,
            message_id: message_id.to_string(),
            lines: new
                .lines
                .iter()
                .zip(shares)
                .map(|(l, share)| Line {
                    product_id: l.product_id.clone(),
                    sku: l.sku.clone(),
                    name: l.name.clone(),
                    category: l.category.clone(),
                    price_minor: l.price_minor,
                    quantity: l.quantity,
                    share_minor: share,
                    refunded_quantity: 0,
                })
                .collect(),
        }
    }

    /// What the buyer has paid and not been refunded.
    pub fn net_minor(&self) -> i64 {
        if self.status == OrderStatus::Cancelled { 0 } else { self.total_minor - self.refunded_minor }
    }

    /// Applies a refund; returns the amount refunded.
    pub fn refund(&mut self, refund: &Refund) -> Result<i64, NotApplied> {
        if self.status == OrderStatus::Cancelled {
            return Err(NotApplied::Cancelled);
        }
        if let Some(c) = refund.currency.filter(|c| c.code != self.currency.code) {
            return Err(NotApplied::WrongCurrency { order: self.currency.code().into(), refund: c.code().into() });
        }
        let left = self.total_minor - self.refunded_minor;
        if left <= 0 {
            return Err(NotApplied::NothingLeft);
        }
        let amount = if !refund.lines.is_empty() {
            let mut lines = self.lines.clone();
            let mut amount = 0;
            for want in &refund.lines {
                let found = lines.iter_mut().find(|l| {
                    l.refunded_quantity < l.quantity
                        && (want.product_id.is_some() && l.product_id == want.product_id
                            || want.sku.is_some() && l.sku == want.sku)
                });
                let Some(line) = found else {
                    let product = want.product_id.clone().or_else(|| want.sku.clone()).unwrap_or_default();
                    return Err(NotApplied::UnknownLine { product });
                };
                let units = want.quantity.unwrap_or(line.quantity).min(line.quantity - line.refunded_quantity);
                // the share of units r+1..=r+q, so all units together return the share exactly
                let upto = |n: i64| (i128::from(line.share_minor) * i128::from(n) / i128::from(line.quantity)) as i64;
                amount += upto(line.refunded_quantity + units) - upto(line.refunded_quantity);
                line.refunded_quantity += units;
            }
            self.lines = lines;
            amount.min(left)
        } else {
            refund.amount_minor.unwrap_or(left).min(left)
        };
        if amount <= 0 {
            return Err(NotApplied::NothingLeft);
        }
        self.refunded_minor += amount;
        self.status = if self.refunded_minor >= self.total_minor {
            OrderStatus::Refunded
        } else {
            OrderStatus::PartiallyRefunded
        };
        Ok(amount)
    }

    /// Cancels the order; returns the net amount it took out of the spend.
    pub fn cancel(&mut self) -> Result<i64, NotApplied> {
        if self.status == OrderStatus::Cancelled {
            return Err(NotApplied::Cancelled);
        }
        let net = self.net_minor();
        self.status = OrderStatus::Cancelled;
        Ok(net)
    }
}

/// A buyer's order figures, kept on the profile. Spend is net of refunds and
/// kept per currency (Beacon converts no currency).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderFigures {
    /// Orders placed and not cancelled.
    #[serde(default)]
    pub order_count: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_order_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_order_at: Option<DateTime<Utc>>,
    /// Currency code → (orders, net spend in minor units).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_currency: BTreeMap<String, (i64, i64)>,
}

impl OrderFigures {
    pub fn is_empty(&self) -> bool {
        *self == OrderFigures::default()
    }

    pub fn placed(&mut self, order: &Order) {
        self.order_count += 1;
        self.first_order_at = Some(self.first_order_at.map_or(order.placed_at, |t| t.min(order.placed_at)));
        self.last_order_at = Some(self.last_order_at.map_or(order.placed_at, |t| t.max(order.placed_at)));
        let entry = self.by_currency.entry(order.currency.code().to_string()).or_default();
        entry.0 += 1;
        entry.1 += order.total_minor;
    }

    pub fn refunded(&mut self, currency: Currency, amount: i64) {
        self.by_currency.entry(currency.code().to_string()).or_default().1 -= amount;
    }

    /// `net` is what [`Order::cancel`] returned.
    pub fn cancelled(&mut self, currency: Currency, net: i64) {
        self.order_count -= 1;
        let entry = self.by_currency.entry(currency.code().to_string()).or_default();
        entry.0 -= 1;
        entry.1 -= net;
    }

    /// Folds a merged-away profile's figures into these.
    pub fn fold(&mut self, other: &OrderFigures) {
        self.order_count += other.order_count;
        self.first_order_at = match (self.first_order_at, other.first_order_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.last_order_at = match (self.last_order_at, other.last_order_at) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        for (code, (n, spend)) in &other.by_currency {
            let entry = self.by_currency.entry(code.clone()).or_default();
            entry.0 += n;
            entry.1 += spend;
        }
    }

    /// The currency most of the orders were paid in (ties: the larger spend,
    /// then the code), with its order count and net spend.
    pub fn main_currency(&self) -> Option<(&str, i64, i64)> {
        self.by_currency
            .iter()
            .filter(|(_, (n, _))| *n > 0)
            .max_by(|a, b| a.1.0.cmp(&b.1.0).then(a.1.1.cmp(&b.1.1)).then(b.0.cmp(a.0)))
            .map(|(code, (n, spend))| (code.as_str(), *n, *spend))
    }
}
