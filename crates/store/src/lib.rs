//! Beacon's storage ports and their two adapters: the embedded default
//! (SQLite files in a data directory) and PostgreSQL. Both are one SQL
//! implementation over sqlx's `Any` driver, with the few dialect differences
//! spelled out where they occur; one conformance suite (`tests/`) runs against
//! both.
//!
//! Traits take and return domain types and [`StoreError`]; no sqlx type leaves
//! this crate. Business rules (identity resolution, trait merging) are not
//! here: the processor calls the pure core and tells the store what to write.

mod activity;
mod batch_changes;
mod checkout_record;
mod chunk;
mod erasure;
mod imports;
mod jobs;
mod loyalty;
mod pii;
mod pii_ring;
mod pii_text;
mod promotions;
mod segments;
mod sql;
pub mod tags;
mod teams;
mod timing;
mod types;
mod users;

pub use activity::Activity;
pub use batch_changes::*;
pub use checkout_record::*;
pub use chunk::{MAX_CHUNK_RECORDS, chunk_of, record_seq};
pub use erasure::Erasure;
pub use imports::*;
pub use jobs::*;
pub use loyalty::*;
pub use pii::{DecryptError, PiiCipher, PiiKeys, SealError};
pub use promotions::*;
pub use segments::*;
pub use sql::{EMBEDDED_FILES, KEY_REFRESH, SqlStore, StoreOptions, Synchronous, backup_embedded};
pub use tags::{InterestSign, NewTag, ProfileTag, TagCount, TagRule, TagStore};
pub use teams::*;
pub use timing::Phases;
pub use types::*;
pub use users::*;

use async_trait::async_trait;
use beacon_core::{Identity, ProfileId};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// A storage failure, in domain terms.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Backend(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl From<StoreError> for beacon_core::Error {
    /// What a caller may be told: not found and conflicts as they are, an
    /// unavailable database as `unavailable` (retry), anything else as an
    /// internal error whose cause goes to the log only.
    fn from(e: StoreError) -> Self {
        use beacon_core::ErrorCode;
        match e {
            StoreError::NotFound => beacon_core::Error::new(ErrorCode::NotFound, "not found"),
            StoreError::Conflict(m) => beacon_core::Error::new(ErrorCode::Conflict, m),
            StoreError::Unavailable(m) => {
                tracing::warn!("store unavailable: {m}");
                beacon_core::Error::new(ErrorCode::Unavailable, "the database is unavailable; retry later")
            }
            other => internal_error(other),
        }
    }
}

/// An `internal` error for a cause the caller must not see: the cause is
/// logged under a fresh id, and the message names only that id.
pub fn internal_error(cause: impl std::fmt::Display) -> beacon_core::Error {
    let id = uuid::Uuid::new_v4();
    tracing::error!(error_id = %id, "internal error: {cause}");
    beacon_core::Error::new(beacon_core::ErrorCode::Internal, format!("internal error (id {id}); see the server log"))
}

/// The durable, ordered event log.
#[async_trait]
pub trait EventLog: Send + Sync {
    /// Writes records in one transaction. They are durable, and seen by
    /// [`read`](Self::read), once a [`sync`](Self::sync) that started after
    /// this call returned has returned (on some backends at once).
    async fn append(&self, records: &[NewLogRecord]) -> Result<()>;
    /// Makes every append that returned before this call durable and
    /// readable. One sync covers any number of appends, so a writer can
    /// append the next group while the last one is being synced.
    async fn sync(&self) -> Result<()>;
    /// Durable records with `seq > after`, oldest first.
    async fn read(&self, after: i64, limit: u32) -> Result<Vec<LogRecord>>;
    /// The highest sequence number committed, synced or not (0 if empty):
    /// once a processor's offset reaches it, everything accepted so far has
    /// been processed.
    async fn head(&self) -> Result<i64>;
    /// Overwrites the payloads of the records at `seqs` (an erased person's
    /// events) with `{"erased":true}`, keeping every record's place;
    /// answers how many it overwrote (none twice).
    async fn erase(&self, seqs: &[i64]) -> Result<usize>;
    /// One chunk body as this log stores it (personal data sealed, the
    /// records compressed together), for a log kept elsewhere (the bus)
    /// whose chunks are [`ProcessTx::archive`]d here once processed.
    fn encode_chunk(&self, records: &[&NewLogRecord]) -> Result<Vec<u8>>;
    /// The records of a chunk body made by [`encode_chunk`](Self::encode_chunk)
    /// as chunk number `chunk`, personal data opened.
    fn decode_chunk(&self, chunk: i64, body: &[u8]) -> Result<Vec<LogRecord>>;
}

