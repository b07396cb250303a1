//! The embedded store's SQLite connection pools: one per role and file
//! (see `SqlStore::open` in `mod.rs`), all set up the same way.

use super::Synchronous;
use crate::StoreError;
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AssertSqlSafe, Executor as _};
use std::path::PathBuf;

/// SQLite's own WAL auto-checkpoint threshold, in pages.
pub(super) const CHECKPOINT_PAGES: u32 = 1000;

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub(super) fn sqlite_pool(
    path: PathBuf,
    sync: Synchronous,
    max: u32,
    // past how many WAL pages a commit checkpoints (0: never)
    checkpoint_pages: u32,
    attach: Option<PathBuf>,
    cache_mib: u32,
) -> Result<(AnyPoolOptions, String), StoreError> {
    let url = format!("sqlite://{}?mode=rwc", path.display());
    // connections live as long as the store: closing the last one would fold
    // and remove the WAL under the log's fsync
    // a local file connection does not go stale: no ping before each use
    let opts = AnyPoolOptions::new()
        .max_connections(max)
        .max_lifetime(None)
        .idle_timeout(None)
        .test_before_acquire(false)
        .after_connect(move |conn: &mut AnyConnection, _| -> BoxFuture<'_, Result<(), sqlx::Error>> {
            let attach = attach.as_ref().map(|p| p.display().to_string());
            Box::pin(async move {
                if let Some(path) = attach {
                    sqlx::query("ATTACH DATABASE $1 AS state").bind(path).execute(&mut *conn).await?;
                }
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute(sync.pragma()).await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA foreign_keys = OFF").await?;
                // a statement's undo (a multi-row insert that may fail half way) in memory, not a temp file
                conn.execute("PRAGMA temp_store = MEMORY").await?;
                if cache_mib > 0 {
                    sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = -{}", cache_mib * 1024)))
                        .execute(&mut *conn)
                        .await?;
                }
                if checkpoint_pages != CHECKPOINT_PAGES {
                    sqlx::query(AssertSqlSafe(format!("PRAGMA wal_autocheckpoint = {checkpoint_pages}")))
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        });
    Ok((opts, url))
}
