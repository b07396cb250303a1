//! The processor's transaction.

use super::{Dialect, SqlStore, backend, from_micros, micros};
use crate::pii::PiiCipher;
use crate::{NewEvent, ProcessTx, ProfileState, Result, StoreError};
use async_trait::async_trait;
use beacon_core::resolve::{Candidate, MergeReason};
use beacon_core::{Identity, IdentityKind, ProfileId};
use chrono::{DateTime, Utc};
use sqlx::any::Any;
use sqlx::{Row, Transaction};
use std::collections::BTreeMap;

pub(crate) struct SqlProcessTx {
    tx: Transaction<'static, Any>,
    dialect: Dialect,
    pii: PiiCipher,
    name: String,
}

impl SqlStore {
    pub(crate) async fn begin_process_tx(&self, name: &str) -> Result<SqlProcessTx> {
        let tx = match self.dialect {
            // Take SQLite's write lock up front: a deferred transaction that
            // reads first could fail to upgrade if the admin API wrote between.
            Dialect::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Dialect::Postgres => self.pool.begin().await,
        }
        .map_err(backend)?;
        Ok(SqlProcessTx { tx, dialect: self.dialect, pii: self.pii.clone(), name: name.to_string() })
    }
}

/// Encodes an identity for storage: (lookup hash, plain value, ciphertext).
pub(crate) fn encode_identity(pii: &PiiCipher, id: &Identity) -> (Vec<u8>, Option<String>, Option<String>) {
    let lookup = pii.lookup_key(id.kind.as_str(), &id.value);
    if id.kind.is_pii() { (lookup, None, Some(pii.encrypt(&id.value))) } else { (lookup, Some(id.value.clone()), None) }
}

/// Decodes a stored identity row.
pub(crate) fn decode_identity(
    pii: &PiiCipher,
    kind: &str,
    value: Option<String>,
    value_enc: Option<String>,
) -> Result<Identity> {
    let kind = IdentityKind::parse(kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let value = match (value, value_enc) {
        (Some(v), _) => v,
        (None, Some(enc)) => pii.decrypt(&enc).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        (None, None) => return Err(StoreError::Corrupt("identity without a value".into())),
    };
    Ok(Identity { kind, value })
}

pub(crate) fn parse_id(s: &str) -> Result<ProfileId> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("profile id {s:?}")))
}

impl SqlProcessTx {
    async fn profiles_holding(&mut self, id: &Identity) -> Result<Vec<String>> {
        let lookup = self.pii.lookup_key(id.kind.as_str(), &id.value);
        let rows = sqlx::query(
            "SELECT i.profile_id FROM identities i JOIN profiles p ON p.id = i.profile_id \
             WHERE i.kind = $1 AND i.lookup = $2 AND p.merged_into IS NULL",
        )
        .bind(id.kind.as_str())
        .bind(lookup)
        .fetch_all(&mut *self.tx)
        .await
        .map_err(backend)?;
        rows.iter().map(|r| r.try_get::<String, _>(0).map_err(backend)).collect()
    }

    async fn identities_of(&mut self, profile: &str) -> Result<Vec<Identity>> {
        let rows = sqlx::query("SELECT kind, value, value_enc FROM identities WHERE profile_id = $1")
            .bind(profile)
            .fetch_all(&mut *self.tx)
            .await
            .map_err(backend)?;
        rows.into_iter()
            .map(|r| {
                decode_identity(
                    &self.pii,
                    &r.try_get::<String, _>(0).map_err(backend)?,
                    r.try_get(1).map_err(backend)?,
                    r.try_get(2).map_err(backend)?,
                )
            })
            .collect()
    }
}

