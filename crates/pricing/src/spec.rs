//! Promotion specs: the stored JSON form (every field documented in
//! docs/promotions.md, unknown fields refused), validated once into the
//! compiled [`Promotion`] the engine runs.

use beacon_core::{Currency, Error, ErrorCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::codes::{Codes, CodesSpec};
use crate::groupbuy::{GroupBuy, GroupBuySpec};
use crate::limits::{Limit, LimitSpec};
use crate::reward::money;
pub use crate::reward::{Basis, Off, Reward, RewardSpec, Tier, TierSpec};
use crate::rules::schedule;
pub use crate::rules::{Eligibility, Schedule, ScheduleSpec, WindowSpec};

/// Where a promotion stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Scheduled,
    Active,
    Paused,
    Ended,
}

/// The JSON form of a promotion.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Spec {
    pub id: String,
    pub name: String,
    #[serde(default = "active")]
    pub status: Status,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// 限时折扣: recurring windows (days of the week, hours) in the shop's time zone.
    #[serde(default)]
    pub schedule: Option<ScheduleSpec>,
    /// Which lines it applies to; none: the whole order.
    #[serde(default)]
    pub target: Option<TargetSpec>,
    /// Who may have it (member tiers, tags, new customers); none: everyone.
    #[serde(default)]
    pub eligibility: Option<Eligibility>,
    /// A shared coupon code the cart must present (any case); none: automatic.
    #[serde(default)]
    pub coupon: Option<String>,
    /// A coupon template: unique codes, each used once (docs/promotions.md,
    /// "Coupon templates"); not with `coupon`.
    #[serde(default)]
    pub codes: Option<CodesSpec>,
    /// 拼团: the reward is for the orders of a team's members only
    /// (docs/promotions.md, "Group-buy"); needs a `target`.
    #[serde(default)]
    pub group_buy: Option<GroupBuySpec>,
    pub reward: RewardSpec,
    /// The eligible lines must add up to at least this (after earlier discounts).
    #[serde(default)]
    pub min_spend: Option<String>,
    #[serde(default)]
    pub stacking: StackingSpec,
    /// Higher runs first within its stage.
    #[serde(default)]
    pub priority: i32,
    /// Budgets and limits (docs/promotions.md, "Budgets and limits").
    #[serde(default)]
    pub limits: Vec<LimitSpec>,
}

fn active() -> Status {
    Status::Active
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TargetSpec {
    #[serde(default)]
    pub products: Vec<String>,
    /// Category paths ("茶叶/绿茶"); a category includes everything below it.
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StackingSpec {
    /// Promotions of an exclusive group never combine: the one that gives the
    /// shopper the lowest total is chosen.
    #[serde(default = "default_group")]
    pub group: String,
    #[serde(default)]
    pub exclusive: bool,
    /// Groups it never combines with (either way): a coupon group that does
    /// not stack with the flash-sale group, say.
    #[serde(default)]
    pub not_with: Vec<String>,
    /// Applies whenever the cart is eligible: a price (a member price, a
    /// flash sale), not an option the search for the lowest total may
    /// leave out. It still obeys its group and `not_with` rules, and wins
    /// them against promotions that are options.
    #[serde(default)]
    pub always: bool,
}

impl Default for StackingSpec {
    fn default() -> Self {
        StackingSpec { group: default_group(), exclusive: false, not_with: Vec::new(), always: false }
    }
}

fn default_group() -> String {
    "default".into()
}

/// A validated promotion, in the shop currency's minor units.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    pub id: String,
    pub name: String,
    /// The currency its amounts are in (a cart in another is not discounted).
    pub currency: Currency,
    pub status: Status,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub schedule: Option<Schedule>,
    pub target: Option<Target>,
    pub eligibility: Option<Eligibility>,
    /// The code, upper-cased.
    pub coupon: Option<String>,
    /// Unique codes (a coupon template).
    pub codes: Option<Codes>,
    /// Team rules (a group-buy).
    pub group_buy: Option<GroupBuy>,
    pub reward: Reward,
    pub min_spend: Option<i64>,
    pub group: String,
    pub exclusive: bool,
    /// Groups it never combines with.
    pub not_with: Vec<String>,
    /// Never left out by the search when it can apply ([`StackingSpec::always`]).
    pub always: bool,
    pub priority: i32,
    pub limits: Vec<Limit>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    pub products: Vec<String>,
    pub categories: Vec<Vec<String>>,
    pub brands: Vec<String>,
    pub tags: Vec<String>,
}

/// Most limits one promotion may have.
pub const MAX_LIMITS: usize = 8;
/// Longest promotion name, in characters (it is printed on receipts and in wallets).
pub const MAX_NAME_CHARS: usize = 100;

pub(crate) fn invalid(id: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidPromotion, format!("promotion {id:?}: {message}"))
}

