//! Checkout commits and counter returns (the promotions port's write side).
//!
//! A checkout takes from its counters with one conditional upsert each
//! (`used + amount <= max`); one that reaches a limit undoes what it took
//! and its claim, alone, and the others in the same transaction commit. On
//! SQLite the transaction runs on `checkout.db`'s one writer, queued in the
//! process (see `shopdb.rs`). On PostgreSQL a checkout locks only what it
//! takes from (an advisory lock per counter key, per buyer whose points it
//! spends, per team it writes), all at the start and in one order, so
//! checkouts on several nodes that share nothing run side by side, those
//! that share a counter take it one transaction at a time, and none
//! deadlocks on another. They hold the all-checkouts lock shared, and so
//! do the other writers of these tables, each with the locks of what it
//! writes: a team update its team's, issuing codes the counters it takes
//! (`issued`, `held`), earning points the earner's, a clawback its lot's, a
//! give-back its order's and its lots'. Only the schema upgrade of old
//! checkout records takes it whole.

use super::SqlDialect as _;
use super::promotions::{CHECKOUT_COLUMNS, Tx, decode_checkout, json, record_text};
use super::{Dialect, SqlStore, backend, from_micros, micros};
use crate::PiiCipher;
use crate::promotions::{Checkout, CheckoutOutcome, CounterReturn};
use crate::{AfterSaleKind, OrderStatus, PendingReturn, Result, StoreError};
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// Serialises checkout commits across nodes (PostgreSQL): held whole by
/// the writers that take it so, shared by checkouts (which lock their own
/// keys besides).
const CHECKOUT_LOCK: i64 = 7_259_003;

/// What `checkouts` take from, by lock name.
fn locks_of(checkouts: &[Checkout]) -> Vec<String> {
    let mut names = Vec::new();
    for c in checkouts {
        names.extend(c.takes.iter().map(|t| format!("counter:{}", t.key)));
        names.extend(c.points.iter().map(|(lot, _)| format!("lot:{lot}")));
        names.extend(c.team.iter().map(|t| format!("team:{}", t.team.id)));
    }
    names
}

/// Adds `amount` to counter `key` if it stays within `max` (one conditional
/// upsert); false, and nothing changed, if it would not.
pub(super) async fn take(tx: &mut Tx, key: &str, promotion: &str, amount: i64, max: i64) -> Result<bool> {
    if amount > max {
        return Ok(false);
    }
    let done = sqlx::query(
        "INSERT INTO promotion_counters (key, promotion, used) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET used = promotion_counters.used + $4 \
         WHERE promotion_counters.used + $5 <= $6",
    )
    .bind(key)
    .bind(promotion)
    .bind(amount)
    .bind(amount)
    .bind(amount)
    .bind(max)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}

