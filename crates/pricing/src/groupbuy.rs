//! Group-buy (拼团): a promotion with `group_buy` prices only the orders of
//! a team's members; a team completes when `min_members` have ordered, takes
//! members up to `max_members` until it expires, and on expiry either
//! completes with whoever joined (`complete_alone`) or fails, and every
//! member's order is refunded.
//!
//! The team is a pure state machine: [`GroupBuy::open`] and [`Team::step`]
//! return the next state and what the caller must do ([`Effect`]); the
//! store keeps the state with a version, so two members racing for the last
//! place are applied one after the other and the second finds the team full.

use crate::spec::invalid;
use beacon_core::Error;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GroupBuySpec {
    /// Members (the opener included) for the team to complete.
    pub min_members: u32,
    /// Most members (default `min_members`).
    #[serde(default)]
    pub max_members: Option<u32>,
    /// How long a team stays open, in minutes.
    pub minutes: u32,
    /// On expiry, a team with fewer than `min_members` completes anyway
    /// (单独成团) instead of failing.
    #[serde(default)]
    pub complete_alone: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupBuy {
    pub min_members: u32,
    pub max_members: u32,
    pub minutes: u32,
    pub complete_alone: bool,
}

impl GroupBuySpec {
    pub(crate) fn compile(&self, id: &str) -> Result<GroupBuy, Error> {
        let max = self.max_members.unwrap_or(self.min_members);
        if !(1..=1000).contains(&self.min_members) || max < self.min_members || max > 1000 {
            return Err(invalid(
                id,
                "group_buy: min_members must be 1 to 1000 and max_members from min_members to 1000",
            ));
        }
        if !(1..=43_200).contains(&self.minutes) {
            return Err(invalid(id, "group_buy.minutes must be 1 to 43200 (30 days)"));
        }
        Ok(GroupBuy {
            min_members: self.min_members,
            max_members: max,
            minutes: self.minutes,
            complete_alone: self.complete_alone,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamStatus {
    /// Fewer than `min_members` so far.
    Open,
    /// Reached `min_members` (or expired with `complete_alone`); may still
    /// take members up to `max_members` until it expires.
    Complete,
    /// Expired short of `min_members`, or every member left.
    Failed,
}

impl TeamStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamStatus::Open => "open",
            TeamStatus::Complete => "complete",
            TeamStatus::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The buyer: a profile id, or an identity's key for a buyer without one.
    pub buyer: String,
    pub order_id: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: String,
    pub promotion: String,
    pub status: TeamStatus,
    pub min_members: u32,
    pub max_members: u32,
    pub complete_alone: bool,
    pub opened_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    /// The opener first.
    pub members: Vec<Member>,
}

/// What happens to a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// A buyer joins with their order.
    Join { buyer: String, order_id: String },
    /// A member's order was cancelled or refunded before the team completed.
    Leave { order_id: String },
    /// The team's time is up.
    Expire,
}

/// What the caller does after a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// The team completed: its orders go ahead.
    Completed,
    /// The team failed: refund these orders.
    Refund { orders: Vec<String> },
}

/// Why a step cannot happen (codes are public API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamError {
    Full {
        max_members: u32,
    },
    Expired {
        expires_at: DateTime<Utc>,
    },
    Failed,
    AlreadyMember,
    NotMember,
    /// Leaving after the team completed: the order is refunded as any order, the team stays complete.
    AlreadyComplete,
    NotExpired {
        expires_at: DateTime<Utc>,
    },
}

impl TeamError {
    pub fn code(&self) -> &'static str {
        match self {
            TeamError::Full { .. } => "team_full",
            TeamError::Expired { .. } => "team_expired",
            TeamError::Failed => "team_failed",
            TeamError::AlreadyMember => "already_member",
            TeamError::NotMember => "not_member",
            TeamError::AlreadyComplete => "team_complete",
            TeamError::NotExpired { .. } => "team_not_expired",
        }
    }
}

impl GroupBuy {
    /// A new team of `promotion`, opened by `buyer` with their order.
    pub fn open(
        &self,
        id: &str,
        promotion: &str,
        buyer: &str,
        order_id: &str,
        now: DateTime<Utc>,
    ) -> (Team, Vec<Effect>) {
        let team = Team {
            id: id.to_string(),
            promotion: promotion.to_string(),
            status: TeamStatus::Open,
            min_members: self.min_members,
            max_members: self.max_members,
            complete_alone: self.complete_alone,
            opened_at: now,
            expires_at: now + Duration::minutes(i64::from(self.minutes)),
            completed_at: None,
            members: vec![Member { buyer: buyer.to_string(), order_id: order_id.to_string(), joined_at: now }],
        };
        team.completed_if_full(now)
    }
}

impl Team {
    fn completed_if_full(mut self, now: DateTime<Utc>) -> (Team, Vec<Effect>) {
        if self.status == TeamStatus::Open && self.members.len() >= self.min_members as usize {
            self.status = TeamStatus::Complete;
            self.completed_at = Some(now);
            return (self, vec![Effect::Completed]);
        }
        (self, Vec::new())
    }

    /// The team after `step` at `now`, and what to do about it.
    pub fn step(&self, step: &Step, now: DateTime<Utc>) -> Result<(Team, Vec<Effect>), TeamError> {
        let mut next = self.clone();
        match step {
            Step::Join { buyer, order_id } => {
                if self.status == TeamStatus::Failed {
                    return Err(TeamError::Failed);
                }
                if now >= self.expires_at {
                    return Err(TeamError::Expired { expires_at: self.expires_at });
                }
                if self.members.iter().any(|m| m.buyer == *buyer) {
                    return Err(TeamError::AlreadyMember);
                }
                if self.members.len() >= self.max_members as usize {
                    return Err(TeamError::Full { max_members: self.max_members });
                }
                next.members.push(Member { buyer: buyer.clone(), order_id: order_id.clone(), joined_at: now });
                Ok(next.completed_if_full(now))
            }
            Step::Leave { order_id } => {
                match self.status {
                    TeamStatus::Failed => return Err(TeamError::Failed),
                    TeamStatus::Complete => return Err(TeamError::AlreadyComplete),
                    TeamStatus::Open => {}
                }
                let Some(k) = self.members.iter().position(|m| m.order_id == *order_id) else {
                    return Err(TeamError::NotMember);
                };
                next.members.remove(k);
                if next.members.is_empty() {
                    next.status = TeamStatus::Failed;
                }
                Ok((next, Vec::new()))
            }
            Step::Expire => {
                match self.status {
                    TeamStatus::Failed => return Err(TeamError::Failed),
                    TeamStatus::Complete => return Err(TeamError::AlreadyComplete),
                    TeamStatus::Open if now < self.expires_at => {
                        return Err(TeamError::NotExpired { expires_at: self.expires_at });
                    }
                    TeamStatus::Open => {}
                }
                if self.complete_alone && !self.members.is_empty() {
                    next.status = TeamStatus::Complete;
                    next.completed_at = Some(now);
                    return Ok((next, vec![Effect::Completed]));
                }
                next.status = TeamStatus::Failed;
                let orders = self.members.iter().map(|m| m.order_id.clone()).collect();
                Ok((next, vec![Effect::Refund { orders }]))
            }
        }
    }

    /// Places left.
    pub fn places_left(&self) -> u32 {
        self.max_members.saturating_sub(self.members.len() as u32)
    }
}
