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

/// Sends `head` (and `body`) on a new connection; answers the stream.
fn open(addr: &str, head: &str, body: &[u8]) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).expect("read timeout");
    s.write_all(head.as_bytes()).expect("send head");
    s.write_all(body).expect("send body");
    s
}

/// Everything the server sends until it closes the connection.
fn until_closed(mut s: std::net::TcpStream) -> String {
    use std::io::Read;
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn stalled_clients_are_cut_off_and_do_not_hold_up_shutdown() {
    let dir = tempfile::tempdir().expect("tempdir");
    let env: Vec<(String, String)> = [
        ("BEACON__SERVER__HEADER_TIMEOUT_SECS", "1"),
        ("BEACON__SERVER__BODY_TIMEOUT_SECS", "1"),
        ("BEACON__SERVER__SHUTDOWN_GRACE_SECS", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let mut server = Server::start_with(&dir.path().join("data"), None, &env);
    let auth = format!("Basic {}", common::b64(&format!("{}:", common::WRITE)));
    let stalled_body = format!(
        "POST /v1/track HTTP/1.1\r\nhost: x\r\nauthorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n"
    );
    // a body that stops after 10 of its 100 bytes: 408, the one error shape
    let answer = until_closed(open(&server.addr, &stalled_body, b"{\"type\":\"t"));
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    // headers that never end, and a connection that never sends: closed
    let half = until_closed(open(&server.addr, "POST /v1/track HTTP/1.1\r\nhost: x\r\n", b""));
    assert!(!half.starts_with("HTTP/1.1 2"), "{half}");
    let idle = until_closed(open(&server.addr, "", b""));
    assert!(idle.is_empty() || idle.starts_with("HTTP/1.1 408"), "{idle}");
    // a kept-alive connection that goes quiet after its request is closed too
    let kept = until_closed(open(&server.addr, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n", b""));
    assert!(kept.starts_with("HTTP/1.1 200"), "{kept}");

    // SIGTERM while a client stalls mid-body: the server still exits, cleanly
    let stalled = open(&server.addr, &stalled_body, b"{\"type\":");
    let idle = open(&server.addr, "", b"");
    std::thread::sleep(Duration::from_millis(200));
    let _ = std::process::Command::new("kill").arg("-TERM").arg(server.child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "the server is still running a minute after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "clean exit: {status:?}");
    drop((stalled, idle));
}
