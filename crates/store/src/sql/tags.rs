//! Tags on profiles (`profile_tags`), tag rules (`tag_rules`) and the
//! signals of computed tags, in the main database.

use super::catalog::audit_entry;
use super::process_read::json_rows;
use super::segments::{CHUNK, OrderRow};
use super::{SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::tags::{InterestSign, MANUAL, NewTag, ProfileTag, RULE, TagCount, TagRule};
use crate::{NewAuditEntry, Result, StoreError};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{AssertSqlSafe, Row};

/// Rows per multi-row statement.
const ROWS: usize = 300;

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("tags: {e}"))
}

/// A `category` property as one path (`鞋/跑鞋`): text, or a list of levels.
fn category_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Array(levels) => {
            let levels: Vec<&str> = levels.iter().filter_map(Value::as_str).filter(|s| !s.trim().is_empty()).collect();
            (!levels.is_empty()).then(|| levels.join("/"))
        }
        _ => None,
    }
}

async fn write_audit(tx: &mut sqlx::Transaction<'static, sqlx::Any>, a: &NewAuditEntry) -> Result<()> {
    audit_entry(tx, a.at, &a.actor, &a.action, &a.target, a.before.clone(), a.after.clone()).await
}

#[async_trait::async_trait]
impl crate::TagStore for SqlStore {
    async fn profile_tags(&self, profile_id: &str) -> Result<Vec<ProfileTag>> {
        let rows = sqlx::query(
            "SELECT tag, family, source, created_at, updated_at FROM profile_tags WHERE profile_id = $1 ORDER BY tag",
        )
        .bind(profile_id)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                Ok(ProfileTag {
                    tag: r.try_get("tag").map_err(backend)?,
                    family: r.try_get("family").map_err(backend)?,
                    source: r.try_get("source").map_err(backend)?,
                    created_at: from_micros(r.try_get("created_at").map_err(backend)?)?,
                    updated_at: from_micros(r.try_get("updated_at").map_err(backend)?)?,
                })
            })
            .collect()
    }

    async fn put_tag(&self, t: &NewTag, at: DateTime<Utc>, audit: &NewAuditEntry) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO profile_tags (profile_id, tag, family, source, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (profile_id, tag) DO UPDATE \
             SET family = excluded.family, source = excluded.source, updated_at = excluded.updated_at",
        )
        .bind(&t.profile_id)
        .bind(&t.tag)
        .bind(&t.family)
        .bind(MANUAL)
        .bind(micros(at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        write_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(backend)
    }

    async fn remove_tag(&self, profile_id: &str, tag: &str, audit: &NewAuditEntry) -> Result<bool> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let done = sqlx::query("DELETE FROM profile_tags WHERE profile_id = $1 AND tag = $2")
            .bind(profile_id)
            .bind(tag)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        write_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn tags_from(&self, source: &str) -> Result<Vec<(String, String)>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!("SELECT {} FROM profile_tags WHERE source = $1", self.dialect.json_rows("profile_id, tag"));
        json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql)).bind(source)).await
    }

    async fn write_tags(
        &self,
        source: &str,
        add: &[NewTag],
        remove: &[(String, String)],
        at: DateTime<Utc>,
    ) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let d = self.dialect;
        for part in add.chunks(ROWS) {
            // (each row's own parameters, in order: SQLite's are positional)
            let values: Vec<String> = (0..part.len())
                .map(|i| format!("({})", (1..=6).map(|k| d.param(i * 6 + k)).collect::<Vec<_>>().join(", ")))
                .collect();
            let sql = format!(
                "INSERT INTO profile_tags (profile_id, tag, family, source, created_at, updated_at) VALUES {} \
                 ON CONFLICT (profile_id, tag) DO NOTHING",
                values.join(", ")
            );
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, t| {
                let q = q.bind(t.profile_id.as_str()).bind(t.tag.as_str()).bind(t.family.as_str());
                q.bind(source).bind(micros(at)).bind(micros(at))
            });
            q.execute(&mut *tx).await.map_err(backend)?;
        }
        for (profile, tag) in remove {
            sqlx::query("DELETE FROM profile_tags WHERE profile_id = $1 AND tag = $2 AND source = $3")
                .bind(profile)
                .bind(tag)
                .bind(source)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn tag_counts(&self) -> Result<Vec<TagCount>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!(
            "SELECT {} FROM (SELECT tag, family, source, COUNT(*) AS n FROM profile_tags \
             GROUP BY tag, family, source) t",
            self.dialect.json_rows("tag, family, source, n")
        );
        let rows: Vec<(String, String, String, i64)> = json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql))).await?;
        let mut out: Vec<TagCount> = rows
            .into_iter()
            .map(|(tag, family, source, profiles)| TagCount { tag, family, source, profiles })
            .collect();
        out.sort_by(|a, b| (&a.family, &a.tag, &a.source).cmp(&(&b.family, &b.tag, &b.source)));
        Ok(out)
    }

    async fn tag_rules(&self) -> Result<Vec<TagRule>> {
        let rows = sqlx::query(
            "SELECT tag, family, definition, created_by, created_at, updated_at FROM tag_rules ORDER BY tag",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        rows.iter()
            .map(|r| {
                let definition: String = r.try_get("definition").map_err(backend)?;
                Ok(TagRule {
                    tag: r.try_get("tag").map_err(backend)?,
                    family: r.try_get("family").map_err(backend)?,
                    definition: serde_json::from_str(&definition).map_err(corrupt)?,
                    created_by: r.try_get("created_by").map_err(backend)?,
                    created_at: from_micros(r.try_get("created_at").map_err(backend)?)?,
                    updated_at: from_micros(r.try_get("updated_at").map_err(backend)?)?,
                })
            })
            .collect()
    }

    async fn put_tag_rule(&self, rule: &TagRule, actor: &str) -> Result<()> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        sqlx::query(
            "INSERT INTO tag_rules (tag, family, definition, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tag) DO UPDATE \
             SET family = excluded.family, definition = excluded.definition, updated_at = excluded.updated_at",
        )
        .bind(&rule.tag)
        .bind(&rule.family)
        .bind(rule.definition.to_string())
        .bind(&rule.created_by)
        .bind(micros(rule.created_at))
        .bind(micros(rule.updated_at))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        // a family changed: the rule's tags follow
        sqlx::query("UPDATE profile_tags SET family = $1 WHERE tag = $2 AND source = $3")
            .bind(&rule.family)
            .bind(&rule.tag)
            .bind(RULE)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let after = json!({"family": rule.family, "definition": rule.definition});
        let target = format!("tag_rule:{}", rule.tag);
        audit_entry(&mut tx, rule.updated_at, actor, "tag_rule.put", &target, None, Some(after)).await?;
        tx.commit().await.map_err(backend)
    }

    async fn delete_tag_rule(&self, tag: &str, actor: &str, at: DateTime<Utc>) -> Result<bool> {
        let (_write, mut tx) = self.begin_write(&self.pool).await?;
        let done =
            sqlx::query("DELETE FROM tag_rules WHERE tag = $1").bind(tag).execute(&mut *tx).await.map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM profile_tags WHERE tag = $1 AND source = $2")
            .bind(tag)
            .bind(RULE)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        audit_entry(&mut tx, at, actor, "tag_rule.delete", &format!("tag_rule:{tag}"), None, None).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn shared_accounts(&self) -> Result<Vec<(String, i64)>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!(
            "SELECT {} FROM (SELECT i.profile_id, MAX(s.n) AS n FROM identities i \
             JOIN (SELECT kind, lookup, COUNT(DISTINCT profile_id) AS n FROM identities \
             WHERE kind IN ('device_id', 'anonymous_id', 'phone') GROUP BY kind, lookup \
             HAVING COUNT(DISTINCT profile_id) > 1) s ON s.kind = i.kind AND s.lookup = i.lookup \
             JOIN profiles p ON p.id = i.profile_id AND p.merged_into IS NULL \
             GROUP BY i.profile_id) t",
            self.dialect.json_rows("profile_id, n")
        );
        json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql))).await
    }

    async fn interest_signs(&self, since: DateTime<Utc>) -> Result<Vec<InterestSign>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let d = self.dialect;
        // a chunk of events at a time (one answer is one string, and a
        // database's strings have a most they may hold)
        let sql = format!(
            "SELECT {} FROM (SELECT seq, profile_id, name, ts, props FROM events WHERE kind = 'track' \
             AND name IN ('Product Viewed', 'Product Added') AND ts > $1 AND props IS NOT NULL AND seq > $2 \
             ORDER BY seq LIMIT $3) t",
            d.json_rows("seq, profile_id, name, ts, props")
        );
        let reads = self.reads();
        let mut out = Vec::new();
        let mut after = i64::MIN;
        loop {
            let q = sqlx::query(AssertSqlSafe(sql.as_str())).bind(micros(since)).bind(after).bind(CHUNK as i64);
            let rows: Vec<(i64, String, String, i64, Option<String>)> = json_rows(&mut conn, q).await?;
            let n = rows.len();
            for (seq, profile_id, name, ts, props) in rows {
                after = after.max(seq);
                let props = reads.props_map(props)?;
                if let Some(category) = category_of(props.get("category")) {
                    let weight = if name == "Product Added" { 3 } else { 1 };
                    out.push(InterestSign { profile_id, category, weight, at: from_micros(ts)? });
                }
            }
            if n < CHUNK {
                break;
            }
        }
        let sql = format!(
            "SELECT {} FROM orders WHERE status <> 'cancelled' AND placed_at > $1",
            d.json_rows("profile_id, currency, total_minor, refunded_minor, coupon, placed_at, lines")
        );
        let rows: Vec<OrderRow> = json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql)).bind(micros(since))).await?;
        for (profile_id, order) in reads.order_facts(&mut conn, rows).await? {
            for line in order.lines {
                if let Some(category) = line.category.filter(|c| !c.is_empty()) {
                    out.push(InterestSign { profile_id: profile_id.clone(), category, weight: 5, at: order.at });
                }
            }
        }
        Ok(out)
    }
}

impl super::process::SqlProcessTx {
    /// A batch's words on consent: each the latest by event time per
    /// profile and purpose (an older word arriving later changes nothing).
    pub(super) async fn write_consents(&mut self, consents: &[crate::ConsentChange]) -> Result<()> {
        for c in consents {
            sqlx::query(
                "INSERT INTO consents (profile_id, purpose, granted, at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (profile_id, purpose) DO UPDATE SET granted = excluded.granted, at = excluded.at \
                 WHERE excluded.at >= consents.at",
            )
            .bind(c.profile.to_string())
            .bind(c.purpose.as_str())
            .bind(i64::from(c.granted))
            .bind(micros(c.at))
            .execute(&mut *self.tx)
            .await
            .map_err(backend)?;
        }
        Ok(())
    }
}
