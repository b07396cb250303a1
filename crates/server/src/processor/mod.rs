//! The processor: reads the event log in order and turns each message into
//! profile state — dedupe by (source, messageId), identity resolution (pure,
//! in core), merges, trait updates, the timeline. Each batch is read from the
//! store in bulk, decided in memory ([`working`]) and written in one
//! transaction together with the log offset, so a crash replays rather than
//! loses or doubles.

pub mod batch;
mod cache;
pub mod follow;
mod orders;
pub mod partitions;
mod pipeline;
mod segment_index;
pub mod segments;
mod settled;
pub mod source;
mod timing;
mod trust;
mod working;

pub use cache::Cache;
pub use source::Source;

use beacon_core::Currency;
use beacon_core::commerce::{self, CommerceKind};
use beacon_core::extract::IdentityRules;
use beacon_core::message::MessageKind;
use beacon_store::{ProcessRead, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// The processor's name in the offsets table.
pub const PROCESSOR: &str = "profiles";
/// How often the processor looks at the log without being woken (other nodes
/// may append to a shared PostgreSQL log).
const POLL: Duration = Duration::from_millis(500);

/// What the processor decides by.
#[derive(Clone)]
pub struct Rules {
    pub identity: IdentityRules,
    /// Of e-commerce events that name no currency.
    pub currency: Currency,
    /// What "now" is for the processor's decisions (points expiry, return
    /// windows): the app's clock.
    pub clock: Arc<dyn crate::app::Clock>,
    /// Decide the next batch while the current one is written, when behind
    /// ([`pipeline`]). Only where this is the one processor (the embedded
    /// store): processors on several nodes sharing one offset would decide
    /// the same batches and all but one would throw theirs away.
    pub overlap: bool,
    /// Told each batch committed, if this process holds events in memory.
    pub held: Option<Arc<crate::app::held::HeldEvents>>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            identity: Default::default(),
            currency: Default::default(),
            clock: Arc::new(crate::app::SystemClock),
            overlap: false,
            held: None,
        }
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("identity", &self.identity).field("currency", &self.currency).finish()
    }
}

/// Handles one batch of `source`, reading and writing while it holds the
/// offset (so processors on other nodes wait rather than decide the same
/// batch); returns how many log records it consumed. A source shared with
/// other processors (a bus partition) is read with no cache and under the
/// transaction's locks.
pub async fn process_batch(
    store: &dyn Store,
    reader: &mut dyn ProcessRead,
    source: &Source,
    rules: &Rules,
    batch: u32,
    cache: &mut Cache,
) -> Result<usize, StoreError> {
    let result = async {
        let mut tx = store.begin_processing(&source.name()).await?;
        if source.shared() {
            // other partitions' processors write the same profiles
            cache.clear();
        }
        cache.check(tx.offset().await?);
        let guard = source.shared().then_some(tx.as_mut());
        let input = batch::Input { source, guard };
        let Some(decided) = batch::decide(store, reader, input, rules, batch, cache).await? else { return Ok(0) };
        batch::write(tx, &decided).await?;
        let records = decided.records;
        decided.written(cache);
        Ok(records)
    }
    .await;
    if result.is_err() {
        cache.clear();
    }
    result
}

/// The commerce facts of a `track` event with one of the e-commerce names.
/// (`properties` as the message writes them). Ingest refused unreadable
/// ones, so a failure here is old or odd data:
/// the event stays on the timeline and changes no order.
fn commerce_of(
    rec: &beacon_store::LogRecord,
    name: Option<&str>,
    properties: Option<&serde_json::value::RawValue>,
    currency: Currency,
) -> Option<commerce::CommerceEvent> {
    if rec.record.kind != MessageKind::Track {
        return None;
    }
    let kind = CommerceKind::of(name?)?;
    match commerce::parse_properties(kind, properties, currency) {
        Ok(deal) => Some(deal),
        Err(e) => {
            tracing::warn!(seq = rec.seq, "{e}");
            None
        }
    }
}

