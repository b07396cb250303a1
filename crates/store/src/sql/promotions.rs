//! Promotions and limit counters (checkouts are in `checkouts.rs`).

use super::SqlDialect as _;
use super::catalog::audit_entry;
use super::{SqlStore, backend, from_micros, micros};
use crate::promotions::{
    Checkout, CheckoutOutcome, CounterReturn, IssueLimits, Issued, NewCoupon, PromotionStore, StoredCoupon,
    StoredPromotion,
};
use crate::{Page, PageRequest, PendingReturn, Result, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

const COLUMNS: &str = "id, status, spec, version, created_at, updated_at";
pub(super) const CHECKOUT_COLUMNS: &str =
    "idempotency_key, order_id, request_hash, profile_id, takes, result, created_at";

pub(super) type Tx = sqlx::Transaction<'static, sqlx::Any>;

pub(super) fn json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode(row: &AnyRow) -> Result<StoredPromotion> {
    Ok(StoredPromotion {
        id: row.try_get("id").map_err(backend)?,
        status: row.try_get("status").map_err(backend)?,
        spec: json(&row.try_get::<String, _>("spec").map_err(backend)?)?,
        version: row.try_get("version").map_err(backend)?,
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(backend)?)?,
    })
}

/// A checkout's record as stored: its emails and phones sealed.
pub(super) fn record_text(pii: &crate::PiiCipher, record: &crate::CheckoutRecord) -> Result<String> {
    pii.seal_json(&record.to_text()).map(|t| t.into_owned()).map_err(|e| StoreError::Backend(e.to_string()))
}

