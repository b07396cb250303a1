//! RFM as of a day (docs/INSIGHT.md has the rules):
//!
//! - **recency**: whole days from the day of the customer's last order to
//!   the as-of day; **frequency**: the number of orders; **monetary**: net
//!   spend (minor units, exact). Orders after the as-of day, and cancelled
//!   ones, are the caller's to leave out.
//! - **scores 1–5**: `1 + ⌊5 × w / n⌋`, `w` the customers with a worse
//!   figure (more days; fewer orders; less spend), `n` all customers: the
//!   same figure always gets the same score, whatever the order of the rows,
//!   and a score is the quintile the figure's rank falls in.
//! - **groups**: each score is *high* at 3 or more; the eight combinations
//!   of high and low recency, frequency and monetary scores are the classic
//!   eight value groups (重要价值客户 …).

use chrono::NaiveDate;
use serde::Serialize;

/// What the store knows of one customer: at least one order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    /// The day (in the shop's time zone) of the last order.
    pub last_order: NaiveDate,
    pub orders: u64,
    /// Net spend in minor units.
    pub monetary_minor: i64,
}

/// One customer's RFM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scored {
    pub id: String,
    pub recency_days: i64,
    pub frequency: u64,
    pub monetary_minor: i64,
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub group: Group,
}

/// The eight value groups: recency, frequency and monetary scores high (≥ 3) or low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// 重要价值客户: recent, frequent, high spend.
    Champions,
    /// 重要保持客户: frequent and high spend, not recent.
    Loyal,
    /// 重要发展客户: recent and high spend, not frequent.
    Potential,
    /// 重要挽留客户: high spend only.
    AtRisk,
    /// 一般价值客户: recent and frequent, low spend.
    Promising,
    /// 一般发展客户: recent only.
    New,
    /// 一般保持客户: frequent only.
    Hibernating,
    /// 一般挽留客户: none high.
    Lost,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::Champions,
        Group::Loyal,
        Group::Potential,
        Group::AtRisk,
        Group::Promising,
        Group::New,
        Group::Hibernating,
        Group::Lost,
    ];

    /// The group of a customer's scores.
    pub fn of(r: u8, f: u8, m: u8) -> Group {
        match (r >= HIGH, f >= HIGH, m >= HIGH) {
            (true, true, true) => Group::Champions,
            (false, true, true) => Group::Loyal,
            (true, false, true) => Group::Potential,
            (false, false, true) => Group::AtRisk,
            (true, true, false) => Group::Promising,
            (true, false, false) => Group::New,
            (false, true, false) => Group::Hibernating,
            (false, false, false) => Group::Lost,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Group::Champions => "champions",
            Group::Loyal => "loyal",
            Group::Potential => "potential",
            Group::AtRisk => "at_risk",
            Group::Promising => "promising",
            Group::New => "new",
            Group::Hibernating => "hibernating",
            Group::Lost => "lost",
        }
    }

    pub fn parse(s: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.key() == s)
    }

    /// The name marketers in China use.
    pub fn zh(self) -> &'static str {
        match self {
            Group::Champions => "重要价值客户",
            Group::Loyal => "重要保持客户",
            Group::Potential => "重要发展客户",
            Group::AtRisk => "重要挽留客户",
            Group::Promising => "一般价值客户",
            Group::New => "一般发展客户",
            Group::Hibernating => "一般保持客户",
            Group::Lost => "一般挽留客户",
        }
    }
}

/// A score at or above this is high.
pub const HIGH: u8 = 3;

/// `1 + ⌊5 × worse / n⌋` for each value, `worse` counted by `is_worse`
/// against the sorted values (worst first).
fn scores<T: Ord + Copy>(values: &[T], better_is_larger: bool) -> Vec<u8> {
    let n = values.len();
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    values
        .iter()
        .map(|v| {
            let worse = if better_is_larger {
                sorted.partition_point(|x| x < v)
            } else {
                n - sorted.partition_point(|x| x <= v)
            };
            (1 + 5 * worse / n) as u8
        })
        .collect()
}

