//! Named locks between nodes on PostgreSQL: writers lock what they write
//! (a counter, a product, a team) by name, all up front and in one order.

use super::backend;
use crate::StoreError;

/// The PostgreSQL advisory lock of a named thing (a hash of its name; two
/// names sharing a lock only wait for each other).
fn lock_of(name: &str) -> i64 {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Takes the advisory locks of `names` for the transaction, in ascending
/// order: the one order every taker uses, so two never deadlock.
pub(crate) async fn lock_names(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    names: impl IntoIterator<Item = String>,
) -> Result<(), StoreError> {
    let mut locks: Vec<i64> = names.into_iter().map(|n| lock_of(&n)).collect();
    locks.sort_unstable();
    locks.dedup();
    for lock in locks {
        sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(lock).execute(&mut **tx).await.map_err(backend)?;
    }
    Ok(())
}
