//! More named scenarios: what selects lines, currencies, priorities, groups.

mod common;

use common::{applied, cart, now, price, promos, rejected};
use serde_json::json;

fn s(x: &str) -> String {
    x.to_string()
}

#[test]
fn a_category_includes_its_sub_categories_but_not_a_namesake_prefix() {
    let v = price(
        json!([["a", "茶叶/绿茶/龙井", "10.00", 1], ["b", "茶叶蛋", "10.00", 1], ["c", "茶叶", "10.00", 1]]),
        json!([
            {"id": "tea", "name": "茶叶减1", "target": {"categories": ["茶叶"]}, "reward": {"type": "percent_off", "percent": "10"}}
        ]),
    );
    let per_line: Vec<&str> =
        v["lines"].as_array().into_iter().flatten().filter_map(|l| l["discount"].as_str()).collect();
    assert_eq!(per_line, ["1.00", "0.00", "1.00"], "茶叶蛋 is not in 茶叶");
}

#[test]
fn products_are_matched_by_id_or_sku_brands_and_tags_by_name() {
    let lines = json!([
        {"id": "p1", "sku": "SKU-1", "price": "10.00"},
        {"id": "p2", "brand": "狮峰", "price": "10.00"},
        {"id": "p3", "tags": ["新品"], "price": "10.00"},
        {"id": "p4", "price": "10.00"}
    ]);
    let v = price(
        lines,
        json!([
            {"id": "by-sku", "name": "x", "target": {"products": ["SKU-1"]}, "reward": {"type": "amount_off", "amount": "1"}},
            {"id": "by-brand", "name": "x", "target": {"brands": ["狮峰"]}, "reward": {"type": "amount_off", "amount": "2"}},
            {"id": "by-tag", "name": "x", "target": {"tags": ["新品"]}, "reward": {"type": "amount_off", "amount": "3"}}
        ]),
    );
    let per_line: Vec<&str> =
        v["lines"].as_array().into_iter().flatten().filter_map(|l| l["discount"].as_str()).collect();
    assert_eq!(per_line, ["1.00", "2.00", "3.00", "0.00"]);
}

#[test]
fn a_cart_in_another_currency_is_not_discounted() {
    let mut usd = cart(json!([["a", "", "10.00", 1]]));
    usd.currency = beacon_core::Currency::USD;
    let p = promos(json!([{"id": "cny", "name": "x", "reward": {"type": "amount_off", "amount": "1"}}]));
    let v = beacon_pricing::price(&usd, &p, now()).to_json();
    assert_eq!(v["total"], "10.00");
    assert_eq!(
        v["rejected"][0]["reason"],
        json!({"code": "currency_mismatch", "promotion_currency": "CNY", "cart_currency": "USD"})
    );
}

#[test]
fn priority_decides_the_order_within_a_stage() {
    let lines = json!([["a", "", "100.00", 1]]);
    let specs = |amount_first: i32| {
        json!([
            {"id": "pct", "name": "9折", "reward": {"type": "percent_off", "percent": "10"}},
            {"id": "amt", "name": "减10", "priority": amount_first, "reward": {"type": "amount_off", "amount": "10"}}
        ])
    };
    // amount first: 100 − 10 = 90, then 10 % → 81.00; percent first: 90 − 10 → 80.00
    assert_eq!(price(lines.clone(), specs(1))["total"], "81.00");
    assert_eq!(price(lines, specs(-1))["total"], "80.00");
}

#[test]
fn exclusive_promotions_in_different_groups_combine() {
    let v = price(
        json!([["a", "", "100.00", 1]]),
        json!([
            {"id": "c1", "name": "券1", "stacking": {"group": "coupons", "exclusive": true}, "reward": {"type": "amount_off", "amount": "10"}},
            {"id": "c2", "name": "券2", "stacking": {"group": "coupons", "exclusive": true}, "reward": {"type": "amount_off", "amount": "12"}},
            {"id": "f1", "name": "秒杀价", "stacking": {"group": "flash", "exclusive": true}, "reward": {"type": "amount_off", "amount": "5"}}
        ]),
    );
    assert_eq!(applied(&v), [(s("c2"), s("12.00")), (s("f1"), s("5.00"))]);
    assert_eq!(rejected(&v), [(s("c1"), s("not_stackable_with"))]);
}

