//! What the processor knows from earlier batches, so a hot profile is not
//! read back from the store for every batch.
//!
//! Only processors write profiles and identities, so the cache stays exact as
//! long as this processor made every change since it was filled. At the start
//! of a batch the processor compares the stored offset with the one it last
//! committed: any difference (another node's processor ran, or a batch
//! failed) empties the cache. Merges empty it too (rare, and they re-point
//! many rows). When full, it is emptied rather than tracking recency.

use beacon_core::{Identity, ProfileId};
use beacon_store::ProfileState;
use foldhash::HashMap;

/// Most profiles held before the cache is emptied.
pub const CAPACITY: usize = 20_000;

#[derive(Default)]
pub struct Cache {
    /// Every live profile holding the identity (exact: filled from the store
    /// or from this processor's own committed writes).
    holders: HashMap<Identity, Vec<ProfileId>>,
    profiles: HashMap<ProfileId, (ProfileState, Vec<Identity>)>,
    committed_offset: Option<i64>,
    /// What the follow-up stage follows (not emptied with the rest: it is
    /// read from the store on its own schedule).
    pub follows: super::follow::FollowsCache,
}

impl Cache {
    pub fn clear(&mut self) {
        self.holders.clear();
        self.profiles.clear();
        self.committed_offset = None;
    }

    /// The offset this processor's last commit left, if it has one.
    pub fn committed_offset(&self) -> Option<i64> {
        self.committed_offset
    }

    /// Empties the cache unless this processor committed `offset` itself.
    pub fn check(&mut self, offset: i64) {
        if self.committed_offset != Some(offset) {
            self.clear();
        }
    }

    pub fn holders(&self, identity: &Identity) -> Option<&Vec<ProfileId>> {
        self.holders.get(identity)
    }

    pub fn profile(&self, id: &ProfileId) -> Option<&(ProfileState, Vec<Identity>)> {
        self.profiles.get(id)
    }

    /// Records a committed batch's results.
    pub fn committed(
        &mut self,
        offset: i64,
        holders: Vec<(Identity, Vec<ProfileId>)>,
        profiles: Vec<(ProfileState, Vec<Identity>)>,
    ) {
        if self.profiles.len() + profiles.len() > CAPACITY {
            self.clear();
        }
        self.holders.extend(holders);
        self.profiles.extend(profiles.into_iter().map(|(s, ids)| (s.id, (s, ids))));
        self.committed_offset = Some(offset);
    }
}
