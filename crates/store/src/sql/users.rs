//! Console users and sessions (`users`, `sessions`), in the shop database.

use super::catalog::audit_entry;
use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{Result, Session, StoreError, User, UserChange};
use async_trait::async_trait;
use beacon_core::access::Role;
use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

const USER_COLUMNS: &str = "id, email, name, role, password_hash, locale, created_at, password_changed_at, disabled_at";
const SESSION_COLUMNS: &str = "token_hash, user_id, csrf, created_at, last_seen_at, expires_at, revoked_at, user_agent";

fn time(row: &AnyRow, column: &str) -> Result<DateTime<Utc>> {
    from_micros(row.try_get(column).map_err(backend)?)
}

fn maybe_time(row: &AnyRow, column: &str) -> Result<Option<DateTime<Utc>>> {
    row.try_get::<Option<i64>, _>(column).map_err(backend)?.map(from_micros).transpose()
}

fn user_from_row(row: &AnyRow) -> Result<User> {
    let role: String = row.try_get("role").map_err(backend)?;
    Ok(User {
        id: row.try_get("id").map_err(backend)?,
        email: row.try_get("email").map_err(backend)?,
        name: row.try_get("name").map_err(backend)?,
        role: Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("user role {role:?}")))?,
        password_hash: row.try_get("password_hash").map_err(backend)?,
        locale: row.try_get("locale").map_err(backend)?,
        created_at: time(row, "created_at")?,
        password_changed_at: time(row, "password_changed_at")?,
        disabled_at: maybe_time(row, "disabled_at")?,
    })
}

fn session_from_row(row: &AnyRow) -> Result<Session> {
    Ok(Session {
        token_hash: row.try_get("token_hash").map_err(backend)?,
        user_id: row.try_get("user_id").map_err(backend)?,
        csrf: row.try_get("csrf").map_err(backend)?,
        created_at: time(row, "created_at")?,
        last_seen_at: time(row, "last_seen_at")?,
        expires_at: time(row, "expires_at")?,
        revoked_at: maybe_time(row, "revoked_at")?,
        user_agent: row.try_get("user_agent").map_err(backend)?,
    })
}

impl SqlStore {
    async fn user_where(&self, column: &str, value: &str) -> Result<Option<User>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1");
        let row =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(value).fetch_optional(&self.pool).await.map_err(backend)?;
        row.as_ref().map(user_from_row).transpose()
    }
}

async fn end_sessions(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    user_id: &str,
    keep: Option<&[u8]>,
    at: DateTime<Utc>,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL \
         AND ($3 IS NULL OR token_hash <> $3)",
    )
    .bind(user_id)
    .bind(micros(at))
    .bind(keep.map(<[u8]>::to_vec))
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl crate::UserStore for SqlStore {
    async fn insert_user(&self, user: &User, actor: &str) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO users (id, email, name, role, password_hash, locale, created_at, password_changed_at, \
             disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
        )
        .bind(user.id.as_str())
        .bind(user.email.to_lowercase())
        .bind(user.name.as_str())
        .bind(user.role.as_str())
        .bind(user.password_hash.as_str())
        .bind(user.locale.as_deref())
        .bind(micros(user.created_at))
        .bind(micros(user.password_changed_at))
        .execute(&mut *tx)
        .await
        .map_err(|e| match backend(e) {
            StoreError::Conflict(_) => StoreError::Conflict(format!("a user with email {} exists", user.email)),
            other => other,
        })?;
        let target = format!("user:{}", user.id);
        audit_entry(&mut tx, user.created_at, actor, "user.create", &target, None, Some(user.to_json())).await?;
        tx.commit().await.map_err(backend)
    }

    async fn get_user(&self, id: &str) -> Result<Option<User>> {
        self.user_where("id", id).await
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        self.user_where("email", &email.trim().to_lowercase()).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, id")))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(user_from_row)
            .collect()
    }

    async fn update_user(&self, id: &str, change: &UserChange, at: DateTime<Utc>, actor: &str) -> Result<User> {
        let select = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        // the enabled admins, locked: two admins demoting each other at once
        // cannot leave none
        let admins =
            format!("SELECT id FROM users WHERE role = 'admin' AND disabled_at IS NULL {}", self.dialect.for_update());
        let admins: Vec<String> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(admins)).fetch_all(&mut *tx).await.map_err(backend)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(select.clone()))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?
            .ok_or(StoreError::NotFound)?;
        let before = user_from_row(&row)?;
        let mut after = before.clone();
        if let Some(name) = &change.name {
            after.name = name.clone();
        }
        if let Some(role) = change.role {
            after.role = role;
        }
        if let Some(locale) = &change.locale {
            after.locale = locale.clone();
        }
        match change.disabled {
            Some(true) if before.disabled_at.is_none() => after.disabled_at = Some(at),
            Some(false) => after.disabled_at = None,
            _ => {}
        }
        if after == before {
            return Ok(before);
        }
        let still_admin = after.role == Role::Admin && after.disabled_at.is_none();
        if admins == [id] && !still_admin {
            return Err(StoreError::Conflict("the last admin user must stay an enabled admin".into()));
        }
        sqlx::query("UPDATE users SET name = $2, role = $3, locale = $4, disabled_at = $5 WHERE id = $1")
            .bind(id)
            .bind(after.name.as_str())
            .bind(after.role.as_str())
            .bind(after.locale.as_deref())
            .bind(after.disabled_at.map(micros))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if after.disabled_at.is_some() {
            end_sessions(&mut tx, id, None, at).await?;
        }
        let target = format!("user:{id}");
        audit_entry(&mut tx, at, actor, "user.update", &target, Some(before.to_json()), Some(after.to_json())).await?;
        tx.commit().await.map_err(backend)?;
        Ok(after)
    }

    async fn set_password(
        &self,
        id: &str,
        hash: &str,
        keep: Option<&[u8]>,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let done = sqlx::query("UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
            .bind(id)
            .bind(hash)
            .bind(micros(at))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let ended = end_sessions(&mut tx, id, keep, at).await?;
        let after = serde_json::json!({"sessions_ended": ended});
        audit_entry(&mut tx, at, actor, "user.password", &format!("user:{id}"), None, Some(after)).await?;
        tx.commit().await.map_err(backend)
    }

    async fn insert_session(&self, s: &Session) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(s.token_hash.clone())
        .bind(s.user_id.as_str())
        .bind(s.csrf.as_str())
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(micros(s.expires_at))
        .bind(s.revoked_at.map(micros))
        .bind(s.user_agent.as_deref())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &[u8]) -> Result<Option<Session>> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash.to_vec())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(session_from_row).transpose()
    }

    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND last_seen_at < $2")
            .bind(token_hash.to_vec())
            .bind(micros(at))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<bool> {
        let done = sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL")
            .bind(token_hash.to_vec())
            .bind(micros(at))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }

    async fn revoke_user_sessions(&self, user_id: &str, at: DateTime<Utc>) -> Result<u64> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let n = end_sessions(&mut tx, user_id, None, at).await?;
        tx.commit().await.map_err(backend)?;
        Ok(n)
    }

    async fn user_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<Session>> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
             ORDER BY created_at DESC"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(user_id)
            .bind(micros(now))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?
            .iter()
            .map(session_from_row)
            .collect()
    }
}
