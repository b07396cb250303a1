//! The processor's links of identities to profiles: one row per (identity,
//! profile), whose `first_seen` is the earliest sight of any link written
//! (events of one shopper may be processed out of their time order when
//! they come from several partitions), and `verified` once any link
//! written was vouched for by a server ([`beacon_core::trust`]).
//!
//! PostgreSQL keeps that row unique with its primary key, and an upsert
//! keeps the earlier time. The embedded store has no index on the lookup
//! hash ([`super::identity_index`]): the rows a batch's identities may
//! already have are found through the in-memory index, read, and compared;
//! a new link is inserted, an earlier sight or a vouching updates its row by id.

use super::codec::encode_identity;
use super::identity_index::IdentityIndex;
use super::{Dialect, SqlDialect as _, backend, micros};
use crate::Link;
use crate::Result;
use crate::pii::PiiCipher;
use beacon_core::{Identity, ProfileId};
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{BTreeMap, HashMap};

/// Rows per multi-row statement (keeps parameters well under SQLite's limit).
const ROWS: usize = 400;

/// One link as stored: kind, lookup hash, profile, value or its ciphertext, first sight.
struct Row6 {
    kind: String,
    lookup: Vec<u8>,
    profile: String,
    profile_id: ProfileId,
    value: Option<String>,
    value_enc: Option<String>,
    at: i64,
    verified: bool,
}

/// Writes `links`; on the embedded store, answers the (lookup, row id, profile) of
/// each row it inserted, for the index to learn once they are committed
/// ([`IdentityIndex::committed`]).
pub(super) async fn write(
    conn: &mut AnyConnection,
    dialect: Dialect,
    pii: &PiiCipher,
    index: Option<(&IdentityIndex, bool)>,
    links: &[Link],
) -> Result<Vec<(Vec<u8>, i64, ProfileId)>> {
    // one row per link, at its earliest sight, vouched for if any was (an
    // upsert may not touch a row twice)
    let mut first: BTreeMap<(&ProfileId, &Identity), (i64, bool)> = BTreeMap::new();
    for l in links {
        let seen = first.entry((&l.profile, &l.identity)).or_insert((micros(l.at), l.verified));
        seen.0 = seen.0.min(micros(l.at));
        seen.1 |= l.verified;
    }
    let rows: Vec<Row6> = first
        .into_iter()
        .map(|((profile, identity), (at, verified))| {
            let (lookup, value, value_enc) = encode_identity(pii, identity);
            Row6 {
                kind: identity.kind.to_string(),
                lookup,
                profile: profile.to_string(),
                profile_id: *profile,
                value,
                value_enc,
                at,
                verified,
            }
        })
        .collect();
    match index {
        None => insert(conn, dialect, &rows, true).await.map(|_| Vec::new()),
        Some((index, written)) => {
            let (new, changed) = split_held(conn, dialect, index, written, rows).await?;
            for (id, at, verified) in changed {
                sqlx::query("UPDATE identities SET first_seen = $1, verified = $2 WHERE id = $3")
                    .bind(at)
                    .bind(i64::from(verified))
                    .bind(id)
                    .execute(&mut *conn)
                    .await
                    .map_err(backend)?;
            }
            insert(conn, dialect, &new, false).await
        }
    }
}

/// Splits the links into those not stored yet, and (row id, first sight,
/// vouched for) of the stored ones seen earlier or vouched for now.
async fn split_held(
    conn: &mut AnyConnection,
    dialect: Dialect,
    index: &IdentityIndex,
    written: bool,
    rows: Vec<Row6>,
) -> Result<(Vec<Row6>, Vec<(i64, i64, bool)>)> {
    let lookups: Vec<&[u8]> = rows.iter().map(|r| r.lookup.as_slice()).collect();
    let holders = index.holders(conn, &lookups, written).await?;
    // the profiles that hold a link's identity already (most links of a
    // batch: identities nobody holds yet)
    let mut profiles: Vec<String> = rows
        .iter()
        .zip(&holders)
        .filter(|(r, held)| held.contains(&r.profile_id))
        .map(|(r, _)| r.profile.clone())
        .collect();
    if profiles.is_empty() {
        return Ok((rows, Vec::new()));
    }
    profiles.sort_unstable();
    profiles.dedup();
    // (kind, lookup, profile) → (row id, first sight, vouched for)
    type Held = HashMap<(String, Vec<u8>, String), (i64, i64, bool)>;
    let mut held = Held::new();
    for part in profiles.chunks(ROWS) {
        let sql = format!(
            "SELECT id, kind, lookup, profile_id, first_seen, verified FROM identities WHERE profile_id IN ({})",
            dialect.params_from(0, part.len())
        );
        let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, p| q.bind(p.as_str()));
        for row in q.fetch_all(&mut *conn).await.map_err(backend)? {
            let key =
                (row.try_get(1).map_err(backend)?, row.try_get(2).map_err(backend)?, row.try_get(3).map_err(backend)?);
            let verified: i64 = row.try_get(5).map_err(backend)?;
            held.insert(key, (row.try_get(0).map_err(backend)?, row.try_get(4).map_err(backend)?, verified != 0));
        }
    }
    let mut new = Vec::with_capacity(rows.len());
    let mut changed = Vec::new();
    for row in rows {
        match held.remove(&(row.kind.clone(), row.lookup.clone(), row.profile.clone())) {
            Some((id, seen, verified)) if row.at < seen || (row.verified && !verified) => {
                changed.push((id, row.at.min(seen), verified || row.verified))
            }
            Some(_) => {}
            None => new.push(row),
        }
    }
    Ok((new, changed))
}

/// Inserts `rows`; without `upsert` (the embedded store, one writer),
/// answers each row's lookup and id: a multi-row insert gives its rows
/// consecutive ids, ending at the last one inserted.
async fn insert(
    conn: &mut AnyConnection,
    dialect: Dialect,
    rows: &[Row6],
    upsert: bool,
) -> Result<Vec<(Vec<u8>, i64, ProfileId)>> {
    let mut ids = Vec::new();
    let conflict = if upsert {
        " ON CONFLICT (kind, lookup, profile_id) DO UPDATE \
         SET first_seen = LEAST(identities.first_seen, excluded.first_seen), \
         verified = GREATEST(identities.verified, excluded.verified) \
         WHERE excluded.first_seen < identities.first_seen OR excluded.verified > identities.verified"
    } else {
        ""
    };
    for part in rows.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO identities (kind, lookup, profile_id, value, value_enc, first_seen, verified) VALUES {}{conflict}",
            dialect.rows(part.len(), 7)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in part {
            q = q
                .bind(r.kind.as_str())
                .bind(r.lookup.as_slice())
                .bind(r.profile.as_str())
                .bind(r.value.as_deref())
                .bind(r.value_enc.as_deref())
                .bind(r.at)
                .bind(i64::from(r.verified));
        }
        q.execute(&mut *conn).await.map_err(backend)?;
        if !upsert {
            // (the driver's own answer for it is always empty through `Any`)
            let last: i64 =
                sqlx::query_scalar("SELECT last_insert_rowid()").fetch_one(&mut *conn).await.map_err(backend)?;
            let first = last + 1 - part.len() as i64;
            ids.extend(part.iter().zip(first..).map(|(r, id)| (r.lookup.clone(), id, r.profile_id)));
        }
    }
    Ok(ids)
}
