//! Segment reads: each leaf of a segment compiled to one query per backend
//! (what it can decide — an event's name, kind and window, an order's
//! status and window, who holds an identity, a tag or a consent — decided
//! in SQL), and one profile's facts for the evaluator that decides a
//! profile at a time. Bulk answers come back as one JSON value
//! ([`SqlDialect::json_rows`]).

use super::process_read::json_rows;
use super::{Dialect, SqlDialect as _, SqlStore, backend, from_micros, micros};
use crate::{ProfileFacts, Result, StoreError};
use async_trait::async_trait;
use beacon_core::ProfileId;
use beacon_segment::EventFact;
use beacon_segment::batch::{Rows, Scan};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{BTreeSet, HashMap};

/// Ids per `IN (…)` list.
pub(super) const LIST: usize = 500;

/// Events per query where a scan reads them one by one.
pub(super) const CHUNK: usize = 200_000;

pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("segment read: {e}"))
}

fn since_micros(since: Option<DateTime<Utc>>) -> i64 {
    since.map_or(i64::MIN, micros)
}

/// A trait's value as a JSON text expression of `traits`, or `None` when
/// the key cannot be written in a path (read from the whole text instead).
fn trait_expr(dialect: Dialect, key: &str) -> Option<(String, String)> {
    match dialect {
        Dialect::Sqlite if key.contains(['"', '\\']) => None,
        Dialect::Sqlite => Some(("traits -> $1".into(), format!("$.\"{key}\""))),
        Dialect::Postgres => Some(("((traits::json) -> $1)::text".into(), key.to_string())),
    }
}

