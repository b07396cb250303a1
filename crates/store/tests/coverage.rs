//! Store reads that the other suites reach only through the server: the
//! export and follower reads of processed events, the processor's offset,
//! identity keys, liveness, the catalog stamp, bulk product lookups and the
//! key list — on both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::access::Role;
use beacon_core::message::MessageKind;
use beacon_core::{Identity, NormalizeOptions, ProfileId};
use beacon_store::*;
use common::Harness;
use fixtures::{record, state, t};

fn pid() -> ProfileId {
    ProfileId(uuid::Uuid::now_v7())
}

/// The processed form of a log record.
fn event(rec: &LogRecord, profile: ProfileId, kind: MessageKind, name: &str) -> NewEvent {
    NewEvent {
        seq: rec.seq,
        profile_id: profile,
        source_id: rec.record.source_id.clone(),
        message_id: rec.record.message_id.clone(),
        kind,
        name: Some(name.into()),
        product: (name == "Product Viewed").then(|| "tea-1".to_string()),
        props: None,
        timestamp: rec.record.timestamp,
        received_at: rec.record.received_at,
        payload: rec.record.payload.clone(),
    }
}

/// Who signed up and what else happened, processed in two batches; the
/// log's last record is not processed yet.
struct Processed {
    ann: ProfileId,
    bob: ProfileId,
    cat: ProfileId,
    /// Events of records 0..6, in log order.
    events: Vec<NewEvent>,
    /// The log's unprocessed record.
    pending: i64,
}

