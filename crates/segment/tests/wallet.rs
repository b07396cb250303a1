//! Coupons in the wallet and points, decided by hand: what is usable at a
//! time (a coupon up to its end, points once vested and until they
//! expire, less a debt), the moments the clock alone changes the answer,
//! and the points balance as the points program counts it.

use beacon_segment::depends::next_change;
use beacon_segment::*;
use chrono::{DateTime, Duration, Utc};
use proptest::prelude::*;
use serde_json::Map;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("time").with_timezone(&Utc)
}

fn coupon(promotion: &str, spent: bool, until: Option<DateTime<Utc>>) -> CouponFact {
    CouponFact { promotion: promotion.into(), spent, until }
}

#[test]
fn coupons_usable_now_are_counted_by_template() {
    let now = at("2026-12-06T12:00:00Z");
    let wallet = vec![
        coupon("spring", false, Some(now + Duration::days(3))),
        coupon("spring", true, None),
        coupon("spring", false, Some(now)),
        coupon("vip", false, None),
    ];
    let traits = Map::new();
    let facts = Facts { coupons: &wallet, ..Facts::new(&traits, &[], now) };
    let is = |text: &str| matches(&parse(text).unwrap_or_else(|e| panic!("{text}: {e}")), &facts);
    // one spring coupon usable (one used, one ended at this very moment), one vip
    assert!(is(r#"coupons "spring" = 1"#));
    assert!(is("coupons = 2"));
    assert!(is(r#"coupons "vip" >= 1 and not coupons "autumn" >= 1"#));
    assert!(is(r#"coupons "autumn" = 0"#));
    // the spring coupon ends in 3 days: the answer changes then, and after it none is left
    let c = parse(r#"coupons "spring" >= 1"#).expect("parse");
    assert_eq!(next_change(&c, &facts), Some(now + Duration::days(3)));
    let later = Facts { now: now + Duration::days(3), ..facts };
    assert!(!matches(&c, &later));
}

#[test]
fn points_count_once_vested_until_they_expire_less_debt() {
    let now = at("2026-12-06T12:00:00Z");
    let lots = vec![
        PointsLot { left: 300, vests_at: now - Duration::days(10), expires_at: Some(now + Duration::days(30)) },
        PointsLot { left: 200, vests_at: now + Duration::days(7), expires_at: None },
        PointsLot { left: 500, vests_at: now - Duration::days(400), expires_at: Some(now - Duration::days(1)) },
        PointsLot { left: -50, vests_at: now - Duration::days(2), expires_at: None },
    ];
    let traits = Map::new();
    let facts = Facts { points: &lots, ..Facts::new(&traits, &[], now) };
    assert_eq!(points_available(&lots, now), 250, "300 usable less a debt of 50");
    let c = parse("points >= 400").expect("parse");
    assert!(!matches(&c, &facts));
    assert_eq!(next_change(&c, &facts), Some(now + Duration::days(7)), "the second lot vests");
    assert!(matches(&c, &Facts { now: now + Duration::days(7), ..facts }), "450 once it does");
    assert!(!matches(&c, &Facts { now: now + Duration::days(30), ..facts }), "150 once the first expires");
    assert!(matches(&parse("points < 1").expect("parse"), &Facts { points: &lots[3..], ..facts }), "a debt");
}

#[test]
fn wallet_conditions_read_and_write_back() {
    for text in [r#"coupons "spring" >= 1"#, "coupons = 0", "points >= 500", r#"trait "points" > 3"#] {
        let c = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(c.to_string(), text);
        let json = serde_json::to_value(&c).expect("json");
        assert_eq!(serde_json::from_value::<Condition>(json).expect("back"), c);
    }
    let e = parse("points 5").expect_err("no comparison");
    assert_eq!((e.position, e.expected.as_str()), (7, "a comparison (>=, <=, =, >, <)"));
    assert!(parse(r#"coupons "" >= 1"#).is_err());
}

proptest! {
    /// The segment's balance is the points program's `available`.
    #[test]
    fn the_balance_is_the_programs(lots in prop::collection::vec((-300i64..800, -40i64..40, prop::option::of(-40i64..40)), 0..8)) {
        let now = at("2026-12-06T12:00:00Z");
        let days = Duration::days;
        let ours: Vec<PointsLot> = lots
            .iter()
            .map(|&(left, v, e)| PointsLot { left, vests_at: now + days(v), expires_at: e.map(|e| now + days(e)) })
            .collect();
        let program: Vec<beacon_pricing::points::Lot> = lots
            .iter()
            .enumerate()
            .map(|(i, &(left, v, e))| beacon_pricing::points::Lot {
                id: i.to_string(),
                points: left.max(0),
                left,
                earned_at: now + days(v - 14),
                vests_at: now + days(v),
                expires_at: e.map(|e| now + days(e)),
            })
            .collect();
        prop_assert_eq!(points_available(&ours, now), beacon_pricing::points::balance(&program, now).available);
    }
}
