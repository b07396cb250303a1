//! The promotion snapshot each node prices with: every stored promotion
//! compiled and indexed once, rebuilt when any changes.
//!
//! A change through this node's API takes effect at once ([`invalidate`]);
//! a change through another node, within [`RECHECK`]: at most that often a
//! request asks the store for the promotions' stamp (their count and the sum
//! of their versions) and rebuilds only if it moved.
//!
//! [`invalidate`]: PromotionCache::invalidate

use beacon_core::{Currency, Error, ErrorCode};
use beacon_pricing::spec::Status;
use beacon_pricing::{Promotion, Snapshot, Spec};
use beacon_store::{Store, StoredPromotion};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How stale a snapshot may be when another node changed a promotion.
pub const RECHECK: Duration = Duration::from_secs(1);

struct Cached {
    snapshot: Arc<Snapshot>,
    stamp: (i64, i64),
    checked: Instant,
}

#[derive(Default)]
pub struct PromotionCache {
    current: RwLock<Option<Cached>>,
    /// One rebuild at a time.
    rebuild: tokio::sync::Mutex<()>,
    /// Bumped by every invalidation, so a rebuild that raced a change does
    /// not keep what it read before it.
    generation: AtomicU64,
}

/// A stored promotion as the engine runs it: its spec with the stored status.
pub fn compile(p: &StoredPromotion, currency: Currency) -> Result<Promotion, Error> {
    let mut spec: Spec = serde_json::from_value(p.spec.clone())
        .map_err(|e| Error::new(ErrorCode::InvalidPromotion, format!("promotion {:?}: {e}", p.id)))?;
    spec.status = Status::parse(&p.status)
        .ok_or_else(|| Error::new(ErrorCode::InvalidPromotion, format!("stored status {:?}", p.status)))?;
    spec.compile(currency)
}

impl PromotionCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes the next request look at the store.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut c) = self.current.write() {
            *c = None;
        }
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let c = self.current.read().ok()?;
        c.as_ref().filter(|c| c.checked.elapsed() < RECHECK).map(|c| c.snapshot.clone())
    }

    pub async fn snapshot(&self, store: &dyn Store, currency: Currency) -> Result<Arc<Snapshot>, Error> {
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let _one = self.rebuild.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let stamp = store.promotions().promotions_stamp().await?;
        if let Ok(mut c) = self.current.write()
            && let Some(c) = c.as_mut().filter(|c| c.stamp == stamp)
        {
            c.checked = Instant::now();
            return Ok(c.snapshot.clone());
        }
        let stored = store.promotions().all_promotions().await?;
        let mut compiled = Vec::with_capacity(stored.len());
        for p in &stored {
            // specs are validated when saved; one that no longer compiles (a
            // changed shop currency) is skipped rather than blocking every cart
            match compile(p, currency) {
                Ok(c) => compiled.push(c),
                Err(e) => tracing::warn!(promotion = %p.id, "promotion left out of pricing: {}", e.message),
            }
        }
        let snapshot = Arc::new(Snapshot::new(compiled));
        if let Ok(mut c) = self.current.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            *c = Some(Cached { snapshot: snapshot.clone(), stamp, checked: Instant::now() });
        }
        Ok(snapshot)
    }
}
