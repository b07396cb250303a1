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
