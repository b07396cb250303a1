//! A map whose entries expire, for reads of the store that may be a moment
//! stale (API keys, catalog products, buyers).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
