//! A profile's state as the processor writes it: in full, or, for a stored
//! profile whose traits a batch left alone (`BatchChanges::traits_kept`),
//! its counters only, or, for one it never read (`BatchChanges::bumps`),
//! events added to its counters, on both stores. A counters-only write or a
//! bump of a profile that is not stored (or merged away) fails the batch
//! rather than losing it.

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::ProfileId;
use beacon_store::*;
use common::Harness;
use fixtures::{state, t};
use serde_json::json;

fn pid() -> ProfileId {
    ProfileId(uuid::Uuid::now_v7())
}

async fn write(store: &SqlStore, changes: BatchChanges) -> Result<()> {
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&changes).await?;
    tx.commit().await
}

async fn counters_only_keep_the_stored_traits(h: &mut Harness) {
    let ann = pid();
    let mut s = state(ann, 1);
    s.traits = json!({"email": "ann@x.com", "tier": "gold"}).as_object().cloned().expect("object");
    s.trait_times.insert("tier".into(), t(1));
    s.event_count = 1;
    write(&h.store, BatchChanges { created: vec![s.clone()], states: vec![s.clone()], ..Default::default() })
        .await
        .expect("created");

    // a later batch that only counted: its copy of the traits is not written
    let mut later = s.clone();
    later.traits.clear();
    later.event_count = 5;
    later.last_seen = t(9);
    let kept = BatchChanges { states: vec![later.clone()], traits_kept: [ann].into(), ..Default::default() };
    write(&h.store, kept).await.expect("counted");
    let p = h.store.profiles().get_profile(ann).await.expect("read").expect("stored");
    assert_eq!((p.event_count, p.last_seen), (5, t(9)), "counters written");
    assert_eq!(p.traits.get("tier"), Some(&json!("gold")), "traits as stored: {:?}", p.traits);
    assert_eq!(p.traits.get("email"), Some(&json!("ann@x.com")));

    // without the mark the state is written whole
    write(&h.store, BatchChanges { states: vec![later], ..Default::default() }).await.expect("written");
    let p = h.store.profiles().get_profile(ann).await.expect("read").expect("stored");
    assert!(p.traits.is_empty(), "{:?}", p.traits);

    // counters of a profile the store does not hold: the batch fails whole
    let ghost = state(pid(), 2);
    let bad = BatchChanges { states: vec![ghost.clone()], traits_kept: [ghost.id].into(), ..Default::default() };
    match write(&h.store, bad).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a counters-only write of an unknown profile: {other:?}"),
    }
    assert!(h.store.profiles().get_profile(ghost.id).await.expect("read").is_none());
}

async fn bumps_add_to_what_is_stored(h: &mut Harness) {
    let (ann, bob) = (pid(), pid());
    let mut a = state(ann, 5);
    a.traits = json!({"tier": "gold"}).as_object().cloned().expect("object");
    a.event_count = 4;
    a.last_seen = t(7);
    let b = state(bob, 5);
    let both = vec![a.clone(), b.clone()];
    write(&h.store, BatchChanges { created: both.clone(), states: both, ..Default::default() }).await.expect("created");

    // two batches count events without reading: the counts add up, the
    // first and last sightings widen only
    let bump = |id, events, first, last| Bump { id, events, first_seen: t(first), last_seen: t(last) };
    write(&h.store, BatchChanges { bumps: vec![bump(ann, 3, 6, 6), bump(bob, 2, 2, 3)], ..Default::default() })
        .await
        .expect("bumped");
    write(&h.store, BatchChanges { bumps: vec![bump(ann, 2, 8, 9)], ..Default::default() }).await.expect("again");
    let p = h.store.profiles().get_profile(ann).await.expect("read").expect("stored");
    assert_eq!((p.event_count, p.first_seen, p.last_seen), (4 + 3 + 2, t(5), t(9)));
    assert_eq!(p.traits.get("tier"), Some(&json!("gold")), "traits untouched");
    let p = h.store.profiles().get_profile(bob).await.expect("read").expect("stored");
    assert_eq!((p.event_count, p.first_seen, p.last_seen), (b.event_count + 2, t(2), t(5)));

    // a bump of a profile not stored fails the whole batch: ann's is not kept
    let bad = BatchChanges { bumps: vec![bump(ann, 1, 9, 9), bump(pid(), 1, 9, 9)], ..Default::default() };
    match write(&h.store, bad).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a bump of an unknown profile: {other:?}"),
    }
    let p = h.store.profiles().get_profile(ann).await.expect("read").expect("stored");
    assert_eq!(p.event_count, 9, "nothing of the failed batch stored");

    // nor is a profile merged away bumped: its events belong to the survivor
    let merge = fixtures::alias_merge(bob, ann, t(10), "b");
    write(&h.store, BatchChanges { merges: vec![merge], ..Default::default() }).await.expect("merged");
    match write(&h.store, BatchChanges { bumps: vec![bump(bob, 1, 9, 9)], ..Default::default() }).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("a bump of a merged profile: {other:?}"),
    }
}

