//! The two segment evaluators agree on each store: random segments over a
//! random shop sent through the real pipeline (traits with personal data
//! sealed at rest, events with properties, orders refunded and cancelled,
//! devices merged into customers, coupons issued and used, points earned by
//! orders of every age — vested, pending, expired, clawed back), decided
//! once by the store's compiled
//! scans and the batch evaluator and once profile by profile from each
//! profile's facts. Event times fall on whole hours and the windows are
//! whole hours, so events sit exactly on window edges.

mod common;

use beacon_core::ProfileId;
use beacon_segment::batch::{self, Answers, Population as _};
use beacon_segment::matches;
use beacon_segment::random::{self, Rng, Vocabulary};
use beacon_store::Store as _;
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::{ADMIN, TestApp, WRITE};
use serde_json::{Value, json};

fn vocabulary() -> Vocabulary {
    Vocabulary::example()
}

/// Hours before now, half of them on the edge of a window or next to it.
fn hours_ago(rng: &mut Rng) -> i64 {
    const EDGES: [i64; 16] = [0, 1, 11, 12, 13, 23, 24, 25, 71, 72, 73, 167, 168, 169, 720, 721];
    if rng.one_in(2) { *rng.pick(&EDGES) } else { rng.below(24 * 40) as i64 }
}

/// A random shop's messages, every time on a whole hour before `now`.
fn shop(rng: &mut Rng, v: &Vocabulary, now: DateTime<Utc>) -> Vec<Value> {
    let mut out = Vec::new();
    let ago = |rng: &mut Rng| (now - Duration::hours(hours_ago(rng))).to_rfc3339();
    for u in 0..80 {
        let user = format!("u{u:02}");
        let mut traits = serde_json::Map::new();
        for (key, values) in &v.traits {
            if !rng.one_in(3) {
                traits.insert(key.clone(), rng.pick(values).clone());
            }
        }
        if rng.one_in(2) {
            traits.insert("phone".into(), json!(format!("+86138{:08}", u)));
        }
        if !rng.one_in(3) {
            let years = rng.below(30) as i64 + 1;
            let day = (now - Duration::days(365 * years + rng.below(20) as i64)).date_naive();
            traits.insert("birthday".into(), json!(day.to_string()));
        }
        out.push(json!({"type": "identify", "userId": user, "traits": traits, "timestamp": ago(rng)}));
        // a device seen alone, then logged in: merged into the customer
        if rng.one_in(4) {
            let device = format!("dev-{u}");
            out.push(json!({"type": "track", "anonymousId": device, "event": "App Opened", "timestamp": ago(rng)}));
            out.push(json!({"type": "identify", "userId": user, "anonymousId": device, "timestamp": ago(rng)}));
        }
        for _ in 0..rng.below(8) {
            let mut props = serde_json::Map::new();
            for (key, values) in &v.properties {
                if !rng.one_in(3) {
                    props.insert(key.clone(), rng.pick(values).clone());
                }
            }
            let event = rng.pick(&["Product Viewed", "App Opened"]).to_string();
            out.push(
                json!({"type": "track", "userId": user, "event": event, "properties": props, "timestamp": ago(rng)}),
            );
        }
        for o in 0..rng.below(3) {
            let order_id = format!("O-{u}-{o}");
            let product = rng.pick(&["P1", "P2", "P3"]).to_string();
            let category = rng.pick(&["鞋/跑鞋", "茶/绿茶", "茶叶"]).to_string();
            let total = rng.pick(&["49.90", "99.90", "150.00", "300.50"]).to_string();
            let mut props = json!({"order_id": order_id, "total": total, "currency": "CNY", "category": category,
                               "products": [{"product_id": product, "category": category, "price": total, "quantity": 1}]});
            if rng.one_in(2) {
                props["coupon"] = json!("NEW10");
            }
            out.push(json!({"type": "track", "userId": user, "event": "Order Completed", "properties": props,
                            "timestamp": ago(rng)}));
            match rng.below(5) {
                0 => out.push(json!({"type": "track", "userId": user, "event": "Order Cancelled",
                                     "properties": {"order_id": order_id}, "timestamp": now.to_rfc3339()})),
                1 => out.push(json!({"type": "track", "userId": user, "event": "Order Refunded",
                                     "properties": {"order_id": order_id, "total": "40.00", "currency": "CNY"},
                                     "timestamp": now.to_rfc3339()})),
                _ => {}
            }
        }
    }
    out
}

