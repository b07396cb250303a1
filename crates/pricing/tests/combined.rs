//! Named scenarios of combined promotions, each checked against what a
//! finance team computes by hand (the arithmetic is in the comments).

mod common;

use beacon_core::Currency;
use beacon_pricing::cart::CartSpec;
use beacon_pricing::{Spec, price};
use common::{applied, cart, now, promos, rejected};
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn a_member_price_then_a_coupon_then_man_jian_on_what_is_left() {
    let mut c = cart(json!([["tea", "茶叶/绿茶", "100.00", 2], ["cup", "茶具", "80.00", 1]]));
    c.customer.tier = Some(s("gold"));
    c.coupons = vec![s("C10")];
    let specs = json!([
        {"id": "member", "name": "金卡茶叶价 90", "target": {"categories": ["茶叶"]}, "eligibility": {"tiers": ["gold"]},
         "reward": {"type": "special_price", "price": "90.00"}},
        {"id": "mj", "name": "满200减30 满300减50", "reward": {"type": "tiers", "tiers": [
            {"min": "200", "amount_off": "30"}, {"min": "300", "amount_off": "50"}]}},
        {"id": "cp", "name": "满100减10券", "coupon": "C10", "min_spend": "100", "reward": {"type": "amount_off", "amount": "10"}}
    ]);
    let v = price(&c, &promos(specs), now()).to_json();
    // 280.00; member price: 2 × 10.00 off → 260.00; cp (id before mj): −10 → 250.00; 满200减30 → 220.00
    assert_eq!(
        (v["subtotal"].as_str(), v["discount"].as_str(), v["total"].as_str()),
        (Some("280.00"), Some("60.00"), Some("220.00"))
    );
    assert_eq!(applied(&v), [(s("member"), s("20.00")), (s("cp"), s("10.00")), (s("mj"), s("30.00"))]);
    // 凑单: mj saw 250.00; 50.00 more reaches 满300减50
    assert_eq!(v["hints"], json!([{"id": "mj", "spend_more": "50.00", "discount": "50.00"}]));
}

fn flash_or_coupon(coupon_off: &str) -> Value {
    let mut c = cart(json!([["phone", "数码/手机", "1000.00", 1]]));
    c.coupons = vec![s("BIG")];
    let specs = json!([
        {"id": "flash", "name": "秒杀 799", "target": {"products": ["phone"]}, "reward": {"type": "special_price", "price": "799.00"},
         "stacking": {"group": "flash-or-coupon", "exclusive": true}},
        {"id": "coupon", "name": "满900券", "coupon": "BIG", "min_spend": "900", "reward": {"type": "amount_off", "amount": coupon_off},
         "stacking": {"group": "flash-or-coupon", "exclusive": true}}
    ]);
    price(&c, &promos(specs), now()).to_json()
}

#[test]
fn coupons_do_not_stack_with_a_flash_sale_and_the_shopper_gets_the_better_one() {
    // the coupon alone: 1000 − 250 = 750 beats the flash price 799
    let v = flash_or_coupon("250");
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("750.00"), vec![(s("coupon"), s("250.00"))]));
    assert_eq!(v["rejected"], json!([{"id": "flash", "reason": {"code": "not_stackable_with", "id": "coupon"}}]));
}

#[test]
fn a_flash_sale_wins_over_a_smaller_coupon_it_does_not_stack_with() {
    // 1000 − 150 = 850 loses to 799
    let v = flash_or_coupon("150");
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("799.00"), vec![(s("flash"), s("201.00"))]));
    assert_eq!(v["rejected"], json!([{"id": "coupon", "reason": {"code": "not_stackable_with", "id": "flash"}}]));
}

#[test]
fn an_order_discount_splits_to_the_fen_by_largest_remainder() {
    let v = common::price(
        json!([["a", "", "33.33", 1], ["b", "", "33.33", 1], ["c", "", "33.34", 1]]),
        json!([{"id": "x", "name": "立减10", "reward": {"type": "amount_off", "amount": "10"}}]),
    );
    // exact shares 3.333, 3.333, 3.334: floors 9.99, the last fen to the largest remainder (c)
    let split: Vec<&str> = v["lines"].as_array().into_iter().flatten().filter_map(|l| l["discount"].as_str()).collect();
    assert_eq!(split, ["3.33", "3.33", "3.34"]);
}

#[test]
fn a_free_gift_line_takes_no_share_of_an_order_discount() {
    let v = common::price(
        json!([["tea", "茶叶", "100.00", 1], ["gift", "赠品", "0.00", 1]]),
        json!([{"id": "p", "name": "全场9折", "reward": {"type": "percent_off", "percent": "10"}}]),
    );
    assert_eq!((v["total"].as_str(), v["lines"][1]["discount"].as_str()), (Some("90.00"), Some("0.00")));
    assert_eq!(v["lines"][1]["total"], "0.00");
}

