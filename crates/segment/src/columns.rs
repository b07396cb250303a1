//! `track` events held in memory in columns, for the batch evaluator's
//! event scans over every profile at once: per event name, the times and
//! the profiles (12 bytes an event), sorted by time, so a window is two
//! binary searches and a count is one pass over the window's rows into a
//! dense array indexed by profile.
//!
//! Profiles are numbered in the order they are first seen (the positions
//! of a [`Population`]); a merge makes the merged profile's events count
//! for the survivor's number, and a merged or removed profile is no longer
//! live. Whoever feeds it must give it every change of the store it
//! mirrors (the server keeps one where it is the store's only writer).

use crate::batch::{Population, Rows, Scan};
use std::collections::HashMap;
use std::sync::Arc;

/// Unsorted rows a column keeps at the end before sorting them in: at
/// least this many, or an eighth of the column.
const TAIL: usize = 4096;

/// One event name's rows: times and profile numbers, `sorted` of them in
/// time order at the front.
#[derive(Debug, Default, Clone)]
struct Column {
    at: Vec<i64>,
    who: Vec<u32>,
    sorted: usize,
}

impl Column {
    fn push(&mut self, at: i64, who: u32) {
        let in_order = self.sorted == self.at.len() && self.at.last().is_none_or(|&last| last <= at);
        self.at.push(at);
        self.who.push(who);
        if in_order {
            self.sorted += 1;
        } else if self.at.len() - self.sorted > TAIL.max(self.sorted / 8) {
            self.sort();
        }
    }

    /// Sorts the tail and merges it with the sorted front.
    fn sort(&mut self) {
        let mut tail: Vec<(i64, u32)> =
            self.at[self.sorted..].iter().copied().zip(self.who[self.sorted..].iter().copied()).collect();
        tail.sort_unstable();
        let (mut at, mut who) = (Vec::with_capacity(self.at.len()), Vec::with_capacity(self.at.len()));
        let (mut i, mut j) = (0, 0);
        while i < self.sorted || j < tail.len() {
            if j == tail.len() || (i < self.sorted && self.at[i] <= tail[j].0) {
                at.push(self.at[i]);
                who.push(self.who[i]);
                i += 1;
            } else {
                at.push(tail[j].0);
                who.push(tail[j].1);
                j += 1;
            }
        }
        self.sorted = at.len();
        (self.at, self.who) = (at, who);
    }

    /// Each row with `since < at <= until` (every row up to `until` without `since`).
    fn each(&self, since: Option<i64>, until: i64, mut f: impl FnMut(i64, u32)) {
        let front = &self.at[..self.sorted];
        let lo = since.map_or(0, |s| front.partition_point(|&t| t <= s));
        let hi = front.partition_point(|&t| t <= until);
        for i in lo..hi.max(lo) {
            f(self.at[i], self.who[i]);
        }
        for i in self.sorted..self.at.len() {
            let t = self.at[i];
            if since.is_none_or(|s| t > s) && t <= until {
                f(t, self.who[i]);
            }
        }
    }
}

/// The events of a store's profiles, by name, in columns.
#[derive(Debug, Default, Clone)]
pub struct EventColumns {
    ids: Vec<Arc<str>>,
    number: HashMap<Arc<str>, u32>,
    /// Whose events a profile's count as: itself, or the live end of the
    /// merges it went into.
    root: Vec<u32>,
    /// The profiles merged into a root (not itself).
    merged: HashMap<u32, Vec<u32>>,
    /// Neither merged away nor removed.
    alive: Vec<bool>,
    columns: HashMap<String, Column>,
    events: u64,
}

impl EventColumns {
    pub fn new() -> Self {
        Self::default()
    }

    /// A profile's number, numbering it (not live) when new.
    fn intern(&mut self, id: &str) -> u32 {
        if let Some(&n) = self.number.get(id) {
            return n;
        }
        let n = u32::try_from(self.ids.len()).expect("fewer than 2^32 profiles");
        let id: Arc<str> = Arc::from(id);
        self.ids.push(id.clone());
        self.number.insert(id, n);
        self.root.push(n);
        self.alive.push(false);
        n
    }

    /// A live profile (again, unless it was merged away).
    pub fn add_profile(&mut self, id: &str) {
        let n = self.intern(id) as usize;
        if self.root[n] as usize == n {
            self.alive[n] = true;
        }
    }

    /// An event `name` of `profile` at `at` (microseconds since the epoch).
    pub fn add_event(&mut self, profile: &str, name: &str, at: i64) {
        let who = self.intern(profile);
        match self.columns.get_mut(name) {
            Some(column) => column.push(at, who),
            None => self.columns.entry(name.to_string()).or_default().push(at, who),
        }
        self.events += 1;
    }

