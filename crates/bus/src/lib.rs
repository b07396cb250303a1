//! Beacon's event bus: the durable, partitioned log that ingest appends to
//! and the processor consumes, behind one trait ([`Bus`]). Records are
//! appended under a partition key (the profile key), so one person's events
//! stay in order in one partition; a consumer reads a partition from an
//! offset it keeps itself — committed with its state, so a crash replays
//! rather than loses or doubles.
//!
//! Implementations: NATS JetStream ([`nats::NatsBus`]: one stream, one
//! subject per partition) for scale-out; the embedded store's log is the
//! other (one partition, adapted in the server). This crate holds no
//! business rule and knows nothing of events' contents.

pub mod nats;

use async_trait::async_trait;

/// A record to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Chooses the partition ([`partition_of`]): the same key, the same partition.
    pub key: String,
    /// Unique per record: appending the same id again (a retry) is not a second record.
    pub id: String,
    pub payload: Vec<u8>,
}

/// Where a record is: its partition and its offset there (offsets grow
/// within a partition; they need not be consecutive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position {
    pub partition: u32,
    pub offset: u64,
}

/// A record read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub position: Position,
    pub id: String,
    pub payload: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The bus cannot be reached or did not answer in time: retry.
    #[error("the bus is unavailable: {0}")]
    Unavailable(String),
    /// A setting that does not match the bus as it exists.
    #[error("the bus is set up differently: {0}")]
    Mismatch(String),
    #[error("bus error: {0}")]
    Backend(String),
}

#[async_trait]
pub trait Bus: Send + Sync {
    /// How many partitions the log has (fixed when it is created).
    fn partitions(&self) -> u32;
    /// Appends records durably, each to its key's partition; returns their
    /// positions in the order given (a record appended before under the
    /// same id keeps its first position).
    async fn append(&self, messages: &[Message]) -> Result<Vec<Position>, BusError>;
    /// Up to `limit` records of `partition` after offset `after` (0: from
    /// the start), in order.
    async fn read(&self, partition: u32, after: u64, limit: usize) -> Result<Vec<Record>, BusError>;
    /// The offset of `partition`'s last record (0 if it has none).
    async fn head(&self, partition: u32) -> Result<u64, BusError>;
}

/// The partition of `key` among `partitions`: FNV-1a (64-bit) of its bytes,
/// modulo the count. Stable across versions and machines — a key must
/// never move — and fixed by a test.
pub fn partition_of(key: &str, partitions: u32) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % u64::from(partitions.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_stable_and_spread() {
        // golden values: changing the hash would move every profile
        assert_eq!(partition_of("", 8), (0xcbf2_9ce4_8422_2325u64 % 8) as u32);
        assert_eq!(
            ["user_id:u-1", "user_id:u-2", "anonymous_id:a-9", "phone:+8613800138000"].map(|k| partition_of(k, 16)),
            [5, 12, 5, 10]
        );
        assert_eq!(partition_of("anything", 1), 0);
        assert_eq!(partition_of("anything", 0), 0, "no partitions counts as one");
        let mut counts = [0usize; 8];
        for i in 0..8000 {
            counts[partition_of(&format!("user_id:{i}"), 8) as usize] += 1;
        }
        assert!(counts.iter().all(|c| (800..1200).contains(c)), "{counts:?}");
    }
}
