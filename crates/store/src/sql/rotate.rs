//! Rotating the key personal data is encrypted with (`pii_ring` has the
//! keys): a new data key is kept in `meta`, sealed under the master key's
//! key-encryption key; every store loads the keys at open and again every
//! [`KEY_REFRESH`], so the nodes of a cluster (and a server beside the
//! `beacon keys rotate-pii` that made the key) know a new key before any
//! value is sealed with it. Then every stored value is sealed again under
//! it, table by table, in small conditional updates beside a running
//! server: a row the server changed meanwhile is left (what the server
//! wrote is under the new key already), and running it again finishes.

use super::{SqlStore, backend};
use crate::{PiiCipher, Result, StoreError};
use sqlx::{AnyPool, AssertSqlSafe, Row};
use std::collections::BTreeMap;
use std::time::Duration;

/// How often a store reads the data keys again.
pub const KEY_REFRESH: Duration = Duration::from_secs(1);

/// JSON columns holding sealed values: (table, key column, text column).
const JSON_COLUMNS: [(&str, &str, &str); 5] = [
    ("profiles", "id", "traits"),
    ("segment_events", "profile_id", "events"),
    ("merges", "merged_id", "reason"),
    ("outbox", "job_key", "payload"),
    ("timers", "job_key", "payload"),
];

/// Rows read per statement.
const BATCH: i64 = 500;

fn corrupt(_: crate::DecryptError) -> StoreError {
    StoreError::Corrupt("a data key in the database does not open with this master key".into())
}

/// Reads the data keys kept in `pool`'s `meta` into `pii`.
pub(super) async fn load_keys(pool: &AnyPool, pii: &PiiCipher) -> Result<()> {
    if !pii.opens() {
        return Ok(());
    }
    let rows = sqlx::query("SELECT key, value FROM meta WHERE key LIKE 'pii_data_key%'")
        .fetch_all(pool)
        .await
        .map_err(backend)?;
    let (mut keys, mut current) = (Vec::new(), 0);
    for row in rows {
        let (name, value): (String, String) = (row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?);
        if name == "pii_data_key_current" {
            current = value.parse().map_err(|_| StoreError::Corrupt(format!("pii_data_key_current {value:?}")))?;
        } else if let Some(id) = name.strip_prefix("pii_data_key.").and_then(|id| id.parse().ok()) {
            keys.push((id, value));
        }
    }
    if keys.is_empty() && current == 0 {
        return Ok(());
    }
    pii.install_data_keys(&keys, current).map_err(corrupt)
}

/// Reloads the data keys every [`KEY_REFRESH`] (a failure is logged and tried again).
pub(super) fn spawn_key_refresh(pool: AnyPool, pii: PiiCipher) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(KEY_REFRESH).await;
            if let Err(e) = load_keys(&pool, &pii).await {
                tracing::warn!("reading the data keys again: {e}");
            }
        }
    })
}

impl SqlStore {
    /// Keeps a new data key (not yet current); answers its id.
    pub async fn add_data_key(&self) -> Result<u32> {
        let sealed = self.pii.new_data_key().map_err(|_| StoreError::Unavailable("an edge node has no keys".into()))?;
        let ids = sqlx::query("SELECT key FROM meta WHERE key LIKE 'pii_data_key.%'")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let last = ids
            .iter()
            .filter_map(|r| r.try_get::<String, _>(0).ok()?.strip_prefix("pii_data_key.")?.parse::<u32>().ok())
            .max()
            .unwrap_or(0);
        let id = last + 1;
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
            .bind(format!("pii_data_key.{id}"))
            .bind(sealed)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        load_keys(&self.pool, &self.pii).await?;
        Ok(id)
    }

