//! Shared application state.

use crate::auth::Gatekeeper;
use crate::ingest::writer::WriterHandle;
use crate::settings::Settings;
use beacon_store::Store;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Arc<dyn Store>,
    pub writer: WriterHandle,
    pub settings: Settings,
    pub rules: crate::processor::Rules,
    pub gate: Gatekeeper,
    pub metrics: PrometheusHandle,
    /// The promotion snapshot carts are priced with.
    pub promotions: crate::checkout::cache::PromotionCache,
    /// Catalog products by id and SKU (`None`: not in the catalog), for pricing.
    pub catalog: crate::checkout::lookup::TtlCache<String, Option<Arc<beacon_core::catalog::Product>>>,
    pub catalog_stamp: crate::checkout::lookup::CatalogStamp,
    /// Buyers by profile id or identities, for previews.
    pub buyers: crate::checkout::lookup::TtlCache<String, Option<Arc<beacon_core::profile::Profile>>>,
    /// The points program.
    pub loyalty: crate::checkout::loyalty::ProgramCache,
    /// Commits checkouts in groups.
    pub committer: crate::checkout::committer::Committer,
    pub ready: AtomicBool,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(inner: Inner) -> Self {
        AppState(Arc::new(inner))
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Release);
    }
}
