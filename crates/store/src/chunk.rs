//! The binary form of a log chunk: the records of one group commit, each as
//! length-prefixed fields, LZ4-compressed as one block. Appending a chunk is
//! one row write however many records it holds; that is what makes the
//! durable append cheap. Compression makes the log a third to a fifth of the
//! JSON's size, and costs less CPU than writing the bytes it saves (SQLite
//! writes each byte twice: to the WAL, then to the database file).
//!
//! Versions: 1 = records as they are (data directories written before
//! compression, still read); 2 = `u32` length of the records, then the LZ4
//! block of them.

use crate::{LogRecord, NewLogRecord, StoreError};
use beacon_core::message::MessageKind;
use chrono::DateTime;

/// Bits of a record's sequence number that hold its index in the chunk.
pub const INDEX_BITS: u32 = 20;
/// Most records one chunk may hold.
pub const MAX_CHUNK_RECORDS: usize = 1 << INDEX_BITS;
const PLAIN: u8 = 1;
const LZ4: u8 = 2;
/// Largest decompressed chunk accepted (a guard against a corrupt length).
const MAX_CHUNK_BYTES: usize = 1 << 30;

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
pub fn encode<R: std::borrow::Borrow<NewLogRecord>>(records: &[R], payloads: &[&str]) -> Vec<u8> {
    let plain = plain_records(records, payloads);
    let block = lz4_flex::block::compress(&plain);
    let mut body = Vec::with_capacity(block.len() + 5);
    body.push(LZ4);
    body.extend_from_slice(&(plain.len() as u32).to_le_bytes());
    body.extend_from_slice(&block);
    body
}

fn plain_records<R: std::borrow::Borrow<NewLogRecord>>(records: &[R], payloads: &[&str]) -> Vec<u8> {
    let size: usize =
        records.iter().map(|r| r.borrow()).map(|r| 40 + r.source_id.len() + r.message_id.len() + r.payload.len()).sum();
    let mut out = Vec::with_capacity(size);
    for (r, payload) in records.iter().map(|r| r.borrow()).zip(payloads) {
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

    fn skip_string(&mut self) -> Result<(), StoreError> {
        let b = self.take(4)?;
        let len = u32::from_le_bytes(b.try_into().map_err(|_| corrupt("len"))?) as usize;
        self.take(len).map(|_| ())
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let b = self.take(4)?;
        let len = u32::from_le_bytes(b.try_into().map_err(|_| corrupt("len"))?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).map_err(|_| corrupt("utf-8"))
    }
}

/// Decodes a chunk's records with their sequence numbers.
pub fn decode(chunk: i64, body: &[u8]) -> Result<Vec<LogRecord>, StoreError> {
    decode_where(chunk, body, |_| true)
}

/// Decodes the records of a chunk whose seq `keep` accepts; the others are
/// stepped over without being copied (a timeline page wants a few records
/// of each of many chunks).
pub fn decode_where(chunk: i64, body: &[u8], keep: impl Fn(i64) -> bool) -> Result<Vec<LogRecord>, StoreError> {
    let mut r = Reader { buf: body };
    let plain;
    match r.take(1)? {
        [PLAIN] => {}
        [LZ4] => {
            let b = r.take(4)?;
            let len = u32::from_le_bytes(b.try_into().map_err(|_| corrupt("len"))?) as usize;
            if len > MAX_CHUNK_BYTES {
                return Err(corrupt("length"));
            }
            plain = lz4_flex::block::decompress(r.buf, len).map_err(|e| corrupt(&e.to_string()))?;
            if plain.len() != len {
                return Err(corrupt("length"));
            }
            r = Reader { buf: &plain };
        }
        _ => return Err(corrupt("unknown version")),
    }
    let mut out = Vec::new();
    let mut index = 0;
    while !r.buf.is_empty() {
        let seq = record_seq(chunk, index);
        index += 1;
        if !keep(seq) {
            r.take(17)?;
            for _ in 0..3 {
                r.skip_string()?;
            }
            continue;
        }
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
        out.push(LogRecord { seq, record });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record(kind: MessageKind, message_id: String, payload: String) -> NewLogRecord {
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).single().unwrap_or_default();
        NewLogRecord { source_id: "k".into(), message_id, kind, received_at: t, timestamp: t, payload }
    }

    #[test]
    fn chunks_round_trip_and_truncation_is_detected() {
        let records: Vec<NewLogRecord> =
            (0..3).map(|i| record(MessageKind::Identify, format!("m{i}"), format!(r#"{{"名":{i}}}"#))).collect();
        let payloads: Vec<&str> = records.iter().map(|r| r.payload.as_str()).collect();
        let body = encode(&records, &payloads);
        let back = decode(7, &body).unwrap_or_default();
        assert_eq!(back.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), records);
        assert_eq!(back[2].seq, (7 << 20) | 2);
        assert_eq!(chunk_of(back[2].seq), 7);
        assert!(decode(7, &body[..body.len() - 1]).is_err());
        // only the records asked for, with their own seqs and contents
        let some = decode_where(7, &body, |seq| seq == (7 << 20) | 1).unwrap_or_default();
        assert_eq!(some.len(), 1);
        assert_eq!((some[0].seq, &some[0].record), ((7 << 20) | 1, &records[1]));
        assert!(decode_where(7, &body[..body.len() - 1], |_| false).is_err(), "a truncated chunk still fails");
        assert!(decode(7, &[9]).is_err());
        // a corrupt length is refused, not allocated
        let mut huge = body.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(7, &huge).is_err());
        let mut short = body.clone();
        short[1..5].copy_from_slice(&3u32.to_le_bytes());
        assert!(decode(7, &short).is_err());
    }

    #[test]
    fn similar_events_are_stored_compressed() {
        let records: Vec<NewLogRecord> = (0..100)
            .map(|i| {
                record(
                    MessageKind::Track,
                    format!("message-{i}"),
                    format!(
                        r#"{{"type":"track","event":"Product Viewed","userId":"u{i}","properties":{{"sku":"SKU-{i}","price":129.9}},"context":{{"locale":"zh-CN","library":{{"name":"analytics-python"}}}}}}"#
                    ),
                )
            })
            .collect();
        let payloads: Vec<&str> = records.iter().map(|r| r.payload.as_str()).collect();
        let body = encode(&records, &payloads);
        let plain = plain_records(&records, &payloads);
        assert!(body.len() * 3 < plain.len(), "{} bytes stored for {}", body.len(), plain.len());
        assert_eq!(decode(1, &body).unwrap_or_default().len(), 100);
    }

    #[test]
    fn uncompressed_chunks_of_older_data_directories_still_decode() {
        let record = record(MessageKind::Track, "m".into(), r#"{"event":"旧"}"#.into());
        let mut body = vec![PLAIN];
        body.extend(plain_records(std::slice::from_ref(&record), &[record.payload.as_str()]));
        let back = decode(3, &body).unwrap_or_default();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].record, record);
        assert!(decode(3, &body[..body.len() - 2]).is_err());
    }
}
