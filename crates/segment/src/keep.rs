//! What of a profile's events the real-time stage keeps between batches,
//! so that deciding a busy profile does not read its whole history.
//!
//! For a set of conditions, [`Retention`] keeps of each event name: every
//! event after `now` (it enters the windows later); of the others, the
//! `n + 1` latest of each count leaf `performed E cmp n` (through its
//! filters: `price > 100` keeps its own latest), the latest of the name
//! (`last performed before`) and the earliest (`first performed`). A leaf
//! filtering on a property's time (`within`, `upcoming`), which passes or
//! fails as the clock moves, keeps every event of its name.
//!
//! Why that is enough: the events a count leaf counts at any later time
//! are the latest ones in its window, so counting among the `n + 1`
//! latest answers `min(count, n + 1)`, which every comparison with `n`
//! reads alike; an event dropped is older than every one kept for its
//! leaf, so it is never among the latest again, whatever comes after; the
//! earliest and the latest stay where they are unless a later or earlier
//! event comes, and then it is kept. The property test
//! `kept_events_answer_as_all_do` holds the answers of kept and of all
//! events equal at later times, with more events coming.

use crate::ast::{Condition, Op, PropertyFilter};
use crate::eval::{EventFact, test_at};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// What to keep of each event name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Retention {
    names: BTreeMap<String, Keep>,
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Keep {
    /// The latest events of the name, whatever their properties.
    latest: u32,
    /// The earliest (a first time).
    earliest: bool,
    /// Every event (a filter on a property's time).
    all: bool,
    /// The latest passing each set of filters.
    filtered: Vec<(Vec<PropertyFilter>, u32)>,
}

impl Retention {
    /// What `conditions`' event leaves need.
    pub fn of<'a>(conditions: impl IntoIterator<Item = &'a Condition>) -> Retention {
        let mut r = Retention::default();
        conditions.into_iter().for_each(|c| r.gather(c));
        for keep in r.names.values_mut() {
            keep.filtered.sort_by_key(|(f, _)| serde_json::to_string(f).unwrap_or_default());
        }
        r
    }

    fn gather(&mut self, c: &Condition) {
        match c {
            Condition::All(items) | Condition::Any(items) => items.iter().for_each(|c| self.gather(c)),
            Condition::Not(inner) => self.gather(inner),
            Condition::Performed(p) => {
                let keep = self.names.entry(p.event.clone()).or_default();
                let n = p.count.n.saturating_add(1);
                if p.filters.iter().any(|f| matches!(f.op, Op::Within | Op::Upcoming)) {
                    keep.all = true;
                } else if p.filters.is_empty() {
                    keep.latest = keep.latest.max(n);
                } else {
                    match keep.filtered.iter_mut().find(|(f, _)| f == &p.filters) {
                        Some((_, kept)) => *kept = (*kept).max(n),
                        None => keep.filtered.push((p.filters.clone(), n)),
                    }
                }
            }
            Condition::FirstPerformed(t) | Condition::LastPerformedBefore(t) => {
                let keep = self.names.entry(t.event.clone()).or_default();
                keep.latest = keep.latest.max(1);
                keep.earliest = true;
            }
            _ => {}
        }
    }

    /// The event names kept (others are not read).
    pub fn names(&self) -> impl Iterator<Item = &String> {
        self.names.keys()
    }

    /// A number that changes when what is kept does (kept events of another
    /// retention are read again from the whole history).
    pub fn stamp(&self) -> i64 {
        let mut text = String::from("keep/1");
        for (name, k) in &self.names {
            let filtered = serde_json::to_string(&k.filtered).unwrap_or_default();
            text.push_str(&format!("|{name}:{}:{}:{}:{filtered}", k.latest, k.earliest, k.all));
        }
        // FNV-1a, 63 bits (a column of either store)
        let hash =
            text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        (hash >> 1) as i64
    }

    /// What to keep of `events` at `now`, oldest first.
    pub fn keep(&self, mut events: Vec<EventFact>, now: DateTime<Utc>) -> Vec<EventFact> {
        events.retain(|e| self.names.contains_key(&e.name));
        events.sort_by_key(|e| e.at);
        let mut kept = vec![false; events.len()];
        for (name, keep) in &self.names {
            // this name's events, latest first
            let past: Vec<usize> = (0..events.len()).rev().filter(|i| events[*i].name == *name).collect();
            for &i in &past {
                kept[i] |= events[i].at > now || keep.all;
            }
            let past: Vec<usize> = past.into_iter().filter(|i| events[*i].at <= now).collect();
            past.iter().take(keep.latest as usize).for_each(|i| kept[*i] = true);
            if let (true, Some(first)) = (keep.earliest, past.last()) {
                kept[*first] = true;
            }
            for (filters, n) in &keep.filtered {
                let passing = past.iter().filter(|i| {
                    let e = &events[**i];
                    filters.iter().all(|f| test_at(e.properties.get(&f.property), f.op, f.value.as_ref(), Some(now)))
                });
                passing.take(*n as usize).for_each(|i| kept[*i] = true);
            }
        }
        events.into_iter().zip(kept).filter(|(_, k)| *k).map(|(e, _)| e).collect()
    }
}