#[test]
fn man_jian_measures_the_amount_after_line_discounts_and_the_shopper_keeps_the_bigger_saving() {
    let v = common::price(
        json!([["tea", "茶叶", "120.00", 1]]),
        json!([
            {"id": "p20", "name": "茶叶8折", "target": {"categories": ["茶叶"]}, "reward": {"type": "percent_off", "percent": "20"}},
            {"id": "mj", "name": "满100减15", "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "15"}]}}
        ]),
    );
    // with 8折: 96.00 and 满100 is missed; without it: 105.00 — 96.00 is lower
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("96.00"), vec![(s("p20"), s("24.00"))]));
    assert_eq!(rejected(&v), [(s("mj"), s("min_spend_not_met"))]);
    assert_eq!(
        v["rejected"][0]["reason"],
        json!({"code": "min_spend_not_met", "required": "100.00", "actual": "96.00"})
    );
    assert_eq!(v["hints"], json!([{"id": "mj", "spend_more": "4.00", "discount": "15.00"}]));
}

#[test]
fn yen_have_no_minor_unit_and_percentages_round_half_up_to_the_yen() {
    let jpy = Currency::parse("JPY").expect("JPY");
    let cart: CartSpec =
        serde_json::from_value(json!({"currency": "JPY", "lines": [{"product_id": "matcha", "price": "999"}]}))
            .expect("cart");
    let cart = cart.compile(jpy).expect("valid cart");
    let spec = json!({"id": "p", "name": "15% off", "reward": {"type": "percent_off", "percent": "15"}});
    let promo = Spec::parse(&spec.to_string()).and_then(|s| s.compile(jpy)).expect("valid");
    let v = price(&cart, &[promo], now()).to_json();
    // 15 % of ¥999 is ¥149.85 → ¥150
    assert_eq!((v["discount"].as_str(), v["total"].as_str()), (Some("150"), Some("849")));
}

#[test]
fn a_gift_comes_with_a_threshold_while_its_stock_lasts() {
    let specs = json!([{"id": "gift", "name": "满199赠茶杯", "min_spend": "199",
        "reward": {"type": "gift", "product_id": "cup-gift", "quantity": 2},
        "limits": [{"counter": "units", "limit": 100}]}]);
    let c = cart(json!([["tea", "茶叶", "120.00", 2]]));
    let p = price(&c, &promos(specs.clone()), now());
    let v = p.to_json();
    // 240.00 reaches 199: two cups at zero, nothing off the money
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("240.00"), vec![(s("gift"), s("0.00"))]));
    assert_eq!(
        v["gifts"],
        json!([{"promotion": "gift", "product_id": "cup-gift", "sku": null, "quantity": 2, "price": "0.00"}])
    );
    assert_eq!(p.takes.iter().map(|t| t.amount).collect::<Vec<_>>(), [2], "two cups of the gift stock");
    let v = price(&cart(json!([["tea", "茶叶", "120.00", 1]])), &promos(specs.clone()), now()).to_json();
    assert_eq!(rejected(&v), [(s("gift"), s("min_spend_not_met"))]);
    assert_eq!(v["gifts"], json!([]));
    // 凑单赠: 79.00 more for the two cups
    assert_eq!(
        v["hints"],
        json!([{"id": "gift", "spend_more": "79.00", "discount": "0.00", "gift": {"product_id": "cup-gift", "quantity": 2}}])
    );
    // one cup left, two wanted: none, and said so
    let mut c = c;
    c.usage.0.insert((s("gift"), 0), 99);
    let v = price(&c, &promos(specs), now()).to_json();
    assert_eq!(v["rejected"][0]["reason"], json!({"code": "out_of_stock", "stock": 100, "sold": 99, "wanted": 2}));
}

fn coupon_manjian_flash(cart_lines: Value) -> Value {
    let mut c = cart(cart_lines);
    c.coupons = vec![s("C30")];
    let specs = json!([
        {"id": "flash", "name": "秒杀 耳机 199", "target": {"products": ["buds"]}, "reward": {"type": "special_price", "price": "199.00"},
         "stacking": {"group": "flash"}},
        {"id": "c30", "name": "满300减30券", "coupon": "C30", "min_spend": "300", "reward": {"type": "amount_off", "amount": "30"},
         "stacking": {"group": "coupons", "not_with": ["flash"]}},
        {"id": "mj", "name": "满300减20", "reward": {"type": "tiers", "tiers": [{"min": "300", "amount_off": "20"}]}}
    ]);
    price(&c, &promos(specs), now()).to_json()
}

