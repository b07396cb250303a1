//! Test harness: a fresh embedded store in a temp dir, or a fresh schema on
//! the local PostgreSQL.

use beacon_store::{CheckoutRecord, SqlStore, StoreOptions, Synchronous};
use sqlx::{AnyPool, AssertSqlSafe, Row};

pub struct RawSql {
    pool: AnyPool,
    pub log_pool: AnyPool,
    /// The checkout tables (`checkout.db` when embedded).
    shop_pool: AnyPool,
}

impl RawSql {
    /// Event payloads and traits as stored (profiles, merges, log chunks; the
    /// timeline keeps no payload).
    pub async fn dump_payloads(&self) -> String {
        let mut out = String::new();
        for r in sqlx::query("SELECT traits FROM profiles").fetch_all(&self.pool).await.expect("profiles") {
            out.push_str(&r.get::<String, _>(0));
        }
        for r in sqlx::query("SELECT reason FROM merges").fetch_all(&self.pool).await.expect("merges") {
            out.push_str(&r.get::<String, _>(0));
        }
        for r in sqlx::query("SELECT body FROM log_chunks").fetch_all(&self.log_pool).await.expect("chunks") {
            out.push_str(&String::from_utf8_lossy(&r.get::<Vec<u8>, _>(0)));
        }
        out
    }

    /// Every checkout record as stored.
    pub async fn dump_checkouts(&self) -> String {
        let rows = sqlx::query("SELECT result FROM checkouts").fetch_all(&self.shop_pool).await.expect("checkouts");
        rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>().join("\n")
    }

    /// One text column of a state table, every row joined.
    pub async fn dump_table(&self, table: &str, column: &str) -> String {
        let sql = format!("SELECT {column} FROM {table}");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.expect("dump table");
        rows.iter().map(|r| r.get::<String, _>(0)).collect::<Vec<_>>().join("\n")
    }

