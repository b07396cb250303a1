//! Saving products in bulk (`POST /api/v1/products/bulk`, imports): each
//! read and checked, the valid ones saved in one transaction, the others
//! refused with their index and error.

use super::{App, AppResult};
use beacon_core::catalog::parse_product;
use beacon_core::{Error, ErrorCode};
use beacon_store::{Product, Saved};
use serde_json::{Map, Value};

/// Most products one bulk save may carry.
pub const MAX_BULK: usize = 1000;

/// What a bulk save did.
#[derive(Debug, Default)]
pub struct BulkSaved {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// (index in the input, why), in input order.
    pub refused: Vec<(usize, Error)>,
}

/// The error of a SKU another product holds.
pub fn sku_taken(sku: Option<&str>, owner: &str) -> Error {
    Error::new(ErrorCode::Conflict, format!("SKU {:?} belongs to product {owner:?}", sku.unwrap_or("")))
}

/// Saves `inputs` (products as the API takes them) as `actor`.
pub async fn save_bulk(app: &App, inputs: &[Map<String, Value>], actor: &str) -> AppResult<BulkSaved> {
    if inputs.len() > MAX_BULK {
        return Err(Error::new(ErrorCode::PayloadTooLarge, format!("at most {MAX_BULK} products per request")));
    }
    let mut out = BulkSaved::default();
    let mut valid: Vec<(usize, Product)> = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match parse_product(input, app.rules.currency) {
            Ok(p) => valid.push((index, p)),
            Err(e) => out.refused.push((index, e)),
        }
    }
    let products: Vec<Product> = valid.iter().map(|(_, p)| p.clone()).collect();
    let saved = app.store.catalog().save_products(&products, actor, app.now()).await?;
    app.catalog.invalidate();
    for ((index, p), outcome) in valid.iter().zip(&saved) {
        match outcome {
            Saved::Created => out.created += 1,
            Saved::Updated => out.updated += 1,
            Saved::Unchanged => out.unchanged += 1,
            Saved::SkuTaken(owner) => out.refused.push((*index, sku_taken(p.sku.as_deref(), owner))),
        }
    }
    out.refused.sort_by_key(|(index, _)| *index);
    Ok(out)
}
