//! Events processed before the audiences migration kept no properties for
//! segment filters; the server fills them in from the log in the
//! background, a chunk at a time, from where the last call stopped
//! (`meta`: `props_backfill_from` up to `props_backfill_upto`, set by the
//! migration that added this).

use super::{SqlStore, backend};
use crate::{Result, StoreError};

impl SqlStore {
    pub(super) async fn backfill_props_impl(&self, limit: usize) -> Result<usize> {
        let meta = |key: &'static str| async move {
            let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            Ok::<i64, StoreError>(v.and_then(|v| v.parse().ok()).unwrap_or(0))
        };
        let (from, upto) = (meta("props_backfill_from").await?, meta("props_backfill_upto").await?);
        if from >= upto {
            return Ok(0);
        }
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq FROM events WHERE seq > $1 AND seq <= $2 AND kind = 'track' AND props IS NULL ORDER BY seq LIMIT $3",
        )
        .bind(from)
        .bind(upto)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let records = self.log.records_at(&seqs).await?;
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        for seq in &seqs {
            let Some(rec) = records.get(seq) else { continue };
            #[derive(serde::Deserialize)]
            struct Properties<'t> {
                #[serde(borrow, default)]
                properties: Option<&'t serde_json::value::RawValue>,
            }
            let props = serde_json::from_str::<Properties<'_>>(&rec.record.payload)
                .ok()
                .and_then(|p| p.properties)
                .and_then(|p| beacon_segment::properties::kept(p.get()));
            let Some(props) = props else { continue };
            let sealed =
                self.pii.seal_json(&props).map_err(|e| StoreError::Backend(format!("event properties: {e}")))?;
            sqlx::query("UPDATE events SET props = $1 WHERE seq = $2 AND props IS NULL")
                .bind(sealed.to_string())
                .bind(*seq)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        // where the next call goes on (the end once a call finds fewer than asked)
        let next = if seqs.len() < limit { upto } else { seqs.last().copied().unwrap_or(upto) };
        sqlx::query("UPDATE meta SET value = $1 WHERE key = 'props_backfill_from'")
            .bind(next.to_string())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        // the segment stage's kept events lack the properties filled in
        sqlx::query("DELETE FROM segment_events").execute(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(seqs.len().max(1))
    }
}
