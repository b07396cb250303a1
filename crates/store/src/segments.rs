//! What segments are decided from: the batch evaluator's scans (one SQL
//! query per leaf, per backend) and one profile's facts for the evaluator
//! that decides a profile at a time (`beacon_segment`).

use async_trait::async_trait;
use beacon_core::ProfileId;
use beacon_segment::batch::{Rows, Scan};
use beacon_segment::{EventFact, OrderFact};
use serde_json::{Map, Value};

use crate::{Page, PageRequest, Result};
use chrono::{DateTime, Utc};

/// Everything known of one profile that a segment can ask about.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileFacts {
    pub id: String,
    /// Opened.
    pub traits: Map<String, Value>,
    /// Track events, oldest first, with their kept properties.
    pub events: Vec<EventFact>,
    /// Orders not cancelled, oldest first.
    pub orders: Vec<OrderFact>,
    /// Kinds of identity held (each once).
    pub identities: Vec<String>,
    pub tags: Vec<String>,
    /// Ids of the saved segments it is in.
    pub segments: Vec<String>,
    /// Purposes consented to (and not withdrawn).
    pub consents: Vec<String>,
    /// The coupons of its wallet (its merged profiles' too).
    pub coupons: Vec<beacon_segment::CouponFact>,
    /// Its lots of points (its merged profiles' too).
    pub points: Vec<beacon_segment::PointsLot>,
    /// `events` are those the segment stage kept at its last decision
    /// (not the whole history, nor what the transaction wrote since).
    pub kept: bool,
}

/// What [`crate::ProcessTx::segment_facts`] reads.
#[derive(Debug, Clone, Default)]
pub struct FactsWanted {
    /// Track events of these names.
    pub names: Vec<String>,
    /// The wallet's coupons and points.
    pub wallets: bool,
    /// Events the stage kept under this stamp stand for a profile's history
    /// (but not for the profiles in `whole`).
    pub kept: Option<i64>,
    pub whole: std::collections::HashSet<String>,
}

/// The events the segment stage keeps of a profile (`beacon_segment::keep`).
#[derive(Debug, Clone, PartialEq)]
pub struct KeptEvents {
    pub profile_id: String,
    pub stamp: i64,
    pub events: Vec<EventFact>,
}

impl ProfileFacts {
    /// The facts as the evaluator reads them, at `now`.
    pub fn facts(&self, now: chrono::DateTime<chrono::Utc>) -> beacon_segment::Facts<'_> {
        beacon_segment::Facts {
            profile_id: &self.id,
            orders: &self.orders,
            identities: &self.identities,
            tags: &self.tags,
            segments: &self.segments,
            consents: &self.consents,
            coupons: &self.coupons,
            points: &self.points,
            ..beacon_segment::Facts::new(&self.traits, &self.events, now)
        }
    }
}

/// A saved segment.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSegment {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The condition's JSON form.
    pub definition: Value,
    /// `active` (its members kept up to date) or `archived`.
    pub status: String,
    /// 1 when created, one more with each change of what it is.
    pub version: i64,
    /// Members when last counted.
    pub members: i64,
    /// When its members were last decided from scratch.
    pub evaluated_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a change of members did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembersChanged {
    pub entered: Vec<String>,
    pub exited: Vec<String>,
    /// Members now.
    pub members: i64,
}

/// A profile entering or leaving a saved segment.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberChange {
    pub segment_id: String,
    pub profile_id: String,
    pub entered: bool,
}

/// What deciding segments in a processor transaction writes: members in
/// and out, the messages that say so (outbox) and when to decide again
/// (timers, a key set again moves).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SegmentWrites {
    pub changes: Vec<MemberChange>,
    /// Kept events to store (replacing a profile's).
    pub kept: Vec<KeptEvents>,
    pub outbox: Vec<crate::NewJob>,
    pub timers: Vec<crate::NewJob>,
}

impl SegmentWrites {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.outbox.is_empty() && self.timers.is_empty() && self.kept.is_empty()
    }
}

/// A profile moving from one lifecycle stage to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageChange {
    pub profile_id: String,
    pub from: String,
    pub to: String,
}

