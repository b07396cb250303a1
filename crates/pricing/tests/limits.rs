//! Budgets and limits: what is left decides, and the engine says what an
//! applied promotion takes.

mod common;

use beacon_core::Currency;
use beacon_pricing::limits::{Counter, Subject, counter_keys};
use beacon_pricing::{Cart, Take, price};
use common::{applied, cart, now, promos, rejected};
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

fn with_usage(mut c: Cart, used: &[(&str, usize, i64)]) -> Cart {
    for (id, i, n) in used {
        c.usage.0.insert((id.to_string(), *i), *n);
    }
    c
}

fn priced(c: &Cart, specs: Value) -> beacon_pricing::Priced {
    price(c, &promos(specs), now())
}

#[test]
fn a_redemption_limit_applies_until_reached_and_takes_one() {
    let specs = json!([{"id": "r", "name": "前100单立减10", "reward": {"type": "amount_off", "amount": "10"},
        "limits": [{"counter": "redemptions", "limit": 100}]}]);
    let c = cart(json!([["a", "", "50.00", 1]]));
    let p = priced(&with_usage(c.clone(), &[("r", 0, 99)]), specs.clone());
    assert_eq!(applied(&p.to_json()), [(s("r"), s("10.00"))]);
    assert_eq!(p.takes, [Take { promotion: s("r"), limit: 0, counter: Counter::Redemptions, amount: 1, max: 100 }]);
    let p = priced(&with_usage(c, &[("r", 0, 100)]), specs);
    assert_eq!(p.total, 5000);
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "usage_limit_reached", "counter": "redemptions", "limit": 100, "used": 100, "needed": 1,
               "period": "total", "scope": "promotion"})
    );
    assert!(p.takes.is_empty());
}

#[test]
fn a_budget_too_small_for_this_cart_leaves_the_promotion_out_and_prices_the_rest() {
    let specs = json!([
        {"id": "big", "name": "9折 预算1000元", "reward": {"type": "percent_off", "percent": "10"},
         "limits": [{"counter": "discount", "limit": "1000"}]},
        {"id": "small", "name": "立减5元", "reward": {"type": "amount_off", "amount": "5"}}
    ]);
    // 10 % of 300 is 30, with 980 of 1000 used only 20 is left
    let c = with_usage(cart(json!([["a", "", "300.00", 1]])), &[("big", 0, 98_000)]);
    let p = priced(&c, specs.clone());
    assert_eq!(applied(&p.to_json()), [(s("small"), s("5.00"))]);
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "budget_exhausted", "limit": "1000.00", "used": "980.00", "needed": "30.00"})
    );
    // spent to the last fen: the reason says the 30.00 this cart needed
    let p = priced(&with_usage(c.clone(), &[("big", 0, 100_000)]), specs.clone());
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "budget_exhausted", "limit": "1000.00", "used": "1000.00", "needed": "30.00"})
    );
    // 10 % of 200 is 20: it fits exactly
    let c = with_usage(cart(json!([["a", "", "200.00", 1]])), &[("big", 0, 98_000)]);
    let p = priced(&c, specs);
    assert_eq!(applied(&p.to_json()), [(s("big"), s("20.00")), (s("small"), s("5.00"))]);
    assert!(p.takes.contains(&Take {
        promotion: s("big"),
        limit: 0,
        counter: Counter::Discount,
        amount: 2000,
        max: 100_000
    }));
}

#[test]
fn a_flash_sale_stock_counts_units_and_a_per_profile_limit_needs_a_profile() {
    let specs = json!([{"id": "fs", "name": "秒杀 9.90", "target": {"products": ["tea"]},
        "reward": {"type": "special_price", "price": "9.90"},
        "limits": [{"counter": "units", "limit": 50}, {"counter": "units", "limit": 1, "scope": "profile"}]}]);
    let mut c = cart(json!([["tea", "", "59.00", 1], ["cup", "", "20.00", 1]]));
    let p = priced(&c, specs.clone());
    assert_eq!(rejected(&p.to_json()), [(s("fs"), s("customer_required"))], "anonymous carts cannot be counted");
    c.who = Subject { profile: Some(s("p1")), ..Default::default() };
    let p = priced(&c, specs.clone());
    assert_eq!(applied(&p.to_json()), [(s("fs"), s("49.10"))]);
    assert_eq!(p.takes.iter().map(|t| t.amount).collect::<Vec<_>>(), [1, 1], "one unit of stock, one of the buyer's");
    let sold_out = priced(&with_usage(c.clone(), &[("fs", 0, 50)]), specs.clone());
    assert_eq!(
        sold_out.to_json()["rejected"][0]["reason"],
        json!({"code": "out_of_stock", "stock": 50, "sold": 50, "wanted": 1})
    );
    // two units with one left in stock: refused as a whole, not half at the flash price
    c.lines[0].quantity = 2;
    let p = priced(&with_usage(c.clone(), &[("fs", 0, 49)]), specs.clone());
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "out_of_stock", "stock": 50, "sold": 49, "wanted": 2})
    );
    // sold out, the reason still says what this cart wanted
    let p = priced(&with_usage(c, &[("fs", 0, 50)]), specs);
    assert_eq!(
        p.to_json()["rejected"][0]["reason"],
        json!({"code": "out_of_stock", "stock": 50, "sold": 50, "wanted": 2})
    );
    assert_eq!(p.total, 2 * 5900 + 2000);
}