/// Two coupon templates (one ending in two days), codes issued to some
/// customers, and some of them used at checkouts.
async fn wallets(app: &TestApp, rng: &mut Rng, now: DateTime<Utc>) {
    for (id, ends) in [("spring", None), ("vip-gift", Some(now + Duration::days(2)))] {
        let spec = json!({"id": id, "name": id, "status": "active", "ends_at": ends,
            "reward": {"type": "amount_off", "amount": "5"}, "codes": {"pattern": "C-********", "per_profile": 3}});
        let (s, v) = app.send(axum::http::Method::POST, "/api/v1/promotions", ADMIN, spec).await;
        assert_eq!(s.as_u16(), 201, "{v}");
    }
    let mut used = 0;
    for u in 0..80 {
        if rng.one_in(2) {
            continue;
        }
        let user = format!("u{u:02}");
        let profile = app.profile(&format!("user_id:{user}")).await["id"].clone();
        let promotion = if rng.one_in(2) { "spring" } else { "vip-gift" };
        let path = format!("/api/v1/promotions/{promotion}/coupons");
        let mut v = Value::Null;
        for _ in 0..1 + rng.below(2) {
            let s;
            (s, v, _) = app.post_keyed(&path, None, json!({"profiles": [profile]})).await;
            assert_eq!((s.as_u16(), v["issued"].as_array().map(Vec::len)), (200, Some(1)), "{v}");
        }
        if rng.one_in(3) {
            let code = v["issued"][0]["code"].clone();
            let order = json!({"user_id": user, "coupons": [code], "lines": [{"product_id": "P1", "price": "99.90"}]});
            let (s, v, _) = app.post_keyed("/api/v1/orders", Some(&format!("use-{u}")), order).await;
            assert_eq!(s.as_u16(), 201, "{v}");
            used += 1;
        }
    }
    assert!(used > 3, "{used} codes used");
}

