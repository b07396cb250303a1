//! In-process test app: the real router, writer, processor and store
//! (embedded in a temp dir, or a fresh PostgreSQL schema).

#![allow(dead_code)]

pub mod segments;
pub mod stream;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use beacon_bus::Bus;
use beacon_bus::nats::{NatsBus, NatsOptions};
use beacon_core::access::Role;
use beacon_core::trust::Source;
use beacon_server::app::keys;
use beacon_server::settings::Settings;
use beacon_server::{Running, processor};
use beacon_store::Store as _;
use beacon_store::{KeyKind, PiiCipher, SqlStore, StoreOptions, Synchronous};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::{AnyPool, AssertSqlSafe};
use std::sync::Arc;
use tower::ServiceExt;

/// A server source's write key (the shop's back end: what the tests send as, mostly).
pub const WRITE: &str = "test-write-key-000000";
/// A client source's write key (a page or an app: public).
pub const CLIENT_WRITE: &str = "test-client-key-00000";
pub const ADMIN: &str = "test-admin-key-000000";
pub const VIEWER: &str = "test-viewer-key-00000";

pub struct TestApp {
    pub running: Option<Running>,
    /// The HTTP side (the app derefs to it): clone it into spawned tasks.
    pub client: Client,
    pub store: Arc<SqlStore>,
    /// The PostgreSQL URL (with its schema), for more nodes on the same database.
    database_url: Option<String>,
    pg_schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Embedded,
    Postgres,
}

