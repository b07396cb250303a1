//! Points (积分): the program's earn rules and tiers, lots spent
//! first-expiring-first, clawback as a debt, and redemption as money off an
//! order after every promotion — every number worked by hand.

mod common;

use beacon_core::Currency;
use beacon_pricing::loyalty::{Program, ProgramSpec};
use beacon_pricing::points::{Lot, Redemption, balance, clawback, give_back, redeemed, spend};
use beacon_pricing::price;
use chrono::{DateTime, Duration, Utc};
use common::{cart, now, promos};
use serde_json::{Value, json};

fn program(spec: Value) -> Program {
    ProgramSpec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).expect("a valid program")
}

fn standard() -> Program {
    program(json!({
        "earn": [{"on": "order", "per": "1.00", "points": 1}, {"on": "event", "event": "Product Reviewed", "points": 20, "max_per_day": 3}],
        "redeem": {"points_per_unit": 100, "max_share": "50", "min_points": 100},
        "vesting_days": 7, "expiry_months": 12,
        "tiers": [{"name": "silver", "min": "1000"}, {"name": "gold", "min": "5000"}]
    }))
}

fn day(n: i64) -> DateTime<Utc> {
    now() + Duration::days(n)
}

fn lot(id: &str, left: i64, vests: i64, expires: Option<i64>) -> Lot {
    Lot {
        id: id.into(),
        points: left.max(0),
        left,
        earned_at: day(vests - 7),
        vests_at: day(vests),
        expires_at: expires.map(day),
    }
}

#[test]
fn orders_and_events_earn_and_tiers_follow_the_points() {
    let p = standard();
    // 199.99 is 199 whole yuan
    assert_eq!(p.points_for_order(19_999), 199);
    assert_eq!(p.points_for_event("Product Reviewed"), Some((20, Some(3))));
    assert_eq!(p.points_for_event("Product Viewed"), None);
    assert_eq!((p.tier_for(999), p.tier_for(1000), p.tier_for(7000)), (None, Some("silver"), Some("gold")));
    let paused = program(json!({"status": "paused", "earn": [{"on": "order", "per": "1", "points": 1}]}));
    assert_eq!(paused.points_for_order(10_000), 0, "a paused program earns nothing");
    for bad in [
        json!({"earn": [{"on": "order", "per": "0", "points": 1}]}),
        json!({"redeem": {"points_per_unit": 100, "max_share": "120"}}),
        json!({"tiers": [{"name": "gold", "min": "5000"}, {"name": "silver", "min": "1000"}]}),
        json!({"earn": [{"on": "event", "event": "Order Completed", "points": 5}]}),
        json!({"bonus": 1}),
    ] {
        assert!(ProgramSpec::parse(&bad.to_string()).and_then(|s| s.compile(Currency::CNY)).is_err(), "{bad}");
    }
}

#[test]
fn the_balance_counts_vested_unexpired_points_less_any_debt() {
    let lots = [
        lot("a", 100, -1, Some(30)),
        lot("pending", 40, 3, Some(60)),
        lot("old", 70, -40, Some(-1)),
        lot("debt", -25, -5, None),
    ];
    let b = balance(&lots, now());
    // 100 usable, 40 waiting, 70 expired yesterday, 25 owed
    assert_eq!((b.available, b.pending, b.debt), (75, 40, 25));
}

#[test]
fn spending_takes_the_soonest_to_expire_first_and_settles_a_debt() {
    let lots = [
        lot("march", 100, -10, Some(120)),
        lot("february", 100, -20, Some(90)),
        lot("forever", 100, -30, None),
        lot("pending", 500, 2, Some(200)),
    ];
    assert_eq!(spend(&lots, 150, now()), Ok(vec![("february".into(), 100), ("march".into(), 50)]));
    assert_eq!(spend(&lots, 301, now()), Err(300), "pending points cannot be spent");
    let owing = [lot("a", 100, -1, None), lot("debt", -30, -1, None)];
    // 70 available: spending 50 takes 80 from "a" and clears the debt
    assert_eq!(spend(&owing, 50, now()), Ok(vec![("a".into(), 80), ("debt".into(), -30)]));
}

#[test]
fn a_clawback_takes_what_is_left_and_owes_the_rest() {
    let mut l = lot("order:A", 100, -1, None);
    l.left = 30;
    assert_eq!(clawback(&l, 100), (30, 70));
    assert_eq!(clawback(&l, 20), (20, 0));
    assert_eq!(clawback(&l, 500), (30, 70), "never more than the lot earned");
}

fn redeem(requested: i64, available: i64, rule: Value, amount: &str) -> Value {
    redeem_within(requested, available, None, rule, amount)
}

