//! Random segments over a shop's vocabulary, from a seed: for the tests that
//! hold the two evaluators together and for benchmarks with many saved
//! segments. Deterministic (SplitMix64), so a failing seed can be replayed.

use crate::ast::{
    Bought, Cmp, Condition, Count, EventTime, Item, Measure, Op, OrderFigure, Performed, PropertyFilter,
    TraitCondition, Unit, Wallet, Window,
};
use serde_json::Value;

pub use beacon_core::seeded::Rng;

/// What a shop's segments talk about: the values the generated conditions
/// use, so that they select some profiles and not others.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub events: Vec<String>,
    /// Properties of events, each with values it takes.
    pub properties: Vec<(String, Vec<Value>)>,
    /// Traits, each with values it takes.
    pub traits: Vec<(String, Vec<Value>)>,
    /// Traits holding dates (`birthday`), for `within` and `upcoming`.
    pub dates: Vec<String>,
    pub identity_kinds: Vec<String>,
    pub products: Vec<String>,
    pub categories: Vec<String>,
    pub brands: Vec<String>,
    pub tags: Vec<String>,
    pub consents: Vec<String>,
    /// Coupon templates (promotions with codes).
    pub promotions: Vec<String>,
    /// Windows the conditions use (`1d`, `7d`…).
    pub windows: Vec<Window>,
}

impl Vocabulary {
    /// A small shop's words (events, properties with values of every kind —
    /// Chinese text, a category and one below it, numbers and numeric text,
    /// lists —, traits, dates, identities, products, categories, brands,
    /// tags, consents, coupon templates) and windows of whole hours and days: the agreement
    /// tests' vocabulary, whose data put events on the windows' edges.
    pub fn example() -> Vocabulary {
        use serde_json::json;
        let w = |amount, unit| Window { amount, unit };
        Vocabulary {
            events: vec!["Product Viewed".into(), "Order Completed".into(), "App Opened".into()],
            properties: vec![
                ("category".into(), vec![json!("鞋"), json!("鞋/跑鞋"), json!("茶")]),
                ("price".into(), vec![json!(99.9), json!("120"), json!(150), json!("abc")]),
                ("tags".into(), vec![json!(["sale", "new"]), json!("sale")]),
            ],
            traits: vec![
                ("city".into(), vec![json!("上海"), json!("北京"), json!("Shanghai")]),
                ("age".into(), vec![json!(17), json!(18), json!("30"), json!(45.5)]),
                ("vip".into(), vec![json!(true), json!(false)]),
                ("email".into(), vec![json!("a@x.com"), json!("b@y.cn")]),
            ],
            dates: vec!["birthday".into(), "signed_up_at".into()],
            identity_kinds: vec!["phone".into(), "email".into(), "openid".into(), "anonymous_id".into()],
            products: vec!["P1".into(), "P2".into()],
            categories: vec!["鞋".into(), "茶/绿茶".into(), "茶".into()],
            brands: vec!["Nike".into(), "Li Ning".into()],
            tags: vec!["高价值".into(), "vip".into()],
            consents: vec!["sms".into(), "email".into()],
            promotions: vec!["spring".into(), "vip-gift".into()],
            windows: vec![w(12, Unit::Hours), w(1, Unit::Days), w(3, Unit::Days), w(1, Unit::Weeks), w(30, Unit::Days)],
        }
    }
}

/// A random condition: groups to `depth`, leaves of every kind.
pub fn condition(rng: &mut Rng, v: &Vocabulary, depth: u32) -> Condition {
    if depth > 0 && rng.one_in(2) {
        let items = (0..rng.below(4)).map(|_| condition(rng, v, depth - 1)).collect();
        return match rng.below(3) {
            0 => Condition::All(items),
            1 => Condition::Any(items),
            _ => Condition::Not(Box::new(condition(rng, v, depth - 1))),
        };
    }
    leaf(rng, v)
}

const CMPS: [Cmp; 5] = [Cmp::Gte, Cmp::Lte, Cmp::Eq, Cmp::Gt, Cmp::Lt];

