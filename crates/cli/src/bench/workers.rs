//! `beacon bench --workers 1,2,3 --database-url postgres://… --nats-url nats://…`:
//! how fast 1, 2, 3 workers process a backlog on the partitioned bus.
//!
//! Per worker count, on a fresh PostgreSQL schema and a fresh stream: an
//! API node (no processor) takes the events (the hot and the wide workload,
//! half each), then the workers start and the clock runs until every
//! partition's offset has reached its head. The workers run in this
//! process, each with its own store handle, as separate processes would.
//! A count of 0 is the reference: one worker on PostgreSQL's own log table
//! (no bus), the one ordered consumer.

use super::{ADMIN_KEY, BATCH, WRITE_KEY, batch_requests, e2e, loadgen};
use anyhow::Context as _;
use beacon_bus::nats::{NatsBus, NatsOptions};
use beacon_server::settings::Settings;
use sqlx::AssertSqlSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub struct WorkersOptions {
    pub database_url: String,
    pub nats_url: String,
    pub workers: Vec<usize>,
    pub events: usize,
    pub connections: usize,
    /// Partitions of the stream each round makes.
    pub partitions: u32,
}

struct Round {
    schema: String,
    url: String,
    stream: NatsOptions,
}

impl Round {
    async fn new(base: &str, nats_url: &str, partitions: u32) -> anyhow::Result<Round> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let schema = format!("bench_{id}");
        sqlx::any::install_default_drivers();
        let admin = sqlx::AnyPool::connect(base).await.context("PostgreSQL")?;
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await?;
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let stream = NatsOptions {
            url: nats_url.to_string(),
            stream: format!("BENCH_{id}"),
            subject_prefix: format!("bench{id}.ev"),
            partitions,
        };
        Ok(Round { schema, url, stream })
    }

    async fn node(&self, role: &str, dir: &std::path::Path, bus: bool) -> anyhow::Result<beacon_server::Running> {
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.to_path_buf();
        settings.storage.database_url = self.url.clone();
        settings.server.role = role.into();
        settings.security.admin_rate_per_second = 0;
        settings.security.encryption_key = "5".repeat(64);
        if bus {
            settings.bus.nats_url = self.stream.url.clone();
        }
        settings.bus.stream = self.stream.stream.clone();
        settings.bus.subject_prefix = self.stream.subject_prefix.clone();
        settings.bus.partitions = self.stream.partitions;
        let store = Arc::new(beacon_server::open_store(&settings).await?);
        let bus = beacon_server::bus::connect(&settings.bus, store.as_ref()).await?;
        beacon_server::start_on(settings, store, Arc::new(beacon_server::app::SystemClock), bus)
    }

    async fn drop_all(self, base: &str) {
        if let Ok(bus) = NatsBus::connect(&self.stream).await {
            let _ = bus.destroy().await;
        }
        if let Ok(admin) = sqlx::AnyPool::connect(base).await {
            let _ = sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {} CASCADE", self.schema))).execute(&admin).await;
        }
    }
}

pub async fn run(opts: WorkersOptions) -> anyhow::Result<()> {
    println!(
        "\nWorkers on NATS JetStream ({} partitions) and PostgreSQL, {} cores: a backlog of {} events (hot and wide, half each) processed by N workers\n",
        opts.partitions,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        opts.events
    );
    println!("| workers | events | processed in (s) | events/s |\n|---|---|---|---|");
    let label = |n: usize| if n == 0 { "1, on the log table (no bus)".to_string() } else { n.to_string() };
    for &n in &opts.workers {
        let round = Round::new(&opts.database_url, &opts.nats_url, opts.partitions).await?;
        let result = one(&round, n, &opts).await;
        round.drop_all(&opts.database_url).await;
        let (events, took) = result?;
        println!(
            "| {} | {events} | {:.1} | {:.0} |",
            label(n),
            took.as_secs_f64(),
            events as f64 / took.as_secs_f64().max(1e-9)
        );
    }
    Ok(())
}

async fn one(round: &Round, workers: usize, opts: &WorkersOptions) -> anyhow::Result<(u64, Duration)> {
    let dir = tempfile::tempdir()?;
    let bus = workers > 0;
    let api = round.node("api", &dir.path().join("api"), bus).await?;
    let keys = beacon_server::app::keys::FirstKeys {
        admin: Some(ADMIN_KEY.into()),
        write: Some(WRITE_KEY.into()),
        server: None,
    };
    beacon_server::app::keys::bootstrap(api.state.store.as_ref(), &keys, chrono::Utc::now()).await?;
    let listener = beacon_server::bind("127.0.0.1:0".parse()?).await?;
    let addr = listener.local_addr()?;
    let state = api.state.clone();
    let serving = tokio::spawn(beacon_server::serve(api, listener, std::future::pending()));
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let requests = opts.events.div_ceil(BATCH);
    let mut bodies = Vec::with_capacity(requests);
    bodies.extend(batch_requests(&format!("{run}h"), requests / 2, e2e::hot_event).iter().cloned());
    bodies.extend(batch_requests(&format!("{run}w"), requests - requests / 2, e2e::wide_event).iter().cloned());
    let sent = loadgen::run_each(addr, opts.connections, Duration::from_secs(3600), Arc::new(bodies)).await;
    anyhow::ensure!(sent.failed == 0, "{} requests failed while loading the backlog", sent.failed);
    let events = sent.ok * BATCH as u64;
    let mut nodes = Vec::new();
    let started = Instant::now();
    for w in 0..workers.max(1) {
        nodes.push(round.node("worker", &dir.path().join(format!("worker{w}")), bus).await?);
    }
    loop {
        let p = beacon_server::app::log::progress(&state).await.map_err(|e| anyhow::anyhow!(e.message))?;
        if p.processed >= p.head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let took = started.elapsed();
    for node in nodes {
        node.shutdown().await;
    }
    serving.abort();
    Ok((events, took))
}
