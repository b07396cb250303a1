//! Budgets and limits: one primitive, `{counter, limit, period, scope}`,
//! covers a promotion's budget, per-customer caps, flash-sale stock and
//! anti-abuse limits across every account sharing a phone or device.
//!
//! The engine is pure: the caller reads how much of each limit is used
//! (the counters named by [`counter_keys`]) and passes it in the cart's
//! [`Usage`]; the engine leaves out a promotion whose limit is reached or
//! which would take more than is left, and says what each applied
//! promotion takes ([`Take`]), which the commit adds to the same counters
//! atomically.

use crate::spec::{Promotion, invalid};
use beacon_core::Error;
use beacon_core::money::parse_minor;
use chrono::{DateTime, Datelike, Duration, Utc};
use serde::Deserialize;
use std::collections::HashMap;

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// Orders the promotion applied to.
    Redemptions,
    /// The discount it gave, in minor units (a budget).
    Discount,
    /// Units of the lines it discounted (a flash sale's stock).
    Units,
    /// Points redeemed (the points program's `redeem.limits` only).
    Points,
}

/// The owner of the points program's redemption limits in counter keys
/// (promotion ids may not start with `~`).
pub const POINTS_OWNER: &str = "~points";

/// The window a limit is counted in, in the shop's time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Period {
    #[default]
    Total,
    Day,
    /// ISO weeks, from Monday.
    Week,
    Month,
}

/// Whose use a limit counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Everyone's together.
    #[default]
    Promotion,
    /// Each coupon code's.
    Coupon,
    /// Each profile's.
    Profile,
    /// Each phone, email, device id or WeChat id's: holds across every
    /// profile that shares one (coupon-hunter accounts, 羊毛党).
    Identity,
    /// Each store's (the cart's `store`).
    Store,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    pub counter: Counter,
    /// A count, or an amount for `discount`.
    pub limit: serde_json::Value,
    #[serde(default)]
    pub period: Period,
    #[serde(default)]
    pub scope: Scope,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Limit {
    pub counter: Counter,
    /// Minor units for `discount`.
    pub limit: i64,
    pub period: Period,
    pub scope: Scope,
}

pub(crate) fn compile(id: &str, i: usize, spec: &LimitSpec, exponent: u8) -> Result<Limit, Error> {
    let text = match &spec.limit {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return Err(invalid(id, format!("limits[{i}].limit must be a number"))),
    };
    let limit = match spec.counter {
        Counter::Discount => parse_minor(&text, exponent).ok(),
        _ => text.trim().parse::<i64>().ok(),
    }
    .filter(|n| *n >= 0)
    .ok_or_else(|| invalid(id, format!("limits[{i}].limit must be a whole count (an amount for discount), ≥ 0")))?;
    Ok(Limit { counter: spec.counter, limit, period: spec.period, scope: spec.scope })
}

/// Who is buying, as the limits see it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Subject {
    pub profile: Option<String>,
    /// `kind:value` of the buyer's identities (`phone:+8613800138000`).
    pub identities: Vec<String>,
    pub store: Option<String>,
}

/// How much of each limit is used: by (promotion id, limit index). A limit
/// not in the map is unused.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage(pub HashMap<(String, usize), i64>);

impl Counter {
    pub fn as_str(self) -> &'static str {
        match self {
            Counter::Redemptions => "redemptions",
            Counter::Discount => "discount",
            Counter::Units => "units",
            Counter::Points => "points",
        }
    }

    pub fn parse(s: &str) -> Option<Counter> {
        [Counter::Redemptions, Counter::Discount, Counter::Units, Counter::Points].into_iter().find(|c| c.as_str() == s)
    }
}

impl Usage {
    pub fn used(&self, promotion: &str, limit: usize) -> i64 {
        self.0.get(&(promotion.to_string(), limit)).copied().unwrap_or(0)
    }
}

/// What an applied promotion adds to one of its limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Take {
    pub promotion: String,
    pub limit: usize,
    pub counter: Counter,
    pub amount: i64,
    /// The most the counters may hold after it.
    pub max: i64,
}

