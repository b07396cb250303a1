//! The outbox, timers and leases, on both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use chrono::Duration;
use fixtures::t;
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;

fn job(key: &str, topic: &str, due: u32) -> NewJob {
    NewJob { key: key.into(), topic: topic.into(), payload: json!({"key": key}), due_at: t(due) }
}

const LEASE: i64 = 30;

async fn the_outbox_adds_a_key_once(store: &SqlStore) {
    let jobs = store.jobs();
    assert_eq!(jobs.enqueue(Queue::Outbox, &[job("a", "mail", 1), job("b", "mail", 1)]).await.expect("add"), 2);
    let again = NewJob { payload: json!({"other": true}), ..job("a", "mail", 0) };
    assert_eq!(jobs.enqueue(Queue::Outbox, &[again]).await.expect("again"), 0, "a key is added once");
    assert_eq!(jobs.pending(Queue::Outbox, "mail").await.expect("pending"), 2);
    let claimed = jobs.claim(Queue::Outbox, "mail", "w1", t(2), Duration::seconds(LEASE), 10).await.expect("claim");
    assert_eq!(claimed.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(), ["a", "b"]);
    assert_eq!(claimed[0].payload, json!({"key": "a"}), "the first payload stands");
    assert!(jobs.complete(Queue::Outbox, "a", "w1", t(2)).await.expect("done"));
    assert_eq!(jobs.enqueue(Queue::Outbox, &[job("a", "mail", 5)]).await.expect("after done"), 0, "done is remembered");
    assert_eq!(jobs.pending(Queue::Outbox, "mail").await.expect("pending"), 1);
    assert_eq!(jobs.pending(Queue::Timers, "mail").await.expect("other queue"), 0, "the queues are apart");
    // done rows are kept until purged; then the key may come again
    assert_eq!(jobs.purge_done(Queue::Outbox, t(2), 10).await.expect("purge"), 0, "done at 2, not before");
    assert_eq!(jobs.purge_done(Queue::Outbox, t(3), 10).await.expect("purge"), 1);
    assert_eq!(jobs.pending(Queue::Outbox, "mail").await.expect("pending"), 1, "pending jobs are never purged");
    assert_eq!(jobs.enqueue(Queue::Outbox, &[job("a", "mail", 5)]).await.expect("after purge"), 1);
}

async fn claims_take_due_unleased_jobs_soonest_first(store: &SqlStore) {
    let jobs = store.jobs();
    jobs.enqueue(Queue::Outbox, &[job("late", "q", 5), job("second", "q", 2), job("first", "q", 1)])
        .await
        .expect("add");
    jobs.enqueue(Queue::Outbox, &[job("other", "elsewhere", 1)]).await.expect("add");
    let lease = Duration::seconds(LEASE);
    let first = jobs.claim(Queue::Outbox, "q", "w1", t(3), lease, 10).await.expect("claim");
    assert_eq!(
        first.iter().map(|c| c.key.as_str()).collect::<Vec<_>>(),
        ["first", "second"],
        "due ones, soonest first"
    );
    assert_eq!(first[0].attempts, 1);
    assert_eq!(first[0].lease_until, t(3) + lease);
    assert!(jobs.claim(Queue::Outbox, "q", "w2", t(3), lease, 10).await.expect("claim").is_empty(), "leased");
    // w1 stopped: its lease runs out and w2 takes the jobs again
    let again = jobs.claim(Queue::Outbox, "q", "w2", t(3) + lease, lease, 1).await.expect("claim");
    assert_eq!((again[0].key.as_str(), again[0].attempts), ("first", 2));
    assert!(!jobs.complete(Queue::Outbox, "first", "w1", t(4)).await.expect("complete"), "w1 lost it");
    assert!(jobs.complete(Queue::Outbox, "first", "w2", t(4)).await.expect("complete"));
    // a failure gives the job back for later
    let second = jobs.claim(Queue::Outbox, "q", "w2", t(3) + lease, lease, 1).await.expect("claim");
    assert_eq!(second[0].key, "second");
    assert!(jobs.retry(Queue::Outbox, "second", "w2", "smtp 451", t(10)).await.expect("retry"));
    assert!(
        jobs.claim(Queue::Outbox, "q", "w3", t(9), lease, 10).await.expect("claim").iter().all(|c| c.key == "late")
    );
    let retried = jobs.claim(Queue::Outbox, "q", "w3", t(10), lease, 10).await.expect("claim");
    // w3's lease on `late` (taken at 9) ran out too
    assert_eq!(retried.iter().map(|c| (c.key.as_str(), c.attempts)).collect::<Vec<_>>(), [("late", 2), ("second", 3)]);
}

