//! The console's login (`/api/v1/session`) and users (`/api/v1/users`).
//!
//! Logging in sets an HttpOnly, SameSite=Lax cookie (Secure over HTTPS);
//! the answer carries the CSRF token every state-changing call made with
//! the cookie must send back in `X-CSRF-Token`. Logins are rate-limited per
//! email and per client address (`security.login_attempts_per_minute`).

use super::extract::{Json as JsonBody, Path};
use crate::app::users::{self, Change, NewUser};
use crate::auth::{Authorized, Caller, ManageUsers, Read, SESSION_COOKIE};
use crate::error::{ApiError, ApiResult};
use crate::http::PeerAddr;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use beacon_core::ErrorCode;
use beacon_core::access::Role;
use beacon_store::{Session, User};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", get(me).post(login).delete(logout))
        .route("/api/v1/session/password", post(change_password))
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/users/{id}", patch(update))
        .route("/api/v1/users/{id}/password", post(reset_password))
        .route("/api/v1/users/{id}/sessions", axum::routing::delete(end_sessions))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

fn session_json(user: &User, session: &Session) -> Value {
    json!({"kind": "user", "user": user.to_json(), "role": user.role.as_str(), "csrf_token": session.csrf,
           "expires_at": session.expires_at})
}

fn cookie(state: &AppState, headers: &HeaderMap, value: &str, max_age: i64) -> ApiResult<HeaderValue> {
    let https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let secure = if state.settings.security.secure_cookies || https { "; Secure" } else { "" };
    let text = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&text).map_err(|e| ApiError::internal(e.to_string()))
}

async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<PeerAddr>>,
    headers: HeaderMap,
    JsonBody(req): JsonBody<LoginRequest>,
) -> ApiResult<Response> {
    let email = req.email.trim().to_lowercase();
    state.gate.check_login(&format!("email:{email}"))?;
    if let Some(Extension(PeerAddr(addr))) = peer {
        state.gate.check_login(&format!("ip:{}", addr.ip()))?;
    }
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok());
    let login = users::login(&state, &email, &req.password, agent).await?;
    let max_age = (login.session.expires_at - login.session.created_at).num_seconds();
    let mut resp = (StatusCode::CREATED, Json(session_json(&login.user, &login.session))).into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&state, &headers, &login.token, max_age)?);
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Who is calling: a user (with the CSRF token) or a key.
async fn me(who: Authorized<Read>) -> ApiResult<Response> {
    let body = match &who.caller {
        Caller::User { user, session } => session_json(user, session),
        Caller::Key(key) => json!({"kind": "key", "key": key.to_json(), "role": who.role.as_str()}),
    };
    let mut resp = Json(body).into_response();
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

fn session_only(who: &Authorized<Read>) -> ApiResult<(&User, &Session)> {
    match &who.caller {
        Caller::User { user, session } => Ok((user, session)),
        Caller::Key(_) => Err(ApiError::new(ErrorCode::InvalidParameter, "a key has no console session")),
    }
}

async fn logout(who: Authorized<Read>, State(state): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let (_, session) = session_only(&who)?;
    users::logout(&state, &session.token_hash).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie(&state, &headers, "", 0)?);
    Ok(resp)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

async fn change_password(
    who: Authorized<Read>,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    let (user, session) = session_only(&who)?;
    users::change_password(&state, user, &session.token_hash, &req.current, &req.new).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(_: Authorized<ManageUsers>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state.store.users().list_users().await?.iter().map(User::to_json).collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub email: String,
    pub name: Option<String>,
    /// admin, marketer, analyst or viewer.
    pub role: String,
    /// 10 to 128 characters.
    pub password: String,
    /// zh-CN or en; none: the browser's.
    pub locale: Option<String>,
}

async fn create(
    who: Authorized<ManageUsers>,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<CreateUserRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let role = Role::parse(&req.role).ok_or_else(|| {
        ApiError::new(ErrorCode::InvalidRole, format!("role {:?} is not admin, marketer, analyst or viewer", req.role))
    })?;
    let new = NewUser {
        email: &req.email,
        name: req.name.as_deref(),
        role,
        password: &req.password,
        locale: req.locale.as_deref(),
    };
    let user = users::create(&state, &new, &who.actor()).await?;
    Ok((StatusCode::CREATED, Json(user.to_json())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub role: Option<String>,
    /// zh-CN, en, or null for the browser's.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    /// true ends the user's sessions and refuses their logins.
    pub disabled: Option<bool>,
}

/// A field that was sent, null or not (absent: `None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

async fn update(
    who: Authorized<ManageUsers>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<UpdateUserRequest>,
) -> ApiResult<Json<Value>> {
    let change = Change {
        name: req.name.as_deref(),
        role: req.role.as_deref(),
        locale: req.locale.as_ref().map(Option::as_deref),
        disabled: req.disabled,
    };
    Ok(Json(users::update(&state, &id, &change, &who.actor()).await?.to_json()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    pub password: String,
}

async fn reset_password(
    who: Authorized<ManageUsers>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(req): JsonBody<PasswordReset>,
) -> ApiResult<StatusCode> {
    users::reset_password(&state, &id, &req.password, &who.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn end_sessions(
    who: Authorized<ManageUsers>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ended = users::end_sessions(&state, &id, &who.actor()).await?;
    Ok(Json(json!({"user_id": id, "sessions_ended": ended})))
}
