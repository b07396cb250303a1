use super::order::{NotApplied, Order, OrderFigures, OrderStatus, allocate};
use super::*;
use crate::ids::ProfileId;
use chrono::{TimeZone, Utc};
use serde_json::json;

fn parse_event(kind: CommerceKind, props: serde_json::Value) -> Result<CommerceEvent, Error> {
    parse(kind, &json!({"type": "track", "properties": props}).to_string(), Currency::CNY)
}

fn completed(props: serde_json::Value) -> NewOrder {
    match parse_event(CommerceKind::OrderCompleted, props) {
        Ok(CommerceEvent::Completed(o)) => o,
        other => panic!("not an order: {other:?}"),
    }
}

fn refund(props: serde_json::Value) -> Refund {
    match parse_event(CommerceKind::OrderRefunded, props) {
        Ok(CommerceEvent::Refunded(r)) => r,
        other => panic!("not a refund: {other:?}"),
    }
}

fn place(o: &NewOrder) -> Order {
    let at = Utc.with_ymd_and_hms(2026, 11, 11, 0, 0, 0).single().unwrap_or_default();
    Order::place(o, ProfileId(uuid::Uuid::from_u128(7)), at, "m1")
}

#[test]
fn segment_order_completed_reads_exactly() {
    let o = completed(json!({
        "order_id": "50314b8e", "total": 27.5, "revenue": 25.0, "discount": 2.5, "coupon": "hasbros",
        "currency": "usd",
        "products": [
            {"product_id": "507f1f77", "sku": "45790-32", "name": "Monopoly", "price": 19, "quantity": 1, "category": "Games"},
            {"product_id": "505bd76785", "sku": "46493-32", "name": "Uno Card Game", "price": "3.45", "quantity": 2}
        ]
    }));
    assert_eq!(o.order_id, "50314b8e");
    assert_eq!(o.currency, Currency::USD);
    assert_eq!((o.total_minor, o.discount_minor), (2750, 250));
    assert_eq!(o.coupon.as_deref(), Some("hasbros"));
    assert_eq!(o.lines.len(), 2);
    assert_eq!((o.lines[1].price_minor, o.lines[1].quantity), (345, 2));
    assert_eq!(o.lines[0].category.as_deref(), Some("Games"));
}

#[test]
fn the_total_falls_back_to_revenue_then_to_the_lines() {
    assert_eq!(completed(json!({"order_id": 1, "revenue": "10.10"})).total_minor, 1010);
    let o = completed(json!({"order_id": "a", "discount": 1, "products": [{"price": 2.5, "quantity": 3}]}));
    assert_eq!(o.total_minor, 650);
    assert_eq!(o.currency, Currency::CNY, "the shop currency applies where none is named");
    let big = completed(json!({"order_id": "b", "total": 12345678901234.56}));
    assert_eq!(big.total_minor, 1_234_567_890_123_456, "no float on the way");
}

#[test]
fn bad_orders_are_refused_with_the_reason() {
    let cases = [
        (json!({"total": 10}), "order_id is required"),
        (json!({"order_id": "x"}), "needs total, revenue or products"),
        (json!({"order_id": "x", "total": -1}), "total must not be negative"),
        (json!({"order_id": "x", "total": "ten"}), "not a decimal number"),
        (json!({"order_id": "x", "total": 1, "currency": "RMB!"}), "currency must be"),
        (json!({"order_id": "x", "total": 1, "currency": "XY"}), "currency"),
        (json!({"order_id": "x", "products": [{"price": 1, "quantity": -2}]}), "quantity"),
        (json!({"order_id": "x", "products": [{"price": 1, "quantity": 1.5}]}), "whole number"),
        (json!({"order_id": "x", "products": {"price": 1}}), "properties"),
        (json!({"order_id": {"id": 1}, "total": 1}), "order_id"),
        (json!({"order_id": "x", "total": 1, "coupon": 5}), "coupon must be a string"),
    ];
    for (props, expect) in cases {
        let e = parse_event(CommerceKind::OrderCompleted, props.clone()).expect_err(&props.to_string());
        assert_eq!(e.code, ErrorCode::InvalidOrder);
        assert!(e.message.contains(expect), "{props}: {}", e.message);
        assert!(e.message.starts_with("Order Completed: "), "{}", e.message);
    }
    let dup = r#"{"properties": {"order_id": "x", "total": 1, "total": 2}}"#;
    assert!(parse(CommerceKind::OrderCompleted, dup, Currency::CNY).is_err(), "duplicate keys are ambiguous");
}

#[test]
fn allocation_is_exact_and_deterministic() {
    assert_eq!(allocate(100, &[1, 1, 1]), vec![34, 33, 33]);
    assert_eq!(allocate(2750, &[1900, 690]), vec![2017, 733]);
    assert_eq!(allocate(10, &[0, 0]), vec![5, 5]);
    assert_eq!(allocate(0, &[5, 5]), vec![0, 0]);
    for (total, w) in [(999_999i64, vec![3, 7, 11, 13]), (1, vec![1, 1, 1]), (12345, vec![i64::MAX / 4, 1, 2])] {
        assert_eq!(allocate(total, &w).iter().sum::<i64>(), total);
    }
}

