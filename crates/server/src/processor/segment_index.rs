//! The active saved segments indexed by what can change them: the event
//! leaves by event name, the segments reading traits, orders, identities,
//! consents, tags, the wallet, a segment, the time; and what each answers
//! for a profile that has nothing yet (a newcomer is decided from there:
//! only the segments its first events, traits and identities can move,
//! and those reading its own id, are decided again).

use super::segments::Touch;
use beacon_segment::Condition;
use beacon_segment::depends::{EventLeaf, Needs};
use beacon_segment::keep::Retention;
use beacon_store::{Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A saved segment, ready to decide.
#[derive(Debug)]
pub struct Compiled {
    pub id: String,
    pub name: String,
    pub condition: Condition,
    pub(super) needs: Needs,
}

/// The active saved segments, in an order where a segment comes after the
/// ones it names, indexed by what they depend on.
#[derive(Debug, Default)]
pub struct SegmentIndex {
    /// What the store said when this was loaded (count, sum of versions).
    pub stamp: (i64, i64),
    pub(super) segments: Vec<Compiled>,
    /// Each event leaf of every segment, by its event's name.
    pub(super) by_event: HashMap<String, Vec<(usize, EventLeaf)>>,
    pub(super) by_trait: Vec<usize>,
    /// Segments reading a trait, by its key; and a kind of identity, by kind
    /// (a newcomer's keys and kinds are all it holds of these).
    by_trait_key: HashMap<String, Vec<usize>>,
    by_kind: HashMap<String, Vec<usize>>,
    pub(super) by_orders: Vec<usize>,
    pub(super) by_identity: Vec<usize>,
    pub(super) by_consent: Vec<usize>,
    pub(super) by_tag: Vec<usize>,
    /// Segments reading the wallet's coupons or the points.
    pub(super) by_wallet: Vec<usize>,
    /// Segments naming a segment (by the named one's id).
    pub(super) by_segment: HashMap<String, Vec<usize>>,
    /// Segments whose answer time alone can change (windows, orders, events).
    pub(super) timed: Vec<usize>,
    /// Segments reading the profile's own id (a bucket).
    pub(super) personal: Vec<usize>,
    /// Each segment's place, by id.
    pub(super) place: HashMap<String, usize>,
    /// What the stage keeps of a profile's events for them all, and its stamp.
    pub(super) retention: Retention,
    pub(super) kept_stamp: i64,
}

/// What the active segments answer for a profile with nothing yet.
#[derive(Debug, Default)]
pub struct Empty {
    /// The segments it is in, in index order.
    pub members: Vec<String>,
    /// Whether it is in each, by place.
    pub is_in: Vec<bool>,
    /// When time alone could change one of those answers.
    pub next: Option<DateTime<Utc>>,
}

impl SegmentIndex {
    /// The stamp of what is kept of profiles' events with no saved segment.
    pub fn kept_stamp(&self) -> i64 {
        self.kept_stamp
    }

    pub fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    pub fn len(&self) -> usize {
        self.segments.len()
    }

    /// Whether a segment names the saved segment `id`.
    pub fn is_named(&self, id: &str) -> bool {
        self.by_segment.contains_key(id)
    }

    /// Whether a segment names a tag (a value tier, a stage, a cluster).
    pub fn reads_tags(&self) -> bool {
        !self.by_tag.is_empty()
    }

    /// Whether a segment reads the wallet's coupons or the points.
    pub fn reads_wallets(&self) -> bool {
        !self.by_wallet.is_empty()
    }

    /// From the stored active segments (one whose definition does not read
    /// is left out, and logged).
    pub fn new(stamp: (i64, i64), stored: Vec<beacon_store::StoredSegment>) -> SegmentIndex {
        let mut pending: BTreeMap<String, Compiled> = BTreeMap::new();
        for s in stored.into_iter().filter(|s| s.status == "active") {
            match serde_json::from_value::<Condition>(s.definition) {
                Ok(condition) => {
                    let needs = condition.needs();
                    pending.insert(s.id.clone(), Compiled { id: s.id, name: s.name, condition, needs });
                }
                Err(e) => tracing::error!(segment = %s.id, "a stored segment does not read: {e}"),
            }
        }
        // named ones first (saving refuses cycles; one left over is decided last)
        let mut segments = Vec::with_capacity(pending.len());
        while !pending.is_empty() {
            let ready: Vec<String> = pending
                .values()
                .filter(|c| c.needs.segments.iter().all(|n| !pending.contains_key(n) || n == &c.id))
                .map(|c| c.id.clone())
                .collect();
            let take = if ready.is_empty() { vec![pending.keys().next().cloned().unwrap_or_default()] } else { ready };
            segments.extend(take.iter().filter_map(|id| pending.remove(id)));
        }
        let mut index = SegmentIndex { stamp, ..Default::default() };
        for (i, c) in segments.iter().enumerate() {
            for leaf in c.condition.event_leaves() {
                index.by_event.entry(leaf.event.clone()).or_default().push((i, leaf));
            }
            let n = &c.needs;
            for (wanted, list) in [
                (!n.traits.is_empty(), &mut index.by_trait),
                (n.orders, &mut index.by_orders),
                (n.identities, &mut index.by_identity),
                (n.consents, &mut index.by_consent),
                (n.tags, &mut index.by_tag),
                (n.coupons || n.points, &mut index.by_wallet),
            ] {
                if wanted {
                    list.push(i);
                }
            }
            if n.bucket {
                index.personal.push(i);
            }
            if !n.events.is_empty() || n.orders || !n.traits.is_empty() || n.coupons || n.points {
                index.timed.push(i);
            }
            for key in &n.traits {
                index.by_trait_key.entry(key.clone()).or_default().push(i);
            }
            for kind in kinds(&c.condition) {
                index.by_kind.entry(kind).or_default().push(i);
            }
            for named in &c.needs.segments {
                index.by_segment.entry(named.clone()).or_default().push(i);
            }
        }
        index.retention = Retention::of(segments.iter().map(|s| &s.condition));
        index.kept_stamp = index.retention.stamp();
        index.place = segments.iter().enumerate().map(|(i, s)| (s.id.clone(), i)).collect();
        index.segments = segments;
        index
    }

    /// What every segment answers, at `now`, for a profile with no trait,
    /// event, order, identity, tag, consent or coupon (one naming another
    /// decided after it, as for a profile).
    pub fn empty(&self, now: DateTime<Utc>) -> Empty {
        let facts = beacon_store::ProfileFacts::default();
        let mut out = Empty::default();
        for s in &self.segments {
            let view = beacon_segment::Facts { segments: &out.members, ..facts.facts(now) };
            if let Some(at) = beacon_segment::depends::next_change(&s.condition, &view) {
                out.next = Some(out.next.map_or(at, |t: DateTime<Utc>| t.min(at)));
            }
            let is_in = beacon_segment::matches(&s.condition, &view);
            if is_in {
                out.members.push(s.id.clone());
            }
            out.is_in.push(is_in);
        }
        out
    }

    /// The index as the store has it now: `held` again if nothing changed.
    pub async fn current(store: &dyn Store, held: Option<Arc<SegmentIndex>>) -> Result<Arc<SegmentIndex>, StoreError> {
        let stamp = store.segments().segments_stamp().await?;
        if let Some(held) = held.filter(|h| h.stamp == stamp) {
            return Ok(held);
        }
        let all = store.segments().all_segments().await?;
        Ok(Arc::new(SegmentIndex::new(stamp, all)))
    }
}

impl SegmentIndex {
    /// The segments a profile's touch can change (in index order): of its
    /// events, only those a segment's leaf is moved by (in its window,
    /// through its filters) make that segment a candidate.
    pub(super) fn candidates(&self, t: &Touch, now: DateTime<Utc>) -> BTreeSet<usize> {
        if t.all {
            return (0..self.segments.len()).collect();
        }
        let mut out: BTreeSet<usize> = if t.new { self.personal.iter().copied().collect() } else { BTreeSet::new() };
        for e in &t.events {
            for (i, leaf) in self.by_event.get(&e.name).into_iter().flatten() {
                if !out.contains(i) && leaf.moved_by(e, now) {
                    out.insert(*i);
                }
            }
        }
        if t.new {
            // all a newcomer holds is in its batch: the segments reading
            // what it holds (others answer as for a profile with nothing)
            out.extend(t.keys.iter().filter_map(|k| self.by_trait_key.get(k)).flatten());
            out.extend(t.kinds.iter().filter_map(|k| self.by_kind.get(k)).flatten());
        }
        let old = !t.new;
        for (changed, list) in [
            (t.traits && old, &self.by_trait),
            (t.orders, &self.by_orders),
            (t.identities && old, &self.by_identity),
            (t.consents, &self.by_consent),
            (t.tags, &self.by_tag),
            (t.wallet, &self.by_wallet),
        ] {
            if changed {
                out.extend(list);
            }
        }
        if t.timed {
            out.extend(&self.timed);
        }
        out.extend(t.segments.iter().filter_map(|s| self.by_segment.get(s)).flatten());
        out
    }
}

/// The kinds of identity `c` asks a profile to hold.
fn kinds(c: &Condition) -> Vec<String> {
    match c {
        Condition::All(items) | Condition::Any(items) => items.iter().flat_map(kinds).collect(),
        Condition::Not(inner) => kinds(inner),
        Condition::Has(kind) => vec![kind.clone()],
        _ => Vec::new(),
    }
}
