//! A batch's working set: the profiles its events touch, held in memory while
//! the batch is decided event by event (in log order) with the pure rules of
//! `beacon-core`, then written in one go. No I/O here.

use beacon_core::extract::{Extracted, IdentityRules};
use beacon_core::profile::{apply_traits, merge_traits};
use beacon_core::resolve::{Candidate, Target, resolve};
use beacon_core::trust::{self, Source};
use beacon_core::{Identity, IdentityKind, ProfileId};
use beacon_store::{
    BatchChanges, Bump, ConsentChange, Link, LogRecord, MergeChange, ProcessedEvent, ProfileState, StoreError,
};
use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};

pub use super::batch::Label;
pub use super::cache::Known;

struct Held {
    state: ProfileState,
    identities: Vec<Identity>,
}

#[derive(Default)]
pub struct Working {
    profiles: HashMap<ProfileId, Held>,
    /// Identity → profiles holding it (some may have been merged away since).
    index: HashMap<Identity, Vec<ProfileId>>,
    /// Merged-away id → the profile it went into (within this batch).
    forward: HashMap<ProfileId, ProfileId>,
    touched: HashSet<ProfileId>,
    /// Touched profiles whose traits may have changed: new ones, merged
    /// into, or sent traits (the others' traits are not written again).
    retraited: HashSet<ProfileId>,
    changes: BatchChanges,
    /// Events naming exactly these identities (and no previous id) went to
    /// this profile with nothing to merge or link, as resolved since the
    /// last merge or link: resolving them again would give the same (one
    /// candidate, holding them all), so it is skipped. Most events of a
    /// busy shopper are of this kind. Kept per source: a server's event
    /// may vouch for links a client's left unverified.
    settled: [HashMap<Vec<Identity>, ProfileId>; 2],
    /// Stored profiles the batch does not read ([`Self::hold_unread`]),
    /// and the events counted on them.
    unread: HashSet<ProfileId>,
    bumps: HashMap<ProfileId, Bump>,
    /// A state's traits could not be opened (a corrupt row): the batch fails.
    failed: Option<StoreError>,
}

/// Opens a held state's traits where they are still sealed as read
/// (`Store::open_traits`: decryption, no I/O).
pub type OpenTraits<'a> = &'a (dyn Fn(&mut ProfileState) -> Result<(), StoreError> + Sync);

/// Opens `state`'s traits if still sealed; the first failure is kept.
fn opened(state: &mut ProfileState, open: OpenTraits<'_>, failed: &mut Option<StoreError>) {
    if state.sealed_traits.is_some()
        && let Err(e) = open(state)
    {
        failed.get_or_insert(e);
    }
}

/// The identities a record is looked up by (its own, and an alias's previous id).
pub fn lookup_keys(found: &Extracted) -> Vec<Identity> {
    let mut keys = found.identities.clone();
    if let Some(prev) = &found.previous_id {
        for kind in previous_kinds(Source::Server) {
            keys.push(Identity { kind: kind.clone(), value: prev.clone() });
        }
    }
    keys
}

/// What an alias's previous id is looked up as: a client's names a device
/// only (a user id it names is a claim like any other).
fn previous_kinds(source: Source) -> &'static [IdentityKind] {
    match source {
        Source::Server => &[IdentityKind::UserId, IdentityKind::AnonymousId],
        Source::Client => &[IdentityKind::AnonymousId],
    }
}

fn slot(source: Source) -> usize {
    usize::from(source == Source::Server)
}

impl Working {
    /// Seeds the set with profiles loaded from the store.
    pub fn hold(&mut self, state: ProfileState, identities: Vec<Identity>) {
        for id in &identities {
            self.index.entry(id.clone()).or_default().push(state.id);
        }
        self.profiles.insert(state.id, Held { state, identities });
    }

    /// Takes note of a stored profile the batch does not read, and which of
    /// the batch's lookups it holds: every event naming one of them is
    /// [`settled_on`] it, so it only counts them ([`Self::count`]).
    pub fn hold_unread(&mut self, id: ProfileId, identities: impl IntoIterator<Item = Identity>) {
        for identity in identities {
            self.index.entry(identity).or_default().push(id);
        }
        self.unread.insert(id);
    }

    /// Whether `id` is held unread.
    pub fn unread(&self, id: &ProfileId) -> bool {
        self.unread.contains(id)
    }

    /// Counts an event settled on `target`, a profile held unread.
    pub fn count(&mut self, rec: &LogRecord, label: Label, target: ProfileId) {
        let at = rec.record.timestamp;
        let bump = self.bumps.entry(target).or_insert(Bump { id: target, events: 0, first_seen: at, last_seen: at });
        bump.events += 1;
        bump.first_seen = bump.first_seen.min(at);
        bump.last_seen = bump.last_seen.max(at);
        self.changes.events.push(ProcessedEvent {
            seq: rec.seq,
            profile_id: target,
            kind: rec.record.kind,
            name: label.name,
            product: label.product,
            props: label.props,
            timestamp: at,
        });
    }

