//! Deciding a condition for every profile at once — the batch evaluator.
//!
//! Each leaf of the tree is a [`Scan`] a store answers with rows, deciding
//! in its own query what it can (an event's name and window, an order's
//! status and window, who holds an identity); the tree is then decided
//! set at a time over the profiles, one flag per profile. [`eval`](crate::eval)
//! decides one profile from its facts instead, and the two must agree:
//! `crates/server/tests/segment_agreement.rs` generates segments and data
//! and checks they do, on both stores.
//!
//! A leaf's windows are the store's to decide: the rows of
//! `Scan::Events { since, until }` are taken as in the window, and an order
//! figure is figured from the rows as given.

use crate::ast::{Bought, Condition, OrderFigure, Performed};
use crate::eval::{Facts, OrderFact, test_at};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// What one leaf needs a store to select.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scan {
    /// Per profile, how many events named `event` it did at a time after
    /// `since` (if any) up to `until`.
    EventCounts {
        event: String,
        since: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
    },
    /// Each event named `event` at a time after `since` up to `until`: its
    /// profile and properties.
    EventProperties {
        event: String,
        since: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
    },
    /// Per profile that did `event` up to `until`: the first and the last time.
    EventSpan {
        event: String,
        until: DateTime<Utc>,
    },
    /// Per profile with trait `key` (not null): its value.
    Trait(String),
    /// Each order placed after `since` up to `until` and not cancelled.
    Orders {
        since: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
    },
    /// The profiles holding an identity of this kind.
    Identity(String),
    Tag(String),
    Segment(String),
    Consent(String),
    /// Per profile, how many coupons of its wallet (of `promotion`, or any)
    /// are usable at `at` (see [`crate::CouponFact::available`]).
    Coupons {
        promotion: Option<String>,
        at: DateTime<Utc>,
    },
    /// Per profile with points, the points it can spend at `at`
    /// ([`crate::points_available`]).
    Points {
        at: DateTime<Utc>,
    },
}

/// A store's answer to a [`Scan`]: by profile id, or (the `Dense` kinds)
/// one entry for each position of the population decided over.
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Counts(Vec<(String, u64)>),
    /// Per position, what `Counts` says by id.
    Dense(Vec<u32>),
    /// Per position, what `Spans` says by id (in microseconds).
    DenseSpans(Vec<Option<(i64, i64)>>),
    Properties(Vec<(String, Map<String, Value>)>),
    /// (profile, first, last).
    Spans(Vec<(String, DateTime<Utc>, DateTime<Utc>)>),
    Values(Vec<(String, Value)>),
    Orders(Vec<(String, OrderFact)>),
    Ids(Vec<String>),
    /// A whole number per profile (points).
    Amounts(Vec<(String, i64)>),
}

/// The scans `condition` needs at `now`, each once.
pub fn scans(condition: &Condition, now: DateTime<Utc>) -> Vec<Scan> {
    let mut out = BTreeSet::new();
    collect(condition, now, &mut out);
    out.into_iter().collect()
}

fn collect(c: &Condition, now: DateTime<Utc>, out: &mut BTreeSet<Scan>) {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| collect(c, now, out)),
        Condition::Not(inner) => collect(inner, now, out),
        Condition::Trait(t) => {
            out.insert(Scan::Trait(t.key.clone()));
        }
        Condition::Performed(p) => {
            out.insert(performed_scan(p, now));
        }
        Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
            out.insert(Scan::EventSpan { event: t.event.clone(), until: now });
        }
        Condition::Orders(OrderFigure { within, .. }) | Condition::Bought(Bought { within, .. }) => {
            out.insert(Scan::Orders { since: within.map(|w| now - w.duration()), until: now });
        }
        Condition::Has(kind) => {
            out.insert(Scan::Identity(kind.clone()));
        }
        Condition::Tag(tag) => {
            out.insert(Scan::Tag(tag.clone()));
        }
        Condition::InSegment(id) => {
            out.insert(Scan::Segment(id.clone()));
        }
        Condition::Consent(purpose) => {
            out.insert(Scan::Consent(purpose.clone()));
        }
        Condition::Coupons(w) => {
            out.insert(Scan::Coupons { promotion: w.promotion.clone(), at: now });
        }
        Condition::Points(_) => {
            out.insert(Scan::Points { at: now });
        }
        Condition::Bucket(_) => {}
    }
}

fn performed_scan(p: &Performed, now: DateTime<Utc>) -> Scan {
    let (event, since, until) = (p.event.clone(), p.within.map(|w| now - w.duration()), now);
    if p.filters.is_empty() {
        Scan::EventCounts { event, since, until }
    } else {
        Scan::EventProperties { event, since, until }
    }
}

