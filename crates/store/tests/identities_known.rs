//! Who holds an identity, as the processor asks it (`holders`), right after
//! each commit: on the embedded store the answer goes through its index of
//! identities in memory (`identity_index.rs`), which must learn every
//! committed link (and no rolled-back one, even when the rolled-back row's
//! id is given again) and read itself back after a restart. The same
//! questions on PostgreSQL, which asks the table. And a link written again
//! keeps one row, first seen at its earliest sight.

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

fn pid() -> ProfileId {
    ProfileId(uuid::Uuid::now_v7())
}

async fn link(store: &SqlStore, p: ProfileId, pair: &str, commit: bool) {
    let mut tx = store.begin_processing("main").await.expect("begin");
    let s = state(p, 1);
    let changes = BatchChanges {
        created: vec![s.clone()],
        states: vec![s],
        links: vec![fixtures::link(p, id(pair), 1)],
        ..Default::default()
    };
    tx.apply(&changes).await.expect("apply");
    // the transaction finds its own link (and the index must not keep it if rolled back)
    assert_eq!(tx.holders(&[id(pair)]).await.expect("holders"), [(id(pair), p)]);
    if commit {
        tx.commit().await.expect("commit");
    }
}

async fn holders(store: &SqlStore, pairs: &[&str]) -> Vec<(Identity, ProfileId)> {
    let mut r = store.process_reader().await.expect("reader");
    let mut found = r.holders(&pairs.iter().map(|p| id(p)).collect::<Vec<_>>()).await.expect("holders");
    found.sort();
    found
}

async fn every_committed_link_is_found_at_once(h: &mut Harness) {
    let (ann, bob, cat) = (pid(), pid(), pid());
    assert!(holders(&h.store, &["user_id:ann", "email:ann@x.com"]).await.is_empty(), "nobody yet");
    link(&h.store, ann, "user_id:ann", true).await;
    assert_eq!(holders(&h.store, &["user_id:ann", "user_id:bob"]).await, [(id("user_id:ann"), ann)]);
    // inside the next transaction too
    let mut tx = h.store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.holders(&[id("user_id:ann")]).await.expect("holders"), [(id("user_id:ann"), ann)]);
    drop(tx);
    link(&h.store, bob, "email:bob@x.com", false).await; // rolled back
    assert!(holders(&h.store, &["email:bob@x.com"]).await.is_empty(), "a rolled-back link is held by nobody");
    link(&h.store, cat, "email:bob@x.com", true).await;
    assert_eq!(holders(&h.store, &["email:bob@x.com"]).await, [(id("email:bob@x.com"), cat)]);
    h.reopen().await;
    let mut both = holders(&h.store, &["user_id:ann", "email:bob@x.com", "user_id:nobody"]).await;
    both.sort();
    let mut want = vec![(id("user_id:ann"), ann), (id("email:bob@x.com"), cat)];
    want.sort();
    assert_eq!(both, want, "read back after a restart");
}

async fn relink(store: &SqlStore, p: ProfileId, pair: &str, min: u32) {
    let mut tx = store.begin_processing("main").await.expect("begin");
    // (created or not: the profile is written whole either way)
    let changes = BatchChanges {
        created: vec![state(p, 1)],
        states: vec![state(p, 1)],
        links: vec![fixtures::link(p, id(pair), min)],
        ..Default::default()
    };
    tx.apply(&changes).await.expect("apply");
    tx.commit().await.expect("commit");
}

async fn kinds(store: &SqlStore, p: ProfileId) -> Vec<String> {
    let profile = store.profiles().get_profile(p).await.expect("read").expect("stored");
    profile.identities.iter().map(|i| i.kind.to_string()).collect()
}

/// A profile's identities are listed by first sight: a link written again
/// earlier moves its identity ahead, a later one changes nothing, and
/// neither adds a row.
async fn a_link_written_again_keeps_its_earliest_sight(h: &mut Harness) {
    let ann = pid();
    relink(&h.store, ann, "user_id:dan", 5).await;
    relink(&h.store, ann, "email:dan@x.com", 4).await;
    assert_eq!(kinds(&h.store, ann).await, ["email", "user_id"]);
    relink(&h.store, ann, "user_id:dan", 3).await;
    assert_eq!(kinds(&h.store, ann).await, ["user_id", "email"], "seen earlier: first");
    relink(&h.store, ann, "user_id:dan", 9).await;
    relink(&h.store, ann, "email:dan@x.com", 2).await;
    assert_eq!(kinds(&h.store, ann).await, ["email", "user_id"], "a later sight changes nothing, an earlier one does");
    h.reopen().await;
    assert_eq!(holders(&h.store, &["user_id:dan", "email:dan@x.com"]).await.len(), 2, "one row each");
    assert_eq!(h.store.profiles().find_profiles(&id("email:dan@x.com")).await.expect("find").len(), 1);
}

#[tokio::test]
async fn embedded() {
    let mut h = Harness::embedded().await;
    every_committed_link_is_found_at_once(&mut h).await;
    a_link_written_again_keeps_its_earliest_sight(&mut h).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres() {
    let mut h = Harness::postgres().await;
    every_committed_link_is_found_at_once(&mut h).await;
    a_link_written_again_keeps_its_earliest_sight(&mut h).await;
    h.cleanup().await;
}

/// Those records live in the memory of the process that processes, so a
/// second process may not process the same data directory (one that only
/// reads and administers may open it).
#[tokio::test]
async fn a_second_process_may_not_process_an_embedded_store() {
    let mut h = Harness::embedded().await;
    link(&h.store, pid(), "user_id:ann", true).await;
    let other = h.another().await;
    match other.begin_processing("main").await.map(|_| ()) {
        Err(StoreError::Unavailable(e)) => assert!(e.contains("processor.lock"), "{e}"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(()) => panic!("a second processor was let in"),
    }
    assert!(other.process_reader().await.is_err(), "nor read as one");
    assert!(other.profiles().get_profile(pid()).await.is_ok(), "it reads as an admin would");
    other.close().await;
    // once the first closes, another may take over
    h.reopen().await;
    assert_eq!(holders(&h.store, &["user_id:ann"]).await.len(), 1);
    h.cleanup().await;
}
