//! Commerce reads: orders, after-sales records, reviews, revenue figures.

use super::codec::parse_id;
use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{
    AfterSale, AfterSaleKind, DayFigures, Order, OrderLine, OrderQuery, OrderStatus, Overview, Page, PageRequest,
    Result, Revenue, ReviewsOf, StoreError, StoredReview,
};
use async_trait::async_trait;
use beacon_core::Currency;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

pub(super) const ORDER_COLUMNS: &str = "order_id, profile_id, currency, total_minor, discount_minor, refunded_minor, \
                                        status, coupon, placed_at, message_id, lines";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(super) fn decode_order(row: &AnyRow) -> Result<Order> {
    let currency: String = row.try_get("currency").map_err(backend)?;
    let status: String = row.try_get("status").map_err(backend)?;
    let lines: String = row.try_get("lines").map_err(backend)?;
    Ok(Order {
        order_id: row.try_get("order_id").map_err(backend)?,
        profile_id: parse_id(&row.try_get::<String, _>("profile_id").map_err(backend)?)?,
        currency: Currency::parse(&currency).ok_or_else(|| corrupt(format!("currency {currency:?}")))?,
        total_minor: row.try_get("total_minor").map_err(backend)?,
        discount_minor: row.try_get("discount_minor").map_err(backend)?,
        refunded_minor: row.try_get("refunded_minor").map_err(backend)?,
        status: OrderStatus::parse(&status).ok_or_else(|| corrupt(format!("order status {status:?}")))?,
        coupon: row.try_get("coupon").map_err(backend)?,
        placed_at: from_micros(row.try_get("placed_at").map_err(backend)?)?,
        message_id: row.try_get("message_id").map_err(backend)?,
        lines: serde_json::from_str::<Vec<OrderLine>>(&lines).map_err(corrupt)?,
    })
}

fn decode_review(row: &AnyRow) -> Result<StoredReview> {
    Ok(StoredReview {
        seq: row.try_get("seq").map_err(backend)?,
        review_id: row.try_get("review_id").map_err(backend)?,
        profile_id: parse_id(&row.try_get::<String, _>("profile_id").map_err(backend)?)?,
        product_id: row.try_get("product_id").map_err(backend)?,
        rating: row.try_get("rating").map_err(backend)?,
        body: row.try_get("body").map_err(backend)?,
        at: from_micros(row.try_get("at").map_err(backend)?)?,
    })
}

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn revenue(rows: &[AnyRow], first: usize) -> Result<Vec<Revenue>> {
    rows.iter()
        .map(|r| {
            Ok(Revenue {
                currency: r.try_get(first).map_err(backend)?,
                orders: r.try_get(first + 1).map_err(backend)?,
                net_minor: r.try_get(first + 2).map_err(backend)?,
            })
        })
        .collect()
}

