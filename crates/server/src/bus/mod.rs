//! The event log on NATS JetStream (`bus.nats_url`): ingest appends each
//! message to a partition chosen by its routing key, workers process the
//! partitions they hold a lease on (`processor::partitions`), and each
//! processed chunk is kept in the store's log (`ProcessTx::archive`) so
//! timelines read event bodies from the database as they do without a bus.
//!
//! A chunk on the bus is the store's own chunk encoding (personal data
//! sealed, compressed): its records' sequence numbers are
//! `(CHUNK_BASE + stream sequence) << 20 | index`, unique across partitions
//! (one stream) and far above the store's own chunk numbers.

mod settings;
mod sink;

pub use settings::BusSettings;
pub use sink::LogSink;

use beacon_bus::Bus;
use beacon_bus::nats::{NatsBus, NatsOptions};
use beacon_store::Store;
use std::sync::Arc;

/// Chunk numbers of bus records start here (2^40); the store's own log
/// counts from 1 and never gets there.
pub const CHUNK_BASE: i64 = 1 << 40;

/// Connects to the bus the settings name, if any (creating its stream on
/// first use; a stream made with another partition count is refused), and
/// checks it is where this database's events are: a node that appended to
/// the log table while the others append to a stream (or to another
/// stream) would leave events no worker reads, so it refuses to start.
pub async fn connect(settings: &BusSettings, store: &dyn Store) -> anyhow::Result<Option<Arc<dyn Bus>>> {
    let recorded = store.log_home().await?;
    if !settings.enabled() {
        if let Some(home) = recorded {
            anyhow::bail!(
                "this database's event log is on the bus ({home}): start this node with the same \
                 --nats-url and bus settings as the others"
            );
        }
        return Ok(None);
    }
    let home = format!("nats:{}", settings.stream);
    let elsewhere =
        |stored: &str| anyhow::anyhow!("this database's event log is on {stored}, not {home}: check bus.stream");
    match recorded {
        Some(stored) if stored != home => return Err(elsewhere(&stored)),
        Some(_) => {}
        None => {
            // the first node on a bus: what the log table holds must be processed first
            let processed = store.processed_offset(crate::processor::PROCESSOR).await?;
            let next = store.log().read(processed, 1).await?;
            if next.first().is_some_and(|r| beacon_store::chunk_of(r.seq) < CHUNK_BASE) {
                anyhow::bail!(
                    "the log table still holds events not processed (after offset {processed}): let the \
                     workers catch up without a bus before moving the event log onto NATS"
                );
            }
        }
    }
    let Some(bus) = connect_only(settings).await? else { return Ok(None) };
    // (claimed after connecting: another node may have claimed since)
    let stored = store.claim_log_home(&home).await?;
    if stored != home {
        return Err(elsewhere(&stored));
    }
    check(store, bus.as_ref()).await?;
    Ok(Some(bus))
}

/// A store that processed a partition further than the stream now reaches
/// would skip what the stream gets next: the stream was deleted and made
/// again (its positions start over), or this is another stream of the same
/// name. Refused rather than guessed at.
async fn check(store: &dyn Store, bus: &dyn Bus) -> anyhow::Result<()> {
    for n in 0..bus.partitions() {
        let offset = store.processed_offset(&crate::processor::source::partition_name(n)).await?;
        if offset == 0 {
            continue;
        }
        let head = bus.head(n).await.map_err(|e| anyhow::anyhow!("reading the bus: {e}"))?;
        let processed = stream_of_chunk(beacon_store::chunk_of(offset));
        if processed > head {
            anyhow::bail!(
                "partition {n} was processed up to stream position {processed}, but the stream ends at {head}: \
                 the NATS stream was deleted and made again, or is not this store's; \
                 restore the stream, or start from a fresh database"
            );
        }
    }
    Ok(())
}

async fn connect_only(settings: &BusSettings) -> anyhow::Result<Option<Arc<dyn Bus>>> {
    let url = settings.nats_url.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let bus = NatsBus::connect(&NatsOptions {
        url: url.to_string(),
        stream: settings.stream.clone(),
        subject_prefix: settings.subject_prefix.clone(),
        partitions: settings.partitions,
    })
    .await
    .map_err(|e| anyhow::anyhow!("connecting to NATS at {url}: {e}"))?;
    Ok(Some(Arc::new(bus)))
}

/// The key that chooses a message's partition: for an order's events
/// (`Order Completed`, `Order Refunded`, `Order Cancelled`) the order id,
/// so a refund is processed after its order however its sender is named;
/// otherwise its `userId`, else its `anonymousId` (ingest refuses a
/// message with neither), so one shopper's events stay in order in one
/// partition.
pub fn route_key(payload: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Props {
        order_id: Option<serde_json::Value>,
    }
    #[derive(serde::Deserialize)]
    struct Ids {
        #[serde(rename = "userId")]
        user_id: Option<serde_json::Value>,
        #[serde(rename = "anonymousId")]
        anonymous_id: Option<serde_json::Value>,
        event: Option<String>,
        properties: Option<Props>,
    }
    use beacon_core::commerce::CommerceKind;
    let text = |v: serde_json::Value| match v {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let Ok(ids) = serde_json::from_str::<Ids>(payload) else { return String::new() };
    let order = match ids.event.as_deref().and_then(CommerceKind::of) {
        Some(CommerceKind::ProductReviewed) | None => None,
        Some(_) => ids.properties.and_then(|p| p.order_id).and_then(text),
    };
    if let Some(order) = order {
        return format!("o:{order}");
    }
    match ids.user_id.and_then(text) {
        Some(user) => format!("u:{user}"),
        None => ids.anonymous_id.and_then(text).map(|a| format!("a:{a}")).unwrap_or_default(),
    }
}

/// The chunk number of a bus record at stream sequence `offset`, and back.
pub fn chunk_of_stream(offset: u64) -> i64 {
    CHUNK_BASE + offset as i64
}

pub fn stream_of_chunk(chunk: i64) -> u64 {
    (chunk - CHUNK_BASE).max(0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_routed_by_user_then_anonymous_id() {
        assert_eq!(route_key(r#"{"userId":"u-1","anonymousId":"a-1","type":"track"}"#), "u:u-1");
        assert_eq!(route_key(r#"{"anonymousId":"a-1","userId":null}"#), "a:a-1");
        assert_eq!(route_key(r#"{"anonymousId":"a-1","userId":""}"#), "a:a-1");
        assert_eq!(route_key(r#"{"userId":42}"#), "u:42");
        assert_eq!(route_key("not json"), "");
        // an order's events go with the order, whoever sends them
        let refund = r#"{"type":"track","userId":"u-1","event":"Order Refunded","properties":{"order_id":"o-9"}}"#;
        let placed =
            r#"{"type":"track","anonymousId":"a-1","event":"Order Completed","properties":{"order_id":"o-9"}}"#;
        assert_eq!((route_key(refund), route_key(placed)), ("o:o-9".into(), "o:o-9".into()));
        let review = r#"{"type":"track","userId":"u-1","event":"Product Reviewed","properties":{"order_id":"o-9"}}"#;
        assert_eq!(route_key(review), "u:u-1");
        assert_eq!(route_key(r#"{"userId":"u-1","event":"Order Completed","properties":{}}"#), "u:u-1");
        assert_eq!(chunk_of_stream(5), (1 << 40) + 5);
        assert_eq!(stream_of_chunk(chunk_of_stream(5)), 5);
        assert_eq!(stream_of_chunk(3), 0, "the store's own chunks are before any stream sequence");
    }
}
