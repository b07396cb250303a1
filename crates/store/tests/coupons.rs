//! Unique coupon codes: issued within a template's quantity and per-profile
//! limit, idempotent by issue key, used once through the checkout — on both
//! stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use fixtures::t;
use futures_util::future::join_all;

fn coupon(code: &str, profile: Option<&str>, key: &str) -> NewCoupon {
    NewCoupon {
        code: code.into(),
        profile_id: profile.map(String::from),
        issue_key: key.into(),
        valid_from: None,
        valid_until: Some(t(50)),
    }
}

const LIMITS: IssueLimits = IssueLimits { quantity: 3, per_profile: 2 };

async fn issue(store: &SqlStore, limits: IssueLimits, c: NewCoupon) -> Issued {
    let mut out = store.promotions().issue_coupons("spring", "operator", limits, &[c], t(1)).await.expect("issue");
    out.pop().expect("one outcome")
}

fn kind(i: &Issued) -> &'static str {
    match i {
        Issued::New(_) => "new",
        Issued::Existing(_) => "existing",
        Issued::QuantityReached { .. } => "quantity_reached",
        Issued::ProfileLimitReached { .. } => "profile_limit_reached",
        Issued::CodeTaken => "code_taken",
    }
}

async fn codes_are_issued_within_the_templates_limits(store: &SqlStore) {
    let batch = [
        coupon("A-1", Some("p1"), "k1"),
        coupon("A-2", Some("p1"), "k2"),
        coupon("A-3", Some("p1"), "k3"),
        coupon("A-1", Some("p2"), "k4"),
        coupon("A-4", Some("p2"), "k5"),
        coupon("A-5", None, "k6"),
        coupon("A-9", Some("p1"), "k1"),
    ];
    let out = store.promotions().issue_coupons("spring", "operator", LIMITS, &batch, t(1)).await.expect("issue");
    let kinds: Vec<&str> = out.iter().map(kind).collect();
    // p1 holds 2 at most; A-1 is taken; 3 in all; k1 again is the code issued for it
    assert_eq!(kinds, ["new", "new", "profile_limit_reached", "code_taken", "new", "quantity_reached", "existing"]);
    let Issued::Existing(first) = &out[6] else { panic!("existing") };
    assert_eq!((first.code.as_str(), first.profile_id.as_deref()), ("A-1", Some("p1")));
    // nothing of the refused ones is left behind
    let found = store.promotions().coupons(&["A-3".into(), "A-5".into(), "A-4".into()]).await.expect("coupons");
    assert_eq!(found.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["A-4"]);
    let counters = store.promotions().promotion_counters("spring").await.expect("counters");
    assert_eq!(
        counters,
        [
            ("spring|held|total|profile:p1".to_string(), 2),
            ("spring|held|total|profile:p2".to_string(), 1),
            ("spring|issued|total|*".to_string(), 3)
        ]
    );
    let wallet = store.promotions().profile_coupons("p1").await.expect("wallet");
    assert_eq!(wallet.iter().map(|c| c.code.as_str()).collect::<Vec<_>>(), ["A-1", "A-2"]);
    assert_eq!((wallet[0].channel.as_str(), wallet[0].valid_until, wallet[0].used), ("operator", Some(t(50)), false));
}

async fn a_code_is_used_once_through_the_checkout_and_read_back_as_used(store: &SqlStore) {
    assert_eq!(kind(&issue(store, LIMITS, coupon("B-1", Some("p1"), "k1")).await), "new");
    let checkout = |n: u32| Checkout {
        idempotency_key: format!("key-{n}"),
        order_id: format!("order-{n}"),
        request_hash: "h".into(),
        profile_id: Some("p1".into()),
        takes: vec![CounterTake {
            key: coupon_key("spring", "B-1"),
            amount: 1,
            max: 1,
            promotion: "spring".into(),
            counter: "redemptions".into(),
        }],
        record: common::record_for("B-1", "buyer@example.com"),
        created_at: t(2),
        team: None,
        points: Vec::new(),
    };
    let outs = store.promotions().commit_checkouts(&[checkout(1), checkout(2)]).await.expect("commit");
    assert!(matches!(outs[0], CheckoutOutcome::Committed(_)));
    assert!(matches!(outs[1], CheckoutOutcome::LimitReached { used: 1, max: 1, .. }));
    let found = store.promotions().coupons(&["B-1".into()]).await.expect("coupons");
    assert!(found[0].used, "the code's counter says it is used");
    // a cancellation gives it back
    let back = CounterReturn {
        return_id: "r1".into(),
        order_id: "order-1".into(),
        takes: vec![(coupon_key("spring", "B-1"), 1)],
        at: t(3),
    };
    assert!(store.promotions().return_counters(&back).await.expect("return"));
    assert!(!store.promotions().coupons(&["B-1".into()]).await.expect("coupons")[0].used);
}

async fn concurrent_claims_never_pass_the_quantity_or_a_profiles_limit(store: &SqlStore) {
    let limits = IssueLimits { quantity: 50, per_profile: 1 };
    // 300 shoppers claim at once, 60 of them twice
    let tries = (0..360).map(|i| {
        let profile = format!("p{}", i % 300);
        async move { issue(store, limits, coupon(&format!("C-{i}"), Some(&profile), &format!("claim-{i}"))).await }
    });
    let outs = join_all(tries).await;
    let new: Vec<&StoredCoupon> =
        outs.iter().filter_map(|o| if let Issued::New(c) = o { Some(c) } else { None }).collect();
    assert_eq!(new.len(), 50);
    let mut owners: Vec<&str> = new.iter().filter_map(|c| c.profile_id.as_deref()).collect();
    owners.sort_unstable();
    owners.dedup();
    assert_eq!(owners.len(), 50, "nobody holds two");
    let page = store.promotions().promotion_coupons("spring", &PageRequest { after: None, limit: 30 }).await;
    let page = page.expect("page");
    assert_eq!(page.items.len(), 30);
    let rest = store.promotions().promotion_coupons("spring", &PageRequest { after: page.next, limit: 30 }).await;
    let rest = rest.expect("page");
    assert_eq!((rest.items.len(), rest.next), (20, None));
}

async fn follower_offsets_are_kept(store: &SqlStore) {
    let p = store.promotions();
    assert_eq!(p.follower_offset("coupons.signup").await.expect("offset"), 0);
    p.set_follower_offset("coupons.signup", 41).await.expect("set");
    p.set_follower_offset("coupons.signup", 42).await.expect("set");
    assert_eq!(p.follower_offset("coupons.signup").await.expect("offset"), 42);
}

both_stores!(
    codes_are_issued_within_the_templates_limits,
    a_code_is_used_once_through_the_checkout_and_read_back_as_used,
    concurrent_claims_never_pass_the_quantity_or_a_profiles_limit,
    follower_offsets_are_kept
);
