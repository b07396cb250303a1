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

/// Two nodes at once (PostgreSQL, two store handles, spawned tasks): the
/// writers of points lots lock what they write, not every checkout, and
/// still keep their rules — a daily cap of 3 lots holds under 12 parallel
/// earnings, and an order's points come back once under 6 parallel
/// give-backs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_points_writers_on_two_nodes_keep_caps_and_give_back_once() {
    let h = common::Harness::postgres().await;
    let nodes = [std::sync::Arc::new(h.another().await), std::sync::Arc::new(h.another().await)];
    // every connection open before the race, and every racer let go at once
    let warm: Vec<_> = (0..8)
        .map(|i| {
            let node = nodes[i % 2].clone();
            tokio::spawn(async move { node.loyalty().count_lots("nobody", "order", t(0), t(1)).await })
        })
        .collect();
    for w in warm {
        w.await.expect("task").expect("warm");
    }
    let cap = Some((t(0), t(59), 3));
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let earnings: Vec<_> = (0..12)
        .map(|i| {
            let (node, start) = (nodes[i % 2].clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                node.loyalty().add_lot(&lot(&format!("event:{i}"), "p9", 10, 1), cap).await
            })
        })
        .collect();
    let mut added = 0;
    for e in earnings {
        added += usize::from(e.await.expect("task").expect("add"));
    }
    assert_eq!(added, 3, "the cap");
    assert_eq!(h.store.loyalty().count_lots("p9", "order", t(0), t(59)).await.expect("count"), 3);
    // an order that spent 30 of them is cancelled, by six handlers at once
    let spent: Vec<(String, i64)> =
        h.store.loyalty().lots("p9").await.expect("lots").iter().map(|l| (l.id.clone(), 10)).collect();
    let checkout = Checkout {
        idempotency_key: "k-spend".into(),
        order_id: "O-spend".into(),
        request_hash: "h".into(),
        profile_id: Some("p9".into()),
        takes: vec![],
        record: common::record_for("O-spend", "buyer@example.com"),
        created_at: t(3),
        team: None,
        points: spent.clone(),
    };
    let outs = h.store.promotions().commit_checkouts(&[checkout]).await.expect("commit");
    assert!(matches!(outs[0], CheckoutOutcome::Committed(_)));
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(6));
    let backs: Vec<_> = (0..6)
        .map(|i| {
            let (node, spent, start) = (nodes[i % 2].clone(), spent.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let all = |took: &[(String, i64)], _: i64, _: i64| took.to_vec();
                node.loyalty().give_back_points("O-spend", &spent, 30, all, t(4)).await
            })
        })
        .collect();
    let mut given = 0;
    for b in backs {
        given += b.await.expect("task").expect("give back");
    }
    assert_eq!(given, 30, "once");
    assert!(h.store.loyalty().lots("p9").await.expect("lots").iter().all(|l| l.left == 10));
    for n in nodes {
        n.close().await;
    }
    h.cleanup().await;
}
