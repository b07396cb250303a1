//! `beacon bench --only console`: the API calls behind the marketer
//! console's screens on the demo shop (issue 15: none over 200 ms p99).
//!
//! The shop is `beacon demo --no-serve`'s own (seed 42, 10,000 shoppers, 90
//! days, the demo's end date: yesterday, China time), generated and sent
//! through the real ingest path into a fresh data directory (and, with
//! `--database-url`, a fresh PostgreSQL schema, dropped at the end). Then
//! the bench serves that store itself (no admin rate limit), waits until
//! the processor has caught up, and times each call's requests one after
//! another on one keep-alive connection, as a browser tab makes them:
//! once with the demo's admin key, once with a console session cookie (an
//! admin user made through `POST /api/v1/users`, logged in through
//! `POST /api/v1/session`). `GET /healthz` (no store, no key) is the
//! floor: what any answer costs through this HTTP stack on this machine.
//!
//! `BEACON_BENCH_DEMO_DIR=<dir>` keeps the shop in `<dir>` instead, and a
//! second run uses it as it is (the demo's own "loaded already"); with
//! PostgreSQL the URL must then name the schema the shop is in.

use super::loadgen::{self, LoadResult};
use super::{BenchOptions, wait_processed};
use crate::demo::DemoOptions;
use crate::import::client::Client;
use anyhow::{Context as _, bail};
use beacon_server::settings::Settings;
use chrono::NaiveDate;
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Timed requests of each call, after [`WARM`] untimed ones.
const SAMPLES: usize = 200;
const WARM: usize = 20;
/// The bound on a call's p99.
const LIMIT_MS: f64 = 200.0;
/// The customer 360 cycles through this many of the profiles with the most events.
const HEAVY: usize = 5;

/// One API call of a screen: its requests cycle through `paths`.
struct Call {
    screen: &'static str,
    label: String,
    paths: Vec<String>,
    /// POST this body (JSON) instead of GET.
    body: Option<Value>,
}

fn get(screen: &'static str, label: impl Into<String>, paths: Vec<String>) -> Call {
    Call { screen, label: label.into(), paths, body: None }
}

/// How a request proves who sends it.
enum Auth {
    Key(String),
    Cookie { token: String, csrf: String },
}

impl Auth {
    fn headers(&self, post: bool) -> String {
        match self {
            Auth::Key(key) => format!("authorization: Bearer {key}\r\n"),
            Auth::Cookie { token, csrf } if post => {
                format!("cookie: beacon_session={token}\r\nx-csrf-token: {csrf}\r\n")
            }
            Auth::Cookie { token, .. } => format!("cookie: beacon_session={token}\r\n"),
        }
    }
}

