//! Imports of an uploaded file (`POST /api/v1/imports`, the console's
//! Import screen): the file is read on the server with the same reader as
//! `beacon import` (`crate::import`: the same lines make the same items
//! and ids), in the background; each batch goes through the use case its
//! API route calls (orders recorded, customers and events appended to the
//! log as `/api/v1/events` does, products saved in bulk), and the import's
//! progress and rejected lines are written to the store as it goes, so any
//! node answers how far it is.
//!
//! The file is held in memory while it is read (at most
//! [`MAX_UPLOAD_BYTES`]; `beacon import` streams files of any size). An
//! import whose server stopped shows as interrupted (not updated for
//! [`STALE_SECS`]); uploading the file again takes up where it got to,
//! since every item's id comes from the file and nothing is stored twice.

use super::{App, AppResult, log, products, records};
use crate::import::{self as reading, BadLine, Format, Item, Kind, Mapping, Msg, source};
use beacon_core::message::{self, Envelope};
use beacon_core::{Error, ErrorCode};
use beacon_store::{Import, ImportReject, ImportStatus, MAX_REJECT_TEXT};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::time::{Duration, Instant};

/// The largest file the API takes.
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// A running import not updated for this long stopped with its server.
pub const STALE_SECS: i64 = 60;
/// Imports are forgotten after this many days.
const KEEP_DAYS: u64 = 30;
/// Items per batch handed to a use case.
const BATCH: usize = 500;
/// How often progress is written while an import runs.
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// A file to import and how to read it.
pub struct Upload {
    pub kind: Kind,
    pub format: Format,
    pub mapping: Mapping,
    pub file_name: Option<String>,
    pub body: std::sync::Arc<[u8]>,
}

/// Checks that `upload` can be read (not empty; a CSV's header), records
/// the import and starts it in the background; returns it as recorded.
pub async fn start(app: &App, actor: &str, upload: Upload) -> AppResult<Import> {
    let invalid = |m: String| Error::new(ErrorCode::InvalidFile, m);
    if upload.body.iter().all(u8::is_ascii_whitespace) {
        return Err(invalid("the file is empty".into()));
    }
    if upload.body.len() > MAX_UPLOAD_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("a file is at most {} MiB here; `beacon import` streams larger ones", MAX_UPLOAD_BYTES >> 20),
        ));
    }
    let _readable = source::rows(std::io::Cursor::new(upload.body.clone()), upload.format).map_err(invalid)?;
    let now = app.now();
    let import = Import {
        id: format!("imp_{}", uuid::Uuid::now_v7().simple()),
        kind: upload.kind.noun().to_string(),
        format: upload.format.as_str().to_string(),
        file_name: upload.file_name.clone(),
        status: ImportStatus::Running,
        bytes_total: upload.body.len() as i64,
        bytes_read: 0,
        lines: 0,
        accepted: 0,
        rejected: 0,
        notes: Vec::new(),
        error: None,
        created_by: actor.to_string(),
        created_at: now,
        updated_at: now,
        finished_at: None,
    };
    let forget_before = now - chrono::Days::new(KEEP_DAYS);
    app.store.imports().create_import(&import, forget_before).await?;
    let (app, running, actor) = (app.clone(), import.clone(), actor.to_string());
    tokio::spawn(async move { run(app, running, upload, actor).await });
    Ok(import)
}

/// An import as the API shows it: a running one that stopped being
/// updated is `interrupted`.
pub fn status_of(app: &App, import: &Import) -> &'static str {
    let stale = app.now() - import.updated_at > chrono::Duration::seconds(STALE_SECS);
    match import.status {
        ImportStatus::Running if stale => "interrupted",
        s => s.as_str(),
    }
}

async fn run(app: App, mut import: Import, upload: Upload, actor: String) {
    let outcome = read_all(&app, &mut import, &upload, &actor).await;
    let now = app.now();
    (import.updated_at, import.finished_at) = (now, Some(now));
    match outcome {
        Ok(()) => import.status = ImportStatus::Done,
        Err(e) => {
            tracing::warn!(import = %import.id, "import stopped: {}", e.message);
            (import.status, import.error) = (ImportStatus::Failed, Some(e.message));
        }
    }
    // the last word must land: retry while the store is briefly away
    for attempt in 1..=5u64 {
        match app.store.imports().update_import(&import, &[]).await {
            Ok(()) => return,
            Err(e) => tracing::warn!(import = %import.id, "import's end not written ({attempt}/5): {e}"),
        }
        tokio::time::sleep(Duration::from_secs(attempt)).await;
    }
}

