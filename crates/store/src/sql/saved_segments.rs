//! Saved segments, their members and their count per hour, in the main
//! database (the processor keeps the members in its transaction).

use super::catalog::audit_entry;
use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{MembersChanged, Membership, Page, PageRequest, Result, StoreError, StoredSegment};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

const COLUMNS: &str =
    "id, name, description, definition, status, version, members, evaluated_at, created_by, created_at, updated_at";

/// Rows per multi-row statement.
const ROWS: usize = 400;

const HOUR_MICROS: i64 = 3_600_000_000;

fn decode(row: &AnyRow) -> Result<StoredSegment> {
    let definition: String = row.try_get("definition").map_err(backend)?;
    Ok(StoredSegment {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        definition: serde_json::from_str(&definition).map_err(|e| StoreError::Corrupt(format!("segment: {e}")))?,
        status: row.try_get("status").map_err(backend)?,
        version: row.try_get("version").map_err(backend)?,
        members: row.try_get("members").map_err(backend)?,
        evaluated_at: row.try_get::<Option<i64>, _>("evaluated_at").map_err(backend)?.map(from_micros).transpose()?,
        created_by: row.try_get("created_by").map_err(backend)?,
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(backend)?)?,
    })
}

/// What the audit log keeps of a segment.
fn audited(s: &StoredSegment) -> Value {
    serde_json::json!({"name": s.name, "description": s.description, "definition": s.definition, "status": s.status})
}

fn membership(row: &AnyRow) -> Result<Membership> {
    Ok(Membership {
        segment_id: row.try_get("segment_id").map_err(backend)?,
        profile_id: row.try_get("profile_id").map_err(backend)?,
        since: from_micros(row.try_get("since").map_err(backend)?)?,
    })
}

async fn segment_in(tx: &mut sqlx::AnyConnection, id: &str) -> Result<Option<StoredSegment>> {
    let sql = format!("SELECT {COLUMNS} FROM segments WHERE id = $1");
    let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut *tx).await.map_err(backend)?;
    row.as_ref().map(decode).transpose()
}

/// Records `members` as segment `id`'s count in `at`'s hour.
pub(super) async fn count_hour(tx: &mut sqlx::AnyConnection, id: &str, at: DateTime<Utc>, members: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO segment_counts (segment_id, hour, members) VALUES ($1, $2, $3) \
         ON CONFLICT (segment_id, hour) DO UPDATE SET members = excluded.members",
    )
    .bind(id)
    .bind(micros(at).div_euclid(HOUR_MICROS))
    .bind(members)
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait::async_trait]
impl crate::SegmentStore for SqlStore {
    async fn create_segment(&self, s: &StoredSegment, actor: &str) -> Result<StoredSegment> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        if segment_in(&mut tx, &s.id).await?.is_some() {
            return Err(StoreError::Conflict(format!("segment {:?} exists", s.id)));
        }
        let stored = StoredSegment { version: 1, members: 0, evaluated_at: None, ..s.clone() };
        sqlx::query(
            "INSERT INTO segments (id, name, description, definition, status, version, members, evaluated_at, \
             created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 1, 0, NULL, $6, $7, $8)",
        )
        .bind(&s.id)
        .bind(&s.name)
        .bind(s.description.as_deref())
        .bind(s.definition.to_string())
        .bind(&s.status)
        .bind(&s.created_by)
        .bind(micros(s.created_at))
        .bind(micros(s.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let target = format!("segment:{}", s.id);
        audit_entry(&mut tx, s.created_at, actor, "segment.create", &target, None, Some(audited(&stored))).await?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }

    async fn update_segment(&self, s: &StoredSegment, version: i64, actor: &str) -> Result<StoredSegment> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let was = segment_in(&mut tx, &s.id).await?.ok_or(StoreError::NotFound)?;
        if was.version != version {
            return Err(StoreError::Conflict(format!(
                "segment {:?} changed since version {version} (it is at {})",
                s.id, was.version
            )));
        }
        sqlx::query(
            "UPDATE segments SET name = $1, description = $2, definition = $3, status = $4, version = $5, \
             updated_at = $6 WHERE id = $7",
        )
        .bind(&s.name)
        .bind(s.description.as_deref())
        .bind(s.definition.to_string())
        .bind(&s.status)
        .bind(version + 1)
        .bind(micros(s.updated_at))
        .bind(&s.id)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let now = StoredSegment {
            name: s.name.clone(),
            description: s.description.clone(),
            definition: s.definition.clone(),
            status: s.status.clone(),
            version: version + 1,
            updated_at: s.updated_at,
            ..was.clone()
        };
        let target = format!("segment:{}", s.id);
        audit_entry(&mut tx, s.updated_at, actor, "segment.update", &target, Some(audited(&was)), Some(audited(&now)))
            .await?;
        tx.commit().await.map_err(backend)?;
        Ok(now)
    }

