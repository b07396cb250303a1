//! Who is calling: secret keys with a role, or console users by their
//! session cookie, for the admin API (the `Authorized<P>` extractor); write
//! keys for ingest; per-key (and per-user) rate limits.

use crate::app::keys::hash_key;
use crate::error::ApiError;
use crate::state::AppState;
use crate::ttl::TtlCache;
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use beacon_core::ErrorCode;
use beacon_core::access::{Permission, Role};
use beacon_store::{ApiKey, KeyKind, Session, Store, User};
use governor::clock::Clock as _;
use governor::nanos::Nanos;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use std::marker::PhantomData;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// How long a key lookup is trusted before asking the store again. Revoking
/// through this node's API takes effect at once; through another node,
/// within this time.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

type Limiter = RateLimiter<String, HashMapStateStore<String>, Ticker, governor::middleware::NoOpMiddleware<Nanos>>;

/// The app's monotonic clock as the rate limiters read it.
#[derive(Clone)]
pub struct Ticker(Arc<dyn crate::app::Clock>);

impl governor::clock::Clock for Ticker {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(u64::try_from(self.0.monotonic().as_nanos()).unwrap_or(u64::MAX))
    }
}

/// Cached key lookups and per-key rate limiters.
pub struct Gatekeeper {
    /// By key hash; a miss is cached too. Invalidation wins over a lookup
    /// that raced a revocation (the cache's generation).
    cache: TtlCache<Vec<u8>, Option<ApiKey>>,
    admin_limit: Option<Limiter>,
    ingest_limit: Option<Limiter>,
    /// Console logins, per email and per client address.
    login_limit: Option<Limiter>,
    ticker: Ticker,
}

fn limiter(per_second: u32, ticker: &Ticker) -> Option<Limiter> {
    let rate = NonZeroU32::new(per_second)?;
    let quota = Quota::per_second(rate).allow_burst(rate.saturating_mul(NonZeroU32::MIN.saturating_add(1)));
    Some(RateLimiter::hashmap_with_clock(quota, ticker.clone()))
}

impl Gatekeeper {
    /// Per-key rates (0: none), a burst of twice the rate, by `clock`;
    /// `logins_per_minute` console logins per email and per address (0: none).
    pub fn new(
        admin_per_second: u32,
        ingest_per_second: u32,
        logins_per_minute: u32,
        clock: Arc<dyn crate::app::Clock>,
    ) -> Self {
        let ticker = Ticker(clock.clone());
        let login_limit = NonZeroU32::new(logins_per_minute).and_then(|n| {
            let quota = Quota::with_period(Duration::from_secs(60) / n.get())?.allow_burst(n);
            Some(RateLimiter::hashmap_with_clock(quota, ticker.clone()))
        });
        Gatekeeper {
            cache: TtlCache::with_clock(KEY_CACHE_TTL, clock),
            admin_limit: limiter(admin_per_second, &ticker),
            ingest_limit: limiter(ingest_per_second, &ticker),
            login_limit,
            ticker,
        }
    }

    /// One console login attempt by `who` (`email:…`, `ip:…`).
    pub fn check_login(&self, who: &str) -> Result<(), ApiError> {
        let Some(limiter) = &self.login_limit else { return Ok(()) };
        limiter.check_key(&who.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.ticker.now());
            let mut e = ApiError::new(ErrorCode::RateLimited, "too many login attempts: wait, then try again");
            e.retry_after = Some(wait.as_secs().max(1));
            e
        })
    }

    /// The live (not revoked) key with this secret, if any.
    pub async fn lookup(&self, store: &dyn Store, secret: &str) -> Result<Option<ApiKey>, ApiError> {
        let hash = hash_key(secret);
        if let Some(key) = self.cache.get(&hash) {
            return Ok(key);
        }
        let generation = self.cache.generation();
        let key = store.keys().find_key_by_hash(&hash).await?.filter(|k| k.revoked_at.is_none());
        self.cache.put([(hash, key.clone())], generation);
        Ok(key)
    }

    /// Forgets cached lookups (after a key is created or revoked).
    pub fn invalidate(&self) {
        self.cache.invalidate();
    }

    pub fn check_rate(&self, key: &ApiKey) -> Result<(), ApiError> {
        self.check(matches!(key.kind, KeyKind::Write(_)), &key.id)
    }

    /// A console user's requests count as an admin key's.
    pub fn check_user_rate(&self, user: &User) -> Result<(), ApiError> {
        self.check(false, &user.id)
    }

    fn check(&self, ingest: bool, id: &str) -> Result<(), ApiError> {
        let limiter = if ingest { &self.ingest_limit } else { &self.admin_limit };
        let Some(limiter) = limiter else { return Ok(()) };
        limiter.check_key(&id.to_string()).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.ticker.now());
            let mut e = ApiError::new(ErrorCode::RateLimited, "too many requests for this key");
            e.retry_after = Some(wait.as_secs().max(1));
            e
        })
    }
}

/// A route's required permission, as a type.
pub trait Requirement: Send + Sync + 'static {
    const PERMISSION: Permission;
}