fn pg_base() -> String {
    std::env::var("BEACON_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with(backend, |_| {}).await
    }

    pub async fn with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::with_clock(backend, tweak, Arc::new(beacon_server::app::SystemClock)).await
    }

    /// An app whose every "now" is `clock`'s (a test moves a `ManualClock`).
    pub async fn with_clock(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
        clock: Arc<dyn beacon_server::app::Clock>,
    ) -> Self {
        Self::start(backend, tweak, clock, None).await
    }

    /// An app on PostgreSQL whose event log is `bus` (it processes the
    /// partitions it takes, as a worker would).
    pub async fn with_bus(bus: &TestBus, tweak: impl FnOnce(&mut Settings)) -> Self {
        let clock = Arc::new(beacon_server::app::SystemClock);
        Self::start(Backend::Postgres, tweak, clock, Some(bus.bus.clone())).await
    }

    async fn start(
        backend: Backend,
        tweak: impl FnOnce(&mut Settings),
        clock: Arc<dyn beacon_server::app::Clock>,
        bus: Option<Arc<dyn Bus>>,
    ) -> Self {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().to_path_buf();
        settings.storage.synchronous = "normal".into();
        settings.security.admin_rate_per_second = 0;
        tweak(&mut settings);
        let (database_url, pg_schema) = match backend {
            Backend::Embedded => (None, None),
            Backend::Postgres => {
                let base = pg_base();
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin = AnyPool::connect(&base).await.expect("PostgreSQL is required for these tests");
                sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.expect("schema");
                admin.close().await;
                let sep = if base.contains('?') { '&' } else { '?' };
                (Some(format!("{base}{sep}options=-c%20search_path%3D{schema}")), Some((base, schema)))
            }
        };
        let store = open_store(database_url.clone(), dir.path()).await;
        let now = clock.now();
        for (secret, kind) in [
            (WRITE, KeyKind::Write(Source::Server)),
            (CLIENT_WRITE, KeyKind::Write(Source::Client)),
            (ADMIN, KeyKind::Secret(Role::Admin)),
            (VIEWER, KeyKind::Secret(Role::Viewer)),
        ] {
            let k = keys::issue(kind, "test", Some(secret.to_string()), now);
            store.keys().insert_key(&k.record, "test").await.expect("key");
        }
        let store = Arc::new(store);
        let running = beacon_server::start_on(settings, store.clone(), clock, bus).expect("start");
        let client = Client { router: running.router() };
        TestApp { running: Some(running), client, store, database_url, pg_schema, _dir: dir }
    }

    /// Opens another store handle on this app's PostgreSQL database with `pii`.
    pub async fn try_open(&self, pii: PiiCipher) -> Result<SqlStore, beacon_store::StoreError> {
        let url = self.database_url.clone().expect("PostgreSQL");
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = StoreOptions {
            database_url: Some(url),
            data_dir: dir.path().to_path_buf(),
            synchronous: Synchronous::Normal,
            max_connections: 2,
            log_wal_limit: 64 << 20,
            dedupe_window_days: 7,
            pii,
        };
        SqlStore::open(opts).await
    }

    /// An edge node (`server.role = "edge"`) on this app's PostgreSQL
    /// database: no master key, sealing for this node's public key.
    pub async fn edge_node(&self) -> TestApp {
        let url = self.database_url.clone().expect("an edge node needs PostgreSQL");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().to_path_buf();
        settings.storage.database_url = url.clone();
        settings.server.role = "edge".into();
        settings.security.admin_rate_per_second = 0;
        settings.security.edge_public_key = self.store.pii().edge_public_key().expect("a core node's key");
        assert!(settings.problems().is_empty(), "{:?}", settings.problems());
        let pii = beacon_server::pii_cipher(&settings).expect("edge cipher");
        let store = Arc::new(open_store_with(Some(url.clone()), dir.path(), pii).await);
        let running = beacon_server::start(settings, store.clone()).expect("start");
        let client = Client { router: running.router() };
        TestApp { running: Some(running), client, store, database_url: Some(url), pg_schema: None, _dir: dir }
    }

    /// Another node on this app's PostgreSQL database: its own store handle,
    /// writer, processor, committer and workers, as a second process would
    /// have (stopping it leaves the database to the first).
    pub async fn another_node(&self) -> TestApp {
        self.another_node_on(None, |_| {}).await
    }

    /// [`another_node`](Self::another_node) on `bus`, with settings of its own.
    pub async fn another_node_on(&self, bus: Option<&TestBus>, tweak: impl FnOnce(&mut Settings)) -> TestApp {
        let url = self.database_url.clone().expect("more nodes need PostgreSQL");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut settings = Settings::default();
        settings.storage.data_dir = dir.path().to_path_buf();
        settings.security.admin_rate_per_second = 0;
        tweak(&mut settings);
        let store = open_store(Some(url.clone()), dir.path()).await;
        let store = Arc::new(store);
        let clock = Arc::new(beacon_server::app::SystemClock);
        let running =
            beacon_server::start_on(settings, store.clone(), clock, bus.map(|b| b.bus.clone())).expect("start");
        let client = Client { router: running.router() };
        TestApp { running: Some(running), client, store, database_url: Some(url), pg_schema: None, _dir: dir }
    }

    /// Runs the processor until the log is consumed (no sleeping).
    /// Processes the log (the jobs it leaves are left to the workers).
    /// Whether this app is on the embedded store.
    pub fn is_embedded(&self) -> bool {
        self.database_url.is_none()
    }

    /// The app's event columns once loaded (the embedded store's), waiting
    /// up to 30 s for the load.
    pub async fn held_events(&self) -> Option<Arc<beacon_server::app::held::HeldEvents>> {
        if !self.is_embedded() {
            return None;
        }
        let held = self.running.as_ref()?.state.held.clone();
        for _ in 0..300 {
            if held.ready() {
                return Some(held);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    }

    pub async fn process(&self) {
        let rules = self.running.as_ref().map(|r| r.state.rules.clone()).unwrap_or_default();
        processor::drain(self.store.as_ref(), &rules, 500).await.expect("processing");
    }

    pub async fn settle(&self) {
        let rules = self.running.as_ref().map(|r| r.state.rules.clone()).unwrap_or_default();
        processor::drain(self.store.as_ref(), &rules, 500).await.expect("processing");
        if let Some(r) = &self.running {
            beacon_server::workers::drain(&r.state, std::time::Duration::from_secs(10)).await.expect("jobs");
        }
    }

    pub async fn log_head(&self) -> i64 {
        use beacon_store::Store;
        self.store.log().head().await.expect("head")
    }

    /// The single profile holding `identity`, as JSON.
    pub async fn profile(&self, identity: &str) -> Value {
        let (s, v) = self.get(&format!("/api/v1/profiles?identity={identity}"), ADMIN).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let items = v["items"].as_array().cloned().unwrap_or_default();
        assert_eq!(items.len(), 1, "expected one profile for {identity}: {v}");
        items[0].clone()
    }

    /// How far processing has got (the log's, or the bus's partitions').
    pub async fn progress(&self) -> beacon_server::app::log::Progress {
        let state = &self.running.as_ref().expect("running").state;
        beacon_server::app::log::progress(state).await.expect("progress")
    }

    /// Waits until everything appended so far is processed (by the
    /// background processor or the workers holding the bus's partitions).
    pub async fn caught_up(&self, within: std::time::Duration) {
        let deadline = std::time::Instant::now() + within;
        loop {
            let p = self.progress().await;
            if p.processed >= p.head {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "processing stalled at {p:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Stops the app; its PostgreSQL schema stays (until the process ends)
    /// for a test that reads it afterwards.
    pub async fn stop_keeping_database(mut self) {
        if let Some(r) = self.running.take() {
            drop(self.client);
            r.shutdown().await;
        }
        self.pg_schema = None;
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            drop(self.client);
            r.shutdown().await;
        }
        if let Some((base, schema)) = self.pg_schema.take()
            && let Ok(admin) = AnyPool::connect(&base).await
        {
            let _ = sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await;
        }
    }
}

/// A fresh stream on the local NATS server (deleted by [`TestBus::destroy`]).
pub struct TestBus {
    pub bus: Arc<dyn Bus>,
    pub options: NatsOptions,
}

impl TestBus {
    pub async fn new(partitions: u32) -> TestBus {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let options = NatsOptions {
            url: std::env::var("BEACON_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into()),
            stream: format!("T_{id}"),
            subject_prefix: format!("t{id}.ev"),
            partitions,
        };
        let bus = NatsBus::connect(&options).await.expect("NATS with JetStream is required for these tests");
        TestBus { bus: Arc::new(bus), options }
    }

    pub async fn destroy(self) {
        if let Ok(bus) = NatsBus::connect(&self.options).await {
            let _ = bus.destroy().await;
        }
    }
}

/// Requests to one node's router; cheap to clone into spawned tasks.
#[derive(Clone)]
pub struct Client {
    router: axum::Router,
}

impl std::ops::Deref for TestApp {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Client {
    pub async fn request(&self, req: Request<Body>) -> (StatusCode, Value, axum::http::HeaderMap) {
        let resp = self.router.clone().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let json =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json, headers)
    }

    /// POSTs `body` to an ingest route with the write key as HTTP Basic user.
    pub async fn ingest(&self, path: &str, body: &str) -> (StatusCode, Value) {
        self.ingest_as(WRITE, path, body).await
    }

    /// Ingest with the write key `key` (a client's or a server's).
    pub async fn ingest_as(&self, key: &str, path: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json")
            .header("authorization", basic(key))
            .body(Body::from(body.to_string()))
            .expect("request");
        let (s, v, _) = self.request(req).await;
        (s, v)
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        let req = Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .body(Body::empty())
            .expect("request");
        let (s, v, _) = self.request(req).await;
        (s, v)
    }

    /// A GET whose answer is text (CSV).
    pub async fn get_text(&self, path: &str, key: &str) -> (StatusCode, String) {
        let (s, v) = self.get(path, key).await;
        (s, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
    }

    pub async fn send(&self, method: Method, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {key}"))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        let (s, v, _) = self.request(req).await;
        (s, v)
    }

    /// POST `body` with the admin key and, if given, an `Idempotency-Key`.
    pub async fn post_keyed(
        &self,
        path: &str,
        idempotency_key: Option<&str>,
        body: Value,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("authorization", format!("Bearer {ADMIN}"))
            .header("content-type", "application/json");
        if let Some(k) = idempotency_key {
            req = req.header("idempotency-key", k);
        }
        self.request(req.body(Body::from(body.to_string())).expect("request")).await
    }
}

/// Runs every future on its own task (on a multi-threaded runtime they run
/// in parallel, not just interleaved) and returns their outputs in order.
pub async fn in_parallel<T, F>(futures: impl IntoIterator<Item = F>) -> Vec<T>
where
    T: Send + 'static,
    F: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await.expect("task"));
    }
    out
}

/// A store as every test node opens it (one PII key for all).
async fn open_store(database_url: Option<String>, dir: &std::path::Path) -> SqlStore {
    open_store_with(database_url, dir, PiiCipher::new(&[9; 32])).await
}

async fn open_store_with(database_url: Option<String>, dir: &std::path::Path, pii: PiiCipher) -> SqlStore {
    SqlStore::open(StoreOptions {
        database_url,
        data_dir: dir.to_path_buf(),
        synchronous: Synchronous::Normal,
        // the server's default: a batch holds two and reads with a third
        // under the processor's lock, while a decision outside the pipeline
        // (a job's) holds one waiting for that lock, and the test's own
        // drain is a second processor beside the app's
        max_connections: 8,
        log_wal_limit: 64 << 20,
        dedupe_window_days: 7,
        pii,
    })
    .await
    .expect("open store")
}

pub fn basic(user: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:")))
}

/// Runs a test body against both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::common::TestApp::new($crate::common::Backend::Embedded).await;
                super::$name(&app).await;
                app.stop().await;
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let app = $crate::common::TestApp::new($crate::common::Backend::Postgres).await;
                super::$name(&app).await;
                app.stop().await;
            })*
        }
    };
}
