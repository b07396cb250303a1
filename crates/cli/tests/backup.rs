//! `beacon backup` while Beacon serves under ingest, then `beacon restore`
//! into a new data directory: every event acknowledged before the backup
//! began is in the restored store, none twice.

mod common;

use common::Server;
use serde_json::json;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SENDERS: usize = 3;
const BATCH: usize = 50;

fn beacon(args: &[&str], data_dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .expect("run beacon");
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn send_until(addr: &str, sender: usize, acked: &Mutex<BTreeSet<String>>, stop: &AtomicBool) {
    let auth = format!("Basic {}", common::b64(&format!("{}:", common::WRITE)));
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let ids: Vec<String> = (0..BATCH).map(|i| format!("s{sender}-b{n}-e{i}")).collect();
        let events: Vec<_> = ids
            .iter()
            .map(|id| json!({"type": "track", "userId": format!("bk-{sender}"), "event": "Product Viewed", "messageId": id}))
            .collect();
        let body = json!({ "batch": events }).to_string();
        let (status, _) = common::http(addr, "POST", "/v1/batch", &[("authorization", &auth)], body.as_bytes());
        assert_eq!(status, 200, "ingest");
        acked.lock().expect("lock").extend(ids);
    }
}

#[test]
fn a_backup_taken_under_load_restores_every_event_acknowledged_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = Server::start(&data, None);
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (addr, acked, stop) = (server.addr.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || send_until(&addr, s, &acked, &stop))
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("lock").len() < 3_000 {
        assert!(Instant::now() < deadline, "load too slow");
        std::thread::sleep(Duration::from_millis(5));
    }
    // what was acknowledged before the backup began; the load goes on during it
    let before = acked.lock().expect("lock").clone();
    let file = dir.path().join("beacon.backup");
    let (ok, err) = beacon(&["backup", file.to_str().expect("utf-8")], &data);
    assert!(ok, "backup failed: {err}");
    let during = acked.lock().expect("lock").len() - before.len();
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.join().expect("sender");
    }
    server.terminate();
    assert!(during > 0, "the backup ran while events kept coming");

    let restored = dir.path().join("restored");
    let (ok, err) = beacon(&["restore", file.to_str().expect("utf-8")], &restored);
    assert!(ok, "restore failed: {err}");
    let server = Server::start(&restored, None);
    server.wait_processed();
    let stored = common::stored_once(&server, (0..SENDERS).map(|s| format!("bk-{s}")));
    let lost: Vec<_> = before.difference(&stored).take(5).collect();
    assert!(lost.is_empty(), "acknowledged before the backup, missing after the restore: {lost:?}");
    // the restored store goes on: its state is not ahead of its log, so new events are processed
    let body =
        json!({"batch": [{"type": "track", "userId": "after-restore", "event": "Signed Up", "messageId": "new-1"}]});
    assert_eq!(server.post_events("/v1/batch", body.to_string().as_bytes()).0, 200);
    server.wait_processed();
    assert_eq!(common::stored_ids(&server, "after-restore").0, ["new-1"]);
}

#[test]
fn a_restore_refuses_a_store_in_place_and_a_file_that_is_no_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = Server::start(&data, None);
    let file = dir.path().join("b.tar");
    let (ok, err) = beacon(&["backup", file.to_str().expect("utf-8")], &data);
    assert!(ok, "{err}");
    let (ok, err) = beacon(&["backup", file.to_str().expect("utf-8")], &data);
    assert!(!ok && err.contains("exists already"), "never overwrites: {err}");
    server.terminate();
    let (ok, err) = beacon(&["restore", file.to_str().expect("utf-8")], &data);
    assert!(!ok && err.contains("already holds"), "{err}");
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a tar archive at all").expect("junk");
    let empty = dir.path().join("empty");
    let (ok, _) = beacon(&["restore", junk.to_str().expect("utf-8")], &empty);
    assert!(!ok, "junk is refused");
    let left: Vec<_> =
        std::fs::read_dir(&empty).map(|d| d.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "nothing half-restored: {left:?}");
}

/// A data directory whose state is ahead of its log (files copied out of
/// order, by hand) is refused at start rather than skipping new events.
#[test]
fn a_store_whose_state_is_ahead_of_its_log_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let mut server = Server::start(&data, None);
    server.terminate();
    let old_log = dir.path().join("events.db.empty");
    std::fs::copy(data.join("events.db"), &old_log).expect("copy the empty log");
    let mut server = Server::start(&data, None);
    let body = json!({"batch": [{"type": "track", "userId": "u", "event": "Signed Up", "messageId": "m-1"}]});
    assert_eq!(server.post_events("/v1/batch", body.to_string().as_bytes()).0, 200);
    server.wait_processed();
    server.terminate();
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(data.join(format!("events.db{suffix}")));
    }
    std::fs::copy(&old_log, data.join("events.db")).expect("the old log back");
    let log = dir.path().join("refused.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .env("BEACON__LOG__LEVEL", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("run beacon");
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.is_some_and(|s| !s.success()), "it must not serve: {err}");
    assert!(err.contains("ahead of the event log"), "{err}");
}
