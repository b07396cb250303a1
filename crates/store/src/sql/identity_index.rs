//! The embedded store's index of identities, in memory: which rows of
//! `identities` may hold a given (kind, value), by a fingerprint (8 bytes of
//! the keyed lookup hash) of each row's lookup.
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
//! finds the rows of an identity.
//!
//! **Catching up.** The index remembers the highest row id it has read;
//! every question first reads the rows past it. SQLite has one writer, and
//! ids are given in commit order, so whatever is committed is found, from
//! any connection, by the processor and the API alike, with no bookkeeping
//! at commit. A transaction that has inserted identities of its own must
//! not add them (they may be rolled back, and their ids given again): it
//! asks with `written`, and the rows past the index are read for that
//! answer alone (the processor's transaction asks before it writes, so
//! only a transaction applying twice pays for that).
//!
//! **Answers are candidates.** A fingerprint may be shared (1 in 2^64), a
//! row may have been deleted by a merge since, or re-pointed to another
//! profile: callers read the candidate rows and keep those whose kind and
//! lookup match. Memory: ~20 bytes per identity row.

use crate::Result;
use sqlx::AnyConnection;
use tokio::sync::Mutex;

/// Rows read per statement while catching up.
const READ_ROWS: i64 = 100_000;

/// The fingerprint of a stored identity's lookup hash.
fn fingerprint(lookup: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = lookup.len().min(8);
    b[..n].copy_from_slice(&lookup[..n]);
    u64::from_le_bytes(b)
}

#[derive(Default)]
pub(crate) struct IdentityIndex {
    inner: Mutex<Index>,
}

#[derive(Default)]
struct Index {
    /// A fingerprint's first row, and the rest (an identity shared by
    /// several profiles, or fingerprints that collide).
    first: foldhash::HashMap<u64, i64>,
    more: foldhash::HashMap<u64, Vec<i64>>,
    /// The highest row id read.
    upto: i64,
}

impl Index {
    fn add(&mut self, fp: u64, id: i64) {
        match self.first.entry(fp) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => self.more.entry(fp).or_default().push(id),
        }
    }

    fn rows(&self, fp: u64, out: &mut Vec<i64>) {
        if let Some(id) = self.first.get(&fp) {
            out.push(*id);
            out.extend(self.more.get(&fp).into_iter().flatten());
        }
    }
}

impl IdentityIndex {
    /// Learns the rows (lookup, id) a transaction inserted, now that it has
    /// committed, instead of reading them back: only if they are the very
    /// next ids after the highest it has read (nothing of another writer's
    /// between, nothing rolled back), in order; otherwise the next question
    /// reads them as it reads any other's.
    pub(crate) async fn committed(&self, rows: &[(Vec<u8>, i64)]) {
        let mut index = self.inner.lock().await;
        let next = index.upto + 1;
        if rows.first().is_none_or(|(_, id)| *id != next) || rows.windows(2).any(|w| w[1].1 != w[0].1 + 1) {
            return;
        }
        for (lookup, id) in rows {
            index.add(fingerprint(lookup), *id);
            index.upto = *id;
        }
    }

    /// The ids of the rows that may hold any of `lookups`, as read on
    /// `conn`; `written`: its transaction has written identities.
    pub(crate) async fn candidates(
        &self,
        conn: &mut AnyConnection,
        lookups: &[&[u8]],
        written: bool,
    ) -> Result<Vec<i64>> {
        let mut index = self.inner.lock().await;
        let mut past = Index { upto: index.upto, ..Default::default() };
        catch_up(conn, if written { &mut past } else { &mut index }).await?;
        let mut out = Vec::new();
        for lookup in lookups {
            index.rows(fingerprint(lookup), &mut out);
            past.rows(fingerprint(lookup), &mut out);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}

async fn catch_up(conn: &mut AnyConnection, index: &mut Index) -> Result<()> {
    loop {
        // (one JSON value per read, not a row per identity: see
        // `SqlDialect::json_rows`; this index exists on SQLite only)
        let q = sqlx::query(
            "SELECT json_group_array(json_array(id, hex(substr(lookup, 1, 8)))) FROM \
             (SELECT id, lookup FROM identities WHERE id > ? ORDER BY id LIMIT ?)",
        )
        .bind(index.upto)
        .bind(READ_ROWS);
        let rows: Vec<(i64, String)> = super::process_read::json_rows(conn, q).await?;
        for (id, head) in &rows {
            index.add(fingerprint_of_hex(head)?, *id);
            index.upto = index.upto.max(*id);
        }
        if (rows.len() as i64) < READ_ROWS {
            return Ok(());
        }
    }
}

/// [`fingerprint`] of the first 8 bytes of a lookup hash, in hexadecimal.
fn fingerprint_of_hex(head: &str) -> Result<u64> {
    let bytes = hex::decode(head).map_err(|e| crate::StoreError::Corrupt(format!("identity lookup {head:?}: {e}")))?;
    Ok(fingerprint(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_learns_committed_rows_only_right_after_what_it_has_read() {
        let index = IdentityIndex::default();
        index.inner.lock().await.upto = 10;
        let row = |n: u8, id: i64| (vec![n; 32], id);
        // a gap (rows of another writer, or ids given and rolled back): left to the next read
        index.committed(&[row(1, 12), row(2, 13)]).await;
        assert_eq!(index.inner.lock().await.upto, 10);
        index.committed(&[row(1, 11), row(2, 13)]).await;
        assert_eq!(index.inner.lock().await.upto, 10, "not consecutive");
        index.committed(&[row(1, 11), row(2, 12)]).await;
        let inner = index.inner.lock().await;
        assert_eq!(inner.upto, 12);
        let mut found = Vec::new();
        inner.rows(fingerprint(&[2; 32]), &mut found);
        assert_eq!(found, [12]);
    }

    #[test]
    fn a_fingerprint_reads_the_same_from_hex() {
        let lookup: Vec<u8> = (1..=32).map(|i| i * 7).collect();
        let hex = hex::encode_upper(&lookup[..8]);
        assert_eq!(fingerprint_of_hex(&hex).expect("hex"), fingerprint(&lookup));
        assert!(fingerprint_of_hex("zz").is_err());
    }
}