/// The counters a promotion's limit is kept in for this buyer at `now`
/// (days, weeks and months start at midnight `utc_offset_seconds` east of
/// UTC). Several for scope identity (one per identity, each must stay in
/// the limit); none if the buyer has nothing the scope counts by (the
/// promotion is then not for them).
pub fn counter_keys(
    p: &Promotion,
    limit: usize,
    who: &Subject,
    coupon: Option<&str>,
    now: DateTime<Utc>,
    utc_offset_seconds: i32,
) -> Vec<String> {
    match p.limits.get(limit) {
        Some(l) => keys_of(&p.id, limit, l, who, coupon, now, utc_offset_seconds),
        None => Vec::new(),
    }
}

/// The counters limit `limit` of `owner` (a promotion's id, or
/// [`POINTS_OWNER`]) is kept in: see [`counter_keys`].
pub fn keys_of(
    owner: &str,
    limit: usize,
    l: &Limit,
    who: &Subject,
    coupon: Option<&str>,
    now: DateTime<Utc>,
    utc_offset_seconds: i32,
) -> Vec<String> {
    let local = (now + Duration::seconds(i64::from(utc_offset_seconds))).date_naive();
    let period = match l.period {
        Period::Total => "total".to_string(),
        Period::Day => local.format("%Y-%m-%d").to_string(),
        Period::Week => format!("{}-W{:02}", local.iso_week().year(), local.iso_week().week()),
        Period::Month => local.format("%Y-%m").to_string(),
    };
    let key = |subject: &str| format!("{owner}|{limit}|{period}|{subject}");
    match l.scope {
        Scope::Promotion => vec![key("*")],
        Scope::Coupon => coupon.map(|c| key(&format!("coupon:{c}"))).into_iter().collect(),
        Scope::Profile => who.profile.as_ref().map(|id| key(&format!("profile:{id}"))).into_iter().collect(),
        Scope::Identity => who.identities.iter().map(|i| key(i)).collect(),
        Scope::Store => who.store.as_ref().map(|s| key(&format!("store:{s}"))).into_iter().collect(),
    }
}

/// Whether a limit's scope has nothing to count by for this buyer.
pub(crate) fn lacks_subject(l: &Limit, who: &Subject, coupon: Option<&str>) -> bool {
    match l.scope {
        Scope::Promotion => false,
        Scope::Coupon => coupon.is_none(),
        Scope::Profile => who.profile.is_none(),
        Scope::Identity => who.identities.is_empty(),
        Scope::Store => who.store.is_none(),
    }
}

/// One counter an order took from, as the commit recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub key: String,
    pub promotion: String,
    pub counter: Counter,
    pub amount: i64,
}

/// A line of the priced order: its quantity and what each promotion took off it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenLine {
    pub quantity: i64,
    /// (promotion id, discount on this line).
    pub allocations: Vec<(String, i64)>,
}

/// What a refund or cancellation gives back to the counters an order took
/// from. `whole`: the order is cancelled or refunded in full — everything
/// not given back yet returns. Otherwise `refunded[i]` units of line `i`
/// come back: the units of a flash sale's stock, and the refunded share of
/// each discount budget (rounded down; the rest returns with the last
/// refund); a redemption, and the points an order redeemed, return only
/// with the whole order. Never more than
/// was taken: `returned` is what earlier refunds gave back per key.
pub fn give_back(
    taken: &[Taken],
    lines: &[TakenLine],
    refunded: &[i64],
    whole: bool,
    returned: &HashMap<String, i64>,
) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in taken {
        let left = t.amount - returned.get(&t.key).copied().unwrap_or(0);
        if left <= 0 {
            continue;
        }
        let due = if whole {
            left
        } else {
            let share =
                |l: &TakenLine| l.allocations.iter().filter(|(p, _)| *p == t.promotion).map(|(_, a)| *a).sum::<i64>();
            let back = lines.iter().zip(refunded).filter(|(l, _)| share(l) > 0).map(|(l, n)| {
                let n = (*n).clamp(0, l.quantity);
                match t.counter {
                    Counter::Units => n,
                    Counter::Discount => (i128::from(share(l)) * i128::from(n) / i128::from(l.quantity.max(1))) as i64,
                    // like a use of the promotion, points redeemed come back with the whole order
                    Counter::Redemptions | Counter::Points => 0,
                }
            });
            back.sum::<i64>().min(left)
        };
        if due > 0 {
            out.push((t.key.clone(), due));
        }
    }
    out
}
