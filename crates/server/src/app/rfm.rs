//! RFM value tiers as of a day in the shop's time zone
//! (`beacon_insight::rfm`): every buyer's figures from the orders the store
//! keeps, scored against each other. A table is computed once per as-of
//! day and kept while the orders stay as they were (the overview's running
//! order count and net revenue say so) and for at most a minute, so the
//! customer 360 and an export of a million profiles score once.

use super::{App, AppResult};
use beacon_core::{Currency, Money};
use beacon_insight::lifecycle::{self, Orders, Stage};
use beacon_insight::rfm::{self, Customer, Group, Scored};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How long a computed table answers for its day.
const KEEP: TimeDelta = TimeDelta::seconds(60);

/// Every buyer's RFM as of a day.
#[derive(Debug)]
pub struct RfmTable {
    pub as_of: NaiveDate,
    /// Monetary is net spend in this currency: the one most orders are in
    /// (the shop's when it has none yet).
    pub currency: Currency,
    /// By profile id.
    pub customers: Vec<Scored>,
    /// Each customer's lifecycle stage (in the order of `customers`).
    pub stages: Vec<Stage>,
    /// Each customer's orders as the risk tags read them (in the order of `customers`).
    pub orders: Vec<beacon_insight::tags::OrderSignals>,
    by_id: foldhash::HashMap<String, usize>,
}

impl RfmTable {
    pub fn of(&self, profile_id: &str) -> Option<&Scored> {
        self.by_id.get(profile_id).map(|i| &self.customers[*i])
    }

    /// A profile's lifecycle stage (`potential` without orders).
    pub fn stage(&self, profile_id: &str) -> Stage {
        self.by_id.get(profile_id).map_or(Stage::Potential, |i| self.stages[*i])
    }

    /// Customers per stage (the profiles without orders are `potential`: `profiles` all).
    pub fn funnel(&self, profiles: i64) -> Value {
        let mut counts: HashMap<Stage, i64> = HashMap::new();
        self.stages.iter().for_each(|s| *counts.entry(*s).or_default() += 1);
        counts.insert(Stage::Potential, (profiles - self.customers.len() as i64).max(0));
        let stages: Vec<Value> = Stage::ALL
            .iter()
            .map(|s| json!({"stage": s.key(), "name": s.zh(), "profiles": counts.get(s).copied().unwrap_or(0)}))
            .collect();
        json!({"as_of": self.as_of, "stages": stages})
    }

    /// One customer's RFM as the API shows it.
    pub fn json(&self, s: &Scored) -> Value {
        json!({
            "as_of": self.as_of, "recency_days": s.recency_days, "frequency": s.frequency,
            "monetary": Money { minor: s.monetary_minor, currency: self.currency }.to_decimal_string(),
            "currency": self.currency.code(), "r": s.r, "f": s.f, "m": s.m,
            "score": format!("{}{}{}", s.r, s.f, s.m), "group": s.group.key(), "group_name": s.group.zh(),
        })
    }

    /// Customers and revenue per group and per (R, F) cell.
    pub fn summary(&self) -> Value {
        let money = |minor: i64| Money { minor, currency: self.currency }.to_decimal_string();
        let n = self.customers.len().max(1) as f64;
        let mut groups: HashMap<Group, (usize, i64)> = HashMap::new();
        let mut grid = [[(0usize, 0i64); 5]; 5];
        for s in &self.customers {
            let g = groups.entry(s.group).or_default();
            g.0 += 1;
            g.1 += s.monetary_minor;
            let cell = &mut grid[usize::from(s.r - 1)][usize::from(s.f - 1)];
            cell.0 += 1;
            cell.1 += s.monetary_minor;
        }
        let groups: Vec<Value> = Group::ALL
            .iter()
            .map(|g| {
                let (count, revenue) = groups.get(g).copied().unwrap_or_default();
                json!({"group": g.key(), "name": g.zh(), "customers": count, "share": count as f64 / n,
                       "revenue": money(revenue)})
            })
            .collect();
        let mut cells = Vec::with_capacity(25);
        for (r, row) in grid.iter().enumerate() {
            for (f, (count, revenue)) in row.iter().enumerate() {
                cells.push(json!({"r": r + 1, "f": f + 1, "customers": count, "revenue": money(*revenue)}));
            }
        }
        json!({"as_of": self.as_of, "currency": self.currency.code(), "customers": self.customers.len(),
               "groups": groups, "grid": cells})
    }
}

/// A table, when it was computed, and the orders' stamp then.
type Computed = (DateTime<Utc>, (i64, i64), Arc<RfmTable>);