/// A member of a segment and since when.
#[derive(Debug, Clone, PartialEq)]
pub struct Membership {
    pub segment_id: String,
    pub profile_id: String,
    pub since: DateTime<Utc>,
}

/// Segments: what they are decided from, and the saved ones with their members.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// Saves a new segment (version 1, no members yet), audited
    /// `segment.create`; `Conflict` if the id is taken.
    async fn create_segment(&self, segment: &StoredSegment, actor: &str) -> Result<StoredSegment>;
    /// Replaces a segment's name, description, definition and status if it
    /// is still at `version` (the version goes up by one), audited
    /// `segment.update` with before and after; `Conflict` if it moved on,
    /// `NotFound`.
    async fn update_segment(&self, segment: &StoredSegment, version: i64, actor: &str) -> Result<StoredSegment>;
    async fn get_segment(&self, id: &str) -> Result<Option<StoredSegment>>;
    /// Changes with every change of a saved segment: (count, sum of versions).
    async fn segments_stamp(&self) -> Result<(i64, i64)>;
    /// Every saved segment, by id.
    async fn all_segments(&self) -> Result<Vec<StoredSegment>>;
    /// Newest first; only of `status` if given.
    async fn list_segments(&self, status: Option<&str>, page: &PageRequest) -> Result<Page<StoredSegment>>;
    /// Makes `members` (sorted ids) the members of segment `id` decided
    /// from scratch at `at`, if it is still at `version`: who entered and
    /// who left, in one transaction with the count and its hour's history;
    /// `Conflict` if the segment changed meanwhile.
    async fn replace_members(
        &self,
        id: &str,
        version: i64,
        members: &[String],
        at: DateTime<Utc>,
    ) -> Result<MembersChanged>;
    /// A page of the members, by profile id.
    async fn segment_members(&self, id: &str, page: &PageRequest) -> Result<Page<Membership>>;
    /// The member count at the end of each hour it changed, from `since`, oldest first.
    async fn segment_history(&self, id: &str, since: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, i64)>>;
    /// The segments a profile is in.
    async fn profile_segments(&self, profile_id: &str) -> Result<Vec<Membership>>;
    /// Every stored lifecycle stage: (profile, stage).
    async fn stored_stages(&self) -> Result<Vec<(String, String)>>;
    /// Moves profiles to new stages (since `at`; `potential` removes the
    /// row) with their messages, in one transaction.
    async fn write_stages(&self, changes: &[StageChange], outbox: &[crate::NewJob], at: DateTime<Utc>) -> Result<()>;
}

/// What segments are decided from: one query per leaf for the batch
/// evaluator, and profiles' facts for the one-profile evaluator.
#[async_trait]
pub trait SegmentFacts: Send + Sync {
    /// Ids of every live profile (not merged away), in id order.
    async fn live_profiles(&self) -> Result<Vec<String>>;
    /// The rows of one leaf's scan, decided by this store's query: an
    /// event's name, kind (`track`) and window, an order's status and
    /// window, who holds what. Personal values come back opened.
    async fn scan(&self, scan: &Scan) -> Result<Rows>;
    /// The facts of these live profiles (merged or unknown ids are left
    /// out); events only of the names given.
    async fn facts(&self, ids: &[ProfileId], events: &[String]) -> Result<Vec<ProfileFacts>>;
    /// Up to `limit` `track` events with `after < seq <= upto`, in `seq`
    /// order (to load [`beacon_segment::columns::EventColumns`]).
    async fn track_events(&self, after: i64, upto: i64, limit: usize) -> Result<Vec<TrackEvent>>;
    /// Fills in the kept properties of up to `limit` `track` events
    /// processed before they were kept (data directories older than the
    /// audiences migration), from the log; answers how many events it
    /// looked at (0: nothing is left).
    async fn backfill_props(&self, limit: usize) -> Result<usize>;
}

/// A processed `track` event as segments count it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackEvent {
    pub seq: i64,
    pub profile: String,
    pub name: String,
    pub at: DateTime<Utc>,
}
