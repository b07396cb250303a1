//! Erasing a person (`ProcessTx::erase`): their profile and every profile
//! merged into it, identities, timeline, reviews, points and wallet go;
//! their orders stay for the books, owned by nobody ([`ERASED`]). The
//! bodies of their events in the log are overwritten by
//! [`super::log::SqlLog`]'s `erase` and their checkout records scrubbed by
//! the caller, before this transaction commits (so a crash between leaves
//! the profile in place, and erasing again finishes the job).

use super::SqlDialect as _;
use super::codec::parse_id;
use super::process::SqlProcessTx;
use super::{SqlStore, backend};
use crate::{Erasure, Result, StoreError};
use beacon_core::ProfileId;
use sqlx::{AssertSqlSafe, Row};

/// Who an erased person's orders, refunds and checkouts belong to: nobody.
pub const ERASED: ProfileId = ProfileId(uuid::Uuid::nil());

impl SqlProcessTx {
    /// Erases live profile `id`; `None` if no live profile has that id.
    pub(super) async fn erase_profile(&mut self, id: ProfileId) -> Result<Option<Erasure>> {
        let live = sqlx::query("SELECT id FROM profiles WHERE id = $1 AND merged_into IS NULL")
            .bind(id.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(backend)?;
        if live.is_none() {
            return Ok(None);
        }
        let mut profiles = vec![id];
        let merged = sqlx::query("SELECT merged_id FROM merges WHERE survivor_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?;
        for row in merged {
            profiles.push(parse_id(&row.try_get::<String, _>(0).map_err(backend)?)?);
        }
        let ids: Vec<String> = profiles.iter().map(ProfileId::to_string).collect();
        let list = self.dialect.params_from(0, ids.len());
        let strings = |sql: String| {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(id.clone());
            }
            q
        };
        // their events, from their timeline rows (the events table has no
        // index by profile: a scan of it would hold the processor up)
        let mut entries = Vec::new();
        for row in strings(format!("SELECT entries FROM timeline WHERE profile_id IN ({list})"))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?
        {
            super::events::decode_entries(&row.try_get::<Vec<u8>, _>(0).map_err(backend)?, &mut entries)?;
        }
        let mut seqs: Vec<i64> = entries.into_iter().map(|(seq, _)| seq).collect();
        seqs.sort_unstable();
        seqs.dedup();
        let mut orders = Vec::new();
        for row in strings(format!("SELECT order_id FROM orders WHERE profile_id IN ({list}) ORDER BY order_id"))
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?
        {
            orders.push(row.try_get::<String, _>(0).map_err(backend)?);
        }
        let mut removed = std::collections::BTreeMap::new();
        // the segments they were in count them no more
        strings(format!(
            "UPDATE segments SET members = members - (SELECT COUNT(*) FROM segment_members m \
             WHERE m.segment_id = segments.id AND m.profile_id IN ({list}))"
        ))
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        for table in [
            "identities",
            "timeline",
            "reviews",
            "visits",
            "profile_tags",
            "consents",
            "segment_members",
            "segment_events",
            "profile_stages",
        ] {
            let done = strings(format!("DELETE FROM {table} WHERE profile_id IN ({list})"))
                .execute(&mut *self.tx)
                .await
                .map_err(backend)?
                .rows_affected();
            removed.insert(table.to_string(), done);
        }
        let mut events = 0;
        for part in seqs.chunks(500) {
            let sql = format!("DELETE FROM events WHERE seq IN ({})", self.dialect.params_from(0, part.len()));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for seq in part {
                q = q.bind(*seq);
            }
            events += q.execute(&mut *self.tx).await.map_err(backend)?.rows_affected();
        }
        removed.insert("events".to_string(), events);
        for table in ["orders", "after_sales"] {
            let sql = format!("UPDATE {table} SET profile_id = '{ERASED}' WHERE profile_id IN ({list})");
            strings(sql).execute(&mut *self.tx).await.map_err(backend)?;
        }
        let merges = format!(
            "DELETE FROM merges WHERE survivor_id IN ({list}) OR merged_id IN ({})",
            self.dialect.params_from(ids.len(), ids.len())
        );
        let mut q = strings(merges);
        for id in &ids {
            q = q.bind(id.clone());
        }
        q.execute(&mut *self.tx).await.map_err(backend)?;
        strings(format!("DELETE FROM profile_counters WHERE id IN ({list})"))
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        strings(format!("DELETE FROM profiles WHERE id IN ({list})")).execute(&mut *self.tx).await.map_err(backend)?;
        self.add_to_counts(&[("profiles", -1), ("events", -(removed["events"] as i64))]).await?;
        self.erased.extend(profiles.iter().copied());
        Ok(Some(Erasure { profiles, seqs, orders, removed }))
    }
}

/// Keys a checkout's answer names its buyer by.
const BUYER_KEYS: [&str; 5] = ["profile_id", "user_id", "anonymous_id", "email", "phone"];

fn without_buyer(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(map) => {
            map.retain(|k, _| !BUYER_KEYS.contains(&k.as_str()));
            map.values_mut().for_each(without_buyer);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_buyer),
        _ => {}
    }
}

impl SqlStore {
    /// The shop's records of an erased person (`checkout.db` on the
    /// embedded store): wallet coupons and points lots go; the checkouts of
    /// `orders` keep their sums and lose who bought.
    pub(crate) async fn erase_shopper_impl(
        &self,
        profiles: &[ProfileId],
        orders: &[String],
    ) -> Result<std::collections::BTreeMap<String, u64>> {
        let (_write, mut tx) = self.checkout_tx().await?;
        let mut removed = std::collections::BTreeMap::new();
        for part in profiles.chunks(200) {
            for table in ["coupons", "points_lots"] {
                let sql =
                    format!("DELETE FROM {table} WHERE profile_id IN ({})", self.dialect.params_from(0, part.len()));
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for p in part {
                    q = q.bind(p.to_string());
                }
                *removed.entry(table.to_string()).or_default() +=
                    q.execute(&mut *tx).await.map_err(backend)?.rows_affected();
            }
        }
        let mut scrubbed = 0;
        for order in orders {
            let row = sqlx::query("SELECT result FROM checkouts WHERE order_id = $1")
                .bind(order.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
            let Some(row) = row else { continue };
            let mut record =
                super::promotions::parse_record(&self.pii, &row.try_get::<String, _>(0).map_err(backend)?)?;
            if let Some(o) = record.order.as_mut() {
                (o.user_id, o.anonymous_id, o.email, o.phone) = (None, None, None, None);
            }
            without_buyer(&mut record.answer);
            sqlx::query("UPDATE checkouts SET result = $1, profile_id = NULL WHERE order_id = $2")
                .bind(super::promotions::record_text(&self.pii, &record)?)
                .bind(order.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            scrubbed += 1;
        }
        removed.insert("checkouts_scrubbed".into(), scrubbed);
        tx.commit().await.map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(removed)
    }
}
