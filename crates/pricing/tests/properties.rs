//! Properties every priced cart keeps, over random carts and promotions.

mod common;

use beacon_core::Currency;
use beacon_pricing::{Cart, Line, Priced, Promotion, Spec, price};
use proptest::prelude::*;
use serde_json::{Value, json};

const CATEGORIES: &[&str] = &["茶叶/绿茶", "茶叶/红茶", "茶具", "零食"];

fn line() -> impl Strategy<Value = Line> {
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

fn reward() -> impl Strategy<Value = Value> {
    prop_oneof![
        (1i64..20_000).prop_map(|a| json!({"type": "amount_off", "amount": format!("{}.{:02}", a / 100, a % 100)})),
        (1i64..100, proptest::option::of(1i64..10_000)).prop_map(|(p, cap)| {
            let mut v = json!({"type": "percent_off", "percent": p.to_string()});
            if let Some(c) = cap {
                v["max_discount"] = json!(format!("{}.{:02}", c / 100, c % 100));
            }
            v
        }),
        (1i64..500, 1i64..100).prop_map(|(min, off)| json!({"type": "tiers", "tiers": [
            {"min": min.to_string(), "amount_off": off.to_string()},
            {"min": (min * 2).to_string(), "percent_off": "15"}]})),
        (1i64..200, 1i64..50).prop_map(
            |(every, off)| json!({"type": "every", "every": every.to_string(), "amount_off": off.to_string()})
        ),
        (1i64..5).prop_map(
            |n| json!({"type": "tiers", "basis": "items", "tiers": [{"min": n.to_string(), "percent_off": "20"}]})
        ),
        (0i64..30_000).prop_map(|p| json!({"type": "special_price", "price": format!("{}.{:02}", p / 100, p % 100)})),
        (1u32..3, 1u32..3, 1i64..101, proptest::option::of(1u32..3), proptest::bool::ANY).prop_map(
            |(buy, get, pct, max, named)| {
                let get_products: Vec<&str> = if named { vec!["p2"] } else { vec![] };
                json!({"type": "buy_x_get_y", "buy": buy, "get": get, "percent_off": pct.to_string(), "max_times": max,
                    "get_products": get_products})
            }
        ),
        (1u32..4).prop_map(|q| json!({"type": "gift", "product_id": "gift", "quantity": q})),
        proptest::option::of(0i64..2_000).prop_map(|cap| match cap {
            Some(c) => json!({"type": "free_shipping", "max_discount": format!("{}.{:02}", c / 100, c % 100)}),
            None => json!({"type": "free_shipping"}),
        }),
    ]
}

fn promotion(n: usize) -> impl Strategy<Value = Promotion> {
    (
        reward(),
        proptest::option::of(0usize..4),
        proptest::option::of(1i64..600),
        0usize..3,
        proptest::bool::ANY,
        -2i32..3,
        proptest::option::of(0usize..3),
    )
        .prop_map(move |(reward, target, min_spend, group, exclusive, priority, not_with)| {
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
            Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).expect("generated specs are valid")
        })
}

fn promotions() -> impl Strategy<Value = Vec<Promotion>> {
    (0usize..7).prop_flat_map(|n| (0..n).map(promotion).collect::<Vec<_>>())
}

fn cart() -> impl Strategy<Value = Cart> {
    let points = proptest::option::of((
        0i64..50_000,
        0i64..50_000,
        proptest::option::of(0i64..50_000),
        1i64..300,
        1i64..=10_000,
    ));
    (proptest::collection::vec(line(), 1..7), proptest::option::of(1i64..2_000), points).prop_map(
        |(lines, shipping, points)| {
            let mut cart = Cart::new(Currency::CNY, lines);
            cart.shipping = shipping.unwrap_or(0);
            cart.points = points.map(|(requested, available, room, points_per_unit, max_share_bp)| {
                let rule = beacon_pricing::loyalty::Redeem { points_per_unit, max_share_bp, min_points: 0 };
                beacon_pricing::points::Redemption { requested, available, room, rule }
            });
            cart
        },
    )
}

