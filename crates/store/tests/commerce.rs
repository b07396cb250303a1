//! Orders, after-sales, reviews, daily figures, teams, lost checkouts and
//! pending returns: store methods the server's tests reach only indirectly, here on
//! both stores directly.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::commerce::order::{Line, Order};
use beacon_core::{Currency, ProfileId};
use beacon_store::*;
use chrono::{DateTime, TimeZone, Utc};
use fixtures::state;
use serde_json::json;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).single().expect("valid time")
}

fn order(id: &str, buyer: ProfileId, total: i64, placed_at: DateTime<Utc>, status: OrderStatus) -> Order {
    Order {
        order_id: id.into(),
        profile_id: buyer,
        currency: Currency::CNY,
        total_minor: total,
        discount_minor: 0,
        refunded_minor: if status == OrderStatus::Refunded { total } else { 0 },
        status,
        coupon: None,
        placed_at,
        message_id: format!("msg-{id}"),
        lines: vec![Line {
            product_id: Some("tea".into()),
            sku: Some("TEA-1".into()),
            name: Some("龙井".into()),
            category: None,
            price_minor: total,
            quantity: 1,
            share_minor: total,
            refunded_quantity: 0,
        }],
    }
}

fn refund(seq: i64, order_id: &str, buyer: ProfileId, amount: i64, at: DateTime<Utc>) -> AfterSale {
    AfterSale {
        seq,
        order_id: order_id.into(),
        profile_id: buyer,
        kind: AfterSaleKind::Refund,
        amount_minor: amount,
        currency: Some("CNY".into()),
        reason: Some("破损".into()),
        outcome: "applied".into(),
        lines: json!([{"product_id": "tea", "quantity": 1}]),
        at,
        message_id: format!("refund-{seq}"),
    }
}

/// Two buyers' orders over three days, one refunded, written as a processor batch.
async fn shop(store: &SqlStore) -> (ProfileId, ProfileId) {
    let (ann, bob) = (ProfileId(uuid::Uuid::now_v7()), ProfileId(uuid::Uuid::now_v7()));
    let changes = BatchChanges {
        created: vec![state(ann, 0), state(bob, 0)],
        states: vec![state(ann, 0), state(bob, 0)],
        orders: vec![
            order("A-1", ann, 10_000, at(1, 2), OrderStatus::Completed),
            // 20:00 UTC on the 1st is the 2nd at +08:00
            order("A-2", ann, 5_000, at(1, 20), OrderStatus::Refunded),
            order("B-1", bob, 7_000, at(3, 9), OrderStatus::Completed),
        ],
        after_sales: vec![refund(11, "A-2", ann, 5_000, at(2, 9)), refund(12, "A-2", ann, 0, at(2, 10))],
        ..Default::default()
    };
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&changes).await.expect("apply");
    tx.set_offset(12).await.expect("offset");
    tx.commit().await.expect("commit");
    (ann, bob)
}

async fn orders_are_read_listed_and_filtered(store: &SqlStore) {
    let (ann, bob) = shop(store).await;
    let a1 = store.orders().get_order("A-1").await.expect("get").expect("found");
    assert_eq!(a1, order("A-1", ann, 10_000, at(1, 2), OrderStatus::Completed));
    assert_eq!(store.orders().get_order("nope").await.expect("get"), None);
    // the processor reads a batch's orders in bulk, in its transaction or on its reader
    let ids = ["B-1".to_string(), "nope".into(), "A-1".into()];
    let mut by_reader = store.process_reader().await.expect("reader").orders(&ids).await.expect("orders");
    let mut tx = store.begin_processing("main").await.expect("begin");
    let mut in_tx = tx.orders(&ids).await.expect("orders");
    drop(tx);
    by_reader.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    in_tx.sort_by(|a, b| a.order_id.cmp(&b.order_id));
    assert_eq!(by_reader.iter().map(|o| o.order_id.as_str()).collect::<Vec<_>>(), ["A-1", "B-1"]);
    assert_eq!((by_reader[0] == a1, by_reader == in_tx), (true, true));
    let list = |q: OrderQuery| async move {
        store.orders().list_orders(&q).await.expect("list").items.into_iter().map(|o| o.order_id).collect::<Vec<_>>()
    };
    let all = || OrderQuery { page: PageRequest { after: None, limit: 10 }, ..Default::default() };
    assert_eq!(list(all()).await, ["B-1", "A-2", "A-1"], "newest first");
    assert_eq!(list(OrderQuery { profile: Some(ann), ..all() }).await, ["A-2", "A-1"]);
    assert_eq!(list(OrderQuery { profile: Some(bob), ..all() }).await, ["B-1"]);
    assert_eq!(list(OrderQuery { status: Some(OrderStatus::Refunded), ..all() }).await, ["A-2"]);
    assert_eq!(
        list(OrderQuery { placed_after: Some(at(1, 12)), placed_before: Some(at(3, 0)), ..all() }).await,
        ["A-2"]
    );
    let first = store
        .orders()
        .list_orders(&OrderQuery { page: PageRequest { after: None, limit: 2 }, ..all() })
        .await
        .expect("page");
    assert_eq!(first.items.len(), 2);
    let rest = list(OrderQuery { page: PageRequest { after: first.next, limit: 2 }, ..all() }).await;
    assert_eq!(rest, ["A-1"], "the next page");
}

