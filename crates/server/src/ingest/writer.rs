//! The group-committing log writer.
//!
//! Handlers hand their records to one writer task and wait. While a commit is
//! in flight, new requests queue up; the next commit takes all of them at
//! once. So under load many requests share one transaction (one fsync), and
//! a request is acknowledged only after the commit holding its records.

use beacon_store::{NewLogRecord, Store, StoreError};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Notify, mpsc, oneshot};

struct Job {
    records: Vec<NewLogRecord>,
    done: oneshot::Sender<Result<(), Arc<StoreError>>>,
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
    /// Writes durably; returns once committed.
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

/// Starts the writer. It stops after every handle is dropped and the queue
/// is drained, so a graceful shutdown flushes everything accepted.
pub fn spawn(
    store: Arc<dyn Store>,
    capacity: usize,
    max_group: usize,
    committed: Arc<Notify>,
) -> (WriterHandle, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Job>(capacity);
    let task = tokio::spawn(async move {
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
            let result = store.log().append(&records).await.map_err(Arc::new);
            metrics::histogram!("beacon_store_append_seconds").record(started.elapsed().as_secs_f64());
            metrics::histogram!("beacon_group_commit_records").record(records.len() as f64);
            if result.is_ok() {
                metrics::counter!("beacon_ingest_events_stored_total").increment(records.len() as u64);
                committed.notify_one();
            } else if let Err(e) = &result {
                tracing::error!("event log append failed: {e}");
            }
            for w in waiters {
                let _ = w.send(result.clone());
            }
            metrics::gauge!("beacon_writer_queue_depth").set(rx.len() as f64);
        }
    });
    (WriterHandle { tx }, task)
}
