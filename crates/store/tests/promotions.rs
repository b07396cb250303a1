//! Promotions, limit counters and checkout commits, on both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_store::*;
use fixtures::t;
use futures_util::future::join_all;
use serde_json::json;

fn checkout(key: &str, order: &str, takes: &[(&str, i64, i64)]) -> Checkout {
    Checkout {
        idempotency_key: key.into(),
        order_id: order.into(),
        request_hash: format!("hash-{order}"),
        profile_id: Some("p1".into()),
        takes: takes
            .iter()
            .map(|(k, a, m)| CounterTake {
                key: (*k).into(),
                amount: *a,
                max: *m,
                promotion: "p".into(),
                counter: "units".into(),
            })
            .collect(),
        record: common::record_for(order, "buyer@example.com"),
        created_at: t(1),
        team: None,
        points: Vec::new(),
    }
}

async fn one(store: &SqlStore, c: Checkout) -> CheckoutOutcome {
    let mut out = store.promotions().commit_checkouts(&[c]).await.expect("commit");
    out.pop().expect("one outcome")
}

async fn promotions_are_versioned_and_audited(store: &SqlStore) {
    let p = store.promotions();
    let spec = json!({"id": "a", "name": "满100减20", "reward": {"type": "amount_off", "amount": "20"}});
    let made = p.create_promotion("a", "draft", &spec, "key_1", t(1)).await.expect("create");
    assert_eq!((made.version, made.status.as_str()), (1, "draft"));
    assert!(matches!(p.create_promotion("a", "draft", &spec, "key_1", t(1)).await, Err(StoreError::Conflict(_))));
    let mut spec2 = spec.clone();
    spec2["name"] = json!("满100减25");
    let v2 = p.update_promotion("a", 1, "active", &spec2, "key_2", t(2)).await.expect("update");
    assert_eq!((v2.version, v2.status.as_str(), v2.spec["name"].as_str()), (2, "active", Some("满100减25")));
    let stale = p.update_promotion("a", 1, "paused", &spec2, "key_2", t(3)).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "a stale version is refused");
    assert!(matches!(p.update_promotion("zz", 1, "paused", &spec2, "k", t(3)).await, Err(StoreError::NotFound)));
    let same = p.update_promotion("a", 2, "active", &spec2, "key_2", t(4)).await.expect("no change");
    assert_eq!(same.version, 2, "nothing changed, nothing written");

    let audit =
        store.audit().list_audit(Some("promotion:a"), &PageRequest { after: None, limit: 10 }).await.expect("audit");
    let actions: Vec<&str> = audit.items.iter().map(|e| e.entry.action.as_str()).collect();
    assert_eq!(actions, ["promotion.active", "promotion.create"]);
    assert_eq!(audit.items[0].entry.before, Some(json!({"status": "draft", "name": "满100减20"})));
    assert_eq!(audit.items[0].entry.after, Some(json!({"status": "active", "name": "满100减25"})));

    p.create_promotion("b", "active", &spec, "key_1", t(5)).await.expect("create b");
    let stamp = p.promotions_stamp().await.expect("stamp");
    assert_eq!(stamp.0, 2);
    let page = p.list_promotions(Some("active"), &PageRequest { after: None, limit: 1 }).await.expect("list");
    assert_eq!(page.items.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["a"]);
    let rest = p.list_promotions(Some("active"), &PageRequest { after: page.next, limit: 1 }).await.expect("list");
    assert_eq!((rest.items[0].id.as_str(), rest.next), ("b", None));
    assert_eq!(p.all_promotions().await.expect("all").len(), 2);
}

