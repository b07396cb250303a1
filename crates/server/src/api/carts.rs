//! `POST /api/v1/carts/price`: a dry run of the engine for a shopper, with
//! the explanation. Placing the order is `POST /api/v1/orders` with the same
//! body and an `Idempotency-Key` (`checkout::commit`).

use super::extract::Json as JsonBody;
use crate::app::checkout::{CartRequest, prepare, preview_time};
use crate::auth::{Authorized, Read};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/carts/price", post(price))
}

async fn price(
    _: Authorized<Read>,
    State(state): State<AppState>,
    JsonBody(req): JsonBody<Value>,
) -> ApiResult<Json<Value>> {
    let req = CartRequest::from_json(req, "cart")?;
    if state.settings.role() == Some(crate::settings::ProcessRole::Edge) && req.names_a_shopper() {
        return Err(beacon_core::Error::new(
            beacon_core::ErrorCode::EdgeAnonymousOnly,
            "this edge node prices carts without a shopper (no profile_id, user_id, anonymous_id, email, phone, \
             points or group_buy): price a known shopper's cart on a core node",
        )
        .into());
    }
    let now = preview_time(&req, state.now())?;
    let prep = prepare(&state, &req, now).await?;
    let mut out = prep.price().to_json();
    out["profile_id"] = json!(prep.profile.as_ref().map(|p| p.id));
    out["priced_at"] = json!(now);
    Ok(Json(out))
}
