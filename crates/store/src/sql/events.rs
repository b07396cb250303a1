//! Processed events, laid out for a processor that writes tens of thousands
//! of them per transaction:
//!
//! - `events`: a slim row per event (where it sits in the log, whose it is,
//!   what it is called, when it happened), appended in sequence order with
//!   no secondary index;
//! - `timeline` and `product_timeline`: one row per profile (or product) per
//!   processed batch, holding the (seq, time) of its events in that batch.
//!   A batch of 20,000 events over 50 shoppers writes 50 timeline rows, not
//!   20,000 index entries; a page of a timeline reads the profile's rows;
//! - `event_keys`: a compact key per (source, messageId) that dedupes.
//!
//! The event's body (source, messageId, arrival time, payload) is stored
//! once, in the log, and read from there by sequence number.
//!
//! Data directories written before this layout kept the whole event in the
//! `events` row; [`SqlStore::upgrade_event_table`] moves them over at open,
//! in one transaction.

use super::codec::parse_id;
use super::process::SqlProcessTx;
use super::{Dialect, SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::pii::PiiCipher;
use crate::{Page, PageRequest, Result, StoreError, StoredEvent};
use beacon_core::message::MessageKind;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;

/// The columns a timeline query selects (see [`SqlStore::events_from_rows`]).
pub(crate) const COLUMNS: &str = "seq, profile_id, kind, name, product, ts, props";

/// An event's kept properties as stored, opened.
pub(crate) fn open_props(pii: &PiiCipher, stored: Option<String>) -> Result<Option<String>> {
    let Some(text) = stored else { return Ok(None) };
    let opened = pii.open_json(&text).map_err(|e| StoreError::Corrupt(format!("event properties: {e}")))?;
    Ok(Some(opened.into_owned()))
}

/// Bytes of a dedupe key.
const KEY_BYTES: usize = 16;

/// The dedupe key of an event: a keyed hash of its source and messageId, so
/// the index holds 16 bytes per event and nobody without the store's key can
/// craft a messageId that collides with another's.
pub(crate) fn event_key(pii: &PiiCipher, source_id: &str, message_id: &str) -> Vec<u8> {
    let len = (source_id.len() as u64).to_le_bytes();
    pii.keyed_hash(&[b"event\0", &len, source_id.as_bytes(), message_id.as_bytes()])[..KEY_BYTES].to_vec()
}

/// [`event_key`], as the processor handles it.
pub(crate) fn dedupe_key(pii: &PiiCipher, source_id: &str, message_id: &str) -> crate::DedupeKey {
    crate::DedupeKey::from_bytes(&event_key(pii, source_id, message_id))
}

/// Rows per multi-row statement.
const ROWS: usize = 400;

/// Which timeline a page is read from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Timeline {
    Profile,
    Product,
}

impl Timeline {
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Timeline::Profile => ("timeline", "profile_id"),
            Timeline::Product => ("product_timeline", "product"),
        }
    }
}

