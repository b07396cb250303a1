//! Chaos on loopback: 2 API nodes and 3 workers on one PostgreSQL — the
//! event log on NATS JetStream (6 partitions the workers share), and on
//! PostgreSQL's own log table — under sustained Segment batch ingest and
//! contended checkouts; workers are killed with `kill -9` one after another
//! (a third of them down at times) and an API node once, and restarted.
//! Afterwards: no acknowledged event lost, none applied twice (timelines
//! and profile counters exact), no coupon used past its limit, and
//! processing went on within 10 s of each kill.

mod common;

use common::{NatsStream, PgSchema, Server};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const USERS: usize = 6;
const BATCH: usize = 40;
const SENDERS: usize = 3;
const ORDERS: usize = 120;
const COUPON_USES: i64 = 30;

type Addrs = Arc<Mutex<Vec<String>>>;

fn env(role: &str, bus: Option<&NatsStream>) -> Vec<(String, String)> {
    let mut env = vec![
        ("BEACON__SERVER__ROLE".into(), role.into()),
        // one key for the cluster: every node reads what the others sealed
        ("BEACON__SECURITY__ENCRYPTION_KEY".into(), "7".repeat(64)),
        ("BEACON__SECURITY__ADMIN_RATE_PER_SECOND".into(), "0".into()),
    ];
    env.extend(bus.map(NatsStream::env).unwrap_or_default());
    env
}

/// POSTs to one API node, or the other if it does not answer: what an SDK
/// or a load balancer does. Returns the answer of the node that took it.
fn post_anywhere(apis: &Addrs, start: usize, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for attempt in start.. {
        let addr = {
            let a = apis.lock().expect("lock");
            a[attempt % a.len()].clone()
        };
        let (status, answer) = common::http(&addr, "POST", path, headers, body);
        if status != 0 && status != 503 {
            return (status, answer);
        }
        assert!(Instant::now() < deadline, "no API node took {path}");
        std::thread::sleep(Duration::from_millis(50));
    }
    unreachable!()
}

/// Sends batches until `stop`.
fn send_events(apis: Addrs, sender: usize, acked: Arc<Mutex<BTreeSet<String>>>, stop: Arc<AtomicBool>) {
    let auth = format!("Basic {}", common::b64(&format!("{}:", common::WRITE)));
    for n in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let ids: Vec<String> = (0..BATCH).map(|i| format!("s{sender}-b{n}-e{i}")).collect();
        let events: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({"type": "track", "userId": format!("chaos-{}", (n + i) % USERS),
                "event": "Product Viewed", "messageId": id, "properties": {"sku": "SKU-1"}})
            })
            .collect();
        let body = json!({ "batch": events }).to_string();
        let (status, answer) = post_anywhere(&apis, sender, "/v1/batch", &[("authorization", &auth)], body.as_bytes());
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&answer));
        acked.lock().expect("lock").extend(ids);
    }
}

/// Places its share of the orders, spread over the chaos.
fn place_orders(apis: Addrs, worker: usize, created: Arc<AtomicUsize>) {
    let auth = format!("Bearer {}", common::ADMIN);
    for i in (worker..ORDERS).step_by(2) {
        std::thread::sleep(Duration::from_millis(25));
        let body = json!({"user_id": format!("buyer-{i}"), "coupons": ["CHAOS"], "order_id": format!("CH-{i}"),
            "lines": [{"product_id": "tea", "price": "20.00"}]})
        .to_string();
        let key = format!("chaos-order-{i}");
        let headers =
            [("authorization", auth.as_str()), ("content-type", "application/json"), ("idempotency-key", &key)];
        let (status, answer) = post_anywhere(&apis, i, "/api/v1/orders", &headers, body.as_bytes());
        match status {
            200 | 201 => {
                // a retry on the other node answers the first result (200): count each order once
                if status == 201 {
                    created.fetch_add(1, Ordering::SeqCst);
                }
            }
            409 => {}
            other => panic!("order {i}: {other} {}", String::from_utf8_lossy(&answer)),
        }
    }
}

fn progress(api: &Server) -> (i64, i64) {
    let (_, r) = api.get("/readyz");
    (r["processed"].as_i64().unwrap_or(-1), r["log_head"].as_i64().unwrap_or(-1))
}