#[async_trait]
impl crate::SegmentFacts for SqlStore {
    async fn live_profiles(&self) -> Result<Vec<String>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!("SELECT {} FROM profiles WHERE merged_into IS NULL", self.dialect.json_rows("id"));
        let rows: Vec<(String,)> = json_rows(&mut conn, sqlx::query(AssertSqlSafe(sql))).await?;
        let mut ids: Vec<String> = rows.into_iter().map(|(id,)| id).collect();
        ids.sort_unstable();
        Ok(ids)
    }

    async fn scan(&self, scan: &Scan) -> Result<Rows> {
        if let Scan::Coupons { .. } | Scan::Points { .. } = scan {
            // (on their own pool, without holding one of this one's)
            return super::wallets::scan(&self.shop_pool, self.dialect, scan).await;
        }
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let d = self.dialect;
        let events = "FROM events WHERE kind = 'track' AND name = $1";
        Ok(match scan {
            Scan::EventCounts { event, since, until } => {
                let sql = format!(
                    "SELECT {} FROM (SELECT profile_id, COUNT(*) AS n {events} AND ts > $2 AND ts <= $3 \
                     GROUP BY profile_id) t",
                    d.json_rows("profile_id, n")
                );
                let q = sqlx::query(AssertSqlSafe(sql)).bind(event).bind(since_micros(*since)).bind(micros(*until));
                Rows::Counts(json_rows(&mut conn, q).await?)
            }
            Scan::EventProperties { event, since, until } => {
                // a chunk of events at a time (one answer is one string, and a
                // database's strings have a most they may hold)
                let sql = format!(
                    "SELECT {} FROM (SELECT seq, profile_id, props {events} AND ts > $2 AND ts <= $3 AND seq > $4 \
                     ORDER BY seq LIMIT $5) t",
                    d.json_rows("seq, profile_id, props")
                );
                let mut out = Vec::new();
                let mut after = i64::MIN;
                loop {
                    let q = sqlx::query(AssertSqlSafe(sql.as_str()))
                        .bind(event)
                        .bind(since_micros(*since))
                        .bind(micros(*until))
                        .bind(after)
                        .bind(CHUNK as i64);
                    let rows: Vec<(i64, String, Option<String>)> = json_rows(&mut conn, q).await?;
                    let n = rows.len();
                    for (seq, id, props) in rows {
                        after = after.max(seq);
                        out.push((id, self.reads().props_map(props)?));
                    }
                    if n < CHUNK {
                        break;
                    }
                }
                Rows::Properties(out)
            }
            Scan::EventSpan { event, until } => {
                let sql = format!(
                    "SELECT {} FROM (SELECT profile_id, MIN(ts) AS a, MAX(ts) AS b {events} AND ts <= $2 \
                     GROUP BY profile_id) t",
                    d.json_rows("profile_id, a, b")
                );
                let q = sqlx::query(AssertSqlSafe(sql)).bind(event).bind(micros(*until));
                let rows: Vec<(String, i64, i64)> = json_rows(&mut conn, q).await?;
                let mut out = Vec::with_capacity(rows.len());
                for (id, a, b) in rows {
                    out.push((id, from_micros(a)?, from_micros(b)?));
                }
                Rows::Spans(out)
            }
            Scan::Trait(key) => Rows::Values(self.reads().trait_values(&mut conn, key).await?),
            Scan::Orders { since, until } => {
                let sql = format!(
                    "SELECT {} FROM orders WHERE status <> 'cancelled' AND placed_at > $1 AND placed_at <= $2",
                    d.json_rows("profile_id, currency, total_minor, refunded_minor, coupon, placed_at, lines")
                );
                let q = sqlx::query(AssertSqlSafe(sql)).bind(since_micros(*since)).bind(micros(*until));
                let rows = json_rows(&mut conn, q).await?;
                Rows::Orders(self.reads().order_facts(&mut conn, rows).await?)
            }
            Scan::Identity(kind) => {
                let sql = "SELECT {} FROM (SELECT DISTINCT profile_id FROM identities WHERE kind = $1) t";
                Rows::Ids(ids(&mut conn, d, sql, kind).await?)
            }
            Scan::Tag(tag) => Rows::Ids(ids(&mut conn, d, "SELECT {} FROM profile_tags WHERE tag = $1", tag).await?),
            Scan::Consent(purpose) => {
                let sql = "SELECT {} FROM consents WHERE purpose = $1 AND granted = 1";
                Rows::Ids(ids(&mut conn, d, sql, purpose).await?)
            }
            Scan::Segment(id) => {
                Rows::Ids(ids(&mut conn, d, "SELECT {} FROM segment_members WHERE segment_id = $1", id).await?)
            }
            Scan::Coupons { .. } | Scan::Points { .. } => unreachable!("answered above"),
        })
    }

    async fn facts(&self, ids: &[ProfileId], names: &[String]) -> Result<Vec<ProfileFacts>> {
        let mut out = Vec::with_capacity(ids.len());
        for part in ids.chunks(LIST) {
            let part: Vec<String> = part.iter().map(ToString::to_string).collect();
            // one connection at a time (on PostgreSQL the two pools are one)
            let mut conn = self.pool.acquire().await.map_err(backend)?;
            let mut facts = self.reads().facts_of(&mut conn, &part, names, &part).await?;
            drop(conn);
            let mut shop = self.shop_pool.acquire().await.map_err(backend)?;
            super::wallets::fill(&mut shop, self.dialect, &part, &mut facts).await?;
            out.extend(facts);
        }
        Ok(out)
    }

    async fn backfill_props(&self, limit: usize) -> Result<usize> {
        self.backfill_props_impl(limit).await
    }

    async fn track_events(&self, after: i64, upto: i64, limit: usize) -> Result<Vec<crate::TrackEvent>> {
        let mut conn = self.pool.acquire().await.map_err(backend)?;
        let sql = format!(
            "SELECT {} FROM (SELECT seq, profile_id, name, ts FROM events WHERE seq > $1 AND seq <= $2 \
             AND kind = 'track' AND name IS NOT NULL ORDER BY seq LIMIT $3) t",
            self.dialect.json_rows("seq, profile_id, name, ts")
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let q = sqlx::query(AssertSqlSafe(sql)).bind(after).bind(upto).bind(limit);
        let mut rows: Vec<(i64, String, String, i64)> = json_rows(&mut conn, q).await?;
        rows.sort_unstable_by_key(|r| r.0);
        rows.into_iter()
            .map(|(seq, profile, name, ts)| Ok(crate::TrackEvent { seq, profile, name, at: from_micros(ts)? }))
            .collect()
    }
}

