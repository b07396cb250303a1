//! Orders whose checkout committed but whose `Order Completed` event never
//! reached the log — the node stopped between the two, or the log answered
//! busy and the client did not retry — are written again from the
//! checkout's record. The log keeps one order per order id, so writing one
//! that did arrive after all changes nothing.

use crate::app::App;
use beacon_core::Error;
use chrono::{DateTime, Duration, Utc};

/// How old a checkout must be before its order is written again (an order
/// event on its way, or waiting for the processor, is not an orphan).
pub const GRACE: Duration = Duration::seconds(60);
/// How far back the first sweep after a start looks.
pub const LOOK_BACK: Duration = Duration::days(7);
/// How often the sweep runs.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Writes again the orders of checkouts from `after` to `before` that are
/// not recorded; returns how many.
pub async fn sweep(app: &App, after: DateTime<Utc>, before: DateTime<Utc>) -> Result<usize, Error> {
    let mut from = after;
    let mut written = 0;
    loop {
        let orphans = app.store.promotions().orphan_checkouts(from, before, 200).await?;
        let Some(last) = orphans.last() else { return Ok(written) };
        from = last.created_at;
        let full = orphans.len() == 200;
        let mut records = Vec::with_capacity(orphans.len());
        for c in &orphans {
            match &c.record.order {
                Some(order) => records.push(crate::app::records::order_record(&order.to_map(), c.created_at)?),
                None => tracing::warn!(order = %c.order_id, "checkout without its order; not written again"),
            }
        }
        written += records.len();
        if !records.is_empty() {
            crate::app::log::append(app, records).await?;
        }
        if !full {
            return Ok(written);
        }
    }
}
