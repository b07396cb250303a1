//! The embedded store's index of identities, in memory: which live profiles
//! hold a given (kind, value), by the first 16 bytes of its keyed lookup
//! hash, and which profiles were merged into which.
//!
//! Why not SQLite's own index: a lookup hash is random, so an index on it
//! takes each new identity at a random page, and a batch of tens of
//! thousands of new shoppers dirties nearly every page of that index, all
//! of which its commit writes to the WAL again. That cost grew with the
//! table (a batch of 30 k links: ~150 ms at 0.1 M rows, ~1.1 s at 3 M) and
//! was the largest part of processing new shoppers. The table is now
//! appended to in the order of its `id` (`AUTOINCREMENT`: an id is never
//! reused, even after a delete), indexed only by profile (new profiles' ids
//! grow with time, so that index is appended to as well), and this index
//! answers who holds an identity without reading a row: reading the rows
//! back (three B-tree descents per identity, on a reader whose page cache
//! every commit empties) took 350–550 ms of each batch of 20,000 returning
//! shoppers at 1 M profiles.
//!
//! **What it holds.** For each row of `identities`, its key and the profile
//! it was written for; for each row of `merges`, the merged profile and the
//! one it went into. Only a merge moves a row to another profile (or drops
//! it, when the survivor holds the identity already), so the holders of an
//! identity are the profiles its rows were written for, each followed
//! through the merges to the profile it lives on now.
//!
//! **Catching up.** The index remembers the highest identity id and merge
//! rowid it has read; every question first reads the rows past them. SQLite
//! has one writer, and both are given in commit order, so whatever is
//! committed is found, from any connection, by the processor and the API
//! alike. A transaction that has written identities or merges of its own
//! must not add them (they may be rolled back, and their ids given again):
//! it asks with `written`, and the rows past the index are read for that
//! answer alone (the processor's transaction asks before it writes, so only
//! a transaction applying twice pays for that). A transaction that commits
//! hands its new rows over ([`IdentityIndex::committed`]) instead of
//! leaving them to be read back.
//!
//! **Keys.** 16 bytes of an HMAC-SHA256 under the store's key: two
//! identities share one with a chance of 2^-128 (the dedupe keys of events
//! are as long), and nobody without the key can make them. Memory: ~35
//! bytes per identity row.

use crate::{Result, StoreError};
use beacon_core::ProfileId;
use sqlx::AnyConnection;
use tokio::sync::Mutex;

/// Rows read per statement while catching up.
const READ_ROWS: i64 = 100_000;
/// Merges followed from one profile before the chain is called corrupt.
const MAX_HOPS: usize = 1_000;

/// The index's key of a stored identity: its lookup hash's first 16 bytes.
fn key(lookup: &[u8]) -> u128 {
    let mut b = [0u8; 16];
    let n = lookup.len().min(16);
    b[..n].copy_from_slice(&lookup[..n]);
    u128::from_le_bytes(b)
}

#[derive(Default)]
pub(crate) struct IdentityIndex {
    inner: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    /// A key's first profile, and the rest (an identity shared by several).
    first: foldhash::HashMap<u128, ProfileId>,
    more: foldhash::HashMap<u128, Vec<ProfileId>>,
    /// Merged profile → the profile it went into (which may have been
    /// merged since).
    merged: foldhash::HashMap<ProfileId, ProfileId>,
    /// Erased profiles: their rows are gone, whatever the index read before.
    erased: foldhash::HashSet<ProfileId>,
    /// The highest identity id and merge rowid read.
    upto: i64,
    merges_upto: i64,
}

impl Index {
    fn add(&mut self, key: u128, profile: ProfileId) {
        match self.first.entry(key) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(profile);
            }
            std::collections::hash_map::Entry::Occupied(o) if *o.get() == profile => {}
            std::collections::hash_map::Entry::Occupied(_) => {
                let more = self.more.entry(key).or_default();
                if !more.contains(&profile) {
                    more.push(profile);
                }
            }
        }
    }

    fn written_for(&self, key: u128, out: &mut Vec<ProfileId>) {
        if let Some(p) = self.first.get(&key) {
            out.push(*p);
            out.extend(self.more.get(&key).into_iter().flatten());
        }
    }
}

/// `profile` followed through the merges of `a` and `b` to the live profile
/// it is part of now.
fn live(a: &Index, b: &Index, mut profile: ProfileId) -> Result<ProfileId> {
    for _ in 0..MAX_HOPS {
        match a.merged.get(&profile).or_else(|| b.merged.get(&profile)) {
            Some(into) => profile = *into,
            None => return Ok(profile),
        }
    }
    Err(StoreError::Corrupt(format!("profile {profile} is merged in a chain longer than {MAX_HOPS}")))
}

impl IdentityIndex {
    /// Learns the rows (lookup, id, profile) a transaction inserted, now
    /// that it has committed, instead of reading them back: only if they
    /// are the very next ids after the highest it has read (nothing of
    /// another writer's between, nothing rolled back), in order; otherwise
    /// the next question reads them as it reads any other's.
    pub(crate) async fn committed(&self, rows: &[(Vec<u8>, i64, ProfileId)]) {
        let mut index = self.inner.lock().await;
        let next = index.upto + 1;
        if rows.first().is_none_or(|(_, id, _)| *id != next) || rows.windows(2).any(|w| w[1].1 != w[0].1 + 1) {
            return;
        }
        for (lookup, id, profile) in rows {
            index.add(key(lookup), *profile);
            index.upto = *id;
        }
    }