#[test]
fn an_exclusive_promotion_turns_off_the_rest_of_its_group_when_that_is_better() {
    let v = price(
        json!([["a", "", "100.00", 1]]),
        json!([
            {"id": "x", "name": "专享6折", "stacking": {"group": "vip", "exclusive": true}, "reward": {"type": "percent_off", "percent": "40"}},
            {"id": "y", "name": "减5", "stacking": {"group": "vip"}, "reward": {"type": "amount_off", "amount": "5"}},
            {"id": "z", "name": "减6", "stacking": {"group": "vip"}, "reward": {"type": "amount_off", "amount": "6"}}
        ]),
    );
    assert_eq!(v["total"], "60.00", "40 off beats 5 + 6");
    assert_eq!(rejected(&v), [(s("y"), s("not_stackable_with")), (s("z"), s("not_stackable_with"))]);
    let v = price(
        json!([["a", "", "10.00", 1]]),
        json!([
            {"id": "x", "name": "专享6折", "stacking": {"group": "vip", "exclusive": true}, "reward": {"type": "percent_off", "percent": "40"}},
            {"id": "y", "name": "减5", "stacking": {"group": "vip"}, "reward": {"type": "amount_off", "amount": "5"}}
        ]),
    );
    assert_eq!(applied(&v), [(s("y"), s("5.00"))], "on 10.00, 5 off beats 40 %");
}

#[test]
fn a_quantity_of_zero_matches_nothing_and_a_min_spend_counts_only_the_target() {
    let v = price(
        json!([["a", "茶叶", "150.00", 0], ["b", "茶叶", "60.00", 1], ["c", "茶具", "500.00", 1]]),
        json!([
            {"id": "m", "name": "茶叶满100减20", "target": {"categories": ["茶叶"]}, "min_spend": "100", "reward": {"type": "amount_off", "amount": "20"}}
        ]),
    );
    assert_eq!(
        v["rejected"][0]["reason"],
        json!({"code": "min_spend_not_met", "required": "100.00", "actual": "60.00"})
    );
    assert_eq!(v["hints"][0], json!({"id": "m", "spend_more": "40.00", "discount": "20.00"}));
}

#[test]
fn the_every_hint_names_the_next_step_until_the_cap() {
    let promo = json!([{"id": "e", "name": "每满100减10 最多减20", "reward": {"type": "every", "every": "100", "amount_off": "10", "max_discount": "20"}}]);
    assert_eq!(
        price(json!([["a", "", "150.00", 1]]), promo.clone())["hints"][0],
        json!({"id": "e", "spend_more": "50.00", "discount": "20.00"})
    );
    assert_eq!(
        price(json!([["a", "", "250.00", 1]]), promo)["hints"],
        json!([]),
        "at the cap there is nothing more to win"
    );
}

#[test]
fn an_order_discount_is_allocated_to_lines_in_proportion() {
    let v = price(
        json!([["a", "", "33.33", 1], ["b", "", "33.33", 1], ["c", "", "33.34", 1]]),
        json!([
            {"id": "o", "name": "减10", "reward": {"type": "amount_off", "amount": "10"}}
        ]),
    );
    let per_line: Vec<&str> =
        v["lines"].as_array().into_iter().flatten().filter_map(|l| l["discount"].as_str()).collect();
    assert_eq!(per_line, ["3.33", "3.33", "3.34"]);
}