    /// `from` was merged into `into`: its events (and those merged into it
    /// before) count as `into`'s from now on, and it is no longer live.
    pub fn merge(&mut self, from: &str, into: &str) {
        let (f, i) = (self.intern(from), self.intern(into));
        let (f_root, i_root) = (self.root[f as usize], self.root[i as usize]);
        if f_root == i_root {
            return;
        }
        let mut moved = self.merged.remove(&f_root).unwrap_or_default();
        moved.push(f_root);
        for &m in &moved {
            self.root[m as usize] = i_root;
            self.alive[m as usize] = false;
        }
        self.merged.entry(i_root).or_default().extend(moved);
    }

    /// `id` is gone (erased): neither it nor anything merged into it is live.
    pub fn remove(&mut self, id: &str) {
        if let Some(&n) = self.number.get(id) {
            let root = self.root[n as usize] as usize;
            self.alive[root] = false;
        }
    }

    /// Events held in all.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Whether the profile at `position` is live (not merged away or removed).
    pub fn is_live(&self, position: usize) -> bool {
        self.alive.get(position).copied().unwrap_or(false)
    }

    /// How many live profiles there are.
    pub fn live(&self) -> usize {
        self.alive.iter().filter(|a| **a).count()
    }

    /// Per profile number, how many `event`s it did at a time after `since`
    /// (if any) up to `until` (merged profiles' counted in their survivor's).
    pub fn counts(&self, event: &str, since: Option<i64>, until: i64) -> Vec<u32> {
        let mut out = vec![0u32; self.ids.len()];
        if let Some(column) = self.columns.get(event) {
            column.each(since, until, |_, who| out[self.root[who as usize] as usize] += 1);
        }
        out
    }

    /// Per profile number, the first and the last time it did `event` up to `until`.
    pub fn spans(&self, event: &str, until: i64) -> Vec<Option<(i64, i64)>> {
        let mut out: Vec<Option<(i64, i64)>> = vec![None; self.ids.len()];
        if let Some(column) = self.columns.get(event) {
            column.each(None, until, |at, who| {
                let span = &mut out[self.root[who as usize] as usize];
                *span = Some(span.map_or((at, at), |(a, b)| (a.min(at), b.max(at))));
            });
        }
        out
    }

    /// Whether the columns answer `scan` (an event's counts or span).
    pub fn answers(scan: &Scan) -> bool {
        matches!(scan, Scan::EventCounts { .. } | Scan::EventSpan { .. })
    }

    /// The rows of `scan` if it is one the columns answer (an event's
    /// counts or span), by position.
    pub fn answer(&self, scan: &Scan) -> Option<Rows> {
        match scan {
            Scan::EventCounts { event, since, until } => {
                let since = since.map(|s| s.timestamp_micros());
                Some(Rows::Dense(self.counts(event, since, until.timestamp_micros())))
            }
            Scan::EventSpan { event, until } => Some(Rows::DenseSpans(self.spans(event, until.timestamp_micros()))),
            _ => None,
        }
    }
}

impl Population for EventColumns {
    fn len(&self) -> usize {
        self.ids.len()
    }

    fn id(&self, position: usize) -> &str {
        &self.ids[position]
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.number.get(id).map(|&n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_rows_are_sorted_in_and_windows_hold() {
        let mut c = EventColumns::new();
        c.add_profile("a");
        c.add_profile("b");
        // more than a tail of rows in falling time: sorted in on the way
        for t in (0..10_000).rev() {
            c.add_event(if t % 3 == 0 { "a" } else { "b" }, "View", t);
        }
        let column = &c.columns["View"];
        assert!(column.sorted > 0, "the tail was sorted in");
        assert!(column.at[..column.sorted].windows(2).all(|w| w[0] <= w[1]));
        let counts = c.counts("View", Some(99), 199);
        let a = (100..200).filter(|t| t % 3 == 0).count() as u32;
        assert_eq!(counts, vec![a, 100 - a]);
        assert_eq!(c.spans("View", 5_000)[0], Some((0, 4_998)));
        assert_eq!(c.counts("Other", None, 10), vec![0, 0]);
    }

    #[test]
    fn merges_move_counts_and_end_the_merged_profile() {
        let mut c = EventColumns::new();
        for p in ["device", "person", "other"] {
            c.add_profile(p);
        }
        c.add_event("device", "View", 1);
        c.add_event("person", "View", 2);
        c.add_event("other", "View", 3);
        c.merge("device", "person");
        assert_eq!(c.counts("View", None, 10), vec![0, 2, 1]);
        // a chain: the person into another, the device's events follow
        c.merge("person", "other");
        assert_eq!(c.counts("View", None, 10), vec![0, 0, 3]);
        assert_eq!(c.spans("View", 10)[2], Some((1, 3)));
        assert_eq!((0..3).map(|i| c.is_live(i)).collect::<Vec<_>>(), [false, false, true]);
        c.add_profile("device");
        assert!(!c.is_live(0), "a merged profile stays merged");
        c.remove("other");
        assert_eq!(c.live(), 0);
    }
}
