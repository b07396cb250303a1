//! Appending to the event log: the records every writer (ingest, orders
//! placed or refunded by the server) hands to the group-committing writer.

use super::App;
use super::writer::WriteError;
use beacon_core::message::IncomingMessage;
use beacon_core::{Error, ErrorCode};
use beacon_store::NewLogRecord;
use chrono::{DateTime, Utc};

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
