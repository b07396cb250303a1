//! The processor: reads the event log in order and turns each message into
//! profile state — dedupe by (source, messageId), identity resolution (pure,
//! in core), merges, trait updates, the timeline. Each batch is read from the
//! store in bulk, decided in memory ([`working`]) and written in one
//! transaction together with the log offset, so a crash replays rather than
//! loses or doubles.

mod cache;
pub mod follow;
mod orders;
mod working;

pub use cache::Cache;

use beacon_core::commerce::{self, CommerceKind};
use beacon_core::extract::{IdentityRules, extract_text};
use beacon_core::message::MessageKind;
use beacon_core::{Currency, Identity, ProfileId};
use beacon_store::{Store, StoreError};
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
}

impl Default for Rules {
    fn default() -> Self {
        Rules { identity: Default::default(), currency: Default::default(), clock: Arc::new(crate::app::SystemClock) }
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules").field("identity", &self.identity).field("currency", &self.currency).finish()
    }
}

/// Handles one batch; returns how many log records it consumed.
pub async fn process_batch(
    store: &dyn Store,
    rules: &Rules,
    batch: u32,
    cache: &mut Cache,
) -> Result<usize, StoreError> {
    let result = decide_and_commit(store, rules, batch, cache).await;
    if result.is_err() {
        cache.clear();
    }
    result
}

async fn decide_and_commit(
    store: &dyn Store,
    rules: &Rules,
    batch: u32,
    cache: &mut Cache,
) -> Result<usize, StoreError> {
    // the log is read before the write lock is taken, from where this
    // processor's last commit left the offset; another node's commit in
    // between (the offset moved) means reading again
    let ahead = match cache.committed_offset() {
        Some(from) => Some((from, store.log().read(from, batch).await?)),
        None => None,
    };
    let mut tx = store.begin_processing(PROCESSOR).await?;
    let offset = tx.offset().await?;
    cache.check(offset);
    let records = match ahead {
        Some((from, records)) if from == offset => records,
        _ => store.log().read(offset, batch).await?,
    };
    let Some(last) = records.last().map(|r| r.seq) else { return Ok(0) };
    // after the records are read: a program changed before they were appended is seen
    let follows = cache.follows.get(store, rules.currency).await?;
    let now = rules.clock.now();

    // 1. read what the batch says, and what it needs from the store, in bulk
    let mut parsed = Vec::with_capacity(records.len());
    for rec in &records {
        match extract_text(rec.record.kind, &rec.record.payload, &rules.identity) {
            Ok((found, name)) => {
                let deal = commerce_of(rec, name.as_deref(), rules.currency);
                let product = match (rec.record.kind, name.as_deref()) {
                    (MessageKind::Track, Some(event)) => commerce::product_of(event, &rec.record.payload),
                    _ => None,
                };
                parsed.push((rec, found, name, product, deal));
            }
            // validated at ingest, so only a corrupt log gets here: skip, don't stall
            Err(e) => tracing::error!(seq = rec.seq, "unreadable log record skipped: {e}"),
        }
    }
    let keys: Vec<(String, String)> =
        parsed.iter().map(|(r, ..)| (r.record.source_id.clone(), r.record.message_id.clone())).collect();
    let stored = tx.claim(&keys).await?;
    let mut seen: foldhash::HashSet<(&str, &str)> = stored.iter().map(|(s, m)| (s.as_str(), m.as_str())).collect();
    let mut order_ids: Vec<String> =
        parsed.iter().filter_map(|(.., d)| d.as_ref().and_then(orders::order_id)).map(str::to_string).collect();
    order_ids.sort();
    order_ids.dedup();
    let mut book = orders::Orders::default();
    book.hold(tx.orders(&order_ids).await?);
    let mut lookups: Vec<Identity> = parsed.iter().flat_map(|(_, f, ..)| working::lookup_keys(f)).collect();
    lookups.sort();
    lookups.dedup();
    let (known, unknown): (Vec<Identity>, Vec<Identity>) =
        lookups.iter().cloned().partition(|i| cache.holders(i).is_some());
    let mut holders: Vec<ProfileId> = tx.holders(&unknown).await?.into_iter().map(|(_, p)| p).collect();
    holders.extend(known.iter().filter_map(|i| cache.holders(i)).flatten());
    holders.extend(book.buyers());
    holders.sort();
    holders.dedup();
    let (cached, missing): (Vec<ProfileId>, Vec<ProfileId>) = holders.iter().partition(|p| cache.profile(p).is_some());
    let mut work = working::Working::default();
    for (state, identities) in tx.load(&missing).await? {
        work.hold(state, identities);
    }
    for (state, identities) in cached.iter().filter_map(|p| cache.profile(p)) {
        work.hold(state.clone(), identities.clone());
    }

    // 2. decide each event in log order, in memory
    let mut duplicates = 0u64;
    let mut outbox = Vec::new();
    for (rec, found, name, product, deal) in parsed {
        if !seen.insert((rec.record.source_id.as_str(), rec.record.message_id.as_str())) {
            duplicates += 1;
            continue;
        }
        let followed = follows.cares(name.as_deref(), deal.is_some()).then(|| name.clone());
        let sender = work.apply(rec, &found, name, product, &rules.identity);
        if let (Some(sender), Some(name)) = (sender, followed) {
            follows.event(rec, name.as_deref(), deal.as_ref(), sender, now, &mut outbox);
        }
        if let (Some(sender), Some(deal)) = (sender, deal) {
            book.apply(&mut work, sender, rec, deal);
        }
    }

    // 3. write it all, with the new offset, in the same transaction
    let repeated = book.repeated;
    let mut order_changes = beacon_store::BatchChanges::default();
    book.finish(&work, &mut order_changes);
    let (mut changes, known_now) = work.finish(&lookups);
    changes.orders = order_changes.orders;
    changes.after_sales = order_changes.after_sales;
    changes.reviews = order_changes.reviews;
    follow::Follows::after_sales(&changes.after_sales, now, &mut outbox);
    changes.outbox = outbox;
    tx.apply(&changes).await?;
    tx.set_offset(last).await?;
    tx.commit().await?;
    if changes.merges.is_empty() {
        cache.committed(last, known_now.holders, known_now.profiles);
    } else {
        cache.clear();
    }
    metrics::counter!("beacon_duplicate_events_total").increment(duplicates);
    metrics::counter!("beacon_repeated_orders_total").increment(repeated);
    metrics::counter!("beacon_processed_events_total").increment(records.len() as u64);
    Ok(records.len())
}

