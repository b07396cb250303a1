//! The event log: one row (chunk) per group commit, read back in order.
//!
//! How an append becomes durable depends on `storage.synchronous`:
//! - `full`: SQLite fsyncs the log's WAL in each commit; an append is durable
//!   when it returns and [`EventLog::sync`] has nothing left to do.
//! - `normal`: the commit reaches the WAL in the OS page cache (so it
//!   survives a process crash) without an fsync; [`EventLog::sync`] then
//!   fsyncs the WAL file, which makes every commit before it durable. The
//!   writer acknowledges after the commit and syncs in the background, one
//!   fsync covering many appends.
//!
//! Readers see only chunks up to the last sync, so the processor never acts
//! on a record a power loss could take back (its own state would otherwise
//! run ahead of the log after a restart).

use super::{Dialect, SqlDialect as _, backend};
use crate::chunk::{self, chunk_of, record_seq};
use crate::pii::PiiCipher;
use crate::{EventLog, LogRecord, NewLogRecord, Result, StoreError};
use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Row};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

pub(crate) struct SqlLog {
    pub(crate) pool: AnyPool,
    pub(crate) dialect: Dialect,
    pub(crate) pii: PiiCipher,
    /// SQLite `normal`: the database file whose WAL `sync` fsyncs; `None`
    /// where commits are durable by themselves (SQLite `full`, PostgreSQL).
    fsync: Option<PathBuf>,
    /// SQLite: the highest chunk appended, and the highest one synced.
    written: AtomicI64,
    durable: AtomicI64,
    /// The appender's own connection, kept between appends: taking one from
    /// the pool and giving it back costs more than the insert itself.
    appender: Appender,
}

type Appender = Arc<tokio::sync::Mutex<Option<PoolConnection<Any>>>>;

impl SqlLog {
    pub(crate) async fn open(pool: AnyPool, dialect: Dialect, pii: PiiCipher, fsync: Option<PathBuf>) -> Result<Self> {
        let log = SqlLog {
            pool,
            dialect,
            pii,
            fsync,
            written: AtomicI64::new(0),
            durable: AtomicI64::new(0),
            appender: Arc::new(tokio::sync::Mutex::new(None)),
        };
        if dialect == Dialect::Sqlite {
            // whatever a crash left in the WAL is on disk from here on
            let last: Option<i64> =
                sqlx::query_scalar("SELECT MAX(seq) FROM log_chunks").fetch_one(&log.pool).await.map_err(backend)?;
            log.written.store(last.unwrap_or(0), Ordering::SeqCst);
            log.sync().await?;
        }
        Ok(log)
    }

    async fn insert_chunk(&self, conn: &mut PoolConnection<Any>, count: usize, body: Vec<u8>) -> Result<()> {
        match self.dialect {
            // one statement in autocommit: atomic, one round trip
            Dialect::Sqlite => {
                let seq: i64 = sqlx::query_scalar("INSERT INTO log_chunks (count, body) VALUES ($1, $2) RETURNING seq")
                    .bind(count as i64)
                    .bind(body)
                    .fetch_one(&mut **conn)
                    .await
                    .map_err(backend)?;
                self.written.fetch_max(seq, Ordering::SeqCst);
            }
            Dialect::Postgres => {
                let mut tx = sqlx::Connection::begin(&mut **conn).await.map_err(backend)?;
                // chunk numbers must commit in order, even with several writers
                sqlx::query("SELECT pg_advisory_xact_lock(7259001)").execute(&mut *tx).await.map_err(backend)?;
                sqlx::query("INSERT INTO log_chunks (count, body) VALUES ($1, $2)")
                    .bind(count as i64)
                    .bind(body)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                tx.commit().await.map_err(backend)?;
            }
        }
        Ok(())
    }

    /// Gives back the appender's connection and closes the pool (a pool
    /// closes only once every connection is back).
    pub(crate) async fn close(&self) {
        self.appender.lock().await.take();
        self.pool.close().await;
    }

    /// Starts the SQLite log's checkpointer (see [`super::checkpoint`]).
    pub(crate) fn spawn_checkpointer(&self, wal_limit: u64) -> tokio::task::JoinHandle<()> {
        let frames = super::checkpoint::frames(wal_limit);
        let appender = self.appender.clone();
        let hold: super::checkpoint::Hold = Box::new(move || {
            let appender = appender.clone();
            Box::pin(async move { Box::new(appender.lock_owned().await) as Box<dyn Send> })
        });
        tokio::spawn(super::checkpoint::run(self.pool.clone(), hold, frames))
    }

    /// The highest chunk a reader may see.
    fn visible(&self) -> i64 {
        match self.dialect {
            Dialect::Sqlite => self.durable.load(Ordering::SeqCst),
            Dialect::Postgres => i64::MAX,
        }
    }
}

