//! Deciding one profile's membership from what is known of it: its traits,
//! its events (name, time, properties) and the time it is decided at.
//!
//! Comparisons: two numbers (or numeric text) compare as exact decimals;
//! text compares as text; true and false only equal themselves. `=`, `>`,
//! `<` and the rest are false when the trait is missing or the values are
//! of kinds that do not compare; `!=` is the negation of `=` (a profile
//! without a city is "not in 上海"). `contains` is a part of a text or an
//! item of a list; `in` is `=` to one of the list.

use crate::ast::{Condition, Op, Performed};
use crate::decimal::Decimal;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::cmp::Ordering;

/// An event of the profile.
#[derive(Debug, Clone, PartialEq)]
pub struct EventFact {
    /// A track event's name (`Product Viewed`).
    pub name: String,
    pub at: DateTime<Utc>,
    pub properties: Map<String, Value>,
}

/// An order of the profile, as the store keeps it (not cancelled).
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFact {
    pub at: DateTime<Utc>,
    /// What it came to net of refunds, a decimal (`"176.00"`).
    pub net: String,
    pub coupon: Option<String>,
    pub lines: Vec<LineFact>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineFact {
    pub product_id: Option<String>,
    /// A path, `茶叶/绿茶`.
    pub category: Option<String>,
    pub brand: Option<String>,
}

/// What a membership is decided from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub profile_id: &'a str,
    pub traits: &'a Map<String, Value>,
    pub events: &'a [EventFact],
    pub orders: &'a [OrderFact],
    /// The kinds of identity the profile holds (`phone`, `email`…).
    pub identities: &'a [String],
    pub tags: &'a [String],
    /// Ids of the saved segments the profile is in.
    pub segments: &'a [String],
    /// Purposes the profile consented to.
    pub consents: &'a [String],
    /// The coupons of its wallet.
    pub coupons: &'a [crate::CouponFact],
    /// Its lots of points.
    pub points: &'a [crate::PointsLot],
    pub now: DateTime<Utc>,
}

impl<'a> Facts<'a> {
    /// Traits and events only (nothing else known).
    pub fn new(traits: &'a Map<String, Value>, events: &'a [EventFact], now: DateTime<Utc>) -> Facts<'a> {
        Facts {
            profile_id: "",
            traits,
            events,
            orders: &[],
            identities: &[],
            tags: &[],
            segments: &[],
            consents: &[],
            coupons: &[],
            points: &[],
            now,
        }
    }

    pub(crate) fn in_window(&self, at: DateTime<Utc>, within: Option<crate::ast::Window>) -> bool {
        at <= self.now && within.is_none_or(|w| at > self.now - w.duration())
    }
}

/// Whether the profile `facts` describe is in `condition`.
pub fn matches(condition: &Condition, facts: &Facts<'_>) -> bool {
    match condition {
        Condition::All(items) => items.iter().all(|c| matches(c, facts)),
        Condition::Any(items) => items.iter().any(|c| matches(c, facts)),
        Condition::Not(inner) => !matches(inner, facts),
        Condition::Trait(t) => test_at(facts.traits.get(&t.key), t.op, t.value.as_ref(), Some(facts.now)),
        Condition::Performed(p) => p.count.cmp.holds(times(p, facts), p.count.n),
        Condition::FirstPerformed(t) => {
            let first = facts.events.iter().filter(|e| e.name == t.event && e.at <= facts.now).map(|e| e.at).min();
            first.is_some_and(|at| facts.in_window(at, Some(t.within)))
        }
        Condition::LastPerformedBefore(t) => {
            let last = facts.events.iter().filter(|e| e.name == t.event && e.at <= facts.now).map(|e| e.at).max();
            last.is_some_and(|at| !facts.in_window(at, Some(t.within)))
        }
        Condition::Orders(o) => crate::orders::figure_holds(o, facts),
        Condition::Bought(b) => crate::orders::bought(b, facts),
        Condition::Has(kind) => facts.identities.iter().any(|k| k == kind),
        Condition::Tag(tag) => facts.tags.iter().any(|t| t == tag),
        Condition::InSegment(id) => facts.segments.iter().any(|s| s == id),
        Condition::Consent(purpose) => facts.consents.iter().any(|c| c == purpose),
        Condition::Bucket(c) => c.cmp.holds(bucket(facts.profile_id), c.n),
        Condition::Coupons(w) => w.count.cmp.holds(crate::wallet::coupons_held(w, facts), w.count.n),
        Condition::Points(c) => crate::wallet::points_hold(*c, crate::points_available(facts.points, facts.now)),
    }
}

/// The profile's bucket, 0–99: FNV-1a (64 bit) of its id, modulo 100 —
/// the same everywhere, for ever.
pub fn bucket(profile_id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in profile_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 100
}

/// How many of the profile's events count for `p`: its name, in its window
/// (after `now` minus the window, up to `now`), passing every filter.
pub fn times(p: &Performed, facts: &Facts<'_>) -> u64 {
    let counted = facts.events.iter().filter(|e| {
        e.name == p.event
            && facts.in_window(e.at, p.within)
            && p.filters.iter().all(|f| test_at(e.properties.get(&f.property), f.op, f.value.as_ref(), Some(facts.now)))
    });
    counted.count() as u64
}

/// `actual op expected`.
pub fn test(actual: Option<&Value>, op: Op, expected: Option<&Value>) -> bool {
    test_at(actual, op, expected, None)
}

/// `actual op expected`, with the time `within` and `upcoming` are decided at.
pub fn test_at(actual: Option<&Value>, op: Op, expected: Option<&Value>, now: Option<DateTime<Utc>>) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    match op {
        Op::Exists => actual.is_some(),
        Op::Ne => !test(actual, Op::Eq, expected),
        Op::Within | Op::Upcoming => {
            let window = expected.and_then(Value::as_str).and_then(crate::ast::Window::parse);
            let (Some(t), Some(w), Some(now)) = (actual.and_then(crate::orders::time_of), window, now) else {
                return false;
            };
            if op == Op::Within { t <= now && t > now - w.duration() } else { crate::orders::upcoming(t, w, now) }
        }
        _ => {
            let (Some(a), Some(e)) = (actual, expected) else { return false };
            match op {
                Op::Eq => equal(a, e),
                Op::In => e.as_array().is_some_and(|list| list.iter().any(|x| equal(a, x))),
                Op::Contains => match (a, e) {
                    (Value::String(a), Value::String(e)) => a.contains(e.as_str()),
                    (Value::Array(items), e) => items.iter().any(|x| equal(x, e)),
                    _ => false,
                },
                Op::Gt => order(a, e) == Some(Ordering::Greater),
                Op::Gte => matches!(order(a, e), Some(Ordering::Greater | Ordering::Equal)),
                Op::Lt => order(a, e) == Some(Ordering::Less),
                Op::Lte => matches!(order(a, e), Some(Ordering::Less | Ordering::Equal)),
                Op::Exists | Op::Ne | Op::Within | Op::Upcoming => unreachable!("handled above"),
            }
        }
    }
}

fn equal(a: &Value, b: &Value) -> bool {
    order(a, b) == Some(Ordering::Equal) || a == b
}

/// Numbers as decimals (numeric text too, against a number), text as text.
fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.as_str().cmp(y.as_str())),
        (Value::Number(_) | Value::String(_), Value::Number(_) | Value::String(_)) => {
            Decimal::of(a)?.compare(Decimal::of(b)?)
        }
        (Value::Bool(x), Value::Bool(y)) if x == y => Some(Ordering::Equal),
        _ => None,
    }
}
