//! The catalog: products (with their tags and category paths), saved with
//! their audit entries in one transaction.

use super::SqlDialect as _;
use super::{Dialect, SqlStore, backend, from_micros, micros};
use crate::{Page, Product, ProductQuery, ProductStatus, Result, ReviewStatus, Saved, StoreError, StoredProduct};
use beacon_core::catalog::diff;
use beacon_core::{Currency, Money};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

const COLUMNS: &str = "product_id, sku, name, category, brand, tags, price_minor, currency, stock, status, \
                       review_status, attributes, created_at, updated_at";

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Names each followed by U+001F: a category and everything below it share
/// the prefix.
pub(super) fn category_key(path: &[String]) -> String {
    path.iter().map(|p| format!("{p}\u{1f}")).collect()
}

fn status_text<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

fn decode(row: &AnyRow) -> Result<StoredProduct> {
    let get_text = |c: &str| row.try_get::<String, _>(c).map_err(backend);
    let currency = get_text("currency")?;
    let parse_enum = |c: &str| -> Result<serde_json::Value> { Ok(serde_json::Value::String(get_text(c)?)) };
    let status: ProductStatus = serde_json::from_value(parse_enum("status")?).map_err(corrupt)?;
    let review_status: ReviewStatus = serde_json::from_value(parse_enum("review_status")?).map_err(corrupt)?;
    Ok(StoredProduct {
        product: Product {
            product_id: get_text("product_id")?,
            sku: row.try_get("sku").map_err(backend)?,
            name: get_text("name")?,
            category: serde_json::from_str(&get_text("category")?).map_err(corrupt)?,
            brand: row.try_get("brand").map_err(backend)?,
            tags: serde_json::from_str(&get_text("tags")?).map_err(corrupt)?,
            price: Money {
                minor: row.try_get("price_minor").map_err(backend)?,
                currency: Currency::parse(&currency).ok_or_else(|| corrupt(format!("currency {currency:?}")))?,
            },
            stock: row.try_get("stock").map_err(backend)?,
            status,
            review_status,
            attributes: serde_json::from_str(&get_text("attributes")?).map_err(corrupt)?,
        },
        created_at: from_micros(row.try_get("created_at").map_err(backend)?)?,
        updated_at: from_micros(row.try_get("updated_at").map_err(backend)?)?,
    })
}

