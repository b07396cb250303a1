//! The SQL adapter: one implementation for SQLite and PostgreSQL.
//!
//! Embedded layout, in the data directory: `beacon.db` (state), `events.db`
//! (the event log) and `checkout.db` (what checkouts commit: limit counters,
//! checkouts, coupons, group-buy teams, points lots). Each file has its own
//! write lock, so ingest never waits for the processor's transactions, and
//! neither does an order (see `shopdb.rs`). Times are stored as microseconds
//! since the Unix epoch (UTC) in both dialects.

mod activity;
mod admin;
mod backup;
mod catalog;
mod checkout_group;
mod checkouts;
mod checkpoint;
mod codec;
mod commerce;
mod coupons;
mod dedupe;
mod dedupe_memory;
mod dialect;
mod erasure;
mod events;
mod identity_index;
mod jobs;
mod kept;
mod key_check;
mod links;
mod locks;
mod log;
mod loyalty;
mod members;
mod orders;
mod pools;
mod process;
mod process_read;
mod profile_rows;
mod props_backfill;
mod resident;
mod rotate;
mod saved_segments;
mod segment_orders;
mod segments;
mod stages;
mod tags;
mod wallets;
use pools::{CHECKPOINT_PAGES, sqlite_pool};
pub use rotate::KEY_REFRESH;
mod imports;
mod promotions;
mod read;
mod shopdb;
mod teams;
mod users;

use crate::pii::PiiCipher;
use crate::{EventLog, StoreError};
pub use backup::{EMBEDDED_FILES, backup_embedded};
use chrono::{DateTime, Utc};
pub(crate) use dialect::SqlDialect;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use std::path::PathBuf;
use std::time::Duration;

/// Page cache of the processor's connection: the timeline and identity
/// indexes it inserts into at random places stay in memory.
const PROCESSOR_CACHE_MIB: u32 = 256;

static SQLITE_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static SQLITE_LOG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite_log");
static SQLITE_CHECKOUT_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite_checkout");
static PG_MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// What survives a power loss on the embedded store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// The log fsyncs in every commit: an acknowledged event survives power loss.
    Full,
    /// The log's commits reach the OS and `EventLog::sync` fsyncs behind
    /// them: survives a process crash (`kill -9`); a power loss may take the
    /// commits since the last sync.
    Normal,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Full => "PRAGMA synchronous = FULL",
            Synchronous::Normal => "PRAGMA synchronous = NORMAL",
        }
    }
}

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `postgres://…` for PostgreSQL; `None` for the embedded store.
    pub database_url: Option<String>,
    pub data_dir: PathBuf,
    pub synchronous: Synchronous,
    pub max_connections: u32,
    /// Embedded: bytes of WAL past which the event log's checkpointer starts
    /// the WAL over, and the state's past twice that (see `checkpoint`).
    pub log_wal_limit: u64,
    pub pii: PiiCipher,
    /// Embedded: whole days the dedupe set keeps an event's key (0: for
    /// ever, its memory growing with every event); PostgreSQL keeps all.
    pub dedupe_window_days: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The SQL store.
pub struct SqlStore {
    pub(crate) pool: AnyPool,
    /// The processor's connection. On SQLite its commits are not fsynced one
    /// by one (`synchronous = NORMAL`): the log is the durable record, and
    /// after a power loss the processor's offset and state roll back together
    /// and it replays the log from there.
    pub(crate) proc_pool: AnyPool,
    /// The processor's reader (reads the next batch while `proc_pool`
    /// commits); a connection of it is taken before one of `proc_pool`.
    pub(crate) proc_read_pool: AnyPool,
    /// Keys in the young dedupe table, as this process counts them (`dedupe.rs`).
    pub(crate) young_keys: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// The embedded store's dedupe set and record of stored identities, in
    /// the memory of its one processing process (`resident.rs`); none on
    /// PostgreSQL, whose processors on several nodes share the tables.
    pub(crate) resident: Option<std::sync::Arc<resident::Resident>>,
    /// The outbox's and timers' bookkeeping (claims, completions, retries,
    /// purges, leases): on SQLite connections whose commits are not fsynced
    /// one by one (`synchronous = NORMAL`), since losing one to a power cut
    /// only repeats work (a job claimed again, run again: handlers are
    /// idempotent by the job's key). Adding and cancelling jobs stays on the
    /// fsynced pool.
    pub(crate) bookkeeping_pool: AnyPool,
    /// Checkout commits: on SQLite the one connection that writes
    /// `checkout.db` (with `beacon.db` attached for reads), whose commits are
    /// as durable as `storage.synchronous` says (the event log's setting),
    /// not fsynced one by one like admin changes.
    pub(crate) checkout_pool: AnyPool,
    /// Reads of what checkouts commit (on SQLite, connections on
    /// `checkout.db` with `beacon.db` attached, so the tables of both resolve
    /// by name); the state pool on PostgreSQL.
    pub(crate) shop_pool: AnyPool,
    /// Checkpoint the log's and the state's WAL off the writers' path
    /// (SQLite only).
    checkpointers: Vec<tokio::task::JoinHandle<()>>,
    pub(crate) log: log::SqlLog,
    pub(crate) dialect: Dialect,
    pub(crate) pii: PiiCipher,
    /// SQLite: one write transaction on `beacon.db` at a time in this
    /// process, queued here rather than in SQLite's busy handler (which
    /// sleeps in steps of milliseconds before it tries again).
    write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// SQLite: the same for `checkout.db`.
    checkout_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore").field("dialect", &self.dialect).finish()
    }
}

pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(db.message().to_string()),
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        other => StoreError::Backend(other.to_string()),
    }
}

pub(crate) fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub(crate) fn from_micros(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(v).ok_or_else(|| StoreError::Corrupt(format!("time {v}")))
}

impl SqlStore {
    /// Opens (creating and migrating as needed) the store.
    pub async fn open(options: StoreOptions) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        match &options.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await
                    .map_err(backend)?;
                PG_MIGRATOR.run(&pool).await.map_err(|e| StoreError::Backend(e.to_string()))?;
                // the processor's reads, apart: it holds a read connection while
                // it waits for a transaction's, never the other way round
                let proc_read_pool = AnyPoolOptions::new()
                    .max_connections(2)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy(url)
                    .map_err(backend)?;
                let log = log::SqlLog::open(pool.clone(), Dialect::Postgres, options.pii.clone(), None).await?;
                let store = SqlStore {
                    log,
                    proc_pool: pool.clone(),
                    proc_read_pool,
                    young_keys: std::sync::Arc::new((-1).into()),
                    resident: None,
                    bookkeeping_pool: pool.clone(),
                    checkout_pool: pool.clone(),
                    shop_pool: pool.clone(),
                    checkpointers: vec![rotate::spawn_key_refresh(pool.clone(), options.pii.clone())],
                    pool,
                    dialect: Dialect::Postgres,
                    pii: options.pii,
                    write_lock: Default::default(),
                    checkout_lock: Default::default(),
                };
                store.verify_key().await?;
                rotate::load_keys(&store.pool, &store.pii).await?;
                store.upgrade().await?;
                Ok(store)
            }
            Some(other) => Err(StoreError::Backend(format!(
                "unsupported database URL {:?}: use postgres://…, or none for the embedded store",
                other.split(':').next().unwrap_or("")
            ))),
            None => {
                std::fs::create_dir_all(&options.data_dir)
                    .and_then(|()| backup::make_private(&options.data_dir))
                    .map_err(|e| StoreError::Unavailable(format!("{}: {e}", options.data_dir.display())))?;
                // admin changes (keys, audit) are few: always fsynced at commit
                let state_path = options.data_dir.join("beacon.db");
                let (state_opts, state_url) = sqlite_pool(
                    state_path.clone(),
                    Synchronous::Full,
                    options.max_connections,
                    CHECKPOINT_PAGES,
                    None,
                    0,
                )?;
                let pool = state_opts.connect(&state_url).await.map_err(backend)?;
                let (checkout_pool, shop_pool) = shopdb::open(&options, &state_path).await?;
                SQLITE_MIGRATOR.run(&pool).await.map_err(|e| StoreError::Backend(e.to_string()))?;
                let (proc_opts, _) = sqlite_pool(
                    state_path.clone(),
                    Synchronous::Normal,
                    1,
                    checkpoint::NEVER,
                    None,
                    PROCESSOR_CACHE_MIB,
                )?;
                let proc_pool = proc_opts.connect(&state_url).await.map_err(backend)?;
                // SQLite's default page cache: a reader's is dropped whenever
                // another connection commits, which the processor does each batch
                let (read_opts, _) =
                    sqlite_pool(state_path.clone(), Synchronous::Normal, 2, CHECKPOINT_PAGES, None, 0)?;
                let proc_read_pool = read_opts.connect(&state_url).await.map_err(backend)?;
                let (book_opts, _) =
                    sqlite_pool(state_path.clone(), Synchronous::Normal, 2, CHECKPOINT_PAGES, None, 0)?;
                let bookkeeping_pool = book_opts.connect(&state_url).await.map_err(backend)?;
                // `full`: each log commit fsyncs; `normal`: commits reach the OS,
                // and `EventLog::sync` fsyncs behind them (see log.rs)
                let log_path = options.data_dir.join("events.db");
                let (log_opts, log_url) = sqlite_pool(log_path.clone(), options.synchronous, 3, 0, None, 0)?;
                let log_pool = log_opts.connect(&log_url).await.map_err(backend)?;
                SQLITE_LOG_MIGRATOR.run(&log_pool).await.map_err(|e| StoreError::Backend(e.to_string()))?;
                let fsync = (options.synchronous == Synchronous::Normal).then_some(log_path);
                let log = log::SqlLog::open(log_pool.clone(), Dialect::Sqlite, options.pii.clone(), fsync).await?;
                let write_lock: std::sync::Arc<tokio::sync::Mutex<()>> = Default::default();
                let checkpointers = vec![
                    log.spawn_checkpointer(options.log_wal_limit),
                    checkpoint::spawn_state(&state_path, &write_lock, 2 * options.log_wal_limit).await?,
                    rotate::spawn_key_refresh(pool.clone(), options.pii.clone()),
                ];
                let store = SqlStore {
                    log,
                    proc_pool,
                    proc_read_pool,
                    young_keys: std::sync::Arc::new((-1).into()),
                    resident: Some(resident::Resident::new(&options.data_dir, options.dedupe_window_days)),
                    bookkeeping_pool,
                    checkout_pool,
                    shop_pool,
                    checkpointers,
                    pool,
                    dialect: Dialect::Sqlite,
                    pii: options.pii,
                    write_lock,
                    checkout_lock: Default::default(),
                };
                store.verify_key().await?;
                rotate::load_keys(&store.pool, &store.pii).await?;
                store.upgrade().await?;
                Ok(store)
            }
        }
    }

    /// A write transaction on `pool` of the state database: on SQLite it
    /// waits its turn in the process and takes the write lock up front
    /// (`BEGIN IMMEDIATE`); keep the guard until the transaction ends.
    pub(crate) async fn begin_write(
        &self,
        pool: &AnyPool,
    ) -> Result<(Option<tokio::sync::OwnedMutexGuard<()>>, sqlx::Transaction<'static, sqlx::Any>), StoreError> {
        let write = self.write_guard().await;
        let tx = match self.dialect {
            Dialect::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => pool.begin().await,
        }
        .map_err(backend)?;
        Ok((write, tx))
    }

    /// Held for a write transaction on `checkout.db` (SQLite).
    pub(crate) async fn checkout_guard(&self) -> tokio::sync::OwnedMutexGuard<()> {
        self.checkout_lock.clone().lock_owned().await
    }

    /// Held for a write transaction on the state database (SQLite only).
    pub(crate) async fn write_guard(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match self.dialect {
            Dialect::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Dialect::Postgres => None,
        }
    }

    /// Records the PII key's check value on first start; refuses a different key.
    /// The upgrades done in Rust at open (they need the keys: an edge node,
    /// which holds none, leaves them to the core nodes).
    async fn upgrade(&self) -> Result<(), StoreError> {
        if self.pii.opens() {
            self.upgrade_event_table().await?;
            self.upgrade_checkout_records().await?;
        }
        Ok(())
    }

    /// Closes the pools (checkpointing the SQLite WAL).
    pub async fn close(&self) {
        for c in &self.checkpointers {
            c.abort();
        }
        self.log.close().await;
        self.proc_pool.close().await;
        self.bookkeeping_pool.close().await;
        self.checkout_pool.close().await;
        self.shop_pool.close().await;
        self.pool.close().await;
        if let Some(r) = &self.resident {
            r.release();
        }
    }

    /// Whether this is the embedded store (SQLite in the data directory),
    /// which one process writes.
    pub fn is_embedded(&self) -> bool {
        self.dialect == Dialect::Sqlite
    }

    /// The cipher of personal data this store was opened with.
    pub fn pii(&self) -> &PiiCipher {
        &self.pii
    }

    pub fn event_log(&self) -> &dyn EventLog {
        &self.log
    }
}
