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

/// Marks the upgrade from the task that scanned for pending returns.
const FOLLOWER: &str = "limits.returns";

/// Gives back what the applied refund or cancellation at log position
/// `seq` frees, if its order was placed through a checkout and nothing was
/// given back for it yet; returns the checkout's profile if something was
/// given back to one (a coupon it used is usable again).
pub async fn give_back_one(
    store: &dyn Store,
    seq: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>, StoreError> {
    // the first pending return from `seq` on: this one, if it is pending
    let pending = store.promotions().pending_returns(seq - 1, 1).await?;
    let Some(p) = pending.into_iter().next().filter(|p| p.seq == seq) else { return Ok(None) };
    let r = CounterReturn {
        return_id: format!("after_sale:{}", p.seq),
        order_id: p.checkout.order_id.clone(),
        takes: share(&p),
        at: now,
    };
    store.promotions().return_counters(&r).await?;
    // a member's order cancelled or refunded in full leaves its team, if the team is still open
    if whole(&p)
        && let Some(team) = p.checkout.record.team.as_deref()
        && let Err(e) = super::teams::leave(store, team, &p.checkout.order_id, now).await
    {
        tracing::warn!("order {} leaving team {team}: {}", p.checkout.order_id, e.message);
    }
    Ok(p.checkout.profile_id.clone())
}

/// Upgrading from the task that looked for pending returns itself: those
/// pending now become outbox jobs (the processor's keys), once.
pub async fn catch_up(app: &crate::app::App) -> Result<usize, beacon_core::Error> {
    let promotions = app.store.promotions();
    let mut after = promotions.follower_offset(FOLLOWER).await?;
    let mut queued = 0;
    while after < super::RETIRED {
        let pending = promotions.pending_returns(after, 200).await?;
        let Some(last) = pending.last().map(|p| p.seq) else { break };
        let jobs: Vec<_> =
            pending.iter().map(|p| crate::app::jobs::give_back(p.seq, &p.checkout.order_id, app.now())).collect();
        queued += app.store.jobs().enqueue(beacon_store::Queue::Outbox, &jobs).await?;
        after = last;
    }
    promotions.set_follower_offset(FOLLOWER, super::RETIRED).await?;
    Ok(queued)
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