/// (seq, time in µs) pairs as a timeline row stores them: 16 bytes each.
fn encode_entries(entries: &[(i64, i64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * 16);
    for (seq, ts) in entries {
        out.extend_from_slice(&seq.to_le_bytes());
        out.extend_from_slice(&ts.to_le_bytes());
    }
    out
}

pub(super) fn decode_entries(blob: &[u8], out: &mut Vec<(i64, i64)>) -> Result<()> {
    if !blob.len().is_multiple_of(16) {
        return Err(StoreError::Corrupt(format!("timeline row of {} bytes", blob.len())));
    }
    for e in blob.chunks_exact(16) {
        let (seq, ts) = e.split_at(8);
        let n = |b: &[u8]| i64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        out.push((n(seq), n(ts)));
    }
    Ok(())
}

/// Events as (key, seq, time) grouped by key into timeline rows: (key,
/// first seq, entries).
fn group(events: impl Iterator<Item = (String, i64, i64)>) -> Vec<(String, i64, Vec<u8>)> {
    let mut by: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for (key, seq, ts) in events {
        by.entry(key).or_default().push((seq, ts));
    }
    by.into_iter().map(|(k, entries)| (k, entries[0].0, encode_entries(&entries))).collect()
}

async fn insert_timeline(
    tx: &mut sqlx::AnyConnection,
    dialect: Dialect,
    timeline: Timeline,
    rows: &[(String, i64, Vec<u8>)],
) -> Result<()> {
    let (table, column) = timeline.table();
    for part in rows.chunks(ROWS) {
        let sql = format!(
            "{} INTO {table} ({column}, seq, entries) VALUES {}",
            dialect.bulk_insert(),
            dialect.rows(part.len(), 3)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (key, seq, entries) in part {
            q = q.bind(key.as_str()).bind(*seq).bind(entries.as_slice());
        }
        q.execute(&mut *tx).await.map_err(backend)?;
    }
    Ok(())
}

impl SqlProcessTx {
    /// Writes a batch's events: slim rows and timeline rows (their dedupe
    /// keys are recorded by `claim`).
    pub(super) async fn write_events(
        &mut self,
        events: &[crate::ProcessedEvent],
        took: &mut crate::Phases,
    ) -> Result<()> {
        let insert = self.dialect.bulk_insert();
        for part in events.chunks(ROWS) {
            let sql = format!(
                "{insert} INTO events (seq, profile_id, kind, name, product, ts, props) VALUES {}",
                self.dialect.rows(part.len(), 7)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for e in part {
                let props = match e.props.as_deref() {
                    Some(text) => Some(
                        self.pii.seal_json(text).map_err(|e| StoreError::Backend(format!("event properties: {e}")))?,
                    ),
                    None => None,
                };
                q = q
                    .bind(e.seq)
                    .bind(e.profile_id.to_string())
                    .bind(e.kind.as_str())
                    .bind(e.name.as_deref())
                    .bind(e.product.as_deref())
                    .bind(micros(e.timestamp))
                    .bind(props.map(|p| p.into_owned()));
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        took.mark("events");
        let profiles = group(events.iter().map(|e| (e.profile_id.to_string(), e.seq, micros(e.timestamp))));
        insert_timeline(&mut self.tx, self.dialect, Timeline::Profile, &profiles).await?;
        took.mark("timeline");
        let products = group(events.iter().filter_map(|e| Some((e.product.clone()?, e.seq, micros(e.timestamp)))));
        insert_timeline(&mut self.tx, self.dialect, Timeline::Product, &products).await?;
        took.mark("product timeline");
        Ok(())
    }

    /// A merge moves `from`'s events and timeline rows to `into`.
    pub(super) async fn move_events(&mut self, from: &str, into: &str) -> Result<()> {
        let rows = sqlx::query("SELECT entries FROM timeline WHERE profile_id = $1")
            .bind(from)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?;
        let mut entries = Vec::new();
        for r in &rows {
            decode_entries(&r.try_get::<Vec<u8>, _>(0).map_err(backend)?, &mut entries)?;
        }
        for part in entries.chunks(ROWS) {
            let sql = format!(
                "UPDATE events SET profile_id = {} WHERE seq IN ({})",
                self.dialect.param(1),
                self.dialect.params_from(1, part.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(into);
            for (seq, _) in part {
                q = q.bind(*seq);
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        sqlx::query("UPDATE timeline SET profile_id = $2 WHERE profile_id = $1")
            .bind(from)
            .bind(into)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }
}

impl SqlStore {
    /// A page of a timeline (of the keys bound, usually one), newest first.
    pub(crate) async fn timeline_page(
        &self,
        timeline: Timeline,
        keys: &[String],
        page: &PageRequest,
    ) -> Result<Page<StoredEvent>> {
        let limit = page.limit.max(1) as usize;
        let cursor = match &page.after {
            Some((at, seq)) => (*at, seq.parse::<i64>().map_err(|_| StoreError::NotFound)?),
            None => (i64::MAX, i64::MAX),
        };
        let (table, column) = timeline.table();
        let sql =
            format!("SELECT entries FROM {table} WHERE {column} IN ({})", self.dialect.params_from(0, keys.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for k in keys {
            q = q.bind(k.as_str());
        }
        let mut entries = Vec::new();
        for r in q.fetch_all(&self.pool).await.map_err(backend)? {
            decode_entries(&r.try_get::<Vec<u8>, _>(0).map_err(backend)?, &mut entries)?;
        }
        // newest first by (time, seq), after the cursor
        let mut picked: Vec<(i64, i64)> =
            entries.into_iter().map(|(seq, ts)| (ts, seq)).filter(|e| *e < cursor).collect();
        picked.sort_unstable_by(|a, b| b.cmp(a));
        picked.dedup();
        let more = picked.len() > limit;
        picked.truncate(limit);
        let seqs: Vec<i64> = picked.iter().map(|(_, seq)| *seq).collect();
        if seqs.is_empty() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let sql = format!("SELECT {COLUMNS} FROM events WHERE seq IN ({})", self.dialect.params_from(0, seqs.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for seq in &seqs {
            q = q.bind(*seq);
        }
        let mut rows = q.fetch_all(&self.pool).await.map_err(backend)?;
        let order: std::collections::HashMap<i64, usize> = seqs.iter().enumerate().map(|(i, s)| (*s, i)).collect();
        rows.sort_by_key(|r| {
            r.try_get::<i64, _>("seq").ok().and_then(|s| order.get(&s).copied()).unwrap_or(usize::MAX)
        });
        let items = self.events_from_rows(&rows).await?;
        let next = more.then(|| items.last().map(|e| (micros(e.timestamp), e.seq.to_string()))).flatten();
        Ok(Page { items, next })
    }

    /// An event's kept properties as stored, opened.
    pub(crate) fn open_props(&self, stored: Option<String>) -> Result<Option<String>> {
        open_props(&self.pii, stored)
    }

    /// Timeline rows completed from the log, in the rows' order.
    pub(crate) async fn events_from_rows(&self, rows: &[AnyRow]) -> Result<Vec<StoredEvent>> {
        let seqs = rows.iter().map(|r| r.try_get::<i64, _>("seq").map_err(backend)).collect::<Result<Vec<_>>>()?;
        let mut records = self.log.records_at(&seqs).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (row, seq) in rows.iter().zip(seqs) {
            let kind: String = row.try_get("kind").map_err(backend)?;
            let record = records
                .remove(&seq)
                .ok_or_else(|| StoreError::Corrupt(format!("event {seq} is on a timeline but not in the log")))?
                .record;
            out.push(StoredEvent {
                seq,
                profile_id: parse_id(&row.try_get::<String, _>("profile_id").map_err(backend)?)?,
                source_id: record.source_id,
                message_id: record.message_id,
                kind: MessageKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("kind {kind}")))?,
                name: row.try_get("name").map_err(backend)?,
                product: row.try_get("product").map_err(backend)?,
                props: self.open_props(row.try_get("props").map_err(backend)?)?,
                timestamp: from_micros(row.try_get("ts").map_err(backend)?)?,
                received_at: record.received_at,
                payload: record.payload,
            });
        }
        Ok(out)
    }

    /// Moves whole-event rows with their indexes (data directories before
    /// this layout) to slim rows, timeline rows and dedupe keys, in one
    /// transaction; a no-op on an up-to-date store. Returns the events moved.
    pub(super) async fn upgrade_event_table(&self) -> Result<usize> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let has_payload = match self.dialect {
            Dialect::Sqlite => "SELECT COUNT(*) FROM pragma_table_info('events') WHERE name = 'payload'",
            Dialect::Postgres => {
                // two nodes starting at once: the second waits, then finds it done
                sqlx::query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE").execute(&mut *tx).await.map_err(backend)?;
                "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = current_schema() \
                 AND table_name = 'events' AND column_name = 'payload'"
            }
        };
        let old: i64 = sqlx::query_scalar(has_payload).fetch_one(&mut *tx).await.map_err(backend)?;
        if old == 0 {
            return Ok(0);
        }
        let (mut after, mut moved) = (i64::MIN, 0);
        loop {
            let rows = sqlx::query(
                "SELECT seq, source_id, message_id, profile_id, product, ts FROM events WHERE seq > $1 \
                 ORDER BY seq LIMIT 2000",
            )
            .bind(after)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
            let Some(last) = rows.last() else { break };
            after = last.try_get(0).map_err(backend)?;
            moved += rows.len();
            let marks = (1..=rows.len()).map(|i| super::SqlDialect::param(&self.dialect, i)).collect::<Vec<_>>();
            let sql =
                format!("INSERT INTO event_keys (key) VALUES ({}) ON CONFLICT (key) DO NOTHING", marks.join("),("));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in &rows {
                let (s, m): (String, String) = (r.try_get(1).map_err(backend)?, r.try_get(2).map_err(backend)?);
                q = q.bind(event_key(&self.pii, &s, &m));
            }
            q.execute(&mut *tx).await.map_err(backend)?;
            let mut slim = Vec::with_capacity(rows.len());
            for r in &rows {
                let (seq, ts): (i64, i64) = (r.try_get(0).map_err(backend)?, r.try_get(5).map_err(backend)?);
                let product: Option<String> = r.try_get(4).map_err(backend)?;
                slim.push((r.try_get::<String, _>(3).map_err(backend)?, product, seq, ts));
            }
            let profiles = group(slim.iter().map(|(p, _, seq, ts)| (p.clone(), *seq, *ts)));
            insert_timeline(&mut tx, self.dialect, Timeline::Profile, &profiles).await?;
            let products = group(slim.iter().filter_map(|(_, p, seq, ts)| Some((p.clone()?, *seq, *ts))));
            insert_timeline(&mut tx, self.dialect, Timeline::Product, &products).await?;
        }
        let steps: &[&str] = match self.dialect {
            Dialect::Sqlite => &[
                "CREATE TABLE events_slim (seq INTEGER PRIMARY KEY, profile_id TEXT NOT NULL, kind TEXT NOT NULL, \
                 name TEXT, product TEXT, ts BIGINT NOT NULL, props TEXT)",
                "INSERT INTO events_slim (seq, profile_id, kind, name, product, ts, props) \
                 SELECT seq, profile_id, kind, name, product, ts, props FROM events",
                "DROP TABLE events",
                "ALTER TABLE events_slim RENAME TO events",
            ],
            Dialect::Postgres => &[
                "DROP INDEX IF EXISTS events_timeline",
                "DROP INDEX IF EXISTS events_product",
                "ALTER TABLE events DROP COLUMN source_id, DROP COLUMN message_id, DROP COLUMN received_at, \
                 DROP COLUMN payload",
            ],
        };
        for step in steps {
            sqlx::query(AssertSqlSafe(*step)).execute(&mut *tx).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        if moved > 0 {
            tracing::info!("timeline moved to the slim layout: {moved} events");
        }
        Ok(moved)
    }
}
