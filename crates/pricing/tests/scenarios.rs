//! Named scenario carts: what a shop's finance team would compute by hand.

mod common;

use common::{applied, price, rejected};
use serde_json::json;

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn amount_off_the_whole_order() {
    let v = price(
        json!([["tea", "茶叶/绿茶", "88.00", 2], ["cup", "茶具", "59.90", 1]]),
        json!([
            {"id": "a", "name": "立减10元", "reward": {"type": "amount_off", "amount": "10"}}
        ]),
    );
    assert_eq!(
        (v["subtotal"].as_str(), v["discount"].as_str(), v["total"].as_str()),
        (Some("235.90"), Some("10.00"), Some("225.90"))
    );
    // 10.00 over 176.00 and 59.90 by largest remainder: 7.46 and 2.54
    assert_eq!(v["lines"][0]["discount"], "7.46");
    assert_eq!(v["lines"][1]["discount"], "2.54");
}

#[test]
fn percent_off_a_category_with_a_cap() {
    let v = price(
        json!([["tea", "茶叶/绿茶", "300.00", 2], ["cup", "茶具", "100.00", 1]]),
        json!([
            {"id": "p", "name": "茶叶8折 最多减100", "target": {"categories": ["茶叶"]},
             "reward": {"type": "percent_off", "percent": "20", "max_discount": "100"}}
        ]),
    );
    assert_eq!(applied(&v), [(s("p"), s("100.00"))]);
    assert_eq!(v["lines"][1]["discount"], "0.00", "the teaware is not tea");
}

#[test]
fn threshold_tiers_take_the_highest_reached_and_hint_the_next() {
    let promo = json!([{"id": "t", "name": "满100减20 满200减50", "reward": {"type": "tiers", "tiers": [
        {"min": "100", "amount_off": "20"}, {"min": "200", "amount_off": "50"}]}}]);
    let v = price(json!([["a", "", "188.00", 1]]), promo.clone());
    assert_eq!(applied(&v), [(s("t"), s("20.00"))]);
    assert_eq!(
        v["hints"][0],
        json!({"id": "t", "spend_more": "12.00", "discount": "50.00"}),
        "凑单: 12 more for 50 off"
    );
    let v = price(json!([["a", "", "88.00", 1]]), promo.clone());
    assert_eq!(
        v["rejected"][0]["reason"],
        json!({"code": "min_spend_not_met", "required": "100.00", "actual": "88.00"})
    );
    assert_eq!(v["hints"][0]["spend_more"], "12.00");
    let v = price(json!([["a", "", "250.00", 1]]), promo);
    assert_eq!(applied(&v), [(s("t"), s("50.00"))]);
}

#[test]
fn every_hundred_repeats_up_to_its_cap() {
    let promo = json!([{"id": "e", "name": "每满100减10 最多减30", "reward": {"type": "every", "every": "100", "amount_off": "10", "max_discount": "30"}}]);
    assert_eq!(applied(&price(json!([["a", "", "259.00", 1]]), promo.clone())), [(s("e"), s("20.00"))]);
    assert_eq!(applied(&price(json!([["a", "", "999.00", 1]]), promo)), [(s("e"), s("30.00"))]);
}

#[test]
fn item_count_tiers_discount_the_items_of_a_category() {
    // 满件折: 3 teas → 20 % off those teas
    let promo = json!([{"id": "n", "name": "茶叶满3件8折", "target": {"categories": ["茶叶"]},
        "reward": {"type": "tiers", "basis": "items", "tiers": [{"min": "3", "percent_off": "20"}]}}]);
    let v = price(json!([["a", "茶叶", "10.00", 2], ["b", "茶具", "50.00", 1]]), promo.clone());
    assert_eq!(v["rejected"][0]["reason"], json!({"code": "min_items_not_met", "required": 3, "actual": 2}));
    assert_eq!(v["hints"][0], json!({"id": "n", "items_more": 1, "discount": "6.00"}));
    let v = price(json!([["a", "茶叶", "10.00", 3], ["b", "茶具", "50.00", 1]]), promo);
    assert_eq!(applied(&v), [(s("n"), s("6.00"))]);
}

#[test]
fn line_promotions_come_first_and_the_order_discount_sees_the_discounted_amounts() {
    let v = price(
        json!([["tea", "茶叶", "100.00", 1], ["cup", "茶具", "100.00", 1]]),
        json!([
            {"id": "order10", "name": "全场9折", "reward": {"type": "percent_off", "percent": "10"}},
            {"id": "tea50", "name": "茶叶立减50", "target": {"categories": ["茶叶"]}, "reward": {"type": "amount_off", "amount": "50"}}
        ]),
    );
    // tea 100 → 50; then 10 % of 150 = 15, never of the undiscounted 200
    assert_eq!(applied(&v), [(s("tea50"), s("50.00")), (s("order10"), s("15.00"))]);
    assert_eq!(v["total"], "135.00");
}

