//! Records the store reads and writes.

use beacon_core::ProfileId;
use beacon_core::access::Role;
use beacon_core::message::MessageKind;
use beacon_core::profile::TraitTimes;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use beacon_core::profile::{MergeRecord, Profile};

/// A message on its way into the log.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLogRecord {
    pub source_id: String,
    pub message_id: String,
    pub kind: MessageKind,
    pub received_at: DateTime<Utc>,
    pub timestamp: DateTime<Utc>,
    pub payload: String,
}

/// A message in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub seq: i64,
    pub record: NewLogRecord,
}

/// A processed event in a profile's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub seq: i64,
    pub profile_id: ProfileId,
    pub source_id: String,
    pub message_id: String,
    pub kind: MessageKind,
    /// `event` for track, `name` for page/screen.
    pub name: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub payload: String,
}

pub type StoredEvent = NewEvent;

/// The mutable part of a profile, as the processor reads and writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileState {
    pub id: ProfileId,
    pub traits: Map<String, Value>,
    pub trait_times: TraitTimes,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub event_count: i64,
}

/// A keyset position: (sort key, tie-breaking id).
pub type Position = (i64, String);

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageRequest {
    pub after: Option<Position>,
    pub limit: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<Position>,
}

/// Filters for the profile list.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProfileQuery {
    pub page: PageRequest,
    pub seen_after: Option<DateTime<Utc>>,
    pub seen_before: Option<DateTime<Utc>>,
    pub min_events: Option<i64>,
    /// Profiles holding a trait with this name.
    pub has_trait: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overview {
    pub profiles: i64,
    pub events: i64,
    pub orders: i64,
    /// Net revenue in minor units of the shop currency.
    pub revenue_minor: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ingest only.
    Write,
    /// Admin API, with a role.
    Secret(Role),
}

/// An API key as stored: only its hash, never the key itself.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub kind: KeyKind,
    pub hash: Vec<u8>,
    /// The first characters, to recognise a key in lists.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    /// Who: a key id, a user, or `system`.
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub entry: NewAuditEntry,
}

/// A merge decided by the processor.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeChange {
    pub from: ProfileId,
    pub into: ProfileId,
    pub at: DateTime<Utc>,
    pub reason: beacon_core::resolve::MergeReason,
    pub message_id: String,
}

/// Everything one processor batch writes. Profile ids in `links`, `events`
/// and `states` are final (after this batch's merges).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BatchChanges {
    /// Profiles first seen in this batch (some may be merged away in it).
    pub created: Vec<ProfileState>,
    pub merges: Vec<MergeChange>,
    pub links: Vec<(ProfileId, beacon_core::Identity, DateTime<Utc>)>,
    pub events: Vec<NewEvent>,
    /// Final state of every live profile the batch touched.
    pub states: Vec<ProfileState>,
}
