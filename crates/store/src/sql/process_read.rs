//! The processor's bulk reads, on any connection: inside its write
//! transaction ([`super::process::SqlProcessTx`]), or on a reader of its own
//! ([`SqlProcessRead`]) so the next batch is read and decided while the
//! current one is written.

use super::codec::{decode_identity, parse_id};
use super::identity_index::IdentityIndex;
use super::orders::{ORDER_COLUMNS, decode_order};
use super::{Dialect, SqlDialect as _, SqlStore, backend, from_micros};
use crate::pii::PiiCipher;
use crate::{Order, ProcessRead, ProfileState, Result, SealedTraits, StoreError};
use async_trait::async_trait;
use beacon_core::{Identity, ProfileId};
use sqlx::AnyConnection;
use sqlx::any::Any;
use sqlx::pool::PoolConnection;
use sqlx::{AssertSqlSafe, Row as _};
use std::collections::{HashMap, HashSet};

/// Rows per multi-row statement (keeps parameters well under SQLite's limit).
const ROWS: usize = 400;

// The batch lookups test a row value against a VALUES list. Some SQLite
// versions (3.40, for one) plan that as a scan of the whole index, which
// would make every batch slower as the tables grow; the bundled one probes
// the index once per key, and a test in process.rs keeps it so.

/// The live profiles holding any of `rows` (kind, lookup) identities
/// (PostgreSQL, by its index on the lookup hash).
pub(super) fn holders_sql(dialect: Dialect, rows: usize) -> String {
    format!(
        "SELECT {} FROM identities i JOIN profiles p ON p.id = i.profile_id \
         WHERE p.merged_into IS NULL AND (i.kind, i.lookup) IN (VALUES {})",
        holder_columns(dialect),
        dialect.rows(rows, 2)
    )
}

fn holder_columns(dialect: Dialect) -> String {
    dialect.json_rows(&format!("i.kind, {}, i.profile_id", dialect.hex("i.lookup")))
}

/// The live profiles holding each of `identities`. `index`: the embedded
/// store's index of identities, which answers from memory (and whether
/// `conn`'s transaction wrote identities or merges).
pub(super) async fn holders(
    conn: &mut AnyConnection,
    dialect: Dialect,
    pii: &PiiCipher,
    index: Option<(&IdentityIndex, bool)>,
    identities: &[Identity],
) -> Result<Vec<(Identity, ProfileId)>> {
    let asked: Vec<(&Identity, Vec<u8>)> =
        identities.iter().map(|id| (id, pii.lookup_key(id.kind.as_str(), &id.value))).collect();
    if let Some((index, written)) = index {
        // the embedded store answers from its index in memory
        let lookups: Vec<&[u8]> = asked.iter().map(|(_, l)| l.as_slice()).collect();
        let holders = index.holders(conn, &lookups, written).await?;
        let pairs = asked.iter().zip(holders).flat_map(|((id, _), ps)| ps.into_iter().map(|p| ((*id).clone(), p)));
        return Ok(pairs.collect());
    }
    let by_key: HashMap<(&str, &[u8]), &Identity> =
        asked.iter().map(|(id, lookup)| ((id.kind.as_str(), lookup.as_slice()), *id)).collect();
    let mut out = Vec::new();
    for part in asked.chunks(ROWS) {
        let q = sqlx::query(AssertSqlSafe(holders_sql(dialect, part.len())));
        let q = part.iter().fold(q, |q, (id, lookup)| q.bind(id.kind.to_string()).bind(lookup.as_slice()));
        for (kind, lookup, profile) in json_rows::<(String, String, String)>(conn, q).await? {
            let lookup = hex::decode(&lookup).map_err(corrupt)?;
            if let Some(id) = by_key.get(&(kind.as_str(), lookup.as_slice())) {
                out.push(((*id).clone(), parse_id(&profile)?));
            }
        }
    }
    Ok(out)
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(super) async fn load(
    conn: &mut AnyConnection,
    dialect: Dialect,
    pii: &PiiCipher,
    ids: &[ProfileId],
) -> Result<Vec<(ProfileState, Vec<Identity>)>> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(ROWS) {
        let list: Vec<String> = part.iter().map(ProfileId::to_string).collect();
        let marks = dialect.params_from(0, list.len());
        let sql = format!(
            "SELECT {} FROM identities WHERE profile_id IN ({marks})",
            dialect.json_rows("profile_id, kind, value, value_enc, verified")
        );
        // (profile, kind, value, sealed value, vouched for)
        type Row = (String, String, Option<String>, Option<String>, i64);
        let rows: Vec<Row> = json_rows_of(conn, sql, &list).await?;
        let mut identities: HashMap<String, Vec<Identity>> = HashMap::new();
        let mut unverified: HashMap<String, Vec<Identity>> = HashMap::new();
        for (profile, kind, value, value_enc, verified) in rows {
            let identity = decode_identity(pii, &kind, value, value_enc)?;
            if verified == 0 {
                unverified.entry(profile.clone()).or_default().push(identity.clone());
            }
            identities.entry(profile).or_default().push(identity);
        }
        let sql = format!(
            "SELECT {} FROM profiles p JOIN profile_counters c ON c.id = p.id \
             WHERE p.merged_into IS NULL AND p.id IN ({marks})",
            dialect.json_rows("p.id, p.traits, p.trait_times, c.first_seen, c.last_seen, c.event_count, p.orders")
        );
        let rows: Vec<(String, String, String, i64, i64, i64, String)> = json_rows_of(conn, sql, &list).await?;
        for (id, traits, times, first_seen, last_seen, event_count, orders) in rows {
            let state = ProfileState {
                id: parse_id(&id)?,
                traits: Default::default(),
                trait_times: Default::default(),
                first_seen: from_micros(first_seen)?,
                last_seen: from_micros(last_seen)?,
                event_count,
                orders: serde_json::from_str(&orders).map_err(corrupt)?,
                sealed_traits: Some(SealedTraits { traits, times }),
                unverified: unverified.remove(&id).unwrap_or_default(),
            };
            out.push((state, identities.remove(&id).unwrap_or_default()));
        }
    }
    Ok(out)
}

