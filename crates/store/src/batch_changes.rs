//! What a processor batch writes (`ProcessTx::apply`): new profiles,
//! merges, identity links, events, final states, orders and the jobs it
//! leaves.

use crate::{AfterSale, Order, ProcessedEvent, ProfileState, StoredReview};
use beacon_core::ProfileId;
use chrono::{DateTime, Utc};

/// A merge decided by the processor.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeChange {
    pub from: ProfileId,
    pub into: ProfileId,
    pub at: DateTime<Utc>,
    pub reason: beacon_core::resolve::MergeReason,
    pub message_id: String,
}

/// A person's word on a purpose (`context.consent.categoryPreferences`), as
/// of the event that said it: the latest word by event time is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsentChange {
    pub profile: ProfileId,
    pub purpose: String,
    pub granted: bool,
    pub at: DateTime<Utc>,
}

/// Events counted on a stored profile the batch did not read (they changed
/// nothing but its counters): added to the stored counters and times.
#[derive(Debug, Clone, PartialEq)]
pub struct Bump {
    pub id: ProfileId,
    pub events: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
}

/// An identity linked to a profile by a batch: a new link, an earlier
/// sighting of a stored one, or a server vouching for one only claimed so
/// far ([`beacon_core::trust`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub profile: ProfileId,
    pub identity: beacon_core::Identity,
    pub at: DateTime<Utc>,
    pub verified: bool,
}

/// Everything one processor batch writes. Profile ids in `links`, `events`
/// and `states` are final (after this batch's merges).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchChanges {
    /// Profiles first seen in this batch (some may be merged away in it).
    pub created: Vec<ProfileState>,
    pub merges: Vec<MergeChange>,
    pub links: Vec<Link>,
    pub events: Vec<ProcessedEvent>,
    pub consents: Vec<ConsentChange>,
    /// Final state of every live profile the batch touched.
    pub states: Vec<ProfileState>,
    /// Those of `states` stored before the batch whose traits (and their
    /// times) it did not change: only their counters are written.
    pub traits_kept: std::collections::HashSet<ProfileId>,
    /// Stored profiles the batch only counted events for, without reading
    /// them: added to what is stored (not in `states`).
    pub bumps: Vec<Bump>,
    /// Final state of every order the batch placed or changed.
    pub orders: Vec<Order>,
    pub after_sales: Vec<AfterSale>,
    pub reviews: Vec<StoredReview>,
    /// Messages for the outbox, added once per key (a replay adds none).
    pub outbox: Vec<crate::NewJob>,
    /// Timers to set (a key set again moves).
    pub timers: Vec<crate::NewJob>,
}
