//! The wallet's coupons and the points a profile holds, as a segment reads
//! them: what can be used now, which changes with the clock (a coupon
//! expires, points vest and expire) as well as with checkouts.

use crate::ast::Wallet;
use crate::eval::Facts;
use chrono::{DateTime, Utc};

/// A coupon of the profile's wallet (one issued to it, or to a profile
/// merged into it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CouponFact {
    /// Its template's id.
    pub promotion: String,
    /// Used at a checkout, or its template ended or gone: not usable again.
    pub spent: bool,
    /// When it stops being usable (its own end or its template's), if ever.
    pub until: Option<DateTime<Utc>>,
}

impl CouponFact {
    /// Usable at `now`: what the wallet shows as `available`.
    pub fn available(&self, now: DateTime<Utc>) -> bool {
        !self.spent && self.until.is_none_or(|u| now < u)
    }
}

/// A lot of points (one earning), as the points program keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsLot {
    /// Not spent yet; below zero for a debt (taken back after being spent).
    pub left: i64,
    pub vests_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The points that can be spent at `now`: the vested, unexpired lots'
/// points less any debt — the points program's `available`
/// (`beacon_pricing::points::balance`; a test holds the two together).
pub fn points_available(lots: &[PointsLot], now: DateTime<Utc>) -> i64 {
    let usable: i64 = lots
        .iter()
        .filter(|l| l.left > 0 && l.vests_at <= now && l.expires_at.is_none_or(|e| now < e))
        .map(|l| l.left)
        .sum();
    let debt: i64 = lots.iter().filter(|l| l.left < 0).map(|l| l.left).sum();
    usable + debt
}

impl Wallet {
    /// Whether `c` is of the template this counts (any, if none).
    fn counts(&self, c: &CouponFact) -> bool {
        self.promotion.as_ref().is_none_or(|p| *p == c.promotion)
    }
}

/// How many of the wallet's coupons `w` counts are usable at `facts.now`.
pub fn coupons_held(w: &Wallet, facts: &Facts<'_>) -> u64 {
    facts.coupons.iter().filter(|c| w.counts(c) && c.available(facts.now)).count() as u64
}

/// Whether a balance of `points` passes `count`.
pub fn points_hold(count: crate::ast::Count, points: i64) -> bool {
    count.cmp.holds_for(points.cmp(&i64::from(count.n)))
}

/// The moments after which the clock alone changes what `w` counts or the
/// points balance: a coupon's end, a lot's vesting and expiry.
pub(crate) fn wallet_times(w: &Wallet, facts: &Facts<'_>, at: &mut impl FnMut(DateTime<Utc>)) {
    for c in facts.coupons.iter().filter(|c| w.counts(c) && !c.spent) {
        if let Some(u) = c.until {
            at(u);
        }
    }
}

pub(crate) fn points_times(facts: &Facts<'_>, at: &mut impl FnMut(DateTime<Utc>)) {
    for l in facts.points.iter().filter(|l| l.left > 0) {
        at(l.vests_at);
        if let Some(e) = l.expires_at {
            at(e);
        }
    }
}