async fn processed(store: &SqlStore) -> Processed {
    let log = store.event_log();
    log.append(&(0..7).map(|n| record(n, format!(r#"{{"n":{n}}}"#))).collect::<Vec<_>>()).await.expect("append");
    log.sync().await.expect("sync");
    let recs = log.read(0, 100).await.expect("read");
    let (ann, bob, cat) = (pid(), pid(), pid());
    let (track, page) = (MessageKind::Track, MessageKind::Page);
    let events = vec![
        event(&recs[0], ann, track, "Signed Up"),
        event(&recs[1], ann, track, "Product Viewed"),
        // a page named like the event is not a signup
        event(&recs[2], bob, page, "Signed Up"),
        event(&recs[3], bob, track, "Signed Up"),
        event(&recs[4], ann, track, "Order Completed"),
        event(&recs[5], cat, track, "Signed Up"),
    ];
    let batches = [
        BatchChanges {
            created: vec![state(ann, 0), state(bob, 0), state(cat, 0)],
            events: events[..3].iter().map(Into::into).collect(),
            ..Default::default()
        },
        BatchChanges { events: events[3..].iter().map(Into::into).collect(), ..Default::default() },
    ];
    for (batch, last) in batches.iter().zip([recs[2].seq, recs[5].seq]) {
        let mut tx = store.begin_processing("main").await.expect("begin");
        tx.offset().await.expect("offset");
        tx.apply(batch).await.expect("apply");
        tx.set_offset(last).await.expect("set offset");
        tx.commit().await.expect("commit");
    }
    Processed { ann, bob, cat, events, pending: recs[6].seq }
}

fn seqs(events: &[NewEvent]) -> Vec<i64> {
    events.iter().map(|e| e.seq).collect()
}

async fn events_after_reads_processed_events_in_log_order(h: &mut Harness) {
    let store = &h.store;
    let p = processed(store).await;
    let all = store.profiles().events_after(0, 100).await.expect("all");
    assert_eq!(all, p.events, "every processed event, its body from the log; the pending record is not one");
    assert!(!seqs(&all).contains(&p.pending));
    let s = seqs(&p.events);
    let page = store.profiles().events_after(s[1], 2).await.expect("page");
    assert_eq!(page, p.events[2..4], "after seq, at most the limit");
    let rest = store.profiles().events_after(s[3], 100).await.expect("rest");
    assert_eq!(seqs(&rest), s[4..]);
    assert!(store.profiles().events_after(s[5], 100).await.expect("end").is_empty());
}

async fn signups_after_lists_signed_up_tracks_after_a_seq(h: &mut Harness) {
    let p = processed(&h.store).await;
    let promos = h.store.promotions();
    let s = seqs(&p.events);
    let (ann, bob, cat) = (p.ann.to_string(), p.bob.to_string(), p.cat.to_string());
    assert_eq!(promos.signups_after(0, 10).await.expect("all"), [(s[0], ann), (s[3], bob.clone()), (s[5], cat)]);
    assert_eq!(promos.signups_after(s[0], 1).await.expect("one"), [(s[3], bob)], "after seq, at most the limit");
    assert!(promos.signups_after(s[5], 10).await.expect("none").is_empty(), "the pending record is not processed");
}

async fn named_events_after_filters_by_name_seq_and_limit(h: &mut Harness) {
    let p = processed(&h.store).await;
    let loyalty = h.store.loyalty();
    let names = |ns: &[&str]| ns.iter().map(|n| n.to_string()).collect::<Vec<_>>();
    let s = seqs(&p.events);
    let both = names(&["Signed Up", "Order Completed"]);
    let got = loyalty.named_events_after(&both, 0, 10).await.expect("named");
    assert_eq!(got, [p.events[0].clone(), p.events[3].clone(), p.events[4].clone(), p.events[5].clone()]);
    let got = loyalty.named_events_after(&both, s[3], 1).await.expect("after");
    assert_eq!(got, [p.events[4].clone()], "after seq, at most the limit");
    let viewed = loyalty.named_events_after(&names(&["Product Viewed"]), 0, 10).await.expect("viewed");
    assert_eq!(viewed, [p.events[1].clone()]);
    assert!(loyalty.named_events_after(&names(&["Nope"]), 0, 10).await.expect("unknown").is_empty());
    assert!(loyalty.named_events_after(&[], 0, 10).await.expect("no names").is_empty());
}

async fn processed_offset_moves_only_when_a_processor_commits(h: &mut Harness) {
    let store = &h.store;
    assert_eq!(store.processed_offset("main").await.expect("offset"), 0, "before it starts");
    let mut tx = store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.offset().await.expect("offset"), 0);
    tx.set_offset(7).await.expect("set");
    assert_eq!(store.processed_offset("main").await.expect("offset"), 0, "not before the commit");
    tx.commit().await.expect("commit");
    assert_eq!(store.processed_offset("main").await.expect("offset"), 7);
    let mut tx = store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.offset().await.expect("offset"), 7);
    tx.set_offset(9).await.expect("set");
    drop(tx); // rolled back
    assert_eq!(store.processed_offset("main").await.expect("offset"), 7, "a rolled-back batch moves nothing");
    assert_eq!(store.processed_offset("other").await.expect("offset"), 0, "offsets are per processor");
    let mut tx = store.begin_processing("other").await.expect("begin");
    tx.offset().await.expect("offset");
    tx.set_offset(3).await.expect("set");
    tx.commit().await.expect("commit");
    assert_eq!(store.processed_offset("other").await.expect("offset"), 3);
    assert_eq!(store.processed_offset("main").await.expect("offset"), 7);
    // a transaction that never read its offset still records the one it sets
    let mut tx = store.begin_processing("fresh").await.expect("begin");
    tx.set_offset(12).await.expect("set");
    tx.commit().await.expect("commit");
    assert_eq!(store.processed_offset("fresh").await.expect("offset"), 12);
    h.reopen().await;
    assert_eq!(h.store.processed_offset("main").await.expect("offset"), 7, "durable across a restart");
}

fn id(pair: &str) -> Identity {
    Identity::parse_pair(pair, &NormalizeOptions::default()).expect("valid identity")
}

async fn identity_keys_hide_personal_data_and_are_stable(h: &mut Harness) {
    let pairs = ["email:Ann@X.com", "email:bob@x.com", "phone:13800138000", "phone:13900139000", "user_id:u1"];
    let keys: Vec<String> = pairs.iter().map(|p| h.store.identity_key(&id(p))).collect();
    for (key, secret) in keys.iter().zip(["ann@x.com", "bob@x.com", "13800138000", "13900139000"]) {
        assert!(!key.to_lowercase().contains(secret) && !key.contains('@'), "{key} shows {secret}");
    }
    assert!(keys[0].starts_with("email") && keys[2].starts_with("phone"), "{keys:?}");
    let distinct: std::collections::HashSet<&String> = keys.iter().collect();
    assert_eq!(distinct.len(), keys.len(), "different identities, different keys: {keys:?}");
    // the same identity however it was written
    assert_eq!(h.store.identity_key(&id("email:ann@x.com")), keys[0]);
    assert_eq!(h.store.identity_key(&id("phone:+86 138 0013 8000")), keys[2]);
    // not personal: readable
    assert!(keys[4].contains("u1"), "{}", keys[4]);
    // the same across nodes and restarts (counters are keyed by it)
    let other = h.another().await;
    assert_eq!(pairs.iter().map(|p| other.identity_key(&id(p))).collect::<Vec<_>>(), keys);
    other.close().await;
    h.reopen().await;
    assert_eq!(pairs.iter().map(|p| h.store.identity_key(&id(p))).collect::<Vec<_>>(), keys);
}

async fn ping_answers_until_the_store_is_closed(h: &mut Harness) {
    h.store.ping().await.expect("a live store answers");
    h.store.ping().await.expect("and again");
    h.store.close().await;
    let closed = h.store.ping().await;
    assert!(matches!(closed, Err(StoreError::Unavailable(_))), "{closed:?}");
}

fn product(id: &str, sku: Option<&str>, price: &str) -> Product {
    let v = serde_json::json!({"product_id": id, "sku": sku, "name": format!("商品 {id}"), "price": price, "stock": 3});
    beacon_core::catalog::parse_product(v.as_object().expect("object"), beacon_core::Currency::CNY).expect("valid")
}

async fn the_catalog_stamp_changes_with_every_catalog_change_only(h: &mut Harness) {
    let c = h.store.catalog();
    let stamp = || async { c.catalog_stamp().await.expect("stamp") };
    let s0 = stamp().await;
    assert_eq!(stamp().await, s0, "reading changes nothing");
    let (tea, cup) = (product("tea-1", Some("T1"), "298.00"), product("cup-1", Some("C1"), "59.00"));
    c.save_products(&[tea.clone(), cup.clone()], "key_1", t(1)).await.expect("save");
    let s1 = stamp().await;
    assert_ne!(s1, s0, "created");
    let saved = c.save_products(&[tea.clone(), cup.clone()], "key_1", t(2)).await.expect("save");
    assert_eq!(saved, [Saved::Unchanged, Saved::Unchanged]);
    assert_eq!(stamp().await, s1, "nothing changed");
    let saved = c.save_products(&[product("tea-9", Some("T1"), "1.00")], "key_1", t(2)).await.expect("save");
    assert_eq!(saved, [Saved::SkuTaken("tea-1".into())]);
    assert_eq!(stamp().await, s1, "refused, so nothing changed");
    c.get_products(&["tea-1".into()]).await.expect("get");
    c.list_products(&ProductQuery { page: PageRequest { after: None, limit: 10 }, ..Default::default() })
        .await
        .expect("list");
    assert_eq!(stamp().await, s1, "reads change nothing");
    let dearer = product("tea-1", Some("T1"), "318.00");
    assert_eq!(c.save_products(&[dearer], "key_1", t(3)).await.expect("save"), [Saved::Updated]);
    let s2 = stamp().await;
    assert!(s2 != s1 && s2 != s0, "updated");
    assert!(!c.delete_product("nope", "key_1", t(4)).await.expect("delete"));
    assert_eq!(stamp().await, s2, "nothing to delete");
    assert!(c.delete_product("cup-1", "key_1", t(4)).await.expect("delete"));
    let s3 = stamp().await;
    assert!(![s0.as_str(), s1.as_str(), s2.as_str()].contains(&s3.as_str()), "deleted");
    // another node's cache sees the same stamp
    let other = h.another().await;
    assert_eq!(other.catalog().catalog_stamp().await.expect("stamp"), s3);
    other.close().await;
}

async fn get_products_finds_by_id_or_sku_and_skips_unknown_ones(h: &mut Harness) {
    let c = h.store.catalog();
    let (tea, cup, pot) = (
        product("tea-1", Some("T1"), "298.00"),
        product("cup-1", Some("C1"), "59.00"),
        product("pot-1", None, "88.00"),
    );
    c.save_products(&[tea, cup, pot], "key_1", t(1)).await.expect("save");
    let get = |keys: &[&str]| {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        async move {
            let mut found = c.get_products(&keys).await.expect("get products");
            found.sort_by(|a, b| a.product.product_id.cmp(&b.product.product_id));
            found
        }
    };
    let one = |id: &'static str| async move { c.get_product(id).await.expect("get").expect("saved") };
    let found = get(&["tea-1", "C1", "pot-1", "nope", "T9"]).await;
    assert_eq!(found, [one("cup-1").await, one("pot-1").await, one("tea-1").await]);
    assert_eq!(found[2].product.price.minor, 29_800);
    assert_eq!(get(&["tea-1", "T1"]).await, [one("tea-1").await], "named twice, found once");
    assert!(get(&["nope", "X1"]).await.is_empty());
    // more keys than one query takes, the id in the first part and the SKU in the last
    let mut many: Vec<String> = (0..299).map(|i| format!("none-{i}")).collect();
    many.insert(0, "tea-1".into());
    many.push("T1".into());
    assert_eq!(c.get_products(&many).await.expect("many").len(), 1, "found once across parts");
    assert!(get(&[]).await.is_empty());
    // a SKU that moved finds the product under its new SKU only
    let renamed = product("tea-1", Some("T2"), "298.00");
    assert_eq!(c.save_products(&[renamed], "key_1", t(2)).await.expect("save"), [Saved::Updated]);
    assert!(get(&["T1"]).await.is_empty());
    assert_eq!(get(&["T2"]).await.iter().map(|p| p.product.product_id.as_str()).collect::<Vec<_>>(), ["tea-1"]);
}

fn key(id: &str, kind: KeyKind, created: u32, hash: u8) -> ApiKey {
    ApiKey {
        id: id.into(),
        name: format!("key {id}"),
        kind,
        hash: vec![hash; 32],
        prefix: format!("bk_{id}"),
        created_at: t(created),
        revoked_at: None,
    }
}

async fn list_keys_lists_every_key_revoked_ones_too(h: &mut Harness) {
    let k = h.store.keys();
    assert!(k.list_keys().await.expect("list").is_empty());
    let b = key("key_b", KeyKind::Write(beacon_core::trust::Source::Server), 2, 1);
    let a = key("key_a", KeyKind::Secret(Role::Admin), 2, 2);
    let c = key("key_c", KeyKind::Secret(Role::Viewer), 1, 3);
    for key in [&b, &a, &c] {
        k.insert_key(key, "admin").await.expect("insert");
    }
    assert_eq!(k.list_keys().await.expect("list"), [c.clone(), a.clone(), b.clone()], "oldest first, ties by id");
    k.revoke_key("key_c", t(5), "admin").await.expect("revoke");
    let revoked = ApiKey { revoked_at: Some(t(5)), ..c };
    assert_eq!(k.list_keys().await.expect("list"), [revoked.clone(), a.clone(), b], "a revoked key is still listed");
    assert_eq!(k.revoke_key("key_c", t(6), "admin").await.expect("again"), revoked, "revoking twice changes nothing");
    let last = k.revoke_key("key_a", t(7), "admin").await;
    assert!(matches!(last, Err(StoreError::Conflict(_))), "the last admin key stays: {last:?}");
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(#[tokio::test] async fn $name() {
                let mut h = super::Harness::embedded().await;
                super::$name(&mut h).await;
                h.cleanup().await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let mut h = super::Harness::postgres().await;
                super::$name(&mut h).await;
                h.cleanup().await;
            })*
        }
    };
}