async fn read_all(app: &App, import: &mut Import, upload: &Upload, actor: &str) -> AppResult<()> {
    let counted = source::Counted::new(std::io::Cursor::new(upload.body.clone()));
    let read = counted.read.clone();
    let rows = source::rows(counted, upload.format).map_err(|m| Error::new(ErrorCode::InvalidFile, m))?;
    let (kind, mapping, key) = (upload.kind, upload.mapping.clone(), reading::file_key(&upload.body));
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Msg>(4);
    let reader = tokio::task::spawn_blocking(move || {
        reading::read_file(rows, kind, &mapping, &key, BATCH, |msg| tx.blocking_send(msg).is_ok())
    });
    // (found only when a line is rejected: most imports reject none)
    let mut lines: Option<Lines<'_>> = None;
    let mut rejects: Vec<ImportReject> = Vec::new();
    let mut written = Instant::now();
    while let Some(msg) = rx.recv().await {
        let bad = match msg {
            Msg::Note(note) => {
                import.notes.push(note);
                Vec::new()
            }
            Msg::Bad(bad) => {
                import.lines += 1;
                vec![bad]
            }
            Msg::Batch(items) => {
                let refused = apply(app, kind, &items, actor).await?;
                import.lines += items.iter().map(|i| i.lines.len() as i64).sum::<i64>();
                import.accepted += (items.len() - refused.len()) as i64;
                refused
            }
        };
        for b in bad {
            import.rejected += 1;
            let text = lines.get_or_insert_with(|| Lines::of(&upload.body)).text(b.line);
            rejects.push(ImportReject { text, line: b.line, column: b.column, reason: b.reason });
        }
        import.bytes_read = read.load(std::sync::atomic::Ordering::Relaxed) as i64;
        if written.elapsed() >= PROGRESS_EVERY {
            import.updated_at = app.now();
            app.store.imports().update_import(import, &rejects).await?;
            rejects.clear();
            written = Instant::now();
        }
    }
    import.lines = reader.await.map_err(beacon_store::internal_error)? as i64;
    import.bytes_read = import.bytes_total;
    import.updated_at = app.now();
    app.store.imports().update_import(import, &rejects).await?;
    Ok(())
}

/// Hands a batch to its use case; returns the lines refused.
async fn apply(app: &App, kind: Kind, items: &[Item], actor: &str) -> AppResult<Vec<BadLine>> {
    let objects = || items.iter().filter_map(|i| i.body.as_object().cloned()).collect::<Vec<Map<String, Value>>>();
    let refused: Vec<(usize, Error)> = match kind {
        Kind::Orders => {
            let (_, refused) = records::record_orders(app, &objects()).await?;
            refused.into_iter().map(|r| (r.index, r.error)).collect()
        }
        Kind::Products => products::save_bulk(app, &objects(), actor).await?.refused,
        Kind::Customers | Kind::Events => append_messages(app, items).await?,
    };
    Ok(refused
        .into_iter()
        .filter_map(|(index, e)| Some((items.get(index)?, e)))
        .flat_map(|(item, e)| {
            let reason = format!("{}: {}", e.code.as_str(), e.message);
            item.lines.iter().map(move |&line| BadLine { line, column: None, reason: reason.clone() })
        })
        .collect())
}

/// Customers (identify calls) and events, checked as `/api/v1/events`
/// checks them and appended to the log under its source.
async fn append_messages(app: &App, items: &[Item]) -> AppResult<Vec<(usize, Error)>> {
    let received_at = app.now();
    let env = Envelope {
        received_at,
        sent_at: None,
        kind: None,
        generated_id: &log::fallback_message_id,
        live: false,
        identities: Some(&app.rules.identity),
    };
    let (mut accepted, mut refused) = (Vec::with_capacity(items.len()), Vec::new());
    for (index, item) in items.iter().enumerate() {
        let raw = RawValue::from_string(item.body.to_string()).map_err(beacon_store::internal_error)?;
        match message::validate(&raw, &env) {
            Ok(m) => accepted.push(log::record(log::IMPORT_SOURCE, m, received_at)),
            Err(e) => refused.push((index, e)),
        }
    }
    if !accepted.is_empty() {
        log::append(app, accepted).await?;
    }
    Ok(refused)
}

/// Where each line of a file starts, to keep a rejected line's text.
struct Lines<'a> {
    body: &'a [u8],
    starts: Vec<usize>,
}

impl<'a> Lines<'a> {
    fn of(body: &'a [u8]) -> Self {
        let starts =
            std::iter::once(0).chain(body.iter().enumerate().filter(|(_, b)| **b == b'\n').map(|(i, _)| i + 1));
        Lines { body, starts: starts.collect() }
    }

    /// Line `n` (from 1), without its end, at most [`MAX_REJECT_TEXT`] bytes.
    fn text(&self, n: u64) -> String {
        let Some(&start) = usize::try_from(n).ok().and_then(|n| self.starts.get(n.checked_sub(1)?)) else {
            return String::new();
        };
        let end = self.body[start..].iter().position(|b| *b == b'\n').map_or(self.body.len(), |p| start + p);
        let line = &self.body[start..end.min(start + MAX_REJECT_TEXT)];
        String::from_utf8_lossy(line).trim_end_matches('\r').to_string()
    }
}
