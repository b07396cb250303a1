//! Random carts and promotions for the property tests and the oracle:
//! every reward type, targets, thresholds and stacking, and (now and then)
//! shared coupon codes, budgets and limits with some of them used up,
//! windows and weekly schedules around `now`, eligibility, and a promotion
//! in another currency.

use super::now;
use beacon_core::Currency;
use beacon_pricing::{Cart, Line, Promotion, Spec};
use proptest::prelude::*;
use serde_json::{Value, json};

const CATEGORIES: &[&str] = &["茶叶/绿茶", "茶叶/红茶", "茶具", "零食"];

fn cents(n: i64) -> String {
    format!("{}.{:02}", n / 100, n % 100)
}

pub fn line() -> impl Strategy<Value = Line> {
    (0usize..6, 0usize..CATEGORIES.len(), 0i64..50_000, 0i64..5, proptest::bool::ANY).prop_map(
        |(p, c, price, qty, tag)| Line {
            product_id: format!("p{p}"),
            sku: None,
            category: CATEGORIES[c].split('/').map(String::from).collect(),
            brand: Some(if p % 2 == 0 { "A".into() } else { "B".into() }),
            tags: if tag { vec!["hot".into()] } else { vec![] },
            unit_price: price,
            quantity: qty,
        },
    )
}

pub fn reward() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1i64..20_000).prop_map(|a| json!({"type": "amount_off", "amount": cents(a)})),
        (1i64..100, proptest::option::of(1i64..10_000)).prop_map(|(p, cap)| {
            let mut v = json!({"type": "percent_off", "percent": p.to_string()});
            if let Some(c) = cap {
                v["max_discount"] = json!(cents(c));
            }
            v
        }),
        (1i64..500, 1i64..100).prop_map(|(min, off)| json!({"type": "tiers", "tiers": [
            {"min": min.to_string(), "amount_off": off.to_string()},
            {"min": (min * 2).to_string(), "percent_off": "15"}]})),
        (1i64..200, 1i64..50, proptest::option::of(1i64..200)).prop_map(|(every, off, cap)| {
            let mut v = json!({"type": "every", "every": every.to_string(), "amount_off": off.to_string()});
            if let Some(c) = cap {
                v["max_discount"] = json!(c.to_string());
            }
            v
        }),
        (1i64..5).prop_map(
            |n| json!({"type": "tiers", "basis": "items", "tiers": [{"min": n.to_string(), "percent_off": "20"}]})
        ),
        (0i64..30_000).prop_map(|p| json!({"type": "special_price", "price": cents(p)})),
        (1u32..3, 1u32..3, 1i64..101, proptest::option::of(1u32..3), proptest::bool::ANY).prop_map(
            |(buy, get, pct, max, named)| {
                let get_products: Vec<&str> = if named { vec!["p2"] } else { vec![] };
                json!({"type": "buy_x_get_y", "buy": buy, "get": get, "percent_off": pct.to_string(), "max_times": max,
                    "get_products": get_products})
            }
        ),
        (1u32..4).prop_map(|q| json!({"type": "gift", "product_id": "gift", "quantity": q})),
        proptest::option::of(0i64..2_000).prop_map(|cap| match cap {
            Some(c) => json!({"type": "free_shipping", "max_discount": cents(c)}),
            None => json!({"type": "free_shipping"}),
        }),
    ]
}

/// A limit: (counter, scope, limit).
fn limit() -> impl Strategy<Value = Value> {
    (0usize..3, proptest::bool::weighted(0.2), 0i64..4, 0i64..20_000).prop_map(|(counter, per_profile, n, budget)| {
        let scope = if per_profile { "profile" } else { "promotion" };
        match counter {
            0 => json!({"counter": "redemptions", "limit": n, "scope": scope}),
            1 => json!({"counter": "units", "limit": n * 3, "scope": scope}),
            _ => json!({"counter": "discount", "limit": cents(budget), "scope": scope}),
        }
    })
}

/// What else a promotion may have besides its reward, target and stacking.
#[derive(Debug, Clone)]
struct Extras {
    coupon: bool,
    limits: Vec<Value>,
    /// 0: none; 1: started an hour ago; 2: starts in an hour; 3: ended; 4: open
    /// weekly window; 5: a window that is shut now.
    window: u8,
    /// 0: everyone; 1: gold; 2: vip tag; 3: new customers.
    eligibility: u8,
    usd: bool,
}

fn extras() -> impl Strategy<Value = Extras> {
    (
        proptest::bool::weighted(0.2),
        prop_oneof![4 => Just(Vec::new()), 1 => proptest::collection::vec(limit(), 1..3)],
        prop_oneof![6 => Just(0u8), 1 => 1u8..6],
        prop_oneof![6 => Just(0u8), 1 => 1u8..4],
        proptest::bool::weighted(0.05),
    )
        .prop_map(|(coupon, limits, window, eligibility, usd)| Extras { coupon, limits, window, eligibility, usd })
}

