//! `checkout.db`: what checkouts commit, in a file of its own (SQLite).
//!
//! SQLite has one writer per database file. With the checkout tables in
//! `beacon.db`, every order waited for whatever the processor was
//! committing (a batch holds the lock for milliseconds), and that wait was
//! most of an order's time under load. Here one connection writes
//! `checkout.db`, with `beacon.db` attached (as `state`) for the few reads a
//! checkout makes of it (merged profiles, for a points cap). It begins its
//! transactions deferred: `BEGIN IMMEDIATE` would take the write lock of
//! every attached file, `beacon.db`'s too. Nothing else writes
//! `checkout.db`, and the store queues its transactions in the process, so
//! a deferred transaction never finds its snapshot stale when it writes.
//!
//! Readers of these tables use a pool on `checkout.db` with `beacon.db`
//! attached, so a query may name the tables of both (refunds join orders,
//! leaderboards join merges). Data directories from before the split have
//! the tables in `beacon.db`: their rows are copied here, then migration
//! 0009 drops them there.

use super::pools::CHECKPOINT_PAGES;
use super::{SQLITE_CHECKOUT_MIGRATOR, StoreOptions, Synchronous, backend, sqlite_pool};
use crate::{Result, StoreError};
use sqlx::AnyPool;
use std::path::Path;

/// The tables that moved, in the order their rows are copied.
const MOVED: [&str; 7] =
    ["promotion_counters", "checkouts", "counter_returns", "coupons", "group_teams", "points_lots", "points_moves"];

/// Opens (creating and migrating) `checkout.db` beside `state`; returns the
/// writer's pool (one connection) and the readers'.
pub(super) async fn open(options: &StoreOptions, state: &Path) -> Result<(AnyPool, AnyPool)> {
    let path = options.data_dir.join("checkout.db");
    {
        // migrated without `beacon.db` attached, so every name is this file's
        let (opts, url) = sqlite_pool(path.clone(), options.synchronous, 1, CHECKPOINT_PAGES, None, 0)?;
        let pool = opts.connect(&url).await.map_err(backend)?;
        SQLITE_CHECKOUT_MIGRATOR.run(&pool).await.map_err(|e| StoreError::Backend(e.to_string()))?;
        pool.close().await;
    }
    let (opts, url) =
        sqlite_pool(path.clone(), options.synchronous, 1, CHECKPOINT_PAGES, Some(state.to_path_buf()), 0)?;
    let writer = opts.connect(&url).await.map_err(backend)?;
    move_rows(&writer, options.synchronous).await?;
    let (opts, _) = sqlite_pool(
        path,
        Synchronous::Normal,
        options.max_connections,
        CHECKPOINT_PAGES,
        Some(state.to_path_buf()),
        0,
    )?;
    let readers = opts.connect(&url).await.map_err(backend)?;
    Ok((writer, readers))
}

/// Copies the rows of the moved tables from `beacon.db`, where a data
/// directory from before the split has them (those its migrations made).
/// Until migration 0009 drops them there, `beacon.db` is the record: a copy
/// interrupted, or followed by a run of an older binary, is done again from
/// it. The copy is fsynced before 0009 can drop the originals.
async fn move_rows(writer: &AnyPool, synchronous: Synchronous) -> Result<()> {
    let tables: Vec<String> = sqlx::query_scalar("SELECT name FROM state.sqlite_master WHERE type = 'table'")
        .fetch_all(writer)
        .await
        .map_err(backend)?;
    let old: Vec<&str> = MOVED.into_iter().filter(|t| tables.iter().any(|n| n == t)).collect();
    if old.is_empty() {
        return Ok(());
    }
    let mut conn = writer.acquire().await.map_err(backend)?;
    sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await.map_err(backend)?;
    let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(backend)?;
    for table in &old {
        for sql in
            [format!("DELETE FROM main.{table}"), format!("INSERT INTO main.{table} SELECT * FROM state.{table}")]
        {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.map_err(backend)?;
        }
    }
    tx.commit().await.map_err(backend)?;
    // the writer's own setting again (a fresh connection would get it from the pool)
    sqlx::query(sqlx::AssertSqlSafe(synchronous.pragma())).execute(&mut *conn).await.map_err(backend)?;
    Ok(())
}
