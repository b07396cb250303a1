//! What erasing a person removed (the store's side: `sql/erasure.rs`).

use beacon_core::ProfileId;

/// What erasing a person removed ([`crate::ProcessTx::erase`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Erasure {
    /// The live profile and those merged into it.
    pub profiles: Vec<ProfileId>,
    /// Their events' places in the log (whose bodies the log overwrites).
    pub seqs: Vec<i64>,
    /// Their orders, kept for the books, owned by nobody now.
    pub orders: Vec<String>,
    /// Rows removed, by table.
    pub removed: std::collections::BTreeMap<String, u64>,
}
