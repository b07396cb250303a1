//! The `beacon` binary: a thin shell over `beacon-server`.

mod backup;
mod bench;
mod demo;
mod export;
mod import;
mod keys_cli;
mod price;
mod segment;
mod users_cli;

use anyhow::Context as _;
use beacon_server::app::keys;
use beacon_server::open_store;
use beacon_server::settings::{Overrides, Settings};
use beacon_store::{KeyKind, Store};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

/// glibc's malloc spent a third of the processor's time in this workload
/// (many short-lived JSON values across threads); mimalloc does not.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "beacon", version, about = "Open-source e-commerce marketing platform")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Common {
    /// Data directory of the embedded store (and the encryption key file).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// PostgreSQL URL (postgres://…) instead of the embedded store.
    #[arg(long)]
    database_url: Option<String>,
    /// A TOML settings file.
    #[arg(long)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        common: Common,
        /// Address to listen on.
        #[arg(long)]
        listen: Option<String>,
        /// all (one process, the default), api (ingest and the API), worker (processor and jobs) or edge (ingest and anonymous cart pricing, no key to personal data); api, worker and edge share a PostgreSQL store.
        #[arg(long)]
        role: Option<String>,
        /// NATS JetStream URL (nats://…): the event log on the bus, partitioned, so workers share it; needs --database-url.
        #[arg(long)]
        nats_url: Option<String>,
        /// Admin key to create on first start (automation).
        #[arg(long, env = "BEACON_ADMIN_KEY", hide_env_values = true)]
        admin_key: Option<String>,
        /// Write key to create on first start (automation): for pages and apps (a client source).
        #[arg(long, env = "BEACON_WRITE_KEY", hide_env_values = true)]
        write_key: Option<String>,
        /// Write key of the shop's back end to create on first start (a server source).
        #[arg(long, env = "BEACON_SERVER_KEY", hide_env_values = true)]
        server_key: Option<String>,
    },
    /// Run a worker (= serve --role worker): the processor and the background jobs, on a PostgreSQL store shared with api nodes.
    Worker {
        #[command(flatten)]
        common: Common,
        /// Address for /healthz, /readyz and /metrics.
        #[arg(long)]
        listen: Option<String>,
        /// NATS JetStream URL (nats://…): process the bus's partitions this worker holds.
        #[arg(long)]
        nats_url: Option<String>,
    },
    /// Measure ingest against a parse-only baseline in the same process.
    Bench {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        connections: usize,
        /// Benchmark on PostgreSQL instead of the embedded store.
        #[arg(long)]
        database_url: Option<String>,
        /// Embedded store fsync policy: normal (the default) or full.
        #[arg(long, default_value = "normal")]
        synchronous: String,
        /// Measure ingest alone, without the processor competing for the cores.
        #[arg(long)]
        no_processor: bool,
        /// Run only these measurements: batch, hot and wide (end to end: acknowledged and on the profile; 50 shoppers, or a new shopper every two events), track, jobs (the outbox: claimed and completed per second), orders (batches of 100 Order Completed), pricing (the engine in process), carts (POST /api/v1/carts/price), commits (orders placed with a contended coupon), console (the marketer console's API calls on the demo shop, alone), audience (segment estimates, RFM and k-means over --scale-profiles people and --scale-events events, default 1M and 20M, with DuckDB beside them: alone), incremental (ingest with 0 and with 500 saved segments, and the segment stage for one event; default 100k people, 2M events: alone); default batch, hot, wide, track.
        #[arg(long, value_delimiter = ',', default_values = ["batch", "hot", "wide", "track"])]
        only: Vec<String>,
        /// Scale scenario: this many profiles (with --scale-events) instead of the speed runs.
        #[arg(long, requires = "scale_events")]
        scale_profiles: Option<usize>,
        /// Scale scenario: this many events in all.
        #[arg(long, requires = "scale_profiles")]
        scale_events: Option<usize>,
        /// Workers scenario: a backlog on NATS JetStream processed by each of these worker counts (e.g. 0,1,2,3; 0 = one worker on PostgreSQL's log table, no bus); needs --database-url.
        #[arg(long, value_delimiter = ',', requires = "database_url")]
        workers: Vec<usize>,
        /// Workers scenario: the NATS server.
        #[arg(long, default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// Workers scenario: events in the backlog.
        #[arg(long, default_value_t = 200_000)]
        backlog: usize,
        /// Workers scenario: partitions of the stream.
        #[arg(long, default_value_t = 6)]
        partitions: u32,
    },
    /// Start Beacon with a generated demo shop (10,000 shoppers, 600 products, 90 days).
    Demo(demo::DemoOptions),
    /// Import orders, customers, products or events from a CSV or JSONL file into a running Beacon.
    Import(import::ImportOptions),
    /// Export profiles, orders or events from a running Beacon to CSV or JSONL.
    Export(export::ExportOptions),
    /// Price a cart with promotions offline (the pure engine) and print the explanation.
    Price(price::PriceOptions),
    /// Segments in a running Beacon: estimate a condition.
    Segment {
        #[command(subcommand)]
        action: segment::SegmentAction,
    },
    /// Copy the embedded store into one file while Beacon serves (PostgreSQL: use pg_dump).
    Backup {
        /// The backup file to write (a tar archive; it must not exist).
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Bring a backup back into an empty data directory (then start Beacon on it).
    Restore {
        file: PathBuf,
        #[command(flatten)]
        common: Common,
    },
    /// Manage API keys directly in the store.
    Keys {
        #[command(subcommand)]
        action: keys_cli::KeyAction,
    },
    /// Manage console users directly in the store (the first admin of a fresh install).
    Users {
        #[command(subcommand)]
        action: users_cli::UserAction,
    },
    /// Print the OpenAPI document (as the server serves it at /openapi.json), to generate a client from.
    Openapi,
}