fn redeem_within(requested: i64, available: i64, room: Option<i64>, rule: Value, amount: &str) -> Value {
    let p = program(json!({"redeem": rule}));
    let mut c = cart(json!([["tea", "茶叶", amount, 1]]));
    c.points = Some(Redemption { requested, available, room, rule: p.redeem.expect("a redeem rule") });
    let specs =
        json!([{"id": "m", "name": "满100减10", "min_spend": "100", "reward": {"type": "amount_off", "amount": "10"}}]);
    price(&c, &promos(specs), now()).to_json()
}

#[test]
fn points_pay_at_most_their_share_of_what_is_left_after_promotions() {
    let half = json!({"points_per_unit": 100, "max_share": "50", "min_points": 100});
    // 120.00 − 10.00 = 110.00; half of it is 55.00, so 8,000 points pay 55.00 with 5,500 of them
    let v = redeem(8_000, 10_000, half.clone(), "120.00");
    assert_eq!(v["points"], json!({"requested": 8000, "used": 5500, "discount": "55.00", "limited_by": "max_share"}));
    assert_eq!((v["discount"].as_str(), v["total"].as_str()), (Some("10.00"), Some("55.00")));
    // 3,333 points are 33.33
    assert_eq!(redeem(3_333, 10_000, half.clone(), "120.00")["points"]["discount"], "33.33");
    // asking for more than the balance uses the balance
    let v = redeem(500, 300, half.clone(), "120.00");
    assert_eq!(
        (v["points"]["used"].as_i64(), v["points"]["limited_by"].as_str()),
        (Some(300), Some("insufficient_points"))
    );
    assert_eq!(redeem(50, 300, half.clone(), "120.00")["points"]["limited_by"], "below_min_points");
    // 200 asked, 50 held: fewer than the 100 an order must redeem, so none
    assert_eq!(
        redeem(200, 50, half, "120.00")["points"],
        json!({"requested": 200, "used": 0, "discount": "0.00", "limited_by": "below_min_points"})
    );
    // 150 points a yuan: 1,000 points are worth 6.666… → 6.66, which takes 999 points (a whole point, rounded up)
    let odd = json!({"points_per_unit": 150});
    assert_eq!(
        redeem(1_000, 1_000, odd, "120.00")["points"],
        json!({"requested": 1000, "used": 999, "discount": "6.66", "limited_by": "none"})
    );
}

#[test]
fn refunded_points_go_back_to_the_lots_taken_last_first() {
    let took = [("feb".to_string(), 100), ("mar".to_string(), 50)];
    assert_eq!(give_back(&took, 0, 70), [("mar".into(), 50), ("feb".into(), 20)]);
    // 60 went back before: mar's 50 and 10 of feb's; 70 more come from feb
    assert_eq!(give_back(&took, 60, 70), [("feb".into(), 70)]);
    assert_eq!(give_back(&took, 140, 70), [("feb".into(), 10)], "never more than was taken");
    // 70 redeemed while settling a debt of 30: 100 taken, 70 redeemed, and only those come back
    assert_eq!(redeemed(&[("a".into(), 100), ("debt".into(), -30)]), 70);
}

#[test]
fn redemption_limits_cap_the_points_an_order_may_use() {
    let rule = json!({"points_per_unit": 100, "max_share": "100", "min_points": 100,
        "limits": [{"counter": "points", "limit": 5000, "period": "day", "scope": "profile"}]});
    // 2,000 points left today of the 5,000 a profile may redeem a day: 2,000 pay 20.00
    let v = redeem_within(3_000, 10_000, Some(2_000), rule.clone(), "120.00");
    assert_eq!(
        v["points"],
        json!({"requested": 3000, "used": 2000, "discount": "20.00", "limited_by": "points_limit_reached"})
    );
    // room for fewer than the least an order may redeem: none
    let v = redeem_within(3_000, 10_000, Some(50), rule.clone(), "120.00");
    assert_eq!((v["points"]["used"].as_i64(), v["points"]["limited_by"].as_str()), (Some(0), Some("below_min_points")));
    // room to spare changes nothing
    let v = redeem_within(3_000, 10_000, Some(9_000), rule.clone(), "120.00");
    assert_eq!((v["points"]["used"].as_i64(), v["points"]["limited_by"].as_str()), (Some(3000), Some("none")));
    let p = program(json!({"redeem": rule}));
    assert_eq!(p.redeem_limits.len(), 1);
    assert_eq!(p.redeem_limits[0].limit, 5000);
    // only points, and never per coupon
    for bad in [
        json!({"counter": "discount", "limit": "10"}),
        json!({"counter": "points", "limit": 10, "scope": "coupon"}),
        json!({"counter": "points", "limit": -1}),
    ] {
        let spec = json!({"redeem": {"points_per_unit": 100, "limits": [bad]}});
        let err = ProgramSpec::parse(&spec.to_string()).expect("parses").compile(Currency::CNY).expect_err("refused");
        assert!(err.message.contains("redeem.limits[0]"), "{}", err.message);
    }
}