impl SqlStore {
    pub(crate) async fn overview_impl(&self) -> Result<Overview> {
        // the running totals the processor keeps (not a count of every row)
        let row = sqlx::query(
            "SELECT (SELECT value FROM counts WHERE name = 'profiles'), (SELECT value FROM counts WHERE name = 'events')",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        let rows = sqlx::query(
            "SELECT currency, COUNT(*), CAST(COALESCE(SUM(total_minor - refunded_minor), 0) AS BIGINT) FROM orders \
             WHERE status <> 'cancelled' GROUP BY currency ORDER BY COUNT(*) DESC, currency",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let revenue = revenue(&rows, 0)?;
        Ok(Overview {
            profiles: row.try_get(0).map_err(backend)?,
            events: row.try_get(1).map_err(backend)?,
            orders: revenue.iter().map(|r| r.orders).sum(),
            revenue,
        })
    }

    pub(crate) async fn daily_figures_impl(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        offset: i32,
    ) -> Result<Vec<DayFigures>> {
        let offset_us = i64::from(offset) * 1_000_000;
        let start = |d: chrono::NaiveDate| micros(d.and_time(chrono::NaiveTime::MIN).and_utc()) - offset_us;
        let Some(after_to) = to.succ_opt() else { return Ok(Vec::new()) };
        // days counted from the epoch in the caller's zone (placed_at is ≥ 1970 in practice; the
        // division of earlier times would round toward zero)
        let rows = sqlx::query(
            "SELECT (placed_at + $1) / $2 AS day, currency, COUNT(*), CAST(SUM(total_minor - refunded_minor) AS BIGINT) \
             FROM orders WHERE status <> 'cancelled' AND placed_at >= $3 AND placed_at < $4 \
             GROUP BY day, currency ORDER BY day, COUNT(*) DESC, currency",
        )
        .bind(offset_us)
        .bind(MICROS_PER_DAY)
        .bind(start(from))
        .bind(start(after_to))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut out: Vec<DayFigures> = Vec::new();
        for row in &rows {
            let day: i64 = row.try_get(0).map_err(backend)?;
            let day = chrono::DateTime::from_timestamp(day * 86_400, 0)
                .ok_or_else(|| corrupt(format!("day {day}")))?
                .date_naive();
            let figures = revenue(std::slice::from_ref(row), 1)?;
            match out.last_mut() {
                Some(last) if last.day == day => last.revenue.extend(figures),
                _ => out.push(DayFigures { day, revenue: figures }),
            }
        }
        Ok(out)
    }

    pub(crate) async fn customer_figures_impl(
        &self,
        before: chrono::DateTime<chrono::Utc>,
        currency: &str,
    ) -> Result<Vec<crate::CustomerFigures>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        // one pass over the orders, summed here: a window function to find
        // each buyer's order before the last sorted every order (seconds
        // at a million buyers)
        // (the dialect's placeholders in the order they appear: SQLite's are positional)
        // `+placed_at`: not through the `placed_at` index — as of a recent
        // day it takes nearly every order, and the index's look-ups into the
        // table, one a row in random order, took 3× a plain scan
        let d = self.dialect;
        let sql = format!(
            "SELECT {} FROM orders WHERE status <> 'cancelled' AND +placed_at < {} AND profile_id <> {}",
            d.json_rows(&format!(
                "profile_id, placed_at, CASE WHEN currency = {} THEN total_minor ELSE 0 END, \
                 CASE WHEN currency = {} THEN refunded_minor ELSE 0 END, \
                 CASE WHEN coupon IS NULL OR coupon = '' THEN 0 ELSE 1 END",
                d.param(1),
                d.param(2)
            )),
            d.param(3),
            d.param(4)
        );
        let q = sqlx::query(AssertSqlSafe(sql))
            .bind(currency)
            .bind(currency)
            .bind(micros(before))
            .bind(super::erasure::ERASED.to_string());
        let rows: Vec<(String, i64, i64, i64, i64)> = super::process_read::json_rows(&mut conn, q).await?;
        #[derive(Default)]
        struct Sums {
            orders: i64,
            gross: i64,
            refunded: i64,
            coupons: i64,
            first: i64,
            last: i64,
            /// The second newest time (the same as the last for two orders at one time).
            previous: Option<i64>,
        }
        let mut by: foldhash::HashMap<String, Sums> = foldhash::HashMap::default();
        for (profile, at, gross, refunded, coupon) in rows {
            let s = by.entry(profile).or_insert_with(|| Sums { first: at, last: at, ..Sums::default() });
            if s.orders > 0 {
                if at >= s.last {
                    s.previous = Some(s.last);
                    s.last = at;
                } else if s.previous.is_none_or(|p| at > p) {
                    s.previous = Some(at);
                }
                s.first = s.first.min(at);
            }
            s.orders += 1;
            s.gross += gross;
            s.refunded += refunded;
            s.coupons += coupon;
        }
        by.into_iter()
            .map(|(profile_id, s)| {
                Ok(crate::CustomerFigures {
                    profile_id,
                    orders: s.orders,
                    net_minor: s.gross - s.refunded,
                    gross_minor: s.gross,
                    refunded_minor: s.refunded,
                    with_coupon: s.coupons,
                    first_placed_at: from_micros(s.first)?,
                    last_placed_at: from_micros(s.last)?,
                    previous_placed_at: s.previous.map(from_micros).transpose()?,
                })
            })
            .collect()
    }

    pub(crate) async fn get_order_impl(&self, order_id: &str) -> Result<Option<Order>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id = $1")))
            .bind(order_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(decode_order).transpose()
    }

    pub(crate) async fn list_orders_impl(&self, q: &OrderQuery) -> Result<Page<Order>> {
        let mut sql = format!("SELECT {ORDER_COLUMNS} FROM orders WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let live = match q.profile {
            Some(id) => Some(self.live_id(id).await?.unwrap_or_else(|| id.to_string())),
            None => None,
        };
        if live.is_some() {
            sql.push_str(&format!(" AND profile_id = {}", next()));
        }
        if q.status.is_some() {
            sql.push_str(&format!(" AND status = {}", next()));
        }
        if q.placed_after.is_some() {
            sql.push_str(&format!(" AND placed_at >= {}", next()));
        }
        if q.placed_before.is_some() {
            sql.push_str(&format!(" AND placed_at < {}", next()));
        }
        if q.page.after.is_some() {
            let (a, b, c) = (next(), next(), next());
            sql.push_str(&format!(" AND (placed_at < {a} OR (placed_at = {b} AND order_id < {c}))"));
        }
        sql.push_str(&format!(" ORDER BY placed_at DESC, order_id DESC LIMIT {}", next()));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(live) = live {
            query = query.bind(live);
        }
        if let Some(s) = q.status {
            query = query.bind(s.as_str());
        }
        if let Some(t) = q.placed_after {
            query = query.bind(micros(t));
        }
        if let Some(t) = q.placed_before {
            query = query.bind(micros(t));
        }
        if let Some((at, id)) = &q.page.after {
            query = query.bind(*at).bind(*at).bind(id.clone());
        }
        let limit = q.page.limit.max(1);
        let rows = query.bind(i64::from(limit) + 1).fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(decode_order).collect::<Result<Vec<_>>>()?;
        let next = (rows.len() > limit as usize)
            .then(|| items.last().map(|o| (micros(o.placed_at), o.order_id.clone())))
            .flatten();
        Ok(Page { items, next })
    }

    pub(crate) async fn after_sales_impl(&self, order_id: &str) -> Result<Vec<AfterSale>> {
        let rows = sqlx::query(
            "SELECT seq, order_id, profile_id, kind, amount_minor, currency, reason, outcome, lines, at, message_id \
             FROM after_sales WHERE order_id = $1 ORDER BY at, seq",
        )
        .bind(order_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get("kind").map_err(backend)?;
                let lines: String = r.try_get("lines").map_err(backend)?;
                Ok(AfterSale {
                    seq: r.try_get("seq").map_err(backend)?,
                    order_id: r.try_get("order_id").map_err(backend)?,
                    profile_id: parse_id(&r.try_get::<String, _>("profile_id").map_err(backend)?)?,
                    kind: match kind.as_str() {
                        "refund" => AfterSaleKind::Refund,
                        "cancel" => AfterSaleKind::Cancel,
                        other => return Err(corrupt(format!("after-sales kind {other:?}"))),
                    },
                    amount_minor: r.try_get("amount_minor").map_err(backend)?,
                    currency: r.try_get("currency").map_err(backend)?,
                    reason: r.try_get("reason").map_err(backend)?,
                    outcome: r.try_get("outcome").map_err(backend)?,
                    lines: serde_json::from_str(&lines).map_err(corrupt)?,
                    at: from_micros(r.try_get("at").map_err(backend)?)?,
                    message_id: r.try_get("message_id").map_err(backend)?,
                })
            })
            .collect()
    }