fn load_settings(common: &Common, listen: Option<String>) -> anyhow::Result<Settings> {
    load_settings_with(common, Overrides { listen, ..Default::default() })
}

fn load_settings_with(common: &Common, overrides: Overrides) -> anyhow::Result<Settings> {
    let overrides =
        Overrides { data_dir: common.data_dir.clone(), database_url: common.database_url.clone(), ..overrides };
    Ok(Settings::load(common.config.as_deref(), std::env::vars(), &overrides)?)
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if settings.log.format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

fn check_env_key(name: &str, key: &Option<String>) -> anyhow::Result<()> {
    match key {
        Some(k) if k.len() < keys::MIN_KEY_LEN => {
            anyhow::bail!("{name} must be at least {} characters", keys::MIN_KEY_LEN)
        }
        _ => Ok(()),
    }
}

async fn serve(common: Common, overrides: Overrides, first: keys::FirstKeys) -> anyhow::Result<()> {
    let settings = load_settings_with(&common, overrides)?;
    init_logging(&settings);
    check_env_key("BEACON_ADMIN_KEY", &first.admin)?;
    check_env_key("BEACON_WRITE_KEY", &first.write)?;
    check_env_key("BEACON_SERVER_KEY", &first.server)?;
    tracing::info!(?settings, "starting beacon");
    let store = Arc::new(open_store(&settings).await?);
    if settings.ingest.run_processor && settings.role().is_none_or(|r| r.works()) {
        // an embedded store refuses a second processing process: say so now,
        // not in the processor's retries
        drop(store.process_reader().await.context("the processor")?);
    }
    let serves_api = settings.role().is_none_or(|r| r.serves_api());
    // listening first: keys made on a start that then fails could never be shown
    let addr = settings.listen_addr().context("listen address")?;
    let listener = beacon_server::bind(addr).await?;
    let addr = listener.local_addr()?;
    let made = match serves_api {
        true => keys::bootstrap(store.as_ref(), &first, chrono::Utc::now()).await?,
        false => Vec::new(),
    };
    if made.is_empty() {
        for name in keys::unknown_given(store.as_ref(), &first).await? {
            tracing::warn!(
                "{name} is set but is not a key of this store: keys are made on the first start only, so it is \
                 ignored (create keys with `beacon keys create`)"
            );
        }
    }
    if !made.is_empty() {
        println!("First start: created these keys. They are shown only once; store them now.");
        for k in &made {
            let what = match k.record.kind {
                KeyKind::Write(source) => format!("write key ({source} source)"),
                KeyKind::Secret(role) => format!("secret key, role {}", role.as_str()),
            };
            println!("  {what:<28} {}", k.secret);
        }
    }
    match serves_api {
        true => println!("Beacon listening on http://{addr}"),
        false => println!("Beacon worker up; health on http://{addr}"),
    }
    let bus = beacon_server::bus::connect(&settings.bus, store.as_ref()).await?;
    let running = beacon_server::start_on(settings, store, Arc::new(beacon_server::app::SystemClock), bus)?;
    beacon_server::serve(running, listener, shutdown_signal()).await
}

async fn backup_cmd(file: &std::path::Path, common: &Common) -> anyhow::Result<()> {
    let settings = load_settings(common, None)?;
    if !settings.storage.database_url.trim().is_empty() {
        anyhow::bail!("a PostgreSQL store is backed up with pg_dump (see docs/OPERATIONS.md)");
    }
    let files = backup::backup(&settings.storage.data_dir, file).await?;
    eprintln!("backed up {} into {} ({})", settings.storage.data_dir.display(), file.display(), files.join(", "));
    Ok(())
}

fn restore_cmd(file: &std::path::Path, common: &Common) -> anyhow::Result<()> {
    let settings = load_settings(common, None)?;
    let files = backup::restore(file, &settings.storage.data_dir)?;
    eprintln!("restored {} into {} ({})", file.display(), settings.storage.data_dir.display(), files.join(", "));
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // the HTTP clients (import, export, demo, bench) speak TLS through rustls with ring
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    if let Command::Import(opts) = cli.command {
        // exit 1: some lines were rejected (and reported); 2: the import could not run
        return import::run(opts).await.unwrap_or_else(|e| {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        });
    }
    let result = match cli.command {
        Command::Import(_) => Ok(()),
        Command::Demo(opts) => demo::run(opts).await,
        Command::Export(opts) => export::run(opts).await,
        Command::Price(opts) => price::run(opts),
        Command::Segment { action } => segment::run(action).await,
        Command::Openapi => {
            println!("{:#}", beacon_server::api::openapi::document());
            Ok(())
        }
        Command::Serve { common, listen, role, nats_url, admin_key, write_key, server_key } => {
            let first = keys::FirstKeys { admin: admin_key, write: write_key, server: server_key };
            serve(common, Overrides { listen, role, nats_url, ..Default::default() }, first).await
        }
        Command::Worker { common, listen, nats_url } => {
            let role = Some("worker".into());
            serve(common, Overrides { listen, role, nats_url, ..Default::default() }, Default::default()).await
        }
        Command::Keys { action } => keys_cli::run(action).await,
        Command::Users { action } => users_cli::run(action).await,
        Command::Backup { file, common } => backup_cmd(&file, &common).await,
        Command::Restore { file, common } => restore_cmd(&file, &common),
        Command::Bench {
            seconds,
            connections,
            database_url,
            synchronous,
            no_processor,
            only,
            scale_profiles,
            scale_events,
            workers,
            nats_url,
            backlog,
            partitions,
        } => {
            // (quiet unless asked: the tables are the output)
            if std::env::var_os("RUST_LOG").is_some() {
                let mut settings = Settings::default();
                settings.log.level = "warn".into();
                init_logging(&settings);
            }
            let processor = !no_processor;
            if workers.is_empty() {
                let audience = only.iter().all(|o| o == "audience");
                let incremental = only.iter().all(|o| o == "incremental");
                let opts = bench::BenchOptions { seconds, connections, database_url, synchronous, processor, only };
                match (scale_profiles, scale_events) {
                    _ if incremental => {
                        let (p, e) = (scale_profiles.unwrap_or(100_000), scale_events.unwrap_or(2_000_000));
                        bench::incremental::run(p, e, 500, 2000, (seconds, connections)).await
                    }
                    _ if audience => {
                        let (p, e) = (scale_profiles.unwrap_or(1_000_000), scale_events.unwrap_or(20_000_000));
                        bench::audience::run(p, e, 20).await
                    }
                    (Some(p), Some(e)) => bench::scale::run(&opts, p, e).await,
                    _ => bench::run(opts).await,
                }
            } else {
                let database_url = database_url.unwrap_or_default();
                let opts = bench::workers::WorkersOptions {
                    database_url,
                    nats_url,
                    workers,
                    events: backlog,
                    connections,
                    partitions,
                };
                bench::workers::run(opts).await
            }
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