/// The profile ids a one-parameter statement selects (`{}` is the select list).
async fn ids(conn: &mut AnyConnection, d: Dialect, sql: &str, param: &str) -> Result<Vec<String>> {
    let sql = sql.replacen("{}", &d.json_rows("profile_id"), 1);
    let rows: Vec<(String,)> = json_rows(conn, sqlx::query(AssertSqlSafe(sql)).bind(param)).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// An order row as the scans select it.
pub(super) type OrderRow = (String, String, i64, i64, Option<String>, i64, String);

/// What segment reads need of a store: its dialect and its key (the
/// store's pool or a processor's transaction supplies the connection).
#[derive(Clone, Copy)]
pub(super) struct Reads<'a> {
    pub dialect: Dialect,
    pub pii: &'a crate::pii::PiiCipher,
}

impl SqlStore {
    pub(super) fn reads(&self) -> Reads<'_> {
        Reads { dialect: self.dialect, pii: &self.pii }
    }
}

impl Reads<'_> {
    pub(super) fn props_map(&self, stored: Option<String>) -> Result<Map<String, Value>> {
        match super::events::open_props(self.pii, stored)? {
            Some(text) => serde_json::from_str(&text).map_err(corrupt),
            None => Ok(Map::new()),
        }
    }

    /// A stored JSON value, its personal data opened.
    fn opened_value(&self, text: &str) -> Result<Value> {
        let opened = self.pii.open_json(text).map_err(corrupt)?;
        serde_json::from_str(&opened).map_err(corrupt)
    }

    async fn trait_values(&self, conn: &mut AnyConnection, key: &str) -> Result<Vec<(String, Value)>> {
        let mut out = Vec::new();
        let Some((expr, param)) = trait_expr(self.dialect, key) else {
            // a key no path can name: pick it out of each profile's traits
            let sql =
                format!("SELECT {} FROM profiles WHERE merged_into IS NULL", self.dialect.json_rows("id, traits"));
            let rows: Vec<(String, String)> = json_rows(conn, sqlx::query(AssertSqlSafe(sql))).await?;
            for (id, traits) in rows {
                let Value::Object(mut traits) = self.opened_value(&traits)? else { continue };
                if let Some(v) = traits.remove(key).filter(|v| !v.is_null()) {
                    out.push((id, v));
                }
            }
            return Ok(out);
        };
        let sql = format!(
            "SELECT {} FROM (SELECT id, {expr} AS v FROM profiles WHERE merged_into IS NULL) t WHERE v IS NOT NULL",
            self.dialect.json_rows("id, v")
        );
        let rows: Vec<(String, String)> = json_rows(conn, sqlx::query(AssertSqlSafe(sql)).bind(param)).await?;
        for (id, text) in rows {
            let v = self.opened_value(&text)?;
            if !v.is_null() {
                out.push((id, v));
            }
        }
        Ok(out)
    }

    pub(super) async fn facts_of(
        &self,
        conn: &mut AnyConnection,
        ids: &[String],
        names: &[String],
        history: &[String],
    ) -> Result<Vec<ProfileFacts>> {
        let d = self.dialect;
        let list = d.params_from(0, ids.len());
        let bind_ids = |sql: String| ids.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, id| q.bind(id.as_str()));
        let sql =
            format!("SELECT {} FROM profiles WHERE merged_into IS NULL AND id IN ({list})", d.json_rows("id, traits"));
        let mut facts: HashMap<String, ProfileFacts> = HashMap::new();
        for (id, traits) in json_rows::<(String, String)>(conn, bind_ids(sql)).await? {
            let Value::Object(traits) = self.opened_value(&traits)? else { return Err(corrupt("traits")) };
            facts.insert(id.clone(), ProfileFacts { id, traits, ..Default::default() });
        }
        let pairs = |table: &str, column: &str, extra: &str| {
            format!(
                "SELECT {} FROM {table} WHERE profile_id IN ({list}){extra}",
                d.json_rows(&format!("profile_id, {column}"))
            )
        };
        let kinds: BTreeSet<(String, String)> =
            json_rows::<(String, String)>(conn, bind_ids(pairs("identities", "kind", ""))).await?.into_iter().collect();
        for (id, kind) in kinds {
            facts.entry(id).and_modify(|f| f.identities.push(kind));
        }
        for (id, tag) in json_rows::<(String, String)>(conn, bind_ids(pairs("profile_tags", "tag", ""))).await? {
            facts.entry(id).and_modify(|f| f.tags.push(tag));
        }
        let granted = " AND granted = 1";
        for (id, purpose) in
            json_rows::<(String, String)>(conn, bind_ids(pairs("consents", "purpose", granted))).await?
        {
            facts.entry(id).and_modify(|f| f.consents.push(purpose));
        }
        let members = pairs("segment_members", "segment_id", "");
        for (id, segment) in json_rows::<(String, String)>(conn, bind_ids(members)).await? {
            facts.entry(id).and_modify(|f| f.segments.push(segment));
        }
        let sql = format!(
            "SELECT {} FROM orders WHERE profile_id IN ({list}) AND status <> 'cancelled'",
            d.json_rows("profile_id, currency, total_minor, refunded_minor, coupon, placed_at, lines")
        );
        let rows: Vec<OrderRow> = json_rows(conn, bind_ids(sql)).await?;
        for (id, order) in self.order_facts(conn, rows).await? {
            facts.entry(id).and_modify(|f| f.orders.push(order));
        }
        if !names.is_empty() && !history.is_empty() {
            for (id, event) in self.events_of(conn, history, names).await? {
                facts.entry(id).and_modify(|f| f.events.push(event));
            }
        }
        let mut out: Vec<ProfileFacts> = facts.into_values().collect();
        for f in &mut out {
            f.orders.sort_by_key(|o| o.at);
            f.events.sort_by_key(|e| e.at);
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// The profiles' track events named one of `names`, found through their timelines.
    async fn events_of(
        &self,
        conn: &mut AnyConnection,
        ids: &[String],
        names: &[String],
    ) -> Result<Vec<(String, EventFact)>> {
        let d = self.dialect;
        let sql = format!("SELECT entries FROM timeline WHERE profile_id IN ({})", d.params_from(0, ids.len()));
        let rows = ids
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, id| q.bind(id.as_str()))
            .fetch_all(&mut *conn)
            .await
            .map_err(backend)?;
        let mut entries = Vec::new();
        for r in &rows {
            super::events::decode_entries(&r.try_get::<Vec<u8>, _>(0).map_err(backend)?, &mut entries)?;
        }
        let mut out = Vec::new();
        for part in entries.chunks(LIST) {
            let sql = format!(
                "SELECT {} FROM events WHERE kind = 'track' AND seq IN ({}) AND name IN ({})",
                d.json_rows("profile_id, name, ts, props"),
                d.params_from(0, part.len()),
                d.params_from(part.len(), names.len())
            );
            let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, (seq, _)| q.bind(*seq));
            let q = names.iter().fold(q, |q, n| q.bind(n.as_str()));
            for (id, name, ts, props) in json_rows::<(String, String, i64, Option<String>)>(conn, q).await? {
                out.push((id, EventFact { name, at: from_micros(ts)?, properties: self.props_map(props)? }));
            }
        }
        Ok(out)
    }
}
