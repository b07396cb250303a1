//! Computed tags in five families, decided for one profile at a time from
//! signals its store gathers (traits, its RFM row, its orders' refunds and
//! coupons, the categories it looked at and bought, accounts sharing its
//! devices). A tag is a `family:value` string a segment names with
//! `tag "spending:high"`; the rules are in docs/INSIGHT.md (Tags).

use crate::rfm::Scored;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// The five families (and where a hand-made tag with none goes: `basic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Basic,
    Interest,
    Spending,
    Loyalty,
    Risk,
}

impl Family {
    pub const ALL: [Family; 5] = [Family::Basic, Family::Interest, Family::Spending, Family::Loyalty, Family::Risk];

    pub fn key(self) -> &'static str {
        match self {
            Family::Basic => "basic",
            Family::Interest => "interest",
            Family::Spending => "spending",
            Family::Loyalty => "loyalty",
            Family::Risk => "risk",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.key() == s)
    }

    pub fn zh(self) -> &'static str {
        match self {
            Family::Basic => "基础属性",
            Family::Interest => "兴趣偏好",
            Family::Spending => "消费能力",
            Family::Loyalty => "忠诚度",
            Family::Risk => "风险",
        }
    }
}

/// Thresholds of the computed tags (`[tags]` in the settings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TagRules {
    /// An interest's weight halves every this many days.
    pub interest_half_life_days: u32,
    /// The weight a category needs to be an interest (a view counts 1, an
    /// add to cart 3, a bought line 5, each as of when it happened).
    pub interest_min_weight: f64,
    /// At most this many interests, the heaviest.
    pub interests: usize,
    /// Refunded share of the gross spend (percent) that is a risk, from two orders on.
    pub refund_rate_percent: u32,
    /// Orders, every one with a coupon, that make a coupon-only buyer.
    pub coupon_only_orders: u64,
    /// Accounts on one device or phone that make each of them a risk.
    pub shared_accounts: u32,
    /// Days since the last order after which a repeat buyer has lapsed.
    pub lapsed_days: i64,
}

impl Default for TagRules {
    fn default() -> Self {
        TagRules {
            interest_half_life_days: 30,
            interest_min_weight: 3.0,
            interests: 3,
            refund_rate_percent: 30,
            coupon_only_orders: 3,
            shared_accounts: 3,
            lapsed_days: 180,
        }
    }
}

impl TagRules {
    pub fn check(&self) -> Result<(), String> {
        if self.interest_half_life_days == 0 || self.interest_min_weight.is_nan() || self.interest_min_weight <= 0.0 {
            return Err("tags: interest_half_life_days and interest_min_weight must be above 0".into());
        }
        if self.refund_rate_percent == 0 || self.refund_rate_percent > 100 || self.shared_accounts < 2 {
            return Err("tags: refund_rate_percent is 1 to 100 and shared_accounts at least 2".into());
        }
        Ok(())
    }
}

/// A profile's orders as the risk tags see them (not cancelled).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderSignals {
    pub orders: u64,
    /// Orders that used a coupon.
    pub with_coupon: u64,
    /// Gross and refunded, in minor units of the shop's currency.
    pub gross_minor: i64,
    pub refunded_minor: i64,
}

/// Something a profile showed interest in: a category, how strongly (1 a
/// view, 3 an add to cart, 5 a bought line) and how many days ago.
#[derive(Debug, Clone, PartialEq)]
pub struct Sign {
    pub category: String,
    pub weight: f64,
    pub days_ago: f64,
}

/// Everything one profile's computed tags are decided from.
#[derive(Debug, Clone, Default)]
pub struct Signals<'a> {
    pub traits: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub rfm: Option<&'a Scored>,
    pub orders: OrderSignals,
    pub signs: &'a [Sign],
    /// The most accounts sharing one of its devices or phones (itself included).
    pub shared: u32,
    /// Its lifecycle stage (a buyer's) and RFM cluster's name, if any.
    pub stage: Option<&'a str>,
    pub cluster: Option<&'a str>,
}