async fn after_sales_come_oldest_first(store: &SqlStore) {
    let (ann, _) = shop(store).await;
    let sales = store.orders().after_sales("A-2").await.expect("after-sales");
    assert_eq!(sales, [refund(11, "A-2", ann, 5_000, at(2, 9)), refund(12, "A-2", ann, 0, at(2, 10))]);
    assert!(store.orders().after_sales("A-1").await.expect("none").is_empty());
}

async fn daily_figures_count_days_in_the_shops_time_zone(store: &SqlStore) {
    shop(store).await;
    let days = |offset: i32| async move {
        let from = at(1, 0).date_naive();
        let to = at(3, 0).date_naive();
        store
            .orders()
            .daily_figures(from, to, offset)
            .await
            .expect("figures")
            .into_iter()
            .map(|d| (d.day.to_string(), d.revenue.iter().map(|r| (r.orders, r.net_minor)).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
    };
    // A-2 was refunded in full: it counts as an order with no net revenue
    let utc = days(0).await;
    assert_eq!(utc, [("2026-03-01".to_string(), vec![(2, 10_000)]), ("2026-03-03".to_string(), vec![(1, 7_000)])]);
    let beijing = days(8 * 3600).await;
    assert_eq!(
        beijing,
        [
            ("2026-03-01".to_string(), vec![(1, 10_000)]),
            ("2026-03-02".to_string(), vec![(1, 0)]),
            ("2026-03-03".to_string(), vec![(1, 7_000)])
        ]
    );
}

fn team(id: &str, status: &str, expires_at: DateTime<Utc>, version: i64) -> StoredTeam {
    StoredTeam {
        id: id.into(),
        promotion: "gb".into(),
        status: status.into(),
        expires_at,
        state: json!({"id": id, "status": status}),
        version,
    }
}

fn checkout_with_team(n: u32, write: TeamWrite, created_at: DateTime<Utc>) -> Checkout {
    Checkout {
        idempotency_key: format!("k{n}"),
        order_id: format!("T-{n}"),
        request_hash: "h".into(),
        profile_id: None,
        takes: Vec::new(),
        record: common::record_for(&format!("T-{n}"), "t@example.com"),
        created_at,
        team: Some(write),
        points: Vec::new(),
    }
}

async fn teams_change_by_version_and_expire(store: &SqlStore) {
    let p = store.promotions();
    let open =
        |id: &str, expires: DateTime<Utc>| TeamWrite { team: team(id, "open", expires, 1), expected_version: None };
    let outs = p
        .commit_checkouts(&[
            checkout_with_team(1, open("T1", at(1, 10)), at(1, 9)),
            checkout_with_team(2, open("T2", at(5, 0)), at(1, 9)),
        ])
        .await
        .expect("commit");
    assert!(outs.iter().all(|o| matches!(o, CheckoutOutcome::Committed(_))));
    assert_eq!(p.get_team("T1").await.expect("get").map(|t| t.version), Some(1));
    assert!(p.update_team(&team("T1", "open", at(1, 10), 2), 1).await.expect("cas"), "at version 1");
    assert!(!p.update_team(&team("T1", "failed", at(1, 10), 2), 1).await.expect("cas"), "no longer at 1");
    let ids = |ts: Vec<StoredTeam>| ts.into_iter().map(|t| t.id).collect::<Vec<_>>();
    assert!(ids(p.expired_teams(at(1, 9), 10).await.expect("expired")).is_empty(), "none is due yet");
    assert_eq!(ids(p.expired_teams(at(2, 0), 10).await.expect("expired")), ["T1"]);
    // a team whose refunds are not all written is due until they are
    assert!(p.update_team(&team("T2", "refunding", at(5, 0), 2), 1).await.expect("cas"));
    assert_eq!(ids(p.expired_teams(at(2, 0), 10).await.expect("expired")), ["T1", "T2"]);
    assert!(p.update_team(&team("T1", "failed", at(1, 10), 3), 2).await.expect("cas"));
    assert_eq!(ids(p.expired_teams(at(9, 0), 10).await.expect("expired")), ["T2"], "failed is done");
}

async fn lost_checkouts_and_pending_returns_are_found(store: &SqlStore) {
    let (ann, _) = shop(store).await;
    let p = store.promotions();
    let c = |key: &str, order: &str, created: DateTime<Utc>| Checkout {
        idempotency_key: key.into(),
        order_id: order.into(),
        request_hash: "h".into(),
        profile_id: Some(ann.to_string()),
        takes: vec![CounterTake {
            key: "p|0|total|*".into(),
            amount: 1,
            max: 10,
            promotion: "p".into(),
            counter: "redemptions".into(),
        }],
        record: common::record_for(order, "ann@example.com"),
        created_at: created,
        team: None,
        points: Vec::new(),
    };
    // A-2's checkout has its order; LOST-1's never reached the log
    p.commit_checkouts(&[c("k-a2", "A-2", at(1, 20)), c("k-lost", "LOST-1", at(1, 21))]).await.expect("commit");
    let lost = p.orphan_checkouts(at(1, 0), at(2, 0), 10).await.expect("orphans");
    assert_eq!(lost.iter().map(|c| c.order_id.as_str()).collect::<Vec<_>>(), ["LOST-1"]);
    assert!(p.orphan_checkouts(at(1, 22), at(2, 0), 10).await.expect("orphans").is_empty(), "outside the window");
    // A-2's applied refunds (seq 11, 12) are pending until their share is given back
    let pending = p.pending_returns(0, 10).await.expect("pending");
    assert_eq!(
        pending.iter().map(|r| (r.seq, r.checkout.order_id.as_str())).collect::<Vec<_>>(),
        [(11, "A-2"), (12, "A-2")]
    );
    assert_eq!(pending[0].order_status, OrderStatus::Refunded);
    let back = CounterReturn {
        return_id: "after_sale:11".into(),
        order_id: "A-2".into(),
        takes: vec![("p|0|total|*".into(), 1)],
        at: at(2, 11),
    };
    assert!(p.return_counters(&back).await.expect("return"));
    assert!(!p.return_counters(&back).await.expect("again"), "a return id is used once");
    let pending = p.pending_returns(0, 10).await.expect("pending");
    assert_eq!(pending.iter().map(|r| r.seq).collect::<Vec<_>>(), [12]);
    assert_eq!(pending[0].returned.get("p|0|total|*"), Some(&1), "what earlier returns gave back");
    assert_eq!(p.pending_returns(12, 10).await.expect("after 12").len(), 0);
}

fn review(seq: i64, who: ProfileId, product: &str, at: DateTime<Utc>, rating: Option<f64>) -> StoredReview {
    StoredReview {
        seq,
        review_id: rating.map(|_| format!("r-{seq}")),
        profile_id: who,
        product_id: product.into(),
        rating,
        body: rating.map(|r| format!("{r} 星")),
        at,
    }
}

async fn reviews_list_by_product_or_profile_newest_first(store: &SqlStore) {
    let (ann, bob) = shop(store).await;
    let reviews = vec![
        review(21, ann, "tea", at(2, 9), Some(5.0)),
        review(22, ann, "cup", at(2, 10), Some(3.5)),
        review(23, bob, "tea", at(2, 10), None),
        review(24, bob, "tea", at(2, 10), Some(4.0)),
    ];
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&BatchChanges { reviews: reviews.clone(), ..Default::default() }).await.expect("apply");
    tx.commit().await.expect("commit");
    let o = store.orders();
    let list = |of: ReviewsOf, after: Option<Position>, limit: u32| async move {
        o.list_reviews(&of, &PageRequest { after, limit }).await.expect("reviews")
    };
    let seqs = |page: &Page<StoredReview>| page.items.iter().map(|r| r.seq).collect::<Vec<_>>();
    // newest first; at the same time the later review first
    let tea = list(ReviewsOf::Product("tea".into()), None, 10).await;
    assert_eq!(tea.items, [reviews[3].clone(), reviews[2].clone(), reviews[0].clone()]);
    assert_eq!(tea.next, None);
    let first = list(ReviewsOf::Product("tea".into()), None, 2).await;
    assert_eq!(seqs(&first), [24, 23]);
    let rest = list(ReviewsOf::Product("tea".into()), first.next.clone(), 2).await;
    assert_eq!((seqs(&rest), rest.next), (vec![21], None), "the next page");
    assert_eq!(seqs(&list(ReviewsOf::Profile(ann), None, 10).await), [22, 21]);
    assert_eq!(seqs(&list(ReviewsOf::Profile(bob), None, 10).await), [24, 23]);
    assert!(list(ReviewsOf::Product("nope".into()), None, 10).await.items.is_empty());
    // bob merged into ann: his reviews are hers, found by either id
    let merge = fixtures::alias_merge(bob, ann, at(3, 0), "bob");
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&BatchChanges { merges: vec![merge], ..Default::default() }).await.expect("merge");
    tx.commit().await.expect("commit");
    for id in [ann, bob] {
        let page = list(ReviewsOf::Profile(id), None, 10).await;
        assert_eq!(seqs(&page), [24, 23, 22, 21]);
        assert!(page.items.iter().all(|r| r.profile_id == ann));
    }
}

