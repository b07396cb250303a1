//! Beacon's server: the HTTP API (Segment-compatible ingest and the admin
//! API), authentication, the group-committing log writer and the background
//! processor. Handlers translate HTTP to domain calls; business rules live in
//! `beacon-core` (and later the engines), storage behind `beacon-store`.

pub mod api;
pub mod app;
pub mod auth;
pub mod bus;
pub mod error;
pub mod http;
pub mod import;
pub mod processor;
pub mod role;
pub mod settings;
pub mod state;
pub mod ttl;
pub mod workers;

use anyhow::Context as _;
use app::App;
use beacon_store::{PiiCipher, SqlStore, Store, StoreOptions, Synchronous};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use settings::Settings;
use state::AppState;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

/// The process-wide metrics recorder (installed once).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            handle
        })
        .clone()
}

/// The cipher of personal data: from the master key (created on first
/// start), or on an edge node one that only seals, for the core's public key.
pub fn pii_cipher(settings: &Settings) -> anyhow::Result<PiiCipher> {
    if settings.role() == Some(settings::ProcessRole::Edge) {
        let cipher = PiiCipher::sealing_for(&settings.security.edge_public_key).context("security.edge_public_key")?;
        return Ok(cipher.with_keys(settings.security.pii()));
    }
    let data_dir = &settings.storage.data_dir;
    let (master, created) = app::keys::load_or_create_master_key(&settings.security.encryption_key, data_dir)
        .with_context(|| format!("loading the encryption key from {}", data_dir.display()))?;
    if created {
        tracing::warn!(
            "generated a new encryption key in {}; back it up: without it, stored emails and phones cannot be read",
            data_dir.join("encryption.key").display()
        );
    }
    Ok(PiiCipher::new(&master).with_keys(settings.security.pii()))
}

/// Opens the configured store, creating the PII key on first start.
pub async fn open_store(settings: &Settings) -> anyhow::Result<SqlStore> {
    let data_dir = &settings.storage.data_dir;
    let pii = pii_cipher(settings)?;
    let url = settings.storage.database_url.trim();
    let store = SqlStore::open(StoreOptions {
        database_url: (!url.is_empty()).then(|| url.to_string()),
        data_dir: data_dir.clone(),
        synchronous: settings.synchronous().unwrap_or(Synchronous::Full),
        max_connections: settings.storage.max_connections,
        log_wal_limit: settings.storage.log_wal_mb << 20,
        dedupe_window_days: settings.storage.dedupe_window_days,
        pii,
    })
    .await
    .context("opening the store")?;
    // the state is derived from the log: state past the log's end (a copy
    // taken out of order) would make the processor skip new events
    let (processed, head) = (store.processed_offset(processor::PROCESSOR).await?, store.log().head().await?);
    if processed > head {
        store.close().await;
        anyhow::bail!(
            "the processed state (offset {processed}) is ahead of the event log (head {head}): \
             this data directory was not copied consistently; restore it from a `beacon backup`"
        );
    }
    Ok(store)
}

/// A running Beacon: the app state plus its background tasks.
pub struct Running {
    pub state: AppState,
    store: Arc<SqlStore>,
    stop: watch::Sender<bool>,
    writer: JoinHandle<()>,
    processor: Option<tokio::sync::oneshot::Receiver<()>>,
    /// Tasks that hold the app (`workers`): stopped first at shutdown.
    workers: Option<workers::Workers>,
}

/// Starts the writer, the processor and the workers on `store`; returns the
/// state for the router.
pub fn start(settings: Settings, store: Arc<SqlStore>) -> anyhow::Result<Running> {
    start_with_clock(settings, store, Arc::new(app::SystemClock))
}

/// [`start`] with another clock (tests move a [`app::ManualClock`]): every
/// "now" the app, the ingest path and the processor decide by is its.
pub fn start_with_clock(
    settings: Settings,
    store: Arc<SqlStore>,
    clock: Arc<dyn app::Clock>,
) -> anyhow::Result<Running> {
    start_on(settings, store, clock, None)
}

