//! Group-buy teams: compare-and-set on a version, inside a checkout's
//! transaction (a member joins with their order, or not at all) or alone
//! (expiry, a member leaving).

use super::promotions::{Tx, json};
use super::{SqlStore, backend, from_micros, micros};
use crate::{Result, StoredTeam, TeamWrite};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

const COLUMNS: &str = "id, promotion, status, expires_at, state, version";

fn decode(row: &AnyRow) -> Result<StoredTeam> {
    Ok(StoredTeam {
        id: row.try_get("id").map_err(backend)?,
        promotion: row.try_get("promotion").map_err(backend)?,
        status: row.try_get("status").map_err(backend)?,
        expires_at: from_micros(row.try_get("expires_at").map_err(backend)?)?,
        state: json(&row.try_get::<String, _>("state").map_err(backend)?)?,
        version: row.try_get("version").map_err(backend)?,
    })
}

/// Writes a team in the open transaction; false if it was created or
/// changed by someone else in the meantime.
pub(super) async fn write_team(tx: &mut Tx, w: &TeamWrite) -> Result<bool> {
    let t = &w.team;
    let done = match w.expected_version {
        None => sqlx::query(
            "INSERT INTO group_teams (id, promotion, status, expires_at, state, version, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(&t.id)
        .bind(&t.promotion)
        .bind(&t.status)
        .bind(micros(t.expires_at))
        .bind(t.state.to_string())
        .bind(t.version)
        .bind(micros(Utc::now()))
        .execute(&mut **tx)
        .await
        .map_err(backend)?,
        Some(v) => sqlx::query(
            "UPDATE group_teams SET status = $1, expires_at = $2, state = $3, version = $4, updated_at = $5 \
             WHERE id = $6 AND version = $7",
        )
        .bind(&t.status)
        .bind(micros(t.expires_at))
        .bind(t.state.to_string())
        .bind(t.version)
        .bind(micros(Utc::now()))
        .bind(&t.id)
        .bind(v)
        .execute(&mut **tx)
        .await
        .map_err(backend)?,
    };
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    // the members index follows the team's state (a member may have left)
    sqlx::query("DELETE FROM group_team_members WHERE team_id = $1")
        .bind(&t.id)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    let members = t.state["members"].as_array().into_iter().flatten();
    let mut buyers: Vec<&str> = members.filter_map(|m| m["buyer"].as_str()).collect();
    buyers.sort_unstable();
    buyers.dedup();
    for buyer in buyers {
        sqlx::query("INSERT INTO group_team_members (buyer, team_id) VALUES ($1, $2)")
            .bind(buyer)
            .bind(&t.id)
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(true)
}

impl SqlStore {
    pub(crate) async fn get_team_impl(&self, id: &str) -> Result<Option<StoredTeam>> {
        let sql = format!("SELECT {COLUMNS} FROM group_teams WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.shop_pool).await.map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }

    pub(crate) async fn update_team_impl(&self, team: &StoredTeam, expected_version: i64) -> Result<bool> {
        // the team's own lock, as a checkout that writes it takes
        let (_write, mut tx) = self.locked_tx(Some(vec![format!("team:{}", team.id)])).await?;
        let w = TeamWrite { team: team.clone(), expected_version: Some(expected_version) };
        let done = write_team(&mut tx, &w).await?;
        tx.commit().await.map_err(backend)?;
        Ok(done)
    }

    pub(crate) async fn teams_impl(&self, promotion: &str, status: &str, limit: u32) -> Result<Vec<StoredTeam>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM group_teams WHERE promotion = $1 AND status = $2 ORDER BY expires_at, id LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(promotion)
            .bind(status)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    /// The teams `profile_id` (or a profile merged into it, or a buyer
    /// named by one of `identity_keys`) is a member of, newest first.
    pub(crate) async fn member_teams_impl(
        &self,
        profile_id: &str,
        identity_keys: &[String],
        limit: u32,
    ) -> Result<Vec<StoredTeam>> {
        let columns = COLUMNS.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
        let keys: Vec<String> = (3..3 + identity_keys.len()).map(|i| format!("${i}")).collect();
        let by_key = if keys.is_empty() { String::new() } else { format!(" OR buyer IN ({})", keys.join(", ")) };
        let sql = format!(
            "SELECT {columns} FROM group_teams t WHERE t.id IN (SELECT team_id FROM group_team_members \
             WHERE buyer = $1 OR buyer IN (SELECT merged_id FROM merges WHERE survivor_id = $2){by_key}) \
             ORDER BY t.expires_at DESC, t.id LIMIT {}",
            limit.clamp(1, 1000)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(profile_id).bind(profile_id);
        for k in identity_keys {
            q = q.bind(k.as_str());
        }
        let rows = q.fetch_all(&self.shop_pool).await.map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    pub(crate) async fn expired_teams_impl(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<StoredTeam>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM group_teams WHERE (status = 'open' AND expires_at <= $1) OR status = 'refunding' \
             ORDER BY expires_at, id LIMIT {}",
            limit.clamp(1, 1000)
        );
        let rows =
            sqlx::query(AssertSqlSafe(sql)).bind(micros(now)).fetch_all(&self.shop_pool).await.map_err(backend)?;
        rows.iter().map(decode).collect()
    }
}
