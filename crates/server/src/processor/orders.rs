//! A batch's orders: the ones its commerce events name, held in memory while
//! the batch is decided in log order with the pure rules of
//! `beacon_core::commerce::order`, then written with the batch.

use super::working::Working;
use beacon_core::ProfileId;
use beacon_core::commerce::order::{NotApplied, Order};
use beacon_core::commerce::{CommerceEvent, Refund};
use beacon_store::{AfterSale, AfterSaleKind, BatchChanges, LogRecord, StoredReview};
use foldhash::HashMap;
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Default)]
pub struct Orders {
    held: HashMap<String, Order>,
    changed: BTreeSet<String>,
    after_sales: Vec<AfterSale>,
    reviews: Vec<StoredReview>,
    /// `Order Completed` for an order already placed (a retry with a new messageId).
    pub repeated: u64,
}

/// The order a commerce event names, if any.
pub fn order_id(event: &CommerceEvent) -> Option<&str> {
    match event {
        CommerceEvent::Completed(o) => Some(&o.order_id),
        CommerceEvent::Refunded(r) => Some(&r.order_id),
        CommerceEvent::Cancelled { order_id, .. } => Some(order_id),
        CommerceEvent::Reviewed(_) => None,
    }
}

impl Orders {
    /// Holds orders loaded from the store.
    pub fn hold(&mut self, orders: Vec<Order>) {
        self.held.extend(orders.into_iter().map(|o| (o.order_id.clone(), o)));
    }

    /// Buyers of the held orders (to be loaded with the batch's profiles).
    pub fn buyers(&self) -> impl Iterator<Item = ProfileId> + '_ {
        // (an erased buyer's orders belong to nobody: the nil id, never a profile)
        self.held.values().map(|o| o.profile_id).filter(|p| !p.0.is_nil())
    }

    /// Applies one event, sent by `sender` (already resolved), in log order.
    pub fn apply(&mut self, work: &mut Working, sender: ProfileId, rec: &LogRecord, event: CommerceEvent) {
        let r = &rec.record;
        match event {
            CommerceEvent::Completed(new) => {
                if self.held.contains_key(&new.order_id) {
                    self.repeated += 1;
                    return;
                }
                let order = Order::place(&new, sender, r.timestamp, &r.message_id);
                if let Some(f) = work.figures(sender) {
                    f.placed(&order);
                }
                self.changed.insert(order.order_id.clone());
                self.held.insert(order.order_id.clone(), order);
            }
            CommerceEvent::Refunded(refund) => {
                let lines = refund_lines(&refund);
                let outcome = self.change(work, &refund.order_id, |o| o.refund(&refund).map(|a| (a, o.currency)));
                self.record(work, sender, rec, AfterSaleKind::Refund, &refund.order_id, outcome, refund.reason, lines);
            }
            CommerceEvent::Cancelled { order_id, reason } => {
                let outcome = self.change(work, &order_id, |o| o.cancel().map(|net| (net, o.currency)));
                self.record(work, sender, rec, AfterSaleKind::Cancel, &order_id, outcome, reason, json!([]));
            }
            CommerceEvent::Reviewed(review) => self.reviews.push(StoredReview {
                seq: rec.seq,
                review_id: review.review_id,
                profile_id: sender,
                product_id: review.product_id,
                rating: review.rating,
                body: review.text,
                at: r.timestamp,
            }),
        }
    }

    /// Runs `f` on a held order and books what it took off the buyer's spend.
    fn change(
        &mut self,
        work: &mut Working,
        order_id: &str,
        f: impl FnOnce(&mut Order) -> Result<(i64, beacon_core::Currency), NotApplied>,
    ) -> Result<(i64, ProfileId), NotApplied> {
        let order = self.held.get_mut(order_id).ok_or(NotApplied::UnknownOrder)?;
        let was_cancelled = order.status == beacon_core::commerce::order::OrderStatus::Cancelled;
        let (amount, currency) = f(order)?;
        let buyer = work.live(order.profile_id);
        if let Some(figures) = work.figures(buyer) {
            match (was_cancelled, order.status) {
                (false, beacon_core::commerce::order::OrderStatus::Cancelled) => figures.cancelled(currency, amount),
                _ => figures.refunded(currency, amount),
            }
        }
        self.changed.insert(order_id.to_string());
        Ok((amount, buyer))
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        work: &Working,
        sender: ProfileId,
        rec: &LogRecord,
        kind: AfterSaleKind,
        order_id: &str,
        outcome: Result<(i64, ProfileId), NotApplied>,
        reason: Option<String>,
        lines: serde_json::Value,
    ) {
        let (amount, profile, outcome) = match outcome {
            Ok((amount, buyer)) => (amount, buyer, "applied".to_string()),
            Err(why) => {
                let buyer = self.held.get(order_id).map_or(sender, |o| work.live(o.profile_id));
                (0, buyer, why.code().to_string())
            }
        };
        self.after_sales.push(AfterSale {
            seq: rec.seq,
            order_id: order_id.to_string(),
            profile_id: profile,
            kind,
            amount_minor: amount,
            currency: self.held.get(order_id).map(|o| o.currency.code().to_string()),
            reason,
            outcome,
            lines,
            at: rec.record.timestamp,
            message_id: rec.record.message_id.clone(),
        });
    }

    /// Puts the batch's order changes into `changes`, every profile id
    /// resolved to its survivor.
    pub fn finish(mut self, work: &Working, changes: &mut BatchChanges) {
        changes.orders = self
            .changed
            .iter()
            .filter_map(|id| self.held.remove(id))
            .map(|mut o| {
                o.profile_id = work.live(o.profile_id);
                o
            })
            .collect();
        for a in &mut self.after_sales {
            a.profile_id = work.live(a.profile_id);
        }
        for r in &mut self.reviews {
            r.profile_id = work.live(r.profile_id);
        }
        changes.after_sales = self.after_sales;
        changes.reviews = self.reviews;
    }
}

fn refund_lines(refund: &Refund) -> serde_json::Value {
    refund.lines.iter().map(|l| json!({"product_id": l.product_id, "sku": l.sku, "quantity": l.quantity})).collect()
}
