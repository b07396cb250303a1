//! The orders of segment facts as the evaluator reads them (`OrderFact`):
//! net of refunds, each line with the catalog's brand.

use super::process_read::json_rows;
use super::segments::{LIST, OrderRow, Reads, corrupt};
use super::{Dialect, SqlDialect as _, from_micros};
use crate::{OrderLine, Result};
use beacon_core::{Currency, Money};
use beacon_segment::{LineFact, OrderFact};
use sqlx::{AnyConnection, AssertSqlSafe};
use std::collections::{BTreeSet, HashMap};

impl Reads<'_> {
    /// Orders as the evaluator reads them: net of refunds in major units,
    /// each line's product (its id, else its SKU), category and the
    /// catalog's brand.
    pub(super) async fn order_facts(
        &self,
        conn: &mut AnyConnection,
        rows: Vec<OrderRow>,
    ) -> Result<Vec<(String, OrderFact)>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut parsed = Vec::with_capacity(rows.len());
        for (profile, currency, total, refunded, coupon, placed_at, lines) in rows {
            let lines: Vec<OrderLine> = serde_json::from_str(&lines).map_err(corrupt)?;
            parsed.push((profile, currency, total, refunded, coupon, placed_at, lines));
        }
        let products: BTreeSet<&str> =
            parsed.iter().flat_map(|p| &p.6).filter_map(|l| l.product_id.as_deref().or(l.sku.as_deref())).collect();
        let brands = brands(conn, self.dialect, &products).await?;
        let mut out = Vec::with_capacity(parsed.len());
        for (profile, currency, total, refunded, coupon, placed_at, lines) in parsed {
            let currency = Currency::parse(&currency).ok_or_else(|| corrupt(format!("currency {currency:?}")))?;
            let lines = lines
                .into_iter()
                .map(|l| {
                    let product_id = l.product_id.or(l.sku);
                    let brand = product_id.as_ref().and_then(|p| brands.get(p)).cloned();
                    LineFact { product_id, category: l.category, brand }
                })
                .collect();
            let net = Money { minor: total - refunded, currency }.to_decimal_string();
            out.push((profile, OrderFact { at: from_micros(placed_at)?, net, coupon, lines }));
        }
        Ok(out)
    }
}

/// The catalog's brands by product id and by SKU, of `products` (ids or
/// SKUs): looked up one by one for a few profiles' orders (the pipeline's
/// stage), the whole catalog read once for many.
async fn brands(conn: &mut AnyConnection, d: Dialect, products: &BTreeSet<&str>) -> Result<HashMap<String, String>> {
    let columns = d.json_rows("product_id, sku, brand");
    if products.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(String, Option<String>, String)> = if products.len() <= LIST {
        let n = products.len();
        let sql = format!(
            "SELECT {columns} FROM products WHERE brand IS NOT NULL AND (product_id IN ({}) OR sku IN ({}))",
            d.params_from(0, n),
            d.params_from(n, n)
        );
        // (the list twice, in the text's order)
        let q = products.iter().chain(products.iter()).fold(sqlx::query(AssertSqlSafe(sql)), |q, p| q.bind(*p));
        json_rows(conn, q).await?
    } else {
        let sql = format!("SELECT {columns} FROM products WHERE brand IS NOT NULL");
        json_rows(conn, sqlx::query(AssertSqlSafe(sql))).await?
    };
    let mut out = HashMap::with_capacity(rows.len() * 2);
    for (id, sku, brand) in rows {
        if let Some(sku) = sku {
            out.insert(sku, brand.clone());
        }
        out.insert(id, brand);
    }
    Ok(out)
}
