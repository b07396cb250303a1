//! Visitors and buyers per day (`OrderStore::activity`), counted from the
//! processed events (`events`: profile, kind, time) and the orders. A
//! merged profile's events and orders are its survivor's, so a person who
//! browsed on two devices before logging in counts once.

use super::{SqlStore, backend, micros};
use crate::{Activity, Result, StoreError};
use chrono::NaiveDate;
use sqlx::Row;

const MICROS_PER_DAY: i64 = 86_400_000_000;
/// What makes a visit: a page or screen view, or an action.
const VISIT: &str = "kind IN ('page', 'screen', 'track')";

impl SqlStore {
    pub(crate) async fn activity_impl(&self, from: NaiveDate, to: NaiveDate, offset: i32) -> Result<Activity> {
        let offset_us = i64::from(offset) * 1_000_000;
        let start = |d: NaiveDate| micros(d.and_time(chrono::NaiveTime::MIN).and_utc()) - offset_us;
        let Some(after_to) = to.succ_opt() else { return Ok(Activity::default()) };
        let (lo, hi) = (start(from), start(after_to));
        let per_day = |table: &str, time: &str, filter: &str| {
            format!(
                "SELECT ({time} + $1) / $2 AS day, COUNT(DISTINCT profile_id) FROM {table} \
                 WHERE {time} >= $3 AND {time} < $4 AND {filter} GROUP BY day"
            )
        };
        let total = |table: &str, time: &str, filter: &str| {
            format!("SELECT COUNT(DISTINCT profile_id) FROM {table} WHERE {time} >= $1 AND {time} < $2 AND {filter}")
        };
        let mut days: Vec<(NaiveDate, i64, i64)> = Vec::new();
        for (i, (table, time, filter)) in
            [("events", "ts", VISIT), ("orders", "placed_at", "status <> 'cancelled'")].into_iter().enumerate()
        {
            let rows = sqlx::query(sqlx::AssertSqlSafe(per_day(table, time, filter)))
                .bind(offset_us)
                .bind(MICROS_PER_DAY)
                .bind(lo)
                .bind(hi)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
            for row in &rows {
                let (day, n): (i64, i64) = (row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?);
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
        let mut totals = [0i64; 2];
        for (i, (table, time, filter)) in
            [("events", "ts", VISIT), ("orders", "placed_at", "status <> 'cancelled'")].into_iter().enumerate()
        {
            let row = sqlx::query(sqlx::AssertSqlSafe(total(table, time, filter)))
                .bind(lo)
                .bind(hi)
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
            totals[i] = row.try_get(0).map_err(backend)?;
        }
        Ok(Activity { days, visitors: totals[0], buyers: totals[1] })
    }
}
