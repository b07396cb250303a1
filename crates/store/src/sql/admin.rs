//! API keys and the audit log, and the `Store` trait wiring.

use super::catalog::audit_entry;
use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{
    ApiKey, AuditEntry, EventLog, KeyKind, NewAuditEntry, Overview, Page, PageRequest, ProcessTx, Product,
    ProductQuery, Profile, ProfileQuery, Result, Saved, Store, StoreError, StoredEvent, StoredProduct,
};
use async_trait::async_trait;
use beacon_core::access::Role;
use beacon_core::trust::Source;
use beacon_core::{Identity, ProfileId};
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

const KEY_COLUMNS: &str = "id, name, kind, role, source, hash, prefix, created_at, revoked_at";

fn key_from_row(row: &AnyRow) -> Result<ApiKey> {
    let kind: String = row.try_get("kind").map_err(backend)?;
    let role: Option<String> = row.try_get("role").map_err(backend)?;
    let source: Option<String> = row.try_get("source").map_err(backend)?;
    let kind = match (kind.as_str(), role.as_deref().and_then(Role::parse)) {
        // (keys from before sources were told apart are client keys: the safe side)
        ("write", _) => KeyKind::Write(source.as_deref().and_then(Source::parse).unwrap_or_default()),
        ("secret", Some(role)) => KeyKind::Secret(role),
        _ => {
            return Err(StoreError::Corrupt(format!("key kind {kind:?} role {role:?}")));
        }
    };
    Ok(ApiKey {
        id: row.try_get("id").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        kind,
        hash: row.try_get("hash").map_err(backend)?,
        prefix: row.try_get("prefix").map_err(backend)?,
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at").map_err(backend)?.map(from_micros).transpose()?,
    })
}

fn json_text(v: &Option<serde_json::Value>) -> Option<String> {
    v.as_ref().map(|v| v.to_string())
}

fn parse_json(s: Option<String>) -> Result<Option<serde_json::Value>> {
    s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(e.to_string()))).transpose()
}

#[async_trait]
impl Store for SqlStore {
    fn log(&self) -> &dyn EventLog {
        &self.log
    }

    fn profiles(&self) -> &dyn crate::ProfileStore {
        self
    }

    fn orders(&self) -> &dyn crate::OrderStore {
        self
    }

    fn catalog(&self) -> &dyn crate::CatalogStore {
        self
    }

    fn keys(&self) -> &dyn crate::KeyStore {
        self
    }

    fn audit(&self) -> &dyn crate::AuditStore {
        self
    }

    fn promotions(&self) -> &dyn crate::PromotionStore {
        self
    }

    fn loyalty(&self) -> &dyn crate::LoyaltyStore {
        self
    }

    fn jobs(&self) -> &dyn crate::JobStore {
        self
    }

    fn users(&self) -> &dyn crate::UserStore {
        self
    }

    fn imports(&self) -> &dyn crate::ImportStore {
        self
    }

    fn segments(&self) -> &dyn crate::SegmentStore {
        self
    }

    fn segment_facts(&self) -> &dyn crate::SegmentFacts {
        self
    }

    fn tags(&self) -> &dyn crate::TagStore {
        self
    }

    fn dedupe_key(&self, source_id: &str, message_id: &str) -> crate::DedupeKey {
        super::events::dedupe_key(&self.pii, source_id, message_id)
    }

    fn open_traits(&self, state: &mut crate::ProfileState) -> Result<()> {
        super::process_read::open_traits(&self.pii, state)
    }

    fn identity_key(&self, identity: &Identity) -> String {
        let kind = identity.kind.as_str();
        if self.pii.seals_kind(&identity.kind) {
            let hash = self.pii.lookup_key(kind, &identity.value);
            let hex: String = hash.iter().take(16).map(|b| format!("{b:02x}")).collect();
            format!("{kind}#{hex}")
        } else {
            format!("{kind}:{}", identity.value)
        }
    }

    async fn begin_processing(&self, processor: &str) -> Result<Box<dyn ProcessTx>> {
        Ok(Box::new(self.begin_process_tx(processor).await?))
    }

    async fn process_reader(&self) -> Result<Box<dyn crate::ProcessRead>> {
        Ok(Box::new(SqlStore::process_reader(self).await?))
    }

    async fn processed_offset(&self, processor: &str) -> Result<i64> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        super::process_read::offset(&mut conn, processor).await
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }

    async fn log_home(&self) -> Result<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE key = 'event_log_home'")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn claim_log_home(&self, home: &str) -> Result<String> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query("INSERT INTO meta (key, value) VALUES ('event_log_home', $1) ON CONFLICT (key) DO NOTHING")
            .bind(home)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'event_log_home'")
            .fetch_one(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(stored)
    }
}

#[async_trait]
impl crate::ProfileStore for SqlStore {
    async fn find_profiles(&self, identity: &Identity) -> Result<Vec<Profile>> {
        self.find_profiles_impl(identity).await
    }

    async fn get_profile(&self, id: ProfileId) -> Result<Option<Profile>> {
        self.get_profile_impl(id).await
    }

    async fn list_profiles(&self, query: &ProfileQuery) -> Result<Page<Profile>> {
        self.list_profiles_impl(query).await
    }

    async fn profile_events(&self, id: ProfileId, page: &PageRequest) -> Result<Page<StoredEvent>> {
        self.profile_events_impl(id, page).await
    }

    async fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        self.events_after_impl(seq, limit).await
    }

    async fn overview(&self) -> Result<Overview> {
        self.overview_impl().await
    }
}