fn window(rng: &mut Rng, v: &Vocabulary) -> Window {
    if v.windows.is_empty() { Window { amount: 7, unit: Unit::Days } } else { *rng.pick(&v.windows) }
}

fn maybe_window(rng: &mut Rng, v: &Vocabulary) -> Option<Window> {
    (!rng.one_in(3)).then(|| window(rng, v))
}

fn leaf(rng: &mut Rng, v: &Vocabulary) -> Condition {
    let name =
        |rng: &mut Rng, list: &[String]| if list.is_empty() { "none".to_string() } else { rng.pick(list).clone() };
    match rng.below(12) {
        0..=2 => {
            let filters = (0..rng.below(3))
                .filter(|_| !v.properties.is_empty())
                .map(|_| {
                    let (property, values) = rng.pick(&v.properties).clone();
                    let (op, value) = test(rng, &values);
                    PropertyFilter { property, op, value }
                })
                .collect();
            Condition::Performed(Performed {
                event: name(rng, &v.events),
                count: Count { cmp: *rng.pick(&CMPS), n: rng.below(4) as u32 },
                within: maybe_window(rng, v),
                filters,
            })
        }
        3 | 4 if !v.traits.is_empty() => {
            let (key, values) = rng.pick(&v.traits).clone();
            let (op, value) = test(rng, &values);
            Condition::Trait(TraitCondition { key, op, value })
        }
        3 | 4 => Condition::Has(name(rng, &v.identity_kinds)),
        5 if !v.dates.is_empty() => {
            let op = if rng.one_in(2) { Op::Within } else { Op::Upcoming };
            let w = window(rng, v).to_string();
            Condition::Trait(TraitCondition { key: name(rng, &v.dates), op, value: Some(Value::String(w)) })
        }
        5 | 6 => {
            let t = EventTime { event: name(rng, &v.events), within: window(rng, v) };
            if rng.one_in(2) { Condition::FirstPerformed(t) } else { Condition::LastPerformedBefore(t) }
        }
        7 => {
            let measure = *rng.pick(&Measure::ALL);
            let value = match measure {
                Measure::OrderCount | Measure::CouponOrders => rng.below(3).to_string(),
                _ => rng.pick(&["0", "50", "99.90", "150", "300.5"]).to_string(),
            };
            Condition::Orders(OrderFigure { measure, cmp: *rng.pick(&CMPS), value, within: maybe_window(rng, v) })
        }
        8 => {
            let item = match rng.below(3) {
                0 => Item::Product(name(rng, &v.products)),
                1 => Item::Category(name(rng, &v.categories)),
                _ => Item::Brand(name(rng, &v.brands)),
            };
            Condition::Bought(Bought { item, within: maybe_window(rng, v) })
        }
        9 => Condition::Has(name(rng, &v.identity_kinds)),
        10 => match rng.below(4) {
            0 => Condition::Tag(name(rng, &v.tags)),
            1 => Condition::Consent(name(rng, &v.consents)),
            2 => {
                let promotion = (!rng.one_in(3)).then(|| name(rng, &v.promotions));
                Condition::Coupons(Wallet { promotion, count: Count { cmp: *rng.pick(&CMPS), n: rng.below(3) as u32 } })
            }
            _ => Condition::Points(Count { cmp: *rng.pick(&CMPS), n: *rng.pick(&[0, 1, 100, 250, 500]) }),
        },
        _ => Condition::Bucket(Count { cmp: *rng.pick(&CMPS), n: rng.below(101) as u32 }),
    }
}

/// An operator and a value for a trait or property taking `values`.
fn test(rng: &mut Rng, values: &[Value]) -> (Op, Option<Value>) {
    let value = |rng: &mut Rng| if values.is_empty() { Value::from(1) } else { rng.pick(values).clone() };
    match rng.below(9) {
        0 => (Op::Exists, None),
        1 => (Op::In, Some(Value::Array(vec![value(rng), value(rng)]))),
        2 => {
            // a part of a text value, or an item of a list
            let v = value(rng);
            let part = match &v {
                Value::String(s) => Value::String(s.chars().take(1 + rng.below(2) as usize).collect()),
                Value::Array(items) if !items.is_empty() => rng.pick(items).clone(),
                other => other.clone(),
            };
            (Op::Contains, Some(part))
        }
        n => {
            let op = [Op::Eq, Op::Ne, Op::Gt, Op::Gte, Op::Lt, Op::Lte][(n - 3) as usize];
            (op, Some(value(rng)))
        }
    }
}

