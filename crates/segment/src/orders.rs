//! Order conditions and the times trait tests read, for `eval`.

use crate::ast::{Bought, Item, Measure, OrderFigure, Window};
use crate::decimal::Decimal;
use crate::eval::Facts;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde_json::Value;

/// Whether the profile's order figure compares as `o` says. An average of
/// no orders is none (the condition is false); money is summed exactly.
pub fn figure_holds(o: &OrderFigure, facts: &Facts<'_>) -> bool {
    let Some(value) = Decimal::parse(&o.value) else { return false };
    let (count, spend) = totals(o, facts);
    let ordering = match o.measure {
        Measure::OrderCount => Decimal::from_int(count as i128).compare(value),
        Measure::CouponOrders => Decimal::from_int(with_coupon(o, facts) as i128).compare(value),
        Measure::NetSpend => spend.and_then(|s| s.compare(value)),
        // spend ÷ count ⋛ value  ⇔  spend ⋛ value × count (count > 0): no division
        Measure::AverageOrder if count == 0 => None,
        Measure::AverageOrder => spend.and_then(|s| s.compare(value.times(count as i128)?)),
    };
    ordering.is_some_and(|ord| o.cmp.holds_for(ord))
}

/// The orders of `o`'s window: how many, and their net spend summed
/// exactly (none when a net is no decimal, or the sum overflows).
fn totals(o: &OrderFigure, facts: &Facts<'_>) -> (usize, Option<Decimal>) {
    let orders = facts.orders.iter().filter(|x| facts.in_window(x.at, o.within));
    orders
        .fold((0, Some(Decimal::from_int(0))), |(n, sum), x| (n + 1, sum.and_then(|s| s.add(Decimal::parse(&x.net)?))))
}

/// How many orders of `o`'s window used a coupon.
fn with_coupon(o: &OrderFigure, facts: &Facts<'_>) -> usize {
    let used = |x: &&crate::eval::OrderFact| x.coupon.as_deref().is_some_and(|c| !c.trim().is_empty());
    facts.orders.iter().filter(|x| facts.in_window(x.at, o.within)).filter(used).count()
}

/// The figure `o` compares, as text (`"order_count 3"`, `"net_spend 1000.00"`,
/// `"average_order none"` for no orders; the average to two places, rounded down).
pub fn figure(o: &OrderFigure, facts: &Facts<'_>) -> String {
    let (count, spend) = totals(o, facts);
    let value = match (o.measure, spend) {
        (Measure::OrderCount, _) => count.to_string(),
        (Measure::CouponOrders, _) => with_coupon(o, facts).to_string(),
        (_, None) => "unknown".into(),
        (Measure::NetSpend, Some(s)) => s.to_string(),
        (Measure::AverageOrder, _) if count == 0 => "none".into(),
        (Measure::AverageOrder, Some(s)) => s.divided(count as i128, 2).to_string(),
    };
    format!("{} {value}", o.measure.as_str())
}

/// Whether an order in the window has a line of the product, the category
/// (or one below it) or the brand.
pub fn bought(b: &Bought, facts: &Facts<'_>) -> bool {
    let line_is = |l: &crate::eval::LineFact| match &b.item {
        Item::Product(p) => l.product_id.as_deref() == Some(p.as_str()),
        Item::Category(c) => l
            .category
            .as_deref()
            .is_some_and(|lc| lc == c || lc.strip_prefix(c.as_str()).is_some_and(|rest| rest.starts_with('/'))),
        Item::Brand(brand) => l.brand.as_deref() == Some(brand.as_str()),
    };
    facts.orders.iter().filter(|o| facts.in_window(o.at, b.within)).any(|o| o.lines.iter().any(line_is))
}

/// A trait's time: RFC 3339, or a date (`1990-05-17`, midnight UTC).
pub fn time_of(v: &Value) -> Option<DateTime<Utc>> {
    let s = v.as_str()?.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Whether `date`'s anniversary falls on a day from `now`'s (UTC) to before
/// the end of `window` (29 February counts on 28 February in other years).
pub fn upcoming(date: DateTime<Utc>, window: Window, now: DateTime<Utc>) -> bool {
    let today = now.date_naive();
    let on = |year: i32| {
        NaiveDate::from_ymd_opt(year, date.month(), date.day())
            .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), date.day() - 1))
    };
    let next = match on(today.year()) {
        Some(d) if d >= today => Some(d),
        _ => on(today.year() + 1),
    };
    let Some(next) = next else { return false };
    let days = (next - today).num_days();
    days * 86_400 < window.duration().num_seconds()
}