#[test]
fn a_coupon_stacks_with_man_jian_but_not_with_a_flash_sale() {
    // no flash-sale item: the coupon and 满减 both apply, 400 − 30 − 20 = 350
    let v = coupon_manjian_flash(json!([["tea", "茶叶", "400.00", 1]]));
    assert_eq!(applied(&v), [(s("c30"), s("30.00")), (s("mj"), s("20.00"))]);
    // with the earbuds (249 → 199 flash): flash + 满减 = 449 − 50 − 20 = 379; coupon + 满减 = 449 − 30 − 20 = 399
    let v = coupon_manjian_flash(json!([["tea", "茶叶", "200.00", 1], ["buds", "数码", "249.00", 1]]));
    assert_eq!(
        (v["total"].as_str(), applied(&v)),
        (Some("379.00"), vec![(s("flash"), s("50.00")), (s("mj"), s("20.00"))])
    );
    assert_eq!(v["rejected"], json!([{"id": "c30", "reason": {"code": "not_stackable_with", "id": "flash"}}]));
    // a dearer tea makes the coupon worth more than the flash price: 1000 + 209 (buds at 209 → 199 is only 10)
    let v = coupon_manjian_flash(json!([["tea", "茶叶", "1000.00", 1], ["buds", "数码", "209.00", 1]]));
    assert_eq!(
        (v["total"].as_str(), applied(&v)),
        (Some("1159.00"), vec![(s("c30"), s("30.00")), (s("mj"), s("20.00"))])
    );
    assert_eq!(v["rejected"], json!([{"id": "flash", "reason": {"code": "not_stackable_with", "id": "c30"}}]));
}

fn tea_and_cup(lines: Value) -> Value {
    let specs = json!([{"id": "bxgy", "name": "买两盒茶送茶杯", "target": {"categories": ["茶叶"]},
        "reward": {"type": "buy_x_get_y", "buy": 2, "get": 1, "get_products": ["CUP-1"]}}]);
    price(&cart(lines), &promos(specs), now()).to_json()
}

#[test]
fn buy_two_teas_get_a_named_cup_free() {
    let cup = json!({"id": "cup", "sku": "CUP-1", "category": "茶具", "price": "30.00", "qty": 1});
    let tea = |n: i64| json!({"id": "tea", "category": "茶叶", "price": "88.00", "qty": n});
    // 2 × 88 + 30: the cup (by its SKU) is free
    let v = tea_and_cup(json!([tea(2), cup.clone()]));
    assert_eq!((v["total"].as_str(), &v["lines"][1]["discount"]), (Some("176.00"), &json!("30.00")));
    // four teas earn two cups, the cart has one: one is free
    assert_eq!(tea_and_cup(json!([tea(4), cup.clone()]))["discount"], "30.00");
    // one tea is not enough; without the cup there is nothing to give
    let v = tea_and_cup(json!([tea(1), cup]));
    assert_eq!(v["rejected"][0]["reason"], json!({"code": "min_items_not_met", "required": 2, "actual": 1}));
    assert_eq!(tea_and_cup(json!([tea(2)]))["rejected"][0]["reason"]["code"], "no_matching_lines");
}