/// A stored record of any version, opened.
pub(super) fn parse_record(pii: &crate::PiiCipher, text: &str) -> Result<crate::CheckoutRecord> {
    let text = pii.open_json(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    crate::CheckoutRecord::parse(&text).map_err(StoreError::Corrupt)
}

pub(super) fn decode_checkout(row: &AnyRow, pii: &crate::PiiCipher) -> Result<Checkout> {
    Ok(Checkout {
        idempotency_key: row.try_get("idempotency_key").map_err(backend)?,
        order_id: row.try_get("order_id").map_err(backend)?,
        request_hash: row.try_get("request_hash").map_err(backend)?,
        profile_id: row.try_get("profile_id").map_err(backend)?,
        takes: json(&row.try_get::<String, _>("takes").map_err(backend)?)?,
        record: parse_record(pii, &row.try_get::<String, _>("result").map_err(backend)?)?,
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        team: None,
        points: Vec::new(),
    })
}

/// The fields that differ, before → after (status beside the spec's own).
fn changes(was: &StoredPromotion, status: &str, spec: &Value) -> Option<(Value, Value)> {
    let mut before = Map::new();
    let mut after = Map::new();
    if was.status != status {
        before.insert("status".into(), Value::from(was.status.clone()));
        after.insert("status".into(), Value::from(status));
    }
    let empty = Map::new();
    let (old, new) = (was.spec.as_object().unwrap_or(&empty), spec.as_object().unwrap_or(&empty));
    for key in old.keys().chain(new.keys().filter(|k| !old.contains_key(*k))) {
        if old.get(key) != new.get(key) {
            before.insert(key.clone(), old.get(key).cloned().unwrap_or(Value::Null));
            after.insert(key.clone(), new.get(key).cloned().unwrap_or(Value::Null));
        }
    }
    (!after.is_empty()).then(|| (Value::Object(before), Value::Object(after)))
}

impl SqlStore {
    async fn promotion_in(tx: &mut Tx, id: &str) -> Result<Option<StoredPromotion>> {
        let sql = format!("SELECT {COLUMNS} FROM promotions WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **tx).await.map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }
}

#[async_trait]
impl PromotionStore for SqlStore {
    async fn erase_shopper(
        &self,
        profiles: &[beacon_core::ProfileId],
        orders: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>> {
        self.erase_shopper_impl(profiles, orders).await
    }

    async fn create_promotion(
        &self,
        id: &str,
        status: &str,
        spec: &Value,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredPromotion> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        if Self::promotion_in(&mut tx, id).await?.is_some() {
            return Err(StoreError::Conflict(format!("promotion {id:?} exists")));
        }
        sqlx::query(
            "INSERT INTO promotions (id, status, spec, version, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5)",
        )
        .bind(id)
        .bind(status)
        .bind(spec.to_string())
        .bind(micros(at))
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let mut after = spec.clone();
        after["status"] = Value::from(status);
        audit_entry(&mut tx, at, actor, "promotion.create", &format!("promotion:{id}"), None, Some(after)).await?;
        tx.commit().await.map_err(backend)?;
        Ok(StoredPromotion {
            id: id.to_string(),
            status: status.to_string(),
            spec: spec.clone(),
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }

    async fn update_promotion(
        &self,
        id: &str,
        version: i64,
        status: &str,
        spec: &Value,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredPromotion> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let was = Self::promotion_in(&mut tx, id).await?.ok_or(StoreError::NotFound)?;
        if was.version != version {
            return Err(StoreError::Conflict(format!(
                "promotion {id:?} changed since version {version} (it is at {})",
                was.version
            )));
        }
        let Some((before, after)) = changes(&was, status, spec) else { return Ok(was) };
        sqlx::query("UPDATE promotions SET status = $1, spec = $2, version = $3, updated_at = $4 WHERE id = $5")
            .bind(status)
            .bind(spec.to_string())
            .bind(version + 1)
            .bind(micros(at))
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let action = if was.status != status { format!("promotion.{status}") } else { "promotion.update".into() };
        audit_entry(&mut tx, at, actor, &action, &format!("promotion:{id}"), Some(before), Some(after)).await?;
        tx.commit().await.map_err(backend)?;
        Ok(StoredPromotion { status: status.into(), spec: spec.clone(), version: version + 1, updated_at: at, ..was })
    }

    async fn get_promotion(&self, id: &str) -> Result<Option<StoredPromotion>> {
        let sql = format!("SELECT {COLUMNS} FROM promotions WHERE id = $1");
        let row = sqlx::query(AssertSqlSafe(sql)).bind(id).fetch_optional(&self.shop_pool).await.map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }

    async fn list_promotions(&self, status: Option<&str>, page: &PageRequest) -> Result<Page<StoredPromotion>> {
        let limit = page.limit.max(1);
        let after = page.after.as_ref().map_or("", |(_, id)| id.as_str());
        let filter = if status.is_some() { "AND status = $2" } else { "" };
        let sql = format!(
            "SELECT {COLUMNS} FROM promotions WHERE id > $1 {filter} ORDER BY id LIMIT {}",
            i64::from(limit) + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(after);
        if let Some(s) = status {
            q = q.bind(s);
        }
        let rows = q.fetch_all(&self.shop_pool).await.map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(decode).collect::<Result<Vec<_>>>()?;
        let next = (rows.len() > limit as usize).then(|| items.last().map(|p| (0, p.id.clone()))).flatten();
        Ok(Page { items, next })
    }

    async fn all_promotions(&self) -> Result<Vec<StoredPromotion>> {
        let sql = format!("SELECT {COLUMNS} FROM promotions ORDER BY id");
        let rows = sqlx::query(AssertSqlSafe(sql)).fetch_all(&self.shop_pool).await.map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    async fn promotions_stamp(&self) -> Result<(i64, i64)> {
        let row = sqlx::query("SELECT COUNT(*) AS n, CAST(COALESCE(SUM(version), 0) AS BIGINT) AS v FROM promotions")
            .fetch_one(&self.shop_pool)
            .await
            .map_err(backend)?;
        Ok((row.try_get("n").map_err(backend)?, row.try_get("v").map_err(backend)?))
    }

    async fn promotion_counters(&self, promotion_id: &str) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT key, used FROM promotion_counters WHERE promotion = $1 ORDER BY key")
            .bind(promotion_id)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        rows.iter().map(|r| Ok((r.try_get("key").map_err(backend)?, r.try_get("used").map_err(backend)?))).collect()
    }

    async fn counters(&self, keys: &[String]) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        for part in keys.chunks(500) {
            let sql = format!(
                "SELECT key, used FROM promotion_counters WHERE key IN ({})",
                self.dialect.params_from(0, part.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for k in part {
                q = q.bind(k);
            }
            for row in q.fetch_all(&self.shop_pool).await.map_err(backend)? {
                out.insert(row.try_get("key").map_err(backend)?, row.try_get("used").map_err(backend)?);
            }
        }
        Ok(out)
    }

    async fn commit_checkouts(&self, checkouts: &[Checkout]) -> Result<Vec<CheckoutOutcome>> {
        self.commit_checkouts_impl(checkouts).await
    }

    async fn get_checkout(&self, order_id: &str) -> Result<Option<Checkout>> {
        self.checkout_where("order_id", order_id).await
    }

    async fn checkout_by_key(&self, idempotency_key: &str) -> Result<Option<Checkout>> {
        self.checkout_where("idempotency_key", idempotency_key).await
    }

    async fn orphan_checkouts(&self, after: DateTime<Utc>, before: DateTime<Utc>, limit: u32) -> Result<Vec<Checkout>> {
        self.orphan_checkouts_impl(after, before, limit).await
    }

    async fn return_counters(&self, r: &CounterReturn) -> Result<bool> {
        self.return_counters_impl(r).await
    }

    async fn pending_returns(&self, after_seq: i64, limit: u32) -> Result<Vec<PendingReturn>> {
        self.pending_returns_impl(after_seq, limit).await
    }

    async fn counter_returns(&self, order_id: &str) -> Result<Vec<CounterReturn>> {
        self.counter_returns_impl(order_id).await
    }

    async fn issue_coupons(
        &self,
        promotion: &str,
        channel: &str,
        limits: IssueLimits,
        coupons: &[NewCoupon],
        at: DateTime<Utc>,
    ) -> Result<Vec<Issued>> {
        self.issue_coupons_impl(promotion, channel, limits, coupons, at).await
    }

    async fn coupons(&self, codes: &[String]) -> Result<Vec<StoredCoupon>> {
        self.coupons_impl(codes).await
    }

    async fn profile_coupons(&self, profile_id: &str) -> Result<Vec<StoredCoupon>> {
        self.profile_coupons_impl(profile_id).await
    }

    async fn promotion_coupons(&self, promotion: &str, page: &PageRequest) -> Result<Page<StoredCoupon>> {
        self.promotion_coupons_impl(promotion, page).await
    }

    async fn signups_after(&self, after: i64, limit: u32) -> Result<Vec<(i64, String)>> {
        self.signups_after_impl(after, limit).await
    }

    async fn follower_offset(&self, name: &str) -> Result<i64> {
        self.follower_offset_impl(name).await
    }

    async fn set_follower_offset(&self, name: &str, seq: i64) -> Result<()> {
        self.set_follower_offset_impl(name, seq).await
    }

    async fn get_team(&self, id: &str) -> Result<Option<crate::StoredTeam>> {
        self.get_team_impl(id).await
    }

    async fn update_team(&self, team: &crate::StoredTeam, expected_version: i64) -> Result<bool> {
        self.update_team_impl(team, expected_version).await
    }

    async fn teams(&self, promotion: &str, status: &str, limit: u32) -> Result<Vec<crate::StoredTeam>> {
        self.teams_impl(promotion, status, limit).await
    }

    async fn member_teams(
        &self,
        profile_id: &str,
        identity_keys: &[String],
        limit: u32,
    ) -> Result<Vec<crate::StoredTeam>> {
        self.member_teams_impl(profile_id, identity_keys, limit).await
    }

    async fn expired_teams(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<crate::StoredTeam>> {
        self.expired_teams_impl(now, limit).await
    }
}
