//! The events the segment stage keeps of a profile between batches
//! (`beacon_segment::keep`): one row per profile, its events as JSON
//! (`[[name, micros, {properties}], …]`), under the stamp of the saved
//! segments' retention, personal values sealed as an event's properties
//! are. `meta.segment_events_stamp` names the stamp every
//! row is of: another retention forgets them all, in the transaction that
//! first decides under it.

use super::process_read::json_rows;
use super::{SqlDialect as _, backend, from_micros, micros};
use crate::{KeptEvents, Result, StoreError};
use beacon_segment::EventFact;
use serde_json::{Map, Value, json};
use sqlx::{AnyConnection, AssertSqlSafe};

const ROWS: usize = 300;

impl super::process::SqlProcessTx {
    /// [`crate::ProcessTx::keep_events_under`].
    pub(super) async fn kept_under(&mut self, stamp: i64) -> Result<()> {
        let held: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'segment_events_stamp'")
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        if held.as_deref() == Some(stamp.to_string().as_str()) {
            return Ok(());
        }
        sqlx::query("DELETE FROM segment_events").execute(&mut *self.tx).await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('segment_events_stamp', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(stamp.to_string())
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    /// Replaces these profiles' kept events.
    pub(super) async fn write_kept(&mut self, kept: &[KeptEvents]) -> Result<()> {
        let d = self.dialect;
        for part in kept.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO segment_events (profile_id, stamp, events) VALUES {} \
                 ON CONFLICT (profile_id) DO UPDATE SET stamp = excluded.stamp, events = excluded.events",
                d.rows(part.len(), 3)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for k in part {
                let text = encode(&k.events);
                let sealed = self.pii.seal_json(&text).map_err(|e| StoreError::Backend(format!("kept events: {e}")))?;
                q = q.bind(&k.profile_id).bind(k.stamp).bind(sealed.into_owned());
            }
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }
}

/// The kept events of these profiles under `stamp` (a profile without is left out).
pub(super) async fn read(
    conn: &mut AnyConnection,
    d: super::Dialect,
    pii: &crate::PiiCipher,
    ids: &[String],
    stamp: i64,
) -> Result<Vec<(String, Vec<EventFact>)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {} FROM segment_events WHERE stamp = {} AND profile_id IN ({})",
        d.json_rows("profile_id, events"),
        d.param(1),
        d.params_from(1, ids.len())
    );
    let q = ids.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(stamp), |q, id| q.bind(id.as_str()));
    let rows: Vec<(String, String)> = json_rows(conn, q).await?;
    rows.into_iter()
        .map(|(id, text)| {
            let opened = pii.open_json(&text).map_err(|e| StoreError::Corrupt(format!("kept events: {e}")))?;
            Ok((id, decode(&opened)?))
        })
        .collect()
}

fn encode(events: &[EventFact]) -> String {
    let rows: Vec<Value> = events.iter().map(|e| json!([e.name, micros(e.at), e.properties])).collect();
    Value::Array(rows).to_string()
}

fn decode(text: &str) -> Result<Vec<EventFact>> {
    let rows: Vec<(String, i64, Map<String, Value>)> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("kept events: {e}")))?;
    rows.into_iter().map(|(name, at, properties)| Ok(EventFact { name, at: from_micros(at)?, properties })).collect()
}
