//! The pipeline's follow-up stage: what an event leaves for later goes into
//! the outbox **in the batch's transaction**, keyed by the event's log
//! position, so a replayed batch adds nothing twice and a crash loses
//! nothing. Workers (`crate::workers`) deliver the jobs:
//!
//! - `Signed Up` → `coupons.signup`: the running sign-up coupon templates
//!   issue the profile a code;
//! - order events, and events the points program pays for → `points`: the
//!   order's lot is settled, or the event earns;
//! - an applied refund or cancellation → `limits.return`: what the order
//!   took from promotion limits is given back.
//!
//! The jobs' shapes and handlers are in `app::jobs`.
//!
//! Every order event gets a points job (whether it earns is the program's
//! word when the job runs); other events only while the program pays for
//! them, by the program as stored when the batch is processed.

use beacon_core::commerce::CommerceEvent;
use beacon_core::message::MessageKind;
use beacon_core::{Currency, ProfileId};
use beacon_store::{AfterSale, LogRecord, NewJob, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

use crate::app::jobs;

/// What the stage follows.
#[derive(Debug, Clone, Default)]
pub struct Follows {
    /// The events the points program pays for; `None` without a program.
    points: Option<HashSet<String>>,
}

impl Follows {
    /// From the stored points program (its events, if it has a valid spec).
    fn from_program(stored: Option<&beacon_store::StoredProgram>, currency: Currency) -> Follows {
        let Some(stored) = stored else { return Follows::default() };
        let compiled = beacon_pricing::loyalty::ProgramSpec::parse(&stored.spec.to_string())
            .ok()
            .and_then(|s| s.compile(currency).ok());
        let names = compiled.map(|p| p.earn_per_event.into_iter().map(|(name, ..)| name).collect());
        Follows { points: Some(names.unwrap_or_default()) }
    }

    /// Whether an event of this name (an order event: `deal`) leaves a job.
    pub fn cares(&self, name: Option<&str>, deal: bool) -> bool {
        deal || name == Some("Signed Up")
            || self.points.as_ref().is_some_and(|paid| name.is_some_and(|n| paid.contains(n)))
    }

    /// The jobs one decided event leaves (`profile`: where it landed), due
    /// at `now` (the time it is processed: an event's own times may be
    /// anything a sender claims).
    pub fn event(
        &self,
        rec: &LogRecord,
        name: Option<&str>,
        deal: Option<&CommerceEvent>,
        profile: ProfileId,
        now: DateTime<Utc>,
        out: &mut Vec<NewJob>,
    ) {
        if rec.record.kind != MessageKind::Track {
            return;
        }
        let (seq, at, source) = (rec.seq, now, rec.record.source_id.as_str());
        if name == Some("Signed Up") {
            out.push(jobs::signup(seq, &profile.to_string(), at));
        }
        // every order event: whether it earns is the program's word when the job runs
        if let Some(order_id) = deal.and_then(super::orders::order_id) {
            let completed = matches!(deal, Some(CommerceEvent::Completed(_)));
            out.push(jobs::points_order(seq, order_id, completed, source, self.points.is_some(), at));
        } else if let Some(name) = name.filter(|n| self.points.as_ref().is_some_and(|paid| paid.contains(*n))) {
            out.push(jobs::points_event(seq, name, &profile.to_string(), source, rec.record.received_at, at));
        }
    }

    /// The jobs of the batch's after-sales records: applied ones give back.
    pub fn after_sales(after_sales: &[AfterSale], now: DateTime<Utc>, out: &mut Vec<NewJob>) {
        for a in after_sales.iter().filter(|a| a.outcome == "applied") {
            out.push(jobs::give_back(a.seq, &a.order_id, now));
        }
    }
}

/// The follows as of the stored program's version: read each batch (one
/// small row), compiled again only when the program changed, so an event
/// processed after the program's change is followed by the new rules.
#[derive(Default)]
pub struct FollowsCache(Option<(i64, Follows)>);

impl FollowsCache {
    pub async fn get(&mut self, store: &dyn Store, currency: Currency) -> Result<Follows, StoreError> {
        let stored = store.loyalty().program().await?;
        let version = stored.as_ref().map_or(0, |p| p.version);
        match &self.0 {
            Some((v, follows)) if *v == version => Ok(follows.clone()),
            _ => {
                let follows = Follows::from_program(stored.as_ref(), currency);
                self.0 = Some((version, follows.clone()));
                Ok(follows)
            }
        }
    }
}
