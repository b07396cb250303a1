//! Appending to the event log: the records every writer (ingest, orders
//! placed or refunded by the server) hands to the group-committing writer.

use super::App;
use super::writer::WriteError;
use beacon_core::message::IncomingMessage;
use beacon_core::{Error, ErrorCode};
use beacon_store::NewLogRecord;
use chrono::{DateTime, Utc};

/// The source events imported through the admin API (and uploaded files)
/// are deduplicated under.
pub const IMPORT_SOURCE: &str = "api:import";

/// A `messageId` for a message sent without one: a per-process random prefix
/// and a counter, unique across restarts and nodes without a syscall per call.
pub fn fallback_message_id() -> String {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU64, Ordering};
    static PREFIX: OnceLock<String> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string());
    format!("bcn-{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The log record of a validated message from `source`.
pub fn record(source: &str, m: IncomingMessage, received_at: DateTime<Utc>) -> NewLogRecord {
    NewLogRecord {
        source_id: source.to_string(),
        message_id: m.message_id,
        kind: m.kind,
        received_at,
        timestamp: m.timestamp,
        payload: m.payload,
    }
}

/// Hands records to the group-committing writer; returns once they are
/// durable (see `writer::Ack`). A full queue is `unavailable` (retry).
pub async fn append(app: &App, records: Vec<NewLogRecord>) -> Result<(), Error> {
    app.writer.write(records).await.map_err(|e| match e {
        WriteError::Busy | WriteError::Stopped => {
            Error::new(ErrorCode::Unavailable, "the server is busy; retry shortly")
        }
        WriteError::Store(e) => beacon_store::internal_error(e),
    })
}

/// How far processing has got: everything appended before a call is
/// processed once `processed` reaches that call's `head`. On the store's
/// log, both are record positions; on the bus, each is the sum over the
/// partitions of a stream position (a partition's processed position never
/// passes its head, so the sums are equal exactly when every partition is
/// caught up, and `processed` grows as any partition goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub head: i64,
    pub processed: i64,
}

pub async fn progress(app: &App) -> Result<Progress, Error> {
    let Some(bus) = &app.bus else {
        let head = app.store.log().head().await?;
        let processed = app.store.processed_offset(crate::processor::PROCESSOR).await?;
        return Ok(Progress { head, processed });
    };
    let unavailable = |e: beacon_bus::BusError| {
        tracing::warn!("the bus: {e}");
        Error::new(ErrorCode::Unavailable, "the event bus is unavailable; retry later")
    };
    let mut out = Progress { head: 0, processed: 0 };
    for n in 0..bus.partitions() {
        let head = bus.head(n).await.map_err(unavailable)? as i64;
        let offset = app.store.processed_offset(&crate::processor::source::partition_name(n)).await?;
        let processed =
            if offset == 0 { 0 } else { crate::bus::stream_of_chunk(beacon_store::chunk_of(offset)) as i64 };
        out.head += head;
        out.processed += processed.min(head);
    }
    Ok(out)
}

/// Appends a message the server writes itself (a track event with its
/// `messageId`) from `source`, checked as the processor will read it: a
/// message it could not read is refused here (`code`) rather than logged.
pub async fn append_internal(app: &App, source: &str, msg: serde_json::Value) -> Result<(), Error> {
    append(app, vec![internal_record(app, source, msg)?]).await
}

/// The log record of a message the server writes itself (see
/// [`append_internal`]), for appending many at once.
pub fn internal_record(app: &App, source: &str, msg: serde_json::Value) -> Result<NewLogRecord, Error> {
    let now = app.now();
    let env = beacon_core::message::Envelope {
        received_at: now,
        sent_at: None,
        kind: Some(beacon_core::message::MessageKind::Track),
        generated_id: &fallback_message_id,
        live: false,
        identities: None,
    };
    let raw = serde_json::value::RawValue::from_string(msg.to_string())
        .map_err(|e| Error::new(ErrorCode::Internal, format!("a server message cannot be written: {e}")))?;
    let validated = beacon_core::message::validate(&raw, &env)?;
    Ok(record(source, validated, now))
}