/// [`start_with_clock`] with the event log on a bus (`bus::connect`):
/// ingest appends to it, and a worker processes the partitions it holds.
pub fn start_on(
    settings: Settings,
    store: Arc<SqlStore>,
    clock: Arc<dyn app::Clock>,
    bus: Option<Arc<dyn beacon_bus::Bus>>,
) -> anyhow::Result<Running> {
    let committed = Arc::new(Notify::new());
    let dyn_store: Arc<dyn Store> = store.clone();
    let sink = match &bus {
        Some(bus) => bus::LogSink::Bus { store: dyn_store.clone(), bus: bus.clone() },
        None => bus::LogSink::Store(dyn_store.clone()),
    };
    let (writer, writer_task) = app::writer::spawn(
        sink,
        settings.ingest.queue_capacity,
        settings.ingest.max_group_records,
        match settings.synchronous() {
            Some(Synchronous::Normal) => app::writer::Ack::AfterCommit,
            _ => app::writer::Ack::AfterSync,
        },
        committed.clone(),
    );
    let (stop, stop_rx) = watch::channel(false);
    let role = settings.role().unwrap_or(settings::ProcessRole::All);
    let security = &settings.security;
    let gate = auth::Gatekeeper::new(
        security.admin_rate_per_second,
        security.ingest_rate_per_second,
        security.login_attempts_per_minute,
        clock.clone(),
    );
    let mut rules = processor::Rules { clock: clock.clone(), ..settings.processor_rules() };
    let (batch, linger) = (settings.ingest.processor_batch, settings.ingest.processor_linger_ms);
    let linger = std::time::Duration::from_millis(linger);
    let run_processor = settings.ingest.run_processor && role.works();
    // the only writer of an embedded store holds its events in memory for segments
    let hold = run_processor && bus.is_none() && store.is_embedded() && settings.segments.hold_events;
    let app = App::new(dyn_store.clone(), writer, settings, clock, bus.clone());
    rules.held = Some(app.held.clone());
    if hold {
        let held = app.held.clone();
        let store = dyn_store.clone();
        tokio::spawn(async move {
            if let Err(e) = held.load(store.as_ref()).await {
                tracing::error!("segment event columns not loaded (the store's queries answer instead): {e}");
            }
        });
    }
    let processor = run_processor.then(|| match bus {
        Some(bus) => {
            let node = app.node.clone();
            let p = processor::partitions::Partitioned { store: dyn_store, bus, rules, batch, linger, node };
            processor::spawn_with("beacon-partitions", processor::partitions::run(p, stop_rx))
        }
        None => processor::spawn(dyn_store, rules, batch, linger, committed, stop_rx),
    });
    let processor = processor.transpose().context("starting the processor thread")?;
    let workers = role.works().then(|| workers::spawn(&app));
    let state = AppState::new(app, gate, metrics_handle());
    Ok(Running { state, store, stop, writer: writer_task, processor, workers })
}

impl Running {
    /// The HTTP surface: everything, or on a worker the system routes
    /// only (health, readiness, metrics).
    pub fn router(&self) -> axum::Router {
        match self.state.settings.role() {
            Some(settings::ProcessRole::Worker) => api::system_router(self.state.clone()),
            Some(settings::ProcessRole::Edge) => api::edge_router(self.state.clone()),
            _ => api::router(self.state.clone()),
        }
    }

    /// Drains: the writer flushes what it accepted, the processor catches up.
    pub async fn shutdown(self) {
        self.state.set_ready(false);
        let Running { state, store, stop, writer, processor, workers } = self;
        if let Some(workers) = workers {
            workers.stop().await;
        }
        drop(state);
        // the writer ends when the last handle (held by the app) is gone
        let _ = writer.await;
        let _ = stop.send(true);
        if let Some(processor) = processor {
            let _ = processor.await;
        }
        store.close().await;
    }
}

/// Serves until `shutdown` resolves, then drains.
pub async fn serve(
    running: Running,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = running.router();
    let ready = running.state.clone();
    let limits = http::Limits::of(&running.state.settings.server);
    http::serve(listener, app, limits, async move {
        shutdown.await;
        ready.set_ready(false);
    })
    .await;
    running.shutdown().await;
    Ok(())
}

pub async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))
}
