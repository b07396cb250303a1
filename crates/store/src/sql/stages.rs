//! Lifecycle stages as last decided (`profile_stages`), written with the
//! messages that say a profile moved, in one transaction.

use super::jobs::Held;
use super::{SqlDialect as _, SqlStore, backend, micros};
use crate::{NewJob, Queue, Result, StageChange};
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

/// Rows per multi-row statement.
const ROWS: usize = 400;

impl SqlStore {
    pub(super) async fn stored_stages_impl(&self) -> Result<Vec<(String, String)>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!("SELECT {} FROM profile_stages", self.dialect.json_rows("profile_id, stage"));
        super::process_read::json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql))).await
    }

    pub(super) async fn write_stages_impl(
        &self,
        changes: &[StageChange],
        outbox: &[NewJob],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let d = self.dialect;
        let (gone, moved): (Vec<&StageChange>, Vec<&StageChange>) = changes.iter().partition(|c| c.to == "potential");
        for part in gone.chunks(ROWS) {
            let sql = format!("DELETE FROM profile_stages WHERE profile_id IN ({})", d.params_from(0, part.len()));
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, c| q.bind(c.profile_id.as_str()));
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        for part in moved.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO profile_stages (profile_id, stage, since, updated_at) VALUES {} \
                 ON CONFLICT (profile_id) DO UPDATE SET stage = excluded.stage, since = excluded.since, \
                 updated_at = excluded.updated_at",
                d.rows(part.len(), 4)
            );
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, c| {
                q.bind(c.profile_id.as_str()).bind(c.to.as_str()).bind(micros(at)).bind(micros(at))
            });
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        super::jobs::insert(&mut tx, d, &self.pii, Queue::Outbox, outbox, Held::Keep, at).await?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }
}