#[test]
fn a_threshold_no_combination_can_move_is_settled_before_the_search() {
    // 满100减10 on a 1,000.00 cart: the three line discounts before it take at most 30.00,
    // so it is reached whatever they do, and none of them is a choice
    let specs = json!([
        {"id": "a", "name": "茶叶立减10", "target": {"products": ["tea"]}, "reward": {"type": "amount_off", "amount": "10"}},
        {"id": "b", "name": "茶具立减10", "target": {"products": ["cup"]}, "reward": {"type": "amount_off", "amount": "10"}},
        {"id": "c", "name": "茶点立减10", "target": {"products": ["cake"]}, "reward": {"type": "amount_off", "amount": "10"}},
        {"id": "mj", "name": "满100减10", "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "10"}]}}
    ]);
    let c = cart(json!([["tea", "茶叶", "500.00", 1], ["cup", "茶具", "300.00", 1], ["cake", "茶点", "200.00", 1]]));
    let settled = price(&c, &promos(specs.clone()), now());
    let every = beacon_pricing::engine::price_unpruned(&c, &promos(specs), now());
    assert_eq!((settled.total, every.total), (96_000, 96_000));
    assert_eq!((settled.combinations, every.combinations), (1, 8));
    // a cart of 105.00 can fall below 100: then each one is a choice
    let specs = json!([
        {"id": "a", "name": "茶叶立减10", "target": {"products": ["tea"]}, "reward": {"type": "amount_off", "amount": "10"}},
        {"id": "mj", "name": "满100减20", "reward": {"type": "tiers", "tiers": [{"min": "100", "amount_off": "20"}]}}
    ]);
    let v = price(&cart(json!([["tea", "茶叶", "105.00", 1]])), &promos(specs), now());
    // 105 − 20 = 85 beats 105 − 10 = 95 (under 100, no 满减)
    assert_eq!((v.total, v.combinations), (8_500, 2));
}

#[test]
fn an_exclusive_promotion_that_can_never_apply_is_no_option_and_says_why() {
    // one coupon per order: 满300减50 cannot be reached by a 200.00 cart, 9折 can
    let specs = json!([
        {"id": "big", "name": "满300减50", "reward": {"type": "tiers", "tiers": [{"min": "300", "amount_off": "50"}]},
         "stacking": {"group": "coupon", "exclusive": true}},
        {"id": "ten", "name": "9折", "reward": {"type": "percent_off", "percent": "10"},
         "stacking": {"group": "coupon", "exclusive": true}}
    ]);
    let c = cart(json!([["tea", "茶叶", "200.00", 1]]));
    let p = price(&c, &promos(specs.clone()), now());
    assert_eq!((p.total, p.combinations), (18_000, 2), "none or 9折; 满300 is no option");
    assert_eq!(p.to_json()["rejected"], json!([{"id": "big", "reason": {"code": "not_stackable_with", "id": "ten"}}]));
    assert_eq!(beacon_pricing::engine::price_unpruned(&c, &promos(specs.clone()), now()).combinations, 3);
    // alone in its group, it is left out and the answer says why
    let only_big = json!([specs[0].clone()]);
    let v = price(&c, &promos(only_big), now()).to_json();
    assert_eq!(
        v["rejected"],
        json!([{"id": "big", "reason": {"code": "min_spend_not_met", "required": "300.00", "actual": "200.00"}}])
    );
}

/// A member price that always applies is a price: the search may not drop
/// it for a 满减 that only the full price reaches.
#[test]
fn a_member_price_that_always_applies_is_not_dropped_for_a_bigger_discount() {
    let mut c = cart(json!([["tea", "茶叶/绿茶", "88.00", 2]]));
    c.customer.tier = Some(s("gold"));
    let specs = |always: bool| {
        json!([
            {"id": "member", "name": "会员价 80", "target": {"products": ["tea"]}, "eligibility": {"tiers": ["gold"]},
             "reward": {"type": "special_price", "price": "80.00"}, "stacking": {"always": always}},
            {"id": "mj", "name": "满170减30", "reward": {"type": "tiers", "tiers": [{"min": "170", "amount_off": "30"}]}}
        ])
    };
    // 176.00: member price alone 160.00; 满减 alone 146.00; both: 160.00 is below 170
    let v = price(&c, &promos(specs(false)), now()).to_json();
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("146.00"), vec![(s("mj"), s("30.00"))]), "{v}");
    assert_eq!(rejected(&v), [(s("member"), s("not_best_for_shopper"))]);
    let v = price(&c, &promos(specs(true)), now()).to_json();
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("160.00"), vec![(s("member"), s("16.00"))]), "{v}");
    assert_eq!(rejected(&v), [(s("mj"), s("min_spend_not_met"))]);
    // not eligible (no tier): it does not apply, always or not
    c.customer.tier = None;
    let v = price(&c, &promos(specs(true)), now()).to_json();
    assert_eq!(v["total"].as_str(), Some("146.00"), "{v}");
}

/// Against a `not_with` rule, the one that always applies wins; two that
/// always apply and never combine are options again (the better one wins).
#[test]
fn what_always_applies_wins_its_stacking_rules() {
    let c = cart(json!([["tea", "茶叶/绿茶", "100.00", 1]]));
    let specs = json!([
        {"id": "flash", "name": "秒杀 70", "target": {"products": ["tea"]}, "reward": {"type": "special_price", "price": "70.00"},
         "stacking": {"group": "flash", "always": true}},
        {"id": "cp", "name": "立减40", "reward": {"type": "amount_off", "amount": "40"},
         "stacking": {"group": "coupons", "not_with": ["flash"]}}
    ]);
    let v = price(&c, &promos(specs), now()).to_json();
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("70.00"), vec![(s("flash"), s("30.00"))]), "{v}");
    let both = json!([
        {"id": "a", "name": "价A 70", "reward": {"type": "special_price", "price": "70.00"}, "target": {"products": ["tea"]},
         "stacking": {"group": "a", "not_with": ["b"], "always": true}},
        {"id": "b", "name": "价B 60", "reward": {"type": "special_price", "price": "60.00"}, "target": {"products": ["tea"]},
         "stacking": {"group": "b", "always": true}}
    ]);
    let v = price(&c, &promos(both), now()).to_json();
    assert_eq!((v["total"].as_str(), applied(&v)), (Some("60.00"), vec![(s("b"), s("40.00"))]), "{v}");
}
