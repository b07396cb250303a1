//! The binary form of a log chunk: the records of one group commit, each as
//! length-prefixed fields. Appending a chunk is one row write however many
//! records it holds; that is what makes the durable append cheap.

use crate::{LogRecord, NewLogRecord, StoreError};
use beacon_core::message::MessageKind;
use chrono::DateTime;

/// Bits of a record's sequence number that hold its index in the chunk.
pub const INDEX_BITS: u32 = 20;
/// Most records one chunk may hold.
pub const MAX_CHUNK_RECORDS: usize = 1 << INDEX_BITS;
const VERSION: u8 = 1;

pub fn record_seq(chunk: i64, index: usize) -> i64 {
    (chunk << INDEX_BITS) | index as i64
}

pub fn chunk_of(seq: i64) -> i64 {
    seq >> INDEX_BITS
}

fn kind_byte(k: MessageKind) -> u8 {
    match k {
        MessageKind::Track => 1,
        MessageKind::Identify => 2,
        MessageKind::Page => 3,
        MessageKind::Screen => 4,
        MessageKind::Group => 5,
        MessageKind::Alias => 6,
    }
}

fn byte_kind(b: u8) -> Option<MessageKind> {
    Some(match b {
        1 => MessageKind::Track,
        2 => MessageKind::Identify,
        3 => MessageKind::Page,
        4 => MessageKind::Screen,
        5 => MessageKind::Group,
        6 => MessageKind::Alias,
        _ => return None,
    })
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// Encodes records with the given payloads (the records' own, or transformed,
/// e.g. with personal data sealed), which must be as many as the records.
pub fn encode(records: &[NewLogRecord], payloads: &[&str]) -> Vec<u8> {
    let size: usize = records.iter().map(|r| 40 + r.source_id.len() + r.message_id.len() + r.payload.len()).sum();
    let mut out = Vec::with_capacity(size + 1);
    out.push(VERSION);
    for (r, payload) in records.iter().zip(payloads) {
        out.push(kind_byte(r.kind));
        out.extend_from_slice(&r.received_at.timestamp_micros().to_le_bytes());
        out.extend_from_slice(&r.timestamp.timestamp_micros().to_le_bytes());
        put_str(&mut out, &r.source_id);
        put_str(&mut out, &r.message_id);
        put_str(&mut out, payload);
    }
    out
}

struct Reader<'a> {
    buf: &'a [u8],
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(format!("log chunk: {what}"))
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], StoreError> {
        if self.buf.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    fn i64(&mut self) -> Result<i64, StoreError> {
        let b = self.take(8)?;
        Ok(i64::from_le_bytes(b.try_into().map_err(|_| corrupt("int"))?))
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let b = self.take(4)?;
        let len = u32::from_le_bytes(b.try_into().map_err(|_| corrupt("len"))?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| corrupt("utf-8"))
    }
}

/// Decodes a chunk's records with their sequence numbers.
pub fn decode(chunk: i64, body: &[u8]) -> Result<Vec<LogRecord>, StoreError> {
    let mut r = Reader { buf: body };
    if r.take(1)? != [VERSION] {
        return Err(corrupt("unknown version"));
    }
    let mut out = Vec::new();
    while !r.buf.is_empty() {
        let kind = byte_kind(r.take(1)?[0]).ok_or_else(|| corrupt("kind"))?;
        let received_at = DateTime::from_timestamp_micros(r.i64()?).ok_or_else(|| corrupt("time"))?;
        let timestamp = DateTime::from_timestamp_micros(r.i64()?).ok_or_else(|| corrupt("time"))?;
        let record = NewLogRecord {
            kind,
            received_at,
            timestamp,
            source_id: r.string()?,
            message_id: r.string()?,
            payload: r.string()?,
        };
        out.push(LogRecord { seq: record_seq(chunk, out.len()), record });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn chunks_round_trip_and_truncation_is_detected() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap_or_default();
        let records: Vec<NewLogRecord> = (0..3)
            .map(|i| NewLogRecord {
                source_id: "k".into(),
                message_id: format!("m{i}"),
                kind: MessageKind::Identify,
                received_at: t,
                timestamp: t,
                payload: format!(r#"{{"名":{i}}}"#),
            })
            .collect();
        let payloads: Vec<&str> = records.iter().map(|r| r.payload.as_str()).collect();
        let body = encode(&records, &payloads);
        let back = decode(7, &body).unwrap_or_default();
        assert_eq!(back.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), records);
        assert_eq!(back[2].seq, (7 << 20) | 2);
        assert_eq!(chunk_of(back[2].seq), 7);
        assert!(decode(7, &body[..body.len() - 1]).is_err());
        assert!(decode(7, &[9]).is_err());
    }
}
