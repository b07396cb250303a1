//! The engine against an independent oracle: for carts with up to six
//! promotions (every reward type, coupons, limits and budgets, windows,
//! eligibility, currencies), the reference evaluator in `reference.rs`
//! prices every allowed combination by the documented rules, and the
//! engine's total must be the best of them; replaying the promotions the
//! engine applied through the reference must give the same line totals.

#[path = "../common/mod.rs"]
mod common;
mod reference;

use beacon_pricing::{Cart, Promotion, price};
use common::generate::case;
use proptest::prelude::*;

fn agrees(cart: &Cart, promos: &[Promotion]) -> Result<(), TestCaseError> {
    let now = common::now();
    let engine = price(cart, promos, now);
    prop_assert!(engine.exact, "six promotions are searched exhaustively");
    let best = reference::totals(cart, promos, now);
    prop_assert!(best.contains(&engine.total), "engine {} vs reference {:?}: {:?}", engine.total, best, engine.applied);

    // the same promotions, in the documented order, leave every line where the engine says
    let mut on: Vec<&Promotion> = engine.applied.iter().filter_map(|a| promos.iter().find(|p| p.id == a.id)).collect();
    on.sort_by_key(|p| {
        (matches!(p.reward, beacon_pricing::spec::Reward::FreeShipping(_)), p.target.is_none(), -p.priority, &p.id)
    });
    let replay = reference::run(cart, &on);
    let lines: Vec<i64> = engine.lines.iter().map(|l| l.total).collect();
    prop_assert_eq!(&replay.left[..cart.lines.len()], &lines[..], "{:?}", engine.applied);
    prop_assert_eq!(replay.left[cart.lines.len()], engine.shipping - engine.shipping_discount);
    let amounts: Vec<(&str, i64)> = replay.applied.iter().map(|a| (a.id.as_str(), a.amount)).collect();
    let mut said: Vec<(&str, i64)> = engine.applied.iter().map(|a| (a.id.as_str(), a.amount)).collect();
    said.sort_by_key(|(id, _)| on.iter().position(|p| p.id == *id));
    prop_assert_eq!(amounts, said);

    // every promotion the cart presents is either applied or rejected, once
    for p in promos {
        let presented = p.coupon.as_ref().is_none_or(|c| cart.coupons.contains(c));
        let said = engine.applied.iter().filter(|a| a.id == p.id).count()
            + engine.rejected.iter().filter(|r| r.id == p.id).count();
        prop_assert_eq!(said, usize::from(presented), "{}", p.id);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(600)))]

    #[test]
    fn the_engine_finds_the_best_allowed_combination((cart, promos) in case(false, 7)) {
        agrees(&cart, &promos)?;
    }
}

/// The worked example of docs/promotions.md, through the reference: the
/// oracle itself must find what a finance team computes by hand.
#[test]
fn the_reference_prices_the_worked_example() {
    let text = |p: &str| std::fs::read_to_string(format!("{}/../../docs/examples/{p}", env!("CARGO_MANIFEST_DIR")));
    let cart: beacon_pricing::cart::CartSpec =
        serde_json::from_str(&text("cart.json").expect("example cart")).expect("cart json");
    let cart = cart.compile(beacon_core::Currency::CNY).expect("valid cart");
    let specs: Vec<beacon_pricing::Spec> =
        serde_json::from_str(&text("promotions.json").expect("example promotions")).expect("promotions json");
    let promos: Vec<Promotion> =
        specs.iter().map(|s| s.compile(beacon_core::Currency::CNY).expect("valid promotion")).collect();
    let at = |t: &str| t.parse::<chrono::DateTime<chrono::Utc>>().expect("time");
    let on_the_11th = reference::totals(&cart, &promos, at("2026-11-11T12:00:00Z"));
    let on_the_12th = reference::totals(&cart, &promos, at("2026-11-12T12:00:00Z"));
    assert_eq!(on_the_11th.into_iter().collect::<Vec<_>>(), vec![15_330]);
    assert_eq!(on_the_12th.into_iter().collect::<Vec<_>>(), vec![16_330]);
}
