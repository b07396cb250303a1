//! The group-committing log writer.
//!
//! Handlers hand their records to one writer task and wait. While an append
//! is in flight, new requests queue up; the next append takes all of them in
//! one transaction. A syncer task behind the writer makes appends durable
//! ([`EventLog::sync`]) and lets readers see them; one sync covers every
//! append before it. When a request is answered is [`Ack`]: after its append
//! (`storage.synchronous = normal`: the commit is in the OS and survives a
//! process crash; the fsync follows within [`BACKGROUND_SYNC_GAP`]) or after
//! the sync (`full`).
//!
//! [`EventLog::sync`]: beacon_store::EventLog::sync

use crate::bus::LogSink;
use beacon_store::{NewLogRecord, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};

type Done = oneshot::Sender<Result<(), Arc<StoreError>>>;

struct Job {
    records: Vec<NewLogRecord>,
    done: Done,
}

/// Why records were not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the writer queue is full")]
    Busy,
    #[error("the writer has stopped")]
    Stopped,
    #[error("the log write failed: {0}")]
    Store(Arc<StoreError>),
}

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// Writes durably (see [`Ack`]); returns once written.
    pub async fn write(&self, records: Vec<NewLogRecord>) -> Result<(), WriteError> {
        let (done, wait) = oneshot::channel();
        self.tx.try_send(Job { records, done }).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => WriteError::Busy,
            mpsc::error::TrySendError::Closed(_) => WriteError::Stopped,
        })?;
        metrics::gauge!("beacon_writer_queue_depth").set((self.tx.max_capacity() - self.tx.capacity()) as f64);
        match wait.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(WriteError::Store(e)),
            Err(_) => Err(WriteError::Stopped),
        }
    }
}

/// When a request is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ack {
    /// After the sync that makes its records durable (`storage.synchronous = full`).
    AfterSync,
    /// After its records are committed to the log (in the OS, so they survive
    /// a process crash); the sync follows in the background
    /// (`storage.synchronous = normal`).
    AfterCommit,
}

/// Starts the writer. It stops after every handle is dropped and the queue
/// is drained and synced, so a graceful shutdown flushes everything accepted.
pub fn spawn(
    store: LogSink,
    capacity: usize,
    max_group: usize,
    ack: Ack,
    committed: Arc<Notify>,
) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel::<Job>(capacity);
    let (appended, to_sync) = mpsc::channel::<Vec<Done>>(1);
    let gap = match ack {
        Ack::AfterSync => Duration::ZERO,
        Ack::AfterCommit => BACKGROUND_SYNC_GAP,
    };
    let syncer = tokio::spawn(sync_loop(store.clone(), to_sync, gap, committed));
    let task = tokio::spawn(async move {
        write_loop(store, rx, max_group, ack, appended).await;
        let _ = syncer.await;
    });
    (WriterHandle { tx }, task)
}

async fn write_loop(
    store: LogSink,
    mut rx: mpsc::Receiver<Job>,
    max_group: usize,
    ack: Ack,
    appended: mpsc::Sender<Vec<Done>>,
) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        let mut count = jobs[0].records.len();
        while count < max_group {
            match rx.try_recv() {
                Ok(job) => {
                    count += job.records.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let mut records = Vec::with_capacity(count);
        let mut waiters = Vec::with_capacity(jobs.len());
        for job in jobs {
            records.extend(job.records);
            waiters.push(job.done);
        }
        let started = Instant::now();
        let result = store.append(&records).await;
        metrics::histogram!("beacon_store_append_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("beacon_group_commit_records").record(records.len() as f64);
        match result {
            Ok(()) => {
                metrics::counter!("beacon_ingest_events_stored_total").increment(records.len() as u64);
                match ack {
                    Ack::AfterSync => {
                        if let Err(unsent) = appended.send(waiters).await {
                            let stopped = StoreError::Unavailable("the log syncer has stopped".into());
                            answer(unsent.0, &Err(Arc::new(stopped)));
                        }
                    }
                    Ack::AfterCommit => {
                        answer(waiters, &Ok(()));
                        // a full channel means a sync is pending; it starts after this append and covers it
                        let _ = appended.try_send(Vec::new());
                    }
                }
            }
            Err(e) => {
                tracing::error!("event log append failed: {e}");
                answer(waiters, &Err(Arc::new(e)));
            }
        }
        metrics::gauge!("beacon_writer_queue_depth").set(rx.len() as f64);
    }
}

/// With `Ack::AfterCommit`, the least time between the starts of two
/// background syncs: what a power loss can take is at most this plus one
/// fsync, and a burst of small appends costs one fsync per gap, not one each.
const BACKGROUND_SYNC_GAP: Duration = Duration::from_millis(5);

/// Syncs whatever has been appended, then acknowledges it; starts syncs at
/// least `gap` apart.
async fn sync_loop(store: LogSink, mut rx: mpsc::Receiver<Vec<Done>>, gap: Duration, committed: Arc<Notify>) {
    let mut last = Instant::now() - gap;
    while let Some(first) = rx.recv().await {
        if !gap.is_zero() {
            tokio::time::sleep_until((last + gap).into()).await;
            last = Instant::now();
        }
        let mut waiters = first;
        while let Ok(more) = rx.try_recv() {
            waiters.extend(more);
        }
        let started = Instant::now();
        let result = store.sync().await.map_err(Arc::new);
        metrics::histogram!("beacon_store_sync_seconds").record(started.elapsed().as_secs_f64());
        match &result {
            Ok(()) => committed.notify_one(),
            Err(e) => tracing::error!("event log sync failed: {e}"),
        }
        answer(waiters, &result);
    }
}

fn answer(waiters: Vec<Done>, result: &Result<(), Arc<StoreError>>) {
    for w in waiters {
        let _ = w.send(result.clone());
    }
}
