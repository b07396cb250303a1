//! The points program (积分): how points are earned (per amount spent, per
//! event such as a review), how they are redeemed (rate, largest share of
//! an order, least per order), how long they wait before they can be used
//! (the return window) and when they expire, and member tiers by points or
//! spend. Validated once from its JSON, like a promotion.

use crate::reward::money;
use crate::spec::invalid;
use beacon_core::{Currency, Error, ErrorCode};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgramSpec {
    /// `active` or `paused` (nothing is earned or redeemed while paused).
    #[serde(default = "active")]
    pub status: String,
    #[serde(default)]
    pub earn: Vec<EarnSpec>,
    #[serde(default)]
    pub redeem: Option<RedeemSpec>,
    /// Days before earned points can be used (the return window); a refund
    /// in that time takes them back before anyone could spend them.
    #[serde(default)]
    pub vesting_days: u32,
    /// Points expire this many months after they vest (none: never).
    #[serde(default)]
    pub expiry_months: Option<u32>,
    #[serde(default)]
    pub tiers: Vec<TierSpec>,
    /// Tiers count what was earned (`points`) or spent (`spend`) in the last
    /// `tier_window_months` (default 12).
    #[serde(default)]
    pub tier_basis: TierBasis,
    #[serde(default = "twelve")]
    pub tier_window_months: u32,
    /// Where earning events may come from: `server` (orders and imports
    /// sent with a secret key, and checkouts), write key ids (a shop's
    /// server-side sources), or `any` (a write key in a browser could then
    /// send made-up orders). Default `["server"]`.
    #[serde(default = "server")]
    pub earn_from: Vec<String>,
}

fn server() -> Vec<String> {
    vec!["server".into()]
}

fn active() -> String {
    "active".into()
}

fn twelve() -> u32 {
    12
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "on", rename_all = "snake_case", deny_unknown_fields)]
pub enum EarnSpec {
    /// `points` for every whole `per` an order's total comes to.
    Order { per: String, points: u32 },
    /// `points` for each `event` (a track event's name), at most `max_per_day` a day.
    Event {
        event: String,
        points: u32,
        #[serde(default)]
        max_per_day: Option<u32>,
    },
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RedeemSpec {
    /// Points worth one unit of the currency (100: 100 points = ¥1.00).
    pub points_per_unit: u32,
    /// The largest share of an order's total (after promotions) points may pay, in percent.
    #[serde(default = "hundred")]
    pub max_share: String,
    /// The fewest points one order may redeem.
    #[serde(default)]
    pub min_points: u32,
    /// Most points redeemed, as limits with counter `points`: per `profile`,
    /// `identity` (across every profile sharing a phone or device) or
    /// `store`, or the whole shop's (`promotion`), in a `period`.
    #[serde(default)]
    pub limits: Vec<crate::limits::LimitSpec>,
}

fn hundred() -> String {
    "100".into()
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = LoyaltyTierSpec))]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    pub name: String,
    /// Points earned (basis `points`) or amount spent (basis `spend`) to reach it.
    pub min: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TierBasis {
    #[default]
    Points,
    Spend,
}

/// A validated program, in the shop currency's minor units.
#[derive(Debug, Clone, PartialEq)]
pub struct Program {
    pub active: bool,
    pub earn_per_order: Option<(i64, i64)>,
    /// (event name, points, most a day).
    pub earn_per_event: Vec<(String, i64, Option<i64>)>,
    pub redeem: Option<Redeem>,
    /// `redeem.limits`, kept under [`crate::limits::POINTS_OWNER`].
    pub redeem_limits: Vec<crate::limits::Limit>,
    pub vesting_days: i64,
    pub expiry_months: Option<u32>,
    /// Rising by `min` (points, or minor units of spend).
    pub tiers: Vec<(String, i64)>,
    pub tier_basis: TierBasis,
    pub tier_window_months: u32,
    pub earn_from: Vec<String>,
    pub currency: Currency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Redeem {
    pub points_per_unit: i64,
    /// Basis points of the order's total.
    pub max_share_bp: i64,
    pub min_points: i64,
}

fn bad(message: impl std::fmt::Display) -> Error {
    Error::new(ErrorCode::InvalidPromotion, format!("points program: {message}"))
}

impl ProgramSpec {
    pub fn parse(text: &str) -> Result<ProgramSpec, Error> {
        // (serde would read a list as the struct's fields in order: `[]` would pass)
        if !text.trim_start().starts_with('{') {
            return Err(bad("the program must be a JSON object"));
        }
        serde_json::from_str(text).map_err(bad)
    }

