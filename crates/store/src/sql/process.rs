//! The processor's transaction: bulk reads and one bulk write per batch.

use super::SqlDialect as _;
use super::codec::encode_reason;
use super::dedupe;
use super::jobs::Held;
use super::process_read as read;
use super::{Dialect, SqlStore, backend, micros};
use crate::pii::PiiCipher;
use crate::{BatchChanges, ProcessTx, ProfileState, Result, StoreError};
use async_trait::async_trait;
use beacon_core::{Identity, ProfileId};
use sqlx::any::Any;
use sqlx::{AssertSqlSafe, Row, Transaction};
use std::collections::HashSet;

/// Rows per multi-row statement (keeps parameters well under SQLite's limit).
const ROWS: usize = 400;

pub(crate) struct SqlProcessTx {
    pub(super) tx: Transaction<'static, Any>,
    pub(super) dialect: Dialect,
    pub(super) pii: PiiCipher,
    name: String,
    /// How many keys the young dedupe table holds ([`dedupe`]).
    young_keys: std::sync::Arc<std::sync::atomic::AtomicI64>,
    /// The embedded store's in-memory records ([`super::resident`]), and
    /// the dedupe keys this transaction adds to them once committed.
    resident: Option<std::sync::Arc<super::resident::Resident>>,
    pending_keys: Vec<crate::DedupeKey>,
    /// The UTC day its dedupe keys are claimed on.
    today: i64,
    /// The identity rows it inserted (lookup, id, profile), for the index
    /// to learn once committed.
    pending_identities: Vec<(Vec<u8>, i64, ProfileId)>,
    /// Identities or merges were written: what the identity index reads
    /// past itself is this transaction's own ([`super::identity_index`]).
    linked: bool,
    /// Profiles it erased: the identity index forgets them once committed.
    pub(super) erased: Vec<ProfileId>,
    /// Where the wallets are read, if not in this transaction (the embedded
    /// store's `checkout.db`).
    shop: Option<sqlx::AnyPool>,
    /// Released when the transaction ends (after the transaction itself).
    _write: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl SqlStore {
    pub(crate) async fn begin_process_tx(&self, name: &str) -> Result<SqlProcessTx> {
        let resident = super::resident::Resident::for_processing(&self.resident)?;
        // SQLite's write lock up front: a deferred transaction that reads
        // first could fail to upgrade if the admin API wrote between
        let (write, tx) = self.begin_write(&self.proc_pool).await?;
        Ok(SqlProcessTx {
            tx,
            dialect: self.dialect,
            pii: self.pii.clone(),
            name: name.to_string(),
            young_keys: self.young_keys.clone(),
            resident,
            pending_keys: Vec::new(),
            today: super::dedupe_memory::day_of(chrono::Utc::now()),
            pending_identities: Vec::new(),
            erased: Vec::new(),
            linked: false,
            shop: (self.dialect == Dialect::Sqlite).then(|| self.shop_pool.clone()),
            _write: write,
        })
    }
}

// The batch lookups test a row value against a VALUES list. Some SQLite
// versions (3.40, for one) plan that as a scan of the whole index, which
// would make every batch slower as the tables grow; the bundled one probes
// the index once per key, and a test below keeps it so.

impl SqlProcessTx {
    /// Adds to the running totals the overview reads (`counts`).
    pub(super) async fn add_to_counts(&mut self, deltas: &[(&str, i64)]) -> Result<()> {
        for (name, delta) in deltas.iter().filter(|(_, d)| *d != 0) {
            sqlx::query("UPDATE counts SET value = value + $1 WHERE name = $2")
                .bind(*delta)
                .bind(*name)
                .execute(&mut *self.tx)
                .await
                .map_err(backend)?;
        }
        Ok(())
    }

    /// A profile's traits, sealed.
    pub(super) fn seal_traits(&self, text: &str) -> Result<String> {
        self.pii.seal_traits(text).map(|c| c.into_owned()).map_err(|e| StoreError::Backend(e.to_string()))
    }

