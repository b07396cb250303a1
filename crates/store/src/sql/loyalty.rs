//! The points program and points lots.

use super::catalog::audit_entry;
use super::promotions::json;
use super::{SqlStore, backend, from_micros, micros};
use crate::{LoyaltyStore, Result, StoreError, StoredEvent, StoredLot, StoredProgram};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

const LOT_COLUMNS: &str =
    "id, profile_id, source, order_id, earned, points, left_points, earned_at, vests_at, expires_at";

/// A profile and the profiles merged into it (bound as $1 and $2).
const OWNED: &str = "(profile_id = $1 OR profile_id IN (SELECT merged_id FROM merges WHERE survivor_id = $2))";

fn decode_lot(row: &AnyRow) -> Result<StoredLot> {
    Ok(StoredLot {
        id: row.try_get("id").map_err(backend)?,
        profile_id: row.try_get("profile_id").map_err(backend)?,
        source: row.try_get("source").map_err(backend)?,
        order_id: row.try_get("order_id").map_err(backend)?,
        earned: row.try_get("earned").map_err(backend)?,
        points: row.try_get("points").map_err(backend)?,
        left: row.try_get("left_points").map_err(backend)?,
        earned_at: from_micros(row.try_get("earned_at").map_err(backend)?)?,
        vests_at: from_micros(row.try_get("vests_at").map_err(backend)?)?,
        expires_at: row.try_get::<Option<i64>, _>("expires_at").map_err(backend)?.map(from_micros).transpose()?,
    })
}

/// Takes points from lots in the open transaction (a checkout's
/// redemption): a positive take only from a lot with that much left, a
/// negative one (settling a debt) only from a lot owing exactly that. False
/// if a lot moved on; what was taken before it is put back.
pub(super) async fn take_points(tx: &mut super::promotions::Tx, takes: &[(String, i64)]) -> Result<bool> {
    for (i, (lot, n)) in takes.iter().enumerate() {
        let sql = if *n >= 0 {
            "UPDATE points_lots SET left_points = left_points - $1 WHERE id = $2 AND left_points >= $3"
        } else {
            "UPDATE points_lots SET left_points = left_points - $1 WHERE id = $2 AND left_points = $3"
        };
        let done = sqlx::query(sql).bind(*n).bind(lot).bind(*n).execute(&mut **tx).await.map_err(backend)?;
        if done.rows_affected() == 0 {
            untake_points(tx, &takes[..i]).await?;
            return Ok(false);
        }
    }
    Ok(true)
}

