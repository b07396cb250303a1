//! The wallet's coupons and the points lots as segments read them
//! (`beacon_segment::CouponFact`, `PointsLot`), for a few profiles (the
//! pipeline's stage, a recheck) or for everyone (a batch scan). A coupon
//! or lot of a profile merged into another is the survivor's, as the
//! wallet and the points balance count it.
//!
//! On the embedded store these tables live in `checkout.db`: they are read
//! on its readers' pool (with `beacon.db` attached, for the merges and the
//! templates), outside the processor's transaction. A checkout or an
//! issue that changes them commits first and then has the profile decided
//! again (`app::segments::wallet_changed`), so that decision reads what
//! the change wrote.

use super::{Dialect, SqlDialect as _, backend, from_micros};
use crate::Result;
use beacon_segment::batch::{Rows, Scan};
use beacon_segment::{CouponFact, PointsLot};
use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{BTreeSet, HashMap};

/// Coupons and lots by the live profile holding them.
#[derive(Debug, Default)]
pub(super) struct Wallets {
    pub coupons: Vec<(String, CouponFact)>,
    pub points: Vec<(String, PointsLot)>,
}

/// What to read: whose (`None`: everyone's), and which parts.
pub(super) struct Ask<'a> {
    pub ids: Option<&'a [String]>,
    /// Only this template's coupons.
    pub promotion: Option<&'a str>,
    pub coupons: bool,
    pub points: bool,
}

/// `WHERE` of a table aliased `x` joined to `merges m`: held by one of
/// `ids` (after the `n` parameters before them), itself or through a merge.
fn owned_by(d: Dialect, n: usize, ids: Option<&[String]>) -> String {
    match ids {
        None => "x.profile_id IS NOT NULL".into(),
        Some(ids) => {
            let list = d.params_from(n, ids.len());
            let again = d.params_from(n + ids.len(), ids.len());
            format!("(x.profile_id IN ({list}) OR m.survivor_id IN ({again}))")
        }
    }
}

fn bind_ids<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ids: Option<&'q [String]>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    // the list twice, in the text's order
    for id in ids.into_iter().flatten().chain(ids.into_iter().flatten()) {
        q = q.bind(id.as_str());
    }
    q
}

