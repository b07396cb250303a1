//! Files uploaded for import (`POST /api/v1/imports`): each import's
//! progress, and the lines it could not take, kept for download.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::Result;

/// Where an import is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportStatus {
    Running,
    /// Every line was read: taken or rejected.
    Done,
    /// It stopped on an error of the server (not of a line).
    Failed,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Running => "running",
            ImportStatus::Done => "done",
            ImportStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ImportStatus> {
        match s {
            "running" => Some(ImportStatus::Running),
            "done" => Some(ImportStatus::Done),
            "failed" => Some(ImportStatus::Failed),
            _ => None,
        }
    }
}

/// An import and how far it has got.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    pub id: String,
    /// orders, customers, products or events.
    pub kind: String,
    /// csv or jsonl.
    pub format: String,
    pub file_name: Option<String>,
    pub status: ImportStatus,
    pub bytes_total: i64,
    pub bytes_read: i64,
    /// Lines with data read so far.
    pub lines: i64,
    /// Items (orders, customers, products, events) taken.
    pub accepted: i64,
    /// Lines rejected (every one, also past those kept).
    pub rejected: i64,
    /// What the person importing should know (columns nothing takes).
    pub notes: Vec<String>,
    pub error: Option<String>,
    /// The key id or user id that uploaded it.
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A line an import could not take, and why (its text as uploaded, cut
/// at [`MAX_REJECT_TEXT`] bytes). Stored sealed: lines hold personal data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ImportReject {
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
    pub text: String,
}

/// Rejected lines kept per import (the count goes on past it).
pub const MAX_KEPT_REJECTS: i64 = 10_000;
/// Bytes of a rejected line's text kept.
pub const MAX_REJECT_TEXT: usize = 4096;

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Records a new import (and forgets imports created before `forget_before`).
    async fn create_import(&self, import: &Import, forget_before: DateTime<Utc>) -> Result<()>;
    /// Writes an import's progress and keeps `rejects` (up to
    /// [`MAX_KEPT_REJECTS`] in all), in one transaction.
    async fn update_import(&self, import: &Import, rejects: &[ImportReject]) -> Result<()>;
    async fn get_import(&self, id: &str) -> Result<Option<Import>>;
    /// The newest imports first.
    async fn list_imports(&self, limit: u32) -> Result<Vec<Import>>;
    /// The rejected lines kept, in the order they were found.
    async fn import_rejects(&self, id: &str) -> Result<Vec<ImportReject>>;
}
