//! What the one process that processes an embedded store keeps in its
//! memory ([`Resident`]), and the lock that makes it the one.
//!
//! One processor per embedded store. Its dedupe set lives in the memory of
//! the process that processes (`dedupe_memory.rs`), and its pipeline keeps
//! what the batch in flight decided: a second process processing the same
//! data directory would decide on a stale picture (a resent event processed
//! twice, a known shopper made a new profile). (The index of identities,
//! `identity_index.rs`, kept here too, reads what others committed before
//! each answer, and needs no lock.) So the first processor
//! transaction or read of a store takes an exclusive lock on
//! `processor.lock` in its data directory, held until the store closes; a
//! second process is refused with a clear error. (Admin commands that do
//! not process, and nodes of one process sharing the store, are not
//! affected. PostgreSQL needs none: its processors share tables.)

use super::dedupe_memory::MemoryKeys;
use super::identity_index::IdentityIndex;
use crate::{Result, StoreError};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// The embedded store's dedupe set, behind its processor lock, and its
/// index of identities.
pub(crate) struct Resident {
    pub(crate) keys: MemoryKeys,
    pub(crate) identities: IdentityIndex,
    lock: ProcessorLock,
}

impl Resident {
    /// `dedupe_window_days`: how long its dedupe set keeps a key.
    pub(crate) fn new(data_dir: &std::path::Path, dedupe_window_days: u32) -> Arc<Self> {
        Arc::new(Resident {
            keys: MemoryKeys::new(dedupe_window_days),
            identities: Default::default(),
            lock: ProcessorLock::new(data_dir),
        })
    }

    /// For a processor transaction or read: taken under the lock.
    pub(crate) fn for_processing(this: &Option<Arc<Self>>) -> Result<Option<Arc<Self>>> {
        if let Some(r) = this {
            r.lock.hold()?;
        }
        Ok(this.clone())
    }

    /// Lets the lock go (the store is closing).
    pub(crate) fn release(&self) {
        self.lock.release();
    }
}

struct ProcessorLock {
    path: PathBuf,
    held: Mutex<Option<File>>,
}

impl ProcessorLock {
    fn new(data_dir: &std::path::Path) -> Self {
        ProcessorLock { path: data_dir.join("processor.lock"), held: Mutex::new(None) }
    }

    /// Takes the lock, unless this store holds it already.
    fn hold(&self) -> Result<()> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if held.is_some() {
            return Ok(());
        }
        let unavailable = |e: std::io::Error| StoreError::Unavailable(format!("{}: {e}", self.path.display()));
        let file = OpenOptions::new().create(true).truncate(false).write(true).open(&self.path).map_err(unavailable)?;
        match file.try_lock() {
            Ok(()) => {
                *held = Some(file);
                Ok(())
            }
            Err(TryLockError::WouldBlock) => Err(StoreError::Unavailable(format!(
                "another process is processing this data directory (it holds {}): \
                 one process at a time may run the processor of an embedded store",
                self.path.display()
            ))),
            Err(TryLockError::Error(e)) => Err(unavailable(e)),
        }
    }

    fn release(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}
