//! Coupon templates: codes made from a pattern, kept unguessable, and the
//! unique codes a cart presents — used once, by their owner, in their window.

mod common;

use beacon_core::Currency;
use beacon_pricing::codes::{GUESS_FACTOR, space};
use beacon_pricing::{Grant, Spec, price};
use chrono::{Duration, TimeZone, Utc};
use common::{applied, cart, now, promos};
use serde_json::{Value, json};

fn s(x: &str) -> String {
    x.to_string()
}

fn template(extra: Value) -> Value {
    let mut spec = json!({"id": "spring", "name": "春季券 满100减15", "min_spend": "100",
        "reward": {"type": "amount_off", "amount": "15"},
        "codes": {"pattern": "SPRING-####-????"}});
    if let (Value::Object(o), Value::Object(e)) = (&mut spec["codes"], extra) {
        o.extend(e);
    }
    spec
}

fn grant(code: &str, owner: Option<&str>) -> Grant {
    Grant {
        code: s(code),
        promotion: s("spring"),
        owner: owner.map(String::from),
        valid_from: None,
        valid_until: None,
        used: false,
    }
}

/// A 120.00 cart by profile `p1` presenting `grants`.
fn priced(grants: Vec<Grant>) -> beacon_pricing::Priced {
    let mut c = cart(json!([["tea", "茶叶", "120.00", 1]]));
    c.who.profile = Some(s("p1"));
    c.coupons = grants.iter().map(|g| g.code.clone()).collect();
    c.grants = grants;
    price(&c, &promos(json!([template(json!({}))])), now())
}

fn reason(p: &beacon_pricing::Priced) -> Value {
    p.to_json()["rejected"][0].clone()
}

#[test]
fn a_pattern_fills_digits_and_letters_from_the_random_numbers_given() {
    let p = &promos(json!([template(json!({}))]))[0];
    let codes = p.codes.as_ref().expect("a template");
    let mut n = 0u32;
    let code = codes.generate(|| {
        n += 1;
        n
    });
    // # takes digits 1..4, ? takes letters 5..8 of A-Z without I and O
    assert_eq!(code, "SPRING-1234-FGHJ");
    // 10^4 digits × 24^4 letters, and one code per 100,000 of them at most
    assert_eq!(space("SPRING-####-????"), 3_317_760_000);
    assert_eq!(codes.quantity, 3_317_760_000 / GUESS_FACTOR as u64);
    let mut x = 0x9e37_79b9u32;
    for _ in 0..200 {
        let c = codes.generate(|| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x
        });
        let b = c.as_bytes();
        assert!(c.starts_with("SPRING-") && b[11] == b'-' && c.len() == 16, "{c}");
        assert!(b[7..11].iter().all(u8::is_ascii_digit), "{c}");
        assert!(b[12..].iter().all(|x| x.is_ascii_uppercase() && *x != b'I' && *x != b'O'), "{c}");
    }
}

#[test]
fn a_pattern_too_small_to_be_unguessable_is_refused() {
    let compile = |codes: Value| {
        let mut spec = template(json!({}));
        spec["codes"] = codes;
        Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).map(|_| ()).map_err(|e| e.message)
    };
    let e = compile(json!({"pattern": "VIP-###"})).expect_err("1,000 codes");
    assert!(e.contains("too few to be unguessable"), "{e}");
    let e = compile(json!({"pattern": "SPRING-####-????", "quantity": 40_000})).expect_err("over 33,177");
    assert!(e.contains("1 to 33177"), "{e}");
    assert!(compile(json!({"pattern": "SPRING-####-????", "quantity": 33_177})).is_ok());
    assert!(compile(json!({"pattern": "spring-$$"})).is_err());
    let mut both = template(json!({}));
    both["coupon"] = json!("SPRING");
    let e = Spec::parse(&both.to_string()).and_then(|s| s.compile(Currency::CNY)).expect_err("both");
    assert!(e.message.contains("not both"), "{}", e.message);
}