/// The store: one trait per capability, reached through its accessor, and
/// the processor's transaction and offsets.
#[async_trait]
pub trait Store: Send + Sync {
    fn log(&self) -> &dyn EventLog;
    /// Profiles, identities and the timeline.
    fn profiles(&self) -> &dyn ProfileStore;
    /// Orders, after-sales and reviews as the processor recorded them.
    fn orders(&self) -> &dyn OrderStore;
    /// The product catalog.
    fn catalog(&self) -> &dyn CatalogStore;
    /// API keys.
    fn keys(&self) -> &dyn KeyStore;
    /// The audit log.
    fn audit(&self) -> &dyn AuditStore;
    /// Promotions, limit counters and checkouts.
    fn promotions(&self) -> &dyn PromotionStore;
    /// The points program and points lots.
    fn loyalty(&self) -> &dyn LoyaltyStore;
    /// The outbox, timers and leases.
    fn jobs(&self) -> &dyn JobStore;
    /// Console users and their sessions.
    fn users(&self) -> &dyn UserStore;
    /// Uploaded imports and their rejected lines.
    fn imports(&self) -> &dyn ImportStore;
    /// Saved segments and their members.
    fn segments(&self) -> &dyn SegmentStore;
    /// What segments are decided from.
    fn segment_facts(&self) -> &dyn SegmentFacts;
    /// Tags on profiles, tag rules and the signals of computed tags.
    fn tags(&self) -> &dyn TagStore;
    /// How an identity is named in stored keys (limit counters): personal
    /// data (email, phone) by its keyed lookup hash, never in the clear.
    fn identity_key(&self, identity: &Identity) -> String;
    /// The key that dedupes an event of `source_id` with `message_id`.
    fn dedupe_key(&self, source_id: &str, message_id: &str) -> DedupeKey;
    /// Opens a state's traits if they are still sealed as read
    /// ([`ProfileState::sealed_traits`]); no I/O.
    fn open_traits(&self, state: &mut ProfileState) -> Result<()>;
    /// Starts a processor transaction; on PostgreSQL its `offset()` locks the
    /// processor's offset row so only one processor advances it at a time.
    async fn begin_processing(&self, processor: &str) -> Result<Box<dyn ProcessTx>>;
    /// A reader for a processor's bulk reads outside its write transaction
    /// (the next batch is read and decided while the current one commits).
    async fn process_reader(&self) -> Result<Box<dyn ProcessRead>>;
    /// How far a processor has consumed the log (0 before it starts).
    async fn processed_offset(&self, processor: &str) -> Result<i64>;
    /// Liveness of the database connection.
    async fn ping(&self) -> Result<()>;
    /// Where this database's event log lives, if not in its own log table
    /// (`nats:<stream>`): set once, by the first node that appends to a bus.
    async fn log_home(&self) -> Result<Option<String>>;
    /// Records `home` as where the event log lives, unless one is recorded
    /// already; answers the one recorded.
    async fn claim_log_home(&self, home: &str) -> Result<String>;
}

/// Profiles, identities and the timeline.
#[async_trait]
pub trait ProfileStore: Send + Sync {
    /// Live profiles holding `identity` (several if it is shared).
    async fn find_profiles(&self, identity: &Identity) -> Result<Vec<Profile>>;
    /// A profile by id; an id merged away resolves to its survivor.
    async fn get_profile(&self, id: ProfileId) -> Result<Option<Profile>>;
    async fn list_profiles(&self, query: &ProfileQuery) -> Result<Page<Profile>>;
    /// Newest first.
    async fn profile_events(&self, id: ProfileId, page: &PageRequest) -> Result<Page<StoredEvent>>;
    /// Every processed event in log order, after `seq` (for exports).
    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>>;
    async fn overview(&self) -> Result<Overview>;
}

