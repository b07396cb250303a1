//! Console users and their sessions: creating users (an admin, or `beacon
//! users create`), logging in and out, changing passwords, and finding the
//! user behind a session cookie.
//!
//! Passwords are kept as argon2id hashes (the OWASP parameters: 19 MiB,
//! two passes), hashed off the async threads. A session is a random token
//! in an HttpOnly cookie; the store keeps its SHA-256 only, with the CSRF
//! token the console sends back on every change, an absolute end
//! (`security.session_hours`) and an idle end (`security.session_idle_minutes`).

use super::{App, AppResult};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use beacon_core::access::Role;
use beacon_core::{Error, ErrorCode};
use beacon_store::{Session, User, UserChange};
use chrono::{DateTime, TimeDelta, Utc};
use sha2::{Digest, Sha256};

/// Shortest and longest password taken.
pub const PASSWORD_CHARS: (usize, usize) = (10, 128);
/// A session's activity is written at most this often.
const TOUCH_EVERY: TimeDelta = TimeDelta::seconds(60);

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidParameter, message)
}

fn random_token() -> AppResult<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| Error::new(ErrorCode::Internal, format!("no randomness: {e}")))?;
    Ok(B64.encode(bytes))
}

/// The SHA-256 of a session token: what the store keeps.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn check_password(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    if n < PASSWORD_CHARS.0 || n > PASSWORD_CHARS.1 {
        return Err(invalid(format!("a password has {} to {} characters", PASSWORD_CHARS.0, PASSWORD_CHARS.1)));
    }
    if password.chars().all(|c| c == password.chars().next().unwrap_or(c)) {
        return Err(invalid("a password of one repeated character is too easy to guess"));
    }
    Ok(())
}

/// The argon2id hash (PHC string) of `password`, checked for length.
pub async fn hash_password(password: &str) -> AppResult<String> {
    check_password(password)?;
    let password = password.to_string();
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| Error::new(ErrorCode::Internal, format!("hashing the password: {e}")))
}

/// Whether `password` matches `hash` (false for a hash that cannot be read).
async fn verify(hash: String, password: &str) -> bool {
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash no password matches, verified for unknown emails so that a
/// login takes as long whether or not the email is a user's.
static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn normalize_email(email: &str) -> AppResult<String> {
    let email = email.trim().to_lowercase();
    let ok = email.len() <= 254
        && email.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if !ok {
        return Err(invalid(format!("{email:?} is not an email address")));
    }
    Ok(email)
}

fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid("a name is 1 to 100 characters of plain text"));
    }
    Ok(name.to_string())
}

fn check_locale(locale: Option<&str>) -> AppResult<Option<String>> {
    match locale {
        None => Ok(None),
        Some(l @ ("zh-CN" | "en")) => Ok(Some(l.to_string())),
        Some(other) => Err(invalid(format!("locale {other:?} is not zh-CN or en"))),
    }
}

/// A new user, as an admin (or the command line) asks for one.
pub struct NewUser<'a> {
    pub email: &'a str,
    pub name: Option<&'a str>,
    pub role: Role,
    pub password: &'a str,
    pub locale: Option<&'a str>,
}

/// Creates a user (audited as `user.create` by `actor`); `conflict` if the
/// email is taken.
pub async fn create(app: &App, new: &NewUser<'_>, actor: &str) -> AppResult<User> {
    let email = normalize_email(new.email)?;
    let name = check_name(new.name.unwrap_or_else(|| email.split('@').next().unwrap_or("")))?;
    let locale = check_locale(new.locale)?;
    let now = app.now();
    let user = User {
        id: format!("u_{}", uuid::Uuid::now_v7().simple()),
        email,
        name,
        role: new.role,
        password_hash: hash_password(new.password).await?,
        locale,
        created_at: now,
        password_changed_at: now,
        disabled_at: None,
    };
    app.store.users().insert_user(&user, actor).await?;
    Ok(user)
}

/// A login: the cookie's token (shown once) and its session.
pub struct Login {
    pub token: String,
    pub session: Session,
    pub user: User,
}

/// Checks an email and password and opens a session; `invalid_credentials`
/// whether the email is unknown, the password wrong or the user disabled.
pub async fn login(app: &App, email: &str, password: &str, user_agent: Option<&str>) -> AppResult<Login> {
    let refused = || Error::new(ErrorCode::InvalidCredentials, "the email or the password is wrong");
    let user = app.store.users().find_user_by_email(email).await?;
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => match DUMMY.get() {
            Some(h) => h.clone(),
            None => {
                let h = hash_password("a password no one has, for timing").await?;
                DUMMY.get_or_init(|| h).clone()
            }
        },
    };
    let matches = verify(hash, password).await;
    let Some(user) = user.filter(|u| matches && u.disabled_at.is_none()) else { return Err(refused()) };
    let now = app.now();
    let security = &app.settings.security;
    let token = random_token()?;
    let session = Session {
        token_hash: token_hash(&token),
        user_id: user.id.clone(),
        csrf: random_token()?,
        created_at: now,
        last_seen_at: now,
        expires_at: now + TimeDelta::hours(i64::from(security.session_hours.max(1))),
        revoked_at: None,
        user_agent: user_agent.map(|a| a.chars().take(300).collect()),
    };
    app.store.users().insert_session(&session).await?;
    Ok(Login { token, session, user })
}

