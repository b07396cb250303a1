//! What the processor knows from earlier batches, so a hot profile is not
//! read back from the store for every batch.
//!
//! Only processors write profiles and identities, so the cache stays exact as
//! long as this processor made every change since it was filled. A batch is
//! written only if the stored offset is still the one it was read from: any
//! difference (another node's processor ran, or a batch failed) fails the
//! write and empties the cache. Merges empty it too (rare, and they re-point
//! many rows). When full, it is emptied rather than tracking recency.
//!
//! While a batch is being written the next one is decided: the cache then
//! holds the written batch's results already, and [`InFlight`] what the
//! store does not show yet (its dedupe keys and orders).

use beacon_core::commerce::order::Order;
use beacon_core::{Identity, ProfileId};
use beacon_store::ProfileState;
use foldhash::{HashMap, HashSet};

/// Most profiles held before the cache is emptied.
pub const CAPACITY: usize = 20_000;
/// Most identities whose holders it knows before it is emptied (a batch
/// of events on profiles it need not read adds their identities only).
pub const HOLDERS_CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct Cache {
    /// Every live profile holding the identity (exact: filled from the store
    /// or from this processor's own committed writes).
    holders: HashMap<Identity, Vec<ProfileId>>,
    profiles: HashMap<ProfileId, (ProfileState, Vec<Identity>)>,
    /// Where the next batch starts: the last decided batch's end.
    expected_offset: Option<i64>,
    in_flight: Option<InFlight>,
    /// What the follow-up stage follows (not emptied with the rest: it is
    /// read from the store on its own schedule).
    pub follows: super::follow::FollowsCache,
    /// The trust of each source (kept: a key's source never changes).
    pub sources: super::trust::Sources,
    /// The saved segments (kept: reloaded when the store's stamp moves).
    pub segments: Option<std::sync::Arc<super::segments::SegmentIndex>>,
}

impl Cache {
    pub fn clear(&mut self) {
        self.holders.clear();
        self.profiles.clear();
        self.expected_offset = None;
        self.in_flight = None;
    }

    /// Where the next batch starts, if this processor knows.
    pub fn expected_offset(&self) -> Option<i64> {
        self.expected_offset
    }

    /// Empties the cache unless this processor's batches led to `offset`
    /// (the stored one); the next batch starts there.
    pub fn check(&mut self, offset: i64) {
        if self.expected_offset != Some(offset) {
            self.clear();
            self.expected_offset = Some(offset);
        }
    }

    /// The batch being written, if one is.
    pub fn in_flight(&self) -> Option<&InFlight> {
        self.in_flight.as_ref()
    }

    pub fn holders(&self, identity: &Identity) -> Option<&Vec<ProfileId>> {
        self.holders.get(identity)
    }

    pub fn profile(&self, id: &ProfileId) -> Option<&(ProfileState, Vec<Identity>)> {
        self.profiles.get(id)
    }

    /// Records a decided batch's results: what it knows exactly (`None`
    /// after a merge: the cache is emptied), and, while it is being written,
    /// what the store will show once it is.
    pub fn decided(&mut self, last: i64, known: Option<Known>, in_flight: Option<InFlight>) {
        match known {
            Some(known) => {
                if self.profiles.len() + known.profiles.len() > CAPACITY
                    || self.holders.len() + known.holders.len() > HOLDERS_CAPACITY
                {
                    self.clear();
                }
                self.holders.extend(known.holders);
                self.profiles.extend(known.profiles.into_iter().map(|(s, ids)| (s.id, (s, ids))));
            }
            None => self.clear(),
        }
        self.expected_offset = Some(last);
        self.in_flight = in_flight;
    }

    /// The batch in flight is written: the store shows it now.
    pub fn written(&mut self) {
        self.in_flight = None;
    }
}

/// What a batch being written adds that the store does not show yet.
pub struct InFlight {
    pub keys: HashSet<beacon_store::DedupeKey>,
    /// Profiles it counts events on without having read them (their
    /// stored counters change when it is written).
    pub bumped: HashSet<ProfileId>,
    pub orders: HashMap<String, Order>,
}

/// Exact knowledge a committed batch leaves behind (for the cache).
pub struct Known {
    pub holders: Vec<(Identity, Vec<ProfileId>)>,
    pub profiles: Vec<(ProfileState, Vec<Identity>)>,
}