    pub fn compile(&self, currency: Currency) -> Result<Program, Error> {
        let id = "points program";
        let active = match self.status.as_str() {
            "active" => true,
            "paused" => false,
            s => return Err(bad(format!("status {s:?} must be active or paused"))),
        };
        let mut earn_per_order = None;
        let mut earn_per_event = Vec::new();
        for (i, e) in self.earn.iter().enumerate() {
            match e {
                EarnSpec::Order { per, points } => {
                    let per = money(id, &format!("earn[{i}].per"), per, currency.exponent)?;
                    if per == 0 || earn_per_order.is_some() {
                        return Err(bad(format!("earn[{i}]: one order rule, with per above 0")));
                    }
                    earn_per_order = Some((per, i64::from(*points)));
                }
                EarnSpec::Event { event, points, max_per_day } => {
                    if event.trim().is_empty() || event == "Order Completed" {
                        return Err(bad(format!("earn[{i}].event must name an event other than Order Completed")));
                    }
                    earn_per_event.push((event.clone(), i64::from(*points), max_per_day.map(i64::from)));
                }
            }
        }
        let redeem_limits = self.redeem_limits(currency)?;
        let redeem = match &self.redeem {
            None => None,
            Some(r) => {
                let bp = beacon_core::money::parse_minor(&r.max_share, 2)
                    .map_err(|e| bad(format!("redeem.max_share: {e}")))?;
                if r.points_per_unit == 0 || !(1..=10_000).contains(&bp) {
                    return Err(bad("redeem: points_per_unit must be above 0 and max_share above 0 and at most 100"));
                }
                Some(Redeem {
                    points_per_unit: i64::from(r.points_per_unit),
                    max_share_bp: bp,
                    min_points: i64::from(r.min_points),
                })
            }
        };
        let mut tiers: Vec<(String, i64)> = Vec::with_capacity(self.tiers.len());
        for (i, t) in self.tiers.iter().enumerate() {
            let min = match self.tier_basis {
                TierBasis::Points => t.min.trim().parse::<i64>().ok().filter(|n| *n >= 0),
                TierBasis::Spend => money(id, &format!("tiers[{i}].min"), &t.min, currency.exponent).ok(),
            }
            .ok_or_else(|| bad(format!("tiers[{i}].min must be a whole number of points (an amount for spend)")))?;
            if t.name.trim().is_empty() || tiers.last().is_some_and(|(_, m)| *m >= min) {
                return Err(bad("tiers need names and must go up by min"));
            }
            tiers.push((t.name.clone(), min));
        }
        if self.vesting_days > 365 || self.expiry_months.is_some_and(|m| m == 0 || m > 120) {
            return Err(bad("vesting_days at most 365, expiry_months 1 to 120"));
        }
        if !(1..=60).contains(&self.tier_window_months) {
            return Err(invalid(id, "tier_window_months must be 1 to 60"));
        }
        Ok(Program {
            active,
            earn_per_order,
            earn_per_event,
            redeem,
            redeem_limits,
            vesting_days: i64::from(self.vesting_days),
            expiry_months: self.expiry_months,
            tiers,
            tier_basis: self.tier_basis,
            tier_window_months: self.tier_window_months,
            earn_from: self.earn_from.clone(),
            currency,
        })
    }
}

impl ProgramSpec {
    fn redeem_limits(&self, currency: Currency) -> Result<Vec<crate::limits::Limit>, Error> {
        use crate::limits::{Counter, Scope};
        let specs = self.redeem.as_ref().map_or(&[][..], |r| &r.limits[..]);
        if specs.len() > 8 {
            return Err(bad("redeem: at most 8 limits"));
        }
        let mut out = Vec::with_capacity(specs.len());
        for (i, l) in specs.iter().enumerate() {
            if l.counter != Counter::Points || l.scope == Scope::Coupon {
                return Err(bad(format!(
                    "redeem.limits[{i}]: counter must be points, scope promotion (the whole shop), profile, identity or store"
                )));
            }
            let limit = crate::limits::compile("points program", i, l, currency.exponent)
                .map_err(|_| bad(format!("redeem.limits[{i}].limit must be a whole number of points, ≥ 0")))?;
            out.push(limit);
        }
        Ok(out)
    }
}

impl Program {
    /// Points an order of `total` (minor units) earns.
    pub fn points_for_order(&self, total: i64) -> i64 {
        match self.earn_per_order {
            Some((per, points)) if self.active && total > 0 => (total / per).saturating_mul(points),
            _ => 0,
        }
    }

    /// Points an event earns, and the most a day.
    pub fn points_for_event(&self, name: &str) -> Option<(i64, Option<i64>)> {
        let found = self.earn_per_event.iter().find(|(e, _, _)| e == name);
        found.filter(|_| self.active).map(|(_, p, m)| (*p, *m))
    }

    /// Whether events from `source` (`api:…` for secret-key routes, else
    /// the write key's id) may earn points.
    pub fn trusts(&self, source: &str) -> bool {
        self.earn_from.iter().any(|s| s == "any" || s == source || (s == "server" && source.starts_with("api:")))
    }

    /// The highest tier `measure` (points earned, or minor units spent, in the window) reaches.
    pub fn tier_for(&self, measure: i64) -> Option<&str> {
        self.tiers.iter().rev().find(|(_, min)| measure >= *min).map(|(n, _)| n.as_str())
    }
}