/// After a kill: the log is still being consumed within 10 s (or was caught
/// up). If not, what the nodes logged is shown.
fn assert_processing_goes_on(api: &Server, nodes: &[&Server], what: &str) {
    let (before, head) = progress(api);
    let started = Instant::now();
    loop {
        let (now, _) = progress(api);
        if now > before || now >= head {
            return;
        }
        if started.elapsed() >= Duration::from_secs(10) {
            for n in nodes {
                eprintln!("--- {}:\n{}", n.data_dir.display(), n.log_tail(40));
            }
            panic!("processing stopped after {what}: {before} of {head}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn on_nats_kill9_of_workers_and_an_api_node_under_load_loses_and_doubles_nothing() {
    let bus = NatsStream::new(6);
    chaos(Some(&bus));
}

#[test]
fn on_postgres_log_kill9_of_workers_and_an_api_node_under_load_loses_and_doubles_nothing() {
    chaos(None);
}

fn chaos(bus: Option<&NatsStream>) {
    let pg = PgSchema::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let node = |name: &str, role: &str| Server::start_with(&dir.path().join(name), Some(&pg.url), &env(role, bus));
    let api1 = node("api1", "api");
    let mut api2 = node("api2", "api");
    let mut workers: Vec<Server> = (1..=3).map(|n| node(&format!("worker{n}"), "worker")).collect();
    let admin = [("authorization", format!("Bearer {}", common::ADMIN)), ("content-type", "application/json".into())];
    let admin: Vec<(&str, &str)> = admin.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let promo = json!({"id": "chaos", "name": "30张", "status": "active", "coupon": "CHAOS",
        "reward": {"type": "amount_off", "amount": "5"}, "limits": [{"counter": "redemptions", "limit": COUPON_USES}]});
    let (s, v) = common::http(&api1.addr, "POST", "/api/v1/promotions", &admin, promo.to_string().as_bytes());
    assert_eq!(s, 201, "{}", String::from_utf8_lossy(&v));

    let apis: Addrs = Arc::new(Mutex::new(vec![api1.addr.clone(), api2.addr.clone()]));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let created = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..SENDERS)
        .map(|s| {
            let (apis, acked, stop) = (apis.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || send_events(apis, s, acked, stop))
        })
        .collect();
    let buyers: Vec<_> = (0..2)
        .map(|w| {
            let (apis, created) = (apis.clone(), created.clone());
            std::thread::spawn(move || place_orders(apis, w, created))
        })
        .collect();

    // the chaos, under the load: each worker twice in turn (a third of them
    // down at a time), the second API node once
    let t0 = Instant::now();
    for round in 0..7 {
        eprintln!("round {round} at {:?} progress {:?}", t0.elapsed(), progress(&api1));
        std::thread::sleep(Duration::from_millis(250));
        if round == 3 {
            api2.kill9();
            apis.lock().expect("lock").retain(|a| *a != api2.addr);
            assert_processing_goes_on(&api1, &workers.iter().collect::<Vec<_>>(), "an API node's kill");
            api2.restart();
            apis.lock().expect("lock").push(api2.addr.clone());
        } else {
            workers[round % 3].kill9();
            assert_processing_goes_on(&api1, &workers.iter().collect::<Vec<_>>(), "a worker's kill");
            workers[round % 3].restart();
        }
    }
    stop.store(true, Ordering::SeqCst);
    for t in senders.into_iter().chain(buyers) {
        t.join().expect("load thread");
    }

    // settled: every acknowledged event once, the counters exact, the coupon within its limit
    eprintln!("load stopped at {:?} progress {:?}", t0.elapsed(), progress(&api1));
    api1.wait_processed();
    eprintln!("processed at {:?}", t0.elapsed());
    let acked = acked.lock().expect("lock").clone();
    assert!(acked.len() >= 2_000, "sustained load: {} events", acked.len());
    let stored = common::stored_once(&api1, (0..USERS).map(|u| format!("chaos-{u}")));
    eprintln!("stored read at {:?}: {} events", t0.elapsed(), stored.len());
    assert_eq!(stored, acked, "every acknowledged event, and only those");
    assert_eq!(created.load(Ordering::SeqCst) as i64, COUPON_USES, "orders placed with the coupon");
    let (_, usage) = api1.get("/api/v1/promotions/chaos/usage");
    assert_eq!(usage["items"][0]["used"], COUPON_USES, "{usage}");
    let (_, orders) = api1.get("/api/v1/orders?limit=200");
    let with_coupon = orders["items"].as_array().map_or(0, |o| o.iter().filter(|o| o["coupon"] == "CHAOS").count());
    assert_eq!(with_coupon as i64, COUPON_USES, "each placed order recorded once");
    eprintln!("checked at {:?}", t0.elapsed());
}
