//! The loyalty port: the points program, points lots and the reads the
//! program needs (balances, what was earned in a period, leaderboards).

use crate::{Result, StoredEvent};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredProgram {
    pub spec: serde_json::Value,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredLot {
    pub id: String,
    pub profile_id: String,
    /// `order`, or the name of the event that earned it.
    pub source: String,
    pub order_id: Option<String>,
    /// As earned (refunds take back a share of this).
    pub earned: i64,
    /// Earned, less what refunds took back.
    pub points: i64,
    /// Not spent yet (below zero: a debt).
    pub left: i64,
    pub earned_at: DateTime<Utc>,
    pub vests_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Which lots `more` points go back to, of those an order took, when
/// `already` came back before (`beacon_pricing::points::give_back`).
pub type Split = fn(&[(String, i64)], i64, i64) -> Vec<(String, i64)>;

#[async_trait]
pub trait LoyaltyStore: Send + Sync {
    async fn program(&self) -> Result<Option<StoredProgram>>;
    /// Replaces the program if it is at `expected_version` (none: there is
    /// none yet), audited `loyalty.update`; `Conflict` otherwise.
    async fn put_program(
        &self,
        spec: &serde_json::Value,
        expected_version: Option<i64>,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<StoredProgram>;
    /// A profile's lots (with those of profiles merged into it), oldest first.
    async fn lots(&self, profile_id: &str) -> Result<Vec<StoredLot>>;
    async fn lot(&self, id: &str) -> Result<Option<StoredLot>>;
    /// Adds a lot; false if its id exists, or if `cap` is given and the
    /// profile already has `cap` lots from the lot's source earned in
    /// [from, to) (counted and added atomically).
    async fn add_lot(&self, lot: &StoredLot, cap: Option<(DateTime<Utc>, DateTime<Utc>, i64)>) -> Result<bool>;
    /// A refund takes `by` points back from a lot still at `points`: from
    /// what is left, the rest as a debt; false if the lot moved on.
    async fn claw_back(&self, id: &str, points: i64, by: i64) -> Result<bool>;
    /// Gives an order's redeemed points back until `due` have come back in
    /// all: reads what came back before and adds the rest to lots as
    /// `split(took, already, more)` says, atomically (two nodes cannot both
    /// give the same share back); returns how many came back now.
    async fn give_back_points(
        &self,
        order_id: &str,
        took: &[(String, i64)],
        due: i64,
        split: Split,
        at: DateTime<Utc>,
    ) -> Result<i64>;
    /// What was given back for an order so far.
    async fn points_given_back(&self, order_id: &str) -> Result<i64>;
    /// Lots of a profile from `source` earned in [from, to).
    async fn count_lots(&self, profile_id: &str, source: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64>;
    /// Points a profile (and those merged into it) earned in [from, to).
    async fn earned(&self, profile_id: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64>;
    /// The profiles that earned the most in [from, to): (profile, points), most first, ties by id.
    async fn leaderboard(&self, from: DateTime<Utc>, to: DateTime<Utc>, limit: u32) -> Result<Vec<(String, i64)>>;
    /// How many profiles earned more than `points` in [from, to).
    async fn earned_more(&self, points: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<i64>;
    /// Events with one of these names after log position `after`, oldest first.
    async fn named_events_after(&self, names: &[String], after: i64, limit: u32) -> Result<Vec<StoredEvent>>;
}