/// Processes everything appended so far (syncing it first); returns the
/// records consumed.
pub async fn drain(store: &dyn Store, rules: &Rules, batch: u32) -> Result<usize, StoreError> {
    store.log().sync().await?;
    let mut total = 0;
    let mut cache = Cache::default();
    let mut reader = store.process_reader().await?;
    loop {
        match process_batch(store, reader.as_mut(), &Source::Log, rules, batch, &mut cache).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// Starts [`run`] on its own OS thread, in a runtime of its own (two
/// workers): a batch is CPU work of several milliseconds between awaits, and
/// on the shared request workers it would hold up the ingest handlers and the
/// log writer queued behind it. Apart, the OS scheduler time-slices it
/// against them instead. The decisions run on this thread, a batch's write on
/// one of the runtime's workers (see [`pipeline`]). The receiver resolves
/// when the processor has stopped.
pub fn spawn(
    store: Arc<dyn Store>,
    rules: Rules,
    batch: u32,
    linger: Duration,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    spawn_with("beacon-processor", run(store, rules, batch, linger, wake, stop))
}

/// How long a processor waits before deciding a batch again after its
/// `n`th conflict in a row: at once for the first few, then a little more
/// each time, never long. A conflict is another node's progress, not a
/// failure: backing off as from an error would leave a killed node's share
/// waiting for seconds on its survivors (the chaos test).
pub fn after_conflict(n: u32) -> Duration {
    Duration::from_millis(if n <= 3 { 0 } else { u64::from(n.min(20)) * 10 })
}

/// Runs `work` on an OS thread of its own named `name`, in a runtime of its
/// own (two workers); the receiver resolves when it has ended.
pub fn spawn_with(
    name: &str,
    work: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    let (done, stopped) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name(name.into()).spawn(move || {
        match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(rt) => rt.block_on(work),
            Err(e) => tracing::error!("the processor could not start its runtime: {e}"),
        }
        let _ = done.send(());
    })?;
    Ok(stopped)
}

/// Runs until `stop` turns true and the log is drained. After a batch that
/// did not fill up (the processor has caught up with a steady stream), it
/// waits `linger` so the next transaction carries more records. While it is
/// behind (full batches), it decides the next batch while the current one is
/// written ([`pipeline`]).
pub async fn run(
    store: Arc<dyn Store>,
    rules: Rules,
    batch: u32,
    linger: Duration,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(50);
    let mut line = pipeline::Pipeline::new(store, &rules, batch);
    let mut conflicts = 0;
    loop {
        let started = Instant::now();
        let step = line.step().await;
        if step.is_ok() {
            conflicts = 0;
        }
        match step {
            Ok(step) if step.written > 0 || step.ahead => {
                metrics::histogram!("beacon_processor_batch_seconds").record(started.elapsed().as_secs_f64());
                backoff = Duration::from_millis(50);
                if !step.behind && !*stop.borrow() {
                    // caught up: let the next batch gather, counting from this one's start
                    tokio::select! {
                        _ = tokio::time::sleep_until((started + linger).into()) => {}
                        _ = stop.changed() => {}
                    }
                }
                continue;
            }
            Ok(_) => {
                if *stop.borrow() {
                    return;
                }
            }
            Err(StoreError::Conflict(e)) => {
                // another node wrote first: decide again from the store
                conflicts += 1;
                tracing::debug!("processor batch decided on stale reads, again: {e}");
                tokio::time::sleep(after_conflict(conflicts)).await;
                continue;
            }
            Err(e) => {
                if *stop.borrow() {
                    tracing::error!("processor stopping with an error: {e}");
                    return;
                }
                tracing::warn!("processor batch failed, retrying in {backoff:?}: {e}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                continue;
            }
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.changed() => {}
        }
    }
}
