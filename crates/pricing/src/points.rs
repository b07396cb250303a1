//! A profile's points as lots (one per earning: an order, a review…), each
//! vesting after the return window and expiring on its own date; spent
//! first-expiring-first (FIFO), taken back on a refund (as a debt if they
//! were spent), and redeemed as money off an order.

use crate::explain::Priced;
use crate::loyalty::Redeem;
use chrono::{DateTime, Utc};

/// Points earned at once, and what is left of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: String,
    /// Earned (less what refunds took back).
    pub points: i64,
    /// Not spent yet; below zero for a debt (points taken back after they were spent).
    pub left: i64,
    pub earned_at: DateTime<Utc>,
    pub vests_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balance {
    /// Vested, not expired, less any debt (may be below zero).
    pub available: i64,
    /// Earned, waiting for the return window.
    pub pending: i64,
    /// Points taken back after they were spent, to be covered by the next ones.
    pub debt: i64,
}

impl Lot {
    fn usable(&self, now: DateTime<Utc>) -> bool {
        self.left > 0 && self.vests_at <= now && self.expires_at.is_none_or(|e| now < e)
    }
}

pub fn balance(lots: &[Lot], now: DateTime<Utc>) -> Balance {
    let usable: i64 = lots.iter().filter(|l| l.usable(now)).map(|l| l.left).sum();
    let pending = lots.iter().filter(|l| l.left > 0 && l.vests_at > now).map(|l| l.left).sum();
    let debt = lots.iter().filter(|l| l.left < 0).map(|l| -l.left).sum();
    Balance { available: usable - debt, pending, debt }
}

/// Which lots spending `points` takes from (lot id, points): the usable
/// ones, soonest to expire first (never-expiring last), then oldest; a debt
/// is paid first. `Err(available)` if there are not enough.
pub fn spend(lots: &[Lot], points: i64, now: DateTime<Utc>) -> Result<Vec<(String, i64)>, i64> {
    let b = balance(lots, now);
    if points <= 0 {
        return Ok(Vec::new());
    }
    if b.available < points {
        return Err(b.available);
    }
    let mut usable: Vec<&Lot> = lots.iter().filter(|l| l.usable(now)).collect();
    usable.sort_by(|a, b| {
        (a.expires_at.is_none(), a.expires_at, a.vests_at, &a.id).cmp(&(
            b.expires_at.is_none(),
            b.expires_at,
            b.vests_at,
            &b.id,
        ))
    });
    // the debt is settled from the same lots, first
    let mut due = points + b.debt;
    let mut takes = Vec::new();
    for l in usable {
        if due == 0 {
            break;
        }
        let n = l.left.min(due);
        takes.push((l.id.clone(), n));
        due -= n;
    }
    // the debt lots go to zero with it
    takes.extend(lots.iter().filter(|l| l.left < 0).map(|l| (l.id.clone(), l.left)));
    Ok(takes)
}

/// What taking `points` back from a lot (its order was refunded) does:
/// (taken from what is left, the rest as a debt).
pub fn clawback(lot: &Lot, points: i64) -> (i64, i64) {
    let points = points.clamp(0, lot.points);
    let from_left = points.min(lot.left.max(0));
    (from_left, points - from_left)
}

/// The points an order redeemed, of what it `took` from lots: what it took
/// less the debt it settled on the way (a negative take), which stays settled.
pub fn redeemed(took: &[(String, i64)]) -> i64 {
    took.iter().map(|(_, n)| *n).sum::<i64>().max(0)
}

/// Which lots `n` more points go back to, of those an order `took` (lot,
/// points, in the order taken), when `already` were given back before: the
/// last taken first (they expire latest).
pub fn give_back(took: &[(String, i64)], already: i64, n: i64) -> Vec<(String, i64)> {
    let mut skip = already.max(0);
    let mut left = n.max(0);
    let mut out = Vec::new();
    for (lot, taken) in took.iter().rev().filter(|(_, t)| *t > 0) {
        let room = (taken - skip).max(0);
        skip = (skip - taken).max(0);
        let back = room.min(left);
        if back > 0 {
            out.push((lot.clone(), back));
            left -= back;
        }
    }
    out
}

/// Points to redeem on a cart: what the shopper asks, what they have, the program's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redemption {
    pub requested: i64,
    pub available: i64,
    /// The most the program's redemption limits still allow (none: no limits).
    pub room: Option<i64>,
    pub rule: Redeem,
}

/// Points redeemed on a priced cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsUse {
    pub requested: i64,
    pub used: i64,
    /// Money off, minor units.
    pub discount: i64,
    /// Why fewer were used than asked: `insufficient_points`,
    /// `points_limit_reached`, `max_share`, `below_min_points`, or `none` if
    /// all were.
    pub limited_by: &'static str,
}

/// The money points take off `merchandise` (what the lines cost after
/// promotions, minor units): at most `max_share` of it, whole minor units,
/// and the points that money is worth, rounded up to a whole point.
/// (money, points used, what limited them).
pub(crate) fn money_off(r: &Redemption, merchandise: i64, exponent: u8) -> (i64, i64, &'static str) {
    let unit = 10i128.pow(u32::from(exponent));
    let ppu = i128::from(r.rule.points_per_unit);
    let requested = r.requested.max(0);
    let mut usable = requested.min(r.available.max(0));
    let mut limited_by = if usable < requested { "insufficient_points" } else { "none" };
    if let Some(room) = r.room.filter(|room| *room < usable) {
        usable = room.max(0);
        limited_by = "points_limit_reached";
    }
    if requested < r.rule.min_points {
        usable = 0;
        limited_by = "below_min_points";
    }
    let cap = i128::from(merchandise.max(0)) * i128::from(r.rule.max_share_bp) / 10_000;
    let worth = i128::from(usable) * unit / ppu;
    if cap < worth {
        limited_by = "max_share";
    }
    let money = worth.min(cap).max(0);
    // the points that money takes (a whole point, rounded up, never more than usable)
    let used = ((money * ppu + unit - 1) / unit).min(i128::from(usable));
    // fewer than the least an order may redeem (after the caps): none
    if used > 0 && used < i128::from(r.rule.min_points) {
        return (0, 0, "below_min_points");
    }
    (money as i64, used as i64, limited_by)
}

/// What the shopper pays for a combination: its total (`with_shipping`,
/// shipping left included) less what the cart's points take off its lines.
pub(crate) fn paid(cart: &crate::Cart, with_shipping: i64, shipping_left: i64) -> i64 {
    match &cart.points {
        Some(r) => with_shipping - money_off(r, with_shipping - shipping_left, cart.currency.exponent).0,
        None => with_shipping,
    }
}

/// Takes the points' money off the order's total after promotions.
pub(crate) fn redeem(priced: &mut Priced, r: &Redemption) {
    let merchandise = priced.subtotal - priced.discount;
    let (money, used, limited_by) = money_off(r, merchandise, priced.currency.exponent);
    priced.total -= money;
    priced.points = Some(PointsUse { requested: r.requested.max(0), used, discount: money, limited_by });
}