/// fsyncs the WAL of `db` (or, when the last connection has just folded the
/// WAL into the database and removed it, the database file itself).
fn fsync_wal(db: &Path) -> std::io::Result<()> {
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::File::open(PathBuf::from(wal)) {
        Ok(f) => f.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::File::open(db)?.sync_data(),
        Err(e) => Err(e),
    }
}

/// What an erased record's payload becomes.
pub const ERASED_PAYLOAD: &str = r#"{"erased":true}"#;

impl SqlLog {
    /// Seals every record's personal data again under the current data key
    /// (`super::rotate`), chunk by chunk, each rewritten only if no one
    /// changed it meanwhile; answers how many values moved.
    pub(crate) async fn reseal(&self) -> Result<u64> {
        let (mut after, mut moved) = (-1i64, 0u64);
        loop {
            let page = self.chunk_page(after).await?;
            let Some((last, _)) = page.last() else { return Ok(moved) };
            after = *last;
            for (seq, old) in page {
                let mut records = chunk::decode(seq, &old)?;
                let mut n = 0;
                for r in &mut records {
                    if let Ok((new, k)) = self.pii.reseal_json(&r.record.payload)
                        && k > 0
                    {
                        r.record.payload = new.into_owned();
                        n += k;
                    }
                }
                if n == 0 {
                    continue;
                }
                let payloads: Vec<&str> = records.iter().map(|r| r.record.payload.as_str()).collect();
                let body = chunk::encode(&records.iter().map(|r| &r.record).collect::<Vec<_>>(), &payloads);
                let done = sqlx::query("UPDATE log_chunks SET body = $1 WHERE seq = $2 AND body = $3")
                    .bind(body)
                    .bind(seq)
                    .bind(old)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?;
                if done.rows_affected() == 1 {
                    moved += n as u64;
                }
            }
        }
    }

    /// The data key of every sealed value in the log.
    pub(crate) async fn data_keys(&self) -> Result<Vec<u32>> {
        let (mut after, mut keys) = (-1i64, Vec::new());
        loop {
            let page = self.chunk_page(after).await?;
            let Some((last, _)) = page.last() else { return Ok(keys) };
            after = *last;
            for (seq, body) in page {
                for r in chunk::decode(seq, &body)? {
                    keys.extend(self.pii.data_keys_in(&r.record.payload));
                }
            }
        }
    }