/// Orders, after-sales and reviews.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Orders and net revenue per day from `from` to `to` (inclusive), days
    /// starting at midnight `utc_offset_seconds` east of UTC. Days without
    /// orders are left out.
    /// Visitors and buyers per day from `from` to `to` (inclusive), days
    /// starting at midnight `utc_offset_seconds` east of UTC, and over the
    /// whole range.
    async fn activity(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        utc_offset_seconds: i32,
    ) -> Result<Activity>;
    async fn daily_figures(
        &self,
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
        utc_offset_seconds: i32,
    ) -> Result<Vec<DayFigures>>;
    async fn get_order(&self, order_id: &str) -> Result<Option<Order>>;
    /// Each buyer's orders placed before `before` and not cancelled: how
    /// many, their net spend in `currency` (minor units) and the last
    /// one's time (for RFM). Orders of erased people are left out.
    async fn customer_figures(&self, before: DateTime<Utc>, currency: &str) -> Result<Vec<CustomerFigures>>;
    async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order>>;
    /// Refunds and cancellations of an order, oldest first.
    async fn after_sales(&self, order_id: &str) -> Result<Vec<AfterSale>>;
    async fn list_reviews(&self, of: &ReviewsOf, page: &PageRequest) -> Result<Page<StoredReview>>;
}

/// The product catalog.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Creates or updates products, each with an audit entry of what
    /// changed (before → after), all in one transaction.
    async fn save_products(&self, products: &[Product], actor: &str, at: DateTime<Utc>) -> Result<Vec<Saved>>;
    async fn get_product(&self, product_id: &str) -> Result<Option<StoredProduct>>;
    /// Changes with every catalog change (for caches of products).
    async fn catalog_stamp(&self) -> Result<String>;
    /// The products with these ids or SKUs (in no particular order).
    async fn get_products(&self, ids_or_skus: &[String]) -> Result<Vec<StoredProduct>>;
    async fn list_products(&self, query: &ProductQuery) -> Result<Page<StoredProduct>>;
    /// Deletes a product (audited); false if there was none.
    async fn delete_product(&self, product_id: &str, actor: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Every category path in use, with its number of products.
    async fn categories(&self) -> Result<Vec<(Vec<String>, i64)>>;
    /// Events about a product (by its id or SKU), newest first.
    async fn product_events(&self, product: &Product, page: &PageRequest) -> Result<Page<StoredEvent>>;
}

/// API keys (stored by hash).
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Stores a new key and its `key.create` audit entry (by `actor`) in one
    /// transaction; `Conflict` if the id or hash is taken.
    async fn insert_key(&self, key: &ApiKey, actor: &str) -> Result<()>;
    async fn find_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>>;
    async fn list_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes a key (the first revocation's time stays) and writes its
    /// `key.revoke` audit entry, before and after, in one transaction.
    async fn revoke_key(&self, id: &str, at: DateTime<Utc>, actor: &str) -> Result<ApiKey>;
    async fn count_keys(&self) -> Result<i64>;
}

/// The audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn append_audit(&self, entry: &NewAuditEntry) -> Result<()>;
    /// Newest first; only entries about `target` (`product:tea-1`) if given.
    async fn list_audit(&self, target: Option<&str>, page: &PageRequest) -> Result<Page<AuditEntry>>;
}