    pub(crate) async fn list_reviews_impl(&self, of: &ReviewsOf, page: &PageRequest) -> Result<Page<StoredReview>> {
        let (column, key) = match of {
            ReviewsOf::Product(p) => ("product_id", p.clone()),
            ReviewsOf::Profile(id) => ("profile_id", self.live_id(*id).await?.unwrap_or_else(|| id.to_string())),
        };
        let (at, seq) = match &page.after {
            Some((at, seq)) => (*at, seq.parse::<i64>().map_err(|_| StoreError::NotFound)?),
            None => (i64::MAX, i64::MAX),
        };
        let limit = page.limit.max(1);
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT seq, review_id, profile_id, product_id, rating, body, at FROM reviews WHERE {column} = $1 \
             AND (at < $2 OR (at = $2 AND seq < $3)) ORDER BY at DESC, seq DESC LIMIT $4"
        )))
        .bind(key)
        .bind(at)
        .bind(seq)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(decode_review).collect::<Result<Vec<_>>>()?;
        let next =
            (rows.len() > limit as usize).then(|| items.last().map(|r| (micros(r.at), r.seq.to_string()))).flatten();
        Ok(Page { items, next })
    }
}

#[async_trait]
impl crate::OrderStore for SqlStore {
    async fn activity(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        utc_offset_seconds: i32,
    ) -> Result<crate::Activity> {
        self.activity_impl(from, to, utc_offset_seconds).await
    }

    async fn customer_figures(&self, before: DateTime<Utc>, currency: &str) -> Result<Vec<crate::CustomerFigures>> {
        self.customer_figures_impl(before, currency).await
    }

    async fn daily_figures(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        utc_offset_seconds: i32,
    ) -> Result<Vec<DayFigures>> {
        self.daily_figures_impl(from, to, utc_offset_seconds).await
    }

    async fn get_order(&self, order_id: &str) -> Result<Option<Order>> {
        self.get_order_impl(order_id).await
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order>> {
        self.list_orders_impl(query).await
    }

    async fn after_sales(&self, order_id: &str) -> Result<Vec<AfterSale>> {
        self.after_sales_impl(order_id).await
    }

    async fn list_reviews(&self, of: &ReviewsOf, page: &PageRequest) -> Result<Page<StoredReview>> {
        self.list_reviews_impl(of, page).await
    }
}