    /// Seals new values under data key `id` from now on (on every node
    /// within [`KEY_REFRESH`]).
    pub async fn use_data_key(&self, id: u32) -> Result<()> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ('pii_data_key_current', $1) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        load_keys(&self.pool, &self.pii).await
    }

    /// Seals every stored value again under the current data key; answers
    /// how many values moved, by table.
    pub async fn reseal_all(&self) -> Result<BTreeMap<String, u64>> {
        let mut moved = BTreeMap::new();
        for (table, key, text) in JSON_COLUMNS {
            moved.insert(table.to_string(), self.reseal_column(&self.pool, table, key, text).await?);
        }
        let checkouts = self.reseal_column(&self.checkout_pool, "checkouts", "idempotency_key", "result").await?;
        moved.insert("checkouts".into(), checkouts);
        moved.insert("identities".into(), self.reseal_identities().await? + self.seal_plain_identities().await?);
        moved.insert("event log".into(), self.log.reseal().await?);
        Ok(moved)
    }

    async fn reseal_column(&self, pool: &AnyPool, table: &str, key: &str, text: &str) -> Result<u64> {
        let (mut after, mut moved) = (String::new(), 0);
        loop {
            let sql = format!(
                "SELECT {key}, {text} FROM {table} WHERE {key} > $1 AND {text} LIKE '%bcn:pii:%' ORDER BY {key} LIMIT {BATCH}"
            );
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(&after).fetch_all(pool).await.map_err(backend)?;
            let Some(last) = rows.last() else { return Ok(moved) };
            after = last.try_get(0).map_err(backend)?;
            for row in &rows {
                let (k, old): (String, String) = (row.try_get(0).map_err(backend)?, row.try_get(1).map_err(backend)?);
                let Ok((new, n)) = self.pii.reseal_json(&old) else { continue };
                if n == 0 {
                    continue;
                }
                let sql = format!("UPDATE {table} SET {text} = $1 WHERE {key} = $2 AND {text} = $3");
                let q = sqlx::query(AssertSqlSafe(sql)).bind(new.as_ref()).bind(&k).bind(&old);
                if q.execute(pool).await.map_err(backend)?.rows_affected() == 1 {
                    moved += n as u64;
                }
            }
        }
    }

    async fn reseal_identities(&self) -> Result<u64> {
        let current = self.pii.current_data_key();
        let tag = if current == 0 { "k%".to_string() } else { format!("k{current}:%") };
        // not yet under the current key: untagged (key 0) or tagged otherwise
        let pick = if current == 0 { "value_enc LIKE $1" } else { "value_enc NOT LIKE $1" };
        let mut moved = 0;
        loop {
            let sql = format!(
                "SELECT kind, lookup, value_enc FROM identities WHERE value_enc IS NOT NULL AND {pick} LIMIT {BATCH}"
            );
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(&tag).fetch_all(&self.pool).await.map_err(backend)?;
            let mut progress = false;
            for row in &rows {
                let kind: String = row.try_get(0).map_err(backend)?;
                let lookup: Vec<u8> = row.try_get(1).map_err(backend)?;
                let old: String = row.try_get(2).map_err(backend)?;
                let Ok(Some(new)) = self.pii.reseal(&old) else { continue };
                let done = sqlx::query(
                    "UPDATE identities SET value_enc = $1 WHERE kind = $2 AND lookup = $3 AND value_enc = $4",
                )
                .bind(new)
                .bind(kind)
                .bind(lookup)
                .bind(&old)
                .execute(&self.pool)
                .await
                .map_err(backend)?
                .rows_affected();
                moved += done;
                progress |= done > 0;
            }
            // (what does not open stays as it is: stop when a batch moves nothing)
            if !progress {
                return Ok(moved);
            }
        }
    }

    /// Identities of a kind that is personal now (`openid` once the list
    /// named it) but was stored in the clear before: encrypted.
    async fn seal_plain_identities(&self) -> Result<u64> {
        let kinds = sqlx::query("SELECT DISTINCT kind FROM identities WHERE value IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        let mut sealed = 0;
        for row in kinds {
            let kind: String = row.try_get(0).map_err(backend)?;
            let Ok(parsed) = beacon_core::IdentityKind::parse(&kind) else { continue };
            if !self.pii.seals_kind(&parsed) {
                continue;
            }
            loop {
                let rows = sqlx::query(AssertSqlSafe(format!(
                    "SELECT lookup, profile_id, value FROM identities WHERE kind = $1 AND value IS NOT NULL LIMIT {BATCH}"
                )))
                .bind(&kind)
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?;
                if rows.is_empty() {
                    break;
                }
                for row in &rows {
                    let lookup: Vec<u8> = row.try_get(0).map_err(backend)?;
                    let profile: String = row.try_get(1).map_err(backend)?;
                    let value: String = row.try_get(2).map_err(backend)?;
                    sealed += sqlx::query(
                        "UPDATE identities SET value_enc = $1, value = NULL \
                         WHERE kind = $2 AND lookup = $3 AND profile_id = $4 AND value = $5",
                    )
                    .bind(self.pii.encrypt(&value))
                    .bind(&kind)
                    .bind(lookup)
                    .bind(profile)
                    .bind(&value)
                    .execute(&self.pool)
                    .await
                    .map_err(backend)?
                    .rows_affected();
                }
            }
        }
        Ok(sealed)
    }

    /// How many stored values are under each data key.
    pub async fn data_key_usage(&self) -> Result<BTreeMap<u32, u64>> {
        let mut usage = BTreeMap::new();
        let mut add = |keys: Vec<u32>| keys.into_iter().for_each(|k| *usage.entry(k).or_insert(0) += 1);
        let mut columns: Vec<(&AnyPool, &str, &str)> =
            JSON_COLUMNS.iter().map(|(t, _, c)| (&self.pool, *t, *c)).collect();
        columns.push((&self.shop_pool, "checkouts", "result"));
        for (pool, table, text) in columns {
            let sql = format!("SELECT {text} FROM {table} WHERE {text} LIKE '%bcn:pii:%'");
            for row in sqlx::query(AssertSqlSafe(sql)).fetch_all(pool).await.map_err(backend)? {
                add(self.pii.data_keys_in(&row.try_get::<String, _>(0).map_err(backend)?));
            }
        }
        for row in sqlx::query("SELECT value_enc FROM identities WHERE value_enc IS NOT NULL")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
        {
            add(vec![crate::pii_ring::tag_of(&row.try_get::<String, _>(0).map_err(backend)?).0]);
        }
        add(self.log.data_keys().await?);
        Ok(usage)
    }
}
