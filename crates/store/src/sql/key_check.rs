//! The encryption key against the database: each database records a check
//! value of the key it was first written with (and the public key edge nodes
//! seal for), and refuses to open with another.

use super::{SqlStore, backend};
use crate::StoreError;

impl SqlStore {
    pub(super) async fn verify_key(&self) -> Result<(), StoreError> {
        if let Some(core) = self.pii.sealing_for_key() {
            // an edge node: it must seal for the key the core nodes open with
            let stored: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'pii_edge_public'")
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
            return match stored {
                Some(k) if k == core => Ok(()),
                Some(_) => Err(StoreError::Conflict(
                    "security.edge_public_key is not the key of this database's core nodes: \
                     run `beacon keys edge-public` on a core node and use what it prints"
                        .into(),
                )),
                None => Err(StoreError::Unavailable(
                    "no core node has opened this database yet: start one (with the encryption key) first".into(),
                )),
            };
        }
        let check = self.pii.key_check();
        sqlx::query("INSERT INTO meta (key, value) VALUES ('pii_key_check', $1) ON CONFLICT (key) DO NOTHING")
            .bind(check.as_str())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let row = sqlx::query("SELECT value FROM meta WHERE key = 'pii_key_check'")
            .fetch_one(&self.pool)
            .await
            .map_err(backend)?;
        let stored: String = sqlx::Row::try_get(&row, 0).map_err(backend)?;
        if stored == check {
            // what edge nodes check their key against
            sqlx::query(
                "INSERT INTO meta (key, value) VALUES ('pii_edge_public', $1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(self.pii.edge_public_key())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
            Ok(())
        } else {
            Err(StoreError::Conflict(
                "the encryption key is not the one this database was written with; \
                 set security.encryption_key (or restore encryption.key) to the original key"
                    .into(),
            ))
        }
    }
}
