//! Short-lived caches of the store reads pricing a cart needs — catalog
//! products and buyers — so a busy checkout page is not a query per line.
//!
//! Products: kept until the catalog changes — at once for this node's
//! changes, within [`CATALOG_RECHECK`] for another node's (the store's
//! catalog stamp, one row, is read at most that often). Buyers (profile facts: tier,
//! tags, orders, identities) are at most [`BUYER_TTL`] old, for previews and
//! orders alike: limits are still taken atomically at commit; what the age
//! can miss is an identity linked to the buyer in the last moment.

use std::time::{Duration, Instant};

pub const CATALOG_RECHECK: Duration = Duration::from_secs(1);
/// Products are dropped after this even if the catalog did not change.
pub const PRODUCT_TTL: Duration = Duration::from_secs(600);
pub const BUYER_TTL: Duration = Duration::from_secs(2);
pub use crate::ttl::TtlCache;

/// The catalog stamp last seen and when.
#[derive(Default)]
pub struct CatalogStamp(std::sync::Mutex<Option<(String, Instant)>>);

impl CatalogStamp {
    /// Whether the stamp is due to be read again.
    pub fn due(&self) -> bool {
        self.0.lock().map_or(true, |s| s.as_ref().is_none_or(|(_, at)| at.elapsed() >= CATALOG_RECHECK))
    }

    /// Records the stamp read; true if it changed since the last one.
    pub fn changed(&self, stamp: String) -> bool {
        let Ok(mut s) = self.0.lock() else { return true };
        let changed = s.as_ref().is_some_and(|(old, _)| *old != stamp);
        *s = Some((stamp, Instant::now()));
        changed
    }
}