pub fn promotion(n: usize) -> impl Strategy<Value = Promotion> {
    (
        reward(),
        proptest::option::of(0usize..4),
        proptest::option::of(1i64..600),
        (0usize..3, proptest::bool::ANY, -2i32..3, proptest::option::of(0usize..3)),
        extras(),
    )
        .prop_map(move |(reward, target, min_spend, (group, exclusive, priority, not_with), extras)| {
            let not_with: Vec<String> = not_with.map(|g| format!("g{g}")).into_iter().collect();
            let mut spec = json!({"id": format!("promo{n}"), "name": "p", "reward": reward, "priority": priority,
                "stacking": {"group": format!("g{group}"), "exclusive": exclusive, "not_with": not_with}});
            let target = if target.is_none() && spec["reward"]["type"] == "special_price" { Some(3) } else { target };
            match target {
                Some(0) => spec["target"] = json!({"categories": ["茶叶"]}),
                Some(1) => spec["target"] = json!({"brands": ["A"]}),
                Some(2) => spec["target"] = json!({"tags": ["hot"]}),
                Some(_) => spec["target"] = json!({"products": ["p1", "p2"]}),
                None => {}
            }
            if let Some(m) = min_spend {
                spec["min_spend"] = json!(m.to_string());
            }
            add_extras(&mut spec, n, &extras);
            let currency = if extras.usd { Currency::USD } else { Currency::CNY };
            Spec::parse(&spec.to_string()).and_then(|s| s.compile(currency)).expect("generated specs are valid")
        })
}

fn add_extras(spec: &mut Value, n: usize, x: &Extras) {
    if x.coupon {
        spec["coupon"] = json!(format!("save{n}"));
    }
    if !x.limits.is_empty() {
        spec["limits"] = json!(x.limits);
    }
    let at = |hours: i64| (now() + chrono::Duration::hours(hours)).to_rfc3339();
    // now() is a Wednesday, 20:00 at +08:00
    match x.window {
        1 => spec["starts_at"] = json!(at(-1)),
        2 => spec["starts_at"] = json!(at(1)),
        3 => {
            spec["starts_at"] = json!(at(-48));
            spec["ends_at"] = json!(at(0));
        }
        4 => {
            spec["schedule"] =
                json!({"utc_offset": "+08:00", "windows": [{"days": ["wed"], "from": "19:00", "to": "21:00"}]})
        }
        5 => {
            spec["schedule"] =
                json!({"utc_offset": "+08:00", "windows": [{"days": ["sat", "sun"], "from": "10:00", "to": "22:00"}]})
        }
        _ => {}
    }
    match x.eligibility {
        1 => spec["eligibility"] = json!({"tiers": ["gold"]}),
        2 => spec["eligibility"] = json!({"tags": ["vip"]}),
        3 => spec["eligibility"] = json!({"new_customers_only": true}),
        _ => {}
    }
}

pub fn promotions() -> impl Strategy<Value = Vec<Promotion>> {
    promotions_up_to(7)
}

pub fn promotions_up_to(most: usize) -> impl Strategy<Value = Vec<Promotion>> {
    (0usize..most).prop_flat_map(|n| (0..n).map(promotion).collect::<Vec<_>>())
}

/// A cart; `points`: whether it may redeem points.
pub fn cart(points: bool) -> impl Strategy<Value = Cart> {
    let redemption = proptest::option::of((
        0i64..50_000,
        0i64..50_000,
        proptest::option::of(0i64..50_000),
        1i64..300,
        1i64..=10_000,
    ))
    .prop_map(move |r| if points { r } else { None });
    let customer = (proptest::bool::weighted(0.3), proptest::bool::weighted(0.3), 0i64..3);
    let coupons = proptest::collection::vec(0usize..8, 0..3);
    (
        proptest::collection::vec(line(), 1..7),
        proptest::option::of(1i64..2_000),
        redemption,
        (customer, coupons, proptest::bool::weighted(0.7)),
    )
        .prop_map(|(lines, shipping, points, ((gold, vip, orders), coupons, profile))| {
            let mut cart = Cart::new(Currency::CNY, lines);
            cart.shipping = shipping.unwrap_or(0);
            cart.points = points.map(|(requested, available, room, points_per_unit, max_share_bp)| {
                let rule = beacon_pricing::loyalty::Redeem { points_per_unit, max_share_bp, min_points: 0 };
                beacon_pricing::points::Redemption { requested, available, room, rule }
            });
            cart.customer.tier = gold.then(|| "gold".into());
            cart.customer.tags = if vip { vec!["vip".into()] } else { vec![] };
            cart.customer.orders = orders;
            // save7 is a code no promotion has
            cart.coupons = coupons.into_iter().map(|c| format!("SAVE{c}")).collect();
            cart.who.profile = profile.then(|| "prof-1".into());
            cart
        })
}

/// A cart and promotions, with some of the promotions' limits partly or
/// wholly used.
pub fn case(points: bool, most: usize) -> impl Strategy<Value = (Cart, Vec<Promotion>)> {
    (cart(points), promotions_up_to(most), proptest::collection::vec(0i64..=100, 16)).prop_map(
        |(mut cart, promos, shares)| {
            let mut shares = shares.into_iter().cycle();
            for p in &promos {
                for (i, l) in p.limits.iter().enumerate() {
                    let used = l.limit * shares.next().unwrap_or(0) / 100;
                    cart.usage.0.insert((p.id.clone(), i), used);
                }
            }
            (cart, promos)
        },
    )
}
