//! The processor's commerce writes: orders (final state per batch),
//! after-sales records and reviews, in the batch's transaction.

use super::SqlDialect as _;
use super::orders::ORDER_COLUMNS;
use super::process::SqlProcessTx;
use super::{backend, micros};
use crate::{BatchChanges, Result, StoreError};
use sqlx::AssertSqlSafe;

/// Rows per multi-row statement.
const ROWS: usize = 200;

impl SqlProcessTx {
    /// Moves a merged-away profile's orders, after-sales records and reviews
    /// to the survivor.
    pub(super) async fn repoint_commerce(&mut self, from: &str, into: &str) -> Result<()> {
        for sql in [
            "UPDATE orders SET profile_id = $2 WHERE profile_id = $1",
            "UPDATE after_sales SET profile_id = $2 WHERE profile_id = $1",
            "UPDATE reviews SET profile_id = $2 WHERE profile_id = $1",
        ] {
            sqlx::query(sql).bind(from).bind(into).execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }

    pub(super) async fn write_commerce(&mut self, c: &BatchChanges) -> Result<()> {
        let now = micros(chrono::Utc::now());
        for part in c.orders.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO orders ({ORDER_COLUMNS}, updated_at) VALUES {} ON CONFLICT (order_id) DO UPDATE SET \
                 profile_id = excluded.profile_id, refunded_minor = excluded.refunded_minor, \
                 status = excluded.status, lines = excluded.lines, updated_at = excluded.updated_at",
                self.dialect.rows(part.len(), 12)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for o in part {
                q = q
                    .bind(o.order_id.as_str())
                    .bind(o.profile_id.to_string())
                    .bind(o.currency.code().to_string())
                    .bind(o.total_minor)
                    .bind(o.discount_minor)
                    .bind(o.refunded_minor)
                    .bind(o.status.as_str())
                    .bind(o.coupon.as_deref())
                    .bind(micros(o.placed_at))
                    .bind(o.message_id.as_str())
                    .bind(serde_json::to_string(&o.lines).map_err(|e| StoreError::Backend(e.to_string()))?)
                    .bind(now);
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        for part in c.after_sales.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO after_sales (seq, order_id, profile_id, kind, amount_minor, currency, reason, outcome, \
                 lines, at, message_id) VALUES {} ON CONFLICT (seq) DO NOTHING",
                self.dialect.rows(part.len(), 11)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for a in part {
                q = q
                    .bind(a.seq)
                    .bind(a.order_id.as_str())
                    .bind(a.profile_id.to_string())
                    .bind(a.kind.as_str())
                    .bind(a.amount_minor)
                    .bind(a.currency.as_deref())
                    .bind(a.reason.as_deref())
                    .bind(a.outcome.as_str())
                    .bind(a.lines.to_string())
                    .bind(micros(a.at))
                    .bind(a.message_id.as_str());
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        for part in c.reviews.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO reviews (seq, review_id, profile_id, product_id, rating, body, at) VALUES {} \
                 ON CONFLICT (seq) DO NOTHING",
                self.dialect.rows(part.len(), 7)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in part {
                q = q
                    .bind(r.seq)
                    .bind(r.review_id.as_deref())
                    .bind(r.profile_id.to_string())
                    .bind(r.product_id.as_str())
                    .bind(r.rating)
                    .bind(r.body.as_deref())
                    .bind(micros(r.at));
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }
}