/// A processor's bulk reads outside its transaction: what the next batch
/// needs, read while the current batch commits.
#[async_trait]
pub trait ProcessRead: Send {
    /// How far `processor` has consumed the log, as committed.
    async fn offset(&mut self, processor: &str) -> Result<i64>;
    /// Which of these events ([`Store::dedupe_key`]) were processed already.
    async fn seen(&mut self, keys: &[DedupeKey]) -> Result<HashSet<DedupeKey>>;
    /// The live profiles holding each of these identities.
    async fn holders(&mut self, identities: &[Identity]) -> Result<Vec<(Identity, ProfileId)>>;
    /// State and identities of these live profiles (missing and merged ids are skipped).
    async fn load(&mut self, ids: &[ProfileId]) -> Result<Vec<(ProfileState, Vec<Identity>)>>;
    /// These orders as stored (missing ids are skipped).
    async fn orders(&mut self, ids: &[String]) -> Result<Vec<Order>>;
}

/// One processor transaction: everything it writes commits together with the
/// new offset, so a crash replays the batch instead of losing or doubling it.
/// The processor reads what a batch needs in bulk, decides in memory, and
/// writes the batch's changes in one go; the same reads as [`ProcessRead`]
/// are here inside the transaction.
#[async_trait]
pub trait ProcessTx: Send {
    async fn offset(&mut self) -> Result<i64>;
    async fn set_offset(&mut self, seq: i64) -> Result<()>;
    /// Which of these events ([`Store::dedupe_key`]) were processed already;
    /// the others are recorded as processed, in this transaction (a key
    /// given twice is recorded once and answered as new).
    async fn claim(&mut self, keys: &[DedupeKey]) -> Result<HashSet<DedupeKey>>;
    /// The live profiles holding each of these identities.
    async fn holders(&mut self, identities: &[Identity]) -> Result<Vec<(Identity, ProfileId)>>;
    /// State and identities of these live profiles (missing and merged ids are skipped).
    async fn load(&mut self, ids: &[ProfileId]) -> Result<Vec<(ProfileState, Vec<Identity>)>>;
    /// These orders as stored (missing ids are skipped).
    async fn orders(&mut self, ids: &[String]) -> Result<Vec<Order>>;
    /// Writes a batch's changes: new profiles, merges (in order), identity
    /// links, events (whose dedupe keys `claim` records), the final state of every touched profile and order,
    /// after-sales records and reviews.
    async fn apply(&mut self, changes: &BatchChanges) -> Result<()>;
    /// Keeps chunks a processor read from the bus in the log, so timelines
    /// read their bodies here: `(chunk number, records, body)` as
    /// [`EventLog::encode_chunk`] made it. A chunk kept before stays as it is.
    async fn archive(&mut self, chunks: &[(i64, usize, Vec<u8>)]) -> Result<()>;
    /// Erases live profile `id` and the profiles merged into it: profile
    /// rows, identities, events, reviews and merges go; their orders and
    /// refunds stay, owned by nobody (the nil id). `None` if no live profile
    /// has that id. The caller overwrites the events' bodies in the log
    /// ([`EventLog::erase`]) and the shop's records
    /// ([`PromotionStore::erase_shopper`]) before committing.
    async fn erase(&mut self, id: ProfileId) -> Result<Option<Erasure>>;
    /// Takes this transaction's locks on `keys` of `class`, in ascending
    /// order (`class`, then key: every taker uses that one order, so two
    /// never deadlock); held until the transaction ends. Processors of
    /// different partitions lock what they are about to read and write
    /// (identities, then profiles). On the embedded store, whose writer is
    /// one, there is nothing to lock.
    async fn lock(&mut self, class: i32, keys: &[i32]) -> Result<()>;
    /// The segment facts of these live profiles as this transaction sees
    /// them (its own writes included; [`SegmentFacts::facts`]).
    async fn segment_facts(&mut self, ids: &[ProfileId], wanted: &FactsWanted) -> Result<Vec<ProfileFacts>>;
    /// Makes `stamp` the one the segment stage's kept events are of: if
    /// another was, every kept event is forgotten (read again from the
    /// history when next needed).
    async fn keep_events_under(&mut self, stamp: i64) -> Result<()>;
    /// Profiles entering and leaving saved segments at `at` (the members,
    /// each segment's count and its hour in the count history), with
    /// their outbox messages and timers.
    async fn write_segments(&mut self, writes: &SegmentWrites, at: DateTime<Utc>) -> Result<()>;
    async fn commit(self: Box<Self>) -> Result<()>;
}
