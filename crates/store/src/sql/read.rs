//! Profile reads: lookup by identity, by id, lists and timelines.

use super::SqlDialect as _;
use super::codec::{decode_identity, decode_reason, parse_id};
use super::{SqlStore, backend, from_micros, micros};
use crate::{MergeRecord, Page, PageRequest, Profile, ProfileQuery, Result, StoreError, StoredEvent};
use beacon_core::{Identity, ProfileId};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// A profile's columns, selected `FROM` [`PROFILES`].
const PROFILE_COLUMNS: &str = "p.id AS id, p.traits AS traits, c.first_seen AS first_seen, \
    c.last_seen AS last_seen, c.event_count AS event_count, p.orders AS orders, p.created_at AS created_at";
/// Live profiles with their counters (a merged profile has none).
const PROFILES: &str = "profiles p JOIN profile_counters c ON c.id = p.id";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl SqlStore {
    async fn assemble(&self, row: &AnyRow) -> Result<Profile> {
        let id: String = row.try_get("id").map_err(backend)?;
        let traits: String = row.try_get("traits").map_err(backend)?;
        let traits = self.pii.open_json(&traits).map_err(corrupt)?;
        let rows = sqlx::query(
            "SELECT kind, value, value_enc, verified FROM identities WHERE profile_id = $1 ORDER BY first_seen, kind",
        )
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let (mut identities, mut unverified) = (Vec::with_capacity(rows.len()), Vec::new());
        for r in rows {
            let identity = decode_identity(
                &self.pii,
                &r.try_get::<String, _>(0).map_err(backend)?,
                r.try_get(1).map_err(backend)?,
                r.try_get(2).map_err(backend)?,
            )?;
            if r.try_get::<i64, _>(3).map_err(backend)? == 0 {
                unverified.push(identity.clone());
            }
            identities.push(identity);
        }
        let merges =
            sqlx::query("SELECT merged_id, at, reason, message_id FROM merges WHERE survivor_id = $1 ORDER BY at")
                .bind(id.as_str())
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?
                .into_iter()
                .map(|r| {
                    let reason: String = r.try_get(2).map_err(backend)?;
                    Ok(MergeRecord {
                        merged_id: parse_id(&r.try_get::<String, _>(0).map_err(backend)?)?,
                        at: from_micros(r.try_get(1).map_err(backend)?)?,
                        reason: decode_reason(&self.pii, &reason)?,
                        message_id: r.try_get(3).map_err(backend)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        Ok(Profile {
            id: parse_id(&id)?,
            identities,
            unverified,
            traits: serde_json::from_str(&traits).map_err(corrupt)?,
            first_seen: from_micros(row.try_get("first_seen").map_err(backend)?)?,
            last_seen: from_micros(row.try_get("last_seen").map_err(backend)?)?,
            event_count: row.try_get("event_count").map_err(backend)?,
            orders: serde_json::from_str(&row.try_get::<String, _>("orders").map_err(backend)?).map_err(corrupt)?,
            merges,
        })
    }

    pub(crate) async fn find_profiles_impl(&self, identity: &Identity) -> Result<Vec<Profile>> {
        let lookup = self.pii.lookup_key(identity.kind.as_str(), &identity.value);
        let rows = match self.resident.as_ref().map(|r| &r.identities) {
            // the embedded store knows the holders from its index in memory
            // (super::identity_index)
            Some(index) => {
                let mut conn = self.pool.acquire().await.map_err(backend)?;
                let ids = index.holders(&mut conn, &[lookup.as_slice()], false).await?.concat();
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = format!(
                    "SELECT {PROFILE_COLUMNS} FROM {PROFILES} WHERE p.merged_into IS NULL AND p.id IN ({}) \
                     ORDER BY p.created_at, p.id",
                    self.dialect.params_from(0, ids.len())
                );
                let q = sqlx::query(AssertSqlSafe(sql));
                ids.iter().fold(q, |q, id| q.bind(id.to_string())).fetch_all(&mut *conn).await.map_err(backend)?
            }
            None => sqlx::query(AssertSqlSafe(format!(
                "SELECT {PROFILE_COLUMNS} FROM {PROFILES} WHERE p.merged_into IS NULL AND p.id IN \
                 (SELECT profile_id FROM identities WHERE kind = $1 AND lookup = $2) ORDER BY p.created_at, p.id"
            )))
            .bind(identity.kind.as_str())
            .bind(lookup.as_slice())
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?,
        };
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.assemble(row).await?);
        }
        Ok(out)
    }

    /// Follows `merged_into` (always one hop: merges re-point old ids).
    pub(crate) async fn live_id(&self, id: ProfileId) -> Result<Option<String>> {
        let row = sqlx::query("SELECT COALESCE(merged_into, id) FROM profiles WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.map(|r| r.try_get::<String, _>(0).map_err(backend)).transpose()
    }

    pub(crate) async fn get_profile_impl(&self, id: ProfileId) -> Result<Option<Profile>> {
        let Some(live) = self.live_id(id).await? else {
            return Ok(None);
        };
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {PROFILE_COLUMNS} FROM {PROFILES} WHERE p.id = $1")))
            .bind(live)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        match row {
            Some(row) => Ok(Some(self.assemble(&row).await?)),
            None => Ok(None),
        }
    }

    pub(crate) async fn list_profiles_impl(&self, q: &ProfileQuery) -> Result<Page<Profile>> {
        let mut sql = format!("SELECT {PROFILE_COLUMNS} FROM {PROFILES} WHERE p.merged_into IS NULL");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if q.page.after.is_some() {
            let (a, b, c) = (next(), next(), next());
            sql.push_str(&format!(" AND (p.created_at < {a} OR (p.created_at = {b} AND p.id < {c}))"));
        }
        if q.seen_after.is_some() {
            sql.push_str(&format!(" AND c.last_seen >= {}", next()));
        }
        if q.seen_before.is_some() {
            sql.push_str(&format!(" AND c.last_seen < {}", next()));
        }
        if q.min_events.is_some() {
            sql.push_str(&format!(" AND c.event_count >= {}", next()));
        }
        if q.has_trait.is_some() {
            let p = next();
            sql.push_str(&format!(" AND {}", self.dialect.has_key("p.traits", &p)));
        }
        if q.tag.is_some() {
            sql.push_str(&format!(" AND p.id IN (SELECT profile_id FROM profile_tags WHERE tag = {})", next()));
        }
        sql.push_str(&format!(" ORDER BY p.created_at DESC, p.id DESC LIMIT {}", next()));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some((at, id)) = &q.page.after {
            query = query.bind(*at).bind(*at).bind(id.clone());
        }
        if let Some(t) = q.seen_after {
            query = query.bind(micros(t));
        }
        if let Some(t) = q.seen_before {
            query = query.bind(micros(t));
        }
        if let Some(m) = q.min_events {
            query = query.bind(m);
        }
        if let Some(t) = &q.has_trait {
            query = query.bind(t.clone());
        }
        if let Some(t) = &q.tag {
            query = query.bind(t.clone());
        }
        let limit = q.page.limit.max(1);
        let rows = query.bind(i64::from(limit) + 1).fetch_all(&self.pool).await.map_err(backend)?;
        let mut items = Vec::with_capacity(rows.len());
        let mut next_pos = None;
        for (i, row) in rows.iter().enumerate() {
            if i == limit as usize {
                let last = &rows[i - 1];
                next_pos = Some((
                    last.try_get::<i64, _>("created_at").map_err(backend)?,
                    last.try_get::<String, _>("id").map_err(backend)?,
                ));
                break;
            }
            items.push(self.assemble(row).await?);
        }
        Ok(Page { items, next: next_pos })
    }

    pub(crate) async fn profile_events_impl(&self, id: ProfileId, page: &PageRequest) -> Result<Page<StoredEvent>> {
        let Some(live) = self.live_id(id).await? else {
            return Err(StoreError::NotFound);
        };
        self.timeline_page(super::events::Timeline::Profile, &[live], page).await
    }

    pub(crate) async fn product_events_impl(
        &self,
        p: &crate::Product,
        page: &PageRequest,
    ) -> Result<Page<StoredEvent>> {
        let sku = p.sku.clone().unwrap_or_else(|| p.product_id.clone());
        let mut keys = vec![p.product_id.clone()];
        if sku != p.product_id {
            keys.push(sku);
        }
        self.timeline_page(super::events::Timeline::Product, &keys, page).await
    }

    pub(crate) async fn events_after_impl(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        let sql = format!("SELECT {} FROM events WHERE seq > $1 ORDER BY seq LIMIT $2", super::events::COLUMNS);
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(after)
            .bind(i64::from(limit.max(1)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        self.events_from_rows(&rows).await
    }
}