fn text<'a>(s: &Signals<'a>, key: &str) -> Option<&'a str> {
    s.traits?.get(key)?.as_str().map(str::trim).filter(|t| !t.is_empty())
}

fn gender(s: &Signals<'_>) -> Option<&'static str> {
    let g = text(s, "gender")?.to_lowercase();
    match g.as_str() {
        "f" | "female" | "woman" | "女" | "女性" => Some("female"),
        "m" | "male" | "man" | "男" | "男性" => Some("male"),
        _ => None,
    }
}

/// Age in whole years on `today`: the `age` trait, else from `birthday`.
fn age(s: &Signals<'_>, today: NaiveDate) -> Option<i64> {
    let traits = s.traits?;
    if let Some(a) = traits.get("age").and_then(|a| a.as_f64().or_else(|| a.as_str()?.trim().parse().ok())) {
        return (0.0..150.0).contains(&a).then_some(a.floor() as i64);
    }
    let born = traits.get("birthday")?.as_str()?;
    let born = NaiveDate::parse_from_str(born.get(..10)?, "%Y-%m-%d").ok()?;
    let years = today.year() - born.year() - i32::from((today.month(), today.day()) < (born.month(), born.day()));
    (0..150).contains(&years).then_some(i64::from(years))
}

fn age_band(age: i64) -> &'static str {
    match age {
        ..18 => "under_18",
        18..25 => "18-24",
        25..35 => "25-34",
        35..45 => "35-44",
        45..55 => "45-54",
        _ => "55+",
    }
}

/// The heaviest categories above the rules' weight, each weight decayed
/// by its age; the top level of a `鞋/跑鞋` path.
fn interests(signs: &[Sign], rules: &TagRules) -> Vec<String> {
    let mut by: Vec<(String, f64)> = Vec::new();
    for sign in signs {
        let top = sign.category.split('/').next().unwrap_or("").trim();
        if top.is_empty() || sign.days_ago.is_nan() {
            continue;
        }
        let w = sign.weight * 0.5f64.powf(sign.days_ago.max(0.0) / f64::from(rules.interest_half_life_days));
        match by.iter_mut().find(|(c, _)| c == top) {
            Some((_, total)) => *total += w,
            None => by.push((top.to_string(), w)),
        }
    }
    by.retain(|(_, w)| *w >= rules.interest_min_weight);
    by.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    by.into_iter().take(rules.interests).map(|(c, _)| c).collect()
}