/// Takes back what [`take`] added in the same transaction.
pub(super) async fn untake(tx: &mut Tx, key: &str, amount: i64) -> Result<()> {
    sqlx::query("UPDATE promotion_counters SET used = used - $1 WHERE key = $2")
        .bind(amount)
        .bind(key)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// A counter's used amount (0 if it has none).
pub(super) async fn used(tx: &mut Tx, key: &str) -> Result<i64> {
    let used: Option<i64> = sqlx::query_scalar("SELECT used FROM promotion_counters WHERE key = $1")
        .bind(key)
        .fetch_optional(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(used.unwrap_or(0))
}

/// What stands in the way of a checkout whose claim failed: the checkout
/// committed before under its key, or another key's claim on its order id.
pub(super) async fn existing(tx: &mut Tx, pii: &PiiCipher, idempotency_key: &str) -> Result<CheckoutOutcome> {
    let sql = format!("SELECT {CHECKOUT_COLUMNS} FROM checkouts WHERE idempotency_key = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(idempotency_key).fetch_optional(&mut **tx).await.map_err(backend)?;
    Ok(match row {
        Some(row) => CheckoutOutcome::Existing(decode_checkout(&row, pii)?),
        None => CheckoutOutcome::OrderTaken,
    })
}

/// Undoes a checkout in the open transaction: what it took, and its claim.
async fn abandon(tx: &mut Tx, c: &Checkout, taken: &[crate::CounterTake]) -> Result<()> {
    for u in taken {
        untake(tx, &u.key, u.amount).await?;
    }
    sqlx::query("DELETE FROM checkouts WHERE idempotency_key = $1")
        .bind(&c.idempotency_key)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

impl SqlStore {
    /// A transaction for counters: on SQLite on the `checkout.db` writer,
    /// queued in the process and begun deferred (see `shopdb.rs`); on
    /// PostgreSQL under the advisory lock that serialises them across nodes.
    pub(super) async fn checkout_tx(&self) -> Result<(Option<tokio::sync::OwnedMutexGuard<()>>, Tx)> {
        self.locked_tx(None).await
    }

    /// A transaction for counters that locks only the things named `locks`
    /// on PostgreSQL, holding the all-checkouts lock shared (`None`: whole).
    pub(super) async fn locked_tx(
        &self,
        locks: Option<Vec<String>>,
    ) -> Result<(Option<tokio::sync::OwnedMutexGuard<()>>, Tx)> {
        match self.dialect {
            Dialect::Sqlite => {
                let write = self.checkout_guard().await;
                let tx = self.checkout_pool.begin().await.map_err(backend)?;
                Ok((Some(write), tx))
            }
            Dialect::Postgres => {
                let mut tx = self.checkout_pool.begin().await.map_err(backend)?;
                let whole = if locks.is_some() { "pg_advisory_xact_lock_shared" } else { "pg_advisory_xact_lock" };
                sqlx::query(AssertSqlSafe(format!("SELECT {whole}($1)")))
                    .bind(CHECKOUT_LOCK)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                super::locks::lock_names(&mut tx, locks.unwrap_or_default()).await?;
                Ok((None, tx))
            }
        }
    }

    /// Commits one checkout inside the open transaction: claims its key and
    /// order id, then takes from each counter with one conditional upsert; a
    /// counter without room undoes what this checkout took before it.
    async fn commit_one(&self, tx: &mut Tx, c: &Checkout) -> Result<CheckoutOutcome> {
        let takes = serde_json::to_string(&c.takes).map_err(|e| StoreError::Backend(e.to_string()))?;
        let claimed = sqlx::query(
            "INSERT INTO checkouts (idempotency_key, order_id, request_hash, profile_id, takes, result, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&c.idempotency_key)
        .bind(&c.order_id)
        .bind(&c.request_hash)
        .bind(&c.profile_id)
        .bind(takes)
        .bind(record_text(&self.pii, &c.record)?)
        .bind(micros(c.created_at))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
        if claimed.rows_affected() == 0 {
            return existing(tx, &self.pii, &c.idempotency_key).await;
        }
        for (i, t) in c.takes.iter().enumerate() {
            if !take(tx, &t.key, &t.promotion, t.amount, t.max).await? {
                let used = used(tx, &t.key).await?;
                abandon(tx, c, &c.takes[..i]).await?;
                return Ok(CheckoutOutcome::LimitReached { key: t.key.clone(), used, max: t.max });
            }
        }
        if !super::loyalty::take_points(tx, &c.points).await? {
            abandon(tx, c, &c.takes).await?;
            return Ok(CheckoutOutcome::PointsChanged);
        }
        if let Some(team) = &c.team
            && !super::teams::write_team(tx, team).await?
        {
            super::loyalty::untake_points(tx, &c.points).await?;
            abandon(tx, c, &c.takes).await?;
            return Ok(CheckoutOutcome::TeamChanged);
        }
        Ok(CheckoutOutcome::Committed(c.clone()))
    }

    pub(crate) async fn commit_checkouts_impl(&self, checkouts: &[Checkout]) -> Result<Vec<CheckoutOutcome>> {
        let locks = locks_of(checkouts);
        if super::checkout_group::groupable(checkouts) {
            let (_write, mut tx) = self.locked_tx(Some(locks.clone())).await?;
            if let Some(out) = super::checkout_group::commit(&mut tx, self.dialect, &self.pii, checkouts).await? {
                tx.commit().await.map_err(backend)?;
                return Ok(out);
            }
            // a counter moved under the group: dropping the transaction rolls it back
        }
        let (_write, mut tx) = self.locked_tx(Some(locks)).await?;
        let mut out = Vec::with_capacity(checkouts.len());
        for c in checkouts {
            out.push(self.commit_one(&mut tx, c).await?);
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    pub(super) async fn checkout_where(&self, column: &str, value: &str) -> Result<Option<Checkout>> {
        let sql = format!("SELECT {CHECKOUT_COLUMNS} FROM checkouts WHERE {column} = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(value).fetch_optional(&self.shop_pool).await.map_err(backend)?;
        row.as_ref().map(|r| decode_checkout(r, &self.pii)).transpose()
    }

    pub(crate) async fn return_counters_impl(&self, r: &CounterReturn) -> Result<bool> {
        let locks = r.takes.iter().map(|(key, _)| format!("counter:{key}")).collect();
        let (_write, mut tx) = self.locked_tx(Some(locks)).await?;
        let takes = serde_json::to_string(&r.takes).map_err(|e| StoreError::Backend(e.to_string()))?;
        let inserted = sqlx::query(
            "INSERT INTO counter_returns (return_id, order_id, takes, at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (return_id) DO NOTHING",
        )
        .bind(&r.return_id)
        .bind(&r.order_id)
        .bind(takes)
        .bind(micros(r.at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if inserted.rows_affected() == 0 {
            return Ok(false);
        }
        for (key, amount) in &r.takes {
            sqlx::query(
                "UPDATE promotion_counters SET used = CASE WHEN used > $1 THEN used - $2 ELSE 0 END WHERE key = $3",
            )
            .bind(*amount)
            .bind(*amount)
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    pub(crate) async fn pending_returns_impl(&self, after_seq: i64, limit: u32) -> Result<Vec<PendingReturn>> {
        let sql = format!(
            "SELECT a.seq, a.kind, a.lines, o.status, {} FROM after_sales a \
             JOIN checkouts c ON c.order_id = a.order_id JOIN orders o ON o.order_id = a.order_id \
             WHERE a.seq > $1 AND a.outcome = 'applied' \
             AND NOT EXISTS (SELECT 1 FROM counter_returns r WHERE r.return_id = 'after_sale:' || {}) \
             ORDER BY a.seq LIMIT {}",
            CHECKOUT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", "),
            self.dialect.int_as_text("a.seq"),
            limit.max(1)
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(after_seq).fetch_all(&self.shop_pool).await.map_err(backend)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            // an old record that cannot be read is passed over, not allowed to stop every return
            let checkout = match decode_checkout(row, &self.pii) {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!("a checkout passed over by returns: {e}");
                    continue;
                }
            };
            let mut returned: HashMap<String, i64> = HashMap::new();
            for r in self.counter_returns_impl(&checkout.order_id).await? {
                for (key, n) in r.takes {
                    *returned.entry(key).or_default() += n;
                }
            }
            let kind: String = row.try_get("kind").map_err(backend)?;
            let status: String = row.try_get("status").map_err(backend)?;
            out.push(PendingReturn {
                seq: row.try_get("seq").map_err(backend)?,
                kind: if kind == "cancel" { AfterSaleKind::Cancel } else { AfterSaleKind::Refund },
                lines: json(&row.try_get::<String, _>("lines").map_err(backend)?)?,
                order_status: OrderStatus::parse(&status)
                    .ok_or_else(|| StoreError::Corrupt(format!("order status {status:?}")))?,
                checkout,
                returned,
            });
        }
        Ok(out)
    }

    pub(crate) async fn counter_returns_impl(&self, order_id: &str) -> Result<Vec<CounterReturn>> {
        let rows = sqlx::query(
            "SELECT return_id, order_id, takes, at FROM counter_returns WHERE order_id = $1 ORDER BY at, return_id",
        )
        .bind(order_id)
        .fetch_all(&self.shop_pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|row| {
                Ok(CounterReturn {
                    return_id: row.try_get("return_id").map_err(backend)?,
                    order_id: row.try_get("order_id").map_err(backend)?,
                    takes: json(&row.try_get::<String, _>("takes").map_err(backend)?)?,
                    at: from_micros(row.try_get("at").map_err(backend)?)?,
                })
            })
            .collect()
    }

    pub(crate) async fn orphan_checkouts_impl(
        &self,
        after: chrono::DateTime<chrono::Utc>,
        before: chrono::DateTime<chrono::Utc>,
        limit: u32,
    ) -> Result<Vec<Checkout>> {
        let columns = CHECKOUT_COLUMNS.split(", ").map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns} FROM checkouts c LEFT JOIN orders o ON o.order_id = c.order_id \
             WHERE o.order_id IS NULL AND c.created_at >= $1 AND c.created_at < $2 ORDER BY c.created_at LIMIT {}",
            limit.max(1)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(micros(after))
            .bind(micros(before))
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        // an old record that cannot be read is passed over, not allowed to stop the sweep
        Ok(rows
            .iter()
            .filter_map(|r| {
                decode_checkout(r, &self.pii)
                    .map_err(|e| tracing::warn!("a checkout passed over by the sweep: {e}"))
                    .ok()
            })
            .collect())
    }

    /// Rewrites checkouts stored before their records were typed (version
    /// 1: the answer given, contact details in the clear) as version 2,
    /// sealed. Runs at open; a row that cannot be read is left as it is,
    /// with a warning. Returns how many were rewritten.
    pub(super) async fn upgrade_checkout_records(&self) -> Result<usize> {
        let mut after = String::new();
        let mut done = 0;
        loop {
            let rows = sqlx::query(
                "SELECT idempotency_key, result FROM checkouts WHERE result NOT LIKE '{\"version\":%' \
                 AND idempotency_key > $1 ORDER BY idempotency_key LIMIT 500",
            )
            .bind(&after)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
            let Some(last) = rows.last() else { return Ok(done) };
            after = last.try_get("idempotency_key").map_err(backend)?;
            let (_write, mut tx) = self.checkout_tx().await?;
            for row in &rows {
                let key: String = row.try_get("idempotency_key").map_err(backend)?;
                let text: String = row.try_get("result").map_err(backend)?;
                let record = match super::promotions::parse_record(&self.pii, &text) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!("checkout {key:?} kept as it is: {e}");
                        continue;
                    }
                };
                sqlx::query("UPDATE checkouts SET result = $1 WHERE idempotency_key = $2")
                    .bind(record_text(&self.pii, &record)?)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                done += 1;
            }
            tx.commit().await.map_err(backend)?;
        }
    }
}
