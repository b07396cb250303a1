//! The use cases: every flow of Beacon exists once here, as a function over
//! typed commands returning `Result<T, beacon_core::Error>` — place an
//! order, price a cart, issue or claim a coupon, resolve a profile
//! reference, create or revoke a key, append to the log… HTTP handlers
//! (`api/`), background workers (`workers/`) and the CLI call these.
//!
//! Nothing here knows HTTP: no status codes, no request or response types,
//! and nothing imports from `api/` (a test in `tests/structure.rs` reads the
//! sources to keep it so). Each use case loads what it needs from the store,
//! calls a pure engine (`beacon-core`, `beacon-pricing`) and commits.

pub mod checkout;
pub mod clock;
pub mod coupons;
pub mod dashboard;
pub mod held;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod lifecycle;
pub mod log;
pub mod notify;
pub mod privacy;
pub mod products;
pub mod profiles;
pub mod promotions;
pub mod records;
pub mod refunds;
pub mod rfm;
pub mod segments;
pub mod tags;
pub mod users;
pub mod writer;

use beacon_store::Store;
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use clock::{Clock, ManualClock, SystemClock};

/// What a use case returns.
pub type AppResult<T> = Result<T, beacon_core::Error>;

/// The use cases' context: the store, the log writer, settings, caches, the
/// clock. Cheap to clone; workers hold one without the HTTP stack.
#[derive(Clone)]
pub struct App(Arc<Context>);

pub struct Context {
    pub store: Arc<dyn Store>,
    /// Appends to the event log (group commit).
    pub writer: writer::WriterHandle,
    pub settings: crate::settings::Settings,
    pub rules: crate::processor::Rules,
    /// The promotion snapshot carts are priced with.
    pub promotions: checkout::cache::PromotionCache,
    /// Catalog products by id and SKU (`None`: not in the catalog), for pricing.
    pub catalog: checkout::lookup::TtlCache<String, Option<Arc<beacon_core::catalog::Product>>>,
    pub catalog_stamp: checkout::lookup::CatalogStamp,
    /// Buyers by profile id or identities, for previews.
    pub buyers: checkout::lookup::TtlCache<String, Option<Arc<beacon_core::profile::Profile>>>,
    /// The points program.
    pub loyalty: checkout::loyalty::ProgramCache,
    /// Commits checkouts in groups.
    pub committer: checkout::committer::Committer,
    pub clock: Arc<dyn Clock>,
    /// This process's name in leases (random, new at every start).
    pub node: String,
    /// The bus the event log is on, if it is not the store's own.
    pub bus: Option<Arc<dyn beacon_bus::Bus>>,
    /// The saved segments as last loaded (timers decide with them).
    pub segment_index: std::sync::Mutex<Option<Arc<crate::processor::segments::SegmentIndex>>>,
    /// One decision outside the pipeline at a time in this process
    /// (`segments::redecide`): they queue on the processor's lock anyway,
    /// and each waiting one would hold a connection of the pool.
    pub redeciding: tokio::sync::Mutex<()>,
    /// RFM tables by as-of day, kept a minute.
    pub rfm: rfm::RfmCache,
    /// Every profile's events in memory, where this process is the store's
    /// one writer ([`crate::start_on`] loads them; until then they are off).
    pub held: Arc<held::HeldEvents>,
}

impl std::ops::Deref for App {
    type Target = Context;
    fn deref(&self) -> &Context {
        &self.0
    }
}

impl App {
    /// The app over `store`: caches empty, the committer started (it ends
    /// when the last clone of the app is dropped).
    pub fn new(
        store: Arc<dyn Store>,
        writer: writer::WriterHandle,
        settings: crate::settings::Settings,
        clock: Arc<dyn Clock>,
        bus: Option<Arc<dyn beacon_bus::Bus>>,
    ) -> App {
        let held = Arc::new(held::HeldEvents::new());
        let rules =
            crate::processor::Rules { clock: clock.clone(), held: Some(held.clone()), ..settings.processor_rules() };
        App(Arc::new(Context {
            committer: checkout::committer::Committer::spawn(store.clone()),
            store,
            writer,
            settings,
            rules,
            promotions: checkout::cache::PromotionCache::new(),
            catalog: checkout::lookup::TtlCache::with_clock(checkout::lookup::PRODUCT_TTL, clock.clone()),
            catalog_stamp: Default::default(),
            buyers: checkout::lookup::TtlCache::with_clock(checkout::lookup::BUYER_TTL, clock.clone()),
            loyalty: Default::default(),
            clock,
            node: format!("node-{}", uuid::Uuid::new_v4().simple()),
            bus,
            segment_index: Default::default(),
            redeciding: Default::default(),
            rfm: Default::default(),
            held,
        }))
    }

    /// The time now, by the app's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