/// Every customer's RFM as of `as_of`, in the order given.
pub fn score(customers: &[Customer], as_of: NaiveDate) -> Vec<Scored> {
    if customers.is_empty() {
        return Vec::new();
    }
    let recency: Vec<i64> = customers.iter().map(|c| (as_of - c.last_order).num_days()).collect();
    let frequency: Vec<u64> = customers.iter().map(|c| c.orders).collect();
    let monetary: Vec<i64> = customers.iter().map(|c| c.monetary_minor).collect();
    let (r, f, m) = (scores(&recency, false), scores(&frequency, true), scores(&monetary, true));
    customers
        .iter()
        .enumerate()
        .map(|(i, c)| Scored {
            id: c.id.clone(),
            recency_days: recency[i],
            frequency: frequency[i],
            monetary_minor: monetary[i],
            r: r[i],
            f: f[i],
            m: m[i],
            group: Group::of(r[i], f[i], m[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn ten_customers_by_hand() {
        // recency days 0..9 (customer i ordered i days before), i+1 orders, (10-i)×100 spent
        let as_of = day("2026-12-01");
        let cs: Vec<Customer> = (0..10)
            .map(|i| Customer {
                id: format!("c{i}"),
                last_order: as_of - chrono::Days::new(i),
                orders: i + 1,
                monetary_minor: (10 - i as i64) * 100,
            })
            .collect();
        let s = score(&cs, as_of);
        // c0: the most recent (9 worse → 1 + 45/10 = 5), fewest orders (0 worse → 1), most spend (5)
        assert_eq!((s[0].recency_days, s[0].r, s[0].f, s[0].m), (0, 5, 1, 5));
        assert_eq!(s[0].group, Group::Potential);
        // c9: 9 days, 10 orders, least spend
        assert_eq!((s[9].recency_days, s[9].r, s[9].f, s[9].m), (9, 1, 5, 1));
        assert_eq!(s[9].group, Group::Hibernating);
        // c4: 5 worse recency → 1 + 25/10 = 3; 4 worse orders → 3; 5 worse spend → 3
        assert_eq!((s[4].r, s[4].f, s[4].m, s[4].group), (3, 3, 3, Group::Champions));
        let r: Vec<u8> = s.iter().map(|x| x.r).collect();
        assert_eq!(r, [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]);
    }

    #[test]
    fn ties_share_a_score_whatever_the_order() {
        let as_of = day("2026-12-01");
        let c = |id: &str, orders| Customer { id: id.into(), last_order: as_of, orders, monetary_minor: 100 };
        let a = score(&[c("a", 1), c("b", 1), c("c", 1), c("d", 2), c("e", 5)], as_of);
        let b = score(&[c("e", 5), c("d", 2), c("c", 1), c("b", 1), c("a", 1)], as_of);
        let f = |s: &[Scored], id: &str| s.iter().find(|x| x.id == id).map(|x| x.f);
        for id in ["a", "b", "c", "d", "e"] {
            assert_eq!(f(&a, id), f(&b, id), "{id}");
        }
        // three with one order: none worse → 1; d: 3 worse → 1 + 15/5 = 4; e: 4 worse → 5
        assert_eq!((f(&a, "a"), f(&a, "d"), f(&a, "e")), (Some(1), Some(4), Some(5)));
        // everyone the same recency and spend: nobody worse → 1
        assert!(a.iter().all(|x| x.r == 1 && x.m == 1));
        assert!(score(&[], as_of).is_empty());
    }

    #[test]
    fn every_combination_names_one_group() {
        let mut seen = std::collections::BTreeSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    seen.insert(Group::of(r, f, m));
                }
            }
        }
        assert_eq!(seen.len(), 8);
        for g in Group::ALL {
            assert_eq!(Group::parse(g.key()), Some(g));
        }
    }
}