pub(super) async fn read(conn: &mut AnyConnection, d: Dialect, ask: &Ask<'_>) -> Result<Wallets> {
    let mut out = Wallets::default();
    if ask.ids.is_some_and(<[String]>::is_empty) {
        return Ok(out);
    }
    if ask.coupons {
        let n = usize::from(ask.promotion.is_some());
        let sql = format!(
            "SELECT COALESCE(m.survivor_id, x.profile_id) AS who, x.promotion, COALESCE(k.used, 0) AS used, \
             x.valid_until FROM coupons x LEFT JOIN merges m ON m.merged_id = x.profile_id \
             LEFT JOIN promotion_counters k ON k.key = x.promotion || '|code|total|coupon:' || x.code \
             WHERE {}{}",
            if n == 1 { format!("x.promotion = {} AND ", d.param(1)) } else { String::new() },
            owned_by(d, n, ask.ids)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        if let Some(p) = ask.promotion {
            q = q.bind(p);
        }
        let rows = bind_ids(q, ask.ids).fetch_all(&mut *conn).await.map_err(backend)?;
        let mut held = Vec::with_capacity(rows.len());
        for r in &rows {
            let until: Option<i64> = r.try_get("valid_until").map_err(backend)?;
            held.push((
                r.try_get::<String, _>("who").map_err(backend)?,
                r.try_get::<String, _>("promotion").map_err(backend)?,
                r.try_get::<i64, _>("used").map_err(backend)? > 0,
                until.map(from_micros).transpose()?,
            ));
        }
        let templates = templates(conn, d, held.iter().map(|h| h.1.as_str()).collect()).await?;
        for (who, promotion, used, until) in held {
            // a template ended or gone ends its codes; one that ends later ends them then
            let (ended, ends_at) = templates.get(&promotion).copied().unwrap_or((true, None));
            let until = match (until, ends_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            out.coupons.push((who, CouponFact { promotion, spent: used || ended, until }));
        }
    }
    if ask.points {
        let sql = format!(
            "SELECT COALESCE(m.survivor_id, x.profile_id) AS who, x.left_points, x.vests_at, x.expires_at \
             FROM points_lots x LEFT JOIN merges m ON m.merged_id = x.profile_id WHERE {}",
            owned_by(d, 0, ask.ids)
        );
        let rows = bind_ids(sqlx::query(AssertSqlSafe(sql)), ask.ids).fetch_all(&mut *conn).await.map_err(backend)?;
        for r in &rows {
            let expires: Option<i64> = r.try_get("expires_at").map_err(backend)?;
            let lot = PointsLot {
                left: r.try_get("left_points").map_err(backend)?,
                vests_at: from_micros(r.try_get("vests_at").map_err(backend)?)?,
                expires_at: expires.map(from_micros).transpose()?,
            };
            out.points.push((r.try_get("who").map_err(backend)?, lot));
        }
    }
    Ok(out)
}

/// The answer to a batch scan of the wallets (`Scan::Coupons`,
/// `Scan::Points`), from everyone's coupons or lots.
pub(super) async fn scan(pool: &sqlx::AnyPool, d: Dialect, scan: &Scan) -> Result<Rows> {
    let mut conn = pool.acquire().await.map_err(backend)?;
    Ok(match scan {
        Scan::Coupons { promotion, at } => {
            let ask = Ask { ids: None, promotion: promotion.as_deref(), coupons: true, points: false };
            let mut held: HashMap<String, u64> = HashMap::new();
            for (who, c) in read(&mut conn, d, &ask).await?.coupons {
                if c.available(*at) {
                    *held.entry(who).or_default() += 1;
                }
            }
            Rows::Counts(held.into_iter().collect())
        }
        Scan::Points { at } => {
            let ask = Ask { ids: None, promotion: None, coupons: false, points: true };
            let mut lots: HashMap<String, Vec<PointsLot>> = HashMap::new();
            for (who, l) in read(&mut conn, d, &ask).await?.points {
                lots.entry(who).or_default().push(l);
            }
            Rows::Amounts(lots.into_iter().map(|(who, l)| (who, beacon_segment::points_available(&l, *at))).collect())
        }
        other => return Err(crate::StoreError::Backend(format!("not a scan of the wallets: {other:?}"))),
    })
}

/// Adds the coupons and lots of `ids` to their `facts`.
pub(super) async fn fill(
    conn: &mut AnyConnection,
    d: Dialect,
    ids: &[String],
    facts: &mut [crate::ProfileFacts],
) -> Result<()> {
    let w = read(conn, d, &Ask { ids: Some(ids), promotion: None, coupons: true, points: true }).await?;
    let at: HashMap<String, usize> = facts.iter().enumerate().map(|(i, f)| (f.id.clone(), i)).collect();
    for (who, c) in w.coupons {
        if let Some(&i) = at.get(&who) {
            facts[i].coupons.push(c);
        }
    }
    for (who, l) in w.points {
        if let Some(&i) = at.get(&who) {
            facts[i].points.push(l);
        }
    }
    Ok(())
}

/// Per coupon template: whether it ended (its status), and when it ends.
async fn templates(
    conn: &mut AnyConnection,
    d: Dialect,
    ids: BTreeSet<&str>,
) -> Result<HashMap<String, (bool, Option<DateTime<Utc>>)>> {
    let mut out = HashMap::new();
    let ids: Vec<&str> = ids.into_iter().collect();
    for part in ids.chunks(500) {
        let sql = format!("SELECT id, status, spec FROM promotions WHERE id IN ({})", d.params_from(0, part.len()));
        let q = part.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, id| q.bind(*id));
        for r in q.fetch_all(&mut *conn).await.map_err(backend)? {
            let status: String = r.try_get("status").map_err(backend)?;
            let spec: String = r.try_get("spec").map_err(backend)?;
            let ends_at = serde_json::from_str::<Value>(&spec)
                .ok()
                .and_then(|s| s.get("ends_at").and_then(Value::as_str).map(str::to_string))
                .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc));
            out.insert(r.try_get("id").map_err(backend)?, (status == "ended", ends_at));
        }
    }
    Ok(out)
}
