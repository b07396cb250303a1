//! Background work, on an [`App`] without the HTTP stack:
//!
//! - **dispatchers**, one per outbox topic (`app::jobs`): claim due jobs
//!   with a lease, handle them, mark them done or give them back for a
//!   later retry (at least once; handlers are idempotent);
//! - **sweepers** that must run once per cluster (expired group-buy teams,
//!   orders whose checkout committed without their event), each on the node
//!   that holds its named lease;
//! - at start, the one-off catch-up of the followers this replaced.
//!
//! (The processor, which consumes the event log, runs on its own thread:
//! `crate::processor`.)

use crate::app::checkout::{loyalty, recover, returns, signup, teams};
use crate::app::{App, jobs, lifecycle, tags};
use beacon_store::{ClaimedJob, Queue};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Jobs claimed at a time (handled one after another within one lease).
const CLAIM: u32 = 16;
/// How long a claimed job is a worker's before another may take it.
const JOB_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(30);
/// How often an idle dispatcher looks for due jobs.
const IDLE: Duration = Duration::from_millis(200);
/// How long done jobs are kept (a replayed batch within this adds nothing twice).
const KEEP_DONE: chrono::TimeDelta = chrono::TimeDelta::days(7);
/// How often done jobs past [`KEEP_DONE`] are purged.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Longest wait before a failed job is tried again.
const MAX_BACKOFF_SECS: i64 = 300;