fn request(call: &Call, i: usize, auth: Option<&Auth>) -> Vec<u8> {
    let path = &call.paths[i % call.paths.len()];
    let headers = auth.map(|a| a.headers(call.body.is_some())).unwrap_or_default();
    match &call.body {
        None => format!("GET {path} HTTP/1.1\r\nhost: bench\r\naccept: application/json\r\n{headers}\r\n").into_bytes(),
        Some(body) => {
            let body = body.to_string();
            let mut req = format!(
                "POST {path} HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n{headers}content-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            req.extend_from_slice(body.as_bytes());
            req
        }
    }
}

/// [`WARM`] requests, then [`SAMPLES`] timed ones, one at a time on one connection.
async fn time(addr: SocketAddr, call: &Call, auth: Option<&Auth>) -> LoadResult {
    let list = |n: usize| Arc::new((0..n).map(|i| request(call, i, auth)).collect::<Vec<_>>());
    let cap = Duration::from_secs(600);
    loadgen::run_each(addr, 1, cap, list(WARM)).await;
    loadgen::run_each(addr, 1, cap, list(SAMPLES)).await
}

/// A fresh schema for the shop when on PostgreSQL: (its URL, its name).
async fn fresh_schema(base: &str) -> anyhow::Result<(String, String)> {
    let schema = format!("bench_console_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let admin = sqlx::AnyPool::connect(base).await.context("PostgreSQL")?;
    sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await?;
    admin.close().await;
    let sep = if base.contains('?') { '&' } else { '?' };
    Ok((format!("{base}{sep}options=-c%20search_path%3D{schema}"), schema))
}

async fn drop_schema(base: &str, schema: &str) {
    if let Ok(admin) = sqlx::AnyPool::connect(base).await {
        let _ = sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await;
        admin.close().await;
    }
}

fn read_json(dir: &Path, file: &str) -> anyhow::Result<Value> {
    let text = std::fs::read_to_string(dir.join(file)).with_context(|| format!("{file} in the demo's directory"))?;
    Ok(serde_json::from_str(&text)?)
}

pub async fn run(opts: &BenchOptions) -> anyhow::Result<()> {
    let kept = std::env::var_os("BEACON_BENCH_DEMO_DIR").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir()?;
    let dir = kept.clone().unwrap_or_else(|| temp.path().join("demo"));
    let schema = match (&opts.database_url, &kept) {
        (Some(base), None) => Some(fresh_schema(base).await?),
        _ => None,
    };
    let database_url = schema.as_ref().map(|(url, _)| url.clone()).or_else(|| opts.database_url.clone());
    let result = measure(opts, &dir, database_url).await;
    if let (Some(base), Some((_, name))) = (&opts.database_url, &schema) {
        drop_schema(base, name).await;
    }
    result
}

async fn measure(opts: &BenchOptions, dir: &Path, database_url: Option<String>) -> anyhow::Result<()> {
    println!("(loading the demo shop as `beacon demo --no-serve` does: generated, sent through POST /v1/batch…)");
    let started = Instant::now();
    let demo = DemoOptions {
        seed: 42,
        data_dir: dir.to_path_buf(),
        listen: "127.0.0.1:0".into(),
        database_url: database_url.clone(),
        shoppers: 10_000,
        products: 600,
        days: 90,
        end_date: None,
        fresh: false,
        no_serve: true,
    };
    crate::demo::run(demo).await.context("loading the demo shop")?;
    let loaded_in = started.elapsed();
    let admin = read_json(dir, "demo-keys.json")?["admin"].as_str().unwrap_or_default().to_string();
    let loaded = read_json(dir, "demo-loaded.json")?;

    let mut settings = Settings::default();
    settings.storage.data_dir = dir.to_path_buf();
    settings.storage.database_url = database_url.unwrap_or_default();
    settings.storage.synchronous = opts.synchronous.clone();
    settings.security.admin_rate_per_second = 0;
    let store = Arc::new(beacon_server::open_store(&settings).await?);
    let listener = beacon_server::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr()?;
    let running = beacon_server::start(settings, store.clone())?;
    tokio::spawn(beacon_server::serve(running, listener, std::future::pending()));
    wait_processed(store.as_ref()).await?;

    let client = Client::new(&format!("http://{addr}"), &admin)?;
    let overview = client.get("/api/v1/overview").await?;
    let calls = calls(&client, &loaded).await?;
    let cookie = login(addr, &admin).await.context("a console session")?;
    let store_name = if opts.database_url.is_some() { "PostgreSQL" } else { "embedded SQLite" };
    println!(
        "\nStore: {store_name}, {} cores. The demo shop (seed 42, {} to {}): {} profiles, {} events, {} orders; \
         loaded and processed in {:.1} s.\nEach call: {WARM} requests to warm up, then {SAMPLES} timed, one at a \
         time on one keep-alive connection; with the admin key, then with a console session cookie.\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loaded["from"].as_str().unwrap_or(""),
        loaded["to"].as_str().unwrap_or(""),
        overview["profiles"],
        overview["events"],
        overview["orders"],
        loaded_in.as_secs_f64()
    );
    println!(
        "| screen | call | key p50 ms | key p99 ms | key max ms | cookie p50 ms | cookie p99 ms | cookie max ms | answer KB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let floor = get("(baseline)", "GET /healthz (no store, no key)", vec!["/healthz".into()]);
    let r = time(addr, &floor, None).await;
    let size = answer_kb(addr, &floor, None).await?;
    println!(
        "| {} | {} | {:.2} | {:.2} | {:.2} | | | | {size:.1} |",
        floor.screen,
        floor.label,
        r.percentile_ms(50.0),
        r.percentile_ms(99.0),
        r.percentile_ms(100.0)
    );
    let mut over = Vec::new();
    for call in &calls {
        let size = answer_kb(addr, call, Some(&Auth::Key(admin.clone()))).await?;
        let k = time(addr, call, Some(&Auth::Key(admin.clone()))).await;
        let c = time(addr, call, Some(&cookie)).await;
        for (how, r) in [("key", &k), ("cookie", &c)] {
            if r.failed > 0 {
                bail!("{} with the {how}: {} failed ({:?})", call.label, r.failed, r.first_failure);
            }
            if r.percentile_ms(99.0) > LIMIT_MS && call.screen != "(compare)" {
                over.push(format!("{} ({how}): p99 {:.0} ms", call.label, r.percentile_ms(99.0)));
            }
        }
        let flag = |r: &LoadResult| if r.percentile_ms(99.0) > LIMIT_MS { " **over 200**" } else { "" };
        println!(
            "| {} | {} | {:.2} | {:.2}{} | {:.2} | {:.2} | {:.2}{} | {:.2} | {size:.1} |",
            call.screen,
            call.label,
            k.percentile_ms(50.0),
            k.percentile_ms(99.0),
            flag(&k),
            k.percentile_ms(100.0),
            c.percentile_ms(50.0),
            c.percentile_ms(99.0),
            flag(&c),
            c.percentile_ms(100.0)
        );
    }
    if over.is_empty() {
        println!("\nNo call over {LIMIT_MS:.0} ms p99.");
    } else {
        println!("\nOver {LIMIT_MS:.0} ms p99:");
        for o in over {
            println!("- {o}");
        }
    }
    Ok(())
}

/// The size of the call's first answer; an error if it is not 200.
async fn answer_kb(addr: SocketAddr, call: &Call, auth: Option<&Auth>) -> anyhow::Result<f64> {
    match loadgen::send_one(addr, &request(call, 0, auth)).await {
        Some(body) => Ok(body.len() as f64 / 1024.0),
        None => bail!("{} ({}) did not answer 200", call.label, call.paths[0]),
    }
}

/// An admin user made through the API, logged in: its cookie and CSRF token.
async fn login(addr: SocketAddr, admin: &str) -> anyhow::Result<Auth> {
    let http = reqwest::Client::new();
    let (email, password) = (format!("bench-{}@bench.local", uuid::Uuid::new_v4().simple()), "bench-console-pw-0123");
    let user = json!({"email": email, "name": "bench", "role": "admin", "password": password});
    let resp = http.post(format!("http://{addr}/api/v1/users")).bearer_auth(admin).json(&user).send().await?;
    if !resp.status().is_success() {
        bail!("POST /api/v1/users: {} {}", resp.status(), resp.text().await.unwrap_or_default());
    }
    let resp = http
        .post(format!("http://{addr}/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await?;
    let cookie = resp.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let token = cookie.split(';').next().and_then(|c| c.strip_prefix("beacon_session=")).unwrap_or("");
    if !status.is_success() || token.is_empty() {
        bail!("POST /api/v1/session: {status} {body}");
    }
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    Ok(Auth::Cookie { token: token.to_string(), csrf })
}

/// The calls of each screen, on the shop's real profiles: the customer 360
/// on the [`HEAVY`] profiles with the most events.
async fn calls(client: &Client, loaded: &Value) -> anyhow::Result<Vec<Call>> {
    let date = |k: &str| NaiveDate::parse_from_str(loaded[k].as_str().unwrap_or(""), "%Y-%m-%d");
    let to = date("to").context("the demo's last day")?;
    let days = |n: i64| format!("/api/v1/dashboard?from={}&to={to}", to - chrono::Duration::days(n - 1));
    // every profile of 20 events or more, by event count
    let mut heavy: Vec<(i64, Value)> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/profiles?limit=200&min_events=20".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={}", urlencoding(c)));
        }
        let page = client.get(&path).await?;
        for p in page["items"].as_array().into_iter().flatten() {
            heavy.push((p["event_count"].as_i64().unwrap_or(0), p.clone()));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    heavy.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let ids: Vec<String> = heavy.iter().take(HEAVY).filter_map(|(_, p)| p["id"].as_str().map(str::to_string)).collect();
    if ids.is_empty() {
        bail!("the demo shop has no profile of 20 events or more");
    }
    let identity = |kind: &str| {
        heavy.iter().find_map(|(_, p)| {
            p["identities"].as_array()?.iter().find(|i| i["type"] == kind).and_then(|i| i["value"].as_str())
        })
    };
    let phone = identity("phone").context("no profile with a phone")?;
    let email = identity("email").context("no profile with an email")?;
    let each = |f: &dyn Fn(&str) -> String| ids.iter().map(|id| f(id)).collect::<Vec<_>>();
    // the member the demo gave a spring coupon: its code, in a 3-line cart
    let member = loaded["member"].as_str().unwrap_or_default();
    let wallet = client.get(&format!("/api/v1/profiles/{member}/coupons")).await?;
    let code = wallet["items"].as_array().into_iter().flatten().find_map(|c| c["code"].as_str()).unwrap_or("NEW20");
    let flash = loaded["flash"].as_str().unwrap_or("P00001");
    let cart = json!({"profile_id": member, "coupons": [code], "lines": [
        {"product_id": flash}, {"product_id": "P00002", "quantity": 2}, {"product_id": "P00003"}]});
    Ok(vec![
        get("dashboard", "GET /api/v1/dashboard, 90 days", vec![days(90)]),
        get("dashboard", "GET /api/v1/dashboard, 30 days", vec![days(30)]),
        // not a console call: the dashboard's order figures alone, without visitors and buyers
        get("(compare)", "GET /api/v1/overview/daily, 90 days", vec![days(90).replace("dashboard", "overview/daily")]),
        get("dashboard", "GET /api/v1/shop", vec!["/api/v1/shop".into()]),
        get("dashboard", "GET /api/v1/session", vec!["/api/v1/session".into()]),
        get("customers", "GET /api/v1/profiles?limit=50", vec!["/api/v1/profiles?limit=50".into()]),
        get(
            "customers",
            "GET /api/v1/profiles?identity=phone:…",
            vec![format!("/api/v1/profiles?identity=phone:{}", urlencoding(phone))],
        ),
        get(
            "customers",
            "GET /api/v1/profiles?identity=email:…",
            vec![format!("/api/v1/profiles?identity=email:{}", urlencoding(email))],
        ),
        get(
            "customers",
            "GET /api/v1/profiles?limit=50&min_events=20",
            vec!["/api/v1/profiles?limit=50&min_events=20".into()],
        ),
        get("360", "GET /api/v1/profiles/{id}", each(&|id| format!("/api/v1/profiles/{id}"))),
        get(
            "360",
            "GET /api/v1/profiles/{id}/events?limit=50",
            each(&|id| format!("/api/v1/profiles/{id}/events?limit=50")),
        ),
        get("360", "GET /api/v1/orders?profile={id}", each(&|id| format!("/api/v1/orders?profile={id}"))),
        get("360", "GET /api/v1/profiles/{id}/coupons", each(&|id| format!("/api/v1/profiles/{id}/coupons"))),
        get("360", "GET /api/v1/profiles/{id}/points", each(&|id| format!("/api/v1/profiles/{id}/points"))),
        get("360", "GET /api/v1/profiles/{id}/reviews", each(&|id| format!("/api/v1/profiles/{id}/reviews"))),
        get("promotions", "GET /api/v1/promotions", vec!["/api/v1/promotions".into()]),
        Call {
            screen: "promotions",
            label: format!("POST /api/v1/carts/price (3 lines, coupon {code})"),
            paths: vec!["/api/v1/carts/price".into()],
            body: Some(cart),
        },
        get("admin", "GET /api/v1/audit?limit=20", vec!["/api/v1/audit?limit=20".into()]),
        get("admin", "GET /api/v1/users", vec!["/api/v1/users".into()]),
    ])
}

/// A cursor, a phone (`+86…`) or an email in a query string.
fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
