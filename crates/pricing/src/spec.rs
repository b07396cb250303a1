//! Promotion specs: the stored JSON form (every field documented in
//! docs/promotions.md, unknown fields refused), validated once into the
//! compiled [`Promotion`] the engine runs.

use beacon_core::money::parse_minor;
use beacon_core::{Currency, Error, ErrorCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::limits::{Limit, LimitSpec};
use crate::rules::schedule;
pub use crate::rules::{Eligibility, Schedule, ScheduleSpec, WindowSpec};

/// Where a promotion stands in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
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

fn one_unit() -> u32 {
    1
}

fn active() -> Status {
    Status::Active
}

#[derive(Debug, Clone, Default, Deserialize)]
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
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum RewardSpec {
    /// A fixed amount off the eligible lines.
    AmountOff { amount: String },
    /// A percentage off the eligible lines, optionally capped.
    PercentOff {
        percent: String,
        #[serde(default)]
        max_discount: Option<String>,
    },
    /// 满减: the highest tier reached applies (by amount or by item count).
    Tiers {
        #[serde(default)]
        basis: Basis,
        tiers: Vec<TierSpec>,
    },
    /// 特价: the targeted lines at this unit price (never above what they cost).
    SpecialPrice { price: String },
    /// 买X送Y: for every `buy` + `get` units of the targeted set, the `get`
    /// cheapest are free (or `percent_off`), at most `max_times` times.
    BuyXGetY {
        buy: u32,
        get: u32,
        #[serde(default)]
        percent_off: Option<String>,
        #[serde(default)]
        max_times: Option<u32>,
    },
    /// 满赠: a gift line at zero (only while the promotion's `units` limit,
    /// its gift stock, lasts).
    Gift {
        product_id: String,
        #[serde(default)]
        sku: Option<String>,
        #[serde(default = "one_unit")]
        quantity: u32,
    },
    /// 每满减: every `every` spent takes `amount_off` off, optionally capped.
    Every {
        every: String,
        amount_off: String,
        #[serde(default)]
        max_discount: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Amount,
    Items,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Spend (basis amount) or item count (basis items) to reach the tier.
    pub min: String,
    #[serde(default)]
    pub amount_off: Option<String>,
    #[serde(default)]
    pub percent_off: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackingSpec {
    /// Promotions of an exclusive group never combine: the one that gives the
    /// shopper the lowest total is chosen.
    #[serde(default = "default_group")]
    pub group: String,
    #[serde(default)]
    pub exclusive: bool,
}

impl Default for StackingSpec {
    fn default() -> Self {
        StackingSpec { group: default_group(), exclusive: false }
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
    pub reward: Reward,
    pub min_spend: Option<i64>,
    pub group: String,
    pub exclusive: bool,
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

#[derive(Debug, Clone, PartialEq)]
pub enum Reward {
    AmountOff(i64),
    /// Basis points (10 % = 1000), optional cap.
    PercentOff(i64, Option<i64>),
    Tiers(Basis, Vec<Tier>),
    Every {
        every: i64,
        amount_off: i64,
        cap: Option<i64>,
    },
    /// Unit price, minor units.
    SpecialPrice(i64),
    /// A gift line at zero.
    Gift {
        product_id: String,
        sku: Option<String>,
        quantity: i64,
    },
    /// Buy, get, basis points off the cheapest, most times.
    BuyXGetY {
        buy: i64,
        get: i64,
        bp: i64,
        max_times: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// Minor units (basis amount) or items.
    pub min: i64,
    pub off: Off,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Off {
    Amount(i64),
    /// Basis points.
    Percent(i64),
}

/// Most limits one promotion may have.
pub const MAX_LIMITS: usize = 8;

pub(crate) fn invalid(id: &str, message: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidPromotion, format!("promotion {id:?}: {message}"))
}

impl Spec {
    /// Reads a spec from JSON text.
    pub fn parse(text: &str) -> Result<Spec, Error> {
        serde_json::from_str(text).map_err(|e| Error::new(ErrorCode::InvalidPromotion, format!("promotion: {e}")))
    }

    /// Validates the spec for a shop in `currency`.
    pub fn compile(&self, currency: Currency) -> Result<Promotion, Error> {
        let id = self.id.as_str();
        if id.trim().is_empty() || id.len() > 100 || id.chars().any(char::is_control) {
            return Err(invalid(id, "id must be 1 to 100 characters without control characters"));
        }
        if self.name.trim().is_empty() {
            return Err(invalid(id, "name is required"));
        }
        if let (Some(a), Some(b)) = (self.starts_at, self.ends_at)
            && b <= a
        {
            return Err(invalid(id, "ends_at must be after starts_at"));
        }
        let money = |field: &str, text: &str| -> Result<i64, Error> {
            let v = parse_minor(text, currency.exponent).map_err(|e| invalid(id, format!("{field}: {e}")))?;
            if v < 0 {
                return Err(invalid(id, format!("{field} must not be negative")));
            }
            Ok(v)
        };
        let percent = |field: &str, text: &str| -> Result<i64, Error> {
            // basis points: 12.5 % → 1250
            let bp = parse_minor(text, 2).map_err(|e| invalid(id, format!("{field}: {e}")))?;
            if !(0..=10_000).contains(&bp) {
                return Err(invalid(id, format!("{field} must be between 0 and 100")));
            }
            Ok(bp)
        };
        let reward = match &self.reward {
            RewardSpec::AmountOff { amount } => Reward::AmountOff(money("reward.amount", amount)?),
            RewardSpec::PercentOff { percent: p, max_discount } => Reward::PercentOff(
                percent("reward.percent", p)?,
                max_discount.as_deref().map(|m| money("reward.max_discount", m)).transpose()?,
            ),
            RewardSpec::Tiers { basis, tiers } => {
                if tiers.is_empty() {
                    return Err(invalid(id, "reward.tiers needs at least one tier"));
                }
                let mut out = Vec::with_capacity(tiers.len());
                for (i, t) in tiers.iter().enumerate() {
                    let min = match basis {
                        Basis::Amount => money(&format!("reward.tiers[{i}].min"), &t.min)?,
                        Basis::Items => t.min.trim().parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                            invalid(id, format!("reward.tiers[{i}].min must be a whole number of items ≥ 1"))
                        })?,
                    };
                    let off = match (&t.amount_off, &t.percent_off) {
                        (Some(a), None) => Off::Amount(money(&format!("reward.tiers[{i}].amount_off"), a)?),
                        (None, Some(p)) => Off::Percent(percent(&format!("reward.tiers[{i}].percent_off"), p)?),
                        _ => return Err(invalid(id, format!("reward.tiers[{i}] needs amount_off or percent_off"))),
                    };
                    if out.last().is_some_and(|prev: &Tier| prev.min >= min) {
                        return Err(invalid(id, "reward.tiers must go up by min"));
                    }
                    out.push(Tier { min, off });
                }
                Reward::Tiers(*basis, out)
            }
            RewardSpec::SpecialPrice { price } => {
                if self.target.is_none() {
                    return Err(invalid(id, "a special price needs a target (the products it is for)"));
                }
                Reward::SpecialPrice(money("reward.price", price)?)
            }
            RewardSpec::BuyXGetY { buy, get, percent_off, max_times } => {
                if *buy == 0 || *get == 0 || buy + get > 1000 {
                    return Err(invalid(
                        id,
                        "reward.buy and reward.get must be at least 1 (and at most 1000 together)",
                    ));
                }
                Reward::BuyXGetY {
                    buy: i64::from(*buy),
                    get: i64::from(*get),
                    bp: percent_off.as_deref().map(|p| percent("reward.percent_off", p)).transpose()?.unwrap_or(10_000),
                    max_times: max_times.map(i64::from),
                }
            }
            RewardSpec::Gift { product_id, sku, quantity } => {
                if product_id.trim().is_empty() || !(1..=1000).contains(quantity) {
                    return Err(invalid(id, "reward.product_id is required and reward.quantity must be 1 to 1000"));
                }
                Reward::Gift { product_id: product_id.clone(), sku: sku.clone(), quantity: i64::from(*quantity) }
            }
            RewardSpec::Every { every, amount_off, max_discount } => {
                let every = money("reward.every", every)?;
                if every == 0 {
                    return Err(invalid(id, "reward.every must be more than 0"));
                }
                Reward::Every {
                    every,
                    amount_off: money("reward.amount_off", amount_off)?,
                    cap: max_discount.as_deref().map(|m| money("reward.max_discount", m)).transpose()?,
                }
            }
        };
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
        if self.limits.len() > MAX_LIMITS {
            return Err(invalid(id, format!("at most {MAX_LIMITS} limits")));
        }
        let limits = self
            .limits
            .iter()
            .enumerate()
            .map(|(i, l)| crate::limits::compile(id, i, l, currency.exponent))
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
            reward,
            min_spend: self.min_spend.as_deref().map(|m| money("min_spend", m)).transpose()?,
            group: self.stacking.group.clone(),
            exclusive: self.stacking.exclusive,
            priority: self.priority,
        })
    }
}
