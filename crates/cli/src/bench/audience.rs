//! `beacon bench --only audience`: segments at scale. A shop of
//! `--scale-profiles` people and `--scale-events` events (views, adds,
//! checkouts, orders over 180 days) sent through `POST /v1/batch` to the
//! embedded store, then segment estimates over HTTP with the events held in
//! columns and, after a restart without them, by the store's queries;
//! DuckDB (`$BEACON_BENCH_PYTHON`, else `python3`, with the `duckdb` package)
//! runs the same query on the same events beside them, and must count the
//! same members; then the RFM table and k-means over every buyer.
//!
//! With `BEACON_BENCH_DIR` set, the shop is kept in that directory and a
//! later run with the same sizes measures it again without sending it (the
//! sending takes long at scale; the measurements want a quiet machine).

use super::loadgen::{post_request, send_any};
use super::scale::{rss_mb, send_all};
use super::{ADMIN_KEY, WRITE_KEY, wait_processed};
use anyhow::Context as _;
use beacon_server::app::ManualClock;
use beacon_server::app::held::HeldEvents;
use beacon_server::settings::Settings;
use beacon_store::SqlStore;
use chrono::{DateTime, Duration as Days, Utc};
use serde_json::{Value, json};
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The query DuckDB runs too.
const BEHAVIOUR: &str = r#"performed "Product Viewed" >= 3 within 30d and not performed "Order Completed" within 30d"#;
/// A trait and a behaviour.
const WITH_TRAIT: &str = r#"city = "上海" and performed "Product Added" >= 1 within 7d"#;
const CITIES: [&str; 5] = ["上海", "北京", "杭州", "深圳", "成都"];
const DAY_MS: u64 = 86_400_000;

/// Every event's time is before this (the bench's start).
static START: OnceLock<DateTime<Utc>> = OnceLock::new();

pub(super) fn start() -> DateTime<Utc> {
    *START.get_or_init(Utc::now)
}

fn mix(n: u64) -> u64 {
    beacon_core::seeded::Rng::new(n).next_u64()
}

