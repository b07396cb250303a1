//! The outbox's own rate: jobs enqueued in batches, then claimed 50 at a
//! time and completed one by one, as a dispatcher does, on the bench's
//! store (a topic no dispatcher handles, so only this loop touches them).

use beacon_store::{NewJob, Queue, Store as _};
use std::time::{Duration, Instant};

const JOBS: usize = 5_000;

pub async fn run(store: &beacon_store::SqlStore, run: &str) -> anyhow::Result<()> {
    let topic = format!("bench.{run}");
    let now = chrono::Utc::now();
    let jobs: Vec<NewJob> = (0..JOBS)
        .map(|i| NewJob {
            key: format!("{topic}:{i}"),
            topic: topic.clone(),
            payload: serde_json::json!({"n": i}),
            due_at: now,
        })
        .collect();
    let started = Instant::now();
    for part in jobs.chunks(500) {
        store.jobs().enqueue(Queue::Outbox, part).await?;
    }
    let enqueued = started.elapsed();
    let started = Instant::now();
    let mut done = 0;
    while done < JOBS {
        let now = chrono::Utc::now();
        let claimed =
            store.jobs().claim(Queue::Outbox, &topic, "bench", now, chrono::Duration::seconds(30), 50).await?;
        if claimed.is_empty() && started.elapsed() > Duration::from_secs(120) {
            anyhow::bail!("jobs stopped coming after {done}");
        }
        for job in claimed {
            if store.jobs().complete(Queue::Outbox, &job.key, "bench", now).await? {
                done += 1;
            }
        }
    }
    let worked = started.elapsed();
    println!(
        "| outbox: {JOBS} jobs enqueued (batches of 500), then claimed 50 at a time and completed one by one (jobs/s) | {:.0} | | | |",
        JOBS as f64 / worked.as_secs_f64().max(1e-9)
    );
    println!("| (enqueueing them: {:.0} jobs/s) | | | | |", JOBS as f64 / enqueued.as_secs_f64().max(1e-9));
    Ok(())
}
