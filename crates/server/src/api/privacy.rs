//! A person's rights (admin only): `DELETE /api/v1/profiles/{id}` erases
//! them (`app::privacy::erase`), `GET /api/v1/profiles/{id}/export` gives
//! everything held about them as one JSON document, in full (audited).

use super::orders::{order_json, review_json};
use super::profiles::{event_json, profile_json};
use crate::app::{privacy, profiles};
use crate::auth::{Authorized, ManagePrivacy};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use beacon_store::{NewAuditEntry, OrderQuery, PageRequest, ReviewsOf};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/profiles/{id}/export", get(export))
}

/// `DELETE /api/v1/profiles/{id}` (routed with the profile's `GET`).
pub async fn erase(
    who: Authorized<ManagePrivacy>,
    State(state): State<AppState>,
    super::extract::Path(id): super::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(privacy::erase(&state, &id, &who.actor()).await?))
}

/// Pages through a listing to its end.
macro_rules! all_pages {
    ($page:ident => $call:expr) => {{
        let mut items = Vec::new();
        let mut $page = PageRequest { after: None, limit: 500 };
        loop {
            let got = $call.await?;
            items.extend(got.items);
            match got.next {
                Some(next) => $page.after = Some(next),
                None => break items,
            }
        }
    }};
}

async fn export(
    who: Authorized<ManagePrivacy>,
    State(state): State<AppState>,
    super::extract::Path(id): super::extract::Path<String>,
) -> ApiResult<Json<Value>> {
    let profile = profiles::by_id(&state, &id).await?;
    let store = state.store.as_ref();
    let pid = profile.id;
    let events = all_pages!(page => store.profiles().profile_events(pid, &page));
    let of = |page: &PageRequest| OrderQuery {
        page: page.clone(),
        profile: Some(pid),
        status: None,
        placed_after: None,
        placed_before: None,
    };
    let orders = all_pages!(page => store.orders().list_orders(&of(&page)));
    let reviews = all_pages!(page => store.orders().list_reviews(&ReviewsOf::Profile(pid), &page));
    let now = state.now();
    let coupons = store.promotions().profile_coupons(&pid.to_string()).await?;
    let lots = store.loyalty().lots(&pid.to_string()).await?;
    let document = json!({
        "exported_at": now,
        "profile": profile_json(&profile),
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "orders": orders.iter().map(order_json).collect::<Vec<_>>(),
        "reviews": reviews.iter().map(review_json).collect::<Vec<_>>(),
        "coupons": coupons.iter().map(|c| super::coupons::coupon_json(c, None, now)).collect::<Vec<_>>(),
        "points": crate::app::checkout::loyalty::points_json(&lots, now),
    });
    // a full read of a person's data: who read whose, and how much
    let entry = NewAuditEntry {
        at: now,
        actor: who.actor(),
        action: "profile.export".into(),
        target: format!("profile:{pid}"),
        before: None,
        after: Some(json!({"events": events.len(), "orders": orders.len(), "reviews": reviews.len()})),
    };
    store.audit().append_audit(&entry).await?;
    Ok(Json(document))
}