#[async_trait]
impl ProcessTx for SqlProcessTx {
    async fn offset(&mut self) -> Result<i64> {
        sqlx::query("INSERT INTO processor_offsets (name, seq) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
            .bind(self.name.as_str())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        let sql = match self.dialect {
            Dialect::Sqlite => "SELECT seq FROM processor_offsets WHERE name = $1",
            Dialect::Postgres => "SELECT seq FROM processor_offsets WHERE name = $1 FOR UPDATE",
        };
        let row = sqlx::query(sql).bind(self.name.as_str()).fetch_one(&mut *self.tx).await.map_err(backend)?;
        row.try_get::<i64, _>(0).map_err(backend)
    }

    async fn set_offset(&mut self, seq: i64) -> Result<()> {
        sqlx::query("UPDATE processor_offsets SET seq = $1 WHERE name = $2")
            .bind(seq)
            .bind(self.name.as_str())
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn seen(&mut self, source_id: &str, message_id: &str) -> Result<bool> {
        let row = sqlx::query("SELECT COUNT(*) FROM events WHERE source_id = $1 AND message_id = $2")
            .bind(source_id)
            .bind(message_id)
            .fetch_one(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(row.try_get::<i64, _>(0).map_err(backend)? > 0)
    }

    async fn candidates(&mut self, identities: &[Identity], previous_id: Option<&str>) -> Result<Vec<Candidate>> {
        let mut found: BTreeMap<String, bool> = BTreeMap::new();
        for id in identities {
            for p in self.profiles_holding(id).await? {
                found.entry(p).or_insert(false);
            }
        }
        if let Some(prev) = previous_id {
            for kind in [IdentityKind::UserId, IdentityKind::AnonymousId] {
                let id = Identity { kind, value: prev.to_string() };
                for p in self.profiles_holding(&id).await? {
                    found.insert(p, true);
                }
            }
        }
        let mut out = Vec::with_capacity(found.len());
        for (profile, aliased) in found {
            let identities = self.identities_of(&profile).await?;
            let row = sqlx::query("SELECT first_seen FROM profiles WHERE id = $1")
                .bind(profile.as_str())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(backend)?;
            out.push(Candidate {
                id: parse_id(&profile)?,
                identities,
                first_seen: from_micros(row.try_get(0).map_err(backend)?)?,
                aliased,
            });
        }
        Ok(out)
    }

    async fn load_state(&mut self, id: ProfileId) -> Result<ProfileState> {
        let row =
            sqlx::query("SELECT traits, trait_times, first_seen, last_seen, event_count FROM profiles WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&mut *self.tx)
                .await
                .map_err(backend)?;
        let traits: String = row.try_get(0).map_err(backend)?;
        let times: String = row.try_get(1).map_err(backend)?;
        Ok(ProfileState {
            id,
            traits: serde_json::from_str(&traits).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            trait_times: serde_json::from_str(&times).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            first_seen: from_micros(row.try_get(2).map_err(backend)?)?,
            last_seen: from_micros(row.try_get(3).map_err(backend)?)?,
            event_count: row.try_get(4).map_err(backend)?,
        })
    }

    async fn create_profile(&mut self, s: &ProfileState) -> Result<()> {
        sqlx::query(
            "INSERT INTO profiles (id, merged_into, traits, trait_times, first_seen, last_seen, event_count, created_at, updated_at) \
             VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(s.id.to_string())
        .bind(serde_json::Value::Object(s.traits.clone()).to_string())
        .bind(serde_json::to_string(&s.trait_times).map_err(|e| StoreError::Backend(e.to_string()))?)
        .bind(micros(s.first_seen))
        .bind(micros(s.last_seen))
        .bind(s.event_count)
        .bind(micros(s.first_seen))
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn save_state(&mut self, s: &ProfileState) -> Result<()> {
        sqlx::query(
            "UPDATE profiles SET traits = $2, trait_times = $3, first_seen = $4, last_seen = $5, \
             event_count = $6, updated_at = $5 WHERE id = $1",
        )
        .bind(s.id.to_string())
        .bind(serde_json::Value::Object(s.traits.clone()).to_string())
        .bind(serde_json::to_string(&s.trait_times).map_err(|e| StoreError::Backend(e.to_string()))?)
        .bind(micros(s.first_seen))
        .bind(micros(s.last_seen))
        .bind(s.event_count)
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn merge(
        &mut self,
        from: ProfileId,
        into: ProfileId,
        at: DateTime<Utc>,
        reason: &MergeReason,
        message_id: &str,
    ) -> Result<()> {
        let (from, into) = (from.to_string(), into.to_string());
        let statements = [
            // identities both hold stay once, on the survivor
            "DELETE FROM identities WHERE profile_id = $1 AND EXISTS (SELECT 1 FROM identities s \
             WHERE s.profile_id = $2 AND s.kind = identities.kind AND s.lookup = identities.lookup)",
            "UPDATE identities SET profile_id = $2 WHERE profile_id = $1",
            "UPDATE events SET profile_id = $2 WHERE profile_id = $1",
            // every id ever merged points straight at the survivor (one hop)
            "UPDATE profiles SET merged_into = $2 WHERE id = $1 OR merged_into = $1",
            "UPDATE merges SET survivor_id = $2 WHERE survivor_id = $1",
        ];
        for sql in statements {
            sqlx::query(sql).bind(from.as_str()).bind(into.as_str()).execute(&mut *self.tx).await.map_err(backend)?;
        }
        sqlx::query("INSERT INTO merges (survivor_id, merged_id, at, reason, message_id) VALUES ($1, $2, $3, $4, $5)")
            .bind(into.as_str())
            .bind(from.as_str())
            .bind(micros(at))
            .bind(serde_json::to_string(reason).map_err(|e| StoreError::Backend(e.to_string()))?)
            .bind(message_id)
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn link(&mut self, id: ProfileId, identities: &[Identity], at: DateTime<Utc>) -> Result<()> {
        let profile = id.to_string();
        for identity in identities {
            let (lookup, value, value_enc) = encode_identity(&self.pii, identity);
            sqlx::query(
                "INSERT INTO identities (kind, lookup, profile_id, value, value_enc, first_seen) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, lookup, profile_id) DO NOTHING",
            )
            .bind(identity.kind.as_str())
            .bind(lookup)
            .bind(profile.as_str())
            .bind(value)
            .bind(value_enc)
            .bind(micros(at))
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        }
        Ok(())
    }

    async fn insert_event(&mut self, e: &NewEvent) -> Result<()> {
        sqlx::query(
            "INSERT INTO events (seq, profile_id, source_id, message_id, kind, name, ts, received_at, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(e.seq)
        .bind(e.profile_id.to_string())
        .bind(e.source_id.as_str())
        .bind(e.message_id.as_str())
        .bind(e.kind.as_str())
        .bind(e.name.as_deref())
        .bind(micros(e.timestamp))
        .bind(micros(e.received_at))
        .bind(self.pii.seal_json(&e.payload).as_ref())
        .execute(&mut *self.tx)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.tx.commit().await.map_err(backend)
    }
}
