//! A group of checkouts committed together in a few statements.
//!
//! One by one, a group of checkouts costs two statements each (the claim and
//! a conditional upsert per counter), and a burst of orders on one coupon
//! takes the same counter row again and again. Here the group claims its
//! idempotency keys and order ids in one multi-row insert, reads its counters
//! once, takes from them in memory in the group's order (exactly what the
//! one-by-one path would decide, under the same write lock), and writes each
//! counter once, compare-and-set on the value it read.
//!
//! Checkouts that redeem points or write a team, and groups that repeat a key
//! or an order id, go one by one; so does a group whose counter moved between
//! the read and the write (nothing here writes a counter outside the checkout
//! lock, so that is a guard, not a path taken).

use super::SqlDialect as _;
use super::checkouts::existing;
use super::promotions::{CHECKOUT_COLUMNS, Tx};
use super::{Dialect, backend, micros};
use crate::PiiCipher;
use crate::promotions::{Checkout, CheckoutOutcome};
use crate::{Result, StoreError};
use sqlx::{AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// Checkouts per multi-row insert (7 parameters each).
const ROWS: usize = 128;

/// Whether the group can be committed together.
pub(super) fn groupable(checkouts: &[Checkout]) -> bool {
    let mut keys = HashSet::new();
    let mut orders = HashSet::new();
    checkouts.len() > 1
        && checkouts.iter().all(|c| {
            c.team.is_none()
                && c.points.is_empty()
                && keys.insert(c.idempotency_key.as_str())
                && orders.insert(c.order_id.as_str())
        })
}

/// Commits the group inside `tx`; `None` when a counter moved under it (the
/// caller drops the transaction and goes one by one).
pub(super) async fn commit(
    tx: &mut Tx,
    dialect: Dialect,
    pii: &PiiCipher,
    group: &[Checkout],
) -> Result<Option<Vec<CheckoutOutcome>>> {
    let claimed = claim(tx, dialect, pii, group).await?;
    let mut out: Vec<Option<CheckoutOutcome>> = vec![None; group.len()];
    for (i, c) in group.iter().enumerate() {
        if !claimed.contains(c.idempotency_key.as_str()) {
            out[i] = Some(existing(tx, pii, &c.idempotency_key).await?);
        }
    }
    // the counters as they are, then each claimed checkout in turn
    let mut keys: Vec<&str> = group.iter().flat_map(|c| c.takes.iter().map(|t| t.key.as_str())).collect();
    keys.sort_unstable();
    keys.dedup();
    let before = counters(tx, dialect, &keys).await?;
    let mut now = before.clone();
    let mut refused = Vec::new();
    for (i, c) in group.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let mut taken = Vec::with_capacity(c.takes.len());
        for t in &c.takes {
            let used = now.get(t.key.as_str()).copied().unwrap_or(0);
            if t.amount > t.max || used + t.amount > t.max {
                out[i] = Some(CheckoutOutcome::LimitReached { key: t.key.clone(), used, max: t.max });
                break;
            }
            *now.entry(t.key.as_str()).or_insert(0) += t.amount;
            taken.push(t);
        }
        if out[i].is_some() {
            for t in taken {
                *now.entry(t.key.as_str()).or_insert(0) -= t.amount;
            }
            refused.push(c.idempotency_key.as_str());
        } else {
            out[i] = Some(CheckoutOutcome::Committed(c.clone()));
        }
    }
    if !refused.is_empty() {
        let sql = format!("DELETE FROM checkouts WHERE idempotency_key IN ({})", dialect.params_from(0, refused.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in &refused {
            q = q.bind(*k);
        }
        q.execute(&mut **tx).await.map_err(backend)?;
    }
    let promotion_of: HashMap<&str, &str> =
        group.iter().flat_map(|c| c.takes.iter().map(|t| (t.key.as_str(), t.promotion.as_str()))).collect();
    for (key, used) in &now {
        let was = before.get(key).copied().unwrap_or(0);
        if *used != was && !set_counter(tx, key, promotion_of.get(key).copied().unwrap_or(""), was, *used).await? {
            return Ok(None);
        }
    }
    Ok(Some(out.into_iter().map(|o| o.unwrap_or(CheckoutOutcome::OrderTaken)).collect()))
}

/// Claims the group's keys and order ids; returns the keys claimed.
async fn claim(tx: &mut Tx, dialect: Dialect, pii: &PiiCipher, group: &[Checkout]) -> Result<HashSet<String>> {
    let mut claimed = HashSet::with_capacity(group.len());
    for part in group.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO checkouts ({CHECKOUT_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING RETURNING idempotency_key",
            dialect.rows(part.len(), 7)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for c in part {
            let takes = serde_json::to_string(&c.takes).map_err(|e| StoreError::Backend(e.to_string()))?;
            q = q
                .bind(c.idempotency_key.clone())
                .bind(c.order_id.clone())
                .bind(c.request_hash.clone())
                .bind(c.profile_id.clone())
                .bind(takes)
                .bind(super::promotions::record_text(pii, &c.record)?)
                .bind(micros(c.created_at));
        }
        for row in q.fetch_all(&mut **tx).await.map_err(backend)? {
            claimed.insert(row.try_get::<String, _>(0).map_err(backend)?);
        }
    }
    Ok(claimed)
}

async fn counters<'k>(tx: &mut Tx, dialect: Dialect, keys: &[&'k str]) -> Result<HashMap<&'k str, i64>> {
    let mut out = HashMap::with_capacity(keys.len());
    for part in keys.chunks(500) {
        let sql =
            format!("SELECT key, used FROM promotion_counters WHERE key IN ({})", dialect.params_from(0, part.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in part {
            q = q.bind(*k);
        }
        let rows = q.fetch_all(&mut **tx).await.map_err(backend)?;
        let mut found: HashMap<String, i64> = HashMap::with_capacity(rows.len());
        for row in rows {
            found.insert(row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?);
        }
        for k in part {
            out.insert(*k, found.get(*k).copied().unwrap_or(0));
        }
    }
    Ok(out)
}

/// Sets counter `key` from `was` to `used`; false if it is no longer at `was`.
async fn set_counter(tx: &mut Tx, key: &str, promotion: &str, was: i64, used: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO promotion_counters (key, promotion, used) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET used = $4 WHERE promotion_counters.used = $5",
    )
    .bind(key)
    .bind(promotion)
    .bind(used)
    .bind(used)
    .bind(was)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected() > 0)
}