impl Promotion {
    /// Whether the two never combine (`not_with` either way).
    pub fn conflicts(&self, other: &Promotion) -> bool {
        (!self.not_with.is_empty() || !other.not_with.is_empty())
            && self.id != other.id
            && (self.not_with.contains(&other.group) || other.not_with.contains(&self.group))
    }
}

impl Spec {
    /// Reads a spec from JSON text.
    pub fn parse(text: &str) -> Result<Spec, Error> {
        let bad = |m: String| Error::new(ErrorCode::InvalidPromotion, format!("promotion: {m}"));
        // (serde would read a list as the struct's fields in order)
        if !text.trim_start().starts_with('{') {
            return Err(bad("a promotion is a JSON object".into()));
        }
        serde_json::from_str(text).map_err(|e| bad(e.to_string()))
    }

    /// Validates the spec for a shop in `currency`.
    ///
    /// (A name is what a shopper reads on a receipt: [`MAX_NAME_CHARS`] at most.)
    pub fn compile(&self, currency: Currency) -> Result<Promotion, Error> {
        let id = self.id.as_str();
        if id.trim().is_empty() || id.len() > 100 || id.chars().any(char::is_control) || id.starts_with('~') {
            return Err(invalid(id, "id must be 1 to 100 characters without control characters, not starting with ~"));
        }
        if self.name.trim().is_empty() {
            return Err(invalid(id, "name is required"));
        }
        if self.name.chars().count() > MAX_NAME_CHARS || self.name.chars().any(char::is_control) {
            return Err(invalid(
                id,
                format!("name must be 1 to {MAX_NAME_CHARS} characters without control characters"),
            ));
        }
        if let (Some(a), Some(b)) = (self.starts_at, self.ends_at)
            && b <= a
        {
            return Err(invalid(id, "ends_at must be after starts_at"));
        }
        let money = |field: &str, text: &str| money(id, field, text, currency.exponent);
        let reward = self.reward.compile(id, currency, self.target.is_some())?;
        let target = self.target.as_ref().map(|t| Target {
            products: t.products.clone(),
            categories: t
                .categories
                .iter()
                .map(|c| c.split('/').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect())
                .collect(),
            brands: t.brands.clone(),
            tags: t.tags.clone(),
        });
        if target.as_ref().is_some_and(|t| {
            t.products.is_empty() && t.categories.is_empty() && t.brands.is_empty() && t.tags.is_empty()
        }) {
            return Err(invalid(
                id,
                "target names no product, category, brand or tag (leave it out for the whole order)",
            ));
        }
        let schedule = self.schedule.as_ref().map(|s| schedule(id, s)).transpose()?;
        let coupon = match self.coupon.as_deref().map(str::trim) {
            None => None,
            Some(c)
                if c.is_empty()
                    || c.len() > 64
                    || !c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') =>
            {
                return Err(invalid(id, "coupon must be 1 to 64 letters, digits, '-' or '_'"));
            }
            Some(c) => Some(c.to_ascii_uppercase()),
        };
        if coupon.is_some() && self.codes.is_some() {
            return Err(invalid(id, "a promotion has a shared coupon code or unique codes, not both"));
        }
        let codes = self.codes.as_ref().map(|c| c.compile(id)).transpose()?;
        let group_buy = self.group_buy.as_ref().map(|g| g.compile(id)).transpose()?;
        if group_buy.is_some() && target.is_none() {
            return Err(invalid(id, "a group-buy needs a target (the products teams buy)"));
        }
        if self.limits.len() > MAX_LIMITS {
            return Err(invalid(id, format!("at most {MAX_LIMITS} limits")));
        }
        let limits = self
            .limits
            .iter()
            .enumerate()
            .map(|(i, l)| match l.counter {
                crate::limits::Counter::Points => {
                    Err(invalid(id, format!("limits[{i}]: counter points is for the points program's redeem.limits")))
                }
                _ => crate::limits::compile(id, i, l, currency.exponent),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Promotion {
            limits,
            id: self.id.clone(),
            name: self.name.clone(),
            currency,
            status: self.status,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            schedule,
            target,
            eligibility: self.eligibility.clone(),
            coupon,
            codes,
            group_buy,
            reward,
            min_spend: self.min_spend.as_deref().map(|m| money("min_spend", m)).transpose()?,
            group: self.stacking.group.clone(),
            exclusive: self.stacking.exclusive,
            not_with: self.stacking.not_with.clone(),
            always: self.stacking.always,
            priority: self.priority,
        })
    }
}