#[test]
fn line_refunds_never_return_more_than_was_paid() {
    let mut o = place(&completed(json!({"order_id": "o", "total": 10, "products": [
        {"sku": "A", "price": 4, "quantity": 3}, {"sku": "B", "price": 1, "quantity": 1}
    ]})));
    // shares: 10 over gross 12 and 1 → 923 and 77 (largest remainder)
    assert_eq!(o.lines.iter().map(|l| l.share_minor).sum::<i64>(), 1000);
    let one_a = refund(json!({"order_id": "o", "products": [{"sku": "A", "quantity": 1}]}));
    let mut got = vec![];
    for _ in 0..3 {
        got.push(o.refund(&one_a).expect("a unit of A"));
    }
    assert_eq!(got.iter().sum::<i64>(), o.lines[0].share_minor, "three units of A return A's share: {got:?}");
    assert_eq!(o.refund(&one_a), Err(NotApplied::UnknownLine { product: "A".into() }), "no unit of A is left");
    assert_eq!(o.status, OrderStatus::PartiallyRefunded);
    assert_eq!(o.refund(&refund(json!({"order_id": "o"}))), Ok(77));
    assert_eq!(o.status, OrderStatus::Refunded);
    assert_eq!(o.refunded_minor, 1000);
    assert_eq!(o.refund(&refund(json!({"order_id": "o", "total": 1}))), Err(NotApplied::NothingLeft));
}

#[test]
fn amount_refunds_are_capped_and_cancellations_take_what_is_left() {
    let mut o = place(&completed(json!({"order_id": "o", "total": "100.00"})));
    assert_eq!(o.refund(&refund(json!({"order_id": "o", "total": 30}))), Ok(3000));
    assert_eq!(o.refund(&refund(json!({"order_id": "o", "total": 500}))), Ok(7000));
    let mut p = place(&completed(json!({"order_id": "p", "total": 100})));
    assert_eq!(
        p.refund(&refund(json!({"order_id": "p", "total": 40, "currency": "USD"}))).map_err(|e| e.code()),
        Err("wrong_currency")
    );
    assert_eq!(p.refund(&refund(json!({"order_id": "p", "total": 40}))), Ok(4000));
    assert_eq!(p.cancel(), Ok(6000));
    assert_eq!(p.net_minor(), 0);
    assert_eq!(p.cancel(), Err(NotApplied::Cancelled));
    assert_eq!(p.refund(&refund(json!({"order_id": "p"}))), Err(NotApplied::Cancelled));
}

#[test]
fn figures_follow_orders_refunds_and_cancellations() {
    let mut f = OrderFigures::default();
    let mut a = place(&completed(json!({"order_id": "a", "total": 100})));
    let b = place(&completed(json!({"order_id": "b", "total": 50, "currency": "USD"})));
    f.placed(&a);
    f.placed(&b);
    let amount = a.refund(&refund(json!({"order_id": "a", "total": 10}))).unwrap_or_default();
    f.refunded(a.currency, amount);
    assert_eq!(f.order_count, 2);
    assert_eq!(f.main_currency(), Some(("CNY", 1, 9000)), "a tie on orders goes to the larger spend");
    let net = a.cancel().unwrap_or_default();
    f.cancelled(a.currency, net);
    assert_eq!(f.order_count, 1);
    assert_eq!(f.main_currency(), Some(("USD", 1, 5000)));
    let mut g = OrderFigures::default();
    g.fold(&f);
    g.fold(&f);
    assert_eq!((g.order_count, g.by_currency["USD"]), (2, (2, 10000)));
    assert_eq!(g.first_order_at, f.first_order_at);
}

#[test]
fn reviews_and_cancellations_read_their_fields() {
    let r = parse_event(
        CommerceKind::ProductReviewed,
        json!({"product_id": "SKU-1", "review_id": "r1", "review_body": "很好喝，回购", "rating": 4.5}),
    );
    assert_eq!(
        r,
        Ok(CommerceEvent::Reviewed(Review {
            review_id: Some("r1".into()),
            product_id: "SKU-1".into(),
            rating: Some(4.5),
            text: Some("很好喝，回购".into())
        }))
    );
    assert!(parse_event(CommerceKind::ProductReviewed, json!({"product_id": "x", "rating": 6})).is_err());
    assert!(parse_event(CommerceKind::ProductReviewed, json!({"rating": 3})).is_err());
    let c = parse_event(CommerceKind::OrderCancelled, json!({"order_id": "o", "reason": "买错了"}));
    assert_eq!(c, Ok(CommerceEvent::Cancelled { order_id: "o".into(), reason: Some("买错了".into()) }));
    assert_eq!(CommerceKind::of("Order Completed"), Some(CommerceKind::OrderCompleted));
    assert_eq!(CommerceKind::of("order completed"), None);
}

#[test]
fn product_events_name_their_product() {
    let msg = |props: &str| format!(r#"{{"type":"track","properties":{props}}}"#);
    assert_eq!(product_of("Product Viewed", &msg(r#"{"product_id":"tea-1","sku":"T1"}"#)), Some("tea-1".into()));
    assert_eq!(product_of("Product Added", &msg(r#"{"sku":"T1","price":1}"#)), Some("T1".into()));
    assert_eq!(product_of("Product Viewed", &msg(r#"{"product_id":507}"#)), Some("507".into()));
    assert_eq!(product_of("Order Completed", &msg(r#"{"product_id":"tea-1"}"#)), None);
    assert_eq!(product_of("Product Viewed", &msg(r#"{"product_id":{"x":1}}"#)), None);
    assert_eq!(product_of("Product Viewed", r#"{"properties":null}"#), None);
}
