//! Lifecycle stages kept: every few minutes the buyers' stages as of the
//! shop's today (`app::rfm`'s table, `beacon_insight::lifecycle`) are
//! compared with the stored ones; each profile that moved is stored at its
//! new stage with a `Lifecycle Stage Changed` event (`from`, `to`) for the
//! log. The first run stores every stage without events (a stage is only a
//! change once there was one before) and a row saying it ran ([`SWEPT`]).

use super::{App, AppResult, notify, rfm};
use beacon_insight::lifecycle::Stage;
use beacon_store::StageChange;
use serde_json::json;
use std::collections::HashMap;

/// The profile id of the row that says the stages were decided once.
const SWEPT: &str = "";

/// How often the stages are decided again.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// Decides every stage as of today; answers how many profiles moved.
pub async fn sweep(app: &App) -> AppResult<usize> {
    let table = rfm::table(app, None).await?;
    let stored: HashMap<String, String> = app.store.segments().stored_stages().await?.into_iter().collect();
    let first = !stored.contains_key(SWEPT);
    let mut changes = Vec::new();
    for (s, stage) in table.customers.iter().zip(&table.stages) {
        let from = stored.get(&s.id).map_or(Stage::Potential.key(), String::as_str);
        if from != stage.key() {
            changes.push(StageChange { profile_id: s.id.clone(), from: from.to_string(), to: stage.key().to_string() });
        }
    }
    // a stored buyer no longer among them (orders cancelled): potential again
    for (id, from) in &stored {
        if id != SWEPT && table.of(id).is_none() && from != Stage::Potential.key() {
            changes.push(StageChange { profile_id: id.clone(), from: from.clone(), to: Stage::Potential.key().into() });
        }
    }
    let now = app.now();
    let moved = changes.len();
    if first {
        changes.push(StageChange { profile_id: SWEPT.into(), from: "".into(), to: "swept".into() });
    }
    for part in changes.chunks(5000) {
        let outbox: Vec<_> = if first {
            Vec::new()
        } else {
            part.iter()
                .map(|c| {
                    let id = format!("lifecycle:{}:{}:{}", c.profile_id, c.to, table.as_of);
                    notify::job(&c.profile_id, "Lifecycle Stage Changed", json!({"from": c.from, "to": c.to}), id, now)
                })
                .collect()
        };
        app.store.segments().write_stages(part, &outbox, now).await?;
    }
    Ok(moved)
}

/// The moves between stages logged after `since` (`Lifecycle Stage
/// Changed`): how many profiles went from each stage to each other, most first.
pub async fn transitions(app: &App, since: chrono::DateTime<chrono::Utc>) -> AppResult<Vec<(String, String, u64)>> {
    use beacon_segment::batch::{Rows, Scan};
    let scan = Scan::EventProperties { event: "Lifecycle Stage Changed".into(), since: Some(since), until: app.now() };
    let Rows::Properties(rows) = app.store.segment_facts().scan(&scan).await? else {
        return Err(beacon_store::internal_error("a properties scan answered other rows"));
    };
    let mut counts: HashMap<(String, String), u64> = HashMap::new();
    for (_, props) in rows {
        let text = |k: &str| props.get(k).and_then(|v| v.as_str()).map(str::to_string);
        if let (Some(from), Some(to)) = (text("from"), text("to")) {
            *counts.entry((from, to)).or_default() += 1;
        }
    }
    let mut out: Vec<(String, String, u64)> = counts.into_iter().map(|((f, t), n)| (f, t, n)).collect();
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| (&a.0, &a.1).cmp(&(&b.0, &b.1))));
    Ok(out)
}
