//! Where the group-committing writer appends: the store's own log, or the
//! bus (each message to its routing key's partition, as chunks in the
//! store's encoding).

use beacon_bus::{Bus, BusError, Message, partition_of};
use beacon_store::{EventLog, NewLogRecord, Store, StoreError};
use std::sync::Arc;

/// Largest chunk body published (NATS refuses messages over its
/// `max_payload`, 1 MiB by default); a bigger group is split.
const MAX_CHUNK_BYTES: usize = 512 * 1024;

#[derive(Clone)]
pub enum LogSink {
    /// The store's own log (one sequence; synced by the writer).
    Store(Arc<dyn Store>),
    /// The bus: a record is durable once the bus acknowledged it.
    Bus { store: Arc<dyn Store>, bus: Arc<dyn Bus> },
}

fn unavailable(e: BusError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

impl LogSink {
    /// Appends records in one go (see [`EventLog::append`]).
    pub async fn append(&self, records: &[NewLogRecord]) -> Result<(), StoreError> {
        match self {
            LogSink::Store(store) => store.log().append(records).await,
            LogSink::Bus { store, bus } => {
                let messages = messages(store.log(), bus.partitions(), records)?;
                bus.append(&messages).await.map_err(unavailable).map(drop)
            }
        }
    }

    /// Makes every append before it durable (the bus acknowledges an append
    /// once stored: nothing left to do).
    pub async fn sync(&self) -> Result<(), StoreError> {
        match self {
            LogSink::Store(store) => store.log().sync().await,
            LogSink::Bus { .. } => Ok(()),
        }
    }
}

/// One message per partition the records go to (more if a partition's
/// chunk would be too big), each the chunk of that partition's records in
/// their order.
fn messages(log: &dyn EventLog, partitions: u32, records: &[NewLogRecord]) -> Result<Vec<Message>, StoreError> {
    let mut groups: Vec<(String, Vec<&NewLogRecord>)> = Vec::new();
    let mut index: foldhash::HashMap<u32, usize> = Default::default();
    for r in records {
        let key = super::route_key(&r.payload);
        let partition = partition_of(&key, partitions);
        let at = *index.entry(partition).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push(r);
    }
    let mut out = Vec::new();
    for (key, group) in groups {
        for payload in encode_split(log, &group)? {
            out.push(Message { key: key.clone(), id: uuid::Uuid::new_v4().to_string(), payload });
        }
    }
    Ok(out)
}

/// The records as chunk bodies of at most [`MAX_CHUNK_BYTES`] (a single
/// record bigger than that goes alone, and the bus may refuse it).
fn encode_split(log: &dyn EventLog, records: &[&NewLogRecord]) -> Result<Vec<Vec<u8>>, StoreError> {
    let body = log.encode_chunk(records)?;
    if body.len() <= MAX_CHUNK_BYTES || records.len() == 1 {
        return Ok(vec![body]);
    }
    let (a, b) = records.split_at(records.len() / 2);
    let mut out = encode_split(log, a)?;
    out.extend(encode_split(log, b)?);
    Ok(out)
}
