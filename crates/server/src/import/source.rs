//! Reads a CSV or JSONL file row by row, in constant memory, with the line
//! number of each row and a clear reason for each line that cannot be read.

use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }

    /// By the file's extension (`.csv`, `.jsonl`, `.ndjson`).
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        path.extension().and_then(|e| e.to_str()).and_then(Format::parse)
    }
}

/// A line that could not be read or imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.column {
            Some(c) => write!(f, "line {}, column {c}: {}", self.line, self.reason),
            None => write!(f, "line {}: {}", self.line, self.reason),
        }
    }
}

/// One row: its line and its fields by column name (CSV: strings; JSONL: the
/// object's own values).
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: u64,
    pub fields: Map<String, Value>,
}

/// Counts the bytes read through it, for progress.
pub struct Counted<R> {
    inner: R,
    pub read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> Self {
        Counted { inner, read: Default::default() }
    }
}

pub type Rows = Box<dyn Iterator<Item = Result<Row, BadLine>> + Send>;

/// The rows of `reader`. A CSV's first line is its header.
pub fn rows<R: Read + Send + 'static>(reader: R, format: Format) -> Result<Rows, String> {
    match format {
        Format::Csv => csv_rows(reader),
        Format::Jsonl => Ok(Box::new(jsonl_rows(reader))),
    }
}

/// Where a CSV scan is within a line: which bytes a quote opens or closes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quoting {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: closes it, or escapes a second one.
    QuoteInQuoted,
}

impl Quoting {
    fn step(self, b: u8) -> Quoting {
        use Quoting::*;
        match (self, b) {
            (Quoted, b'"') => QuoteInQuoted,
            (Quoted, _) => Quoted,
            (QuoteInQuoted, b'"') => Quoted,
            (FieldStart, b'"') => Quoted,
            (_, b',') => FieldStart,
            _ => Unquoted,
        }
    }
}

/// Longest CSV record (a quote left open swallows the lines after it; past
/// this the record is reported and reading starts afresh).
const MAX_RECORD: usize = 1 << 20;

/// Splits CSV text into records with the line each starts on (quoted fields
/// may hold newlines; blank lines are skipped; CRLF or LF).
struct Records<R> {
    reader: BufReader<R>,
    line: u64,
    buf: Vec<u8>,
}

impl<R: Read> Records<R> {
    /// The next record's first line and bytes, or why it could not be read.
    fn next_record(&mut self) -> Option<Result<(u64, Vec<u8>), BadLine>> {
        let mut record = Vec::new();
        let mut start = 0;
        let mut state = Quoting::FieldStart;
        loop {
            self.buf.clear();
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) if record.is_empty() => return None,
                Ok(0) => {
                    let reason = "a quoted field is not closed before the end of the file".to_string();
                    return Some(Err(BadLine { line: start, column: None, reason }));
                }
                Ok(_) => {}
                Err(e) => return Some(Err(BadLine { line: self.line + 1, column: None, reason: e.to_string() })),
            }
            self.line += 1;
            if record.is_empty() {
                if self.buf.iter().all(|b| matches!(b, b'\r' | b'\n')) {
                    continue;
                }
                start = self.line;
            }
            for b in &self.buf {
                state = state.step(*b);
            }
            record.extend_from_slice(&self.buf);
            if state != Quoting::Quoted {
                return Some(Ok((start, record)));
            }
            if record.len() > MAX_RECORD {
                let reason = format!("a quoted field is not closed within {MAX_RECORD} bytes");
                return Some(Err(BadLine { line: start, column: None, reason }));
            }
        }
    }
}

/// One record's fields.
fn fields_of(record: &[u8]) -> Result<csv::ByteRecord, String> {
    let mut out = csv::ByteRecord::new();
    let mut csv = csv::ReaderBuilder::new().flexible(true).has_headers(false).from_reader(record);
    csv.read_byte_record(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

fn csv_rows<R: Read + Send + 'static>(reader: R) -> Result<Rows, String> {
    let mut records = Records { reader: BufReader::new(reader), line: 0, buf: Vec::new() };
    let header = match records.next_record() {
        None => return Err("the file is empty".into()),
        Some(Err(bad)) => return Err(format!("the header cannot be read: {}", bad.reason)),
        Some(Ok((_, bytes))) => fields_of(&bytes).map_err(|e| format!("the header cannot be read: {e}"))?,
    };
    let names: Vec<String> = header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let name = std::str::from_utf8(h).map_err(|_| format!("header column {} is not UTF-8 text", i + 1))?;
            Ok(name.trim().trim_start_matches('\u{feff}').to_string())
        })
        .collect::<Result<_, String>>()?;
    if names.iter().any(String::is_empty) {
        return Err("the header has an empty column name".into());
    }
    let iter = std::iter::from_fn(move || {
        let (line, bytes) = match records.next_record()? {
            Ok(r) => r,
            Err(bad) => return Some(Err(bad)),
        };
        let record = match fields_of(&bytes) {
            Ok(r) => r,
            Err(reason) => return Some(Err(BadLine { line, column: None, reason })),
        };
        if record.len() != names.len() {
            let reason = format!("{} fields, but the header has {}", record.len(), names.len());
            return Some(Err(BadLine { line, column: None, reason }));
        }
        let mut fields = Map::new();
        for (name, raw) in names.iter().zip(record.iter()) {
            match std::str::from_utf8(raw) {
                Ok(text) => {
                    fields.insert(name.clone(), Value::String(text.to_string()));
                }
                Err(_) => {
                    let reason = "not UTF-8 text (save the file as UTF-8)".to_string();
                    return Some(Err(BadLine { line, column: Some(name.clone()), reason }));
                }
            }
        }
        Some(Ok(Row { line, fields }))
    });
    Ok(Box::new(iter))
}

