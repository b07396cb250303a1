//! `beacon demo`: Beacon on the embedded store with a generated shop that
//! looks real — thousands of shoppers with Chinese and English names, a
//! catalog in a category tree, 90 days of sessions with plausible funnels,
//! weekly seasonality and a promotion-day spike, refunds and reviews. The
//! shop goes in through the same APIs real data uses (`/v1/batch` with the
//! write key, the products API), deterministic for a given `--seed`.

mod logins;
mod promotions;
pub mod rng;
mod shop;
mod shoppers;

use crate::import::client::{Answer, Client};
use anyhow::{Context, bail};
use beacon_server::settings::{Overrides, Settings};
use chrono::{NaiveDate, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct DemoOptions {
    /// The same seed (and end date) gives the same shop.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    #[arg(long, default_value = "./beacon-demo")]
    pub data_dir: PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Run the demo on PostgreSQL instead of the embedded store.
    #[arg(long)]
    pub database_url: Option<String>,
    #[arg(long, default_value_t = 10_000)]
    pub shoppers: usize,
    #[arg(long, default_value_t = 600)]
    pub products: usize,
    #[arg(long, default_value_t = 90)]
    pub days: i64,
    /// The last day of the history, YYYY-MM-DD (default: yesterday, China time).
    #[arg(long)]
    pub end_date: Option<NaiveDate>,
    /// Delete the data directory first and generate the shop again.
    #[arg(long)]
    pub fresh: bool,
    /// Load the shop, print the summary and exit instead of serving it.
    #[arg(long)]
    pub no_serve: bool,
}

/// Events per `/v1/batch` request.
const BATCH: usize = 500;

/// The demo's keys: admin, the shop's pages' write key (a client source)
/// and its back end's (a server source: docs/SECURITY.md). Kept in the data
/// directory so a second start can print them again (a real deployment
/// shows its keys once).
struct DemoKeys {
    admin: String,
    write: String,
    server: String,
}

fn demo_keys(dir: &Path) -> anyhow::Result<DemoKeys> {
    let file = dir.join("demo-keys.json");
    let fresh = |what: &str| format!("demo-{what}-{}", uuid::Uuid::new_v4().simple());
    let (admin, write, server) = match std::fs::read_to_string(&file) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).context("demo-keys.json")?;
            let known = |k: &str| v[k].as_str().map(str::to_string);
            (known("admin"), known("write"), known("server"))
        }
        Err(_) => (None, None, None),
    };
    if let (Some(admin), Some(write), Some(server)) = (&admin, &write, &server) {
        return Ok(DemoKeys { admin: admin.clone(), write: write.clone(), server: server.clone() });
    }
    let admin = admin.unwrap_or_else(|| fresh("admin"));
    let write = write.unwrap_or_else(|| fresh("write"));
    let server = server.unwrap_or_else(|| fresh("server"));
    std::fs::write(&file, json!({"admin": admin, "write": write, "server": server}).to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(DemoKeys { admin, write, server })
}

/// Stores the demo's keys the store does not have yet.
async fn store_keys(store: &dyn beacon_store::Store, keys: &DemoKeys) -> anyhow::Result<()> {
    use beacon_server::app::keys::{FirstKeys, bootstrap, hash_key, issue};
    let now = Utc::now();
    let first = FirstKeys {
        admin: Some(keys.admin.clone()),
        write: Some(keys.write.clone()),
        server: Some(keys.server.clone()),
    };
    bootstrap(store, &first, now).await?;
    // (a demo directory from before server keys has the others only)
    if store.keys().find_key_by_hash(&hash_key(&keys.server)).await?.is_none() {
        let kind = beacon_store::KeyKind::Write(beacon_core::trust::Source::Server);
        let key = issue(kind, "demo back end", Some(keys.server.clone()), now);
        store.keys().insert_key(&key.record, "demo").await?;
    }
    Ok(())
}

/// What a shop's back end sends (sign-ins and orders); its pages and apps
/// send the rest.
fn from_back_end(event: &Value) -> bool {
    event["type"] == "identify"
        || matches!(event["event"].as_str(), Some("Order Completed" | "Order Cancelled" | "Order Refunded"))
}

pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    if opts.fresh && opts.data_dir.exists() {
        std::fs::remove_dir_all(&opts.data_dir).with_context(|| format!("removing {}", opts.data_dir.display()))?;
    }
    std::fs::create_dir_all(&opts.data_dir)?;
    let overrides = Overrides {
        listen: Some(opts.listen.clone()),
        data_dir: Some(opts.data_dir.clone()),
        database_url: opts.database_url.clone(),
        role: None,
        nats_url: None,
    };
    let settings = Settings::load(None, std::env::vars(), &overrides)?;
    let keys = demo_keys(&opts.data_dir)?;
    let store = Arc::new(beacon_server::open_store(&settings).await?);
    store_keys(store.as_ref(), &keys).await?;
    let DemoKeys { admin, write, server: server_key } = keys;
    let listener = beacon_server::bind(settings.listen_addr().context("listen address")?).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let bus = beacon_server::bus::connect(&settings.bus, store.as_ref()).await?;
    let running = beacon_server::start_on(settings, store, Arc::new(beacon_server::app::SystemClock), bus)?;
    let logins = logins::ensure(&running.state.app, &opts.data_dir).await?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(beacon_server::serve(running, listener, async move {
        let _ = stopped.await;
    }));
    let client = Client::new(&url, &admin)?;
    let marker = opts.data_dir.join("demo-loaded.json");
    let loaded = match std::fs::read_to_string(&marker) {
        Ok(text) => {
            eprintln!("The demo shop in {} is loaded already (--fresh to generate it again).", opts.data_dir.display());
            serde_json::from_str(&text).context("demo-loaded.json")?
        }
        Err(_) => {
            let loaded = load(&opts, &client, &write, &server_key).await?;
            std::fs::write(&marker, loaded.to_string())?;
            loaded
        }
    };
    let overview = client.get("/api/v1/overview").await?;
    print_welcome(&url, [&admin, &write, &server_key], &logins, &overview, &loaded);
    if !opts.no_serve {
        crate::shutdown_signal().await;
    }
    let _ = stop.send(());
    server.await.context("the server task")??;
    Ok(())
}

