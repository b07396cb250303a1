//! A map whose entries expire, for reads of the store that may be a moment
//! stale (API keys, catalog products, buyers).

use crate::app::clock::{Clock, SystemClock};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Entries kept before the cache starts over.
const CAPACITY: usize = 100_000;

pub struct TtlCache<K, V> {
    map: RwLock<HashMap<K, (V, DateTime<Utc>)>>,
    ttl: chrono::TimeDelta,
    clock: Arc<dyn Clock>,
    /// Bumped by [`invalidate`](Self::invalidate): a read that raced a change
    /// does not put what it read before it into the cache.
    generation: AtomicU64,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self::with_clock(ttl, Arc::new(SystemClock))
    }

    /// A cache whose entries age by `clock`.
    pub fn with_clock(ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        let ttl = chrono::TimeDelta::from_std(ttl).unwrap_or(chrono::TimeDelta::MAX);
        TtlCache { map: RwLock::new(HashMap::new()), ttl, clock, generation: AtomicU64::new(0) }
    }

    /// The entry, if it was put less than the TTL ago (an entry from the
    /// future — the clock stepped back — is not trusted).
    pub fn get(&self, key: &K) -> Option<V> {
        let now = self.clock.now();
        let map = self.map.read().ok()?;
        map.get(key)
            .filter(|(_, at)| {
                let age = now - *at;
                age >= chrono::TimeDelta::zero() && age < self.ttl
            })
            .map(|(v, _)| v.clone())
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
            let now = self.clock.now();
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
    use crate::app::clock::ManualClock;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|t| t.to_utc()).unwrap_or_default()
    }

    #[test]
    fn entries_expire_after_the_ttl_by_the_clock() {
        let clock = Arc::new(ManualClock::new(at("2026-11-11T00:00:00Z")));
        let c: TtlCache<String, i32> = TtlCache::with_clock(Duration::from_millis(50), clock.clone());
        c.put([("a".to_string(), 1)], c.generation());
        clock.advance(chrono::TimeDelta::milliseconds(49));
        assert_eq!(c.get(&"a".to_string()), Some(1), "49 ms old");
        clock.advance(chrono::TimeDelta::milliseconds(1));
        assert_eq!(c.get(&"a".to_string()), None, "50 ms old: expired");
        c.put([("b".to_string(), 2)], c.generation());
        clock.advance(chrono::TimeDelta::seconds(-10));
        assert_eq!(c.get(&"b".to_string()), None, "put in the clock's future: not trusted");
    }

    #[test]
    fn an_invalidation_wins_over_a_racing_read() {
        let c: TtlCache<String, i32> = TtlCache::new(Duration::from_secs(60));
        let g = c.generation();
        c.put([("a".to_string(), 1)], g);
        assert_eq!(c.get(&"a".to_string()), Some(1));
        let g = c.generation();
        c.invalidate();
        assert_eq!(c.get(&"a".to_string()), None, "invalidated");
        c.put([("a".to_string(), 2)], g);
        assert_eq!(c.get(&"a".to_string()), None, "read before the change, not kept");
    }
}