#[test]
fn a_special_price_brings_each_targeted_line_down_to_it_never_up() {
    let v = price(
        json!([["tea", "茶叶", "88.00", 2], ["cheap", "茶叶", "50.00", 1], ["cup", "茶具", "59.90", 1]]),
        json!([
            {"id": "sp", "name": "茶叶特价59", "target": {"categories": ["茶叶"]}, "reward": {"type": "special_price", "price": "59.00"}}
        ]),
    );
    let per_line: Vec<&str> =
        v["lines"].as_array().into_iter().flatten().filter_map(|l| l["discount"].as_str()).collect();
    assert_eq!(per_line, ["58.00", "0.00", "0.00"], "2 × (88 − 59); the 50.00 tea stays 50.00");
    assert_eq!(applied(&v), [(s("sp"), s("58.00"))]);
}

#[test]
fn a_limited_time_discount_applies_only_in_its_windows_in_shop_time() {
    // 2026-11-11T12:00Z is a Wednesday, 20:00 in Beijing
    let promo = |from: &str, to: &str, days: serde_json::Value| {
        json!([{"id": "w", "name": "晚间限时9折",
        "schedule": {"utc_offset": "+08:00", "windows": [{"days": days, "from": from, "to": to}]},
        "reward": {"type": "percent_off", "percent": "10"}}])
    };
    let lines = json!([["a", "", "100.00", 1]]);
    assert_eq!(price(lines.clone(), promo("19:00", "22:00", json!(["wed"])))["total"], "90.00");
    assert_eq!(price(lines.clone(), promo("19:00", "22:00", json!(["sat", "sun"])))["total"], "100.00");
    assert_eq!(rejected(&price(lines.clone(), promo("08:00", "12:00", json!([])))), [(s("w"), s("outside_window"))]);
    assert_eq!(price(lines, promo("20:00", "24:00", json!([])))["total"], "90.00", "from is included");
}

#[test]
fn bad_schedules_and_special_prices_are_refused() {
    use beacon_core::Currency;
    use beacon_pricing::Spec;
    let cases = [
        (json!({"id": "x", "name": "n", "reward": {"type": "special_price", "price": "1"}}), "needs a target"),
        (
            json!({"id": "x", "name": "n", "schedule": {"utc_offset": "CST", "windows": [{"from": "10:00", "to": "11:00"}]}, "reward": {"type": "amount_off", "amount": "1"}}),
            "utc_offset",
        ),
        (
            json!({"id": "x", "name": "n", "schedule": {"utc_offset": "+08:00", "windows": [{"from": "12:00", "to": "11:00"}]}, "reward": {"type": "amount_off", "amount": "1"}}),
            "from before to",
        ),
        (
            json!({"id": "x", "name": "n", "schedule": {"utc_offset": "+08:00", "windows": [{"days": ["周一"], "from": "10:00", "to": "11:00"}]}, "reward": {"type": "amount_off", "amount": "1"}}),
            "mon … sun",
        ),
        (
            json!({"id": "x", "name": "n", "schedule": {"utc_offset": "+08:00", "windows": []}, "reward": {"type": "amount_off", "amount": "1"}}),
            "at least one window",
        ),
    ];
    for (spec, expect) in cases {
        let e = Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).expect_err(&spec.to_string());
        assert!(e.message.contains(expect), "{spec}: {}", e.message);
    }
}

#[test]
fn buy_two_get_one_free_takes_the_cheapest_units() {
    let promo = json!([{"id": "b2g1", "name": "茶叶买二送一", "target": {"categories": ["茶叶"]},
        "reward": {"type": "buy_x_get_y", "buy": 2, "get": 1}}]);
    // five teas: 2 × 30, 1 × 20, 2 × 10 → one free (5 units / 3): the cheapest, 10.00
    let v =
        price(json!([["a", "茶叶", "30.00", 2], ["b", "茶叶", "20.00", 1], ["c", "茶叶", "10.00", 2]]), promo.clone());
    assert_eq!(applied(&v), [(s("b2g1"), s("10.00"))]);
    assert_eq!(v["lines"][2]["discount"], "10.00");
    // six → two free: both 10.00 units
    let v = price(json!([["a", "茶叶", "30.00", 3], ["c", "茶叶", "10.00", 3]]), promo.clone());
    assert_eq!(applied(&v), [(s("b2g1"), s("20.00"))]);
    // two → not yet: one more unit unlocks it
    let v = price(json!([["a", "茶叶", "30.00", 2]]), promo);
    assert_eq!(v["rejected"][0]["reason"], json!({"code": "min_items_not_met", "required": 3, "actual": 2}));
    assert_eq!(v["hints"][0], json!({"id": "b2g1", "items_more": 1, "discount": "30.00"}));
}

