//! Codes issued on sign-up: each coupon template with `codes.on_signup`
//! that is running gives every profile that signs up (a `Signed Up` track
//! event, Segment's name for it) one code, once — the issue key
//! `signup:<profile>` makes a replay issue nothing twice.
//!
//! The task follows the processed events from where it stopped (its offset
//! is kept in the store), so a restart neither misses nor repeats a sign-up.

use super::coupons::{Target, issue, open_for_shoppers};
use crate::app::profiles::{self, ProfileRef};
use crate::app::{App, AppResult};
use beacon_pricing::Promotion;
use std::time::Duration;

/// The task's offset in the store.
pub const FOLLOWER: &str = "coupons.signup";
/// How often it looks for new sign-ups.
pub const EVERY: Duration = Duration::from_millis(500);

/// Issues the codes of every sign-up since the last run; returns how many
/// sign-ups were handled.
pub async fn settle(app: &App) -> AppResult<usize> {
    let promotions = app.store.promotions();
    let mut after = promotions.follower_offset(FOLLOWER).await?;
    let mut done = 0;
    loop {
        let batch = promotions.signups_after(after, 500).await?;
        let Some(last) = batch.last().map(|(seq, _)| *seq) else { return Ok(done) };
        let snapshot = app.promotions.snapshot(app.store.as_ref(), app.rules.currency).await?;
        let now = app.now();
        let templates: Vec<&Promotion> = snapshot
            .promotions()
            .iter()
            .filter(|p| p.codes.as_ref().is_some_and(|c| c.on_signup) && open_for_shoppers(p, now).is_ok())
            .collect();
        if !templates.is_empty() {
            let mut targets = Vec::with_capacity(batch.len());
            for (_, id) in &batch {
                // a profile merged away since is issued to as its survivor
                let Ok(r) = ProfileRef::id(id) else { continue };
                if let Some(p) = profiles::find(app, &r).await? {
                    targets.push(Target { profile_id: Some(p.id.to_string()), issue_key: format!("signup:{}", p.id) });
                }
            }
            targets.sort_by(|a, b| a.issue_key.cmp(&b.issue_key));
            targets.dedup_by(|a, b| a.issue_key == b.issue_key);
            for p in templates {
                issue(app, p, "signup", &targets, now).await?;
            }
        }
        after = last;
        promotions.set_follower_offset(FOLLOWER, after).await?;
        done += batch.len();
    }
}
