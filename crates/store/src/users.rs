//! Console users and their sessions: people who log in with an email and a
//! password, with the same roles as secret keys.

use async_trait::async_trait;
use beacon_core::access::Role;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::Result;

/// A console user. The email is stored lowercased; the password only as
/// its argon2id hash (a PHC string).
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    /// `zh-CN` or `en`; none: the browser's.
    pub locale: Option<String>,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    /// As the API and the audit log show it (never the password hash).
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id, "email": self.email, "name": self.name, "role": self.role.as_str(),
            "locale": self.locale, "created_at": self.created_at,
            "password_changed_at": self.password_changed_at, "disabled_at": self.disabled_at,
        })
    }
}

/// What an admin may change of a user (none: unchanged).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserChange {
    pub name: Option<String>,
    pub role: Option<Role>,
    pub locale: Option<Option<String>>,
    /// Some(true): disable (and end its sessions); Some(false): enable.
    pub disabled: Option<bool>,
}

/// A login: the cookie holds a random token, the store only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: Vec<u8>,
    pub user_id: String,
    /// Sent back in `X-CSRF-Token` on every state-changing call made with
    /// the cookie.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end, whatever the activity.
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub user_agent: Option<String>,
}

/// Console users and sessions.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new user and its `user.create` audit entry (by `actor`) in
    /// one transaction; `Conflict` if the email is taken.
    async fn insert_user(&self, user: &User, actor: &str) -> Result<()>;
    async fn get_user(&self, id: &str) -> Result<Option<User>>;
    /// By email, any case.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<User>>;
    /// Oldest first.
    async fn list_users(&self) -> Result<Vec<User>>;
    /// Applies `change` with its `user.update` audit entry (before, after);
    /// disabling ends the user's sessions. `Conflict` if it would leave no
    /// enabled admin user while there is one.
    async fn update_user(&self, id: &str, change: &UserChange, at: DateTime<Utc>, actor: &str) -> Result<User>;
    /// Sets the password hash and ends every session of the user but
    /// `keep` (the one that changed it), audited as `user.password`.
    async fn set_password(
        &self,
        id: &str,
        hash: &str,
        keep: Option<&[u8]>,
        at: DateTime<Utc>,
        actor: &str,
    ) -> Result<()>;
    async fn insert_session(&self, session: &Session) -> Result<()>;
    /// A session by its token's hash, revoked or not.
    async fn find_session(&self, token_hash: &[u8]) -> Result<Option<Session>>;
    /// Records activity (callers do it at most once a minute).
    async fn touch_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<()>;
    /// Ends one session (logout); answers whether it was live.
    async fn revoke_session(&self, token_hash: &[u8], at: DateTime<Utc>) -> Result<bool>;
    /// Ends every live session of a user; answers how many.
    async fn revoke_user_sessions(&self, user_id: &str, at: DateTime<Utc>) -> Result<u64>;
    /// The live sessions of a user, newest first.
    async fn user_sessions(&self, user_id: &str, now: DateTime<Utc>) -> Result<Vec<Session>>;
}