    /// How many rows a state table holds.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        sqlx::query(AssertSqlSafe(sql)).fetch_one(&self.pool).await.expect("count").get::<i64, _>(0)
    }

    /// Runs a statement on the checkout tables.
    pub async fn exec_shop(&self, sql: &str) {
        sqlx::query(AssertSqlSafe(sql.to_string())).execute(&self.shop_pool).await.expect("raw statement");
    }

    /// Whether a query on the state tables is refused (a column that is gone).
    pub async fn refuses(&self, sql: &str) -> bool {
        sqlx::query(AssertSqlSafe(sql.to_string())).fetch_all(&self.pool).await.is_err()
    }

    /// Runs statements, one after another, on the state tables.
    pub async fn exec_state(&self, statements: &[&str]) {
        for sql in statements {
            sqlx::query(AssertSqlSafe(sql.to_string())).execute(&self.pool).await.expect("raw statement");
        }
    }

    /// A transaction holding the named lock a writer takes on PostgreSQL
    /// (`sql/locks.rs`: the first 8 bytes of the name's SHA-256), as another
    /// node in the middle of its write would; dropping it releases the lock.
    pub async fn hold_lock(&self, name: &str) -> sqlx::Transaction<'static, sqlx::Any> {
        use sha2::Digest as _;
        let lock = i64::from_be_bytes(sha2::Sha256::digest(name.as_bytes())[..8].try_into().expect("8 bytes"));
        let mut holder = self.shop_pool.begin().await.expect("begin");
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock).execute(&mut *holder).await.expect("hold");
        holder
    }

    /// Every identity row as text, to check what is stored in the clear.
    pub async fn dump_identities(&self) -> String {
        let rows = sqlx::query("SELECT kind, value, value_enc FROM identities")
            .fetch_all(&self.pool)
            .await
            .expect("dump identities");
        rows.iter()
            .map(|r| {
                format!(
                    "{}|{}|{}",
                    r.get::<String, _>(0),
                    r.get::<Option<String>, _>(1).unwrap_or_default(),
                    r.get::<Option<String>, _>(2).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

pub struct Harness {
    pub store: SqlStore,
    pub raw: RawSql,
    opts: StoreOptions,
    schema: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

pub fn pg_base_url() -> String {
    std::env::var("BEACON_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

fn options(database_url: Option<String>, dir: std::path::PathBuf) -> StoreOptions {
    StoreOptions {
        database_url,
        max_connections: 4,
        ..crate::fixtures::options(&dir, Synchronous::Normal, 64 << 20, 42)
    }
}

impl Harness {
    pub async fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = options(None, dir.path().to_path_buf());
        let store = SqlStore::open(opts.clone()).await.expect("open embedded");
        let url = |name: &str| format!("sqlite://{}", dir.path().join(name).display());
        let pool = AnyPool::connect(&url("beacon.db")).await.expect("raw pool");
        let log_pool = AnyPool::connect(&url("events.db")).await.expect("raw log pool");
        let shop_pool = AnyPool::connect(&url("checkout.db")).await.expect("raw checkout pool");
        Harness { store, raw: RawSql { pool, log_pool, shop_pool }, opts, schema: None, _dir: Some(dir) }
    }

    pub async fn postgres() -> Self {
        sqlx::any::install_default_drivers();
        let base = pg_base_url();
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        let admin = AnyPool::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {base} is required for the conformance suite: {e}"));
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}"))).execute(&admin).await.expect("create schema");
        admin.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        let opts = options(Some(url.clone()), std::env::temp_dir());
        let store = SqlStore::open(opts.clone()).await.expect("open postgres");
        let pool = AnyPool::connect(&url).await.expect("raw pool");
        let (log_pool, shop_pool) = (pool.clone(), pool.clone());
        Harness { store, raw: RawSql { pool, log_pool, shop_pool }, opts, schema: Some((base, schema)), _dir: None }
    }

    pub fn is_embedded(&self) -> bool {
        self.schema.is_none()
    }

    /// Another store on the same database, as a second node (or process) would open it.
    pub async fn another(&self) -> SqlStore {
        SqlStore::open(self.opts.clone()).await.expect("open another")
    }

    /// Closes the store and opens it again, as a restart would.
    pub async fn reopen(&mut self) {
        self.store.close().await;
        self.store = SqlStore::open(self.opts.clone()).await.expect("reopen");
    }

    /// Opens the store again with another cipher (the same master key with
    /// another list of personal keys, say).
    pub async fn reopen_with(&mut self, pii: beacon_store::PiiCipher) {
        self.opts.pii = pii;
        self.reopen().await;
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        self.raw.pool.close().await;
        self.raw.log_pool.close().await;
        self.raw.shop_pool.close().await;
        if let Some((base, schema)) = self.schema
            && let Ok(admin) = AnyPool::connect(&base).await
        {
            let _ = sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE"))).execute(&admin).await;
        }
    }
}

/// Runs test bodies `async fn name(store: &SqlStore)` against both stores.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test] async fn $name() {
                let h = $crate::common::Harness::embedded().await;
                super::$name(&h.store).await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let h = $crate::common::Harness::postgres().await;
                super::$name(&h.store).await;
                h.cleanup().await;
            })*
        }
    };
}

/// A checkout record for order `order_id`, bought by `email`, as a version 1
/// answer (the shape the store upgrades) would read.
pub fn record_for(order_id: &str, email: &str) -> CheckoutRecord {
    let answer = serde_json::json!({"order_id": order_id, "order": {"order_id": order_id, "email": email,
        "anonymous_id": format!("order:{order_id}"), "placed_at": "2026-03-01T08:00:00Z", "currency": "CNY",
        "total": "10.00", "discount": "0.00", "products": [{"product_id": "tea", "price": "10.00", "quantity": 1}]},
        "pricing": {"currency": "CNY", "lines": [{"product_id": "tea", "quantity": 1, "allocations": []}]}});
    CheckoutRecord::from_answer(answer).expect("a valid answer")
}