/// Computed tables by as-of day.
#[derive(Default)]
pub struct RfmCache(Mutex<HashMap<NaiveDate, Computed>>);

/// The shop's today.
pub fn today(app: &App) -> NaiveDate {
    (app.now() + TimeDelta::seconds(i64::from(app.settings.utc_offset_seconds()))).date_naive()
}

/// The table as of `as_of` (the shop's today when `None`).
pub async fn table(app: &App, as_of: Option<NaiveDate>) -> AppResult<Arc<RfmTable>> {
    let as_of = as_of.unwrap_or_else(|| today(app));
    let now = app.now();
    let overview = app.store.profiles().overview().await?;
    let stamp = (overview.orders, overview.revenue.iter().map(|r| r.net_minor).sum::<i64>());
    if let Some((at, was, t)) = app.rfm.0.lock().ok().and_then(|c| c.get(&as_of).cloned())
        && now - at < KEEP
        && was == stamp
    {
        return Ok(t);
    }
    let offset = TimeDelta::seconds(i64::from(app.settings.utc_offset_seconds()));
    let day_after = as_of.succ_opt().unwrap_or(as_of);
    let before = day_after.and_time(chrono::NaiveTime::MIN).and_utc() - offset;
    // the currency most orders are in (a shop that sells in one: that one)
    let currency = overview.revenue.first().and_then(|r| Currency::parse(&r.currency)).unwrap_or(app.rules.currency);
    let figures = app.store.orders().customer_figures(before, currency.code()).await?;
    let mut figures = figures;
    figures.sort_by(|a, b| a.profile_id.cmp(&b.profile_id));
    let day = |t: DateTime<Utc>| (t + offset).date_naive();
    let rules = app.settings.lifecycle;
    let stages = figures
        .iter()
        .map(|f| {
            let o = Orders {
                count: f.orders.max(0) as u64,
                first: day(f.first_placed_at),
                last: day(f.last_placed_at),
                previous: f.previous_placed_at.map(day),
            };
            lifecycle::stage(Some(&o), as_of, &rules)
        })
        .collect();
    let orders = figures
        .iter()
        .map(|f| beacon_insight::tags::OrderSignals {
            orders: f.orders.max(0) as u64,
            with_coupon: f.with_coupon.max(0) as u64,
            gross_minor: f.gross_minor,
            refunded_minor: f.refunded_minor,
        })
        .collect();
    let customers: Vec<Customer> = figures
        .into_iter()
        .map(|f| Customer {
            id: f.profile_id,
            last_order: day(f.last_placed_at),
            orders: f.orders.max(0) as u64,
            monetary_minor: f.net_minor,
        })
        .collect();
    let scored = rfm::score(&customers, as_of);
    let by_id = scored.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
    let t = Arc::new(RfmTable { as_of, currency, customers: scored, stages, orders, by_id });
    if let Ok(mut c) = app.rfm.0.lock() {
        c.retain(|_, (at, ..)| now - *at < KEEP);
        c.insert(as_of, (now, stamp, t.clone()));
    }
    Ok(t)
}

/// Most clusters asked for at once.
pub const MAX_K: usize = 12;

/// The buyers as of `as_of` clustered into `k` on their RFM (off the
/// request workers: a million buyers take seconds).
pub async fn clusters(
    app: &App,
    as_of: Option<NaiveDate>,
    k: usize,
    seed: u64,
) -> AppResult<(Arc<RfmTable>, beacon_insight::clusters::Report)> {
    let table = table(app, as_of).await?;
    let t = table.clone();
    let opts = beacon_insight::kmeans::Options { seed, ..beacon_insight::kmeans::Options::new(k.clamp(1, MAX_K)) };
    let report = tokio::task::spawn_blocking(move || {
        beacon_insight::clusters::cluster(&t.customers, t.currency.exponent, &opts)
    })
    .await
    .map_err(beacon_store::internal_error)?;
    Ok((table, report))
}

/// Inertia and silhouette for k from 2 to `max_k` (3 restarts each).
pub async fn elbow(
    app: &App,
    as_of: Option<NaiveDate>,
    max_k: usize,
    seed: u64,
) -> AppResult<Vec<beacon_insight::clusters::ElbowPoint>> {
    let t = table(app, as_of).await?;
    let opts = beacon_insight::kmeans::Options { seed, restarts: 3, ..beacon_insight::kmeans::Options::new(2) };
    let max_k = max_k.clamp(2, MAX_K);
    tokio::task::spawn_blocking(move || {
        beacon_insight::clusters::elbow(&t.customers, t.currency.exponent, 2..=max_k, &opts)
    })
    .await
    .map_err(beacon_store::internal_error)
}
