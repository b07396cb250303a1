//! SIGTERM during ingest: the server drains and exits cleanly, and every
//! event it acknowledged is there after a restart.

mod common;

use common::Server;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[test]
fn sigterm_drains_and_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&dir.path().join("data"), None);
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..3)
        .map(|s| {
            let (addr, acked, count) = (server.addr.clone(), acked.clone(), count.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let ids: Vec<String> = (0..20).map(|i| format!("t{s}-{n}-{i}")).collect();
                    let events: Vec<_> = ids
                        .iter()
                        .map(|id| json!({"type": "track", "userId": "term", "event": "e", "messageId": id}))
                        .collect();
                    let body = json!({ "batch": events }).to_string();
                    let auth = format!("Basic {}", common::b64(&format!("{}:", common::WRITE)));
                    let (status, _) =
                        common::http(&addr, "POST", "/v1/batch", &[("authorization", &auth)], body.as_bytes());
                    if status != 200 {
                        return;
                    }
                    acked.lock().expect("lock").extend(ids);
                    count.fetch_add(20, Ordering::SeqCst);
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count.load(Ordering::SeqCst) < 1000 {
        assert!(Instant::now() < deadline, "no load");
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = server.terminate();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    for t in senders {
        t.join().expect("sender");
    }
    server.restart();
    server.wait_processed();
    let acked = acked.lock().expect("lock").clone();
    let (ids, count) = common::stored_ids(&server, "term");
    let stored: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(stored.len(), ids.len(), "none twice");
    assert_eq!(count as usize, ids.len());
    let lost: Vec<_> = acked.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
