//! `kill -9` during sustained ingest, restart: every acknowledged event is
//! there, none twice — on the embedded store and on PostgreSQL.

mod common;

use common::{PgSchema, Server};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDERS: usize = 4;
const BATCH: usize = 50;
/// Kill once this many events were acknowledged.
const KILL_AFTER: usize = 3_000;

struct Outcome {
    acked: BTreeSet<String>,
    /// Batches in flight when the server died: an SDK retries these.
    unacked: Vec<(Vec<String>, Vec<u8>)>,
}

fn batch_body(sender: usize, n: usize) -> (Vec<String>, Vec<u8>) {
    let ids: Vec<String> = (0..BATCH).map(|i| format!("s{sender}-b{n}-e{i}")).collect();
    let events: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({"type": "track", "userId": format!("crash-{sender}"), "event": "Product Viewed", "messageId": id,
                         "properties": {"sku": "SKU-42", "price": "19.90"}})
        })
        .collect();
    (ids, json!({ "batch": events }).to_string().into_bytes())
}

fn load_until_killed(server: &mut Server) -> Outcome {
    let addr = server.addr.clone();
    let acked_count = Arc::new(AtomicUsize::new(0));
    let outcome = Arc::new(Mutex::new(Outcome { acked: BTreeSet::new(), unacked: Vec::new() }));
    let dead = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (addr, acked_count, outcome, dead) = (addr.clone(), acked_count.clone(), outcome.clone(), dead.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let (ids, body) = batch_body(sender, n);
                    let auth = format!("Basic {}", common::b64(&format!("{}:", common::WRITE)));
                    let (status, _) = common::http(&addr, "POST", "/v1/batch", &[("authorization", &auth)], &body);
                    let mut o = outcome.lock().expect("lock");
                    if status == 200 {
                        o.acked.extend(ids);
                        acked_count.fetch_add(BATCH, Ordering::SeqCst);
                    } else {
                        o.unacked.push((ids, body));
                        return;
                    }
                    if dead.load(Ordering::SeqCst) {
                        return;
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(120);
    while acked_count.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "load did not reach {KILL_AFTER} events");
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    dead.store(true, Ordering::SeqCst);
    for t in threads {
        t.join().expect("sender");
    }
    Arc::try_unwrap(outcome).ok().expect("senders done").into_inner().expect("lock")
}

fn survive_kill9(database_url: Option<&str>, env: &[(String, String)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start_with(&dir.path().join("data"), database_url, env);
    let outcome = load_until_killed(&mut server);
    server.restart();
    // what a real SDK does: retry the batches that got no answer
    let mut attempted = outcome.acked.clone();
    for (ids, body) in &outcome.unacked {
        let (s, v) = server.post_events("/v1/batch", body);
        assert_eq!(s, 200, "{v}");
        attempted.extend(ids.iter().cloned());
    }
    server.wait_processed();
    let stored = common::stored_once(&server, (0..SENDERS).map(|s| format!("crash-{s}")));
    let lost: Vec<_> = outcome.acked.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "acknowledged events lost: {lost:?}");
    assert_eq!(stored, attempted, "after the retries, exactly the events sent");
    assert!(outcome.acked.len() >= KILL_AFTER);
}

#[test]
fn kill9_under_load_loses_no_acknowledged_event_embedded() {
    survive_kill9(None, &[]);
}

#[test]
fn kill9_under_load_loses_no_acknowledged_event_embedded_fsync_per_commit() {
    survive_kill9(None, &[("BEACON__STORAGE__SYNCHRONOUS".into(), "full".into())]);
}

#[test]
fn kill9_under_load_loses_no_acknowledged_event_postgres() {
    let pg = PgSchema::new();
    survive_kill9(Some(&pg.url), &[]);
}
