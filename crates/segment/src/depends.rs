//! What a condition depends on — so a change to a profile re-decides only
//! the segments it can affect — and when the passing of time alone can
//! change its answer for a profile (a windowed condition on day 8), so a
//! timer can be set for that moment instead of scanning every night.

use crate::ast::{Condition, Op};
use crate::eval::Facts;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use std::collections::BTreeSet;

/// What a condition reads of a profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Needs {
    /// Names of events it counts or times.
    pub events: BTreeSet<String>,
    /// Traits it tests.
    pub traits: BTreeSet<String>,
    pub orders: bool,
    pub identities: bool,
    pub tags: bool,
    pub consents: bool,
    /// The wallet's coupons.
    pub coupons: bool,
    pub points: bool,
    /// The profile's own bucket (its id).
    pub bucket: bool,
    /// Saved segments it names.
    pub segments: BTreeSet<String>,
}

impl Condition {
    pub fn needs(&self) -> Needs {
        let mut n = Needs::default();
        gather(self, &mut n);
        n
    }
}

fn gather(c: &Condition, n: &mut Needs) {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| gather(c, n)),
        Condition::Not(inner) => gather(inner, n),
        Condition::Trait(t) => {
            n.traits.insert(t.key.clone());
        }
        Condition::Performed(p) => {
            n.events.insert(p.event.clone());
        }
        Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
            n.events.insert(t.event.clone());
        }
        Condition::Orders(_) | Condition::Bought(_) => n.orders = true,
        Condition::Has(_) => n.identities = true,
        Condition::Tag(_) => n.tags = true,
        Condition::Consent(_) => n.consents = true,
        Condition::InSegment(id) => {
            n.segments.insert(id.clone());
        }
        Condition::Coupons(_) => n.coupons = true,
        Condition::Points(_) => n.points = true,
        Condition::Bucket(_) => n.bucket = true,
    }
}

/// The first moment after `facts.now` at which time passing could change
/// whether the profile is in `c` (an event or order leaving or entering a
/// window, a trait's time leaving one, the next day for an anniversary);
/// `None` if no time will. A moment that turns out to change nothing costs
/// one more decision, never a wrong one.
pub fn next_change(c: &Condition, facts: &Facts<'_>) -> Option<DateTime<Utc>> {
    let now = facts.now;
    let mut soonest: Option<DateTime<Utc>> = None;
    let mut consider = |t: DateTime<Utc>| {
        if t > now && soonest.is_none_or(|s| t < s) {
            soonest = Some(t);
        }
    };
    visit(c, facts, &mut consider);
    soonest
}

fn visit(c: &Condition, facts: &Facts<'_>, at: &mut impl FnMut(DateTime<Utc>)) {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| visit(c, facts, at)),
        Condition::Not(inner) => visit(inner, facts, at),
        Condition::Performed(p) => {
            for e in facts.events.iter().filter(|e| e.name == p.event) {
                // a future event counts once its time comes; a windowed one stops counting when it leaves
                at(e.at);
                if let Some(w) = p.within {
                    at(e.at + w.duration());
                }
            }
        }
        Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
            for e in facts.events.iter().filter(|e| e.name == t.event) {
                at(e.at);
                at(e.at + t.within.duration());
            }
        }
        Condition::Orders(o) => orders(facts, o.within, at),
        Condition::Bought(b) => orders(facts, b.within, at),
        Condition::Trait(t) => {
            let Some(value) = facts.traits.get(&t.key) else { return };
            let window = t.value.as_ref().and_then(|v| v.as_str()).and_then(crate::ast::Window::parse);
            match (t.op, crate::orders::time_of(value), window) {
                (Op::Within, Some(time), Some(w)) => {
                    at(time);
                    at(time + w.duration());
                }
                // an anniversary comes into or out of the window at a day's start
                (Op::Upcoming, Some(_), Some(_)) => at(next_midnight(facts.now)),
                _ => {}
            }
        }
        Condition::Coupons(w) => crate::wallet::wallet_times(w, facts, at),
        Condition::Points(_) => crate::wallet::points_times(facts, at),
        Condition::Has(_)
        | Condition::Tag(_)
        | Condition::InSegment(_)
        | Condition::Consent(_)
        | Condition::Bucket(_) => {}
    }
}

fn orders(facts: &Facts<'_>, within: Option<crate::ast::Window>, at: &mut impl FnMut(DateTime<Utc>)) {
    for o in facts.orders {
        at(o.at);
        if let Some(w) = within {
            at(o.at + w.duration());
        }
    }
}

fn next_midnight(now: DateTime<Utc>) -> DateTime<Utc> {
    let today = now.date_naive();
    let tomorrow =
        NaiveDate::from_ymd_opt(today.year(), today.month(), today.day()).and_then(|d| d.succ_opt()).unwrap_or(today);
    tomorrow.and_time(chrono::NaiveTime::MIN).and_utc().max(now + Duration::seconds(1))
}

/// A condition's word on an event name: a count it takes (in its window,
/// passing its filters) or the first/last time it looks at. The pipeline
/// asks these whether a new event can change a segment's answer at all
/// ([`EventLeaf::moved_by`]): most of a shop's events fall outside most
/// segments' windows and filters, and then the segment is not decided
/// again for them.
#[derive(Debug, Clone, PartialEq)]
pub struct EventLeaf {
    pub event: String,
    /// `None`: a first or last time (any event of the name can move it).
    pub counted: Option<(Option<crate::ast::Window>, Vec<crate::ast::PropertyFilter>)>,
}

impl Condition {
    /// Every event leaf of the condition (one per leaf, in order).
    pub fn event_leaves(&self) -> Vec<EventLeaf> {
        let mut out = Vec::new();
        leaves(self, &mut out);
        out
    }
}

fn leaves(c: &Condition, out: &mut Vec<EventLeaf>) {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| leaves(c, out)),
        Condition::Not(inner) => leaves(inner, out),
        Condition::Performed(p) => {
            out.push(EventLeaf { event: p.event.clone(), counted: Some((p.within, p.filters.clone())) })
        }
        Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
            out.push(EventLeaf { event: t.event.clone(), counted: None })
        }
        _ => {}
    }
}

impl EventLeaf {
    /// Whether adding `e` can change this leaf, now or later: an event of
    /// its name that its filters pass and that is in its window or will be
    /// (a time to come); any of its name for a first or last time. A
    /// filter on a property's time (`within`, `upcoming`) changes with the
    /// clock, so such a leaf is always moved.
    pub fn moved_by(&self, e: &crate::EventFact, now: DateTime<Utc>) -> bool {
        if e.name != self.event {
            return false;
        }
        let Some((within, filters)) = &self.counted else { return true };
        if within.is_some_and(|w| e.at <= now - w.duration()) {
            return false;
        }
        filters.iter().all(|f| {
            matches!(f.op, Op::Within | Op::Upcoming)
                || crate::eval::test_at(e.properties.get(&f.property), f.op, f.value.as_ref(), Some(now))
        })
    }
}