    /// The profile `id` is now (after this batch's merges so far).
    pub fn live(&self, mut id: ProfileId) -> ProfileId {
        while let Some(next) = self.forward.get(&id) {
            id = *next;
        }
        id
    }

    fn holders_of(&self, identity: &Identity) -> Vec<ProfileId> {
        let mut out: Vec<ProfileId> = self.index.get(identity).into_iter().flatten().map(|p| self.live(*p)).collect();
        out.sort();
        out.dedup();
        out
    }

    fn candidates(&mut self, found: &Extracted, source: Source) -> Vec<Candidate> {
        let mut ids: HashMap<ProfileId, bool> = HashMap::new();
        for identity in &found.identities {
            for p in self.holders_of(identity) {
                ids.entry(p).or_insert(false);
            }
        }
        if let Some(prev) = &found.previous_id {
            for kind in previous_kinds(source) {
                for p in self.holders_of(&Identity { kind: kind.clone(), value: prev.clone() }) {
                    ids.insert(p, true);
                }
            }
        }
        if ids.keys().any(|id| self.unread.contains(id)) {
            // the batch chose wrongly which profiles it need not read
            self.failed.get_or_insert(StoreError::Backend("a profile held unread was a candidate".into()));
        }
        ids.into_iter()
            .filter_map(|(id, aliased)| {
                let held = self.profiles.get(&id)?;
                let unverified = &held.state.unverified;
                Some(Candidate {
                    id,
                    identities: held.identities.clone(),
                    first_seen: held.state.first_seen,
                    aliased,
                    verified: held.identities.iter().any(|i| !unverified.contains(i)),
                    unverified: unverified.clone(),
                })
            })
            .collect()
    }

    /// A held profile's order figures, to change (the profile is written back).
    pub fn figures(&mut self, id: ProfileId) -> Option<&mut beacon_store::OrderFigures> {
        let id = self.live(id);
        let held = self.profiles.get_mut(&id)?;
        self.touched.insert(id);
        Some(&mut held.state.orders)
    }

    /// Decides one event and records what to write; returns the profile it
    /// now belongs to.
    #[allow(clippy::too_many_arguments)]
    pub fn apply(
        &mut self,
        rec: &LogRecord,
        found: &Extracted,
        source: Source,
        label: Label,
        rules: &IdentityRules,
        open: OpenTraits<'_>,
    ) -> Option<ProfileId> {
        let r = &rec.record;
        let settled = match found.previous_id {
            None if !found.identities.is_empty() => self.settled[slot(source)].get(&found.identities).copied(),
            _ => None,
        };
        if let Some(target) = settled {
            self.record(rec, found, source, label, target, open);
            return Some(target);
        }
        let candidates = trust::admit(source, &found.identities, self.candidates(found, source));
        let plan = resolve(&found.identities, &candidates, found.previous_id.as_deref(), rules);
        let plan = trust::restrict(source, plan, &candidates);
        // (with several candidates, which leads may turn on their first sightings, which move)
        let single = candidates.len() == 1;
        let target = match plan.target {
            Target::Existing(id) => id,
            Target::New => {
                let state = ProfileState {
                    id: ProfileId(uuid::Uuid::now_v7()),
                    traits: Default::default(),
                    trait_times: Default::default(),
                    first_seen: r.timestamp,
                    last_seen: r.timestamp,
                    event_count: 0,
                    orders: Default::default(),
                    sealed_traits: None,
                    unverified: Vec::new(),
                };
                self.changes.created.push(state.clone());
                let id = state.id;
                self.profiles.insert(id, Held { state, identities: Vec::new() });
                id
            }
        };
        let merged = !plan.merges.is_empty();
        for (from, reason) in plan.merges {
            self.merge(from, target, reason, rec, open);
        }
        if matches!(plan.target, Target::New) {
            self.retraited.insert(target);
        }
        let held = self.profiles.get_mut(&target)?;
        let mut linked = false;
        let verified = source == Source::Server;
        for identity in plan.link {
            let link = if !held.identities.contains(&identity) {
                held.identities.push(identity.clone());
                if !verified {
                    held.state.unverified.push(identity.clone());
                }
                self.index.entry(identity.clone()).or_default().push(target);
                true
            } else if verified && held.state.unverified.contains(&identity) {
                // a server vouches for a link a client made
                held.state.unverified.retain(|i| *i != identity);
                true
            } else {
                false
            };
            if link {
                self.changes.links.push(Link { profile: target, identity, at: r.timestamp, verified });
                linked = true;
            }
        }
        if merged || linked {
            // who holds what has changed: every settled answer may be stale
            self.settled.iter_mut().for_each(HashMap::clear);
        } else if single && found.previous_id.is_none() && !found.identities.is_empty() {
            self.settled[slot(source)].insert(found.identities.clone(), target);
        }
        self.record(rec, found, source, label, target, open);
        Some(target)
    }

