//! The points program and points lots on both stores: versioned and
//! audited program, lots added once, clawback and give-back once,
//! redemption taken with the checkout (all or none), leaderboards.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use fixtures::t;
use serde_json::json;

fn lot(id: &str, profile: &str, points: i64, earned: u32) -> StoredLot {
    StoredLot {
        id: id.into(),
        profile_id: profile.into(),
        source: "order".into(),
        order_id: Some(id.trim_start_matches("order:").into()),
        earned: points,
        points,
        left: points,
        earned_at: t(earned),
        vests_at: t(earned),
        expires_at: None,
    }
}

async fn the_program_is_versioned_and_audited(store: &SqlStore) {
    let l = store.loyalty();
    assert_eq!(l.program().await.expect("program"), None);
    let v1 = l.put_program(&json!({"vesting_days": 7}), None, "key_1", t(1)).await.expect("put");
    assert_eq!(v1.version, 1);
    assert!(matches!(l.put_program(&json!({}), None, "key_1", t(2)).await, Err(StoreError::Conflict(_))));
    let v2 = l.put_program(&json!({"vesting_days": 3}), Some(1), "key_1", t(2)).await.expect("put");
    assert_eq!(
        (v2.version, l.program().await.expect("program").map(|p| p.spec)),
        (2, Some(json!({"vesting_days": 3})))
    );
    let audit =
        store.audit().list_audit(Some("loyalty:points"), &PageRequest { after: None, limit: 10 }).await.expect("audit");
    assert_eq!(audit.items.len(), 2);
    assert_eq!(audit.items[0].entry.before, Some(json!({"vesting_days": 7})));
}

async fn lots_are_earned_once_clawed_back_and_redeemed_with_the_checkout(store: &SqlStore) {
    let l = store.loyalty();
    assert!(l.add_lot(&lot("order:A", "p1", 100, 1), None).await.expect("add"));
    assert!(!l.add_lot(&lot("order:A", "p1", 100, 1), None).await.expect("again"), "once per id");
    assert!(l.add_lot(&lot("order:B", "p1", 50, 2), None).await.expect("add"));
    // a redemption of 120: 100 from A, 20 from B, with the checkout
    let checkout = |n: u32, points: Vec<(String, i64)>| Checkout {
        idempotency_key: format!("k{n}"),
        order_id: format!("O{n}"),
        request_hash: "h".into(),
        profile_id: Some("p1".into()),
        takes: vec![],
        record: common::record_for(&format!("O{n}"), "buyer@example.com"),
        created_at: t(3),
        team: None,
        points,
    };
    let takes = vec![("order:A".to_string(), 100), ("order:B".to_string(), 20)];
    let outs = store.promotions().commit_checkouts(&[checkout(1, takes.clone()), checkout(2, takes.clone())]).await;
    let outs = outs.expect("commit");
    assert!(matches!(outs[0], CheckoutOutcome::Committed(_)));
    assert_eq!(outs[1], CheckoutOutcome::PointsChanged, "the same points cannot be spent twice");
    let left = |lots: Vec<StoredLot>| lots.iter().map(|x| (x.id.clone(), x.points, x.left)).collect::<Vec<_>>();
    assert_eq!(left(l.lots("p1").await.expect("lots")), [("order:A".into(), 100, 0), ("order:B".into(), 50, 30)]);
    // A is refunded: 100 back from it, all spent, so a debt of 100
    assert!(!l.claw_back("order:A", 99, 100).await.expect("stale"), "only from the points it has");
    assert!(l.claw_back("order:A", 100, 100).await.expect("claw back"));
    assert_eq!(left(l.lots("p1").await.expect("lots"))[0], ("order:A".into(), 0, -100));
    // the order that spent them is cancelled: its 120 come back to their lots, once
    let all = |took: &[(String, i64)], _: i64, _: i64| took.to_vec();
    assert_eq!(l.give_back_points("O1", &takes, 120, all, t(4)).await.expect("back"), 120);
    assert_eq!(l.give_back_points("O1", &takes, 120, all, t(4)).await.expect("again"), 0, "once");
    assert_eq!(left(l.lots("p1").await.expect("lots")), [("order:A".into(), 0, 0), ("order:B".into(), 50, 50)]);
    assert_eq!(l.points_given_back("O1").await.expect("given back"), 120);
    assert_eq!(l.count_lots("p1", "order", t(0), t(2)).await.expect("count"), 1);
}

async fn leaderboards_rank_what_was_earned_in_the_period(store: &SqlStore) {
    let l = store.loyalty();
    for (id, p, n, at) in [
        ("a1", "ann", 300, 1),
        ("a2", "ann", 200, 5),
        ("b1", "bob", 500, 2),
        ("c1", "cat", 400, 3),
        ("d1", "dan", 900, 20),
    ] {
        l.add_lot(&lot(id, p, n, at), None).await.expect("add");
    }
    let top = l.leaderboard(t(0), t(10), 10).await.expect("top");
    // ann 500 and bob 500 tie (by id), cat 400; dan earned after the period
    assert_eq!(top, [("ann".into(), 500), ("bob".into(), 500), ("cat".into(), 400)]);
    assert_eq!(l.earned_more(400, t(0), t(10)).await.expect("rank"), 2, "cat is third");
    assert_eq!(l.earned_more(500, t(0), t(10)).await.expect("rank"), 0, "ann and bob share first");
    assert_eq!(l.earned("ann", t(0), t(3)).await.expect("earned"), 300);
}

both_stores!(
    the_program_is_versioned_and_audited,
    lots_are_earned_once_clawed_back_and_redeemed_with_the_checkout,
    leaderboards_rank_what_was_earned_in_the_period
);