/// The running tasks.
pub struct Workers {
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

/// Starts every background task on `app`.
pub fn spawn(app: &App) -> Workers {
    let (stop, rx) = watch::channel(false);
    let mut tasks: Vec<JoinHandle<()>> = jobs::TOPICS
        .iter()
        .map(|(queue, topic)| tokio::spawn(dispatch(app.clone(), *queue, topic, rx.clone())))
        .collect();
    tasks.push(tokio::spawn(catch_up(app.clone())));
    tasks.push(sweeper("teams", teams::EVERY, rx.clone(), app.clone(), |app| async move {
        let now = app.now();
        teams::expire(&app, now).await.map(drop)
    }));
    tasks.push(sweeper("done-jobs", PURGE_EVERY, rx.clone(), app.clone(), |app| async move {
        let before = app.now() - KEEP_DONE;
        for queue in [Queue::Outbox, Queue::Timers] {
            while app.store.jobs().purge_done(queue, before, 10_000).await? == 10_000 {}
        }
        Ok(())
    }));
    tasks.push(sweeper("lifecycle", lifecycle::EVERY, rx.clone(), app.clone(), |app| async move {
        lifecycle::sweep(&app).await.map(drop)
    }));
    tasks.push(sweeper("tags", tags::EVERY, rx.clone(), app.clone(), |app| async move {
        tags::sweep(&app).await.map(drop)
    }));
    tasks.push(tokio::spawn(backfill_props(app.clone(), rx.clone())));
    tasks.push(tokio::spawn(sweep_lost_orders(app.clone(), rx)));
    Workers { tasks, stop }
}

impl Workers {
    /// Stops every task and waits for them (they hold the app, so the log
    /// writer cannot drain while they run).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Handles one claimed job and records the outcome.
async fn run_job(app: &App, queue: Queue, job: &ClaimedJob) -> Result<(), beacon_core::Error> {
    let store = app.store.jobs();
    match jobs::handle(app, &job.topic, &job.payload).await {
        Ok(()) => {
            store.complete(queue, &job.key, &app.node, app.now()).await?;
            metrics::counter!("beacon_jobs_total", "topic" => job.topic.clone(), "outcome" => "done").increment(1);
        }
        Err(e) => {
            let wait = (1i64 << job.attempts.clamp(0, 9)).min(MAX_BACKOFF_SECS);
            tracing::warn!(job = %job.key, attempts = job.attempts, "job failed, retried in {wait}s: {}", e.message);
            let at = app.now() + chrono::TimeDelta::seconds(wait);
            store.retry(queue, &job.key, &app.node, &e.message, at).await?;
            metrics::counter!("beacon_jobs_total", "topic" => job.topic.clone(), "outcome" => "retried").increment(1);
        }
    }
    Ok(())
}

/// Handles the due jobs of `topic` once; returns how many were claimed.
async fn dispatch_once(app: &App, queue: Queue, topic: &str) -> Result<usize, beacon_core::Error> {
    let claimed = app.store.jobs().claim(queue, topic, &app.node, app.now(), JOB_LEASE, CLAIM).await?;
    for job in &claimed {
        run_job(app, queue, job).await?;
    }
    Ok(claimed.len())
}

/// Handles jobs until none is left to do, whichever worker does them (tests
/// and tools; the dispatchers do this continuously); returns how many this
/// call handled. A job still not done after `patience` (one failing and
/// waiting for its retry, one held by a stalled worker) is an error.
pub async fn drain(app: &App, patience: Duration) -> Result<usize, beacon_core::Error> {
    let deadline = tokio::time::Instant::now() + patience;
    let mut total = 0;
    loop {
        let mut round = 0;
        for (queue, topic) in jobs::TOPICS {
            round += dispatch_once(app, queue, topic).await?;
        }
        total += round;
        if round > 0 {
            continue;
        }
        let mut left = 0;
        // (a timer set for later is not work left; a due one another worker holds is)
        for (queue, topic) in jobs::TOPICS {
            left += match queue {
                Queue::Outbox => app.store.jobs().pending(queue, topic).await?,
                Queue::Timers => app.store.jobs().pending_due(queue, topic, app.now()).await?,
            };
        }
        if left == 0 {
            return Ok(total);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(beacon_core::Error::new(
                beacon_core::ErrorCode::Unavailable,
                format!("{left} jobs still not done"),
            ));
        }
        // held by another worker of this node or another: wait for it
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn dispatch(app: App, queue: Queue, topic: &'static str, mut stop: watch::Receiver<bool>) {
    loop {
        let busy = match dispatch_once(&app, queue, topic).await {
            Ok(n) => n == CLAIM as usize,
            Err(e) => {
                tracing::warn!("dispatching {topic} jobs: {}", e.message);
                false
            }
        };
        if *stop.borrow() {
            return;
        }
        if !busy {
            tokio::select! {
                _ = tokio::time::sleep(IDLE) => {}
                _ = stop.changed() => return,
            }
        }
    }
}

/// The followers this replaced, caught up once (see each `catch_up`).
async fn catch_up(app: App) {
    for (what, result) in [
        ("sign-ups", signup::catch_up(&app).await),
        ("points", loyalty::catch_up(&app).await),
        ("returns", returns::catch_up(&app).await),
    ] {
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!("queued {n} {what} the earlier follower had not reached"),
            Err(e) => tracing::warn!("catching up {what}: {}", e.message),
        }
    }
}

/// Runs `step` every `every` on whichever node holds the lease `sweep:<name>`
/// (taken for three rounds, renewed each round: a dead holder's sweep moves
/// to another node within that time).
fn sweeper<F, Fut>(
    name: &'static str,
    every: Duration,
    mut stop: watch::Receiver<bool>,
    app: App,
    step: F,
) -> JoinHandle<()>
where
    F: Fn(App) -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), beacon_core::Error>> + Send,
{
    tokio::spawn(async move {
        let lease = chrono::TimeDelta::from_std(every * 3).unwrap_or(chrono::TimeDelta::seconds(30));
        let lease_name = format!("sweep:{name}");
        loop {
            let now = app.now();
            match app.store.jobs().acquire_lease(&lease_name, &app.node, now, now + lease).await {
                Ok(true) => {
                    if let Err(e) = step(app.clone()).await {
                        tracing::warn!("sweeping {name}: {}", e.message);
                    }
                }
                Ok(false) => {}
                Err(e) => tracing::warn!("the {name} sweep's lease: {e}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {
                    let _ = app.store.jobs().release_lease(&lease_name, &app.node).await;
                    return;
                }
            }
        }
    })
}

/// Writes again the orders of checkouts that committed without their event:
/// over the last [`recover::LOOK_BACK`] on the first round this node holds
/// the lease (at its start, or taking it over from another node), then
/// every [`recover::EVERY`] from where the last round ended.
async fn sweep_lost_orders(app: App, mut stop: watch::Receiver<bool>) {
    let lease = chrono::TimeDelta::from_std(recover::EVERY * 3).unwrap_or(chrono::TimeDelta::minutes(3));
    // where the next round starts, while this node holds the lease
    let mut after: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        let now = app.now();
        match app.store.jobs().acquire_lease("sweep:lost-orders", &app.node, now, now + lease).await {
            Ok(true) => {
                let after = after.get_or_insert(now - recover::LOOK_BACK);
                let before = now - recover::GRACE;
                match recover::sweep(&app, *after, before).await {
                    Ok(n) => {
                        if n > 0 {
                            tracing::warn!("wrote again {n} orders whose checkout committed without its order event");
                        }
                        // the next sweep looks again a little before where this one ended
                        *after = before - recover::GRACE;
                    }
                    Err(e) => tracing::warn!("sweeping checkouts: {}", e.message),
                }
            }
            // another node sweeps; should this one take over, it looks back in full
            Ok(false) => after = None,
            Err(e) => tracing::warn!("the lost-orders sweep's lease: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(recover::EVERY) => {}
            _ = stop.changed() => {
                let _ = app.store.jobs().release_lease("sweep:lost-orders", &app.node).await;
                return;
            }
        }
    }
}

/// Fills in the segment properties of events an older version processed
/// (once per data directory, a chunk at a time, pausing between chunks so
/// live traffic goes first); ends when nothing is left or on `stop`.
async fn backfill_props(app: App, mut stop: watch::Receiver<bool>) {
    let mut done = 0usize;
    loop {
        if *stop.borrow() {
            return;
        }
        match app.store.segment_facts().backfill_props(2000).await {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) => {
                tracing::warn!("backfilling event properties, trying again in a minute: {e}");
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(60)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(20)) => {}
            _ = stop.changed() => {}
        }
    }
    if done > 0 {
        tracing::info!(events = done, "event properties backfilled for segment filters");
    }
}