#[test]
fn an_exclusive_group_gives_the_shopper_its_best_promotion() {
    let v = price(
        json!([["a", "", "300.00", 1]]),
        json!([
            {"id": "x30", "name": "减30", "stacking": {"group": "store", "exclusive": true}, "reward": {"type": "amount_off", "amount": "30"}},
            {"id": "x15pct", "name": "85折", "stacking": {"group": "store", "exclusive": true}, "reward": {"type": "percent_off", "percent": "15"}},
            {"id": "free", "name": "立减5", "reward": {"type": "amount_off", "amount": "5"}}
        ]),
    );
    // 15 % beats 30 off; both order-level, so by priority then id: the free 5 first (300 → 295),
    // then 15 % of 295 = 44.25
    assert_eq!(v["total"], "250.75");
    assert_eq!(rejected(&v), [(s("x30"), s("not_stackable_with"))]);
    assert_eq!(v["rejected"][0]["reason"]["id"], "x15pct");
}

#[test]
fn a_line_discount_that_would_cost_a_threshold_is_left_out() {
    // taking the 1.00 off would drop the order below 满200减50
    let v = price(
        json!([["a", "", "200.00", 1]]),
        json!([
            {"id": "line1", "name": "单品立减1", "target": {"products": ["a"]}, "reward": {"type": "amount_off", "amount": "1"}},
            {"id": "m200", "name": "满200减50", "min_spend": "200", "reward": {"type": "amount_off", "amount": "50"}}
        ]),
    );
    assert_eq!(v["total"], "150.00");
    assert_eq!(rejected(&v), [(s("line1"), s("not_best_for_shopper"))]);
    assert_eq!(v["search"], json!({"combinations": 2, "exact": true}));
}

#[test]
fn inactive_future_and_past_promotions_say_why() {
    let v = price(
        json!([["a", "", "10.00", 1]]),
        json!([
            {"id": "d", "name": "draft", "status": "paused", "reward": {"type": "amount_off", "amount": "1"}},
            {"id": "f", "name": "future", "starts_at": "2026-12-01T00:00:00Z", "reward": {"type": "amount_off", "amount": "1"}},
            {"id": "p", "name": "past", "ends_at": "2026-11-11T12:00:00Z", "reward": {"type": "amount_off", "amount": "1"}},
            {"id": "o", "name": "other shelf", "target": {"brands": ["x"]}, "reward": {"type": "amount_off", "amount": "1"}}
        ]),
    );
    assert_eq!(
        rejected(&v),
        [(s("d"), s("inactive")), (s("f"), s("not_started")), (s("p"), s("expired")), (s("o"), s("no_matching_lines"))]
    );
    assert_eq!(v["total"], "10.00");
}

#[test]
fn discounts_never_go_below_zero_and_zero_price_lines_are_fine() {
    let v = price(
        json!([["gift", "", "0.00", 1], ["a", "", "5.00", 1]]),
        json!([
            {"id": "big", "name": "减100", "reward": {"type": "amount_off", "amount": "100"}}
        ]),
    );
    assert_eq!((v["discount"].as_str(), v["total"].as_str()), (Some("5.00"), Some("0.00")));
    assert_eq!(v["lines"][0]["discount"], "0.00");
}

#[test]
fn percentages_round_half_up_to_the_fen() {
    // 12.5 % of 0.99 = 0.12375 → 0.12; of 1.00 = 0.125 → 0.13
    let promo = json!([{"id": "r", "name": "r", "reward": {"type": "percent_off", "percent": "12.5"}}]);
    assert_eq!(applied(&price(json!([["a", "", "0.99", 1]]), promo.clone())), [(s("r"), s("0.12"))]);
    assert_eq!(applied(&price(json!([["a", "", "1.00", 1]]), promo)), [(s("r"), s("0.13"))]);
}

#[test]
fn bad_specs_are_refused_with_the_reason() {
    use beacon_core::Currency;
    use beacon_pricing::Spec;
    let cases = [
        (json!({"id": "x", "name": "n", "reward": {"type": "amount_off", "amount": "-1"}}), "must not be negative"),
        (json!({"id": "x", "name": "n", "reward": {"type": "percent_off", "percent": "120"}}), "between 0 and 100"),
        (
            json!({"id": "x", "name": "n", "reward": {"type": "tiers", "tiers": [{"min": "200", "amount_off": "1"}, {"min": "100", "amount_off": "2"}]}}),
            "go up",
        ),
        (json!({"id": "x", "name": "n", "reward": {"type": "tiers", "tiers": []}}), "at least one tier"),
        (
            json!({"id": "x", "name": "n", "target": {}, "reward": {"type": "amount_off", "amount": "1"}}),
            "target names no",
        ),
        (
            json!({"id": "x", "name": "n", "starts_at": "2026-12-01T00:00:00Z", "ends_at": "2026-11-01T00:00:00Z", "reward": {"type": "amount_off", "amount": "1"}}),
            "after starts_at",
        ),
    ];
    for (spec, expect) in cases {
        let e = Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).expect_err(&spec.to_string());
        assert!(e.message.contains(expect), "{spec}: {}", e.message);
    }
    let unknown = json!({"id": "x", "name": "n", "colour": 1, "reward": {"type": "amount_off", "amount": "1"}});
    assert!(Spec::parse(&unknown.to_string()).is_err(), "unknown fields are refused");
}
