//! Giving back what refunded and cancelled orders took from promotion
//! limits: stock, budgets, redemptions — once per refund or cancellation.
//!
//! Refunds and cancellations reach the processor like any event (an SDK, an
//! import, the API); a background task here follows the applied ones of
//! orders placed through a checkout and returns their share
//! (`beacon_pricing::limits::give_back`) under the return id
//! `after_sale:<seq>`, which the store keeps unique: a retried refund (the
//! same event again is dropped by the processor; a replayed task finds the
//! return id taken) gives nothing back twice.

use beacon_pricing::limits::{Counter, Taken, TakenLine, give_back};
use beacon_store::{AfterSaleKind, CounterReturn, OrderStatus, PendingReturn, Store, StoreError};
use std::time::Duration;

/// How often the task looks for new refunds when nothing wakes it.
pub const EVERY: Duration = Duration::from_millis(500);

/// Gives back every pending return after `after` (moved on as they are
/// done); returns how many were handled.
pub async fn settle(store: &dyn Store, after: &mut i64) -> Result<usize, StoreError> {
    let mut done = 0;
    loop {
        let pending = store.promotions().pending_returns(*after, 200).await?;
        if pending.is_empty() {
            return Ok(done);
        }
        for p in pending {
            *after = (*after).max(p.seq);
            let takes = share(&p);
            let r = CounterReturn {
                return_id: format!("after_sale:{}", p.seq),
                order_id: p.checkout.order_id.clone(),
                takes,
                at: chrono::Utc::now(),
            };
            store.promotions().return_counters(&r).await?;
            // a member's order cancelled or refunded in full leaves its team, if the team is still open
            if whole(&p)
                && let Some(team) = p.checkout.record.team.as_deref()
                && let Err(e) = super::teams::leave(store, team, &p.checkout.order_id).await
            {
                tracing::warn!("order {} leaving team {team}: {}", p.checkout.order_id, e.message);
            }
            done += 1;
        }
    }
}

/// What this refund or cancellation gives back.
fn share(p: &PendingReturn) -> Vec<(String, i64)> {
    let lines = &p.checkout.record.lines;
    // refunded units per line, matched by product id (then SKU) to the first line with room
    let mut refunded = vec![0i64; lines.len()];
    for r in p.lines.as_array().into_iter().flatten() {
        let mut n = r["quantity"].as_i64().unwrap_or(0);
        for (i, l) in lines.iter().enumerate() {
            let same = r["product_id"].as_str() == Some(l.product_id.as_str())
                || (r["sku"].is_string() && l.sku.as_deref() == r["sku"].as_str());
            if same && n > 0 {
                let room = (l.quantity - refunded[i]).min(n);
                refunded[i] += room;
                n -= room;
            }
        }
    }
    let taken: Vec<Taken> = p
        .checkout
        .takes
        .iter()
        .filter_map(|t| {
            Some(Taken {
                key: t.key.clone(),
                promotion: t.promotion.clone(),
                counter: Counter::parse(&t.counter)?,
                amount: t.amount,
            })
        })
        .collect();
    let whole = whole(p);
    let only_lines: Vec<TakenLine> =
        lines.iter().map(|l| TakenLine { quantity: l.quantity, allocations: l.allocations.clone() }).collect();
    give_back(&taken, &only_lines, &refunded, whole, &p.returned)
}

/// Whether the order is cancelled or refunded in full.
fn whole(p: &PendingReturn) -> bool {
    p.kind == AfterSaleKind::Cancel || matches!(p.order_status, OrderStatus::Refunded | OrderStatus::Cancelled)
}
