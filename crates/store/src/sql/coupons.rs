//! Unique coupon codes: issuing them within a template's limits, and
//! reading them back with whether each is used (its counter).
//!
//! Issuing takes from two counters like a checkout does (the template's
//! `issued`, and the profile's `held`), in the checkout transaction, so a
//! claim race never issues past either limit.

use super::SqlDialect as _;
use super::checkouts::{take, untake};
use super::promotions::Tx;
use super::{SqlStore, backend, from_micros, micros};
use crate::promotions::{IssueLimits, Issued, NewCoupon, StoredCoupon, held_key, issued_key};
use crate::{Page, PageRequest, Result};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// The coupon columns and tables, with `used` from the code's counter
/// (`crate::promotions::coupon_key`).
const FROM: &str = "c.code, c.promotion, c.profile_id, c.channel, c.issued_at, c.valid_from, c.valid_until, \
     COALESCE(k.used, 0) AS used FROM coupons c \
     LEFT JOIN promotion_counters k ON k.key = c.promotion || '|code|total|coupon:' || c.code";

fn decode(row: &AnyRow) -> Result<StoredCoupon> {
    let time = |name: &str| -> Result<Option<DateTime<Utc>>> {
        row.try_get::<Option<i64>, _>(name).map_err(backend)?.map(from_micros).transpose()
    };
    Ok(StoredCoupon {
        code: row.try_get("code").map_err(backend)?,
        promotion: row.try_get("promotion").map_err(backend)?,
        profile_id: row.try_get("profile_id").map_err(backend)?,
        channel: row.try_get("channel").map_err(backend)?,
        issued_at: from_micros(row.try_get("issued_at").map_err(backend)?)?,
        valid_from: time("valid_from")?,
        valid_until: time("valid_until")?,
        used: row.try_get::<i64, _>("used").map_err(backend)? > 0,
    })
}

async fn delete_coupon(tx: &mut Tx, code: &str) -> Result<()> {
    sqlx::query("DELETE FROM coupons WHERE code = $1").bind(code).execute(&mut **tx).await.map_err(backend)?;
    Ok(())
}

impl SqlStore {
    async fn coupon_by_issue_key(&self, tx: &mut Tx, promotion: &str, key: &str) -> Result<Option<StoredCoupon>> {
        let sql = format!("SELECT {FROM} WHERE c.promotion = $1 AND c.issue_key = $2");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(promotion)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }

    /// Issues one code inside the open transaction.
    async fn issue_one(
        &self,
        tx: &mut Tx,
        promotion: &str,
        channel: &str,
        limits: IssueLimits,
        c: &NewCoupon,
        at: DateTime<Utc>,
    ) -> Result<Issued> {
        if let Some(existing) = self.coupon_by_issue_key(tx, promotion, &c.issue_key).await? {
            return Ok(Issued::Existing(existing));
        }
        let inserted = sqlx::query(
            "INSERT INTO coupons (code, promotion, profile_id, channel, issue_key, issued_at, valid_from, valid_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(&c.code)
        .bind(promotion)
        .bind(&c.profile_id)
        .bind(channel)
        .bind(&c.issue_key)
        .bind(micros(at))
        .bind(c.valid_from.map(micros))
        .bind(c.valid_until.map(micros))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
        if inserted.rows_affected() == 0 {
            return Ok(Issued::CodeTaken);
        }
        let issued = issued_key(promotion);
        if !take(tx, &issued, promotion, 1, limits.quantity).await? {
            delete_coupon(tx, &c.code).await?;
            return Ok(Issued::QuantityReached { quantity: limits.quantity });
        }
        if let Some(profile) = &c.profile_id {
            let held = held_key(promotion, profile);
            if !take(tx, &held, promotion, 1, limits.per_profile).await? {
                untake(tx, &issued, 1).await?;
                delete_coupon(tx, &c.code).await?;
                return Ok(Issued::ProfileLimitReached { held: limits.per_profile });
            }
        }
        Ok(Issued::New(StoredCoupon {
            code: c.code.clone(),
            promotion: promotion.to_string(),
            profile_id: c.profile_id.clone(),
            channel: channel.to_string(),
            issued_at: at,
            valid_from: c.valid_from,
            valid_until: c.valid_until,
            used: false,
        }))
    }

    pub(crate) async fn issue_coupons_impl(
        &self,
        promotion: &str,
        channel: &str,
        limits: IssueLimits,
        coupons: &[NewCoupon],
        at: DateTime<Utc>,
    ) -> Result<Vec<Issued>> {
        // the counters issuing takes from, as a checkout would lock them
        let mut names = vec![format!("counter:{}", crate::promotions::issued_key(promotion))];
        names.extend(
            coupons
                .iter()
                .filter_map(|c| c.profile_id.as_ref())
                .map(|p| format!("counter:{}", crate::promotions::held_key(promotion, p))),
        );
        let (_write, mut tx) = self.locked_tx(Some(names)).await?;
        let mut out = Vec::with_capacity(coupons.len());
        for c in coupons {
            out.push(self.issue_one(&mut tx, promotion, channel, limits, c, at).await?);
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    pub(crate) async fn coupons_impl(&self, codes: &[String]) -> Result<Vec<StoredCoupon>> {
        let mut out = Vec::new();
        for part in codes.chunks(200) {
            let sql = format!(
                "SELECT {} WHERE c.code IN ({}) ORDER BY c.code",
                FROM,
                self.dialect.params_from(0, part.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for c in part {
                q = q.bind(c);
            }
            for row in q.fetch_all(&self.shop_pool).await.map_err(backend)? {
                out.push(decode(&row)?);
            }
        }
        Ok(out)
    }

    pub(crate) async fn profile_coupons_impl(&self, profile_id: &str) -> Result<Vec<StoredCoupon>> {
        let sql = format!(
            "SELECT {} WHERE c.profile_id = $1 \
             OR c.profile_id IN (SELECT merged_id FROM merges WHERE survivor_id = $2) \
             ORDER BY c.issued_at DESC, c.code LIMIT 1000",
            FROM
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(profile_id)
            .bind(profile_id)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        rows.iter().map(decode).collect()
    }

    pub(crate) async fn promotion_coupons_impl(
        &self,
        promotion: &str,
        page: &PageRequest,
    ) -> Result<Page<StoredCoupon>> {
        let limit = page.limit.clamp(1, 1000);
        let (at, code) = page.after.clone().unwrap_or((i64::MIN, String::new()));
        let sql = format!(
            "SELECT {} WHERE c.promotion = $1 AND (c.issued_at > $2 OR (c.issued_at = $3 AND c.code > $4)) \
             ORDER BY c.issued_at, c.code LIMIT {}",
            FROM,
            limit + 1
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(promotion)
            .bind(at)
            .bind(at)
            .bind(code)
            .fetch_all(&self.shop_pool)
            .await
            .map_err(backend)?;
        let mut items = rows.iter().map(decode).collect::<Result<Vec<_>>>()?;
        let next = (items.len() > limit as usize).then(|| {
            items.truncate(limit as usize);
            items.last().map(|c| (micros(c.issued_at), c.code.clone()))
        });
        Ok(Page { items, next: next.flatten() })
    }

    pub(crate) async fn signups_after_impl(&self, after: i64, limit: u32) -> Result<Vec<(i64, String)>> {
        let sql = format!(
            "SELECT seq, profile_id FROM events WHERE seq > $1 AND kind = 'track' AND name = 'Signed Up' \
             ORDER BY seq LIMIT {}",
            limit.clamp(1, 10_000)
        );
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(after).fetch_all(&self.shop_pool).await.map_err(backend)?;
        rows.iter()
            .map(|r| Ok((r.try_get("seq").map_err(backend)?, r.try_get("profile_id").map_err(backend)?)))
            .collect()
    }

    pub(crate) async fn follower_offset_impl(&self, name: &str) -> Result<i64> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM processor_offsets WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.shop_pool)
            .await
            .map_err(backend)?;
        Ok(seq.unwrap_or(0))
    }

    pub(crate) async fn set_follower_offset_impl(&self, name: &str, seq: i64) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO processor_offsets (name, seq) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET seq = CASE WHEN excluded.seq > processor_offsets.seq \
             THEN excluded.seq ELSE processor_offsets.seq END",
        )
        .bind(name)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }
}
