//! The processor's loop, one step at a time. While it keeps up, a step is
//! one batch decided and written under the offset's lock
//! ([`super::process_batch`]). Once a batch comes back full (the processor
//! is behind), the next one is decided without the lock and held; from then
//! on each step writes the held batch **while** the next is decided, so the
//! decisions (parse, resolve, on the processor's thread) and the writes (on
//! the database's) overlap instead of taking turns. A decision that overlaps
//! a write sees that write's results through the cache ([`super::Cache`],
//! `InFlight`); the write checks the offset and the dedupe claims, so a batch
//! decided on stale reads fails with a conflict and is decided again. A
//! conflict, a failure, a merge or a batch that is not full goes back to one
//! batch at a time.

use super::batch::Input;
use super::batch::{self, Decided};
use super::{Cache, Rules, Source, process_batch};
use beacon_store::{Store, StoreError};
use std::sync::Arc;

/// What a step did.
pub struct Step {
    /// Log records written.
    pub written: usize,
    /// A batch is decided and held for the next step.
    pub ahead: bool,
    /// The last batch was full: more is waiting.
    pub behind: bool,
}

pub struct Pipeline<'a> {
    store: Arc<dyn Store>,
    rules: &'a Rules,
    batch: u32,
    cache: Cache,
    ahead: Option<Decided>,
    /// Decide ahead of the lock (the last batch was full, nothing failed since).
    overlap: bool,
}

impl<'a> Pipeline<'a> {
    pub fn new(store: Arc<dyn Store>, rules: &'a Rules, batch: u32) -> Self {
        Pipeline { store, rules, batch, cache: Cache::default(), ahead: None, overlap: false }
    }

    pub async fn step(&mut self) -> Result<Step, StoreError> {
        let result = self.try_step().await;
        if result.is_err() {
            // start over from the store: the cache, the held batch
            self.cache.clear();
            self.ahead = None;
            self.overlap = false;
        }
        result
    }

    async fn try_step(&mut self) -> Result<Step, StoreError> {
        // a reader per step: its connection goes back to the pool between
        // steps (a drain, or another processor in this process, reads too)
        let mut reader = self.store.process_reader().await?;
        let reader = reader.as_mut();
        let (store, rules, batch) = (self.store.as_ref(), self.rules, self.batch);
        let held = self.ahead.take();
        let (written, next) = match held {
            None if !self.overlap => {
                let n = process_batch(store, reader, &Source::Log, rules, batch, &mut self.cache).await?;
                let behind = n >= batch as usize;
                self.overlap = rules.overlap && behind;
                return Ok(Step { written: n, ahead: false, behind });
            }
            None => (0, decide(store, reader, rules, batch, &mut self.cache).await?),
            Some(d) => {
                // the write on another thread of the runtime: it waits on the
                // database between statements, and must not wait for this
                // thread's decisions to yield
                let writing = tokio::spawn(write_owned(self.store.clone(), d));
                let next = decide(store, reader, rules, batch, &mut self.cache).await;
                let records =
                    writing.await.map_err(|e| StoreError::Backend(format!("the batch write stopped: {e}")))??;
                self.cache.written();
                (records, next?)
            }
        };
        let Some(mut next) = next else {
            self.overlap = false;
            return Ok(Step { written, ahead: false, behind: false });
        };
        if next.full && next.overlappable() {
            next.hand_over(&mut self.cache);
            self.ahead = Some(next);
            return Ok(Step { written, ahead: true, behind: true });
        }
        // the last of a backlog, or a merge: written now, and one at a time from here
        write(store, &next).await?;
        let (records, behind) = (next.records, next.full);
        next.written(&mut self.cache);
        self.overlap = false;
        Ok(Step { written: written + records, ahead: false, behind })
    }
}

/// Decides the next batch of the store's log, ahead of the offset's lock.
async fn decide(
    store: &dyn Store,
    reader: &mut dyn beacon_store::ProcessRead,
    rules: &Rules,
    batch: u32,
    cache: &mut Cache,
) -> Result<Option<Decided>, StoreError> {
    batch::decide(store, reader, Input { source: &Source::Log, guard: None }, rules, batch, cache).await
}

/// [`write`], for a task of its own; answers the records written.
async fn write_owned(store: Arc<dyn Store>, d: Decided) -> Result<usize, StoreError> {
    write(store.as_ref(), &d).await.map(|()| d.records)
}

/// Writes a batch decided without the offset's lock.
async fn write(store: &dyn Store, d: &Decided) -> Result<(), StoreError> {
    batch::write(store.begin_processing(super::PROCESSOR).await?, d).await
}