impl SqlStore {
    pub(crate) async fn save_products_impl(
        &self,
        products: &[Product],
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Saved>> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        if self.dialect == Dialect::Postgres {
            // each product and SKU written by one writer at a time, so a
            // product's before → after is exact and a SKU has one owner;
            // writers of other products go side by side
            let mut names: Vec<String> = Vec::with_capacity(products.len() * 2);
            for p in products {
                names.push(format!("product:{}", p.product_id));
                if let Some(sku) = &p.sku {
                    names.push(format!("sku:{sku}"));
                }
            }
            super::locks::lock_names(&mut tx, names).await?;
        }
        let mut before: HashMap<String, StoredProduct> = HashMap::new();
        let mut sku_owner: HashMap<String, String> = HashMap::new();
        for part in products.chunks(300) {
            let ids: Vec<&str> = part.iter().map(|p| p.product_id.as_str()).collect();
            let skus: Vec<&str> = part.iter().filter_map(|p| p.sku.as_deref()).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM products WHERE product_id IN ({}) OR sku IN ({})",
                self.dialect.params_from(0, ids.len()),
                if skus.is_empty() { "NULL".to_string() } else { self.dialect.params_from(ids.len(), skus.len()) }
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in ids.iter().chain(&skus) {
                q = q.bind(*v);
            }
            for row in q.fetch_all(&mut *tx).await.map_err(backend)? {
                let p = decode(&row)?;
                if let Some(sku) = &p.product.sku {
                    sku_owner.insert(sku.clone(), p.product.product_id.clone());
                }
                before.insert(p.product.product_id.clone(), p);
            }
        }
        let mut out = Vec::with_capacity(products.len());
        for p in products {
            if let Some(owner) = p.sku.as_ref().and_then(|s| sku_owner.get(s)).filter(|o| **o != p.product_id) {
                out.push(Saved::SkuTaken(owner.clone()));
                continue;
            }
            let old = before.get(&p.product_id);
            let (outcome, audit) = match old {
                None => (Saved::Created, Some(("product.create", None, Some(p.to_json())))),
                Some(old) => match diff(&old.product, p) {
                    None => (Saved::Unchanged, None),
                    Some((was, now)) => (Saved::Updated, Some(("product.update", Some(was), Some(now)))),
                },
            };
            if let Some((action, was, now)) = audit {
                write_product(&mut tx, p, old.map_or(at, |o| o.created_at), at).await?;
                audit_entry(&mut tx, at, actor, action, &format!("product:{}", p.product_id), was, now).await?;
                if let Some(old_sku) = old.and_then(|o| o.product.sku.as_ref()).filter(|s| p.sku.as_ref() != Some(*s)) {
                    sku_owner.remove(old_sku);
                }
                if let Some(sku) = &p.sku {
                    sku_owner.insert(sku.clone(), p.product_id.clone());
                }
                before
                    .insert(p.product_id.clone(), StoredProduct { product: p.clone(), created_at: at, updated_at: at });
            }
            out.push(outcome);
        }
        if out.iter().any(|o| matches!(o, Saved::Created | Saved::Updated)) {
            bump_stamp(&mut tx).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(out)
    }

    pub(crate) async fn delete_product_impl(&self, id: &str, actor: &str, at: DateTime<Utc>) -> Result<bool> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        if self.dialect == Dialect::Postgres {
            super::locks::lock_names(&mut tx, [format!("product:{id}")]).await?;
        }
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM products WHERE product_id = $1")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let Some(row) = row else { return Ok(false) };
        let old = decode(&row)?;
        sqlx::query("DELETE FROM products WHERE product_id = $1").bind(id).execute(&mut *tx).await.map_err(backend)?;
        sqlx::query("DELETE FROM product_tags WHERE product_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        audit_entry(&mut tx, at, actor, "product.delete", &format!("product:{id}"), Some(old.product.to_json()), None)
            .await?;
        bump_stamp(&mut tx).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    pub(crate) async fn get_products_impl(&self, keys: &[String]) -> Result<Vec<StoredProduct>> {
        let mut out = Vec::new();
        for part in keys.chunks(300) {
            let sql = format!(
                "SELECT {COLUMNS} FROM products WHERE product_id IN ({}) OR sku IN ({})",
                self.dialect.params_from(0, part.len()),
                self.dialect.params_from(part.len(), part.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for v in part.iter().chain(part) {
                q = q.bind(v.as_str());
            }
            for row in q.fetch_all(&self.pool).await.map_err(backend)? {
                out.push(decode(&row)?);
            }
        }
        // a product named by its id in one part and by its SKU in another is found twice
        out.sort_by(|a, b| a.product.product_id.cmp(&b.product.product_id));
        out.dedup_by(|a, b| a.product.product_id == b.product.product_id);
        Ok(out)
    }

    pub(crate) async fn get_product_impl(&self, id: &str) -> Result<Option<StoredProduct>> {
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {COLUMNS} FROM products WHERE product_id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(decode).transpose()
    }

    pub(crate) async fn list_products_impl(&self, q: &ProductQuery) -> Result<Page<StoredProduct>> {
        let mut sql = format!("SELECT {COLUMNS} FROM products WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut binds: Vec<String> = Vec::new();
        if let Some(path) = &q.category {
            let key = category_key(path);
            let (a, b) = (next(), next());
            sql.push_str(&format!(" AND substr(category_key, 1, length({a})) = {b}"));
            binds.extend([key.clone(), key]);
        }
        if let Some(brand) = &q.brand {
            sql.push_str(&format!(" AND brand = {}", next()));
            binds.push(brand.clone());
        }
        if let Some(tag) = &q.tag {
            sql.push_str(&format!(" AND product_id IN (SELECT product_id FROM product_tags WHERE tag = {})", next()));
            binds.push(tag.clone());
        }
        if let Some(status) = q.status {
            sql.push_str(&format!(" AND status = {}", next()));
            binds.push(status_text(status));
        }
        if let Some(text) = &q.name_contains {
            // instr, not LIKE: no wildcard escaping, any language
            sql.push_str(&format!(" AND {} > 0", self.dialect.position("lower(name)", &format!("lower({})", next()))));
            binds.push(text.clone());
        }
        if let Some((_, after)) = &q.page.after {
            sql.push_str(&format!(" AND product_id > {}", next()));
            binds.push(after.clone());
        }
        let limit = q.page.limit.max(1);
        sql.push_str(&format!(" ORDER BY product_id LIMIT {}", i64::from(limit) + 1));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(&self.pool).await.map_err(backend)?;
        let items = rows.iter().take(limit as usize).map(decode).collect::<Result<Vec<_>>>()?;
        let next =
            (rows.len() > limit as usize).then(|| items.last().map(|p| (0, p.product.product_id.clone()))).flatten();
        Ok(Page { items, next })
    }

    /// Every category path with its number of products.
    pub(crate) async fn categories_impl(&self) -> Result<Vec<(Vec<String>, i64)>> {
        let rows = sqlx::query("SELECT category, COUNT(*) FROM products GROUP BY category ORDER BY category")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let path: String = r.try_get(0).map_err(backend)?;
                Ok((serde_json::from_str(&path).map_err(corrupt)?, r.try_get(1).map_err(backend)?))
            })
            .collect()
    }
}

async fn write_product(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    p: &Product,
    created_at: DateTime<Utc>,
    at: DateTime<Utc>,
) -> Result<()> {
    let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO products ({COLUMNS}, category_key) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) \
         ON CONFLICT (product_id) DO UPDATE SET sku = excluded.sku, name = excluded.name, category = excluded.category, \
         category_key = excluded.category_key, brand = excluded.brand, tags = excluded.tags, \
         price_minor = excluded.price_minor, currency = excluded.currency, stock = excluded.stock, \
         status = excluded.status, review_status = excluded.review_status, attributes = excluded.attributes, \
         updated_at = excluded.updated_at"
    )))
    .bind(p.product_id.as_str())
    .bind(p.sku.as_deref())
    .bind(p.name.as_str())
    .bind(json(&p.category))
    .bind(p.brand.as_deref())
    .bind(json(&p.tags))
    .bind(p.price.minor)
    .bind(p.price.currency.code().to_string())
    .bind(p.stock)
    .bind(status_text(p.status))
    .bind(status_text(p.review_status))
    .bind(serde_json::Value::Object(p.attributes.clone()).to_string())
    .bind(micros(created_at))
    .bind(micros(at))
    .bind(category_key(&p.category))
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    sqlx::query("DELETE FROM product_tags WHERE product_id = $1")
        .bind(p.product_id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    for tag in &p.tags {
        sqlx::query("INSERT INTO product_tags (tag, product_id) VALUES ($1, $2)")
            .bind(tag.as_str())
            .bind(p.product_id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(backend)?;
    }
    Ok(())
}

/// Marks the catalog changed (`catalog_stamp`), in the change's transaction.
async fn bump_stamp(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('catalog_stamp', $1) ON CONFLICT (key) DO UPDATE SET value = $2",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(uuid::Uuid::new_v4().to_string())
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

impl SqlStore {
    pub(crate) async fn catalog_stamp_impl(&self) -> Result<String> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'catalog_stamp'")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(v.unwrap_or_default())
    }
}

/// An audit entry about `target` (`product:tea-1`), in the change's transaction.
pub(super) async fn audit_entry(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    at: DateTime<Utc>,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<serde_json::Value>,
    after: Option<serde_json::Value>,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, target, before, after) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(micros(at))
        .bind(actor)
        .bind(action)
        .bind(target)
        .bind(before.map(|v| v.to_string()))
        .bind(after.map(|v| v.to_string()))
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}