#[test]
fn counters_are_kept_per_period_in_the_shop_time_zone_and_per_identity() {
    let specs = json!([{"id": "d", "name": "每人每天一次", "reward": {"type": "amount_off", "amount": "1"},
        "limits": [{"counter": "redemptions", "limit": 1, "period": "day", "scope": "identity"},
                   {"counter": "redemptions", "limit": 5, "period": "week"},
                   {"counter": "redemptions", "limit": 9, "period": "month", "scope": "store"}]}]);
    let p = &promos(specs)[0];
    let who = Subject {
        profile: Some(s("p1")),
        identities: vec![s("phone:+8613800138000"), s("device:abc")],
        store: Some(s("sh-1")),
    };
    // 2026-11-11 12:00 UTC is 20:00 in Shanghai; 2026-11-11 20:00 UTC is the 12th there
    assert_eq!(
        counter_keys(p, 0, &who, None, now(), 8 * 3600),
        [s("d|0|2026-11-11|phone:+8613800138000"), s("d|0|2026-11-11|device:abc")]
    );
    let late = now() + chrono::Duration::hours(8);
    assert_eq!(counter_keys(p, 0, &who, None, late, 8 * 3600)[0], "d|0|2026-11-12|phone:+8613800138000");
    assert_eq!(counter_keys(p, 0, &who, None, late, 0)[0], "d|0|2026-11-11|phone:+8613800138000");
    assert_eq!(counter_keys(p, 1, &who, None, now(), 0), [s("d|1|2026-W46|*")]);
    assert_eq!(counter_keys(p, 2, &who, None, now(), 0), [s("d|2|2026-11|store:sh-1")]);
    assert!(counter_keys(p, 3, &who, None, now(), 0).is_empty(), "no such limit");
}

#[test]
fn limits_are_validated() {
    for (limits, why) in [
        (json!([{"counter": "redemptions", "limit": -1}]), "negative"),
        (json!([{"counter": "redemptions", "limit": "1.5"}]), "a count is whole"),
        (json!([{"counter": "visits", "limit": 1}]), "unknown counter"),
        (json!([{"counter": "units", "limit": 1, "scope": "planet"}]), "unknown scope"),
        (json!([{"counter": "units", "limit": 1, "every": "day"}]), "unknown field"),
    ] {
        let spec = json!({"id": "x", "name": "x", "reward": {"type": "amount_off", "amount": "1"}, "limits": limits});
        let r = beacon_pricing::Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY));
        assert!(r.is_err(), "{why}");
    }
    let spec = json!({"id": "x", "name": "x", "reward": {"type": "amount_off", "amount": "1"},
        "limits": [{"counter": "discount", "limit": "1000.50", "period": "month", "scope": "identity"}]});
    let p = beacon_pricing::Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY));
    assert_eq!(p.map(|p| p.limits[0].limit).ok(), Some(100_050));
}

#[test]
fn refunds_give_back_what_their_lines_took_and_never_more() {
    use beacon_pricing::limits::{Taken, TakenLine, give_back};
    use std::collections::HashMap;
    let taken = vec![
        Taken { key: s("fs|0|total|*"), promotion: s("fs"), counter: Counter::Units, amount: 3 },
        Taken { key: s("fs|1|total|budget"), promotion: s("fs"), counter: Counter::Discount, amount: 1000 },
        Taken { key: s("cp|0|total|*"), promotion: s("cp"), counter: Counter::Redemptions, amount: 1 },
    ];
    // line 0: 3 units at the flash price (10.00 off in all); line 1: the coupon's line
    let lines = vec![
        TakenLine { quantity: 3, allocations: vec![(s("fs"), 1000)] },
        TakenLine { quantity: 1, allocations: vec![(s("cp"), 500)] },
    ];
    let none = HashMap::new();
    // one of three flash units back: one unit of stock, a third of the budget (3.33), no redemption
    let first = give_back(&taken, &lines, &[1, 0], false, &none);
    assert_eq!(first, [(s("fs|0|total|*"), 1), (s("fs|1|total|budget"), 333)]);
    // then the whole order: the rest, and the coupon's redemption
    let returned: HashMap<String, i64> = first.into_iter().collect();
    let rest = give_back(&taken, &lines, &[0, 0], true, &returned);
    assert_eq!(rest, [(s("fs|0|total|*"), 2), (s("fs|1|total|budget"), 667), (s("cp|0|total|*"), 1)]);
    // nothing is left to give back after that, whatever is refunded again
    let all: HashMap<String, i64> = taken.iter().map(|t| (t.key.clone(), t.amount)).collect();
    assert!(give_back(&taken, &lines, &[3, 1], true, &all).is_empty());
    // refunding more units than the line had gives back only the line's
    assert_eq!(give_back(&taken, &lines, &[9, 0], false, &none)[0], (s("fs|0|total|*"), 3));
}