    async fn exec(&mut self, sql: &'static str, a: &str, b: &str) -> Result<()> {
        sqlx::query(sql).bind(a).bind(b).execute(&mut *self.tx).await.map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ProcessTx for SqlProcessTx {
    async fn offset(&mut self) -> Result<i64> {
        let name = self.name.clone();
        sqlx::query("INSERT INTO processor_offsets (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
            .bind(name.as_str())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        let sql = format!("SELECT seq FROM processor_offsets WHERE name = $1 {}", self.dialect.for_update());
        let row = sqlx::query(AssertSqlSafe(sql)).bind(name).fetch_one(&mut *self.tx).await.map_err(backend)?;
        row.try_get::<i64, _>(0).map_err(backend)
    }

    async fn set_offset(&mut self, seq: i64) -> Result<()> {
        // (an upsert: a transaction that never read its offset still records it)
        sqlx::query(
            "INSERT INTO processor_offsets (name, seq) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
        )
        .bind(self.name.as_str())
        .bind(seq)
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn claim(&mut self, keys: &[crate::DedupeKey]) -> Result<HashSet<crate::DedupeKey>> {
        match &self.resident {
            Some(r) => dedupe::claim_in_memory(&mut self.tx, &r.keys, &mut self.pending_keys, keys, self.today).await,
            None => dedupe::claim(&mut self.tx, self.dialect, &self.young_keys, keys).await,
        }
    }

    async fn holders(&mut self, identities: &[Identity]) -> Result<Vec<(Identity, ProfileId)>> {
        let index = self.resident.as_ref().map(|r| (&r.identities, self.linked));
        read::holders(&mut self.tx, self.dialect, &self.pii, index, identities).await
    }

    async fn load(&mut self, ids: &[ProfileId]) -> Result<Vec<(ProfileState, Vec<Identity>)>> {
        read::load(&mut self.tx, self.dialect, &self.pii, ids).await
    }

    async fn apply(&mut self, c: &BatchChanges) -> Result<()> {
        // a new profile still live at the end of the batch is written once,
        // with the final states below; the others (merged away within the
        // batch) now, so the merge finds their row
        let mut took = crate::Phases::start("batch write");
        let live: HashSet<ProfileId> = c.states.iter().map(|s| s.id).collect();
        let gone: Vec<&ProfileState> = c.created.iter().filter(|s| !live.contains(&s.id)).collect();
        self.insert_states(&gone, false).await?;
        // what the batch leaves for later: added once per key, so a replayed batch adds nothing twice
        let now = chrono::Utc::now();
        super::jobs::insert(&mut self.tx, self.dialect, &self.pii, crate::Queue::Outbox, &c.outbox, Held::Keep, now)
            .await?;
        super::jobs::insert(&mut self.tx, self.dialect, &self.pii, crate::Queue::Timers, &c.timers, Held::Move, now)
            .await?;
        for m in &c.merges {
            let (from, into) = (m.from.to_string(), m.into.to_string());
            // identities both hold stay once, on the survivor, first seen
            // when either first saw them (whichever side survives)
            self.exec(
                "UPDATE identities SET first_seen = (SELECT MIN(m.first_seen) FROM identities m \
                 WHERE m.profile_id = $1 AND m.kind = identities.kind AND m.lookup = identities.lookup) \
                 WHERE profile_id = $2 AND EXISTS (SELECT 1 FROM identities m WHERE m.profile_id = $1 \
                 AND m.kind = identities.kind AND m.lookup = identities.lookup AND m.first_seen < identities.first_seen)",
                &from,
                &into,
            )
            .await?;
            // and vouched for when either was
            self.exec(
                "UPDATE identities SET verified = 1 WHERE profile_id = $2 AND verified = 0 \
                 AND EXISTS (SELECT 1 FROM identities m WHERE m.profile_id = $1 \
                 AND m.kind = identities.kind AND m.lookup = identities.lookup AND m.verified = 1)",
                &from,
                &into,
            )
            .await?;
            self.exec(
                "DELETE FROM identities WHERE profile_id = $1 AND EXISTS (SELECT 1 FROM identities s \
                 WHERE s.profile_id = $2 AND s.kind = identities.kind AND s.lookup = identities.lookup)",
                &from,
                &into,
            )
            .await?;
            self.exec("UPDATE identities SET profile_id = $2 WHERE profile_id = $1", &from, &into).await?;
            self.move_events(&from, &into).await?;
            self.move_visits(&from, &into).await?;
            self.move_audience(&from, &into).await?;
            self.repoint_commerce(&from, &into).await?;
            // every id ever merged points straight at the survivor (one hop)
            self.exec("UPDATE profiles SET merged_into = $2 WHERE id = $1 OR merged_into = $1", &from, &into).await?;
            // (the survivor's counts, written with its state, hold the merged one's events)
            sqlx::query("DELETE FROM profile_counters WHERE id = $1")
                .bind(from.as_str())
                .execute(&mut *self.tx)
                .await
                .map_err(backend)?;
            self.exec("UPDATE merges SET survivor_id = $2 WHERE survivor_id = $1", &from, &into).await?;
            sqlx::query(
                "INSERT INTO merges (survivor_id, merged_id, at, reason, message_id) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(into.as_str())
            .bind(from.as_str())
            .bind(micros(m.at))
            .bind(encode_reason(&self.pii, &m.reason)?)
            .bind(m.message_id.as_str())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        }
        took.mark("merges");
        self.linked |= !c.merges.is_empty();
        // (after the merges, which may have moved the rows it compares with)
        let index = self.resident.as_ref().map(|r| (&r.identities, self.linked));
        let inserted = super::links::write(&mut self.tx, self.dialect, &self.pii, index, &c.links).await?;
        self.pending_identities.extend(inserted);
        self.linked |= !c.links.is_empty();
        took.mark("links");
        self.write_events(&c.events, &mut took).await?;
        self.write_consents(&c.consents).await?;
        self.write_visits(&c.events).await?;
        took.mark("visits");
        self.write_commerce(c).await?;
        took.mark("commerce");
        let (kept, written): (Vec<&ProfileState>, Vec<&ProfileState>) =
            c.states.iter().partition(|s| c.traits_kept.contains(&s.id));
        self.update_counters(&kept).await?;
        self.bump_counters(&c.bumps).await?;
        took.mark("counters");
        let created: HashSet<ProfileId> = c.created.iter().map(|s| s.id).collect();
        let stored: Vec<&ProfileState> = written.iter().filter(|s| !created.contains(&s.id)).copied().collect();
        self.require_stored(&stored).await?;
        self.insert_states(&written, true).await?;
        took.mark("profiles");
        // the running totals (every merge takes one live profile away)
        let live = c.created.len() as i64 - c.merges.len() as i64;
        self.add_to_counts(&[("events", c.events.len() as i64), ("profiles", live)]).await?;
        took.finish(c.events.len());
        Ok(())
    }

    async fn orders(&mut self, ids: &[String]) -> Result<Vec<crate::Order>> {
        read::orders(&mut self.tx, self.dialect, ids).await
    }

    async fn archive(&mut self, chunks: &[(i64, usize, Vec<u8>)]) -> Result<()> {
        if self.dialect == Dialect::Sqlite && !chunks.is_empty() {
            // (its log is a file of its own, appended by its own writer)
            return Err(StoreError::Backend("the embedded store keeps no log from a bus".into()));
        }
        for part in chunks.chunks(ROWS / 3) {
            let sql = format!(
                "INSERT INTO log_chunks (seq, count, body) VALUES {} ON CONFLICT (seq) DO NOTHING",
                self.dialect.rows(part.len(), 3)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (seq, count, body) in part {
                q = q.bind(*seq).bind(*count as i64).bind(body.clone());
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }

    async fn segment_facts(
        &mut self,
        ids: &[ProfileId],
        wanted: &crate::FactsWanted,
    ) -> Result<Vec<crate::ProfileFacts>> {
        let reads = super::segments::Reads { dialect: self.dialect, pii: &self.pii };
        let mut out = Vec::with_capacity(ids.len());
        for part in ids.chunks(500) {
            let part: Vec<String> = part.iter().map(ToString::to_string).collect();
            // the events the stage kept stand for a profile's history
            let mut kept: std::collections::HashMap<String, Vec<beacon_segment::EventFact>> = match wanted.kept {
                Some(stamp) => {
                    let ask: Vec<String> = part.iter().filter(|id| !wanted.whole.contains(*id)).cloned().collect();
                    super::kept::read(&mut self.tx, self.dialect, &self.pii, &ask, stamp).await?.into_iter().collect()
                }
                None => Default::default(),
            };
            let history: Vec<String> = part.iter().filter(|id| !kept.contains_key(*id)).cloned().collect();
            let mut facts = reads.facts_of(&mut self.tx, &part, &wanted.names, &history).await?;
            for f in &mut facts {
                if let Some(events) = kept.remove(&f.id) {
                    (f.events, f.kept) = (events, true);
                }
            }
            if wanted.wallets {
                // the embedded store's wallets are in checkout.db (see `wallets`)
                match &self.shop {
                    Some(pool) => {
                        let mut conn = pool.acquire().await.map_err(backend)?;
                        super::wallets::fill(&mut conn, self.dialect, &part, &mut facts).await?;
                    }
                    None => super::wallets::fill(&mut self.tx, self.dialect, &part, &mut facts).await?,
                }
            }
            out.extend(facts);
        }
        Ok(out)
    }

    async fn keep_events_under(&mut self, stamp: i64) -> Result<()> {
        self.kept_under(stamp).await
    }

    async fn write_segments(&mut self, w: &crate::SegmentWrites, at: chrono::DateTime<chrono::Utc>) -> Result<()> {
        self.write_member_changes(&w.changes, at).await?;
        self.write_kept(&w.kept).await?;
        super::jobs::insert(&mut self.tx, self.dialect, &self.pii, crate::Queue::Outbox, &w.outbox, Held::Keep, at)
            .await?;
        super::jobs::insert(&mut self.tx, self.dialect, &self.pii, crate::Queue::Timers, &w.timers, Held::Sooner, at)
            .await?;
        Ok(())
    }

    async fn lock(&mut self, class: i32, keys: &[i32]) -> Result<()> {
        if self.dialect == Dialect::Sqlite || keys.is_empty() {
            return Ok(());
        }
        let mut keys = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        // one statement; since PostgreSQL 9.6 a volatile function in the
        // select list runs after the sort, so the locks are taken in order
        let values: Vec<String> = keys.iter().map(|k| format!("({k})")).collect();
        let sql =
            format!("SELECT pg_advisory_xact_lock({class}, k) FROM (VALUES {}) AS v(k) ORDER BY k", values.join(","));
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *self.tx).await.map_err(backend)?;
        Ok(())
    }

    async fn erase(&mut self, id: ProfileId) -> Result<Option<crate::Erasure>> {
        self.erase_profile(id).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        let this = *self;
        this.tx.commit().await.map_err(backend)?;
        // before the write lock (`_write`, dropped with `this`) lets the
        // next batch claim: it must find these keys
        if let Some(r) = &this.resident {
            r.keys.committed(&this.pending_keys, this.today).await;
            r.identities.committed(&this.pending_identities).await;
            r.identities.forget(&this.erased).await;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SqlStore, StoreOptions, Synchronous};

    /// The batch lookups probe their indexes (`SEARCH`), never read a whole
    /// table or index (`SCAN` of anything but the VALUES list).
    #[tokio::test]
    async fn batch_lookups_search_the_indexes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqlStore::open(StoreOptions {
            database_url: None,
            data_dir: dir.path().to_path_buf(),
            synchronous: Synchronous::Normal,
            max_connections: 1,
            log_wal_limit: 1 << 20,
            dedupe_window_days: 7,
            pii: PiiCipher::new(&[1; 32]),
        })
        .await
        .expect("open");
        for sql in [
            "SELECT id, kind, lookup, profile_id, first_seen FROM identities WHERE profile_id IN (?, ?, ?)".to_string(),
            dedupe::seen_sql(Dialect::Sqlite, 4),
        ] {
            let mut q = sqlx::query(AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")));
            for _ in 0..6 {
                q = q.bind("x");
            }
            let plan: Vec<String> = q
                .fetch_all(&store.pool)
                .await
                .expect("plan")
                .iter()
                .map(|r| r.try_get::<String, _>(3).unwrap_or_default())
                .collect();
            assert!(plan.iter().any(|step| step.starts_with("SEARCH")), "{sql}: {plan:?}");
            assert!(plan.iter().filter(|s| s.starts_with("SCAN")).all(|s| s.contains("VALUES")), "{sql}: {plan:?}");
        }
        store.close().await;
    }
}