async fn teams_are_listed_by_promotion_and_status_soonest_first(store: &SqlStore) {
    let p = store.promotions();
    let of = |promotion: &str, id: &str, status: &str, expires: DateTime<Utc>| StoredTeam {
        promotion: promotion.into(),
        ..team(id, status, expires, 1)
    };
    let teams = [
        of("gb", "T-a", "open", at(3, 0)),
        of("gb", "T-c", "open", at(2, 0)),
        of("gb", "T-b", "open", at(2, 0)),
        of("gb", "T-d", "complete", at(1, 0)),
        of("gb2", "T-e", "open", at(1, 0)),
    ];
    let checkouts: Vec<Checkout> = teams
        .iter()
        .enumerate()
        .map(|(n, t)| {
            let write = TeamWrite { team: t.clone(), expected_version: None };
            checkout_with_team(10 + n as u32, write, at(1, 0))
        })
        .collect();
    let outs = p.commit_checkouts(&checkouts).await.expect("commit");
    assert!(outs.iter().all(|o| matches!(o, CheckoutOutcome::Committed(_))), "{outs:?}");
    let listed = |promotion: &'static str, status: &'static str, limit: u32| async move {
        p.teams(promotion, status, limit).await.expect("teams")
    };
    // soonest to expire first, ties by id
    assert_eq!(listed("gb", "open", 10).await, [teams[2].clone(), teams[1].clone(), teams[0].clone()]);
    assert_eq!(listed("gb", "open", 2).await, [teams[2].clone(), teams[1].clone()], "at most the limit");
    assert_eq!(listed("gb", "complete", 10).await, [teams[3].clone()]);
    assert_eq!(listed("gb2", "open", 10).await, [teams[4].clone()]);
    assert!(listed("gb", "failed", 10).await.is_empty());
    assert!(listed("nope", "open", 10).await.is_empty());
    let done = StoredTeam { status: "complete".into(), version: 2, ..teams[2].clone() };
    assert!(p.update_team(&done, 1).await.expect("cas"));
    assert_eq!(listed("gb", "open", 10).await, [teams[1].clone(), teams[0].clone()]);
    assert_eq!(listed("gb", "complete", 10).await, [teams[3].clone(), done]);
}

both_stores!(
    orders_are_read_listed_and_filtered,
    after_sales_come_oldest_first,
    daily_figures_count_days_in_the_shops_time_zone,
    teams_change_by_version_and_expire,
    lost_checkouts_and_pending_returns_are_found,
    reviews_list_by_product_or_profile_newest_first,
    teams_are_listed_by_promotion_and_status_soonest_first,
);