fn jsonl_rows<R: Read + Send + 'static>(reader: R) -> impl Iterator<Item = Result<Row, BadLine>> + Send {
    let mut reader = BufReader::new(reader);
    let mut line = 0u64;
    let mut buf = Vec::new();
    std::iter::from_fn(move || {
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(BadLine { line: line + 1, column: None, reason: e.to_string() })),
            }
            line += 1;
            let text = match std::str::from_utf8(&buf) {
                Ok(t) => t.trim(),
                Err(_) => return Some(Err(BadLine { line, column: None, reason: "not UTF-8 text".into() })),
            };
            if text.is_empty() {
                continue;
            }
            return Some(match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(fields)) => Ok(Row { line, fields }),
                Ok(_) => Err(BadLine { line, column: None, reason: "not a JSON object".into() }),
                Err(e) => Err(BadLine { line, column: None, reason: format!("not valid JSON: {e}") }),
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8], format: Format) -> Vec<Result<Row, BadLine>> {
        rows(std::io::Cursor::new(bytes.to_vec()), format).map(|r| r.collect()).unwrap_or_default()
    }

    #[test]
    fn csv_rows_carry_their_line_and_bad_lines_their_reason() {
        let got = read(b"a,b\n1,2\n\n3\n4,\xff\n\"x\ny\",5\n6,7\n", Format::Csv);
        let lines: Vec<String> = got
            .iter()
            .map(|r| match r {
                Ok(row) => format!("{}:{}", row.line, Value::Object(row.fields.clone())),
                Err(b) => b.to_string(),
            })
            .collect();
        assert_eq!(
            lines,
            [
                r#"2:{"a":"1","b":"2"}"#,
                "line 4: 1 fields, but the header has 2",
                "line 5, column b: not UTF-8 text (save the file as UTF-8)",
                "6:{\"a\":\"x\\ny\",\"b\":\"5\"}",
                r#"8:{"a":"6","b":"7"}"#,
            ]
        );
    }

    #[test]
    fn the_last_line_needs_no_newline() {
        let got = read(b"a,b\r\n1,2\r\n\r\n3,4", Format::Csv);
        let lines: Vec<u64> = got.iter().filter_map(|r| r.as_ref().ok()).map(|r| r.line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn quotes_inside_unquoted_fields_are_text_and_open_quotes_are_reported() {
        let got = read(b"a,b\n5\" disk,\"say \"\"hi\"\"\"\n1,\"open\n2,3\n", Format::Csv);
        assert_eq!(got[0].as_ref().map(|r| r.fields["a"].clone()), Ok(Value::String("5\" disk".into())));
        assert_eq!(got[0].as_ref().map(|r| r.fields["b"].clone()), Ok(Value::String("say \"hi\"".into())));
        assert_eq!(got[1].as_ref().map_err(|b| b.line), Err(3), "{got:?}");
    }

    #[test]
    fn jsonl_rows_are_objects() {
        let got = read(b"{\"a\":1}\n\n[1]\n{oops\n{\"b\":\"\xe4\xb8\xad\"}\n", Format::Jsonl);
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].as_ref().map(|r| r.line), Ok(1));
        assert_eq!(got[1].as_ref().map_err(|b| (b.line, b.reason.as_str())), Err((3, "not a JSON object")));
        assert!(got[2].as_ref().is_err_and(|b| b.line == 4));
        assert_eq!(got[3].as_ref().map(|r| r.fields["b"].clone()), Ok(Value::String("中".into())));
    }

    #[test]
    fn a_file_without_a_header_is_refused() {
        assert!(rows(std::io::Cursor::new(Vec::new()), Format::Csv).is_err());
        assert!(rows(std::io::Cursor::new(b",a\n".to_vec()), Format::Csv).is_err());
    }
}