/// The answers to a condition's scans.
pub type Answers = HashMap<Scan, Rows>;

/// Why a batch could not be decided: a scan's answer is missing or of the
/// wrong kind (a caller's mistake, not the data's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unanswered(pub Scan);

impl std::fmt::Display for Unanswered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the scan {:?} was not answered with its kind of rows", self.0)
    }
}

/// The profiles a batch is decided over, by position.
pub trait Population {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn id(&self, position: usize) -> &str;
    /// Where a profile is, if it is one of them.
    fn position(&self, id: &str) -> Option<usize>;
}

/// A list of profile ids as a [`Population`] (positions found through a
/// map made on the first look-up).
pub struct Listed<'a> {
    ids: &'a [String],
    index: std::sync::OnceLock<HashMap<&'a str, usize>>,
}

impl<'a> Listed<'a> {
    pub fn new(ids: &'a [String]) -> Self {
        Listed { ids, index: std::sync::OnceLock::new() }
    }
}

impl Population for Listed<'_> {
    fn len(&self) -> usize {
        self.ids.len()
    }
    fn id(&self, position: usize) -> &str {
        &self.ids[position]
    }
    fn position(&self, id: &str) -> Option<usize> {
        let index = self.index.get_or_init(|| self.ids.iter().enumerate().map(|(i, p)| (p.as_str(), i)).collect());
        index.get(id).copied()
    }
}

/// Who of `profiles` is in `condition` at `now`: one flag per profile, in
/// their order. Rows about profiles not in the list are ignored.
pub fn decide(
    condition: &Condition,
    now: DateTime<Utc>,
    profiles: &[String],
    answers: &Answers,
) -> Result<Vec<bool>, Unanswered> {
    decide_over(condition, now, &Listed::new(profiles), answers)
}

/// [`decide`] over any [`Population`]: one flag per position.
pub fn decide_over(
    condition: &Condition,
    now: DateTime<Utc>,
    profiles: &dyn Population,
    answers: &Answers,
) -> Result<Vec<bool>, Unanswered> {
    Batch { now, profiles, answers }.decide(condition)
}

struct Batch<'a> {
    now: DateTime<Utc>,
    profiles: &'a dyn Population,
    answers: &'a Answers,
}

