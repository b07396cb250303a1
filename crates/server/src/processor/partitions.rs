//! Workers sharing the bus's partitions. Each worker renews a membership
//! lease (`processor:member:<node>`) and holds at most its fair share of
//! the partitions (partitions ÷ live members, rounded up) under a lease per
//! partition (`processor:partition:<n>`), renewed every round; a partition
//! whose holder stopped renewing is free once its lease runs out, and the
//! next round of any worker with room takes it. A worker holding more than
//! its share (a new one joined) gives the extra back. Each held partition
//! is processed by a task of its own, one batch at a time under the
//! partition's offset lock ([`super::process_batch`]); a worker that lost
//! a lease while a batch was running cannot double it: the offset row is
//! locked per batch and each batch starts from the stored offset.

use super::{Cache, Rules, Source, process_batch};
use beacon_bus::Bus;
use beacon_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long a lease lasts unrenewed: a dead worker's partitions are taken
/// over after at most this plus a round.
pub const LEASE: Duration = Duration::from_secs(3);
/// How often leases are renewed and free partitions looked for.
const ROUND: Duration = Duration::from_millis(1000);
/// How often an idle partition looks at the bus (nothing wakes a worker
/// when another process appends).
const IDLE: Duration = Duration::from_millis(100);

const MEMBER: &str = "processor:member:";
const PARTITION: &str = "processor:partition:";

/// What a partition's processor runs with.
#[derive(Clone)]
pub struct Partitioned {
    pub store: Arc<dyn Store>,
    pub bus: Arc<dyn Bus>,
    pub rules: Rules,
    pub batch: u32,
    pub linger: Duration,
    /// This worker's name in the leases.
    pub node: String,
}

/// One batch at a time in a worker: its partitions' batches would mostly
/// wait on each other's locks, each holding two connections meanwhile.
type Turn = Arc<tokio::sync::Mutex<()>>;

struct Held {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Held {
    async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Shares the partitions with the other workers until `stop` turns true;
/// then finishes the batches in hand and lets its leases go.
pub async fn run(p: Partitioned, mut stop: watch::Receiver<bool>) {
    let mut mine: BTreeMap<u32, Held> = BTreeMap::new();
    let turn = Turn::default();
    loop {
        if let Err(e) = round(&p, &mut mine, &turn).await {
            tracing::warn!("partition leases: {e}");
        }
        metrics::gauge!("beacon_partitions_held").set(mine.len() as f64);
        tokio::select! {
            _ = tokio::time::sleep(ROUND) => {}
            _ = stop.changed() => {}
        }
        if *stop.borrow() {
            break;
        }
    }
    let jobs = p.store.jobs();
    for (n, held) in std::mem::take(&mut mine) {
        held.stop().await;
        if let Err(e) = jobs.release_lease(&format!("{PARTITION}{n}"), &p.node).await {
            tracing::warn!("letting partition {n} go: {e}");
        }
    }
    let _ = jobs.release_lease(&format!("{MEMBER}{}", p.node), &p.node).await;
}

/// One round: renew what is held, give back what is over the fair share,
/// take free partitions up to it.
async fn round(p: &Partitioned, mine: &mut BTreeMap<u32, Held>, turn: &Turn) -> Result<(), StoreError> {
    let jobs = p.store.jobs();
    let now = p.rules.clock.now();
    let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
    jobs.acquire_lease(&format!("{MEMBER}{}", p.node), &p.node, now, until).await?;
    let members = jobs.leases(MEMBER, now).await?.len().max(1) as u32;
    let fair = p.bus.partitions().div_ceil(members) as usize;
    let held: BTreeMap<String, String> = jobs.leases(PARTITION, now).await?.into_iter().collect();
    let keys: Vec<u32> = mine.keys().copied().collect();
    for n in keys {
        if !jobs.acquire_lease(&format!("{PARTITION}{n}"), &p.node, now, until).await? {
            tracing::warn!(partition = n, "lost the partition's lease to another worker");
            if let Some(h) = mine.remove(&n) {
                // its batch in hand may finish (the offset row serialises it
                // with the new holder's); the round does not wait for it, or
                // the other leases could run out meanwhile
                tokio::spawn(h.stop());
            }
        }
    }
    while mine.len() > fair {
        let Some((n, h)) = mine.pop_last() else { break };
        tracing::info!(partition = n, fair, "giving the partition back for another worker");
        tokio::spawn(h.stop());
        jobs.release_lease(&format!("{PARTITION}{n}"), &p.node).await?;
    }
    for n in 0..p.bus.partitions() {
        if mine.len() >= fair {
            break;
        }
        let name = format!("{PARTITION}{n}");
        if mine.contains_key(&n) || held.contains_key(&name) {
            continue;
        }
        if jobs.acquire_lease(&name, &p.node, now, until).await? {
            tracing::info!(partition = n, "processing the partition");
            let (stop, stopped) = watch::channel(false);
            let task = tokio::spawn(process_partition(p.clone(), n, turn.clone(), stopped));
            mine.insert(n, Held { stop, task });
        }
    }
    Ok(())
}

/// Processes partition `n` until told to stop.
async fn process_partition(p: Partitioned, n: u32, turn: Turn, mut stop: watch::Receiver<bool>) {
    let source = Source::Partition { bus: p.bus.clone(), partition: n };
    let mut cache = Cache::default();
    let mut backoff = Duration::from_millis(50);
    let mut conflicts = 0;
    while !*stop.borrow() {
        let step = async {
            let _turn = turn.lock().await;
            let mut reader = p.store.process_reader().await?;
            process_batch(p.store.as_ref(), reader.as_mut(), &source, &p.rules, p.batch, &mut cache).await
        }
        .await;
        let pause = match step {
            Ok(done) => {
                (backoff, conflicts) = (Duration::from_millis(50), 0);
                if done >= p.batch as usize {
                    continue;
                }
                if done > 0 { p.linger } else { IDLE }
            }
            Err(StoreError::Conflict(e)) => {
                conflicts += 1;
                tracing::debug!(partition = n, "batch decided on stale reads, again: {e}");
                super::after_conflict(conflicts)
            }
            Err(e) => {
                tracing::warn!(partition = n, "partition batch failed, retrying in {backoff:?}: {e}");
                backoff = (backoff * 2).min(Duration::from_secs(5));
                backoff / 2
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}