async fn a_checkout_takes_all_its_counters_or_none(store: &SqlStore) {
    let p = store.promotions();
    assert!(matches!(
        one(store, checkout("k1", "o1", &[("c|0|total|*", 1, 2), ("d|0|total|*", 500, 800)])).await,
        CheckoutOutcome::Committed(_)
    ));
    // the first counter has room, the second not: neither moves
    let out = one(store, checkout("k2", "o2", &[("c|0|total|*", 1, 2), ("d|0|total|*", 400, 800)])).await;
    assert_eq!(out, CheckoutOutcome::LimitReached { key: "d|0|total|*".into(), used: 500, max: 800 });
    let keys = ["c|0|total|*".to_string(), "d|0|total|*".to_string()];
    let used = p.counters(&keys).await.expect("counters");
    assert_eq!((used.get(&keys[0]), used.get(&keys[1])), (Some(&1), Some(&500)));
    assert_eq!(p.get_checkout("o2").await.expect("get"), None);
    // a retry answers what was committed, without taking again
    let again = one(store, checkout("k1", "o1", &[("c|0|total|*", 1, 2)])).await;
    assert!(matches!(again, CheckoutOutcome::Existing(c) if c.order_id == "o1"));
    assert_eq!(one(store, checkout("k3", "o1", &[])).await, CheckoutOutcome::OrderTaken);
    // several in one transaction: each on its own
    let outs = p
        .commit_checkouts(&[
            checkout("k4", "o4", &[("c|0|total|*", 1, 2)]),
            checkout("k5", "o5", &[("c|0|total|*", 1, 2)]),
            checkout("k6", "o6", &[]),
        ])
        .await
        .expect("batch");
    assert!(matches!(outs[0], CheckoutOutcome::Committed(_)));
    assert!(matches!(outs[1], CheckoutOutcome::LimitReached { .. }));
    assert!(matches!(outs[2], CheckoutOutcome::Committed(_)));
    assert_eq!(p.counters(&keys[..1]).await.expect("counters").get(&keys[0]), Some(&2));

    // returns: once per return id
    let r = CounterReturn {
        return_id: "refund-1".into(),
        order_id: "o1".into(),
        takes: vec![(keys[0].clone(), 1), (keys[1].clone(), 500)],
        at: t(2),
    };
    assert!(p.return_counters(&r).await.expect("return"));
    assert!(!p.return_counters(&r).await.expect("again"), "a retried return gives nothing back twice");
    let used = p.counters(&keys).await.expect("counters");
    assert_eq!((used.get(&keys[0]), used.get(&keys[1])), (Some(&1), Some(&0)));
    assert_eq!(p.counter_returns("o1").await.expect("returns"), [r]);
}

async fn concurrent_checkouts_never_pass_a_limit(store: &SqlStore) {
    // 1,000 shoppers, one coupon with 100 uses, each with its own per-profile counter too
    let tries = (0..1000).map(|i| {
        let c = checkout(
            &format!("key-{i}"),
            &format!("order-{i}"),
            &[("coupon|0|total|*", 1, 100), (&format!("coupon|1|total|profile:{}", i % 700), 1, 1)],
        );
        async move { one(store, c).await }
    });
    let outs = join_all(tries).await;
    let committed = outs.iter().filter(|o| matches!(o, CheckoutOutcome::Committed(_))).count();
    assert_eq!(committed, 100);
    let used = store.promotions().counters(&["coupon|0|total|*".to_string()]).await.expect("counters");
    assert_eq!(used.get("coupon|0|total|*"), Some(&100));
}

/// A checkout of `group` under a namespace, so the same group can be
/// committed twice in one store.
fn named(ns: &str, c: &Checkout) -> Checkout {
    let mut c = c.clone();
    c.idempotency_key = format!("{ns}{}", c.idempotency_key);
    c.order_id = format!("{ns}{}", c.order_id);
    for t in &mut c.takes {
        t.key = format!("{ns}{}", t.key);
    }
    c
}

