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
use beacon_segment::EventFact;
use beacon_segment::depends::next_change;
use beacon_store::{BatchChanges, FactsWanted, KeptEvents, MemberChange, NewJob, ProcessTx, SegmentWrites, StoreError};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::{BTreeSet, HashMap};

/// The timer topic of a recheck.
pub const RECHECK: &str = "segments.recheck";

pub use super::segment_index::{Compiled, SegmentIndex};

/// What a batch changed of one profile.
#[derive(Debug, Default, Clone)]
pub struct Touch {
    /// Its events a segment counts (name, time, kept properties), one of
    /// those alike but for their time (the latest): what can move a leaf.
    pub events: Vec<EventFact>,
    /// All of them, for what the stage keeps of its events.
    pub batch: Vec<EventFact>,
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
    /// Everything (a merge).
    pub all: bool,
    /// A profile first seen: decided from what a profile with nothing is
    /// in, for the segments the rest of its touch can move.
    pub new: bool,
    /// A newcomer's trait keys and kinds of identity.
    pub keys: Vec<String>,
    pub kinds: Vec<String>,
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
    // of a profile's events alike but for their time, the latest: a leaf
    // an earlier one moves (in its window, through its filters) the latest
    // moves too (a busy profile's batch holds hundreds of the same view)
    let mut alike: HashMap<(ProfileId, &str, Option<&str>), usize> = HashMap::new();
    for e in &changes.events {
        if let Some(name) = e.name.as_ref().filter(|n| index.by_event.contains_key(*n)) {
            let profile = live(e.profile_id);
            let touch = out.entry(profile).or_default();
            match alike.entry((profile, name.as_str(), e.props.as_deref())) {
                std::collections::hash_map::Entry::Occupied(at) => {
                    let alike = &mut touch.events[*at.get()];
                    alike.at = alike.at.max(e.timestamp);
                    let fact = EventFact { at: e.timestamp, ..alike.clone() };
                    touch.batch.push(fact);
                }
                std::collections::hash_map::Entry::Vacant(place) => {
                    place.insert(touch.events.len());
                    let properties = e.props.as_deref().and_then(|p| serde_json::from_str(p).ok()).unwrap_or_default();
                    let fact = EventFact { name: name.clone(), at: e.timestamp, properties };
                    touch.batch.push(fact.clone());
                    touch.events.push(fact);
                }
            }
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
    // a merge: every segment; a profile first seen starts where a profile
    // with nothing is (one that holds without any event — "did not buy" —
    // holds for a newcomer too)
    for m in &changes.merges {
        out.entry(live(m.into)).or_default().all = true;
    }
    for c in &changes.created {
        out.entry(live(c.id)).or_default().new = true;
    }
    for s in &changes.states {
        if let Some(t) = out.get_mut(&s.id).filter(|t| t.new) {
            t.keys = s.traits.keys().cloned().collect();
        }
    }
    for l in &changes.links {
        if let Some(t) = out.get_mut(&live(l.profile)).filter(|t| t.new) {
            t.kinds.push(l.identity.kind.as_str().to_string());
        }
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
        // (`decide` checks the stamp otherwise)
        tx.keep_events_under(index.kept_stamp()).await?;
        return Ok(0);
    }
    decide(tx, index, touches(changes, index), now, tag).await
}

/// A profile to decide: whether it is new, the segments to decide, its
/// batch's events.
struct Work {
    new: bool,
    candidates: BTreeSet<usize>,
    batch: Vec<EventFact>,
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
    let mut phases = beacon_store::Phases::start("segment stage");
    let mut wanted = FactsWanted { kept: Some(index.kept_stamp), ..FactsWanted::default() };
    let mut work: Vec<(ProfileId, Work)> = touched
        .into_iter()
        .map(|(p, t)| {
            if t.all {
                // a merge: the kept events are the survivor's alone
                wanted.whole.insert(p.to_string());
            }
            let new = t.new && !t.all;
            (p, Work { new, candidates: index.candidates(&t, now), batch: t.batch })
        })
        .filter(|(_, w)| w.new || !w.candidates.is_empty() || !w.batch.is_empty())
        .collect();
    // every decision, whether or not it decides anyone: what was kept under
    // other segments is not kept up now (its events of names these do not
    // count go unrecorded), so it must not be read if those come back
    tx.keep_events_under(index.kept_stamp).await?;
    if work.is_empty() {
        return Ok(0);
    }
    work.sort_by_key(|(p, _)| *p);
    wanted.names = index.retention.names().cloned().collect();
    wanted.wallets = work.iter().flat_map(|(_, w)| &w.candidates).any(|i| {
        let n = &index.segments[*i].needs;
        n.coupons || n.points
    });
    let empty = work.iter().any(|(_, w)| w.new).then(|| index.empty(now));
    let ids: Vec<ProfileId> = work.iter().map(|(p, _)| *p).collect();
    phases.mark("plan");
    let facts = tx.segment_facts(&ids, &wanted).await?;
    phases.mark("facts");
    let mut by_id: HashMap<String, Work> = work.into_iter().map(|(p, w)| (p.to_string(), w)).collect();
    let mut writes = SegmentWrites::default();
    let mut said = Vec::new();
    for mut f in facts {
        let Some(Work { new, candidates: mut todo, batch }) = by_id.remove(&f.id) else { continue };
        // what is kept of its events, with the batch's (a history read in
        // this transaction has them already)
        let before = f.kept.then(|| f.events.clone());
        if f.kept {
            f.events.extend(batch);
        }
        f.events = index.retention.keep(std::mem::take(&mut f.events), now);
        if before.as_ref() != Some(&f.events) {
            let events = f.events.clone();
            writes.kept.push(KeptEvents { profile_id: f.id.clone(), stamp: index.kept_stamp, events });
        }
        // membership by place (the view reads the ids, for a segment naming another)
        let mut stored = vec![false; index.segments.len()];
        f.segments.iter().filter_map(|id| index.place.get(id)).for_each(|i| stored[*i] = true);
        let mut soonest: Option<DateTime<Utc>> = None;
        let mut is_in = match (&empty, new) {
            (Some(empty), true) => {
                soonest = empty.next;
                f.segments.clone_from(&empty.members);
                empty.is_in.clone()
            }
            _ => stored.clone(),
        };
        while let Some(i) = todo.pop_first() {
            let s = &index.segments[i];
            let view = f.facts(now);
            let answer = beacon_segment::matches(&s.condition, &view);
            if let Some(at) = next_change(&s.condition, &view) {
                soonest = Some(soonest.map_or(at, |t| t.min(at)));
            }
            if answer == is_in[i] {
                continue;
            }
            is_in[i] = answer;
            if answer {
                f.segments.push(s.id.clone());
            } else {
                f.segments.retain(|id| id != &s.id);
            }
            // the segments naming this one may change too (they come later in the order)
            todo.extend(index.by_segment.get(&s.id).into_iter().flatten().filter(|j| **j > i));
        }
        for (i, s) in index.segments.iter().enumerate().filter(|(i, _)| stored[*i] != is_in[*i]) {
            let entered = is_in[i];
            let event = if entered { "Segment Entered" } else { "Segment Exited" };
            let message_id = format!("segment:{}:{}:{}:{tag}", s.id, f.id, if entered { "in" } else { "out" });
            let properties = json!({"segment_id": s.id, "segment_name": s.name});
            said.push((f.id.clone(), event, properties, message_id));
            writes.changes.push(MemberChange { segment_id: s.id.clone(), profile_id: f.id.clone(), entered });
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
    phases.mark("eval");
    if !writes.is_empty() {
        tx.write_segments(&writes, now).await?;
    }
    phases.mark("write");
    phases.finish(ids.len());
    Ok(writes.changes.len())
}