/// A segment a marketer would save, from a seed: the shapes shops use
/// ("viewed 3 times in 30 days and did not buy", "spent over 300",
/// "lapsed 30 days", "in Shanghai with a phone", a holdout of one of
/// these…) with this vocabulary's words and random thresholds. Unlike
/// [`condition`], which reaches every corner of the language for the
/// agreement tests, these are the kind a shop keeps hundreds of.
pub fn marketing(rng: &mut Rng, v: &Vocabulary) -> Condition {
    let event = |rng: &mut Rng| if v.events.is_empty() { "none".to_string() } else { rng.pick(&v.events).clone() };
    let performed = |rng: &mut Rng, event: String, n: u32, within: Option<Window>| {
        let filters = match v.properties.is_empty() || !rng.one_in(4) {
            true => vec![],
            false => {
                let (property, values) = rng.pick(&v.properties).clone();
                vec![PropertyFilter { property, op: Op::Eq, value: values.first().cloned() }]
            }
        };
        Condition::Performed(Performed { event, count: Count { cmp: Cmp::Gte, n }, within, filters })
    };
    let not = |c: Condition| Condition::Not(Box::new(c));
    let shape = match rng.below(10) {
        0 | 1 => {
            // did one thing and not another in the same window
            let w = window(rng, v);
            let (did, n) = (event(rng), 1 + rng.below(3) as u32);
            let other = event(rng);
            Condition::All(vec![performed(rng, did, n, Some(w)), not(performed(rng, other, 1, Some(w)))])
        }
        2 => {
            let measure = *rng.pick(&[Measure::NetSpend, Measure::AverageOrder]);
            let value = rng.pick(&["50", "99.90", "150", "300.5"]).to_string();
            Condition::Orders(OrderFigure { measure, cmp: Cmp::Gte, value, within: maybe_window(rng, v) })
        }
        3 => {
            let value = (1 + rng.below(3)).to_string();
            Condition::Orders(OrderFigure {
                measure: Measure::OrderCount,
                cmp: Cmp::Gte,
                value,
                within: maybe_window(rng, v),
            })
        }
        4 => Condition::LastPerformedBefore(EventTime { event: event(rng), within: window(rng, v) }),
        5 => Condition::FirstPerformed(EventTime { event: event(rng), within: window(rng, v) }),
        6 if !v.traits.is_empty() => {
            let (key, values) = rng.pick(&v.traits).clone();
            let picked = (0..2).filter_map(|_| values.get(rng.below(values.len().max(1) as u64) as usize)).cloned();
            let t = Condition::Trait(TraitCondition { key, op: Op::In, value: Some(Value::Array(picked.collect())) });
            if v.identity_kinds.is_empty() {
                t
            } else {
                Condition::All(vec![t, Condition::Has(rng.pick(&v.identity_kinds).clone())])
            }
        }
        7 if !v.tags.is_empty() => Condition::Tag(rng.pick(&v.tags).clone()),
        8 if !v.categories.is_empty() => Condition::Bought(Bought {
            item: Item::Category(rng.pick(&v.categories).clone()),
            within: maybe_window(rng, v),
        }),
        _ => {
            // engaged: any of two behaviours
            let (a, b) = (event(rng), event(rng));
            let (wa, wb, n) = (window(rng, v), window(rng, v), 2 + rng.below(3) as u32);
            Condition::Any(vec![performed(rng, a, n, Some(wa)), performed(rng, b, 1, Some(wb))])
        }
    };
    // one in ten is a holdout's half of another
    if rng.one_in(10) { Condition::All(vec![Condition::Bucket(Count { cmp: Cmp::Lt, n: 50 }), shape]) } else { shape }
}