/// One profile's computed tags on `today`, as (family, `family:value`).
pub fn tags(s: &Signals<'_>, today: NaiveDate, rules: &TagRules) -> Vec<(Family, String)> {
    let mut out = Vec::new();
    // (most tags are `family:value`; the value tier, stage and cluster have prefixes of their own)
    let mut add = |f: Family, value: &str| out.push((f, format!("{}:{value}", f.key())));
    let mut own = Vec::new();
    if let Some(g) = gender(s) {
        add(Family::Basic, &format!("gender_{g}"));
    }
    if let Some(a) = age(s, today) {
        add(Family::Basic, &format!("age_{}", age_band(a)));
    }
    if let Some(city) = text(s, "city") {
        add(Family::Basic, &format!("city_{}", city.chars().take(40).collect::<String>()));
    }
    for category in interests(s.signs, rules) {
        add(Family::Interest, &category);
    }
    if let Some(r) = s.rfm {
        add(Family::Spending, ["low", "low", "medium", "high", "high"][usize::from(r.m.clamp(1, 5) - 1)]);
        // the value tier, stage and cluster under their own prefixes (`value_tier "champions"` in a segment)
        own.push((Family::Spending, format!("value:{}", r.group.key())));
        let loyalty = match (r.frequency, r.recency_days) {
            (0..=1, _) => "one_time",
            (_, d) if d > rules.lapsed_days => "lapsed",
            (2, _) => "repeat",
            _ => "loyal",
        };
        add(Family::Loyalty, loyalty);
    }
    if let Some(stage) = s.stage {
        own.push((Family::Loyalty, format!("stage:{stage}")));
    }
    if let Some(cluster) = s.cluster {
        own.push((Family::Spending, format!("cluster:{cluster}")));
    }
    let o = s.orders;
    if o.orders >= 2
        && o.gross_minor > 0
        && o.refunded_minor * 100 >= o.gross_minor * i64::from(rules.refund_rate_percent)
    {
        add(Family::Risk, "high_refunds");
    }
    if o.orders >= rules.coupon_only_orders && o.with_coupon == o.orders {
        add(Family::Risk, "coupon_only");
    }
    if s.shared >= rules.shared_accounts {
        add(Family::Risk, "shared_device");
    }
    out.extend(own);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfm::Group;
    use serde_json::json;

    fn scored(frequency: u64, recency_days: i64, m: u8) -> Scored {
        Scored { id: "p".into(), recency_days, frequency, monetary_minor: 1, r: 3, f: 3, m, group: Group::Champions }
    }

    #[test]
    fn each_family_from_its_signals() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).expect("day");
        let traits = json!({"gender": "女", "birthday": "1996-06-16", "city": "上海"});
        let traits = traits.as_object().expect("object");
        let signs = [
            Sign { category: "鞋/跑鞋".into(), weight: 5.0, days_ago: 0.0 },
            Sign { category: "鞋".into(), weight: 1.0, days_ago: 30.0 },
            // 4 views a year ago: 4 × 0.5^(365/30) — nothing now
            Sign { category: "茶".into(), weight: 4.0, days_ago: 365.0 },
        ];
        let rfm = scored(2, 20, 4);
        let orders = OrderSignals { orders: 3, with_coupon: 3, gross_minor: 1000, refunded_minor: 300 };
        let s = Signals {
            traits: Some(traits),
            rfm: Some(&rfm),
            orders,
            signs: &signs,
            shared: 3,
            stage: Some("growing"),
            cluster: Some("core"),
        };
        let got: Vec<String> = tags(&s, today, &TagRules::default()).into_iter().map(|(_, t)| t).collect();
        assert_eq!(
            got,
            [
                "basic:gender_female",
                "basic:age_25-34", // 29 until tomorrow
                "basic:city_上海",
                "interest:鞋",
                "spending:high",
                "loyalty:repeat",
                "risk:high_refunds",
                "risk:coupon_only",
                "risk:shared_device",
                "value:champions",
                "stage:growing",
                "cluster:core",
            ]
        );
    }

    #[test]
    fn edges_of_the_rules() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 15).expect("day");
        let rules = TagRules::default();
        let one = |s: &Signals<'_>| tags(s, today, &rules).into_iter().map(|(_, t)| t).collect::<Vec<_>>();
        // 29.99 % refunded is not 30 %; one coupon-less order of three is not coupon-only
        let orders = OrderSignals { orders: 3, with_coupon: 2, gross_minor: 10_000, refunded_minor: 2_999 };
        assert!(one(&Signals { orders, shared: 2, ..Default::default() }).is_empty());
        let lapsed = scored(5, 181, 1);
        assert_eq!(
            one(&Signals { rfm: Some(&lapsed), ..Default::default() }),
            ["spending:low", "loyalty:lapsed", "value:champions"]
        );
        let loyal = scored(3, 180, 3);
        assert_eq!(
            one(&Signals { rfm: Some(&loyal), ..Default::default() }),
            ["spending:medium", "loyalty:loyal", "value:champions"]
        );
        let traits = json!({"age": "17", "gender": "unknown"});
        assert_eq!(one(&Signals { traits: traits.as_object(), ..Default::default() }), ["basic:age_under_18"]);
        // the heaviest interests first, at most three
        let signs: Vec<Sign> = ["a", "b", "c", "d"]
            .iter()
            .enumerate()
            .map(|(i, c)| Sign { category: (*c).into(), weight: 3.0 + i as f64, days_ago: 0.0 })
            .collect();
        assert_eq!(one(&Signals { signs: &signs, ..Default::default() }), ["interest:d", "interest:c", "interest:b"]);
    }
}