pub(super) async fn untake_points(tx: &mut super::promotions::Tx, takes: &[(String, i64)]) -> Result<()> {
    for (lot, n) in takes {
        sqlx::query("UPDATE points_lots SET left_points = left_points + $1 WHERE id = $2")
            .bind(*n)
            .bind(lot)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl LoyaltyStore for SqlStore {
    async fn program(&self) -> Result<Option<StoredProgram>> {
        let row = sqlx::query("SELECT spec, version, updated_at FROM loyalty_program WHERE id = 'points'")
            .fetch_optional(&self.shop_pool)
            .await
            .map_err(backend)?;
        row.map(|r| {
            Ok(StoredProgram {
                spec: json(&r.try_get::<String, _>("spec").map_err(backend)?)?,
                version: r.try_get("version").map_err(backend)?,
                updated_at: from_micros(r.try_get("updated_at").map_err(backend)?)?,
            })
        })
        .transpose()
    }

    async fn put_program(
        &self,
        spec: &serde_json::Value,
        expected_version: Option<i64>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredProgram> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let was: Option<(String, i64)> =
            sqlx::query_as("SELECT spec, version FROM loyalty_program WHERE id = 'points'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        let version = match (&was, expected_version) {
            (None, None) => 1,
            (Some((_, v)), Some(e)) if *v == e => v + 1,
            _ => return Err(StoreError::Conflict("the points program changed; read it again".into())),
        };
        sqlx::query(
            "INSERT INTO loyalty_program (id, spec, version, updated_at) VALUES ('points', $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET spec = excluded.spec, version = excluded.version, updated_at = excluded.updated_at",
        )
        .bind(spec.to_string())
        .bind(version)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let before = was.map(|(s, _)| json(&s)).transpose()?;
        audit_entry(&mut tx, at, actor, "loyalty.update", "loyalty:points", before, Some(spec.clone())).await?;
        tx.commit().await.map_err(backend)?;
        Ok(StoredProgram { spec: spec.clone(), version, updated_at: at })
    }

    async fn lots(&self, profile_id: &str) -> Result<Vec<StoredLot>> {
        let sql = format!("SELECT {LOT_COLUMNS} FROM points_lots WHERE {OWNED} ORDER BY earned_at, id LIMIT 10000");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(profile_id)
            .bind(profile_id)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        rows.iter().map(decode_lot).collect()
    }

    async fn lot(&self, id: &str) -> Result<Option<StoredLot>> {
        let sql = format!("SELECT {LOT_COLUMNS} FROM points_lots WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.shop_pool).await.map_err(backend)?;
        row.as_ref().map(decode_lot).transpose()
    }

    async fn add_lot(&self, l: &StoredLot, cap: Option<(DateTime<Utc>, DateTime<Utc>, i64)>) -> Result<bool> {
        // two earnings of one shopper at once must not both pass the cap
        let (_write, mut tx) = self.locked_tx(Some(vec![format!("points-earn:{}", l.profile_id)])).await?;
        if let Some((from, to, most)) = cap {
            let sql = format!(
                "SELECT COUNT(*) FROM points_lots WHERE {OWNED} AND source = $3 AND earned_at >= $4 AND earned_at < $5"
            );
            let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
                .bind(&l.profile_id)
                .bind(&l.profile_id)
                .bind(&l.source)
                .bind(micros(from))
                .bind(micros(to))
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            if n >= most {
                return Ok(false);
            }
        }
        let done = sqlx::query(
            "INSERT INTO points_lots (id, profile_id, source, order_id, earned, points, left_points, earned_at, vests_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        )
        .bind(&l.id)
        .bind(&l.profile_id)
        .bind(&l.source)
        .bind(&l.order_id)
        .bind(l.earned)
        .bind(l.points)
        .bind(l.left)
        .bind(micros(l.earned_at))
        .bind(micros(l.vests_at))
        .bind(l.expires_at.map(micros))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn claw_back(&self, id: &str, points: i64, by: i64) -> Result<bool> {
        // the lot's lock, as a checkout spending from it takes
        let (_write, mut tx) = self.locked_tx(Some(vec![format!("lot:{id}")])).await?;
        let done = sqlx::query(
            "UPDATE points_lots SET points = points - $1, left_points = left_points - $2 WHERE id = $3 AND points = $4",
        )
        .bind(by)
        .bind(by)
        .bind(id)
        .bind(points)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(done.rows_affected() == 1)
    }

    async fn give_back_points(
        &self,
        order_id: &str,
        took: &[(String, i64)],
        due: i64,
        split: crate::Split,
        at: DateTime<Utc>,
    ) -> Result<i64> {
        // the order's give-backs one at a time, and the lots they return to
        let mut names = vec![format!("points-back:{order_id}")];
        names.extend(took.iter().map(|(lot, _)| format!("lot:{lot}")));
        let (_write, mut tx) = self.locked_tx(Some(names)).await?;
        let rows: Vec<String> = sqlx::query_scalar("SELECT takes FROM points_moves WHERE order_id = $1")
            .bind(order_id)
            .fetch_all(&mut *tx)
            .await
            .map_err(backend)?;
        let mut already = 0;
        for text in rows {
            already += json::<Vec<(String, i64)>>(&text)?.iter().map(|(_, p)| p).sum::<i64>();
        }
        if due <= already {
            return Ok(0);
        }
        let takes = split(took, already, due - already);
        let text = serde_json::to_string(&takes).map_err(|e| StoreError::Backend(e.to_string()))?;
        sqlx::query("INSERT INTO points_moves (key, order_id, takes, at) VALUES ($1, $2, $3, $4)")
            .bind(format!("points-back:{order_id}:{due}"))
            .bind(order_id)
            .bind(text)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        untake_points(&mut tx, &takes).await?;
        tx.commit().await.map_err(backend)?;
        Ok(takes.iter().map(|(_, n)| n).sum())
    }

    async fn points_given_back(&self, order_id: &str) -> Result<i64> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT takes FROM points_moves WHERE order_id = $1")
            .bind(order_id)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        let mut n = 0;
        for text in rows {
            n += json::<Vec<(String, i64)>>(&text)?.iter().map(|(_, p)| p).sum::<i64>();
        }
        Ok(n)
    }

    async fn count_lots(&self, profile_id: &str, source: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM points_lots WHERE {OWNED} AND source = $3 AND earned_at >= $4 AND earned_at < $5"
        );
        sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(profile_id)
            .bind(profile_id)
            .bind(source)
            .bind(micros(from))
            .bind(micros(to))
            .fetch_one(&self.shop_pool)
            .await
            .map_err(backend)
    }

    async fn earned(&self, profile_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64> {
        let sql = format!(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_lots WHERE {OWNED} AND points > 0 AND earned_at >= $3 AND earned_at < $4"
        );
        let n: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(profile_id)
            .bind(profile_id)
            .bind(micros(from))
            .bind(micros(to))
            .fetch_one(&self.shop_pool)
            .await
            .map_err(backend)?;
        Ok(n)
    }

    async fn leaderboard(&self, from: DateTime<Utc>, to: DateTime<Utc>, limit: u32) -> Result<Vec<(String, i64)>> {
        let sql = format!(
            "SELECT COALESCE(m.survivor_id, l.profile_id) AS who, CAST(SUM(l.points) AS BIGINT) AS earned FROM points_lots l \
             LEFT JOIN merges m ON m.merged_id = l.profile_id \
             WHERE l.points > 0 AND l.earned_at >= $1 AND l.earned_at < $2 \
             GROUP BY COALESCE(m.survivor_id, l.profile_id) ORDER BY earned DESC, who LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(micros(from))
            .bind(micros(to))
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| Ok((r.try_get("who").map_err(backend)?, r.try_get("earned").map_err(backend)?))).collect()
    }

    async fn earned_more(&self, points: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64> {
        let sql = "SELECT COUNT(*) FROM (SELECT COALESCE(m.survivor_id, l.profile_id) AS who FROM points_lots l \
             LEFT JOIN merges m ON m.merged_id = l.profile_id \
             WHERE l.points > 0 AND l.earned_at >= $1 AND l.earned_at < $2 \
             GROUP BY COALESCE(m.survivor_id, l.profile_id) HAVING SUM(l.points) > $3) t";
        sqlx::query_scalar(sql)
            .bind(micros(from))
            .bind(micros(to))
            .bind(points)
            .fetch_one(&self.shop_pool)
            .await
            .map_err(backend)
    }

    async fn named_events_after(&self, names: &[String], after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        if names.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (0..names.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "SELECT {} FROM events WHERE seq > $1 AND kind = 'track' AND name IN ({}) ORDER BY seq LIMIT {}",
            super::events::COLUMNS,
            list.join(", "),
            limit.clamp(1, 10_000)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after);
        for n in names {
            q = q.bind(n);
        }
        let rows = q.fetch_all(&self.shop_pool).await.map_err(backend)?;
        self.events_from_rows(&rows).await
    }
}