#[async_trait]
impl crate::CatalogStore for SqlStore {
    async fn save_products(&self, products: &[Product], actor: &str, at: DateTime<Utc>) -> Result<Vec<Saved>> {
        self.save_products_impl(products, actor, at).await
    }

    async fn catalog_stamp(&self) -> Result<String> {
        self.catalog_stamp_impl().await
    }

    async fn get_products(&self, ids_or_skus: &[String]) -> Result<Vec<StoredProduct>> {
        self.get_products_impl(ids_or_skus).await
    }

    async fn get_product(&self, product_id: &str) -> Result<Option<StoredProduct>> {
        self.get_product_impl(product_id).await
    }

    async fn list_products(&self, query: &ProductQuery) -> Result<Page<StoredProduct>> {
        self.list_products_impl(query).await
    }

    async fn delete_product(&self, product_id: &str, actor: &str, at: DateTime<Utc>) -> Result<bool> {
        self.delete_product_impl(product_id, actor, at).await
    }

    async fn categories(&self) -> Result<Vec<(Vec<String>, i64)>> {
        self.categories_impl().await
    }

    async fn product_events(&self, product: &Product, page: &PageRequest) -> Result<Page<StoredEvent>> {
        self.product_events_impl(product, page).await
    }
}

#[async_trait]
impl crate::KeyStore for SqlStore {
    async fn insert_key(&self, key: &ApiKey, actor: &str) -> Result<()> {
        let (kind, role, source) = match key.kind {
            KeyKind::Write(source) => ("write", None, Some(source.as_str())),
            KeyKind::Secret(role) => ("secret", Some(role.as_str()), None),
        };
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO api_keys (id, name, kind, role, source, hash, prefix, created_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(key.id.as_str())
        .bind(key.name.as_str())
        .bind(kind)
        .bind(role)
        .bind(source)
        .bind(key.hash.clone())
        .bind(key.prefix.as_str())
        .bind(micros(key.created_at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        let target = format!("key:{}", key.id);
        audit_entry(&mut tx, key.created_at, actor, "key.create", &target, None, Some(key.to_json())).await?;
        tx.commit().await.map_err(backend)
    }

    async fn find_key_by_hash(&self, hash: &[u8]) -> Result<Option<ApiKey>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE hash = $1")))
            .bind(hash.to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(key_from_row).transpose()
    }

    async fn list_keys(&self) -> Result<Vec<ApiKey>> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id")))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(key_from_row)
            .collect()
    }

    async fn revoke_key(&self, id: &str, at: DateTime<Utc>, actor: &str) -> Result<ApiKey> {
        let select = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = $1");
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        // the active admin keys, locked: two admins revoking each other at
        // once cannot leave none
        let admins = format!(
            "SELECT id FROM api_keys WHERE kind = 'secret' AND role = 'admin' AND revoked_at IS NULL {}",
            self.dialect.for_update()
        );
        let admins: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(admins)).fetch_all(&mut *tx).await.map_err(backend)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        let before = key_from_row(&row)?;
        if before.revoked_at.is_some() {
            // revoking it again changes nothing, and records nothing
            return Ok(before);
        }
        if admins == [id] {
            return Err(StoreError::Conflict(
                "the last active admin key cannot be revoked; create another first".into(),
            ));
        }
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(select)).bind(id).fetch_one(&mut *tx).await.map_err(backend)?;
        let after = key_from_row(&row)?;
        let target = format!("key:{id}");
        audit_entry(&mut tx, at, actor, "key.revoke", &target, Some(before.to_json()), Some(after.to_json())).await?;
        tx.commit().await.map_err(backend)?;
        Ok(after)
    }

    async fn count_keys(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM api_keys").fetch_one(&self.pool).await.map_err(backend)?;
        row.try_get(0).map_err(backend)
    }
}

#[async_trait]
impl crate::AuditStore for SqlStore {
    async fn append_audit(&self, e: &NewAuditEntry) -> Result<()> {
        sqlx::query("INSERT INTO audit_log (at, actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(micros(e.at))
            .bind(e.actor.as_str())
            .bind(e.action.as_str())
            .bind(e.target.as_str())
            .bind(json_text(&e.before))
            .bind(json_text(&e.after))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn list_audit(&self, target: Option<&str>, page: &PageRequest) -> Result<Page<AuditEntry>> {
        let before = page.after.as_ref().map_or(i64::MAX, |(id, _)| *id);
        let limit = page.limit.max(1);
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, before, after FROM audit_log WHERE id < $1 \
             AND ($2 = '' OR target = $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(before)
        .bind(target.unwrap_or(""))
        .bind(target.unwrap_or(""))
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut items = Vec::new();
        for row in rows.iter().take(limit as usize) {
            items.push(AuditEntry {
                id: row.try_get("id").map_err(backend)?,
                entry: NewAuditEntry {
                    at: from_micros(row.try_get("at").map_err(backend)?)?,
                    actor: row.try_get("actor").map_err(backend)?,
                    action: row.try_get("action").map_err(backend)?,
                    target: row.try_get("target").map_err(backend)?,
                    before: parse_json(row.try_get("before").map_err(backend)?)?,
                    after: parse_json(row.try_get("after").map_err(backend)?)?,
                },
            });
        }
        let next = (rows.len() > limit as usize).then(|| items.last().map(|e| (e.id, String::new()))).flatten();
        Ok(Page { items, next })
    }
}
