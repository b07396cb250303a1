//! Properties every priced cart keeps, over random carts and promotions.

mod common;

use beacon_pricing::{Cart, Priced, Promotion, price};
use common::generate::{case, promotion};
use proptest::prelude::*;

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

/// Every property of one case: `extra` is one more promotion.
fn properties(cart: &Cart, promos: &[Promotion], extra: &Promotion, paused: bool) -> Result<(), TestCaseError> {
    adds_up_and_stacks(cart, promos)?;
    settling_changes_nothing(cart, promos)?;
    index_finds_what_matters(cart, promos)?;
    greedy_adds_up_and_never_wins(cart, promos)?;
    line_order_changes_nothing(cart, promos)?;
    inactive_changes_nothing(cart, promos, extra, paused)?;
    adding_never_raises(cart, promos, extra)
}

fn adds_up_and_stacks(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let p = price(cart, promos, common::now());
    check_sums(&p)?;
    // never two applied that do not combine, nor two exclusive ones of one group
    let on: Vec<&Promotion> = p.applied.iter().filter_map(|a| promos.iter().find(|x| x.id == a.id)).collect();
    for (i, a) in on.iter().enumerate() {
        for b in &on[i + 1..] {
            prop_assert!(!a.conflicts(b), "{} and {}", a.id, b.id);
            prop_assert!(!(a.group == b.group && (a.exclusive || b.exclusive)), "{} and {}", a.id, b.id);
        }
    }
    // never more of a limit than is left
    for t in &p.takes {
        prop_assert!(cart.usage.used(&t.promotion, t.limit) + t.amount <= t.max, "{t:?}");
    }
    Ok(())
}

fn settling_changes_nothing(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let settled = price(cart, promos, common::now());
    let every = beacon_pricing::engine::price_unpruned(cart, promos, common::now());
    prop_assert_eq!(settled.total, every.total, "{:?} vs {:?}", settled.applied, every.applied);
    // (the number evaluated is not compared: picks that switch the same promotions
    // on are skipped only when they come one after the other, which the order of
    // the choices decides)
    Ok(())
}

fn index_finds_what_matters(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let all = price(cart, promos, common::now());
    let indexed = beacon_pricing::price_with(cart, &beacon_pricing::Snapshot::new(promos.to_vec()), common::now());
    prop_assert_eq!((all.total, &all.applied, &all.hints), (indexed.total, &indexed.applied, &indexed.hints));
    // the index does not look at a promotion that targets no line the cart has (with a quantity)
    let targets_a_line = |id: &str| {
        promos.iter().find(|p| p.id == id).is_none_or(|p| {
            let named = match &p.reward {
                beacon_pricing::spec::Reward::BuyXGetY { get_products, .. } => get_products.as_slice(),
                _ => &[],
            };
            p.target.as_ref().is_none_or(|t| {
                cart.lines.iter().any(|l| l.quantity > 0 && (t.matches(l) || named.contains(&l.product_id)))
            })
        })
    };
    let relevant = |p: &beacon_pricing::Priced| {
        p.rejected
            .iter()
            .filter(|r| r.reason != beacon_pricing::Reason::NoMatchingLines && targets_a_line(&r.id))
            .cloned()
            .collect::<Vec<_>>()
    };
    prop_assert_eq!(relevant(&all), relevant(&indexed));
    Ok(())
}

fn greedy_adds_up_and_never_wins(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let greedy = beacon_pricing::price_bounded(cart, promos, common::now(), 1);
    check_sums(&greedy)?;
    let exact = price(cart, promos, common::now());
    prop_assert!(exact.total <= greedy.total);
    let mut reversed = cart.clone();
    reversed.lines.reverse();
    prop_assert_eq!(beacon_pricing::price_bounded(&reversed, promos, common::now(), 1).total, greedy.total);
    Ok(())
}

fn line_order_changes_nothing(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let a = price(cart, promos, common::now());
    let mut reversed = cart.clone();
    reversed.lines.reverse();
    let b = price(&reversed, promos, common::now());
    prop_assert_eq!((a.total, a.discount), (b.total, b.discount));
    Ok(())
}

fn inactive_changes_nothing(
    cart: &Cart,
    promos: &[Promotion],
    extra: &Promotion,
    paused: bool,
) -> Result<(), TestCaseError> {
    let before = price(cart, promos, common::now());
    let mut extra = extra.clone();
    if paused {
        extra.status = beacon_pricing::spec::Status::Paused;
    } else {
        extra.ends_at = Some(common::now() - chrono::Duration::seconds(1));
    }
    let mut more = promos.to_vec();
    more.push(extra);
    let after = price(cart, &more, common::now());
    prop_assert_eq!((before.total, before.applied), (after.total, after.applied));
    Ok(())
}

fn adding_never_raises(cart: &Cart, promos: &[Promotion], extra: &Promotion) -> Result<(), TestCaseError> {
    let before = price(cart, promos, common::now());
    let mut more = promos.to_vec();
    more.push(extra.clone());
    let after = price(cart, &more, common::now());
    prop_assert!(before.exact && after.exact);
    prop_assert!(after.total <= before.total, "{} > {}: {:?}", after.total, before.total, after.applied);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400)))]

    #[test]
    fn every_property_holds((cart, promos) in case(true, 7), extra in promotion(99), paused in proptest::bool::ANY) {
        properties(&cart, &promos, &extra, paused)?;
    }
}

