//! `/api/v1/products` and `/api/v1/categories`: the catalog. Writes are
//! upserts by `product_id` (so re-sending is harmless), each change audited
//! with what changed (before → after) in the same transaction.

use super::audit;
use super::extract::{Json as JsonBody, PageParams, Path, Query, encode_cursor, page_request};
use crate::auth::{Authorized, ManageData, Read};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use beacon_core::ErrorCode;
use beacon_core::catalog::{ProductStatus, parse_product};
use beacon_store::{Product, ProductQuery, Saved, StoredProduct};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/products", get(list).post(create))
        .route("/api/v1/products/bulk", post(bulk))
        .route("/api/v1/products/{id}", get(one).put(replace).delete(remove))
        .route("/api/v1/products/{id}/history", get(history))
        .route("/api/v1/products/{id}/events", get(events))
        .route("/api/v1/categories", get(categories))
}

pub use crate::app::products::MAX_BULK;

fn product_json(p: &StoredProduct) -> Value {
    let mut v = p.product.to_json();
    v["created_at"] = json!(p.created_at);
    v["updated_at"] = json!(p.updated_at);
    v
}

fn read(state: &AppState, input: &Map<String, Value>) -> ApiResult<Product> {
    Ok(parse_product(input, state.rules.currency)?)
}

fn taken(sku: &Option<String>, owner: &str) -> ApiError {
    crate::app::products::sku_taken(sku.as_deref(), owner).into()
}

async fn save_one(state: &AppState, actor: &str, product: Product) -> ApiResult<(StatusCode, Json<Value>)> {
    let saved = state.store.catalog().save_products(std::slice::from_ref(&product), actor, state.now()).await?;
    state.catalog.invalidate();
    let status = match saved.first() {
        Some(Saved::Created) => StatusCode::CREATED,
        Some(Saved::SkuTaken(owner)) => return Err(taken(&product.sku, owner)),
        _ => StatusCode::OK,
    };
    let stored = state.store.catalog().get_product(&product.product_id).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::Conflict, "the product was deleted while it was being saved; send it again")
    })?;
    Ok((status, Json(product_json(&stored))))
}

async fn create(
    who: Authorized<ManageData>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let product = read(&state, &body)?;
    save_one(&state, &who.actor(), product).await
}

async fn replace(
    who: Authorized<ManageData>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(mut body): JsonBody<Map<String, Value>>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    match body.get("product_id") {
        None => {
            body.insert("product_id".into(), Value::String(id.clone()));
        }
        Some(Value::String(given)) if *given == id => {}
        Some(_) => {
            return Err(ApiError::new(ErrorCode::InvalidProduct, "product_id in the body differs from the path"));
        }
    }
    let product = read(&state, &body)?;
    save_one(&state, &who.actor(), product).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bulk {
    products: Vec<Map<String, Value>>,
}

async fn bulk(
    who: Authorized<ManageData>,
    State(state): State<AppState>,
    JsonBody(body): JsonBody<Bulk>,
) -> ApiResult<Json<Value>> {
    let saved = crate::app::products::save_bulk(&state, &body.products, &who.actor()).await?;
    let rejected: Vec<Value> = saved
        .refused
        .iter()
        .map(|(index, e)| json!({"index": index, "code": e.code.as_str(), "message": e.message}))
        .collect();
    Ok(Json(json!({
        "created": saved.created, "updated": saved.updated, "unchanged": saved.unchanged, "rejected": rejected,
    })))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    pub cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// A path, e.g. `茶叶/绿茶`: that category and everything below it.
    pub category: Option<String>,
    pub brand: Option<String>,
    pub tag: Option<String>,
    #[param(pattern = "^(on_shelf|off_shelf)$")]
    pub status: Option<String>,
    /// Part of the name.
    pub q: Option<String>,
}

async fn list(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Value>> {
    let status = match p.status.as_deref() {
        None => None,
        Some("on_shelf") => Some(ProductStatus::OnShelf),
        Some("off_shelf") => Some(ProductStatus::OffShelf),
        Some(_) => return Err(ApiError::new(ErrorCode::InvalidParameter, "status must be on_shelf or off_shelf")),
    };
    let query = ProductQuery {
        page: page_request(p.cursor.as_deref(), p.limit)?,
        category: p.category.map(|c| c.split('/').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
        brand: p.brand,
        tag: p.tag,
        status,
        name_contains: p.q.filter(|q| !q.trim().is_empty()),
    };
    let page = state.store.catalog().list_products(&query).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(product_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

async fn found(state: &AppState, id: &str) -> ApiResult<StoredProduct> {
    state.store.catalog().get_product(id).await?.ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such product"))
}

async fn one(_: Authorized<Read>, State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    Ok(Json(product_json(&found(&state, &id).await?)))
}

async fn remove(
    who: Authorized<ManageData>,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let deleted = state.store.catalog().delete_product(&id, &who.actor(), state.now()).await?;
    state.catalog.invalidate();
    if deleted { Ok(StatusCode::NO_CONTENT) } else { Err(ApiError::new(ErrorCode::NotFound, "no such product")) }
}

/// Every change to the product (price, stock, …): who, when, before → after.
async fn history(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    audit::entries(&state, Some(&format!("product:{id}")), &p.request()?).await
}

async fn events(
    _: Authorized<Read>,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Value>> {
    let product = found(&state, &id).await?;
    let page = state.store.catalog().product_events(&product.product, &p.request()?).await?;
    Ok(Json(json!({
        "items": page.items.iter().map(super::profiles::event_json).collect::<Vec<_>>(),
        "next_cursor": page.next.as_ref().map(encode_cursor),
    })))
}

/// The category tree, each node with its number of products (its own and
/// everything below it).
async fn categories(_: Authorized<Read>, State(state): State<AppState>) -> ApiResult<Json<Value>> {
    #[derive(Default)]
    struct Node {
        products: i64,
        children: BTreeMap<String, Node>,
    }
    fn render(name: &str, path: &str, node: &Node) -> Value {
        json!({
            "name": name, "path": path, "products": node.products,
            "children": node.children.iter().map(|(n, c)| render(n, &format!("{path}/{n}"), c)).collect::<Vec<_>>(),
        })
    }
    let mut root = Node::default();
    for (path, count) in state.store.catalog().categories().await? {
        let mut node = &mut root;
        node.products += count;
        for name in path {
            node = node.children.entry(name).or_default();
            node.products += count;
        }
    }
    let tree: Vec<Value> = root.children.iter().map(|(n, c)| render(n, n, c)).collect();
    Ok(Json(json!({"items": tree, "products": root.products})))
}
