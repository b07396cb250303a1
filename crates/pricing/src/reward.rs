//! Rewards: what a promotion gives, as written (`RewardSpec`) and as the
//! engine runs it (`Reward`), in the shop currency's minor units.

use crate::spec::invalid;
use beacon_core::money::parse_minor;
use beacon_core::{Currency, Error};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// cheapest are free (or `percent_off`), at most `max_times` times. With
    /// `get_products`: for every `buy` units of the targeted set, `get` units
    /// of those products (ids or SKUs; the cheapest in the cart) instead.
    BuyXGetY {
        buy: u32,
        get: u32,
        #[serde(default)]
        percent_off: Option<String>,
        #[serde(default)]
        max_times: Option<u32>,
        #[serde(default)]
        get_products: Vec<String>,
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
    /// 包邮: the cart's shipping fee off (or at most `max_discount` of it).
    FreeShipping {
        #[serde(default)]
        max_discount: Option<String>,
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    #[default]
    Amount,
    Items,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    /// Spend (basis amount) or item count (basis items) to reach the tier.
    pub min: String,
    #[serde(default)]
    pub amount_off: Option<String>,
    #[serde(default)]
    pub percent_off: Option<String>,
}

fn one_unit() -> u32 {
    1
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
    /// The shipping fee off, at most this much.
    FreeShipping(Option<i64>),
    /// Buy, get, basis points off the cheapest, most times; the named
    /// products the `get` units are of (none: the targeted set's own).
    BuyXGetY {
        buy: i64,
        get: i64,
        bp: i64,
        max_times: Option<i64>,
        get_products: Vec<String>,
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

/// A non-negative amount in minor units.
pub(crate) fn money(id: &str, field: &str, text: &str, exponent: u8) -> Result<i64, Error> {
    let v = parse_minor(text, exponent).map_err(|e| invalid(id, format!("{field}: {e}")))?;
    if v < 0 {
        return Err(invalid(id, format!("{field} must not be negative")));
    }
    Ok(v)
}

impl RewardSpec {
    /// Validates the reward of promotion `id` (`has_target`: it names lines).
    pub(crate) fn compile(&self, id: &str, currency: Currency, has_target: bool) -> Result<Reward, Error> {
        let money = |field: &str, text: &str| money(id, field, text, currency.exponent);
        let percent = |field: &str, text: &str| -> Result<i64, Error> {
            // basis points: 12.5 % → 1250
            let bp = parse_minor(text, 2).map_err(|e| invalid(id, format!("{field}: {e}")))?;
            if !(0..=10_000).contains(&bp) {
                return Err(invalid(id, format!("{field} must be between 0 and 100")));
            }
            Ok(bp)
        };
        Ok(match self {
            Self::AmountOff { amount } => Reward::AmountOff(money("reward.amount", amount)?),
            Self::PercentOff { percent: p, max_discount } => Reward::PercentOff(
                percent("reward.percent", p)?,
                max_discount.as_deref().map(|m| money("reward.max_discount", m)).transpose()?,
            ),
            Self::Tiers { basis, tiers } => {
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
            Self::SpecialPrice { price } => {
                if !has_target {
                    return Err(invalid(id, "a special price needs a target (the products it is for)"));
                }
                Reward::SpecialPrice(money("reward.price", price)?)
            }
            Self::BuyXGetY { buy, get, percent_off, max_times, get_products } => {
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
                    get_products: get_products.clone(),
                }
            }
            Self::Gift { product_id, sku, quantity } => {
                if product_id.trim().is_empty() || !(1..=1000).contains(quantity) {
                    return Err(invalid(id, "reward.product_id is required and reward.quantity must be 1 to 1000"));
                }
                Reward::Gift { product_id: product_id.clone(), sku: sku.clone(), quantity: i64::from(*quantity) }
            }
            Self::FreeShipping { max_discount } => {
                Reward::FreeShipping(max_discount.as_deref().map(|m| money("reward.max_discount", m)).transpose()?)
            }
            Self::Every { every, amount_off, max_discount } => {
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
        })
    }
}
