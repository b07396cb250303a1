//! Tags: a profile's tags (`/api/v1/profiles/{id}/tags`, by hand with
//! `PUT` and `DELETE`), how many profiles hold each (`/api/v1/tags`), tag
//! rules (`/api/v1/tag-rules/{tag}`: a tag for every profile a condition
//! selects) and a sweep now (`POST /api/v1/tags/sweep`). docs/INSIGHT.md.

use super::extract::{Json as JsonBody, Path};
use crate::app::tags;
use crate::auth::{Authorized, ManageMarketing, Read};
use crate::error::ApiResult;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use beacon_store::TagRule;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/profiles/{id}/tags", get(of_profile))
        .route("/api/v1/profiles/{id}/tags/{tag}", put(put_tag).delete(remove_tag))
        .route("/api/v1/tags", get(counts))
        .route("/api/v1/tags/sweep", post(sweep))
        .route("/api/v1/tag-rules", get(rules))
        .route("/api/v1/tag-rules/{tag}", put(put_rule).delete(delete_rule))
}

/// A tag given by hand.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRequest {
    /// basic (when not given), interest, spending, loyalty or risk.
    pub family: Option<String>,
}

/// A tag rule: the tag goes to every profile the condition selects.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagRuleRequest {
    /// basic (when not given), interest, spending, loyalty or risk.
    pub family: Option<String>,
    /// The condition's text form (or `definition`).
    #[schema(max_length = 20000)]
    pub text: Option<String>,
    /// The condition's JSON form (or `text`).
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

fn rule_json(r: &TagRule) -> Value {
    let text = serde_json::from_value::<beacon_segment::Condition>(r.definition.clone()).map(|c| c.to_string()).ok();
    json!({"tag": r.tag, "family": r.family, "definition": r.definition, "text": text,
           "created_by": r.created_by, "created_at": r.created_at, "updated_at": r.updated_at})
}

async fn of_profile(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let (id, items) = tags::of_profile(&state, &id).await?;
    Ok(Json(json!({"profile_id": id, "items": items})))
}

async fn put_tag(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path((id, tag)): Path<(String, String)>,
    JsonBody(body): JsonBody<TagRequest>,
) -> ApiResult<Json<Value>> {
    let t = tags::put(&state, &id, &tag, body.family.as_deref(), &auth.actor()).await?;
    Ok(Json(json!(t)))
}

async fn remove_tag(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    tags::remove(&state, &id, &tag, &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn counts(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"items": state.store.tags().tag_counts().await?})))
}

async fn sweep(_: Authorized<ManageMarketing>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let s = tags::sweep(&state).await?;
    Ok(Json(json!({"added": s.added, "removed": s.removed})))
}

async fn rules(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    let items: Vec<Value> = state.store.tags().tag_rules().await?.iter().map(rule_json).collect();
    Ok(Json(json!({"items": items})))
}

async fn put_rule(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(tag): Path<String>,
    JsonBody(body): JsonBody<TagRuleRequest>,
) -> ApiResult<Json<Value>> {
    let condition = super::segments::condition_of(body.text.as_deref(), body.definition.as_ref())?;
    let rule = tags::put_rule(&state, &tag, body.family.as_deref(), &condition, &auth.actor()).await?;
    Ok(Json(rule_json(&rule)))
}

async fn delete_rule(
    auth: Authorized<ManageMarketing>,
    State(state): State<AppState>,
    Path(tag): Path<String>,
) -> ApiResult<StatusCode> {
    tags::delete_rule(&state, &tag, &auth.actor()).await?;
    Ok(StatusCode::NO_CONTENT)
}