    async fn get_segment(&self, id: &str) -> Result<Option<StoredSegment>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        segment_in(&mut conn, id).await
    }

    async fn segments_stamp(&self) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM segments")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        Ok((row.try_get("n").map_err(backend)?, row.try_get("v").map_err(backend)?))
    }

    async fn all_segments(&self) -> Result<Vec<StoredSegment>> {
        let sql = format!("SELECT {COLUMNS} FROM segments ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    async fn list_segments(&self, status: Option<&str>, page: &PageRequest) -> Result<Page<StoredSegment>> {
        let limit = page.limit.max(1);
        let (after_at, after_id) = page.after.clone().unwrap_or((i64::MAX, String::new()));
        let filter = if status.is_some() { "AND status = $3" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS} FROM segments WHERE (created_at < $1 OR (created_at = $1 AND id > $2)) {filter} \
             ORDER BY created_at DESC, id LIMIT {}",
            i64::from(limit) + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after_at).bind(after_id);
        if let Some(s) = status {
            q = q.bind(s);
        }
        let rows = q.fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(decode).collect::<Result<Vec<_>>>()?;
        let next =
            (rows.len() > limit as usize).then(|| items.last().map(|s| (micros(s.created_at), s.id.clone()))).flatten();
        Ok(Page { items, next })
    }

    async fn replace_members(
        &self,
        id: &str,
        version: i64,
        members: &[String],
        at: DateTime<Utc>,
    ) -> Result<MembersChanged> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let was = segment_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if was.version != version {
            return Err(StoreError::Conflict(format!("segment {id:?} changed while its members were decided")));
        }
        let rows = sqlx::query("SELECT profile_id FROM segment_members WHERE segment_id = $1")
            .bind(id)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let mut current =
            rows.iter().map(|r| r.try_get::<String, _>(0).map_err(backend)).collect::<Result<Vec<_>>>()?;
        current.sort_unstable();
        let (entered, exited) = diff(&current, members);
        let d = self.dialect;
        for part in exited.chunks(ROWS) {
            let sql = format!(
                "DELETE FROM segment_members WHERE segment_id = {} AND profile_id IN ({})",
                d.param(1),
                d.params_from(1, part.len())
            );
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)).bind(id), |q, p| q.bind(p.as_str()));
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        for part in entered.chunks(ROWS) {
            let sql =
                format!("INSERT INTO segment_members (segment_id, profile_id, since) VALUES {}", d.rows(part.len(), 3));
            let q =
                part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, p| q.bind(id).bind(p.as_str()).bind(micros(at)));
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        let count = members.len() as i64;
        sqlx::query("UPDATE segments SET members = $1, evaluated_at = $2 WHERE id = $3")
            .bind(count)
            .bind(micros(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        count_hour(&mut tx, id, at, count).await?;
        tx.commit().await.map_err(backend)?;
        Ok(MembersChanged { entered, exited, members: count })
    }

    async fn segment_members(&self, id: &str, page: &PageRequest) -> Result<Page<Membership>> {
        let limit = page.limit.max(1);
        let after = page.after.as_ref().map_or("", |(_, p)| p.as_str());
        let sql = format!(
            "SELECT segment_id, profile_id, since FROM segment_members WHERE segment_id = $1 AND profile_id > $2 \
             ORDER BY profile_id LIMIT {}",
            i64::from(limit) + 1
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(id).bind(after).fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(membership).collect::<Result<Vec<_>>>()?;
        let next = (rows.len() > limit as usize).then(|| items.last().map(|m| (0, m.profile_id.clone()))).flatten();
        Ok(Page { items, next })
    }

    async fn segment_history(&self, id: &str, since: DateTime<Utc>) -> Result<Vec<(DateTime<Utc>, i64)>> {
        let rows =
            sqlx::query("SELECT hour, members FROM segment_counts WHERE segment_id = $1 AND hour >= $2 ORDER BY hour")
                .bind(id)
                .bind(micros(since).div_euclid(HOUR_MICROS))
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let hour: i64 = r.try_get(0).map_err(backend)?;
                Ok((from_micros(hour * HOUR_MICROS)?, r.try_get(1).map_err(backend)?))
            })
            .collect()
    }

    async fn stored_stages(&self) -> Result<Vec<(String, String)>> {
        self.stored_stages_impl().await
    }

    async fn write_stages(
        &self,
        changes: &[crate::StageChange],
        outbox: &[crate::NewJob],
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.write_stages_impl(changes, outbox, at).await
    }

    async fn profile_segments(&self, profile_id: &str) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT segment_id, profile_id, since FROM segment_members WHERE profile_id = $1 ORDER BY segment_id",
        )
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter().map(membership).collect()
    }
}

/// Who is in `new` and not in `old`, and who is in `old` and not in `new`
/// (both sorted).
fn diff(old: &[String], new: &[String]) -> (Vec<String>, Vec<String>) {
    let (mut entered, mut exited) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(a), Some(b)) if a == b => {
                i += 1;
                j += 1;
            }
            (Some(a), Some(b)) if a < b => {
                exited.push(a.clone());
                i += 1;
            }
            (Some(a), None) => {
                exited.push(a.clone());
                i += 1;
            }
            (_, Some(b)) => {
                entered.push(b.clone());
                j += 1;
            }
            (None, None) => unreachable!("the loop ends first"),
        }
    }
    (entered, exited)
}