// Cases proptest once shrank failures to (recorded against older shapes of
// the cart and promotions, so their seeds no longer replay them): each is
// checked against every property.

fn regression(
    lines: serde_json::Value,
    specs: serde_json::Value,
    extra: serde_json::Value,
) -> Result<(), TestCaseError> {
    let cart = common::cart(lines);
    let extra = common::promos(serde_json::json!([extra])).remove(0);
    for paused in [false, true] {
        properties(&cart, &common::promos(specs.clone()), &extra, paused)?;
    }
    Ok(())
}

fn one_off() -> serde_json::Value {
    serde_json::json!({"id": "promo99", "name": "p", "reward": {"type": "amount_off", "amount": "1.00"}})
}

#[test]
fn item_tiers_beside_amount_tiers_on_overlapping_lines() -> Result<(), TestCaseError> {
    regression(
        serde_json::json!([
            {"id": "p1", "category": "茶叶/绿茶", "brand": "B", "tags": ["hot"], "price": "56.77", "qty": 1},
            {"id": "p2", "category": "茶叶/绿茶", "brand": "A", "tags": ["hot"], "price": "188.28", "qty": 4},
            {"id": "p5", "category": "茶叶/绿茶", "brand": "B", "tags": ["hot"], "price": "148.39", "qty": 4}]),
        serde_json::json!([
            {"id": "promo0", "name": "p", "target": {"categories": ["茶叶"]}, "stacking": {"group": "g0"},
             "reward": {"type": "tiers", "basis": "items", "tiers": [{"min": "1", "percent_off": "20"}]}},
            {"id": "promo1", "name": "p", "target": {"brands": ["A"]}, "stacking": {"group": "g1"},
             "reward": {"type": "tiers", "tiers": [{"min": "1", "amount_off": "1"}, {"min": "2", "percent_off": "15"}]}}]),
        one_off(),
    )
}

#[test]
fn a_line_of_nothing_with_no_quantity() -> Result<(), TestCaseError> {
    regression(
        serde_json::json!([{"id": "p0", "category": "茶叶/绿茶", "brand": "A", "price": "0.00", "qty": 0}]),
        serde_json::json!([{"id": "promo0", "name": "p", "reward": {"type": "amount_off", "amount": "0.01"}}]),
        one_off(),
    )
}

#[test]
fn a_named_free_product_outside_the_target_that_costs_nothing() -> Result<(), TestCaseError> {
    regression(
        serde_json::json!([{"id": "p2", "category": "茶具", "brand": "A", "price": "0.00", "qty": 1}]),
        serde_json::json!([{"id": "promo0", "name": "p", "target": {"categories": ["茶叶"]},
            "reward": {"type": "buy_x_get_y", "buy": 1, "get": 1, "get_products": ["p2"]}}]),
        one_off(),
    )
}

#[test]
fn free_shipping_that_does_not_combine_with_a_newcomer_and_points() -> Result<(), TestCaseError> {
    let mut cart = common::cart(serde_json::json!([
        {"id": "p0", "category": "茶叶/绿茶", "brand": "A", "price": "6.28", "qty": 2},
        {"id": "p1", "category": "茶叶/绿茶", "brand": "B", "price": "3.59", "qty": 1}]));
    cart.shipping = 115;
    let rule = beacon_pricing::loyalty::Redeem { points_per_unit: 1, max_share_bp: 9295, min_points: 0 };
    cart.points = Some(beacon_pricing::points::Redemption { requested: 1486, available: 1486, room: None, rule });
    let promos = common::promos(serde_json::json!([{"id": "promo0", "name": "p",
        "stacking": {"group": "g0", "not_with": ["g2"]}, "reward": {"type": "free_shipping"}}]));
    let extra = common::promos(serde_json::json!([{"id": "promo99", "name": "p", "stacking": {"group": "g2"},
        "reward": {"type": "amount_off", "amount": "1.16"}}]))
    .remove(0);
    properties(&cart, &promos, &extra, false)
}

#[test]
fn an_exclusive_group_of_four_with_a_special_price_of_nothing() -> Result<(), TestCaseError> {
    regression(
        serde_json::json!([
            {"id": "p0", "category": "茶叶/绿茶", "brand": "A", "price": "155.50", "qty": 2},
            {"id": "p1", "category": "茶叶/绿茶", "brand": "B", "tags": ["hot"], "price": "187.50", "qty": 2},
            {"id": "p1", "category": "茶叶/绿茶", "brand": "B", "price": "0.00", "qty": 2}]),
        serde_json::json!([
            {"id": "promo0", "name": "p", "stacking": {"group": "g2", "exclusive": true}, "reward": {"type": "free_shipping"}},
            {"id": "promo1", "name": "p", "stacking": {"group": "g2", "exclusive": true}, "min_spend": "376",
             "target": {"products": ["p1", "p2"]}, "reward": {"type": "special_price", "price": "0"}},
            {"id": "promo2", "name": "p", "stacking": {"group": "g2", "exclusive": true},
             "reward": {"type": "tiers", "tiers": [{"min": "87", "amount_off": "1"}, {"min": "174", "percent_off": "15"}]}},
            {"id": "promo3", "name": "p", "stacking": {"group": "g2"}, "priority": 1,
             "reward": {"type": "tiers", "basis": "items", "tiers": [{"min": "1", "percent_off": "20"}]}}]),
        one_off(),
    )
}
