//! Short-lived caches of the store reads pricing a cart needs — catalog
//! products and buyers — so a busy checkout page is not a query per line.
//!
//! Products: kept until the catalog changes — at once for this node's
//! changes, within [`CATALOG_RECHECK`] for another node's (the store's
//! catalog stamp, one row, is read at most that often). Buyers (profile facts: tier,
//! tags, orders, identities) are at most [`BUYER_TTL`] old, for previews and
//! orders alike: limits are still taken atomically at commit; what the age
//! can miss is an identity linked to the buyer in the last moment.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub const CATALOG_RECHECK: Duration = Duration::from_secs(1);
/// Products are dropped after this even if the catalog did not change.
pub const PRODUCT_TTL: Duration = Duration::from_secs(600);
pub const BUYER_TTL: Duration = Duration::from_secs(2);
/// Entries kept before the cache starts over.
const CAPACITY: usize = 100_000;

pub struct TtlCache<K, V> {
    map: RwLock<HashMap<K, (V, Instant)>>,
    ttl: Duration,
    /// Bumped by [`invalidate`](Self::invalidate): a read that raced a change
    /// does not put what it read before it into the cache.
    generation: AtomicU64,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        TtlCache { map: RwLock::new(HashMap::new()), ttl, generation: AtomicU64::new(0) }
    }

    pub fn get(&self, key: &K) -> Option<V> {
        let map = self.map.read().ok()?;
        map.get(key).filter(|(_, at)| at.elapsed() < self.ttl).map(|(v, _)| v.clone())
    }

    /// The generation to pass to [`put`](Self::put): read it before the store.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn put(&self, entries: impl IntoIterator<Item = (K, V)>, generation: u64) {
        if let Ok(mut map) = self.map.write()
            && self.generation.load(Ordering::Acquire) == generation
        {
            if map.len() > CAPACITY {
                map.clear();
            }
            let now = Instant::now();
            map.extend(entries.into_iter().map(|(k, v)| (k, (v, now))));
        }
    }

    pub fn invalidate(&self) {
        if let Ok(mut map) = self.map.write() {
            self.generation.fetch_add(1, Ordering::AcqRel);
            map.clear();
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_and_an_invalidation_wins_over_a_racing_read() {
        let c: TtlCache<String, i32> = TtlCache::new(Duration::from_millis(50));
        let g = c.generation();
        c.put([("a".to_string(), 1)], g);
        assert_eq!(c.get(&"a".to_string()), Some(1));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get(&"a".to_string()), None, "expired");
        let g = c.generation();
        c.invalidate();
        c.put([("a".to_string(), 2)], g);
        assert_eq!(c.get(&"a".to_string()), None, "read before the change, not kept");
    }
}