async fn timers_move_when_set_again_and_can_be_cancelled(store: &SqlStore) {
    let jobs = store.jobs();
    let lease = Duration::seconds(LEASE);
    jobs.schedule(Queue::Timers, &[job("team:T1", "team.expire", 5)]).await.expect("set");
    // set twice in one call: the last wins (PostgreSQL refuses one upsert touching a row twice)
    jobs.schedule(Queue::Timers, &[job("team:T1", "team.expire", 9), job("team:T1", "team.expire", 2)])
        .await
        .expect("move");
    let due = jobs.claim(Queue::Timers, "team.expire", "w1", t(3), lease, 10).await.expect("claim");
    assert_eq!(due.len(), 1, "one timer, moved to 2");
    assert!(jobs.complete(Queue::Timers, "team:T1", "w1", t(3)).await.expect("fired"));
    assert!(jobs.claim(Queue::Timers, "team.expire", "w1", t(59), lease, 10).await.expect("claim").is_empty());
    jobs.schedule(Queue::Timers, &[job("team:T1", "team.expire", 6)]).await.expect("set again");
    assert_eq!(jobs.pending(Queue::Timers, "team.expire").await.expect("pending"), 1, "armed again");
    assert!(jobs.cancel(Queue::Timers, "team:T1").await.expect("cancel"));
    assert!(!jobs.cancel(Queue::Timers, "team:T1").await.expect("cancel"), "nothing left to cancel");
    assert!(jobs.claim(Queue::Timers, "team.expire", "w1", t(59), lease, 10).await.expect("claim").is_empty());
}

/// Sets a segment recheck's timer the way the pipeline does (the sooner
/// of a pending one's time and this one), at `now`.
async fn recheck_at(store: &SqlStore, due: u32, now: u32) {
    let writes = SegmentWrites { timers: vec![job("segments:p1", "segments.recheck", due)], ..Default::default() };
    let mut tx = store.begin_processing("timers-test").await.expect("tx");
    tx.write_segments(&writes, t(now)).await.expect("set");
    tx.commit().await.expect("commit");
}

/// A recheck sets its own key's next time while it runs: the new time
/// stands (not the run's own, past, time, which fired it again for ever),
/// and the run's completion leaves it armed.
async fn a_timer_set_again_by_its_own_run_moves_on(store: &SqlStore) {
    let jobs = store.jobs();
    let lease = Duration::seconds(LEASE);
    recheck_at(store, 5, 1).await;
    recheck_at(store, 8, 1).await;
    assert!(jobs.claim(Queue::Timers, "segments.recheck", "w1", t(4), lease, 10).await.expect("claim").is_empty());
    let due = jobs.claim(Queue::Timers, "segments.recheck", "w1", t(5), lease, 10).await.expect("claim");
    assert_eq!(due.len(), 1, "the sooner time, 5, stood");
    recheck_at(store, 9, 5).await;
    assert!(!jobs.complete(Queue::Timers, "segments:p1", "w1", t(5)).await.expect("complete"), "moved on");
    assert!(jobs.claim(Queue::Timers, "segments.recheck", "w1", t(8), lease, 10).await.expect("claim").is_empty());
    assert_eq!(jobs.claim(Queue::Timers, "segments.recheck", "w2", t(9), lease, 10).await.expect("claim").len(), 1);
}

async fn a_lease_has_one_owner_until_it_runs_out(store: &SqlStore) {
    let jobs = store.jobs();
    assert!(jobs.acquire_lease("sweep", "n1", t(0), t(1)).await.expect("take"));
    assert!(!jobs.acquire_lease("sweep", "n2", t(0), t(1)).await.expect("held"), "n1 holds it");
    assert!(jobs.acquire_lease("sweep", "n1", t(0), t(2)).await.expect("renew"), "its owner renews");
    assert!(!jobs.acquire_lease("sweep", "n2", t(1), t(3)).await.expect("held"), "renewed to 2");
    assert!(jobs.acquire_lease("sweep", "n2", t(2), t(3)).await.expect("expired"), "run out: n2 takes it");
    assert!(!jobs.acquire_lease("sweep", "n1", t(2), t(3)).await.expect("lost"));
    jobs.release_lease("sweep", "n1").await.expect("not the owner: nothing");
    assert!(!jobs.acquire_lease("sweep", "n1", t(2), t(3)).await.expect("still n2's"));
    jobs.release_lease("sweep", "n2").await.expect("release");
    assert!(jobs.acquire_lease("sweep", "n1", t(2), t(3)).await.expect("free"));
}

