//! Codes issued on sign-up: each coupon template with `codes.on_signup`
//! that is running gives every profile that signs up (a `Signed Up` track
//! event, Segment's name for it) one code, once — the issue key
//! `signup:<profile>` makes a replay issue nothing twice.
//!
//! The processor queues a job for each `Signed Up` event in its batch
//! transaction (`processor::follow`); a worker delivers it here.

use super::RETIRED;
use super::coupons::{Target, issue, open_for_shoppers};
use crate::app::profiles::{self, ProfileRef};
use crate::app::{App, AppResult};
use beacon_pricing::Promotion;
use beacon_store::{NewJob, Queue};

/// The retired follower's offset in the store.
const FOLLOWER: &str = "coupons.signup";

/// Issues a sign-up code of every running sign-up template to the profile
/// (a profile merged away since is issued to as its survivor); the issue key
/// `signup:<profile>` makes a second sign-up, or a retry, issue nothing new.
pub async fn issue_for(app: &App, profile_id: &str) -> AppResult<()> {
    let snapshot = app.promotions.snapshot(app.store.as_ref(), app.rules.currency).await?;
    let now = app.now();
    let templates: Vec<&Promotion> = snapshot
        .promotions()
        .iter()
        .filter(|p| p.codes.as_ref().is_some_and(|c| c.on_signup) && open_for_shoppers(p, now).is_ok())
        .collect();
    if templates.is_empty() {
        return Ok(());
    }
    let Some(p) = profiles::find(app, &ProfileRef::id(profile_id)?).await? else { return Ok(()) };
    let target = Target { profile_id: Some(p.id.to_string()), issue_key: format!("signup:{}", p.id) };
    for t in templates {
        issue(app, t, "signup", std::slice::from_ref(&target), now).await?;
    }
    Ok(())
}

/// Upgrading from the follower that read sign-ups from the events table:
/// the sign-ups it had not reached become outbox jobs (the processor's
/// keys, so one it queued already is not queued twice), and it is retired.
pub async fn catch_up(app: &App) -> AppResult<usize> {
    let promotions = app.store.promotions();
    let mut after = promotions.follower_offset(FOLLOWER).await?;
    let mut queued = 0;
    while after < RETIRED {
        let batch = promotions.signups_after(after, 500).await?;
        let Some(last) = batch.last().map(|(seq, _)| *seq) else { break };
        let jobs: Vec<NewJob> =
            batch.iter().map(|(seq, profile)| crate::app::jobs::signup(*seq, profile, app.now())).collect();
        queued += app.store.jobs().enqueue(Queue::Outbox, &jobs).await?;
        after = last;
        promotions.set_follower_offset(FOLLOWER, after).await?;
    }
    promotions.set_follower_offset(FOLLOWER, RETIRED).await?;
    Ok(queued)
}