impl Batch<'_> {
    fn decide(&self, c: &Condition) -> Result<Vec<bool>, Unanswered> {
        let n = self.profiles.len();
        Ok(match c {
            Condition::All(items) => {
                let mut acc = vec![true; n];
                for item in items {
                    acc.iter_mut().zip(self.decide(item)?).for_each(|(a, b)| *a &= b);
                }
                acc
            }
            Condition::Any(items) => {
                let mut acc = vec![false; n];
                for item in items {
                    acc.iter_mut().zip(self.decide(item)?).for_each(|(a, b)| *a |= b);
                }
                acc
            }
            Condition::Not(inner) => self.decide(inner)?.into_iter().map(|b| !b).collect(),
            Condition::Trait(t) => {
                let missing = test_at(None, t.op, t.value.as_ref(), Some(self.now));
                let mut out = vec![missing; n];
                let Rows::Values(rows) = self.rows(&Scan::Trait(t.key.clone()))? else {
                    return Err(Unanswered(Scan::Trait(t.key.clone())));
                };
                for (id, value) in rows {
                    if let Some(i) = self.profiles.position(id) {
                        out[i] = test_at(Some(value), t.op, t.value.as_ref(), Some(self.now));
                    }
                }
                out
            }
            Condition::Performed(p) => {
                let counts = self.counts(p)?;
                counts.into_iter().map(|c| p.count.cmp.holds(c, p.count.n)).collect()
            }
            Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
                let scan = Scan::EventSpan { event: t.event.clone(), until: self.now };
                let since = self.now - t.within.duration();
                let first = matches!(c, Condition::FirstPerformed(_));
                let mut out = vec![false; n];
                match self.rows(&scan)? {
                    Rows::Spans(rows) => {
                        for (id, earliest, latest) in rows {
                            if let Some(i) = self.profiles.position(id) {
                                out[i] = if first { *earliest > since } else { *latest <= since };
                            }
                        }
                    }
                    Rows::DenseSpans(spans) if spans.len() == n => {
                        let since = since.timestamp_micros();
                        for (o, span) in out.iter_mut().zip(spans) {
                            *o = span.is_some_and(|(a, b)| if first { a > since } else { b <= since });
                        }
                    }
                    _ => return Err(Unanswered(scan)),
                }
                out
            }
            Condition::Orders(o) => {
                let unwindowed = OrderFigure { within: None, ..o.clone() };
                self.per_orders(
                    &Scan::Orders { since: o.within.map(|w| self.now - w.duration()), until: self.now },
                    |f| crate::orders::figure_holds(&unwindowed, f),
                )?
            }
            Condition::Bought(b) => {
                let unwindowed = Bought { within: None, ..b.clone() };
                self.per_orders(
                    &Scan::Orders { since: b.within.map(|w| self.now - w.duration()), until: self.now },
                    |f| crate::orders::bought(&unwindowed, f),
                )?
            }
            Condition::Has(kind) => self.ids(&Scan::Identity(kind.clone()))?,
            Condition::Tag(tag) => self.ids(&Scan::Tag(tag.clone()))?,
            Condition::InSegment(id) => self.ids(&Scan::Segment(id.clone()))?,
            Condition::Consent(purpose) => self.ids(&Scan::Consent(purpose.clone()))?,
            Condition::Bucket(b) => {
                (0..n).map(|i| b.cmp.holds(crate::eval::bucket(self.profiles.id(i)), b.n)).collect()
            }
            Condition::Coupons(w) => {
                let scan = Scan::Coupons { promotion: w.promotion.clone(), at: self.now };
                let Rows::Counts(rows) = self.rows(&scan)? else { return Err(Unanswered(scan)) };
                let mut held = vec![0; n];
                for (id, count) in rows {
                    if let Some(i) = self.profiles.position(id) {
                        held[i] += count;
                    }
                }
                held.into_iter().map(|h| w.count.cmp.holds(h, w.count.n)).collect()
            }
            Condition::Points(c) => {
                let scan = Scan::Points { at: self.now };
                let Rows::Amounts(rows) = self.rows(&scan)? else { return Err(Unanswered(scan)) };
                let mut points = vec![0; n];
                for (id, p) in rows {
                    if let Some(i) = self.profiles.position(id) {
                        points[i] += p;
                    }
                }
                points.into_iter().map(|p| crate::wallet::points_hold(*c, p)).collect()
            }
        })
    }

    fn rows(&self, scan: &Scan) -> Result<&Rows, Unanswered> {
        self.answers.get(scan).ok_or_else(|| Unanswered(scan.clone()))
    }

    /// How many times each profile did `p`'s event in its window, filters passed.
    fn counts(&self, p: &Performed) -> Result<Vec<u64>, Unanswered> {
        let scan = performed_scan(p, self.now);
        let mut out = vec![0; self.profiles.len()];
        match self.rows(&scan)? {
            Rows::Counts(rows) if p.filters.is_empty() => {
                for (id, count) in rows {
                    if let Some(i) = self.profiles.position(id) {
                        out[i] += count;
                    }
                }
            }
            Rows::Dense(counts) if p.filters.is_empty() && counts.len() == out.len() => {
                out.iter_mut().zip(counts).for_each(|(o, c)| *o = u64::from(*c));
            }
            Rows::Properties(rows) if !p.filters.is_empty() => {
                for (id, props) in rows {
                    let Some(i) = self.profiles.position(id) else { continue };
                    if p.filters.iter().all(|f| test_at(props.get(&f.property), f.op, f.value.as_ref(), Some(self.now)))
                    {
                        out[i] += 1;
                    }
                }
            }
            _ => return Err(Unanswered(scan)),
        }
        Ok(out)
    }

    /// `test` of each profile's orders among the rows (none for a profile without).
    fn per_orders(&self, scan: &Scan, test: impl Fn(&Facts<'_>) -> bool) -> Result<Vec<bool>, Unanswered> {
        let Rows::Orders(rows) = self.rows(scan)? else { return Err(Unanswered(scan.clone())) };
        let mut of: Vec<Vec<OrderFact>> = vec![Vec::new(); self.profiles.len()];
        for (id, order) in rows {
            if let Some(i) = self.profiles.position(id) {
                of[i].push(order.clone());
            }
        }
        let empty = Map::new();
        Ok(of
            .iter()
            .enumerate()
            .map(|(i, orders)| {
                let facts = Facts { profile_id: self.profiles.id(i), orders, ..Facts::new(&empty, &[], self.now) };
                test(&facts)
            })
            .collect())
    }

    fn ids(&self, scan: &Scan) -> Result<Vec<bool>, Unanswered> {
        let Rows::Ids(rows) = self.rows(scan)? else { return Err(Unanswered(scan.clone())) };
        let mut out = vec![false; self.profiles.len()];
        for id in rows {
            if let Some(i) = self.profiles.position(id) {
                out[i] = true;
            }
        }
        Ok(out)
    }
}