    /// Up to 100 chunks after `after`, as stored (personal data sealed).
    async fn chunk_page(&self, after: i64) -> Result<Vec<(i64, Vec<u8>)>> {
        let rows = sqlx::query("SELECT seq, body FROM log_chunks WHERE seq > $1 ORDER BY seq LIMIT 100")
            .bind(after)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| Ok((r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?))).collect()
    }

    /// Opens the personal data a stored record's payload holds sealed.
    fn open_record(&self, r: &mut LogRecord) -> Result<()> {
        r.record.payload =
            self.pii.open_json(&r.record.payload).map_err(|e| StoreError::Corrupt(e.to_string()))?.into_owned();
        Ok(())
    }

    /// The records at `seqs` (the timeline keeps only where an event sits in
    /// the log; its body is read from here), personal data opened. A seq the
    /// log does not hold is missing from the map.
    pub(crate) async fn records_at(&self, seqs: &[i64]) -> Result<HashMap<i64, LogRecord>> {
        let mut chunks: Vec<i64> = seqs.iter().map(|s| chunk_of(*s)).collect();
        chunks.sort_unstable();
        chunks.dedup();
        let wanted: HashSet<i64> = seqs.iter().copied().collect();
        let mut out = HashMap::with_capacity(seqs.len());
        for part in chunks.chunks(200) {
            let sql =
                format!("SELECT seq, body FROM log_chunks WHERE seq IN ({})", self.dialect.params_from(0, part.len()));
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for c in part {
                q = q.bind(*c);
            }
            for row in q.fetch_all(&self.pool).await.map_err(backend)? {
                let seq: i64 = row.try_get(0).map_err(backend)?;
                let body: Vec<u8> = row.try_get(1).map_err(backend)?;
                for mut r in chunk::decode_where(seq, &body, |s| wanted.contains(&s))? {
                    self.open_record(&mut r)?;
                    out.insert(r.seq, r);
                }
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl EventLog for SqlLog {
    async fn append(&self, records: &[NewLogRecord]) -> Result<()> {
        for part in records.chunks(chunk::MAX_CHUNK_RECORDS) {
            let body = self.encode_chunk(&part.iter().collect::<Vec<_>>())?;
            let mut held = self.appender.lock().await;
            let conn = match held.as_mut() {
                Some(conn) => conn,
                None => held.insert(self.pool.acquire().await.map_err(backend)?),
            };
            let result = self.insert_chunk(conn, part.len(), body).await;
            if result.is_err() {
                // the connection may be broken: the next append takes a fresh one
                *held = None;
            }
            result?;
        }
        Ok(())
    }

    async fn sync(&self) -> Result<()> {
        let target = self.written.load(Ordering::SeqCst);
        if self.dialect == Dialect::Postgres || target <= self.durable.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Some(db) = self.fsync.clone() {
            tokio::task::spawn_blocking(move || fsync_wal(&db))
                .await
                .map_err(|e| StoreError::Backend(e.to_string()))?
                .map_err(|e| StoreError::Unavailable(format!("fsync of the event log: {e}")))?;
        }
        self.durable.fetch_max(target, Ordering::SeqCst);
        Ok(())
    }

    /// Whole chunks from the one holding `after + 1`, until at least `limit`
    /// records (a chunk is never split, so a reader may get more).
    async fn read(&self, after: i64, limit: u32) -> Result<Vec<LogRecord>> {
        // Small group commits make many small chunks, and one big batch one
        // big chunk: first see how many chunks make up `limit` records (no
        // bodies), then fetch just those bodies in one query.
        const CHUNKS_PER_QUERY: i64 = 256;
        let mut out = Vec::new();
        let mut from = chunk_of(after);
        let visible = self.visible();
        while out.len() < limit as usize && from <= visible {
            let sizes =
                sqlx::query("SELECT seq, count FROM log_chunks WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3")
                    .bind(from)
                    .bind(visible)
                    .bind(CHUNKS_PER_QUERY)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(backend)?;
            let (mut upto, mut wanted) = (None, out.len() as i64);
            for row in &sizes {
                upto = Some(row.try_get::<i64, _>(0).map_err(backend)?);
                wanted += row.try_get::<i64, _>(1).map_err(backend)?;
                if wanted >= i64::from(limit) {
                    break;
                }
            }
            let Some(upto) = upto else { break };
            let rows = sqlx::query("SELECT seq, body FROM log_chunks WHERE seq >= $1 AND seq <= $2 ORDER BY seq")
                .bind(from)
                .bind(upto)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
            for row in rows {
                let seq: i64 = row.try_get(0).map_err(backend)?;
                let body: Vec<u8> = row.try_get(1).map_err(backend)?;
                for mut r in chunk::decode(seq, &body)?.into_iter().filter(|r| r.seq > after) {
                    self.open_record(&mut r)?;
                    out.push(r);
                }
            }
            from = upto + 1;
        }
        Ok(out)
    }

    async fn erase(&self, seqs: &[i64]) -> Result<usize> {
        let wanted: HashSet<i64> = seqs.iter().copied().collect();
        let mut chunks: Vec<i64> = seqs.iter().map(|s| chunk_of(*s)).collect();
        chunks.sort_unstable();
        chunks.dedup();
        let mut erased = 0;
        // one chunk at a time, between appends (SQLite: one writer)
        let _appends = self.appender.lock().await;
        for chunk in chunks {
            let row = sqlx::query("SELECT body FROM log_chunks WHERE seq = $1")
                .bind(chunk)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            let Some(row) = row else { continue };
            let mut records = chunk::decode(chunk, &row.try_get::<Vec<u8>, _>(0).map_err(backend)?)?;
            let mut changed = false;
            for r in records.iter_mut().filter(|r| wanted.contains(&r.seq) && r.record.payload != ERASED_PAYLOAD) {
                r.record.payload = ERASED_PAYLOAD.to_string();
                changed = true;
                erased += 1;
            }
            if !changed {
                continue;
            }
            let payloads: Vec<&str> = records.iter().map(|r| r.record.payload.as_str()).collect();
            let body = chunk::encode(&records.iter().map(|r| &r.record).collect::<Vec<_>>(), &payloads);
            sqlx::query("UPDATE log_chunks SET body = $1 WHERE seq = $2")
                .bind(body)
                .bind(chunk)
                .execute(&self.pool)
                .await
                .map_err(backend)?;
        }
        Ok(erased)
    }

    fn encode_chunk(&self, records: &[&NewLogRecord]) -> Result<Vec<u8>> {
        if records.len() > chunk::MAX_CHUNK_RECORDS {
            return Err(StoreError::Backend(format!("a chunk holds at most {} records", chunk::MAX_CHUNK_RECORDS)));
        }
        let sealed = records
            .iter()
            .map(|r| self.pii.seal_json(&r.payload))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        let payloads: Vec<&str> = sealed.iter().map(|c| c.as_ref()).collect();
        Ok(chunk::encode(records, &payloads))
    }

    fn decode_chunk(&self, seq: i64, body: &[u8]) -> Result<Vec<LogRecord>> {
        let mut records = chunk::decode(seq, body)?;
        for r in &mut records {
            self.open_record(r)?;
        }
        Ok(records)
    }

    async fn head(&self) -> Result<i64> {
        let row = sqlx::query("SELECT seq, count FROM log_chunks ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(r) => {
                let (seq, count): (i64, i64) = (r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?);
                Ok(record_seq(seq, (count.max(1) - 1) as usize))
            }
            None => Ok(0),
        }
    }
}
