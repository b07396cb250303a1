//! Test harness: a fresh embedded store in a temp dir, or a fresh schema on
//! the local PostgreSQL.

use beacon_store::{SqlStore, StoreOptions, Synchronous};
use sqlx::{AnyPool, AssertSqlSafe, Row};

pub struct RawSql {
    pool: AnyPool,
    log_pool: AnyPool,
}

impl RawSql {
    /// Event payloads and traits as stored (timeline, profiles, log chunks).
    pub async fn dump_payloads(&self) -> String {
        let mut out = String::new();
        for r in sqlx::query("SELECT payload FROM events").fetch_all(&self.pool).await.expect("events") {
            out.push_str(&r.get::<String, _>(0));
        }
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
        let store = SqlStore::open(options(None, dir.path().to_path_buf())).await.expect("open embedded");
        let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
        let pool = AnyPool::connect(&url).await.expect("raw pool");
        let log_url = format!("sqlite://{}", dir.path().join("events.db").display());
        let log_pool = AnyPool::connect(&log_url).await.expect("raw log pool");
        Harness { store, raw: RawSql { pool, log_pool }, schema: None, _dir: Some(dir) }
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
        let store = SqlStore::open(options(Some(url.clone()), std::env::temp_dir())).await.expect("open postgres");
        let pool = AnyPool::connect(&url).await.expect("raw pool");
        let log_pool = pool.clone();
        Harness { store, raw: RawSql { pool, log_pool }, schema: Some((base, schema)), _dir: None }
    }

    pub async fn cleanup(self) {
        self.store.close().await;
        self.raw.pool.close().await;
        self.raw.log_pool.close().await;
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