async fn live_leases_are_listed_by_prefix(store: &SqlStore) {
    let jobs = store.jobs();
    for (name, owner, until) in [("part:2", "w1", 5), ("part:10", "w2", 5), ("part:1", "w2", 2), ("member:w1", "w1", 5)]
    {
        assert!(jobs.acquire_lease(name, owner, t(0), t(until)).await.expect("take"));
    }
    assert!(jobs.acquire_lease("part_x", "w3", t(0), t(5)).await.expect("take"));
    let live = jobs.leases("part:", t(3)).await.expect("list");
    let names: Vec<(&str, &str)> = live.iter().map(|(n, o)| (n.as_str(), o.as_str())).collect();
    assert_eq!(names, [("part:10", "w2"), ("part:2", "w1")], "part:1 ran out at 2; part_x is another prefix");
    assert_eq!(jobs.leases("part:", t(1)).await.expect("list").len(), 3);
    assert_eq!(jobs.leases("", t(3)).await.expect("all").len(), 4);
    assert!(jobs.leases("part:", t(5)).await.expect("list").is_empty(), "until is exclusive");
}

async fn payloads_keep_no_email_in_the_clear(store: &SqlStore, raw: &common::RawSql) {
    let mail = NewJob { payload: json!({"to": {"email": "lilei@example.com"}}), ..job("m", "mail", 1) };
    store.jobs().enqueue(Queue::Outbox, &[mail]).await.expect("add");
    assert!(!raw.dump_table("outbox", "payload").await.contains("lilei@example.com"));
    let claimed = store.jobs().claim(Queue::Outbox, "mail", "w", t(2), Duration::seconds(1), 1).await.expect("claim");
    assert_eq!(claimed[0].payload, json!({"to": {"email": "lilei@example.com"}}));
}

both_stores!(
    the_outbox_adds_a_key_once,
    claims_take_due_unleased_jobs_soonest_first,
    timers_move_when_set_again_and_can_be_cancelled,
    a_timer_set_again_by_its_own_run_moves_on,
    a_lease_has_one_owner_until_it_runs_out,
    live_leases_are_listed_by_prefix,
);

#[tokio::test]
async fn embedded_payloads_keep_no_email_in_the_clear() {
    let h = common::Harness::embedded().await;
    payloads_keep_no_email_in_the_clear(&h.store, &h.raw).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres_payloads_keep_no_email_in_the_clear() {
    let h = common::Harness::postgres().await;
    payloads_keep_no_email_in_the_clear(&h.store, &h.raw).await;
    h.cleanup().await;
}

/// Workers on several threads (and, on PostgreSQL, on three store handles
/// as three nodes would have) drain 300 jobs: each is done exactly once.
async fn claimers_in_parallel_never_share_a_job(nodes: Vec<Arc<SqlStore>>) {
    let jobs: Vec<NewJob> = (0..300).map(|i| job(&format!("j{i:03}"), "race", 1)).collect();
    nodes[0].jobs().enqueue(Queue::Outbox, &jobs).await.expect("add");
    let mut workers = Vec::new();
    for w in 0..6 {
        let store = nodes[w % nodes.len()].clone();
        workers.push(tokio::spawn(async move {
            let owner = format!("w{w}");
            let mut done = Vec::new();
            loop {
                let claimed = store
                    .jobs()
                    .claim(Queue::Outbox, "race", &owner, t(2), Duration::hours(1), 7)
                    .await
                    .expect("claim");
                if claimed.is_empty() {
                    return done;
                }
                for c in claimed {
                    assert!(store.jobs().complete(Queue::Outbox, &c.key, &owner, t(2)).await.expect("complete"));
                    done.push(c.key);
                }
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (300, 300), "every job once");
    assert_eq!(nodes[0].jobs().pending(Queue::Outbox, "race").await.expect("pending"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn embedded_claimers_in_parallel_never_share_a_job() {
    let h = common::Harness::embedded().await;
    let store = Arc::new(h.another().await);
    claimers_in_parallel_never_share_a_job(vec![store.clone()]).await;
    store.close().await;
    h.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_claimers_on_three_nodes_never_share_a_job() {
    let h = common::Harness::postgres().await;
    let nodes = vec![Arc::new(h.another().await), Arc::new(h.another().await), Arc::new(h.another().await)];
    claimers_in_parallel_never_share_a_job(nodes.clone()).await;
    for n in nodes {
        n.close().await;
    }
    h.cleanup().await;
}