#[test]
fn buy_x_get_y_can_be_half_price_and_limited() {
    let v = price(
        json!([["a", "", "10.00", 9]]),
        json!([{"id": "h", "name": "第二件半价", "target": {"products": ["a"]},
        "reward": {"type": "buy_x_get_y", "buy": 1, "get": 1, "percent_off": "50", "max_times": 3}}]),
    );
    // 9 units → 4 pairs, at most 3: three units at half price = 15.00
    assert_eq!(applied(&v), [(s("h"), s("15.00"))]);
}

#[test]
fn member_prices_and_new_customer_offers_go_to_those_they_are_for() {
    use beacon_pricing::cart::Customer;
    let specs = promos(json!([
        {"id": "vip", "name": "金卡会员价 79", "target": {"products": ["a"]}, "eligibility": {"tiers": ["gold", "platinum"]},
         "reward": {"type": "special_price", "price": "79.00"}},
        {"id": "new", "name": "新人立减10", "eligibility": {"new_customers_only": true}, "reward": {"type": "amount_off", "amount": "10"}}
    ]));
    let priced = |customer: Customer| {
        let mut c = cart(json!([["a", "", "99.00", 1]]));
        c.customer = customer;
        beacon_pricing::price(&c, &specs, now()).to_json()
    };
    let gold_new = priced(Customer { tier: Some("gold".into()), tags: vec![], orders: 0 });
    assert_eq!(gold_new["total"], "69.00", "99 → 79 member price, then 10 off for a first order");
    let silver_returning = priced(Customer { tier: Some("silver".into()), tags: vec![], orders: 3 });
    assert_eq!(silver_returning["total"], "99.00");
    assert_eq!(
        rejected(&silver_returning),
        [(s("vip"), s("customer_not_eligible")), (s("new"), s("customer_not_eligible"))]
    );
    assert_eq!(priced(Customer::default())["total"], "89.00", "an anonymous first order is a new customer");
}

#[test]
fn a_coupon_applies_only_to_carts_that_present_its_code() {
    let specs = promos(json!([
        {"id": "c", "name": "满100减15券", "coupon": "spring-15", "min_spend": "100", "reward": {"type": "amount_off", "amount": "15"}},
        {"id": "cup", "name": "茶具券", "coupon": "CUP5", "target": {"categories": ["茶具"]}, "reward": {"type": "amount_off", "amount": "5"}}
    ]));
    let priced = |codes: &[&str], lines: serde_json::Value| {
        let mut c = cart(lines);
        c.coupons = codes.iter().map(|s| s.to_uppercase()).collect();
        beacon_pricing::price_with(&c, &beacon_pricing::Snapshot::new(specs.clone()), now()).to_json()
    };
    let lines = json!([["tea", "茶叶", "120.00", 1]]);
    let none = priced(&[], lines.clone());
    assert_eq!(
        (none["total"].as_str(), none["rejected"].as_array().map(Vec::len)),
        (Some("120.00"), Some(0)),
        "automatic only: {none}"
    );
    let with = priced(&["Spring-15", "CUP5", "NOPE"], lines);
    assert_eq!(applied(&with), [(s("c"), s("15.00"))]);
    assert_eq!(rejected(&with), [(s("NOPE"), s("unknown_coupon")), (s("cup"), s("no_matching_lines"))]);
    let small = priced(&["SPRING-15"], json!([["tea", "茶叶", "80.00", 1]]));
    assert_eq!(
        small["rejected"][0]["reason"],
        json!({"code": "min_spend_not_met", "required": "100.00", "actual": "80.00"})
    );
    assert_eq!(small["hints"][0]["spend_more"], "20.00");
}