fn check_sums(p: &Priced) -> Result<(), TestCaseError> {
    prop_assert!(0 <= p.discount && p.discount <= p.subtotal, "{p:?}");
    prop_assert!(0 <= p.shipping_discount && p.shipping_discount <= p.shipping, "{p:?}");
    let (used, paid) = p.points.as_ref().map_or((0, 0), |x| (x.used, x.discount));
    prop_assert_eq!(p.total, p.subtotal - p.discount + p.shipping - p.shipping_discount - paid);
    if let Some(x) = &p.points {
        // never more points than asked or held, never more than the lines' total after promotions
        prop_assert!(0 <= used && used <= x.requested && paid <= p.subtotal - p.discount, "{x:?}");
    }
    prop_assert_eq!(p.lines.iter().map(|l| l.discount).sum::<i64>(), p.discount);
    prop_assert_eq!(p.applied.iter().map(|a| a.amount).sum::<i64>(), p.discount + p.shipping_discount);
    for l in &p.lines {
        prop_assert!(l.total >= 0 && l.total == l.subtotal - l.discount);
        prop_assert_eq!(l.allocations.iter().map(|(_, a)| a).sum::<i64>(), l.discount);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400)))]

    #[test]
    fn the_numbers_always_add_up(cart in cart(), promos in promotions()) {
        let p = price(&cart, &promos, common::now());
        check_sums(&p)?;
        // never two applied that do not combine, nor two exclusive ones of one group
        let on: Vec<&Promotion> = p.applied.iter().filter_map(|a| promos.iter().find(|x| x.id == a.id)).collect();
        for (i, a) in on.iter().enumerate() {
            for b in &on[i + 1..] {
                prop_assert!(!a.conflicts(b), "{} and {}", a.id, b.id);
                prop_assert!(!(a.group == b.group && (a.exclusive || b.exclusive)), "{} and {}", a.id, b.id);
            }
        }
    }

    #[test]
    fn settling_thresholds_in_advance_never_changes_the_best_total(cart in cart(), promos in promotions()) {
        let settled = price(&cart, &promos, common::now());
        let every = beacon_pricing::engine::price_unpruned(&cart, &promos, common::now());
        prop_assert_eq!(settled.total, every.total, "{:?} vs {:?}", settled.applied, every.applied);
        // (the number evaluated is not compared: picks that switch the same promotions
        // on are skipped only when they come one after the other, which the order of
        // the choices decides)
    }

    #[test]
    fn the_index_finds_every_promotion_that_matters(cart in cart(), promos in promotions()) {
        let all = price(&cart, &promos, common::now());
        let indexed = beacon_pricing::price_with(&cart, &beacon_pricing::Snapshot::new(promos.clone()), common::now());
        prop_assert_eq!((all.total, &all.applied, &all.hints), (indexed.total, &indexed.applied, &indexed.hints));
        let relevant = |p: &beacon_pricing::Priced| {
            p.rejected.iter().filter(|r| r.reason != beacon_pricing::Reason::NoMatchingLines).cloned().collect::<Vec<_>>()
        };
        prop_assert_eq!(relevant(&all), relevant(&indexed));
    }

    #[test]
    fn the_one_choice_at_a_time_search_adds_up_and_never_beats_the_exact_one(cart in cart(), promos in promotions()) {
        let greedy = beacon_pricing::price_bounded(&cart, &promos, common::now(), 1);
        check_sums(&greedy)?;
        let exact = price(&cart, &promos, common::now());
        prop_assert!(exact.total <= greedy.total);
        let mut reversed = cart.clone();
        reversed.lines.reverse();
        prop_assert_eq!(beacon_pricing::price_bounded(&reversed, &promos, common::now(), 1).total, greedy.total);
    }

    #[test]
    fn line_order_never_changes_the_total(cart in cart(), promos in promotions()) {
        let a = price(&cart, &promos, common::now());
        let mut reversed = cart.clone();
        reversed.lines.reverse();
        let b = price(&reversed, &promos, common::now());
        prop_assert_eq!((a.total, a.discount), (b.total, b.discount));
    }

    #[test]
    fn an_expired_or_paused_promotion_changes_nothing(cart in cart(), promos in promotions(), extra in promotion(99), paused in proptest::bool::ANY) {
        let before = price(&cart, &promos, common::now());
        let mut extra = extra;
        if paused {
            extra.status = beacon_pricing::spec::Status::Paused;
        } else {
            extra.ends_at = Some(common::now() - chrono::Duration::seconds(1));
        }
        let mut more = promos.clone();
        more.push(extra);
        let after = price(&cart, &more, common::now());
        prop_assert_eq!((before.total, before.applied), (after.total, after.applied));
    }

    #[test]
    fn adding_a_promotion_never_raises_the_best_total(cart in cart(), promos in promotions(), extra in promotion(99)) {
        let before = price(&cart, &promos, common::now());
        let mut more = promos.clone();
        more.push(extra);
        let after = price(&cart, &more, common::now());
        prop_assert!(before.exact && after.exact);
        prop_assert!(after.total <= before.total, "{} > {}: {:?}", after.total, before.total, after.applied);
    }
}