/// Counters kept in `profiles` (before migration `counters_version`) move
/// to `profile_counters` at open: live profiles keep their counts, and a
/// merged one gets none (a bump of it fails the batch).
async fn counters_in_profiles_move_to_their_table(h: &mut Harness, counters_version: u32) {
    let (ann, bob) = (pid(), pid());
    let mut s = state(ann, 2);
    s.event_count = 7;
    write(&h.store, BatchChanges { created: vec![s.clone(), state(bob, 1)], states: vec![s], ..Default::default() })
        .await
        .expect("created");
    // the layout before: counters in `profiles`, written there by hand
    let old = [
        "ALTER TABLE profiles ADD COLUMN first_seen BIGINT NOT NULL DEFAULT 0".to_string(),
        "ALTER TABLE profiles ADD COLUMN last_seen BIGINT NOT NULL DEFAULT 0".into(),
        "ALTER TABLE profiles ADD COLUMN event_count BIGINT NOT NULL DEFAULT 0".into(),
        "UPDATE profiles SET first_seen = COALESCE((SELECT first_seen FROM profile_counters c WHERE c.id = profiles.id), 0), \
         last_seen = COALESCE((SELECT last_seen FROM profile_counters c WHERE c.id = profiles.id), 0), \
         event_count = COALESCE((SELECT event_count FROM profile_counters c WHERE c.id = profiles.id), 0)"
            .into(),
        format!("UPDATE profiles SET merged_into = '{ann}' WHERE id = '{bob}'"),
        "DROP TABLE profile_counters".into(),
        format!("DELETE FROM _sqlx_migrations WHERE version = {counters_version}"),
    ];
    h.raw.exec_state(&old.iter().map(String::as_str).collect::<Vec<_>>()).await;
    h.reopen().await;
    let p = h.store.profiles().get_profile(ann).await.expect("get").expect("stored");
    assert_eq!((p.event_count, p.first_seen, p.last_seen), (7, t(2), t(2)));
    let bump = Bump { id: bob, events: 1, first_seen: t(3), last_seen: t(3) };
    let gone = write(&h.store, BatchChanges { bumps: vec![bump], ..Default::default() }).await;
    assert!(matches!(gone, Err(StoreError::Conflict(_))), "{gone:?}");
}

#[tokio::test]
async fn embedded() {
    let mut h = Harness::embedded().await;
    counters_only_keep_the_stored_traits(&mut h).await;
    bumps_add_to_what_is_stored(&mut h).await;
    counters_in_profiles_move_to_their_table(&mut h, 19).await;
    h.cleanup().await;
}

#[tokio::test]
async fn postgres() {
    let mut h = Harness::postgres().await;
    counters_only_keep_the_stored_traits(&mut h).await;
    bumps_add_to_what_is_stored(&mut h).await;
    counters_in_profiles_move_to_their_table(&mut h, 14).await;
    h.cleanup().await;
}