/// Generates and sends the shop; returns what to remember about it.
async fn load(opts: &DemoOptions, client: &Client, write_key: &str, server_key: &str) -> anyhow::Result<Value> {
    let started = Instant::now();
    let end = opts
        .end_date
        .unwrap_or_else(|| (Utc::now() + chrono::Duration::hours(8)).date_naive().pred_opt().unwrap_or_default());
    if opts.products < 8 || opts.shoppers == 0 || !(7..=730).contains(&opts.days) {
        bail!("the demo needs at least 8 products, 1 shopper and 7 to 730 days");
    }
    let catalog = Arc::new(shop::catalog(opts.seed, opts.products));
    for part in catalog.json.chunks(crate::import::MAX_BATCH) {
        match client.post("/api/v1/products/bulk", &json!({ "products": part })).await? {
            Answer::Ok(v) if v["rejected"].as_array().is_none_or(Vec::is_empty) => {}
            Answer::Ok(v) | Answer::Rejected(v) => bail!("the demo catalog was refused: {v}"),
        }
    }
    let plan = Arc::new(shoppers::Plan::new(opts.seed, opts.days, end));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(usize, Vec<Value>)>(8);
    let (seed_catalog, seed_plan, count) = (catalog.clone(), plan.clone(), opts.shoppers);
    let generator = std::thread::spawn(move || {
        let texts = shop::texts();
        let mut totals = shoppers::Stats::default();
        let mut batch = Vec::with_capacity(BATCH);
        for i in 0..count {
            let (events, stats) = shoppers::shopper(&seed_plan, &seed_catalog, &texts, i);
            add(&mut totals, &stats);
            // at most BATCH events (~300 KB) per request, under the 500 KB limit
            if batch.len() + events.len() > BATCH
                && !batch.is_empty()
                && tx.blocking_send((i, std::mem::take(&mut batch))).is_err()
            {
                break;
            }
            for part in events.chunks(BATCH) {
                batch.extend_from_slice(part);
                if batch.len() >= BATCH && tx.blocking_send((i, std::mem::take(&mut batch))).is_err() {
                    return totals;
                }
            }
            if i + 1 == count && !batch.is_empty() && tx.blocking_send((count, std::mem::take(&mut batch))).is_err() {
                break;
            }
        }
        totals
    });
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(opts.shoppers as u64);
        bar.set_style(
            ProgressStyle::with_template("generating the shop {bar:30} {pos}/{len} shoppers {per_sec} ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    let (pages, back_end) = (client.with_write_key(write_key), client.with_write_key(server_key));
    let mut flying = tokio::task::JoinSet::new();
    let mut last_report = Instant::now();
    while let Some((done, events)) = rx.recv().await {
        while flying.len() >= 4 {
            flying.join_next().await.transpose()?.transpose()?;
        }
        let (pages, back_end) = (pages.clone(), back_end.clone());
        flying.spawn(async move {
            let (server, client): (Vec<Value>, Vec<Value>) = events.into_iter().partition(from_back_end);
            for (writer, events) in [(pages, client), (back_end, server)] {
                if events.is_empty() {
                    continue;
                }
                match writer.post("/v1/batch", &json!({ "batch": events })).await? {
                    Answer::Ok(v) if v.get("rejected").is_none() => {}
                    Answer::Ok(v) | Answer::Rejected(v) => bail!("demo events were refused: {v}"),
                }
            }
            Ok(())
        });
        bar.set_position(done as u64);
        if bar.is_hidden() && last_report.elapsed().as_secs() >= 2 {
            eprintln!("demo: {done}/{} shoppers sent", opts.shoppers);
            last_report = Instant::now();
        }
    }
    while let Some(r) = flying.join_next().await {
        r??;
    }
    bar.finish_and_clear();
    let totals = generator.join().map_err(|_| anyhow::anyhow!("the shop generator stopped"))?;
    crate::import::wait_processed(client).await?;
    // the computed tags now rather than at the sweeper's next round
    if let Answer::Rejected(v) = client.post("/api/v1/tags/sweep", &json!({})).await? {
        bail!("the tags sweep was refused: {v}");
    }
    eprintln!(
        "Generated in {:.1} s: {} products, {} shoppers, {} sessions, {} events ({} product views, {} carts, \
         {} checkouts, {} orders, {} refunds, {} cancellations, {} reviews), {} to {}, promotion day {}.",
        started.elapsed().as_secs_f64(),
        opts.products,
        opts.shoppers,
        totals.sessions,
        totals.events,
        totals.views,
        totals.adds,
        totals.checkouts,
        totals.orders,
        totals.refunds,
        totals.cancels,
        totals.reviews,
        plan.date(0),
        end,
        plan.date(plan.promo_day),
    );
    let promotions::Loaded { flash, member } = promotions::load(client, &catalog).await?;
    Ok(json!({"seed": opts.seed, "from": plan.date(0), "to": end, "promotion_day": plan.date(plan.promo_day),
        "flash": flash, "member": member}))
}

fn add(t: &mut shoppers::Stats, s: &shoppers::Stats) {
    t.events += s.events;
    t.sessions += s.sessions;
    t.views += s.views;
    t.adds += s.adds;
    t.checkouts += s.checkouts;
    t.orders += s.orders;
    t.refunds += s.refunds;
    t.cancels += s.cancels;
    t.reviews += s.reviews;
}

fn print_welcome(
    url: &str,
    [admin, write, server]: [&str; 3],
    logins: &[logins::Login],
    overview: &Value,
    loaded: &Value,
) {
    println!(
        "\nBeacon demo shop: {} profiles, {} events, {} orders, revenue {} {}\n",
        overview["profiles"],
        overview["events"],
        overview["orders"],
        overview["revenue"].as_str().unwrap_or("0"),
        overview["currency"].as_str().unwrap_or("")
    );
    println!("  URL        {url}");
    println!("  console    {url}/");
    for l in logins {
        match &l.password {
            Some(password) => println!("  login      {} / {password}   ({})", l.email, l.role.as_str()),
            None => println!(
                "  login      {}   ({}; there already: its password was shown when it was made)",
                l.email,
                l.role.as_str()
            ),
        }
    }
    println!("  admin key  {admin}");
    println!("  write key  {write}   (pages and apps: a client source)");
    println!("  server key {server}   (the shop's back end: sign-ins, orders)\n");
    println!("Try:");
    let h = format!("-H 'authorization: Bearer {admin}'");
    println!("  curl -s {h} {url}/api/v1/overview");
    let (from, to) = (loaded["from"].as_str().unwrap_or(""), loaded["to"].as_str().unwrap_or(""));
    println!(
        "  curl -s {h} '{url}/api/v1/overview/daily?from={from}&to={to}&tz=%2B08:00'   # promotion day {}",
        loaded["promotion_day"].as_str().unwrap_or("")
    );
    println!("  curl -s {h} '{url}/api/v1/profiles?limit=3&min_events=20'");
    println!("  curl -s {h} '{url}/api/v1/orders?limit=3'");
    println!("  curl -s {h} {url}/api/v1/categories");
    println!("  curl -s {h} '{url}/api/v1/products?category=%E8%8C%B6%E5%8F%B6&limit=3'");
    println!("  curl -s {h} {url}/api/v1/products/P00001/reviews");
    println!("  curl -s {h} '{url}/api/v1/promotions?status=active'");
    let flash = loaded["flash"].as_str().unwrap_or("P00001");
    println!(
        "  curl -s {h} -H content-type:application/json {url}/api/v1/carts/price -d '{{\"phone\":\"13900000000\",\"coupons\":[\"NEW20\"],\"lines\":[{{\"product_id\":\"{flash}\"}},{{\"product_id\":\"P00002\",\"quantity\":2}}]}}'"
    );
    println!(
        "  curl -s {h} {url}/api/v1/profiles/{}/coupons   # a wallet with a spring coupon",
        loaded["member"].as_str().unwrap_or("")
    );
    println!(
        "  curl -s -u {write}: -H content-type:application/json {url}/v1/track -d '{{\"anonymousId\":\"anon-{}-0\",\"event\":\"Product Viewed\",\"properties\":{{\"product_id\":\"P00001\"}}}}'",
        loaded["seed"]
    );
    println!(
        "  curl -s -u {server}: -H content-type:application/json {url}/v1/track -d '{{\"userId\":\"u100000\",\"event\":\"Signed In\"}}'"
    );
    println!("\nCtrl-C stops it; the data stays in the data directory.");
}
