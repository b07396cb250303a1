//! Imports and their rejected lines (`imports`, `import_rejects`), in the
//! shop database. A rejected line is kept sealed, as one JSON text.

use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{Import, ImportReject, ImportStatus, MAX_KEPT_REJECTS, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

const COLUMNS: &str = "id, kind, format, file_name, status, bytes_total, bytes_read, lines, accepted, rejected, \
                       notes, error, created_by, created_at, updated_at, finished_at";

fn from_row(row: &AnyRow) -> Result<Import> {
    let status: String = row.try_get("status").map_err(backend)?;
    let notes: String = row.try_get("notes").map_err(backend)?;
    Ok(Import {
        id: row.try_get("id").map_err(backend)?,
        kind: row.try_get("kind").map_err(backend)?,
        format: row.try_get("format").map_err(backend)?,
        file_name: row.try_get("file_name").map_err(backend)?,
        status: ImportStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("import status {status:?}")))?,
        bytes_total: row.try_get("bytes_total").map_err(backend)?,
        bytes_read: row.try_get("bytes_read").map_err(backend)?,
        lines: row.try_get("lines").map_err(backend)?,
        accepted: row.try_get("accepted").map_err(backend)?,
        rejected: row.try_get("rejected").map_err(backend)?,
        notes: serde_json::from_str(&notes).map_err(|e| StoreError::Corrupt(format!("import notes: {e}")))?,
        error: row.try_get("error").map_err(backend)?,
        created_by: row.try_get("created_by").map_err(backend)?,
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(backend)?)?,
        finished_at: row.try_get::<Option<i64>, _>("finished_at").map_err(backend)?.map(from_micros).transpose()?,
    })
}

fn notes_json(import: &Import) -> String {
    serde_json::Value::from(import.notes.clone()).to_string()
}

#[async_trait]
impl crate::ImportStore for SqlStore {
    async fn create_import(&self, i: &Import, forget_before: DateTime<Utc>) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let old = "SELECT id FROM imports WHERE created_at < $1";
        for row in sqlx::query(old).bind(micros(forget_before)).fetch_all(&mut *tx).await.map_err(backend)? {
            let id: String = row.try_get(0).map_err(backend)?;
            for sql in ["DELETE FROM import_rejects WHERE import_id = $1", "DELETE FROM imports WHERE id = $1"] {
                sqlx::query(sql).bind(&id).execute(&mut *tx).await.map_err(backend)?;
            }
        }
        sqlx::query(
            "INSERT INTO imports (id, kind, format, file_name, status, bytes_total, bytes_read, lines, accepted, \
             rejected, notes, error, created_by, created_at, updated_at, finished_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(&i.id)
        .bind(&i.kind)
        .bind(&i.format)
        .bind(i.file_name.as_deref())
        .bind(i.status.as_str())
        .bind(i.bytes_total)
        .bind(i.bytes_read)
        .bind(i.lines)
        .bind(i.accepted)
        .bind(i.rejected)
        .bind(notes_json(i))
        .bind(i.error.as_deref())
        .bind(&i.created_by)
        .bind(micros(i.created_at))
        .bind(micros(i.updated_at))
        .bind(i.finished_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn update_import(&self, i: &Import, rejects: &[ImportReject]) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let done = sqlx::query(
            "UPDATE imports SET status = $2, bytes_read = $3, lines = $4, accepted = $5, rejected = $6, notes = $7, \
             error = $8, updated_at = $9, finished_at = $10 WHERE id = $1",
        )
        .bind(&i.id)
        .bind(i.status.as_str())
        .bind(i.bytes_read)
        .bind(i.lines)
        .bind(i.accepted)
        .bind(i.rejected)
        .bind(notes_json(i))
        .bind(i.error.as_deref())
        .bind(micros(i.updated_at))
        .bind(i.finished_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if !rejects.is_empty() {
            let kept: i64 = sqlx::query("SELECT COUNT(*) FROM import_rejects WHERE import_id = $1")
                .bind(&i.id)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?
                .try_get(0)
                .map_err(backend)?;
            let room = usize::try_from(MAX_KEPT_REJECTS - kept).unwrap_or(0);
            let keep: Vec<(i64, &ImportReject)> = (kept..).zip(rejects.iter().take(room)).collect();
            for part in keep.chunks(200) {
                let sql = format!(
                    "INSERT INTO import_rejects (import_id, n, line, detail) VALUES {}",
                    self.dialect.rows(part.len(), 4)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (n, r) in part {
                    let detail = serde_json::to_string(r).map_err(|e| StoreError::Backend(e.to_string()))?;
                    let line = i64::try_from(r.line).unwrap_or(i64::MAX);
                    q = q.bind(&i.id).bind(*n).bind(line).bind(self.pii.encrypt(&detail));
                }
                q.execute(&mut *tx).await.map_err(backend)?;
            }
        }
        tx.commit().await.map_err(backend)
    }

    async fn get_import(&self, id: &str) -> Result<Option<Import>> {
        let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(from_row).transpose()
    }

    async fn list_imports(&self, limit: u32) -> Result<Vec<Import>> {
        let sql = format!("SELECT {COLUMNS} FROM imports ORDER BY created_at DESC, id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(from_row).collect()
    }

    async fn import_rejects(&self, id: &str) -> Result<Vec<ImportReject>> {
        let rows = sqlx::query("SELECT detail FROM import_rejects WHERE import_id = $1 ORDER BY n")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|row| {
                let sealed: String = row.try_get(0).map_err(backend)?;
                let detail =
                    self.pii.decrypt(&sealed).map_err(|e| StoreError::Corrupt(format!("import reject: {e}")))?;
                serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("import reject: {e}")))
            })
            .collect()
    }
}
