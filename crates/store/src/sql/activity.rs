//! Visitors and buyers per day (`OrderStore::activity`).
//!
//! Visitors come from `visits`: one row per (UTC quarter hour, profile)
//! in which the profile viewed a page or screen or did an action, written
//! by the processor in the transaction that writes the events. A day of
//! any UTC offset in use (every one is a whole quarter hour) is a run of
//! whole quarter hours, so a range's visitors are the distinct profiles of
//! its quarters: a month is some tens of thousands of rows, where counting
//! from `events` read every event of the month. A merge moves the merged
//! profile's rows to its survivor (a person who browsed on two devices
//! before logging in counts once); an erasure deletes them. Buyers come
//! from the orders, which a merge and an erasure move too.

use super::process::SqlProcessTx;
use super::{SqlDialect as _, SqlStore, backend, micros};
use crate::{Activity, Result, StoreError};
use beacon_core::message::MessageKind;
use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeSet;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// A quarter hour, the unit of `visits`.
pub(crate) const QUARTER_MICROS: i64 = 900_000_000;
/// Rows per multi-row insert.
const ROWS: usize = 400;

/// Whether an event of `kind` makes a visit: a page or screen view, or an action.
fn is_visit(kind: MessageKind) -> bool {
    matches!(kind, MessageKind::Page | MessageKind::Screen | MessageKind::Track)
}

impl SqlProcessTx {
    /// Records the (quarter hour, profile) visits of a batch's events.
    pub(super) async fn write_visits(&mut self, events: &[crate::ProcessedEvent]) -> Result<()> {
        let visits: BTreeSet<(i64, String)> = events
            .iter()
            .filter(|e| is_visit(e.kind))
            .map(|e| (micros(e.timestamp).div_euclid(QUARTER_MICROS), e.profile_id.to_string()))
            .collect();
        let visits: Vec<_> = visits.into_iter().collect();
        for part in visits.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO visits (quarter, profile_id) VALUES {} ON CONFLICT DO NOTHING",
                self.dialect.rows(part.len(), 2)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (quarter, profile) in part {
                q = q.bind(*quarter).bind(profile.as_str());
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }

    /// A merge moves `from`'s visits to `into` (a quarter both visited stays one).
    pub(super) async fn move_visits(&mut self, from: &str, into: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO visits (quarter, profile_id) SELECT quarter, $2 FROM visits WHERE profile_id = $1 \
             ON CONFLICT DO NOTHING",
        )
        .bind(from)
        .bind(into)
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        sqlx::query("DELETE FROM visits WHERE profile_id = $1")
            .bind(from)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

/// What a figure is counted from: the table, its time column, the rows
/// that count, and the column's unit in micros.
struct Source {
    table: &'static str,
    time: &'static str,
    filter: &'static str,
    unit: i64,
}

const VISITORS: Source = Source { table: "visits", time: "quarter", filter: "TRUE", unit: QUARTER_MICROS };
const BUYERS: Source = Source { table: "orders", time: "placed_at", filter: "status <> 'cancelled'", unit: 1 };

impl SqlStore {
    /// Distinct profiles of `s` per local day of `[lo, hi)` (micros; days
    /// start at `offset_us` east of UTC), and over the whole range. The
    /// queries run at once, each on its own connection.
    async fn distinct_by_day(&self, s: &Source, lo: i64, hi: i64, offset_us: i64) -> Result<(Vec<(i64, i64)>, i64)> {
        let (table, time, filter, unit) = (s.table, s.time, s.filter, s.unit);
        let (lo, hi) = (lo.div_euclid(unit), hi.div_euclid(unit));
        let per_day = format!(
            "SELECT ({time} * $1 + $2) / $3 AS day, COUNT(DISTINCT profile_id) FROM {table} \
             WHERE {time} >= $4 AND {time} < $5 AND {filter} GROUP BY day"
        );
        let per_day = sqlx::query(AssertSqlSafe(per_day))
            .bind(unit)
            .bind(offset_us)
            .bind(MICROS_PER_DAY)
            .bind(lo)
            .bind(hi)
            .fetch_all(&self.pool);
        // PostgreSQL's COUNT(DISTINCT) always sorts; a DISTINCT subquery hashes
        let total = match self.dialect {
            super::Dialect::Postgres => format!(
                "SELECT COUNT(*) FROM (SELECT DISTINCT profile_id FROM {table} \
                 WHERE {time} >= $1 AND {time} < $2 AND {filter}) d"
            ),
            super::Dialect::Sqlite => {
                format!(
                    "SELECT COUNT(DISTINCT profile_id) FROM {table} WHERE {time} >= $1 AND {time} < $2 AND {filter}"
                )
            }
        };
        let total = sqlx::query(AssertSqlSafe(total)).bind(lo).bind(hi).fetch_one(&self.pool);
        let (rows, total) = tokio::try_join!(per_day, total).map_err(backend)?;
        let days = rows
            .iter()
            .map(|row| Ok((row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok((days, total.try_get(0).map_err(backend)?))
    }

    pub(crate) async fn activity_impl(&self, from: NaiveDate, to: NaiveDate, offset: i32) -> Result<Activity> {
        let offset_us = i64::from(offset) * 1_000_000;
        if offset_us % QUARTER_MICROS != 0 {
            return Err(StoreError::Backend(format!("a UTC offset of {offset} s is not a whole quarter hour")));
        }
        let start = |d: NaiveDate| micros(d.and_time(chrono::NaiveTime::MIN).and_utc()) - offset_us;
        let Some(after_to) = to.succ_opt() else { return Ok(Activity::default()) };
        let (lo, hi) = (start(from), start(after_to));
        let ((visitors_by_day, visitors), (buyers_by_day, buyers)) = tokio::try_join!(
            self.distinct_by_day(&VISITORS, lo, hi, offset_us),
            self.distinct_by_day(&BUYERS, lo, hi, offset_us)
        )?;
        let mut days: Vec<(NaiveDate, i64, i64)> = Vec::new();
        for (i, by_day) in [visitors_by_day, buyers_by_day].iter().enumerate() {
            for &(day, n) in by_day {
                let day = chrono::DateTime::from_timestamp(day * 86_400, 0)
                    .ok_or_else(|| StoreError::Corrupt(format!("day {day}")))?
                    .date_naive();
                let at = match days.iter().position(|(d, _, _)| *d == day) {
                    Some(at) => at,
                    None => {
                        days.push((day, 0, 0));
                        days.len() - 1
                    }
                };
                if i == 0 {
                    days[at].1 = n;
                } else {
                    days[at].2 = n;
                }
            }
        }
        days.sort();
        Ok(Activity { days, visitors, buyers })
    }
}
