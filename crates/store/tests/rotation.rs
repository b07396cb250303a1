//! Rotating the data key at the store: values sealed under the old key and
//! under the new one all open, everything moves to the new key, and
//! identities of a kind made personal after they were stored in the clear
//! are encrypted on the way; lookups stay as they were. Both stores.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::{Identity, NormalizeOptions, ProfileId};
use beacon_store::*;
use common::Harness;
use fixtures::state;

fn id(pair: &str) -> Identity {
    Identity::parse_pair(pair, &NormalizeOptions::default()).expect("valid identity")
}

async fn person(store: &SqlStore, pairs: &[&str]) -> ProfileId {
    let p = ProfileId(uuid::Uuid::now_v7());
    let mut s = state(p, 1);
    s.traits.insert("email".into(), serde_json::json!(format!("{p}@example.org")));
    let mut tx = store.begin_processing("main").await.expect("begin");
    let links = pairs.iter().map(|pair| fixtures::link(p, id(pair), 1)).collect();
    let changes = BatchChanges { created: vec![s.clone()], states: vec![s], links, ..Default::default() };
    tx.apply(&changes).await.expect("apply");
    tx.commit().await.expect("commit");
    p
}

async fn holder(store: &SqlStore, pair: &str) -> Vec<ProfileId> {
    let mut r = store.process_reader().await.expect("reader");
    r.holders(&[id(pair)]).await.expect("holders").into_iter().map(|(_, p)| p).collect()
}

async fn everything_moves_to_the_new_key(mut h: Harness) -> Harness {
    // openid not yet personal: stored in the clear
    let only_email = h.store.pii().clone().with_keys(PiiKeys::new(&["email", "phone"]).expect("keys"));
    h.reopen_with(only_email).await;
    let ann = person(&h.store, &["openid:o-ann-1", "email:ann@example.org"]).await;
    assert!(h.raw.dump_identities().await.contains("o-ann-1"), "in the clear as configured then");
    h.reopen_with(h.store.pii().clone().with_keys(PiiKeys::defaults())).await;
    let bob = person(&h.store, &["openid:o-bob-2"]).await;
    assert_eq!(h.store.data_key_usage().await.expect("usage").keys().copied().collect::<Vec<_>>(), [0]);

    let key = h.store.add_data_key().await.expect("a key");
    h.store.use_data_key(key).await.expect("use it");
    let cat = person(&h.store, &["email:cat@example.org"]).await;
    let usage = h.store.data_key_usage().await.expect("usage");
    assert!(usage[&0] > 0 && usage[&key] > 0, "both keys in use: {usage:?}");
    let moved = h.store.reseal_all().await.expect("reseal");
    assert!(moved["identities"] >= 2 && moved["profiles"] >= 2, "{moved:?}");
    let usage = h.store.data_key_usage().await.expect("usage");
    assert_eq!(usage.keys().copied().collect::<Vec<_>>(), [key], "only the new key: {usage:?}");
    let dump = h.raw.dump_identities().await;
    assert!(!dump.contains("o-ann-1") && !dump.contains("o-bob-2"), "encrypted on the way: {dump}");

    // read back after a restart: keys from the database, lookups unchanged
    h.reopen().await;
    for (pair, p) in [("openid:o-ann-1", ann), ("openid:o-bob-2", bob), ("email:cat@example.org", cat)] {
        assert_eq!(holder(&h.store, pair).await, [p], "{pair}");
    }
    let got = h.store.profiles().get_profile(ann).await.expect("get").expect("ann");
    assert_eq!(got.traits["email"], format!("{ann}@example.org"));
    assert!(got.identities.contains(&id("openid:o-ann-1")));
    h
}

#[tokio::test]
async fn embedded() {
    everything_moves_to_the_new_key(Harness::embedded().await).await;
}

#[tokio::test]
async fn postgres() {
    everything_moves_to_the_new_key(Harness::postgres().await).await.cleanup().await;
}