on_both!(
    events_after_reads_processed_events_in_log_order,
    signups_after_lists_signed_up_tracks_after_a_seq,
    named_events_after_filters_by_name_seq_and_limit,
    processed_offset_moves_only_when_a_processor_commits,
    identity_keys_hide_personal_data_and_are_stable,
    ping_answers_until_the_store_is_closed,
    the_catalog_stamp_changes_with_every_catalog_change_only,
    get_products_finds_by_id_or_sku_and_skips_unknown_ones,
    list_keys_lists_every_key_revoked_ones_too,
);

/// On PostgreSQL a catalog write locks its products and SKUs, not the
/// catalog: another product is saved while one is held, the held one waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_catalog_writes_lock_only_their_products() {
    use std::time::Duration;
    let h = Harness::postgres().await;
    let holder = h.raw.hold_lock("product:tea-1").await;
    let cups = [product("cup-1", Some("C1"), "59.00")];
    let cup = h.store.catalog().save_products(&cups, "key_1", t(1));
    let saved = tokio::time::timeout(Duration::from_secs(30), cup).await.expect("not held up").expect("save");
    assert_eq!(saved, [Saved::Created]);
    let node = std::sync::Arc::new(h.another().await);
    let tea = {
        let node = node.clone();
        tokio::spawn(async move {
            node.catalog().save_products(&[product("tea-1", Some("T1"), "298.00")], "key_1", t(2)).await
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!tea.is_finished(), "tea-1 waits for its holder");
    holder.rollback().await.expect("release");
    let saved = tokio::time::timeout(Duration::from_secs(30), tea).await.expect("done").expect("task").expect("save");
    assert_eq!(saved, [Saved::Created]);
    if let Ok(node) = std::sync::Arc::try_unwrap(node) {
        node.close().await;
    }
    h.cleanup().await;
}