#[test]
fn a_unique_code_applies_for_its_owner_and_is_redeemed() {
    let p = priced(vec![grant("SPRING-1234-ABCD", Some("p1"))]);
    assert_eq!(applied(&p.to_json()), [(s("spring"), s("15.00"))]);
    assert_eq!(p.redeemed, [(s("spring"), s("SPRING-1234-ABCD"))]);
    assert_eq!(p.to_json()["redeemed"], json!([{"promotion": "spring", "coupon": "SPRING-1234-ABCD"}]));
    // a bearer code (issued to nobody) is anyone's
    let p = priced(vec![grant("SPRING-1234-ABCD", None)]);
    assert_eq!(p.total, 10_500);
}

#[test]
fn a_code_of_another_profile_a_used_code_and_a_code_out_of_its_window_do_nothing() {
    let p = priced(vec![grant("SPRING-1234-ABCD", Some("p2"))]);
    assert_eq!(
        (p.total, reason(&p)),
        (12_000, json!({"id": "spring", "reason": {"code": "coupon_not_owned", "coupon": "SPRING-1234-ABCD"}}))
    );
    let mut used = grant("SPRING-1234-ABCD", Some("p1"));
    used.used = true;
    let p = priced(vec![used]);
    assert_eq!(reason(&p)["reason"], json!({"code": "coupon_used", "coupon": "SPRING-1234-ABCD"}));
    assert!(p.redeemed.is_empty() && p.takes.is_empty());
    let mut late = grant("SPRING-1234-ABCD", Some("p1"));
    late.valid_until = Some(now() - Duration::hours(1));
    let p = priced(vec![late]);
    assert_eq!(reason(&p)["reason"], json!({"code": "expired", "ended_at": now() - Duration::hours(1)}));
    let mut early = grant("SPRING-1234-ABCD", Some("p1"));
    early.valid_from = Some(now() + Duration::days(1));
    assert_eq!(reason(&priced(vec![early]))["reason"]["code"], "not_started");
}

#[test]
fn of_two_codes_of_one_template_the_usable_one_applies_and_the_other_is_a_duplicate() {
    let mut used = grant("SPRING-0000-AAAA", Some("p1"));
    used.used = true;
    let p = priced(vec![used, grant("SPRING-9999-ZZZZ", Some("p1"))]);
    assert_eq!(p.redeemed, [(s("spring"), s("SPRING-9999-ZZZZ"))]);
    assert_eq!(
        reason(&p),
        json!({"id": "SPRING-0000-AAAA", "reason": {"code": "duplicate_coupon", "promotion": "spring"}})
    );
}

#[test]
fn a_code_nobody_issued_is_unknown_and_a_template_without_its_code_is_not_considered() {
    let mut c = cart(json!([["tea", "茶叶", "120.00", 1]]));
    c.coupons = vec![s("SPRING-1111-BBBB")];
    let p = price(&c, &promos(json!([template(json!({}))])), now());
    assert_eq!(p.to_json()["rejected"], json!([{"id": "SPRING-1111-BBBB", "reason": {"code": "unknown_coupon"}}]));
}

#[test]
fn validity_n_days_after_issue_never_passes_the_promotions_end() {
    let p = &promos(json!([template(json!({"valid_days": 7}))]))[0];
    let codes = p.codes.as_ref().expect("a template");
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("a time");
    assert_eq!(codes.validity(at, None, None), (Some(at), Some(at + Duration::days(7))));
    let end = at + Duration::days(3);
    assert_eq!(codes.validity(at, None, Some(end)), (Some(at), Some(end)));
    // issued before the promotion starts: valid from its start
    let start = at + Duration::days(1);
    assert_eq!(codes.validity(at, Some(start), None), (Some(start), Some(at + Duration::days(7))));
    // without valid_days the promotion's own window holds
    let p = &promos(json!([template(json!({}))]))[0];
    assert_eq!(p.codes.as_ref().map(|c| c.validity(at, None, Some(end))), Some((None, Some(end))));
}