/// Opens `state`'s traits if they are sealed as read.
pub(super) fn open_traits(pii: &PiiCipher, state: &mut ProfileState) -> Result<()> {
    if let Some(sealed) = state.sealed_traits.take() {
        let traits = pii.open_json(&sealed.traits).map_err(corrupt)?;
        state.traits = serde_json::from_str(&traits).map_err(corrupt)?;
        state.trait_times = serde_json::from_str(&sealed.times).map_err(corrupt)?;
    }
    Ok(())
}

/// Runs `q`, whose select list is a dialect's `json_rows`, and reads the
/// rows out of the one value it answers.
pub(super) async fn json_rows<'q, T: serde::de::DeserializeOwned>(
    conn: &mut AnyConnection,
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments>,
) -> Result<Vec<T>> {
    let text: String = q.fetch_one(&mut *conn).await.map_err(backend)?.try_get(0).map_err(backend)?;
    serde_json::from_str(&text).map_err(corrupt)
}

/// [`json_rows`] of `sql` with text `params`.
async fn json_rows_of<T: serde::de::DeserializeOwned>(
    conn: &mut AnyConnection,
    sql: String,
    params: &[String],
) -> Result<Vec<T>> {
    json_rows(conn, params.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, p| q.bind(p.as_str()))).await
}

/// How far `processor` has consumed the log, as committed (0 before it starts).
pub(super) async fn offset(conn: &mut AnyConnection, processor: &str) -> Result<i64> {
    let row = sqlx::query("SELECT seq FROM processor_offsets WHERE name = $1")
        .bind(processor)
        .fetch_optional(&mut *conn)
        .await
        .map_err(backend)?;
    row.map_or(Ok(0), |r| r.try_get(0).map_err(backend))
}

pub(super) async fn orders(conn: &mut AnyConnection, dialect: Dialect, ids: &[String]) -> Result<Vec<Order>> {
    let mut out = Vec::with_capacity(ids.len());
    for part in ids.chunks(ROWS) {
        let sql =
            format!("SELECT {ORDER_COLUMNS} FROM orders WHERE order_id IN ({})", dialect.params_from(0, part.len()));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in part {
            q = q.bind(id.as_str());
        }
        for row in q.fetch_all(&mut *conn).await.map_err(backend)? {
            out.push(decode_order(&row)?);
        }
    }
    Ok(out)
}

/// The processor's reader: a connection of its own, outside any transaction.
pub(crate) struct SqlProcessRead {
    conn: PoolConnection<Any>,
    dialect: Dialect,
    pii: PiiCipher,
    resident: Option<std::sync::Arc<super::resident::Resident>>,
}

impl SqlStore {
    pub(crate) async fn process_reader(&self) -> Result<SqlProcessRead> {
        let resident = super::resident::Resident::for_processing(&self.resident)?;
        let conn = self.proc_read_pool.acquire().await.map_err(backend)?;
        Ok(SqlProcessRead { conn, dialect: self.dialect, pii: self.pii.clone(), resident })
    }
}

#[async_trait]
impl ProcessRead for SqlProcessRead {
    async fn offset(&mut self, processor: &str) -> Result<i64> {
        offset(&mut self.conn, processor).await
    }

    async fn seen(&mut self, keys: &[crate::DedupeKey]) -> Result<HashSet<crate::DedupeKey>> {
        super::dedupe::seen(&mut self.conn, self.dialect, self.resident.as_ref().map(|r| &r.keys), keys).await
    }

    async fn holders(&mut self, identities: &[Identity]) -> Result<Vec<(Identity, ProfileId)>> {
        let index = self.resident.as_ref().map(|r| (&r.identities, false));
        holders(&mut self.conn, self.dialect, &self.pii, index, identities).await
    }

    async fn load(&mut self, ids: &[ProfileId]) -> Result<Vec<(ProfileState, Vec<Identity>)>> {
        load(&mut self.conn, self.dialect, &self.pii, ids).await
    }

    async fn orders(&mut self, ids: &[String]) -> Result<Vec<Order>> {
        orders(&mut self.conn, self.dialect, ids).await
    }
}
