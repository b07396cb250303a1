//! Free shipping (包邮): the cart's shipping fee off, measured on what the
//! lines cost after their discounts, never a share of a percentage.

mod common;

use beacon_pricing::{Cart, price};
use common::{applied, cart, now, promos};
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

/// A cart of one line at `amount` with a shipping fee of `fee` (yuan strings).
fn shipped(amount: &str, fee: i64) -> Cart {
    let mut c = cart(json!([["tea", "茶叶", amount, 1]]));
    c.shipping = fee;
    c
}

fn free_over_99() -> Value {
    json!({"id": "ship", "name": "满99包邮", "min_spend": "99", "reward": {"type": "free_shipping"}})
}

#[test]
fn over_the_threshold_the_fee_is_taken_off_and_the_lines_keep_their_prices() {
    let p = price(&shipped("100.00", 1_000), &promos(json!([free_over_99()])), now());
    let v = p.to_json();
    assert_eq!(
        (&v["subtotal"], &v["discount"], &v["shipping"], &v["shipping_discount"], &v["total"]),
        (&json!("100.00"), &json!("0.00"), &json!("10.00"), &json!("10.00"), &json!("100.00"))
    );
    assert_eq!(v["applied"], json!([{"id": "ship", "name": "满99包邮", "amount": "10.00", "lines": []}]));
    assert_eq!(v["lines"][0]["discount"], "0.00");
}

#[test]
fn under_the_threshold_a_hint_says_how_much_more_for_free_shipping() {
    let p = price(&shipped("90.00", 1_000), &promos(json!([free_over_99()])), now());
    let v = p.to_json();
    assert_eq!(v["total"], "100.00");
    assert_eq!(
        v["rejected"][0]["reason"],
        json!({"code": "min_spend_not_met", "required": "99.00", "actual": "90.00"})
    );
    // 凑单包邮: 9.00 more saves the 10.00 fee
    assert_eq!(v["hints"], json!([{"id": "ship", "spend_more": "9.00", "discount": "10.00"}]));
}

#[test]
fn a_coupon_that_would_cost_free_shipping_is_left_out_when_the_fee_is_larger() {
    // 105 with the coupon: 95, under 99, so 95 + 12 = 107; without it 105 + 0 = 105
    let specs =
        json!([free_over_99(), {"id": "c5", "name": "立减10", "reward": {"type": "amount_off", "amount": "10"}}]);
    let p = price(&shipped("105.00", 1_200), &promos(specs.clone()), now());
    assert_eq!(p.total, 10_500);
    assert_eq!(applied(&p.to_json()), [(s("ship"), s("12.00"))]);
    assert_eq!(p.to_json()["rejected"][0], json!({"id": "c5", "reason": {"code": "not_best_for_shopper"}}));
    // with a fee of 8 the coupon is worth more: 95 + 8 = 103
    let p = price(&shipped("105.00", 800), &promos(specs), now());
    assert_eq!((p.total, p.discount, p.shipping_discount), (10_300, 1_000, 0));
}

#[test]
fn a_capped_free_shipping_takes_at_most_its_cap_and_a_percentage_never_touches_the_fee() {
    let specs = json!([
        {"id": "ship8", "name": "运费立减8元", "reward": {"type": "free_shipping", "max_discount": "8"}},
        {"id": "ten", "name": "全场9折", "reward": {"type": "percent_off", "percent": "10"}}
    ]);
    let p = price(&shipped("100.00", 1_200), &promos(specs), now());
    // 10 % of the lines' 100.00 (not of 112.00); 8.00 of the 12.00 fee
    assert_eq!((p.discount, p.shipping_discount, p.total), (1_000, 800, 9_000 + 400));
}

#[test]
fn free_shipping_counts_against_its_limits_like_any_promotion() {
    let specs = json!([{"id": "ship", "name": "包邮券", "reward": {"type": "free_shipping"},
        "limits": [{"counter": "discount", "limit": "1000"}]}]);
    let mut c = shipped("50.00", 1_000);
    c.usage.0.insert((s("ship"), 0), 99_500);
    let p = price(&c, &promos(specs), now());
    assert_eq!(p.total, 6_000);
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "budget_exhausted", "limit": "1000.00", "used": "995.00", "needed": "10.00"})
    );
}
