//! Which identities the embedded store holds, in memory: a fingerprint (8
//! bytes of its keyed lookup hash) per stored identity. The processor asks
//! the store who holds each identity a batch names, and most identities of
//! new shoppers are held by nobody yet: each such question was a descent of
//! the identities index to a random page, read from disk on a connection
//! whose page cache every commit of the processor empties. An identity
//! whose fingerprint is not here is held by nobody, and is not asked about;
//! one whose fingerprint is here (or shares it with another: 1 in 2^64) is
//! asked as before.
//!
//! Like the dedupe set ([`super::dedupe_memory`]), it holds what is
//! **committed**: the processor's transaction is the only writer of
//! identities, and the fingerprints of the identities it links join the set
//! after it commits, before the next batch can write. It is read from disk
//! on first use, under its mutex. Memory: ~10–20 bytes per identity.

use super::backend;
use crate::Result;
use sqlx::{AnyConnection, Row};
use tokio::sync::Mutex;

/// Rows read per statement while loading.
const LOAD_ROWS: i64 = 100_000;

/// The fingerprint of a stored identity's lookup hash.
pub(crate) fn fingerprint(lookup: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = lookup.len().min(8);
    b[..n].copy_from_slice(&lookup[..n]);
    u64::from_le_bytes(b)
}

#[derive(Default)]
pub(crate) struct KnownIdentities {
    set: Mutex<Option<foldhash::HashSet<u64>>>,
}

impl KnownIdentities {
    /// For each lookup hash, whether an identity with it may be stored
    /// (false: surely not).
    pub(crate) async fn may_hold(&self, conn: &mut AnyConnection, lookups: &[&[u8]]) -> Result<Vec<bool>> {
        let mut set = self.set.lock().await;
        if set.is_none() {
            *set = Some(load(conn).await?);
        }
        let set = set.get_or_insert_with(Default::default);
        Ok(lookups.iter().map(|l| set.contains(&fingerprint(l))).collect())
    }

    /// Adds the fingerprints of identities a committed transaction linked.
    pub(crate) async fn committed(&self, fingerprints: &[u64]) {
        if let Some(set) = self.set.lock().await.as_mut() {
            set.extend(fingerprints.iter().copied());
        }
        // (not loaded yet: the load reads them from disk)
    }
}

async fn load(conn: &mut AnyConnection) -> Result<foldhash::HashSet<u64>> {
    let mut set = foldhash::HashSet::default();
    let mut after = i64::MIN;
    loop {
        let rows = sqlx::query("SELECT rowid, lookup FROM identities WHERE rowid > $1 ORDER BY rowid LIMIT $2")
            .bind(after)
            .bind(LOAD_ROWS)
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0).map_err(backend)?;
        for row in &rows {
            set.insert(fingerprint(&row.try_get::<Vec<u8>, _>(1).map_err(backend)?));
        }
    }
    Ok(set)
}