async fn agreement(app: &TestApp) {
    let now = Utc::now().duration_trunc(Duration::hours(1)).expect("hour");
    let v = vocabulary();
    let mut rng = Rng::new(0x16);
    // points for orders, vesting after a week and expiring a month after
    let program = json!({"earn": [{"on": "order", "per": "1.00", "points": 1}], "vesting_days": 7,
        "expiry_months": 1, "earn_from": ["any"]});
    let (s, body) = app.send(axum::http::Method::PUT, "/api/v1/loyalty/program", ADMIN, program).await;
    assert!(s.is_success(), "{body}");
    let products = json!({"products": [
        {"product_id": "P1", "name": "跑鞋", "category": ["鞋", "跑鞋"], "brand": "Nike", "price": "99.90"},
        {"product_id": "P2", "name": "绿茶", "category": ["茶", "绿茶"], "brand": "Li Ning", "price": "49.90"},
    ]});
    let (s, body) = app.send(axum::http::Method::POST, "/api/v1/products/bulk", ADMIN, products).await;
    assert!(s.is_success(), "{body}");
    for part in shop(&mut rng, &v, now).chunks(100) {
        let (s, body) = app.ingest_as(WRITE, "/v1/batch", &json!({ "batch": part }).to_string()).await;
        assert_eq!((s.as_u16(), body.get("rejected")), (200, None), "{body}");
    }
    app.settle().await;
    wallets(app, &mut rng, now).await;
    app.settle().await;

    let segments = app.store.segment_facts();
    let live = segments.live_profiles().await.expect("live");
    assert!(live.len() >= 80, "{} profiles", live.len());
    let ids: Vec<ProfileId> = live.iter().map(|s| s.parse().expect("id")).collect();
    let facts = segments.facts(&ids, &v.events).await.expect("facts");
    assert_eq!(facts.iter().map(|f| f.id.clone()).collect::<Vec<_>>(), live, "facts of every live profile");
    assert!(facts.iter().any(|f| f.traits.get("email").is_some_and(|e| e.as_str().is_some_and(|e| e.contains('@')))));
    // the lines carry the catalog's brands (both evaluators read them through the same lookup)
    let brands: std::collections::BTreeSet<&str> =
        facts.iter().flat_map(|f| &f.orders).flat_map(|o| &o.lines).filter_map(|l| l.brand.as_deref()).collect();
    assert_eq!(brands, ["Li Ning", "Nike"].into(), "brands of the lines bought");
    // wallets of every kind: usable, used; points usable, pending, expired
    let coupons: Vec<&beacon_segment::CouponFact> = facts.iter().flat_map(|f| &f.coupons).collect();
    assert!(coupons.iter().any(|c| c.available(now)) && coupons.iter().any(|c| c.spent), "{coupons:?}");
    let lots: Vec<&beacon_segment::PointsLot> = facts.iter().flat_map(|f| &f.points).collect();
    let vested = |l: &&&beacon_segment::PointsLot| l.vests_at <= now && l.expires_at.is_none_or(|e| now < e);
    assert!(lots.iter().any(|l| vested(&l)) && lots.iter().any(|l| l.vests_at > now), "{lots:?}");
    assert!(lots.iter().any(|l| l.expires_at.is_some_and(|e| e <= now)), "{lots:?}");
    // the embedded store's app holds the events in columns fed as batches
    // commit, and columns loaded from the store afresh answer the same
    let held = app.held_events().await;
    assert_eq!(held.is_some(), app.is_embedded(), "columns held on the embedded store only");
    let mut columns = Vec::from_iter(held);
    if app.is_embedded() {
        let loaded = std::sync::Arc::new(beacon_server::app::held::HeldEvents::new());
        loaded.load(app.store.as_ref()).await.expect("loaded");
        columns.push(loaded);
    }
    let (mut split, mut nobody) = (0, 0);
    for case in 0..300 {
        let c = random::condition(&mut rng, &v, 3);
        let mut answers = Answers::new();
        for scan in batch::scans(&c, now) {
            let rows = segments.scan(&scan).await.expect("scan");
            answers.insert(scan, rows);
        }
        let decided = batch::decide(&c, now, &live, &answers).expect("decided");
        for (f, &is_in) in facts.iter().zip(&decided) {
            assert_eq!(is_in, matches(&c, &f.facts(now)), "case {case}, profile {} ({:?}): {c}", f.id, f.traits);
        }
        for held in &columns {
            let in_columns = held
                .read(|columns| {
                    let mut answers = answers.clone();
                    for scan in batch::scans(&c, now) {
                        if let Some(rows) = columns.answer(&scan) {
                            answers.insert(scan, rows);
                        }
                    }
                    let flags = batch::decide_over(&c, now, columns, &answers).expect("decided");
                    let live = (0..columns.len()).filter(|&i| columns.is_live(i));
                    live.map(|i| (columns.id(i).to_string(), flags[i])).collect::<Vec<_>>()
                })
                .expect("loaded");
            let mut in_columns = in_columns;
            in_columns.sort();
            let by_store: Vec<(String, bool)> = live.iter().cloned().zip(decided.iter().copied()).collect();
            assert_eq!(in_columns, by_store, "case {case}: {c}");
        }
        let members = decided.iter().filter(|b| **b).count();
        split += usize::from(members > 0 && members < live.len());
        nobody += usize::from(members == 0);
    }
    assert!(split > 100 && nobody < 200, "{split} of 300 split the profiles, {nobody} selected nobody");
}

both_backends!(agreement);
