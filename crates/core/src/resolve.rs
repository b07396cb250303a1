//! Identity resolution: which profile an event belongs to, and which profiles
//! it proves are one person.
//!
//! The rules (also in ARCHITECTURE.md):
//! 1. Every identity an event carries is linked to the profile the event lands
//!    on. An identity may be linked to several profiles (a shared device or
//!    phone); that records the sharing, it does not merge.
//! 2. An event merges every profile it shares an identity with, unless the
//!    merge would join two different people: profiles holding values of a
//!    *unique* kind (`user_id` by default) that share none of them. Such a
//!    profile is left alone.
//! 3. `alias` merges the profiles holding `previousId` (as user id or anonymous
//!    id) into the profile of `userId` unconditionally: it is an explicit
//!    statement that they are one person.
//! 4. The survivor is, in order: the profile holding one of the event's unique
//!    identities; a profile holding any unique identity; the oldest profile
//!    (first seen, then smallest id). Candidates are visited in that order, so
//!    the outcome does not depend on the order the store returned them in.

use crate::extract::IdentityRules;
use crate::identity::{Identity, IdentityKind};
use crate::ids::ProfileId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A profile that shares at least one identity with the event.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: ProfileId,
    pub identities: Vec<Identity>,
    pub first_seen: DateTime<Utc>,
    /// Holds the alias's `previousId`: merged unconditionally.
    pub aliased: bool,
    /// Holds a link a server vouched for ([`crate::trust`]).
    pub verified: bool,
    /// Its links nobody vouched for (claimed by a client).
    pub unverified: Vec<Identity>,
}

/// Why two profiles were merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MergeReason {
    /// The event carried an identity that both profiles hold.
    SharedIdentity { identity: Identity },
    /// An `alias` call named the merged profile's id as `previousId`.
    Alias { previous_id: String },
}

/// Where the event lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Existing(ProfileId),
    New,
}

/// The decision for one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub target: Target,
    /// Profiles to fold into the target, with the reason for each.
    pub merges: Vec<(ProfileId, MergeReason)>,
    /// Identities to link to the target (the store skips ones already there).
    pub link: Vec<Identity>,
}

type UniqueValues = BTreeMap<IdentityKind, BTreeSet<String>>;

fn unique_values<'a>(ids: impl IntoIterator<Item = &'a Identity>, rules: &IdentityRules) -> UniqueValues {
    let mut out = UniqueValues::new();
    for id in ids {
        if rules.is_unique(&id.kind) {
            out.entry(id.kind.clone()).or_default().insert(id.value.clone());
        }
    }
    out
}

/// Are these two different people? Yes when, for some unique kind, both hold
/// values and share none. (A profile may hold several values of a unique kind
/// after an explicit alias; sharing one of them means the same person.)
fn conflicts(ours: &UniqueValues, theirs: &UniqueValues) -> bool {
    theirs.iter().any(|(kind, values)| {
        ours.get(kind).is_some_and(|mine| !mine.is_empty() && !values.is_empty() && mine.is_disjoint(values))
    })
}

/// Decides where an event carrying `identities` lands.
pub fn resolve(
    identities: &[Identity],
    candidates: &[Candidate],
    previous_id: Option<&str>,
    rules: &IdentityRules,
) -> Plan {
    let event_unique = unique_values(identities, rules);
    let holds_event_unique =
        |c: &Candidate| c.identities.iter().any(|i| rules.is_unique(&i.kind) && identities.contains(i));
    let mut order: Vec<&Candidate> = candidates.iter().collect();
    order.sort_by_key(|c| {
        let has_unique = c.identities.iter().any(|i| rules.is_unique(&i.kind));
        (!holds_event_unique(c), !has_unique, c.first_seen, c.id)
    });

    let mut acc = event_unique;
    let mut selected: Vec<&Candidate> = Vec::new();
    // An aliased profile that also holds the event's own unique identity is
    // the owner: it takes part (and leads) like any other.
    let joins_last = |c: &Candidate| c.aliased && !holds_event_unique(c);
    for c in order.iter().filter(|c| !joins_last(c)) {
        let theirs = unique_values(&c.identities, rules);
        if conflicts(&acc, &theirs) {
            continue;
        }
        for (kind, values) in theirs {
            acc.entry(kind).or_default().extend(values);
        }
        selected.push(c);
    }
    // Explicit aliases join last so they never steal the survivor role from
    // the profile of the new userId.
    selected.extend(order.iter().filter(|c| joins_last(c)));

    let target = selected.first().map(|c| c.id);
    let merges = selected
        .iter()
        .skip(1)
        .filter(|c| Some(c.id) != target)
        .filter_map(|c| {
            let reason = match (c.aliased, previous_id) {
                (true, Some(prev)) => MergeReason::Alias { previous_id: prev.to_string() },
                _ => MergeReason::SharedIdentity {
                    identity: identities.iter().find(|i| c.identities.contains(i)).or(identities.first())?.clone(),
                },
            };
            Some((c.id, reason))
        })
        .collect();
    Plan { target: target.map_or(Target::New, Target::Existing), merges, link: identities.to_vec() }
}

#[cfg(test)]
#[path = "resolve_tests.rs"]
mod tests;
