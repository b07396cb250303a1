//! Reading a file of orders, customers, products or events into what the
//! API takes: rows from CSV or JSONL (`source`), columns mapped and checked
//! (`fields`), rows batched into items (`read_file`). One implementation
//! for `beacon import` (which streams a file to a server's API) and for
//! `POST /api/v1/imports` (the console's upload, read on the server): the
//! same file makes the same items and ids either way.

pub mod fields;
pub mod source;

pub use fields::{Builder, Item, Kind, Mapping};
pub use source::{BadLine, Format, Row};

use serde_json::Value;
use sha2::Digest as _;

/// Items per request, and their JSON size past which a batch ends early.
pub const MAX_BATCH: usize = 1000;
const MAX_BATCH_BYTES: usize = 400_000;

/// The bytes of a file its key is made from.
pub const KEY_BYTES: usize = 65_536;

/// The first 12 hex digits of the SHA-256 of the file's first
/// [`KEY_BYTES`]: the same file (even renamed, or with lines appended) gets
/// the same derived ids; another file, other ids.
pub fn file_key(head: &[u8]) -> String {
    hex::encode(&sha2::Sha256::digest(&head[..head.len().min(KEY_BYTES)])[..6])
}

/// What reading a file yields, in file order.
pub enum Msg {
    Batch(Vec<Item>),
    Bad(BadLine),
    /// Something to tell the person importing (a column nothing takes).
    Note(String),
}

/// Reads, checks and batches `rows` (blocking: on its own thread), sending
/// batches of at most `batch_size` items and every bad line to `send`,
/// which returns false to stop early. Returns the number of lines with data.
pub fn read_file(
    rows: source::Rows,
    kind: Kind,
    mapping: &Mapping,
    file_key: &str,
    batch_size: usize,
    mut send: impl FnMut(Msg) -> bool,
) -> u64 {
    let mut builder = Builder::new(kind, file_key);
    let (mut batch, mut bytes, mut lines) = (Vec::new(), 0usize, 0u64);
    let mut warned_unused = false;
    for row in rows {
        lines += 1;
        let row = match row {
            Ok(row) => row,
            Err(bad) => {
                if !send(Msg::Bad(bad)) {
                    return lines;
                }
                continue;
            }
        };
        if !warned_unused {
            warned_unused = true;
            let header: Vec<String> = row.fields.keys().cloned().collect();
            let unused = mapping.unused(kind, &header);
            if !unused.is_empty() {
                let note = format!("not imported: column {} (no field of {})", unused.join(", "), kind.noun());
                send(Msg::Note(note));
            }
        }
        let items = match mapping.apply(kind, &row) {
            Ok(fields) => builder.push(row.line, fields),
            Err(bad) => {
                builder.reject(mapping.order_id_of(&row));
                send(Msg::Bad(bad));
                Vec::new()
            }
        };
        for line in builder.dropped.drain(..) {
            let reason = "not imported: another line of the same order is bad".to_string();
            send(Msg::Bad(BadLine { line, column: None, reason }));
        }
        for item in items {
            bytes += item.body.to_string().len();
            batch.push(item);
            if batch.len() >= batch_size || bytes >= MAX_BATCH_BYTES {
                bytes = 0;
                if !send(Msg::Batch(std::mem::take(&mut batch))) {
                    return lines;
                }
            }
        }
    }
    batch.extend(builder.finish());
    if !batch.is_empty() {
        send(Msg::Batch(batch));
    }
    lines
}

/// The lines of `items` a server refused (`rejected`: `index`, `code`,
/// `message` of each refused item), as bad lines: every line of the item.
pub fn refused_lines(items: &[Item], rejected: &[Value]) -> Vec<BadLine> {
    let mut out = Vec::new();
    for r in rejected {
        let Some(item) = r["index"].as_u64().and_then(|i| items.get(usize::try_from(i).ok()?)) else { continue };
        let reason = format!(
            "{}: {}",
            r["code"].as_str().unwrap_or("rejected"),
            r["message"].as_str().unwrap_or("refused by the server")
        );
        out.extend(item.lines.iter().map(|&line| BadLine { line, column: None, reason: reason.clone() }));
    }
    out
}
