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
        result: json!({"order_id": order}),
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

    let audit = store.list_audit(Some("promotion:a"), &PageRequest { after: None, limit: 10 }).await.expect("audit");
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

both_stores!(
    promotions_are_versioned_and_audited,
    a_checkout_takes_all_its_counters_or_none,
    concurrent_checkouts_never_pass_a_limit
);