async fn a_group_decides_as_one_by_one_would(store: &SqlStore) {
    let p = store.promotions();
    // taken before: a key and an order id, and part of a counter
    let group = [
        checkout("a", "oa", &[("hot", 1, 3), ("cap", 10, 25)]),
        checkout("b", "ob", &[("hot", 1, 3)]),
        checkout("done", "odone", &[("hot", 1, 3)]),
        checkout("c", "oc", &[("hot", 1, 3), ("cap", 10, 25)]),
        checkout("d", "od", &[("cap", 30, 25)]),
        checkout("e", "otaken", &[("hot", 1, 3)]),
        checkout("f", "of", &[("hot", 1, 3), ("cap", 5, 25)]),
        checkout("g", "og", &[("cap", 5, 25)]),
        checkout("h", "oh", &[]),
    ];
    let before = [checkout("done", "odone", &[("hot", 1, 3)]), checkout("x", "otaken", &[("cap", 3, 25)])];
    let mut outcomes = Vec::new();
    for ns in ["1/", "2/"] {
        for c in &before {
            assert!(matches!(one(store, named(ns, c)).await, CheckoutOutcome::Committed(_)));
        }
        let checkouts: Vec<Checkout> = group.iter().map(|c| named(ns, c)).collect();
        let outs = if ns == "1/" {
            let mut outs = Vec::new();
            for c in checkouts {
                outs.push(one(store, c).await);
            }
            outs
        } else {
            p.commit_checkouts(&checkouts).await.expect("group")
        };
        let keys = [format!("{ns}hot"), format!("{ns}cap")];
        let used = p.counters(&keys).await.expect("counters");
        let shape: Vec<String> = outs
            .iter()
            .map(|o| match o {
                CheckoutOutcome::Committed(c) | CheckoutOutcome::Existing(c) => {
                    format!("{:?} {}", std::mem::discriminant(o), c.order_id.trim_start_matches(ns))
                }
                CheckoutOutcome::LimitReached { key, used, max } => {
                    format!("limit {} {used}/{max}", key.trim_start_matches(ns))
                }
                other => format!("{other:?}"),
            })
            .collect();
        outcomes.push((shape, used.get(&keys[0]).copied(), used.get(&keys[1]).copied()));
        for c in &group {
            let stored = p.get_checkout(&format!("{ns}{}", c.order_id)).await.expect("get").map(|c| c.idempotency_key);
            outcomes.last_mut().expect("pushed").0.push(format!("{}: {stored:?}", c.order_id));
        }
    }
    let [one_by_one, together] = [&outcomes[0], &outcomes[1]];
    assert_eq!(one_by_one.0.len(), together.0.len());
    for (a, b) in one_by_one.0.iter().zip(&together.0) {
        assert_eq!(a.replace("1/", ""), b.replace("2/", ""));
    }
    assert_eq!((one_by_one.1, one_by_one.2), (together.1, together.2));
    // hot: done, a and b fill it, so c and f are refused (c's cap take is undone);
    // cap: 3 (x) + 10 (a) + 5 (g); d asks more than the limit; e's order id is taken
    assert_eq!((together.1, together.2), (Some(3), Some(18)));
}

async fn concurrent_groups_never_pass_a_limit(store: &SqlStore) {
    // 20 groups of 50 orders at once on a coupon with 100 uses
    let groups = (0..20).map(|g| {
        let group: Vec<Checkout> = (0..50)
            .map(|i| checkout(&format!("gk-{g}-{i}"), &format!("go-{g}-{i}"), &[("coupon|0|total|*", 1, 100)]))
            .collect();
        async move { store.promotions().commit_checkouts(&group).await.expect("group") }
    });
    let outs: Vec<CheckoutOutcome> = join_all(groups).await.into_iter().flatten().collect();
    let committed = outs.iter().filter(|o| matches!(o, CheckoutOutcome::Committed(_))).count();
    assert_eq!(committed, 100);
    let used = store.promotions().counters(&["coupon|0|total|*".to_string()]).await.expect("counters");
    assert_eq!(used.get("coupon|0|total|*"), Some(&100));
}

async fn a_promotion_reads_back_as_last_saved(store: &SqlStore) {
    let p = store.promotions();
    assert_eq!(p.get_promotion("a").await.expect("get"), None);
    let spec = json!({"id": "a", "name": "满100减20", "reward": {"type": "amount_off", "amount": "20"}});
    let made = p.create_promotion("a", "draft", &spec, "key_1", t(1)).await.expect("create");
    assert_eq!(p.get_promotion("a").await.expect("get"), Some(made));
    let mut spec2 = spec.clone();
    spec2["name"] = json!("满100减25");
    let v2 = p.update_promotion("a", 1, "active", &spec2, "key_2", t(2)).await.expect("update");
    let want = StoredPromotion {
        id: "a".into(),
        status: "active".into(),
        spec: spec2.clone(),
        version: 2,
        created_at: t(1),
        updated_at: t(2),
    };
    assert_eq!(v2, want);
    assert_eq!(p.get_promotion("a").await.expect("get"), Some(want.clone()));
    assert!(p.update_promotion("a", 1, "paused", &spec, "key_2", t(3)).await.is_err(), "stale");
    p.create_promotion("b", "active", &spec, "key_1", t(4)).await.expect("create b");
    assert_eq!(p.get_promotion("a").await.expect("get"), Some(want), "a refused update changed nothing");
    assert_eq!(p.get_promotion("b").await.expect("get").map(|b| (b.version, b.status)), Some((1, "active".into())));
    assert_eq!(p.get_promotion("A").await.expect("get"), None, "ids are exact");
}

