//! Every profile's `track` events held in memory in columns
//! ([`beacon_segment::columns`]), so that estimates and segments decided
//! from scratch count events without querying the events table. Only where
//! this process is the store's one writer (the embedded store with its
//! processor here): loaded in the background at start, then fed each batch
//! the processor commits and each erasure. Until it is loaded, and on other
//! deployments, the store's queries answer.
//!
//! The load reads the processor's offset first and then the events up to
//! it; batches committed after that offset are applied from the changes
//! queued meanwhile (a batch at or before it is in what was read). Every
//! change applies idempotently (a profile added twice, a merge or an
//! erasure seen twice), so reads racing with commits do no harm.

use beacon_segment::columns::EventColumns;
use beacon_store::{BatchChanges, Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, RwLock};

/// Events read per query while loading.
const LOAD_CHUNK: usize = 250_000;
/// Changes queued before the processor applies them itself (if no one is reading).
const QUEUE: usize = 64;

enum Change {
    Batch {
        last: i64,
        created: Vec<String>,
        merges: Vec<(String, String)>,
        /// (profile, name, time in microseconds)
        events: Vec<(String, String, i64)>,
    },
    Erased(Vec<String>),
}

/// The columns, the changes not yet in them, and how far the load read.
#[derive(Default)]
pub struct HeldEvents {
    /// Changes are kept from the load's start on (before it, and where it
    /// never starts, they are dropped).
    on: AtomicBool,
    columns: RwLock<EventColumns>,
    queue: Mutex<Vec<Change>>,
    loaded: OnceLock<i64>,
}

impl HeldEvents {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the load has finished (until then, nothing reads the columns).
    pub fn ready(&self) -> bool {
        self.loaded.get().is_some()
    }

    /// A processor batch ending at offset `last` committed `changes`.
    pub fn committed(&self, last: i64, changes: &BatchChanges) {
        if !self.on.load(Ordering::Acquire) {
            return;
        }
        let events = changes
            .events
            .iter()
            .filter(|e| e.kind == beacon_core::message::MessageKind::Track)
            .filter_map(|e| Some((e.profile_id.to_string(), e.name.clone()?, e.timestamp.timestamp_micros())))
            .collect();
        let change = Change::Batch {
            last,
            created: changes.created.iter().map(|p| p.id.to_string()).collect(),
            merges: changes.merges.iter().map(|m| (m.from.to_string(), m.into.to_string())).collect(),
            events,
        };
        let queued = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.push(change);
            queue.len()
        };
        if queued >= QUEUE && self.ready() {
            // only if no estimate holds the columns: the processor never waits here
            if let Ok(mut columns) = self.columns.try_write() {
                self.apply_queue(&mut columns);
            }
        }
    }

    /// These profiles were erased.
    pub fn erased(&self, ids: &[beacon_core::ProfileId]) {
        if !self.on.load(Ordering::Acquire) {
            return;
        }
        let ids = ids.iter().map(ToString::to_string).collect();
        self.queue.lock().unwrap_or_else(|e| e.into_inner()).push(Change::Erased(ids));
    }

    fn apply_queue(&self, columns: &mut EventColumns) {
        let Some(&loaded) = self.loaded.get() else { return };
        let queue = std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()));
        for change in queue {
            match change {
                Change::Batch { last, .. } if last <= loaded => {}
                Change::Batch { created, merges, events, .. } => {
                    created.iter().for_each(|id| columns.add_profile(id));
                    merges.iter().for_each(|(from, into)| columns.merge(from, into));
                    for (profile, name, at) in &events {
                        columns.add_event(profile, name, *at);
                    }
                }
                Change::Erased(ids) => ids.iter().for_each(|id| columns.remove(id)),
            }
        }
    }

    /// `f` over the columns with every change committed so far in them, or
    /// `None` before the load has finished.
    pub fn read<T>(&self, f: impl FnOnce(&EventColumns) -> T) -> Option<T> {
        if !self.ready() {
            return None;
        }
        {
            let mut columns = self.columns.write().unwrap_or_else(|e| e.into_inner());
            self.apply_queue(&mut columns);
        }
        let columns = self.columns.read().unwrap_or_else(|e| e.into_inner());
        Some(f(&columns))
    }

    /// Loads the columns from `store` (once; the processor may be running),
    /// keeping every change from now on.
    pub async fn load(&self, store: &dyn Store) -> Result<(), StoreError> {
        if self.on.swap(true, Ordering::AcqRel) {
            return Ok(()); // loading or loaded already
        }
        let loaded = self.read_store(store).await;
        if loaded.is_err() {
            // off again: nothing queues changes for a load that is not coming
            self.on.store(false, Ordering::Release);
            self.queue.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        loaded
    }

    async fn read_store(&self, store: &dyn Store) -> Result<(), StoreError> {
        let started = std::time::Instant::now();
        let upto = store.processed_offset(crate::processor::PROCESSOR).await?;
        let facts = store.segment_facts();
        let mut columns = EventColumns::new();
        for id in facts.live_profiles().await? {
            columns.add_profile(&id);
        }
        let mut after = i64::MIN;
        loop {
            let chunk = facts.track_events(after, upto, LOAD_CHUNK).await?;
            let Some(last) = chunk.last() else { break };
            after = last.seq;
            for e in &chunk {
                columns.add_event(&e.profile, &e.name, e.at.timestamp_micros());
            }
            if chunk.len() < LOAD_CHUNK {
                break;
            }
        }
        let mut held = self.columns.write().unwrap_or_else(|e| e.into_inner());
        *held = columns;
        let _ = self.loaded.set(upto);
        self.apply_queue(&mut held);
        tracing::info!(
            events = held.events(),
            profiles = held.live(),
            seconds = started.elapsed().as_secs_f64(),
            "segment event columns loaded"
        );
        Ok(())
    }
}
