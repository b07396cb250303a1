//! CSV downloads: a BOM (spreadsheet programs then read UTF-8, so Chinese
//! stays Chinese), every cell safe from being run as a formula, and the
//! file's name.

use crate::error::{ApiError, ApiResult};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// A CSV file named `file_name` with a header line and the rows.
pub fn download<I, R>(file_name: &str, header_line: &[&str], rows: I) -> ApiResult<Response>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator<Item = String>,
{
    let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
    let fail = |e: csv::Error| ApiError::internal(e.to_string());
    w.write_record(header_line.iter().map(|f| spreadsheet_safe(f).into_owned())).map_err(fail)?;
    for row in rows {
        w.write_record(row.into_iter().map(|f| spreadsheet_safe(&f).into_owned())).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| ApiError::internal(e.to_string()))?;
    let name = format!("attachment; filename=\"{file_name}\"");
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
        (header::CONTENT_DISPOSITION, HeaderValue::from_str(&name).map_err(|e| ApiError::internal(e.to_string()))?),
    ];
    Ok((headers, bytes).into_response())
}

/// A cell a spreadsheet program will not run as a formula: text starting
/// with `=`, `+`, `-`, `@` (or a tab or carriage return) gets a leading `'`.
fn spreadsheet_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}