both_stores!(
    promotions_are_versioned_and_audited,
    a_promotion_reads_back_as_last_saved,
    a_checkout_takes_all_its_counters_or_none,
    concurrent_checkouts_never_pass_a_limit,
    a_group_decides_as_one_by_one_would,
    concurrent_groups_never_pass_a_limit
);

/// A checkout's record keeps the order typed and its buyer's email sealed;
/// a record written before records were typed (the answer itself, email in
/// the clear) is rewritten at open and reads the same.
async fn checkout_records_are_sealed_and_old_ones_upgraded(h: &mut common::Harness) {
    let c = checkout("rec-1", "R-1", &[("rec|0|total|all", 1, 10)]);
    let outs = h.store.promotions().commit_checkouts(std::slice::from_ref(&c)).await.expect("commit");
    assert!(matches!(outs[0], CheckoutOutcome::Committed(_)));
    let raw = h.raw.dump_checkouts().await;
    assert!(raw.starts_with("{\"version\":2,"), "{raw}");
    assert!(!raw.contains("buyer@example.com"), "no email in the clear: {raw}");
    let back = h.store.promotions().checkout_by_key("rec-1").await.expect("read").expect("found");
    assert_eq!(back.record, c.record);
    assert_eq!(back.record.order.as_ref().and_then(|o| o.email.as_deref()), Some("buyer@example.com"));
    // a version 1 row, as an older Beacon wrote it
    let old = common::record_for("R-0", "old@example.com").answer.to_string().replace('\'', "''");
    h.raw
        .exec_shop(&format!(
            "INSERT INTO checkouts (idempotency_key, order_id, request_hash, profile_id, takes, result, created_at) \
             VALUES ('rec-0', 'R-0', 'h', NULL, '[]', '{old}', 0)"
        ))
        .await;
    assert!(h.raw.dump_checkouts().await.contains("old@example.com"));
    h.reopen().await;
    let raw = h.raw.dump_checkouts().await;
    assert!(!raw.contains("old@example.com"), "rewritten sealed at open: {raw}");
    assert_eq!(raw.matches("{\"version\":2,").count(), 2, "{raw}");
    let old = h.store.promotions().checkout_by_key("rec-0").await.expect("read").expect("found");
    assert_eq!(old.record, common::record_for("R-0", "old@example.com"));
    assert_eq!(old.record.lines[0].product_id, "tea");
}

#[tokio::test]
async fn embedded_checkout_records_are_sealed_and_old_ones_upgraded() {
    let mut h = common::Harness::embedded().await;
    checkout_records_are_sealed_and_old_ones_upgraded(&mut h).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres_checkout_records_are_sealed_and_old_ones_upgraded() {
    let mut h = common::Harness::postgres().await;
    checkout_records_are_sealed_and_old_ones_upgraded(&mut h).await;
    h.cleanup().await;
}

/// On PostgreSQL a checkout locks what it takes from, not every checkout:
/// one on another counter goes through while a counter is held, one on the
/// held counter waits for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_checkouts_lock_only_the_counters_they_take() {
    use std::time::Duration;
    let h = common::Harness::postgres().await;
    // another node's transaction, in the middle of a checkout on counter a
    let holder = h.raw.hold_lock("counter:a|0|total|*").await;
    let other =
        tokio::time::timeout(Duration::from_secs(30), one(&h.store, checkout("k-b", "o-b", &[("b|0|total|*", 1, 5)])));
    assert!(matches!(other.await, Ok(CheckoutOutcome::Committed(_))), "a checkout on b does not wait for a");
    let node = std::sync::Arc::new(h.another().await);
    let on_a = {
        let node = node.clone();
        tokio::spawn(async move { one(&node, checkout("k-a", "o-a", &[("a|0|total|*", 1, 5)])).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!on_a.is_finished(), "a checkout on a waits for a's holder");
    holder.rollback().await.expect("release");
    let out = tokio::time::timeout(Duration::from_secs(30), on_a).await.expect("done").expect("task");
    assert!(matches!(out, CheckoutOutcome::Committed(_)));
    let used = h.store.promotions().counters(&["a|0|total|*".into(), "b|0|total|*".into()]).await.expect("counters");
    assert_eq!((used.get("a|0|total|*"), used.get("b|0|total|*")), (Some(&1), Some(&1)));
    if let Ok(node) = std::sync::Arc::try_unwrap(node) {
        node.close().await;
    }
    h.cleanup().await;
}
