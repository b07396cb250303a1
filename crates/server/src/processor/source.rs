//! Where a processor reads its records: the store's own log (one sequence,
//! offset `profiles`) or one partition of the bus (offset `profiles.p<n>`).

use crate::bus::{chunk_of_stream, stream_of_chunk};
use beacon_bus::Bus;
use beacon_store::{LogRecord, Store, StoreError, chunk_of};
use std::sync::Arc;

/// Bus messages (chunks) asked for per fetch.
const FETCH: usize = 64;

#[derive(Clone)]
pub enum Source {
    /// The store's own log.
    Log,
    /// A partition of the bus.
    Partition { bus: Arc<dyn Bus>, partition: u32 },
}

/// Records read, and the chunks they came in when they came from the bus
/// (kept in the store's log with the batch: `(chunk, records, body)`).
#[derive(Default)]
pub struct Read {
    pub records: Vec<LogRecord>,
    pub archive: Vec<(i64, usize, Vec<u8>)>,
}

/// The offset name of partition `p`.
pub fn partition_name(p: u32) -> String {
    format!("{}.p{p}", super::PROCESSOR)
}

impl Source {
    /// The name its offset is kept under.
    pub fn name(&self) -> String {
        match self {
            Source::Log => super::PROCESSOR.to_string(),
            Source::Partition { partition, .. } => partition_name(*partition),
        }
    }

    /// Whether processors of other sources write the same profiles at the
    /// same time (the bus's partitions): a batch then locks what it reads.
    pub fn shared(&self) -> bool {
        matches!(self, Source::Partition { .. })
    }

    /// Whole chunks after `after`, until at least `limit` records (or the end).
    pub async fn read(&self, store: &dyn Store, after: i64, limit: u32) -> Result<Read, StoreError> {
        let (bus, partition) = match self {
            Source::Log => return Ok(Read { records: store.log().read(after, limit).await?, archive: Vec::new() }),
            Source::Partition { bus, partition } => (bus, *partition),
        };
        let unavailable = |e: beacon_bus::BusError| StoreError::Unavailable(e.to_string());
        // a batch ends with its last chunk, so `after` is the end of a chunk
        let mut from = if after == 0 { 0 } else { stream_of_chunk(chunk_of(after)) };
        let mut out = Read::default();
        if bus.head(partition).await.map_err(unavailable)? <= from {
            return Ok(out);
        }
        while out.records.len() < limit as usize {
            let messages = bus.read(partition, from, FETCH).await.map_err(unavailable)?;
            for m in &messages {
                if out.records.len() >= limit as usize {
                    // the rest is fetched again by the next batch
                    return Ok(out);
                }
                let chunk = chunk_of_stream(m.position.offset);
                let records = store.log().decode_chunk(chunk, &m.payload)?;
                out.archive.push((chunk, records.len(), m.payload.clone()));
                out.records.extend(records.into_iter().filter(|r| r.seq > after));
                from = m.position.offset;
            }
            if messages.len() < FETCH {
                break;
            }
        }
        Ok(out)
    }
}
