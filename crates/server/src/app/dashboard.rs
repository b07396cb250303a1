//! The dashboard's figures for a range of days in the shop's time zone:
//! visitors, buyers, the conversion rate (buyers ÷ visitors, each counted
//! once over the range), orders, net revenue and average order value in
//! the shop's currency,
//! every day of the range (days without orders at zero), the same figures
//! for the period just before, and the change. Money stays in minor units
//! until it is written out; the average is rounded half to even.

use super::{App, AppResult};
use beacon_core::{Currency, Money};
use beacon_store::DayFigures;
use chrono::NaiveDate;
use serde_json::{Value, json};

/// Orders and net revenue (minor units) in one currency.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    pub orders: i64,
    pub net_minor: i64,
}

impl Totals {
    /// Net revenue per order, half to even; none without orders.
    pub fn average_minor(self) -> Option<i64> {
        if self.orders == 0 {
            return None;
        }
        let (q, r) = (self.net_minor.div_euclid(self.orders), self.net_minor.rem_euclid(self.orders));
        let twice = 2 * r;
        Some(if twice > self.orders || (twice == self.orders && q % 2 != 0) { q + 1 } else { q })
    }
}

/// The change from `before` to `now` as a ratio (0.25 = 25 % more); none
/// when there was nothing before.
pub fn change(now: i64, before: i64) -> Option<f64> {
    (before != 0).then(|| (now - before) as f64 / before as f64)
}

fn totals(days: &[DayFigures], currency: &str) -> Totals {
    days.iter()
        .flat_map(|d| &d.revenue)
        .filter(|r| r.currency == currency)
        .fold(Totals::default(), |t, r| Totals { orders: t.orders + r.orders, net_minor: t.net_minor + r.net_minor })
}

/// The figures of `from..=to` (local days at `offset` seconds east of UTC).
pub async fn figures(app: &App, from: NaiveDate, to: NaiveDate, offset: i32) -> AppResult<Value> {
    let span = (to - from).num_days() + 1;
    let (before_from, before_to) = (from - chrono::Days::new(span as u64), from - chrono::Days::new(1));
    let orders = app.store.orders();
    // (each on its own connection: the store answers them at once)
    let (days, before, active, active_before) = tokio::try_join!(
        orders.daily_figures(from, to, offset),
        orders.daily_figures(before_from, before_to, offset),
        orders.activity(from, to, offset),
        orders.activity(before_from, before_to, offset),
    )?;
    let shop: Currency = app.rules.currency;
    let code = shop.code();
    let money = |minor: i64| Money { minor, currency: shop }.to_decimal_string();
    let (now, then) = (totals(&days, code), totals(&before, code));
    let summary = |t: Totals, a: &beacon_store::Activity| {
        json!({"visitors": a.visitors, "buyers": a.buyers, "conversion_rate": rate(a.buyers, a.visitors),
               "orders": t.orders, "revenue": money(t.net_minor), "average_order_value": t.average_minor().map(money)})
    };
    let per_day: Vec<Value> = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|d| {
            let none = DayFigures { day: d, revenue: Vec::new() };
            let t = totals(std::slice::from_ref(days.iter().find(|f| f.day == d).unwrap_or(&none)), code);
            let (visitors, buyers) =
                active.days.iter().find(|(day, _, _)| *day == d).map_or((0, 0), |(_, v, b)| (*v, *b));
            json!({"date": d.to_string(), "visitors": visitors, "buyers": buyers, "orders": t.orders,
                   "revenue": money(t.net_minor)})
        })
        .collect();
    let mut others: Vec<(String, Totals)> = Vec::new();
    for r in days.iter().flat_map(|d| &d.revenue).filter(|r| r.currency != code) {
        match others.iter_mut().find(|(c, _)| *c == r.currency) {
            Some((_, t)) => *t = Totals { orders: t.orders + r.orders, net_minor: t.net_minor + r.net_minor },
            None => others.push((r.currency.clone(), Totals { orders: r.orders, net_minor: r.net_minor })),
        }
    }
    let others: Vec<Value> = others
        .iter()
        .map(|(c, t)| {
            let revenue = Currency::parse(c).map(|cur| Money { minor: t.net_minor, currency: cur }.to_decimal_string());
            json!({"currency": c, "orders": t.orders, "revenue": revenue})
        })
        .collect();
    let aov = |t: Totals| t.average_minor().unwrap_or(0);
    Ok(json!({
        "from": from.to_string(), "to": to.to_string(), "currency": code,
        "current": summary(now, &active),
        "previous": with_range(summary(then, &active_before), before_from, before_to),
        "change": {
            "visitors": change(active.visitors, active_before.visitors),
            "conversion_rate": match (rate(active.buyers, active.visitors), rate(active_before.buyers, active_before.visitors)) {
                (Some(a), Some(b)) if b > 0.0 => Some((a - b) / b),
                _ => None,
            },
            "orders": change(now.orders, then.orders),
            "revenue": change(now.net_minor, then.net_minor),
            "average_order_value": change(aov(now), aov(then)),
        },
        "days": per_day,
        "other_currencies": others,
    }))
}

/// `part ÷ whole`; none when the whole is 0.
pub fn rate(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn with_range(mut v: Value, from: NaiveDate, to: NaiveDate) -> Value {
    v["from"] = json!(from.to_string());
    v["to"] = json!(to.to_string());
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_average_rounds_half_to_even_in_minor_units() {
        let avg = |orders, net_minor| Totals { orders, net_minor }.average_minor();
        assert_eq!(avg(0, 100), None);
        assert_eq!(avg(3, 1000), Some(333));
        assert_eq!(avg(2, 1001), Some(500), "500.5 → 500 (even)");
        assert_eq!(avg(2, 1003), Some(502), "501.5 → 502 (even)");
        assert_eq!(avg(3, 1001), Some(334));
        assert_eq!(avg(2, -3), Some(-2), "-1.5 → -2 (even)");
        assert_eq!(change(150, 100), Some(0.5));
        assert_eq!(change(5, 0), None);
    }
}
