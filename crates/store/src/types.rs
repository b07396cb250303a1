//! Records the store reads and writes.

use beacon_core::ProfileId;
use beacon_core::access::Role;
use beacon_core::message::MessageKind;
use beacon_core::profile::TraitTimes;
use beacon_core::trust::Source;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

pub use beacon_core::catalog::{Product, ProductStatus, ReviewStatus};
pub use beacon_core::commerce::order::{Line as OrderLine, Order, OrderFigures, OrderStatus};
pub use beacon_core::profile::{MergeRecord, Profile};

/// What dedupes an event: a keyed hash of its (source, messageId), 16
/// bytes ([`crate::Store::dedupe_key`]). Nobody without the store's key can
/// craft a messageId whose key collides with another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DedupeKey(pub u128);

impl DedupeKey {
    pub fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// From its bytes as stored (the first 16; fewer are zero-padded).
    pub fn from_bytes(bytes: &[u8]) -> Self {
        let mut b = [0u8; 16];
        let n = bytes.len().min(16);
        b[..n].copy_from_slice(&bytes[..n]);
        DedupeKey(u128::from_be_bytes(b))
    }
}

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

/// A product with its times.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredProduct {
    pub product: Product,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What saving one product did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Saved {
    Created,
    Updated,
    Unchanged,
    /// Not saved: another product holds its SKU.
    SkuTaken(String),
}

/// Filters for the product list (by product id).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProductQuery {
    pub page: PageRequest,
    /// This category and everything below it.
    pub category: Option<Vec<String>>,
    pub brand: Option<String>,
    pub tag: Option<String>,
    pub status: Option<ProductStatus>,
    /// Case-insensitive part of the name.
    pub name_contains: Option<String>,
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
    /// The product a `Product …` event is about (`product_id`, else `sku`).
    pub product: Option<String>,
    /// The properties a segment can filter on (`beacon_segment::properties::kept`).
    pub props: Option<String>,
    pub timestamp: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub payload: String,
}

pub type StoredEvent = NewEvent;

/// What a processor batch records of an event: where it sits in the log,
/// whose it is, what it is called, when it happened. (Its body, source and
/// messageId stay in the log, read from there by `seq`.)
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessedEvent {
    pub seq: i64,
    pub profile_id: ProfileId,
    pub kind: MessageKind,
    /// `event` for track, `name` for page/screen.
    pub name: Option<String>,
    /// The product a `Product …` event is about (`product_id`, else `sku`).
    pub product: Option<String>,
    /// The properties a segment can filter on (`beacon_segment::properties::kept`).
    pub props: Option<String>,
    pub timestamp: DateTime<Utc>,
}

impl From<&NewEvent> for ProcessedEvent {
    fn from(e: &NewEvent) -> Self {
        ProcessedEvent {
            seq: e.seq,
            profile_id: e.profile_id,
            kind: e.kind,
            name: e.name.clone(),
            product: e.product.clone(),
            props: e.props.clone(),
            timestamp: e.timestamp,
        }
    }
}

/// The mutable part of a profile, as the processor reads and writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileState {
    pub id: ProfileId,
    pub traits: Map<String, Value>,
    pub trait_times: TraitTimes,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub event_count: i64,
    pub orders: OrderFigures,
    /// The traits and their times as stored, read and not opened yet:
    /// `traits` and `trait_times` stay empty until [`crate::Store::open_traits`]
    /// opens them, so a batch that changes no trait of a profile never
    /// decrypts and parses them (nor writes them: they are written as read).
    pub sealed_traits: Option<SealedTraits>,
    /// Its identity links no server vouched for (read with it; not a
    /// column of the profile, and not written with it).
    pub unverified: Vec<beacon_core::Identity>,
}

/// A profile's traits (sealed JSON) and their times (JSON) as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SealedTraits {
    pub traits: String,
    pub times: String,
}

/// A refund or cancellation as it arrived, and what it did.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterSale {
    /// The log record that carried it.
    pub seq: i64,
    pub order_id: String,
    /// The order's buyer (or, for an unknown order, the sender).
    pub profile_id: ProfileId,
    pub kind: AfterSaleKind,
    /// What was refunded or taken out of the spend (0 if not applied).
    pub amount_minor: i64,
    pub currency: Option<String>,
    pub reason: Option<String>,
    /// `applied`, or why not (`beacon_core::commerce::order::NotApplied::code`).
    pub outcome: String,
    /// The lines the request named (JSON array).
    pub lines: Value,
    pub at: DateTime<Utc>,
    pub message_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterSaleKind {
    Refund,
    Cancel,
}

impl AfterSaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleKind::Refund => "refund",
            AfterSaleKind::Cancel => "cancel",
        }
    }
}

/// A product review from a `Product Reviewed` event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReview {
    pub seq: i64,
    pub review_id: Option<String>,
    pub profile_id: ProfileId,
    pub product_id: String,
    pub rating: Option<f64>,
    pub body: Option<String>,
    pub at: DateTime<Utc>,
}

/// Filters for the order list (newest first).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OrderQuery {
    pub page: PageRequest,
    pub profile: Option<ProfileId>,
    pub status: Option<OrderStatus>,
    pub placed_after: Option<DateTime<Utc>>,
    pub placed_before: Option<DateTime<Utc>>,
}

/// Reviews of one product or by one profile (newest first).
#[derive(Debug, Clone, PartialEq)]
pub enum ReviewsOf {
    Product(String),
    Profile(ProfileId),
}

/// Orders and net revenue of one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revenue {
    pub currency: String,
    pub orders: i64,
    /// Net of refunds, in minor units.
    pub net_minor: i64,
}

/// A buyer's order figures (`OrderStore::customer_figures`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerFigures {
    pub profile_id: String,
    pub orders: i64,
    pub net_minor: i64,
    pub first_placed_at: DateTime<Utc>,
    pub last_placed_at: DateTime<Utc>,
    /// The order before the last (none with one order).
    pub previous_placed_at: Option<DateTime<Utc>>,
    /// Orders that used a coupon.
    pub with_coupon: i64,
    /// Gross and refunded in the currency asked for (`net_minor` = the difference).
    pub gross_minor: i64,
    pub refunded_minor: i64,
}

/// One day of order figures (days in the time zone the caller asked for).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayFigures {
    pub day: chrono::NaiveDate,
    pub revenue: Vec<Revenue>,
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
    /// Profiles holding this tag.
    pub tag: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overview {
    pub profiles: i64,
    pub events: i64,
    /// Orders not cancelled, in every currency.
    pub orders: i64,
    /// Per currency, most orders first.
    pub revenue: Vec<Revenue>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// Ingest only, from a client (public) or server (secret) source
    /// ([`beacon_core::trust`]).
    Write(Source),
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

impl KeyKind {
    /// `{"kind": "write", "source": …}` or `{"kind": "secret", "role": …}`.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            KeyKind::Write(source) => serde_json::json!({"kind": "write", "source": source.as_str()}),
            KeyKind::Secret(role) => serde_json::json!({"kind": "secret", "role": role.as_str()}),
        }
    }
}

impl ApiKey {
    /// The key as lists and the audit log show it (never its hash).
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = self.kind.to_json();
        v["id"] = self.id.clone().into();
        v["name"] = self.name.clone().into();
        v["prefix"] = self.prefix.clone().into();
        v["created_at"] = serde_json::json!(self.created_at);
        v["revoked_at"] = serde_json::json!(self.revoked_at);
        v
    }
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
