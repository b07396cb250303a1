//! Lifecycle stages as of a day, from a customer's order days and rules the
//! shop can change (docs/INSIGHT.md):
//!
//! | stage | when (in this order) |
//! |---|---|
//! | `potential` | no order yet |
//! | `churned` | the last order `churned_days` or more before |
//! | `at_risk` | the last order `at_risk_days` or more before |
//! | `won_back` | ordering again after a gap of `churned_days` or more |
//! | `new` | one order, placed fewer than `new_days` before |
//! | `growing` | fewer than `mature_orders` orders |
//! | `mature` | `mature_orders` orders or more |

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The rules' thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Rules {
    pub new_days: i64,
    pub mature_orders: u64,
    pub at_risk_days: i64,
    pub churned_days: i64,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules { new_days: 30, mature_orders: 3, at_risk_days: 90, churned_days: 180 }
    }
}

impl Rules {
    /// What is wrong with the rules, if anything.
    pub fn check(&self) -> Result<(), String> {
        if self.new_days < 1 || self.at_risk_days < 1 || self.mature_orders < 2 {
            return Err("new_days and at_risk_days are at least 1 day, mature_orders at least 2".into());
        }
        if self.churned_days <= self.at_risk_days {
            return Err("churned_days must be more than at_risk_days".into());
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Potential,
    New,
    Growing,
    Mature,
    AtRisk,
    Churned,
    WonBack,
}

impl Stage {
    pub const ALL: [Stage; 7] =
        [Stage::Potential, Stage::New, Stage::Growing, Stage::Mature, Stage::AtRisk, Stage::Churned, Stage::WonBack];

    pub fn key(self) -> &'static str {
        match self {
            Stage::Potential => "potential",
            Stage::New => "new",
            Stage::Growing => "growing",
            Stage::Mature => "mature",
            Stage::AtRisk => "at_risk",
            Stage::Churned => "churned",
            Stage::WonBack => "won_back",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.key() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Stage::Potential => "潜在客户",
            Stage::New => "新客户",
            Stage::Growing => "成长客户",
            Stage::Mature => "成熟客户",
            Stage::AtRisk => "流失风险",
            Stage::Churned => "已流失",
            Stage::WonBack => "已召回",
        }
    }
}

/// What the stage is decided from: a customer's order days (shop time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Orders {
    pub count: u64,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// The day of the order before the last (none with one order).
    pub previous: Option<NaiveDate>,
}

/// The stage of a customer with `orders` (none: no order) as of `as_of`.
pub fn stage(orders: Option<&Orders>, as_of: NaiveDate, rules: &Rules) -> Stage {
    let Some(o) = orders.filter(|o| o.count > 0) else { return Stage::Potential };
    let since_last = (as_of - o.last).num_days();
    if since_last >= rules.churned_days {
        return Stage::Churned;
    }
    if since_last >= rules.at_risk_days {
        return Stage::AtRisk;
    }
    if o.previous.is_some_and(|p| (o.last - p).num_days() >= rules.churned_days) {
        return Stage::WonBack;
    }
    if o.count == 1 && (as_of - o.first).num_days() < rules.new_days {
        return Stage::New;
    }
    if o.count < rules.mature_orders { Stage::Growing } else { Stage::Mature }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("day")
    }

    #[test]
    fn each_stage_by_hand() {
        let r = Rules::default();
        let as_of = day("2026-12-01");
        let o = |count, first: &str, last: &str, previous: Option<&str>| Orders {
            count,
            first: day(first),
            last: day(last),
            previous: previous.map(day),
        };
        let cases = [
            (None, Stage::Potential),
            (Some(o(1, "2026-11-15", "2026-11-15", None)), Stage::New),
            // one order 30 days ago: no longer new
            (Some(o(1, "2026-11-01", "2026-11-01", None)), Stage::Growing),
            (Some(o(2, "2026-10-01", "2026-11-20", Some("2026-10-01"))), Stage::Growing),
            (Some(o(3, "2026-06-01", "2026-11-20", Some("2026-10-01"))), Stage::Mature),
            // 90 days since the last: at risk; 180: churned
            (Some(o(5, "2025-01-01", "2026-09-02", Some("2026-08-01"))), Stage::AtRisk),
            (Some(o(5, "2025-01-01", "2026-06-04", Some("2026-05-01"))), Stage::Churned),
            // back after 200 days away
            (Some(o(4, "2025-01-01", "2026-11-20", Some("2026-05-04"))), Stage::WonBack),
        ];
        for (orders, want) in cases {
            assert_eq!(stage(orders.as_ref(), as_of, &r), want, "{orders:?}");
        }
    }

    #[test]
    fn rules_that_mean_nothing_are_refused() {
        assert!(Rules::default().check().is_ok());
        assert!(Rules { churned_days: 90, ..Rules::default() }.check().is_err());
        assert!(Rules { mature_orders: 1, ..Rules::default() }.check().is_err());
        for s in Stage::ALL {
            assert_eq!(Stage::parse(s.key()), Some(s));
        }
    }
}