/// A tracked event: (user, name, time). Times fall in the 180 days before
/// the start (the estimates are made an hour after it).
fn track(n: usize, profiles: usize) -> (usize, &'static str, DateTime<Utc>) {
    let r = mix(n as u64);
    let user = (r % profiles as u64) as usize;
    let name = match (r >> 24) % 20 {
        0..12 => "Product Viewed",
        12..16 => "Product Added",
        16..19 => "Checkout Started",
        _ => "Order Completed",
    };
    let ago = (r >> 32) % (180 * DAY_MS);
    (user, name, start() - Days::milliseconds(ago as i64))
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Event `n`: the first `profiles` identify one person each, the rest are
/// [`track`]s (an order with one line for `Order Completed`).
pub(super) fn event(n: usize, profiles: usize) -> Value {
    if n < profiles {
        let tier = ["gold", "silver", "bronze"][n % 3];
        return json!({"type": "identify", "userId": format!("u{n}"), "messageId": format!("a{n}"),
            "timestamp": time(start() - Days::days(200)),
            "traits": {"city": CITIES[n % CITIES.len()], "tier": tier}});
    }
    let (user, name, at) = track(n, profiles);
    let mut e = json!({"type": "track", "userId": format!("u{user}"), "event": name, "messageId": format!("a{n}"),
        "timestamp": time(at), "properties": {"product_id": format!("SKU-{}", n % 5000), "price": 59}});
    if name == "Order Completed" {
        let price = 20 + mix(n as u64 ^ 0x5eed) % 500;
        e["properties"] = json!({"order_id": format!("o{n}"), "total": price.to_string(), "currency": "CNY",
            "products": [{"product_id": format!("SKU-{}", n % 5000), "price": price.to_string(), "quantity": 1}]});
    }
    e
}

pub(super) struct Server {
    pub addr: SocketAddr,
    pub store: Arc<SqlStore>,
    held: Arc<HeldEvents>,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// A server on `dir`: its clock the system's, or stopped at `at`.
pub(super) async fn start_server(dir: &Path, hold: bool, at: Option<DateTime<Utc>>) -> anyhow::Result<Server> {
    let mut settings = Settings::default();
    settings.storage.data_dir = dir.to_path_buf();
    settings.storage.synchronous = "normal".into();
    settings.security.admin_rate_per_second = 0;
    settings.segments.hold_events = hold;
    let store = Arc::new(beacon_server::open_store(&settings).await?);
    let first = beacon_server::app::keys::FirstKeys {
        admin: Some(ADMIN_KEY.into()),
        write: Some(WRITE_KEY.into()),
        server: None,
    };
    beacon_server::app::keys::bootstrap(store.as_ref(), &first, Utc::now()).await?;
    let listener = beacon_server::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr()?;
    let running = match at {
        Some(at) => beacon_server::start_with_clock(settings, store.clone(), Arc::new(ManualClock::new(at)))?,
        None => beacon_server::start(settings, store.clone())?,
    };
    let held = running.state.held.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(beacon_server::serve(running, listener, async move {
        let _ = stopped.await;
    }));
    Ok(Server { addr, store, held, stop, serving })
}

impl Server {
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.serving.await??;
        self.store.close().await;
        Ok(())
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let auth = format!("Bearer {ADMIN_KEY}");
        let req = match body {
            Some(b) => post_request(path, &auth, b.to_string().as_bytes()),
            None => format!("{method} {path} HTTP/1.1\r\nhost: b\r\nauthorization: {auth}\r\n\r\n").into_bytes(),
        };
        let (_, text) = send_any(self.addr, &req).await.with_context(|| format!("{method} {path}: no answer"))?;
        serde_json::from_str(&text).with_context(|| format!("{method} {path}: {text}"))
    }

    /// `runs` estimates of `text` after `warm` unmeasured: the count and the times in ms.
    async fn estimates(&self, text: &str, warm: usize, runs: usize) -> anyhow::Result<(u64, Vec<f64>)> {
        let mut times = Vec::new();
        let mut count = 0;
        for i in 0..runs + warm {
            let started = Instant::now();
            let answer =
                self.call("POST", "/api/v1/segments/estimate", Some(&json!({"text": text, "sample": 5}))).await?;
            if i >= warm {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            count = answer["count"].as_u64().with_context(|| format!("estimate: {answer}"))?;
        }
        times.sort_by(f64::total_cmp);
        Ok((count, times))
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((p / 100.0) * (sorted.len().max(1) - 1) as f64).round() as usize).copied().unwrap_or(f64::NAN)
}

fn row(what: &str, count: u64, times: &[f64]) {
    println!("| {what} | {count} | {:.1} | {:.1} |", pct(times, 50.0), pct(times, 90.0));
}

/// The tracked events as CSV (user, kind, name, time in microseconds) for DuckDB.
fn write_csv(path: &Path, profiles: usize, events: usize) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    for n in profiles..events {
        let (user, name, at) = track(n, profiles);
        writeln!(out, "u{user},track,{name},{}", at.timestamp_micros())?;
    }
    out.flush()?;
    Ok(())
}

const DUCKDB: &str = r#"
import duckdb, json, sys, time
path, now, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
t = time.perf_counter()
con.execute("CREATE TABLE events AS SELECT * FROM read_csv(?, header=false, columns={'profile_id': 'VARCHAR', 'kind': 'VARCHAR', 'name': 'VARCHAR', 'ts': 'BIGINT'})", [path])
load = time.perf_counter() - t
since = now - 30 * 86400 * 1000000
q = f"""SELECT count(*) FROM (SELECT profile_id FROM events WHERE kind = 'track' AND name = 'Product Viewed'
  AND ts > {since} AND ts <= {now} GROUP BY profile_id HAVING count(*) >= 3) v WHERE profile_id NOT IN
  (SELECT profile_id FROM events WHERE kind = 'track' AND name = 'Order Completed' AND ts > {since} AND ts <= {now})"""
times, count = [], None
for i in range(runs + 2):
    t = time.perf_counter()
    count = con.execute(q).fetchone()[0]
    if i >= 2:
        times.append((time.perf_counter() - t) * 1000)
print(json.dumps({"version": duckdb.__version__, "load_s": load, "count": count, "times": sorted(times),
                  "threads": con.execute("SELECT current_setting('threads')").fetchone()[0]}))
"#;

fn duckdb(csv: &Path, now: DateTime<Utc>, runs: usize) -> anyhow::Result<Value> {
    let python = std::env::var("BEACON_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let now = now.timestamp_micros().to_string();
    let out = std::process::Command::new(&python)
        .args(["-c", DUCKDB, &csv.to_string_lossy(), &now, &runs.to_string()])
        .output()
        .with_context(|| format!("running {python}"))?;
    anyhow::ensure!(out.status.success(), "DuckDB: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let last = text.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| format!("DuckDB said: {text}"))
}

/// The directory the shop is in: `BEACON_BENCH_DIR`, else a temporary one.
enum Dir {
    Kept(std::path::PathBuf),
    Temporary(tempfile::TempDir),
}

impl Dir {
    fn path(&self) -> &Path {
        match self {
            Dir::Kept(p) => p,
            Dir::Temporary(t) => t.path(),
        }
    }
}

/// Starts a server on `dir` and waits until its columns are loaded (if held); answers it and the seconds taken.
async fn loaded(dir: &Path, hold: bool, at: DateTime<Utc>) -> anyhow::Result<(Server, f64)> {
    let started = Instant::now();
    let server = start_server(dir, hold, Some(at)).await?;
    while hold && !server.held.ready() {
        anyhow::ensure!(started.elapsed() < Duration::from_secs(3600), "the columns did not load");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok((server, started.elapsed().as_secs_f64()))
}

pub async fn run(profiles: usize, events: usize, runs: usize) -> anyhow::Result<()> {
    let dir = match std::env::var_os("BEACON_BENCH_DIR") {
        Some(p) => Dir::Kept(std::fs::create_dir_all(&p).map(|()| p.into())?),
        None => Dir::Temporary(tempfile::tempdir()?),
    };
    // the shop's times count back from when it was sent
    let marker = dir.path().join("audience-shop.json");
    let kept: Option<Value> = std::fs::read(&marker).ok().and_then(|b| serde_json::from_slice(&b).ok());
    let sent_at = kept
        .filter(|k| k["profiles"] == profiles && k["events"] == events)
        .and_then(|k| k["start"].as_str()?.parse::<DateTime<Utc>>().ok());
    let _ = START.set(sent_at.unwrap_or_else(Utc::now));
    if sent_at.is_none() {
        println!("Audience: {profiles} profiles, {events} events through POST /v1/batch (embedded store)…");
        let server = start_server(dir.path(), true, None).await?;
        let started = Instant::now();
        let sent = send_all(server.addr, events, profiles, 32, event).await;
        wait_processed(server.store.as_ref()).await?;
        let took = started.elapsed().as_secs_f64();
        println!("ingested and processed {sent} events in {took:.0} s ({:.0} events/s)", sent as f64 / took);
        server.stop().await?;
        let shop = json!({"profiles": profiles, "events": events, "start": start(), "seconds": took});
        std::fs::write(&marker, shop.to_string())?;
    } else {
        println!("Audience: the shop of {profiles} profiles and {events} events kept in {}", dir.path().display());
    }
    // measured as of an hour after the shop's last event, DuckDB too
    let now = start() + Days::hours(1);
    let (server, load) = loaded(dir.path(), true, now).await?;
    let (rss, _) = rss_mb();
    println!("columns loaded at a start in {load:.1} s; process memory (RSS) {rss:.0} MB\n");
    println!("| estimate over HTTP ({runs} runs) | members | p50 ms | p90 ms |\n|---|---|---|---|");
    let (held_count, held_times) = server.estimates(BEHAVIOUR, 2, runs).await?;
    row(&format!("`{BEHAVIOUR}`, events held in columns"), held_count, &held_times);
    let (n, t) = server.estimates(WITH_TRAIT, 2, runs).await?;
    row(&format!("`{WITH_TRAIT}`, events held in columns"), n, &t);
    // the computed and rule tags decided (after the sweep the start began)
    let started = Instant::now();
    let swept = server.call("POST", "/api/v1/tags/sweep", Some(&json!({}))).await?;
    anyhow::ensure!(swept.get("error").is_none(), "tags sweep: {swept}");
    println!(
        "| tags sweep (every computed tag of every profile) | {} added | {:.0} | |",
        swept["added"],
        started.elapsed().as_secs_f64() * 1000.0
    );
    // as of yesterday: today's table the lifecycle sweep made at the start
    let day = (now - Days::days(1)).date_naive();
    for (what, path) in [
        ("RFM table, every buyer (as_of yesterday: not cached)", format!("/api/v1/rfm?as_of={day}")),
        ("k-means, k = 4, on that table", format!("/api/v1/clusters?k=4&as_of={day}")),
    ] {
        let started = Instant::now();
        let answer = server.call("GET", &path, None).await?;
        anyhow::ensure!(answer.get("error").is_none(), "{path}: {answer}");
        println!("| {what} | {} | {:.0} | |", answer["customers"], started.elapsed().as_secs_f64() * 1000.0);
    }
    server.stop().await?;

    let (sql, _) = loaded(dir.path(), false, now).await?;
    let sql_runs = runs.clamp(1, 3);
    let (sql_count, sql_times) = sql.estimates(BEHAVIOUR, 1, sql_runs).await?;
    row(&format!("`{BEHAVIOUR}`, the store's queries ({sql_runs} runs)"), sql_count, &sql_times);
    sql.stop().await?;

    let csv = dir.path().join("events.csv");
    write_csv(&csv, profiles, events)?;
    let duck = duckdb(&csv, now, runs)?;
    let _ = std::fs::remove_file(&csv);
    let times: Vec<f64> = serde_json::from_value(duck["times"].clone())?;
    println!(
        "\nDuckDB {} ({} threads, in process, table loaded from CSV in {:.1} s):",
        duck["version"],
        duck["threads"],
        duck["load_s"].as_f64().unwrap_or(f64::NAN)
    );
    let duck_count = duck["count"].as_u64().unwrap_or(0);
    row(&format!("`{BEHAVIOUR}` as SQL"), duck_count, &times);
    anyhow::ensure!(
        held_count == duck_count && sql_count == duck_count,
        "members differ: columns {held_count}, store {sql_count}, DuckDB {duck_count}"
    );
    println!("\nthe three count the same members: {duck_count}");
    Ok(())
}
