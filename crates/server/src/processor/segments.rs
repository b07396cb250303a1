//! The pipeline's segment stage: in the batch's transaction, after its
//! other changes are written, each profile the batch changed is decided
//! again for the saved segments that change can affect (an event a
//! segment's leaf is moved by — of its name, in its window, through its
//! filters —, a trait, an order, an identity, a merge; a profile first seen
//! is decided for all), from its facts as the transaction sees them. Who
//! entered and who left is written with the batch, with one outbox message
//! for them all (`profile.notify`: each `Segment Entered` / `Segment
//! Exited` event appended to the log), and a timer is set for the moment time alone could change the answer
//! (`segments.recheck`: a profile leaves "viewed in the last 7 days" on
//! day 8 without another event). A segment naming another is decided after
//! it, so a change ripples through in the same transaction.

use beacon_core::ProfileId;
use beacon_segment::depends::{EventLeaf, Needs, next_change};
use beacon_segment::{Condition, EventFact};
use beacon_store::{BatchChanges, MemberChange, NewJob, ProcessTx, SegmentWrites, Store, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// The timer topic of a recheck.
pub const RECHECK: &str = "segments.recheck";

/// A saved segment, ready to decide.
#[derive(Debug)]
pub struct Compiled {
    pub id: String,
    pub name: String,
    pub condition: Condition,
    needs: Needs,
}

/// The active saved segments, in an order where a segment comes after the
/// ones it names, indexed by what they depend on.
#[derive(Debug, Default)]
pub struct SegmentIndex {
    /// What the store said when this was loaded (count, sum of versions).
    pub stamp: (i64, i64),
    segments: Vec<Compiled>,
    /// Each event leaf of every segment, by its event's name.
    by_event: HashMap<String, Vec<(usize, EventLeaf)>>,
    by_trait: Vec<usize>,
    by_orders: Vec<usize>,
    by_identity: Vec<usize>,
    by_consent: Vec<usize>,
    by_tag: Vec<usize>,
    /// Segments reading the wallet's coupons or the points.
    by_wallet: Vec<usize>,
    /// Segments naming a segment (by the named one's id).
    by_segment: HashMap<String, Vec<usize>>,
    /// Segments whose answer time alone can change (windows, orders, events).
    timed: Vec<usize>,
}

impl SegmentIndex {
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
            if !n.events.is_empty() || n.orders || !n.traits.is_empty() || n.coupons || n.points {
                index.timed.push(i);
            }
            for named in &c.needs.segments {
                index.by_segment.entry(named.clone()).or_default().push(i);
            }
        }
        index.segments = segments;
        index
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

/// What a batch changed of one profile.
#[derive(Debug, Default, Clone)]
pub struct Touch {
    /// The events it was given (name, time, kept properties).
    pub events: Vec<EventFact>,
    pub traits: bool,
    pub orders: bool,
    pub identities: bool,
    pub consents: bool,
    /// Its tags (by hand, a sweep, a rule: outside the pipeline).
    pub tags: bool,
    /// Its wallet's coupons or its points (a checkout, an issue, points
    /// earned: outside the pipeline).
    pub wallet: bool,
    /// Saved segments it entered or left outside the pipeline (decided
    /// from scratch): the segments naming them.
    pub segments: BTreeSet<String>,
    /// Everything (a merge, a profile first seen).
    pub all: bool,
    /// Time passed (a timer): every segment time can change.
    pub timed: bool,
}

/// What `changes` changed, by the live profile it landed on (an event's
/// properties are read only if a segment counts events of its name).
pub fn touches(changes: &BatchChanges, index: &SegmentIndex) -> HashMap<ProfileId, Touch> {
    let forward: HashMap<ProfileId, ProfileId> = changes.merges.iter().map(|m| (m.from, m.into)).collect();
    let live = |mut id: ProfileId| {
        for _ in 0..forward.len() {
            match forward.get(&id) {
                Some(next) => id = *next,
                None => break,
            }
        }
        id
    };
    let mut out: HashMap<ProfileId, Touch> = HashMap::new();
    for e in &changes.events {
        if let Some(name) = e.name.as_ref().filter(|n| index.by_event.contains_key(*n)) {
            let properties = e.props.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
            let fact = EventFact { name: name.clone(), at: e.timestamp, properties };
            out.entry(live(e.profile_id)).or_default().events.push(fact);
        }
    }
    for s in changes.states.iter().filter(|s| !changes.traits_kept.contains(&s.id)) {
        out.entry(live(s.id)).or_default().traits = true;
    }
    for o in &changes.orders {
        // a checkout's order used its coupons and points before its event came
        let t = out.entry(live(o.profile_id)).or_default();
        (t.orders, t.wallet) = (true, true);
    }
    for l in &changes.links {
        out.entry(live(l.profile)).or_default().identities = true;
    }
    for c in &changes.consents {
        out.entry(live(c.profile)).or_default().consents = true;
    }
    // a merge, or a profile first seen: every segment (one that holds
    // without any event — "did not buy" — holds for a newcomer too)
    for id in changes.merges.iter().map(|m| m.into).chain(changes.created.iter().map(|c| c.id)) {
        out.entry(live(id)).or_default().all = true;
    }
    out
}

/// The stage: decides the profiles `changes` touched, in `tx`.
pub async fn stage(
    tx: &mut dyn ProcessTx,
    changes: &BatchChanges,
    index: &SegmentIndex,
    now: DateTime<Utc>,
    tag: &str,
) -> Result<usize, StoreError> {
    if index.is_empty() {
        return Ok(0);
    }
    decide(tx, index, touches(changes, index), now, tag).await
}

impl SegmentIndex {
    /// The segments a profile's touch can change (in index order): of its
    /// events, only those a segment's leaf is moved by (in its window,
    /// through its filters) make that segment a candidate.
    fn candidates(&self, t: &Touch, now: DateTime<Utc>) -> BTreeSet<usize> {
        if t.all {
            return (0..self.segments.len()).collect();
        }
        let mut out = BTreeSet::new();
        for e in &t.events {
            for (i, leaf) in self.by_event.get(&e.name).into_iter().flatten() {
                if !out.contains(i) && leaf.moved_by(e, now) {
                    out.insert(*i);
                }
            }
        }
        for (changed, list) in [
            (t.traits, &self.by_trait),
            (t.orders, &self.by_orders),
            (t.identities, &self.by_identity),
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

/// Decides `touched` profiles again for the segments their changes can
/// affect, and writes who entered and left, their messages and timers;
/// answers how many entered or left. `tag` makes the messages' keys unique
/// to this decision (the batch's last log position, a timer's due time).
pub async fn decide(
    tx: &mut dyn ProcessTx,
    index: &SegmentIndex,
    touched: HashMap<ProfileId, Touch>,
    now: DateTime<Utc>,
    tag: &str,
) -> Result<usize, StoreError> {
    let mut work: Vec<(ProfileId, BTreeSet<usize>)> =
        touched.into_iter().map(|(p, t)| (p, index.candidates(&t, now))).filter(|(_, c)| !c.is_empty()).collect();
    if work.is_empty() {
        return Ok(0);
    }
    work.sort();
    let names: BTreeSet<String> =
        work.iter().flat_map(|(_, c)| c.iter().flat_map(|i| index.segments[*i].needs.events.iter().cloned())).collect();
    let reads_wallet = |i: &usize| index.segments[*i].needs.coupons || index.segments[*i].needs.points;
    let wallets = work.iter().any(|(_, c)| c.iter().any(reads_wallet));
    let ids: Vec<ProfileId> = work.iter().map(|(p, _)| *p).collect();
    let facts = tx.segment_facts(&ids, &names.into_iter().collect::<Vec<_>>(), wallets).await?;
    let by_id: HashMap<String, BTreeSet<usize>> = work.into_iter().map(|(p, c)| (p.to_string(), c)).collect();
    let mut writes = SegmentWrites::default();
    let mut said = Vec::new();
    for mut f in facts {
        let Some(mut todo) = by_id.get(&f.id).cloned() else { continue };
        let mut soonest: Option<DateTime<Utc>> = None;
        while let Some(i) = todo.pop_first() {
            let s = &index.segments[i];
            let view = f.facts(now);
            let is_in = beacon_segment::matches(&s.condition, &view);
            if let Some(at) = next_change(&s.condition, &view) {
                soonest = Some(soonest.map_or(at, |t| t.min(at)));
            }
            let was = f.segments.iter().any(|id| id == &s.id);
            if is_in == was {
                continue;
            }
            if is_in {
                f.segments.push(s.id.clone());
            } else {
                f.segments.retain(|id| id != &s.id);
            }
            // the segments naming this one may change too (they come later in the order)
            todo.extend(index.by_segment.get(&s.id).into_iter().flatten().filter(|j| **j > i));
            let event = if is_in { "Segment Entered" } else { "Segment Exited" };
            let message_id = format!("segment:{}:{}:{}:{tag}", s.id, f.id, if is_in { "in" } else { "out" });
            let properties = json!({"segment_id": s.id, "segment_name": s.name});
            said.push((f.id.clone(), event, properties, message_id));
            writes.changes.push(MemberChange { segment_id: s.id.clone(), profile_id: f.id.clone(), entered: is_in });
        }
        // one timer a profile: a sooner one already set stays (the store keeps the sooner)
        if let Some(at) = soonest {
            writes.timers.push(NewJob {
                key: format!("segments:{}", f.id),
                topic: RECHECK.into(),
                payload: json!({"profile_id": f.id}),
                due_at: at,
            });
        }
    }
    if let Some((_, _, _, first)) = said.first() {
        // one outbox message for the decision's events
        writes.outbox.push(crate::app::notify::jobs(format!("changes:{first}"), said, now));
    }
    if !writes.is_empty() {
        tx.write_segments(&writes, now).await?;
    }
    Ok(writes.changes.len())
}
