//! Copies a SQLite WAL into its database file in the background, so the
//! writer never pays for it: a PASSIVE checkpoint runs beside writers and
//! readers without blocking them. Used for the log (`events.db`) and the
//! state database (`beacon.db`), whose processor commits a batch of
//! thousands of rows at once: a checkpoint inside its commit took 100 ms
//! of a ~170 ms commit at scale, on the write half's critical path.
//!
//! But SQLite starts a WAL over only when a checkpoint has left no frame
//! behind, which never happens while writes go on beside it: under steady
//! load the WAL would grow without bound (and every read slows with it).
//! So once it is past `restart_frames`, one more checkpoint runs with the
//! writers held ([`Hold`]). It copies just the frames written meanwhile,
//! and the next write starts the WAL at its beginning again, reusing the
//! file's blocks.

use sqlx::{AnyPool, Row as _};
use std::sync::Arc;
use std::time::Duration;

/// A connection's WAL auto-checkpoint threshold that never checkpoints: the
/// processor's commits leave it to the state's checkpointer (a batch of
/// 20,000 events writes thousands of pages; checkpointing them in its
/// commit took 100 of a ~170 ms commit at scale).
pub(super) const NEVER: u32 = 0;
type BoxFuture<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>;

/// Holds every writer of the database until the guard it answers is dropped.
pub(super) type Hold = Box<dyn Fn() -> BoxFuture<Box<dyn Send>> + Send + Sync>;

/// Starts the checkpointer of the state database at `path`, whose writers
/// all hold `writers` (`SqlStore::write_guard`); it starts the WAL over
/// past `wal_limit` bytes.
pub(super) async fn spawn_state(
    path: &std::path::Path,
    writers: &Arc<tokio::sync::Mutex<()>>,
    wal_limit: u64,
) -> crate::Result<tokio::task::JoinHandle<()>> {
    let (opts, url) = super::sqlite_pool(path.to_path_buf(), super::Synchronous::Normal, 1, 0, None, 0)?;
    let pool = opts.connect(&url).await.map_err(super::backend)?;
    let writers = writers.clone();
    let hold: Hold = Box::new(move || {
        let writers = writers.clone();
        Box::pin(async move { Box::new(writers.lock_owned().await) as Box<dyn Send> })
    });
    Ok(tokio::spawn(run(pool, hold, frames(wal_limit))))
}

/// WAL frames in `bytes` (a frame is a 4 KiB page and its header).
pub(super) fn frames(bytes: u64) -> i64 {
    i64::try_from(bytes / 4096).unwrap_or(i64::MAX).max(1)
}

/// Checkpoints `pool`'s database every 100 ms until the pool closes.
pub(super) async fn run(pool: AnyPool, hold: Hold, restart_frames: i64) {
    const PAUSE: Duration = Duration::from_millis(100);
    let mut settled = 0;
    loop {
        tokio::time::sleep(PAUSE).await;
        if let Err(e) = round(&pool, &hold, restart_frames, &mut settled).await {
            if pool.is_closed() {
                return;
            }
            tracing::warn!("checkpoint failed: {e}");
        }
    }
}

/// One round of [`run`]. `settled` is the size of a WAL that was
/// checkpointed with the writers held and has not been written to since.
async fn round(
    pool: &AnyPool,
    hold: &Hold,
    restart_frames: i64,
    settled: &mut i64,
) -> std::result::Result<(), sqlx::Error> {
    /// Frames (of 4 KiB) written during a checkpoint that are few enough to
    /// copy with the writers held.
    const FEW: i64 = 256;
    async fn passive(conn: &mut sqlx::AnyConnection) -> std::result::Result<i64, sqlx::Error> {
        // (busy, frames in the WAL, frames checkpointed)
        let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(conn).await?;
        row.try_get::<i64, _>(1)
    }
    let mut conn = pool.acquire().await?;
    let mut frames = passive(&mut conn).await?;
    if frames <= restart_frames || frames == *settled {
        return Ok(());
    }
    // catch up while writes go on, until a round leaves few frames behind
    for _ in 0..8 {
        let now = passive(&mut conn).await?;
        let written = now - frames;
        frames = now;
        if written <= FEW {
            break;
        }
    }
    let _writers = hold().await;
    *settled = passive(&mut conn).await?;
    Ok(())
}
