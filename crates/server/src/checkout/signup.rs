//! Codes issued on sign-up: each coupon template with `codes.on_signup`
//! that is running gives every profile that signs up (a `Signed Up` track
//! event, Segment's name for it) one code, once — the issue key
//! `signup:<profile>` makes a replay issue nothing twice.
//!
//! The task follows the processed events from where it stopped (its offset
//! is kept in the store), so a restart neither misses nor repeats a sign-up.

use super::coupons::{Target, issue, open_for_shoppers};
use crate::error::ApiResult;
use crate::state::AppState;
use beacon_pricing::Promotion;
use chrono::Utc;
use std::time::Duration;

/// The task's offset in the store.
pub const FOLLOWER: &str = "coupons.signup";
/// How often it looks for new sign-ups.
pub const EVERY: Duration = Duration::from_millis(500);

/// Issues the codes of every sign-up since the last run; returns how many
/// sign-ups were handled.
pub async fn settle(state: &AppState) -> ApiResult<usize> {
    let promotions = state.store.promotions();
    let mut after = promotions.follower_offset(FOLLOWER).await?;
    let mut done = 0;
    loop {
        let batch = promotions.signups_after(after, 500).await?;
        let Some(last) = batch.last().map(|(seq, _)| *seq) else { return Ok(done) };
        let snapshot = state.promotions.snapshot(state.store.as_ref(), state.rules.currency).await?;
        let now = Utc::now();
        let templates: Vec<&Promotion> = snapshot
            .promotions()
            .iter()
            .filter(|p| p.codes.as_ref().is_some_and(|c| c.on_signup) && open_for_shoppers(p, now).is_ok())
            .collect();
        if !templates.is_empty() {
            let mut targets = Vec::with_capacity(batch.len());
            for (_, id) in &batch {
                // a profile merged away since is issued to as its survivor
                let Ok(parsed) = crate::api::profiles::parse_profile_id(id) else { continue };
                if let Some(p) = state.store.get_profile(parsed).await? {
                    targets.push(Target { profile_id: Some(p.id.to_string()), issue_key: format!("signup:{}", p.id) });
                }
            }
            targets.sort_by(|a, b| a.issue_key.cmp(&b.issue_key));
            targets.dedup_by(|a, b| a.issue_key == b.issue_key);
            for p in templates {
                issue(state, p, "signup", &targets, now).await?;
            }
        }
        after = last;
        promotions.set_follower_offset(FOLLOWER, after).await?;
        done += batch.len();
    }
}

/// Runs [`settle`] until `stop`, waking every [`EVERY`].
pub async fn run(state: AppState, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        if let Err(e) = settle(&state).await {
            tracing::warn!("issuing sign-up coupons: {}", e.error.message);
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
