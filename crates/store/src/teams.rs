//! Group-buy teams as the store keeps them: the pure state machine's team
//! (`beacon_pricing::groupbuy::Team`) as JSON, with a version.

use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq)]
pub struct StoredTeam {
    pub id: String,
    pub promotion: String,
    /// `open`, `complete` or `failed`.
    pub status: String,
    pub expires_at: DateTime<Utc>,
    /// The team.
    pub state: serde_json::Value,
    /// Bumped by every change (compare-and-set).
    pub version: i64,
}

/// A team written with a checkout, in its transaction: created, or moved
/// on from `expected_version`.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamWrite {
    pub team: StoredTeam,
    /// None: a new team.
    pub expected_version: Option<i64>,
}