macro_rules! requirement {
    ($($name:ident),*) => {$(
        #[derive(Debug)]
        pub struct $name;
        impl Requirement for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}
requirement!(Read, Report, ManageMarketing, ManageData, ManageKeys, ReadAudit, ManagePrivacy, ManageUsers);

/// Who is calling with a role.
#[derive(Debug)]
pub enum Caller {
    Key(ApiKey),
    /// A console user, by the session cookie.
    User {
        user: User,
        session: Session,
    },
}

/// A caller holding a secret key, or a console session, whose role grants `P`.
#[derive(Debug)]
pub struct Authorized<P> {
    pub caller: Caller,
    pub role: Role,
    _p: PhantomData<P>,
}

impl<P> Authorized<P> {
    /// The audit-log actor: the key's id, or the user's (`u_…`).
    pub fn actor(&self) -> String {
        match &self.caller {
            Caller::Key(key) => key.id.clone(),
            Caller::User { user, .. } => user.id.clone(),
        }
    }

    /// `view` as this caller may see it: personal data masked unless the
    /// role reads it in full, and a full read audited (`app::privacy::shown`).
    pub async fn sees(&self, state: &AppState, view: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        Ok(crate::app::privacy::shown(state, &self.actor(), self.role, view).await?)
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

impl<P: Requirement> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (caller, role) = match bearer(parts) {
            Some(secret) => key_caller(state, secret).await?,
            None => match session_cookie(parts) {
                Some(token) => session_caller(state, parts, token).await?,
                None => {
                    return Err(ApiError::new(
                        ErrorCode::Unauthenticated,
                        "send a secret key as Authorization: Bearer <key>, or log in to the console",
                    ));
                }
            },
        };
        if !role.allows(P::PERMISSION) {
            return Err(ApiError::new(ErrorCode::Forbidden, format!("the {} role may not do this", role.as_str())));
        }
        Ok(Authorized { caller, role, _p: PhantomData })
    }
}

async fn key_caller(state: &AppState, secret: &str) -> Result<(Caller, Role), ApiError> {
    let key = state
        .gate
        .lookup(state.store.as_ref(), secret)
        .await?
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthenticated, "unknown or revoked key"))?;
    let KeyKind::Secret(role) = key.kind else {
        return Err(ApiError::new(ErrorCode::Forbidden, "write keys can only send events to /v1/*"));
    };
    state.gate.check_rate(&key)?;
    Ok((Caller::Key(key), role))
}

/// The console's cookie.
pub const SESSION_COOKIE: &str = "beacon_session";

/// The session token in the request's cookies, if any.
pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
        .filter(|t| !t.is_empty())
}

/// A console user by the session cookie. A call that changes anything
/// must carry the session's CSRF token in `X-CSRF-Token` (a page of
/// another site can make the browser send the cookie, not read the token).
async fn session_caller(state: &AppState, parts: &Parts, token: &str) -> Result<(Caller, Role), ApiError> {
    let Some((session, user)) = crate::app::users::session(state, token).await? else {
        return Err(ApiError::new(ErrorCode::Unauthenticated, "the console session ended: log in again"));
    };
    if !parts.method.is_safe() {
        let sent = parts.headers.get("x-csrf-token").map(|v| v.as_bytes()).unwrap_or_default();
        if !constant_eq(sent, session.csrf.as_bytes()) {
            return Err(ApiError::new(
                ErrorCode::CsrfTokenInvalid,
                "send the session's CSRF token (from GET /api/v1/session) in X-CSRF-Token",
            ));
        }
    }
    state.gate.check_user_rate(&user)?;
    let role = user.role;
    Ok((Caller::User { user, session }, role))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ManualClock;

    fn key(id: &str) -> ApiKey {
        ApiKey {
            id: id.into(),
            name: "t".into(),
            kind: KeyKind::Secret(Role::Admin),
            hash: Vec::new(),
            prefix: String::new(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            revoked_at: None,
        }
    }

    #[test]
    fn a_key_gets_its_burst_then_waits_for_the_clock() {
        let clock = Arc::new(ManualClock::new(chrono::DateTime::UNIX_EPOCH + chrono::TimeDelta::days(20_000)));
        let gate = Gatekeeper::new(5, 0, 0, clock.clone());
        let (a, b) = (key("a"), key("b"));
        // a burst of twice the rate, then refused with the wait in whole seconds
        assert!((0..10).all(|_| gate.check_rate(&a).is_ok()));
        let refused = gate.check_rate(&a).expect_err("over the burst");
        assert_eq!((refused.error.code, refused.retry_after), (ErrorCode::RateLimited, Some(1)));
        assert!(gate.check_rate(&b).is_ok(), "each key has its own budget");
        // one fifth of a second gives one request back, and only one
        clock.advance(chrono::TimeDelta::milliseconds(200));
        assert!(gate.check_rate(&a).is_ok());
        assert!(gate.check_rate(&a).is_err());
        // write keys have no limit here (0)
        let mut w = key("w");
        w.kind = KeyKind::Write(beacon_core::trust::Source::Client);
        assert!((0..1000).all(|_| gate.check_rate(&w).is_ok()));
    }
}