    /// The first failure of the batch's decisions, if any.
    pub fn failure(&mut self) -> Option<StoreError> {
        self.failed.take()
    }

    /// Applies an event resolved to `target`: traits, counters, the timeline.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        rec: &LogRecord,
        found: &Extracted,
        source: Source,
        label: Label,
        target: ProfileId,
        open: OpenTraits<'_>,
    ) {
        let r = &rec.record;
        let Some(held) = self.profiles.get_mut(&target) else { return };
        let s = &mut held.state;
        let traits = trust::settable(source, &found.traits);
        if !traits.is_empty() {
            opened(s, open, &mut self.failed);
            apply_traits(&mut s.traits, &mut s.trait_times, &traits, r.timestamp);
            self.retraited.insert(target);
        }
        for (purpose, granted) in &found.consents {
            let (purpose, granted, at) = (purpose.clone(), *granted, r.timestamp);
            self.changes.consents.push(ConsentChange { profile: target, purpose, granted, at });
        }
        s.event_count += 1;
        s.first_seen = s.first_seen.min(r.timestamp);
        s.last_seen = s.last_seen.max(r.timestamp);
        self.touched.insert(target);
        self.changes.events.push(ProcessedEvent {
            seq: rec.seq,
            profile_id: target,
            kind: r.kind,
            name: label.name,
            product: label.product,
            props: label.props,
            timestamp: r.timestamp,
        });
    }

    fn merge(
        &mut self,
        from: ProfileId,
        into: ProfileId,
        reason: beacon_core::resolve::MergeReason,
        rec: &LogRecord,
        open: OpenTraits<'_>,
    ) {
        let Some(mut gone) = self.profiles.remove(&from) else { return };
        opened(&mut gone.state, open, &mut self.failed);
        if let Some(held) = self.profiles.get_mut(&into) {
            let s = &mut held.state;
            opened(s, open, &mut self.failed);
            merge_traits(&mut s.traits, &mut s.trait_times, &gone.state.traits, &gone.state.trait_times);
            s.event_count += gone.state.event_count;
            s.first_seen = s.first_seen.min(gone.state.first_seen);
            s.last_seen = s.last_seen.max(gone.state.last_seen);
            s.orders.fold(&gone.state.orders);
            // a link either vouched for stays vouched for
            let claimed = |i: &Identity, s: &ProfileState| s.unverified.contains(i);
            held.state.unverified.retain(|i| !gone.identities.contains(i) || claimed(i, &gone.state));
            for identity in gone.identities {
                if !held.identities.contains(&identity) {
                    if claimed(&identity, &gone.state) {
                        held.state.unverified.push(identity.clone());
                    }
                    held.identities.push(identity);
                }
            }
        }
        self.forward.insert(from, into);
        self.touched.remove(&from);
        self.touched.insert(into);
        self.retraited.insert(into);
        self.changes.merges.push(MergeChange {
            from,
            into,
            at: rec.record.received_at,
            reason,
            message_id: rec.record.message_id.clone(),
        });
    }

    /// The batch's changes, with every profile id resolved to its survivor,
    /// and what the batch now knows exactly: the holders of each of
    /// `lookups` and every profile it held.
    pub fn finish(mut self, lookups: &[Identity]) -> (BatchChanges, Known) {
        let mut links = std::mem::take(&mut self.changes.links);
        for link in &mut links {
            link.profile = self.live(link.profile);
        }
        let mut seen = HashSet::new();
        links.retain(|l| seen.insert((l.profile, l.identity.clone(), l.verified)));
        let mut events = std::mem::take(&mut self.changes.events);
        for e in &mut events {
            e.profile_id = self.live(e.profile_id);
        }
        let mut consents = std::mem::take(&mut self.changes.consents);
        for c in &mut consents {
            c.profile = self.live(c.profile);
        }
        let states = self.touched.iter().filter_map(|id| self.profiles.get(id)).map(|h| h.state.clone()).collect();
        let traits_kept = self.touched.difference(&self.retraited).copied().collect();
        let holders = lookups.iter().map(|i| (i.clone(), self.holders_of(i))).collect();
        let profiles = self.profiles.into_values().map(|h| (h.state, h.identities)).collect();
        let bumps = self.bumps.into_values().collect();
        let changes = BatchChanges { links, events, consents, states, traits_kept, bumps, ..self.changes };
        (changes, Known { holders, profiles })
    }
}

#[cfg(test)]
#[path = "working_tests.rs"]
mod tests;
