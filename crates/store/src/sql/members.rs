//! The processor's side of saved segments: the members a batch's segment
//! stage changed (and each segment's count and count hour), and a merge's
//! tags, consents and memberships moved to the surviving profile.

use super::{SqlDialect as _, backend, micros};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

const ROWS: usize = 400;
/// Pairs in one JSON parameter (the embedded store).
const JSON_ROWS: usize = 5000;
const HOUR_MICROS: i64 = 3_600_000_000;

impl super::process::SqlProcessTx {
    /// A merge gives `from`'s tags to `into` (a tag both carry stays
    /// `into`'s), and its consents where they are the later word; `from`
    /// leaves its segments (the survivor's are decided again).
    pub(super) async fn move_audience(&mut self, from: &str, into: &str) -> Result<()> {
        let moves = [
            "INSERT INTO profile_tags (profile_id, tag, family, source, created_at, updated_at) \
             SELECT $2, tag, family, source, created_at, updated_at FROM profile_tags WHERE profile_id = $1 \
             ON CONFLICT (profile_id, tag) DO NOTHING",
            "INSERT INTO consents (profile_id, purpose, granted, at) \
             SELECT $2, purpose, granted, at FROM consents WHERE profile_id = $1 \
             ON CONFLICT (profile_id, purpose) DO UPDATE SET granted = excluded.granted, at = excluded.at \
             WHERE excluded.at > consents.at",
        ];
        for sql in moves {
            sqlx::query(sql).bind(from).bind(into).execute(&mut *self.tx).await.map_err(backend)?;
        }
        let leaves = [
            "DELETE FROM profile_tags WHERE profile_id = $1",
            "DELETE FROM consents WHERE profile_id = $1",
            "UPDATE segments SET members = members - 1 WHERE id IN \
             (SELECT segment_id FROM segment_members WHERE profile_id = $1)",
            "DELETE FROM segment_members WHERE profile_id = $1",
            "DELETE FROM segment_events WHERE profile_id = $1",
            "DELETE FROM profile_stages WHERE profile_id = $1",
        ];
        for sql in leaves {
            sqlx::query(sql).bind(from).execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }
}

impl super::process::SqlProcessTx {
    /// [`crate::ProcessTx::write_segments`]' members: a few statements for
    /// the whole batch whatever the number of segments (the rows each
    /// statement really changed are counted by segment, so a row already
    /// there, or gone, moves no count).
    pub(super) async fn write_member_changes(
        &mut self,
        changes: &[crate::MemberChange],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let d = self.dialect;
        let (entered, exited): (Vec<_>, Vec<_>) = changes.iter().partition(|c| c.entered);
        let mut delta: std::collections::BTreeMap<&str, i64> = Default::default();
        // the embedded store has one writer, this transaction: the changes
        // decided from what it read are what its statements change (no row
        // comes back to count, which through the driver costs more than the
        // write); on PostgreSQL another worker's may come between
        let exact = d == super::Dialect::Sqlite;
        let mut counted: Vec<(String, i64)> = Vec::new();
        let parts = |rows: usize| exited.chunks(rows).map(|p| (p, -1)).chain(entered.chunks(rows).map(|p| (p, 1)));
        if exact {
            // the pairs as one JSON parameter a statement (binding three
            // values a row through the driver cost more than the insert)
            for (part, sign) in parts(JSON_ROWS) {
                let pairs: Vec<[&str; 2]> =
                    part.iter().map(|c| [c.segment_id.as_str(), c.profile_id.as_str()]).collect();
                let pairs = serde_json::to_string(&pairs).map_err(|e| crate::StoreError::Backend(e.to_string()))?;
                let q = if sign < 0 {
                    sqlx::query(
                        "DELETE FROM segment_members WHERE (segment_id, profile_id) IN \
                         (SELECT j.value ->> 0, j.value ->> 1 FROM json_each(?) AS j)",
                    )
                    .bind(pairs)
                } else {
                    sqlx::query(
                        "INSERT INTO segment_members (segment_id, profile_id, since) \
                         SELECT j.value ->> 0, j.value ->> 1, ? FROM json_each(?) AS j WHERE true \
                         ON CONFLICT (segment_id, profile_id) DO NOTHING",
                    )
                    .bind(micros(at))
                    .bind(pairs)
                };
                q.execute(&mut *self.tx).await.map_err(backend)?;
                part.iter().for_each(|c| *delta.entry(&c.segment_id).or_default() += sign);
            }
        } else {
            for (part, sign) in parts(ROWS) {
                let sql = if sign < 0 {
                    format!(
                        "DELETE FROM segment_members WHERE (segment_id, profile_id) IN (VALUES {}) RETURNING segment_id",
                        d.rows(part.len(), 2)
                    )
                } else {
                    format!(
                        "INSERT INTO segment_members (segment_id, profile_id, since) VALUES {} \
                         ON CONFLICT (segment_id, profile_id) DO NOTHING RETURNING segment_id",
                        d.rows(part.len(), 3)
                    )
                };
                let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, c| {
                    let q = q.bind(&c.segment_id).bind(&c.profile_id);
                    if sign > 0 { q.bind(micros(at)) } else { q }
                });
                for row in q.fetch_all(&mut *self.tx).await.map_err(backend)? {
                    counted.push((row.try_get(0).map_err(backend)?, sign));
                }
            }
        }
        for (id, sign) in &counted {
            *delta.entry(id).or_default() += sign;
        }
        let moved: Vec<(&str, i64)> = delta.into_iter().filter(|(_, n)| *n != 0).collect();
        for part in moved.chunks(ROWS) {
            // each segment's count, and its hour in the count history
            let sql = format!(
                "UPDATE segments SET members = members + v.column2 FROM (VALUES {}) AS v \
                 WHERE segments.id = v.column1 RETURNING segments.id, segments.members",
                d.rows(part.len(), 2)
            );
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, (id, n)| q.bind(id).bind(*n));
            let counted: Vec<(String, i64)> = q
                .fetch_all(&mut *self.tx)
                .await
                .map_err(backend)?
                .iter()
                .map(|r| Ok((r.try_get(0).map_err(backend)?, r.try_get(1).map_err(backend)?)))
                .collect::<Result<_>>()?;
            if counted.is_empty() {
                continue;
            }
            let hour = micros(at).div_euclid(HOUR_MICROS);
            let sql = format!(
                "INSERT INTO segment_counts (segment_id, hour, members) VALUES {} \
                 ON CONFLICT (segment_id, hour) DO UPDATE SET members = excluded.members",
                d.rows(counted.len(), 3)
            );
            let q = counted.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, (id, n)| q.bind(id).bind(hour).bind(*n));
            q.execute(&mut *self.tx).await.map_err(backend)?;
        }
        Ok(())
    }
}