    /// Forgets `profiles`, erased by a transaction that has committed.
    pub(crate) async fn forget(&self, profiles: &[ProfileId]) {
        if !profiles.is_empty() {
            self.inner.lock().await.erased.extend(profiles.iter().copied());
        }
    }

    /// The live profiles holding each of `lookups` (in their order; each
    /// list without repeats), as read on `conn`; `written`: its transaction
    /// has written identities or merges.
    pub(crate) async fn holders(
        &self,
        conn: &mut AnyConnection,
        lookups: &[&[u8]],
        written: bool,
    ) -> Result<Vec<Vec<ProfileId>>> {
        let mut index = self.inner.lock().await;
        let mut past = Index { upto: index.upto, merges_upto: index.merges_upto, ..Default::default() };
        catch_up(conn, if written { &mut past } else { &mut index }).await?;
        let mut out = Vec::with_capacity(lookups.len());
        let mut found = Vec::new();
        for lookup in lookups {
            found.clear();
            index.written_for(key(lookup), &mut found);
            past.written_for(key(lookup), &mut found);
            let mut holders: Vec<ProfileId> = Vec::with_capacity(found.len());
            for p in &found {
                let p = live(&index, &past, *p)?;
                if !holders.contains(&p) && !index.erased.contains(&p) {
                    holders.push(p);
                }
            }
            out.push(holders);
        }
        Ok(out)
    }
}

async fn catch_up(conn: &mut AnyConnection, index: &mut Index) -> Result<()> {
    loop {
        // (one JSON value per read, not a row per identity: see
        // `SqlDialect::json_rows`; this index exists on SQLite only)
        let q = sqlx::query(
            "SELECT json_group_array(json_array(id, hex(substr(lookup, 1, 16)), profile_id)) FROM \
             (SELECT id, lookup, profile_id FROM identities WHERE id > ? ORDER BY id LIMIT ?)",
        )
        .bind(index.upto)
        .bind(READ_ROWS);
        let rows: Vec<(i64, String, String)> = super::process_read::json_rows(conn, q).await?;
        for (id, head, profile) in &rows {
            index.add(key_of_hex(head)?, super::codec::parse_id(profile)?);
            index.upto = index.upto.max(*id);
        }
        if (rows.len() as i64) < READ_ROWS {
            break;
        }
    }
    loop {
        let q = sqlx::query(
            "SELECT json_group_array(json_array(rowid, merged_id, survivor_id)) FROM \
             (SELECT rowid, merged_id, survivor_id FROM merges WHERE rowid > ? ORDER BY rowid LIMIT ?)",
        )
        .bind(index.merges_upto)
        .bind(READ_ROWS);
        let rows: Vec<(i64, String, String)> = super::process_read::json_rows(conn, q).await?;
        for (rowid, merged, survivor) in &rows {
            index.merged.insert(super::codec::parse_id(merged)?, super::codec::parse_id(survivor)?);
            index.merges_upto = index.merges_upto.max(*rowid);
        }
        if (rows.len() as i64) < READ_ROWS {
            return Ok(());
        }
    }
}

/// [`key`] of the first 16 bytes of a lookup hash, in hexadecimal.
fn key_of_hex(head: &str) -> Result<u128> {
    let bytes = hex::decode(head).map_err(|e| StoreError::Corrupt(format!("identity lookup {head:?}: {e}")))?;
    Ok(key(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(n: u8) -> ProfileId {
        ProfileId(uuid::Uuid::from_bytes([n; 16]))
    }

    #[tokio::test]
    async fn it_learns_committed_rows_only_right_after_what_it_has_read() {
        let index = IdentityIndex::default();
        index.inner.lock().await.upto = 10;
        let row = |n: u8, id: i64| (vec![n; 32], id, profile(n));
        // a gap (rows of another writer, or ids given and rolled back): left to the next read
        index.committed(&[row(1, 12), row(2, 13)]).await;
        assert_eq!(index.inner.lock().await.upto, 10);
        index.committed(&[row(1, 11), row(2, 13)]).await;
        assert_eq!(index.inner.lock().await.upto, 10, "not consecutive");
        index.committed(&[row(1, 11), row(2, 12)]).await;
        let inner = index.inner.lock().await;
        assert_eq!(inner.upto, 12);
        let mut found = Vec::new();
        inner.written_for(key(&[2; 32]), &mut found);
        assert_eq!(found, [profile(2)]);
    }

    #[test]
    fn holders_are_followed_through_merges_in_either_part() {
        let (mut index, mut past) = (Index::default(), Index::default());
        index.merged.insert(profile(1), profile(2));
        past.merged.insert(profile(2), profile(3));
        assert_eq!(live(&index, &past, profile(1)).expect("live"), profile(3));
        assert_eq!(live(&index, &past, profile(4)).expect("live"), profile(4));
        past.merged.insert(profile(3), profile(1));
        assert!(live(&index, &past, profile(1)).is_err(), "a circle is corrupt, not a hang");
    }

    #[test]
    fn a_key_reads_the_same_from_hex() {
        let lookup: Vec<u8> = (1..=32).map(|i| i * 7).collect();
        let hex = hex::encode_upper(&lookup[..16]);
        assert_eq!(key_of_hex(&hex).expect("hex"), key(&lookup));
        assert!(key_of_hex("zz").is_err());
    }
}
