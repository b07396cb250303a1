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

/// What a membership is decided from.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub traits: &'a Map<String, Value>,
    pub events: &'a [EventFact],
    pub now: DateTime<Utc>,
}

/// Whether the profile `facts` describe is in `condition`.
pub fn matches(condition: &Condition, facts: &Facts<'_>) -> bool {
    match condition {
        Condition::All(items) => items.iter().all(|c| matches(c, facts)),
        Condition::Any(items) => items.iter().any(|c| matches(c, facts)),
        Condition::Not(inner) => !matches(inner, facts),
        Condition::Trait(t) => test(facts.traits.get(&t.key), t.op, t.value.as_ref()),
        Condition::Performed(p) => p.count.cmp.holds(times(p, facts), p.count.n),
    }
}

/// How many of the profile's events count for `p`: its name, in its window
/// (after `now` minus the window, up to `now`), passing every filter.
pub fn times(p: &Performed, facts: &Facts<'_>) -> u64 {
    let since = p.within.map(|w| facts.now - w.duration());
    let counted = facts.events.iter().filter(|e| {
        e.name == p.event
            && e.at <= facts.now
            && since.is_none_or(|s| e.at > s)
            && p.filters.iter().all(|f| test(e.properties.get(&f.property), f.op, f.value.as_ref()))
    });
    counted.count() as u64
}

/// `actual op expected`.
pub fn test(actual: Option<&Value>, op: Op, expected: Option<&Value>) -> bool {
    let actual = actual.filter(|v| !v.is_null());
    match op {
        Op::Exists => actual.is_some(),
        Op::Ne => !test(actual, Op::Eq, expected),
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
                Op::Exists | Op::Ne => unreachable!("handled above"),
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