/// The commerce facts of a `track` event with one of the e-commerce names.
/// Ingest refused unreadable ones, so a failure here is old or odd data:
/// the event stays on the timeline and changes no order.
fn commerce_of(
    rec: &beacon_store::LogRecord,
    name: Option<&str>,
    currency: Currency,
) -> Option<commerce::CommerceEvent> {
    if rec.record.kind != MessageKind::Track {
        return None;
    }
    let kind = CommerceKind::of(name?)?;
    match commerce::parse(kind, &rec.record.payload, currency) {
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
    loop {
        match process_batch(store, rules, batch, &mut cache).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

/// Starts [`run`] on its own OS thread, in a single-threaded runtime: a batch
/// is CPU work of several milliseconds between awaits, and on the shared
/// request workers it would hold up the ingest handlers and the log writer
/// queued behind it. On its own thread the OS scheduler time-slices it
/// against them instead. The receiver resolves when the processor has stopped.
pub fn spawn(
    store: Arc<dyn Store>,
    rules: Rules,
    batch: u32,
    linger: Duration,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) -> std::io::Result<tokio::sync::oneshot::Receiver<()>> {
    let (done, stopped) = tokio::sync::oneshot::channel();
    std::thread::Builder::new().name("beacon-processor".into()).spawn(move || {
        match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt.block_on(run(store, rules, batch, linger, wake, stop)),
            Err(e) => tracing::error!("the processor could not start its runtime: {e}"),
        }
        let _ = done.send(());
    })?;
    Ok(stopped)
}

/// Runs until `stop` turns true and the log is drained. After a batch that
/// did not fill up (the processor has caught up with a steady stream), it
/// waits `linger` so the next transaction carries more records.
pub async fn run(
    store: Arc<dyn Store>,
    rules: Rules,
    batch: u32,
    linger: Duration,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(50);
    let mut cache = Cache::default();
    loop {
        let started = Instant::now();
        match process_batch(store.as_ref(), &rules, batch, &mut cache).await {
            Ok(n) if n > 0 => {
                metrics::histogram!("beacon_processor_batch_seconds").record(started.elapsed().as_secs_f64());
                backoff = Duration::from_millis(50);
                if n < batch as usize && !*stop.borrow() {
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
