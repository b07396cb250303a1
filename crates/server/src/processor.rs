//! The processor: reads the event log in order and turns each message into
//! profile state — dedupe by (source, messageId), identity resolution (pure,
//! in core), merges, trait updates, the timeline — committing each batch
//! together with the log offset, so a crash replays rather than loses or
//! doubles.

use beacon_core::ProfileId;
use beacon_core::extract::{IdentityRules, extract};
use beacon_core::message::MessageKind;
use beacon_core::profile::{apply_traits, merge_traits};
use beacon_core::resolve::{Target, resolve};
use beacon_store::{LogRecord, NewEvent, ProcessTx, ProfileState, Store, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, watch};

/// The processor's name in the offsets table.
pub const PROCESSOR: &str = "profiles";
/// How often the processor looks at the log without being woken (other nodes
/// may append to a shared PostgreSQL log).
const POLL: Duration = Duration::from_millis(500);

/// Handles one batch; returns how many log records it consumed.
pub async fn process_batch(store: &dyn Store, rules: &IdentityRules, batch: u32) -> Result<usize, StoreError> {
    let mut tx = store.begin_processing(PROCESSOR).await?;
    let offset = tx.offset().await?;
    let records = store.log().read(offset, batch).await?;
    let Some(last) = records.last().map(|r| r.seq) else { return Ok(0) };
    for record in &records {
        apply(tx.as_mut(), rules, record).await?;
    }
    tx.set_offset(last).await?;
    tx.commit().await?;
    metrics::counter!("beacon_processed_events_total").increment(records.len() as u64);
    Ok(records.len())
}

/// Processes until the log is exhausted; returns the records consumed.
pub async fn drain(store: &dyn Store, rules: &IdentityRules, batch: u32) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        match process_batch(store, rules, batch).await? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}

fn event_name(kind: MessageKind, payload: &serde_json::Value) -> Option<String> {
    let field = match kind {
        MessageKind::Track => "event",
        MessageKind::Page | MessageKind::Screen => "name",
        _ => return None,
    };
    payload.get(field).and_then(|v| v.as_str()).map(str::to_string)
}

async fn apply(tx: &mut dyn ProcessTx, rules: &IdentityRules, rec: &LogRecord) -> Result<(), StoreError> {
    let r = &rec.record;
    if tx.seen(&r.source_id, &r.message_id).await? {
        metrics::counter!("beacon_duplicate_events_total").increment(1);
        return Ok(());
    }
    let payload: serde_json::Value = match serde_json::from_str(&r.payload) {
        Ok(v) => v,
        Err(e) => {
            // validated at ingest, so only a corrupt log gets here: skip, don't stall
            tracing::error!(seq = rec.seq, "unreadable log record skipped: {e}");
            return Ok(());
        }
    };
    let found = extract(r.kind, &payload, rules);
    let candidates = tx.candidates(&found.identities, found.previous_id.as_deref()).await?;
    let plan = resolve(&found.identities, &candidates, found.previous_id.as_deref(), rules);
    let mut state = match plan.target {
        Target::Existing(id) => tx.load_state(id).await?,
        Target::New => {
            let state = ProfileState {
                id: ProfileId::new(),
                traits: Default::default(),
                trait_times: Default::default(),
                first_seen: r.timestamp,
                last_seen: r.timestamp,
                event_count: 0,
            };
            tx.create_profile(&state).await?;
            state
        }
    };
    for (from, reason) in &plan.merges {
        let other = tx.load_state(*from).await?;
        merge_traits(&mut state.traits, &mut state.trait_times, &other.traits, &other.trait_times);
        state.event_count += other.event_count;
        state.first_seen = state.first_seen.min(other.first_seen);
        state.last_seen = state.last_seen.max(other.last_seen);
        tx.merge(*from, state.id, r.received_at, reason, &r.message_id).await?;
    }
    apply_traits(&mut state.traits, &mut state.trait_times, &found.traits, r.timestamp);
    state.event_count += 1;
    state.first_seen = state.first_seen.min(r.timestamp);
    state.last_seen = state.last_seen.max(r.timestamp);
    tx.link(state.id, &plan.link, r.timestamp).await?;
    tx.insert_event(&NewEvent {
        seq: rec.seq,
        profile_id: state.id,
        source_id: r.source_id.clone(),
        message_id: r.message_id.clone(),
        kind: r.kind,
        name: event_name(r.kind, &payload),
        timestamp: r.timestamp,
        received_at: r.received_at,
        payload: r.payload.clone(),
    })
    .await?;
    tx.save_state(&state).await
}

/// Runs until `stop` turns true and the log is drained.
pub async fn run(
    store: Arc<dyn Store>,
    rules: IdentityRules,
    batch: u32,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let started = Instant::now();
        match process_batch(store.as_ref(), &rules, batch).await {
            Ok(n) if n > 0 => {
                metrics::histogram!("beacon_processor_batch_seconds").record(started.elapsed().as_secs_f64());
                backoff = Duration::from_millis(50);
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