/// Whether a session is over at `now`: revoked, past its end, or idle too long.
pub fn ended(app: &App, s: &Session, now: DateTime<Utc>) -> bool {
    let idle = TimeDelta::minutes(i64::from(app.settings.security.session_idle_minutes.max(1)));
    s.revoked_at.is_some() || now >= s.expires_at || now - s.last_seen_at >= idle
}

/// The live session a cookie's token names and its (enabled) user.
pub async fn session(app: &App, token: &str) -> AppResult<Option<(Session, User)>> {
    let hash = token_hash(token);
    let users = app.store.users();
    let Some(session) = users.find_session(&hash).await? else { return Ok(None) };
    let now = app.now();
    if ended(app, &session, now) {
        return Ok(None);
    }
    let Some(user) = users.get_user(&session.user_id).await?.filter(|u| u.disabled_at.is_none()) else {
        return Ok(None);
    };
    if now - session.last_seen_at >= TOUCH_EVERY {
        users.touch_session(&hash, now).await?;
    }
    Ok(Some((session, user)))
}

/// Ends the session of this token (logout).
pub async fn logout(app: &App, token_hash: &[u8]) -> AppResult<()> {
    app.store.users().revoke_session(token_hash, app.now()).await?;
    Ok(())
}

/// A user changes their own password: the current one must match; every
/// other session of theirs ends.
pub async fn change_password(app: &App, user: &User, session: &[u8], current: &str, new: &str) -> AppResult<()> {
    if !verify(user.password_hash.clone(), current).await {
        return Err(Error::new(ErrorCode::InvalidCredentials, "the current password is wrong"));
    }
    if current == new {
        return Err(invalid("the new password is the current one"));
    }
    let hash = hash_password(new).await?;
    app.store.users().set_password(&user.id, &hash, Some(session), app.now(), &user.id).await?;
    Ok(())
}

/// An admin sets a user's password (every session of theirs ends).
pub async fn reset_password(app: &App, id: &str, new: &str, actor: &str) -> AppResult<()> {
    let hash = hash_password(new).await?;
    app.store.users().set_password(id, &hash, None, app.now(), actor).await?;
    Ok(())
}

/// An admin ends every session of a user (audited as `user.sessions_end`).
pub async fn end_sessions(app: &App, id: &str, actor: &str) -> AppResult<u64> {
    if app.store.users().get_user(id).await?.is_none() {
        return Err(Error::new(ErrorCode::NotFound, "no such user"));
    }
    let now = app.now();
    let ended = app.store.users().revoke_user_sessions(id, now).await?;
    let entry = beacon_store::NewAuditEntry {
        at: now,
        actor: actor.into(),
        action: "user.sessions_end".into(),
        target: format!("user:{id}"),
        before: None,
        after: Some(serde_json::json!({"sessions_ended": ended})),
    };
    app.store.audit().append_audit(&entry).await?;
    Ok(ended)
}

/// What an admin asks to change of a user.
pub struct Change<'a> {
    pub name: Option<&'a str>,
    pub role: Option<&'a str>,
    pub locale: Option<Option<&'a str>>,
    pub disabled: Option<bool>,
}

pub async fn update(app: &App, id: &str, change: &Change<'_>, actor: &str) -> AppResult<User> {
    let role = change
        .role
        .map(|r| {
            Role::parse(r).ok_or_else(|| {
                Error::new(ErrorCode::InvalidRole, format!("role {r:?} is not admin, marketer, analyst or viewer"))
            })
        })
        .transpose()?;
    let change = UserChange {
        name: change.name.map(check_name).transpose()?,
        role,
        locale: change.locale.map(check_locale).transpose()?,
        disabled: change.disabled,
    };
    Ok(app.store.users().update_user(id, &change, app.now(), actor).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_is_hashed_with_argon2id_and_checked() {
        let hash = hash_password("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify(hash.clone(), "correct horse battery").await);
        assert!(!verify(hash.clone(), "correct horse batterY").await);
        assert!(!verify("not a hash".into(), "correct horse battery").await);
        assert!(hash_password("short").await.is_err());
        assert!(hash_password("aaaaaaaaaaaa").await.is_err(), "one repeated character");
        assert_ne!(hash, hash_password("correct horse battery").await.expect("hash"), "salted");
    }

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(normalize_email(" Li.Lei@Shop.CN ").ok().as_deref(), Some("li.lei@shop.cn"));
        for bad in ["", "nobody", "@shop.cn", "a@b", "a b@shop.cn"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
