//! One conformance suite, run against the embedded store and PostgreSQL.
//!
//! PostgreSQL comes from `BEACON_TEST_DATABASE_URL` (default: the local
//! server at 127.0.0.1:5432, database `test`); each test gets its own schema.
//! (Keys, audit and the catalog: `admin_records.rs`.)

#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod fixtures;

use beacon_core::message::MessageKind;
use beacon_core::resolve::MergeReason;
use beacon_core::{Identity, NormalizeOptions, ProfileId};
use beacon_store::*;
use common::Harness;
use fixtures::{link, log_record, state, t};

fn pid() -> ProfileId {
    ProfileId(uuid::Uuid::now_v7())
}

fn id(pair: &str) -> Identity {
    Identity::parse_pair(pair, &NormalizeOptions::default()).expect("valid identity")
}

fn event(seq: i64, profile: ProfileId, min: u32) -> NewEvent {
    NewEvent {
        seq,
        profile_id: profile,
        source_id: "src".into(),
        message_id: format!("m{seq}"),
        kind: MessageKind::Track,
        name: Some("Product Viewed".into()),
        product: Some("tea-1".into()),
        props: None,
        timestamp: t(min),
        received_at: t(min),
        payload: "{}".into(),
    }
}

async fn the_log_returns_appended_records_in_order(store: &SqlStore) {
    let log = store.event_log();
    assert_eq!(log.head().await.ok(), Some(0));
    let batch: Vec<_> = (0..300).map(log_record).collect();
    log.append(&batch).await.expect("append");
    log.append(&[log_record(300)]).await.expect("append one");
    log.append(&[log_record(301), log_record(302)]).await.expect("append two");
    log.sync().await.expect("sync");
    let all = log.read(0, 10_000).await.expect("read");
    assert_eq!(all.iter().map(|r| r.record.clone()).collect::<Vec<_>>(), (0..303).map(log_record).collect::<Vec<_>>());
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq), "sequence numbers increase");
    assert_eq!(log.head().await.ok(), all.last().map(|r| r.seq));
    // a read never splits a group commit, and resumes after any record
    assert_eq!(log.read(0, 10).await.expect("read").len(), 300);
    let after = all[299].seq;
    let rest = log.read(after, 1).await.expect("read rest");
    assert_eq!(rest.iter().map(|r| r.record.message_id.as_str()).collect::<Vec<_>>(), ["m300"]);
    let tail = log.read(all[300].seq, 100).await.expect("read tail");
    assert_eq!(tail.len(), 2);
    assert!(log.read(all[302].seq, 100).await.expect("read end").is_empty());
}

/// A loaded state with its traits opened.
fn opened(store: &SqlStore, s: &ProfileState) -> ProfileState {
    let mut s = s.clone();
    store.open_traits(&mut s).expect("open");
    s
}

fn created(states: Vec<ProfileState>) -> BatchChanges {
    BatchChanges { created: states.clone(), states, ..Default::default() }
}

fn links(p: ProfileId, pairs: &[&str], min: u32) -> Vec<Link> {
    pairs.iter().map(|pair| link(p, id(pair), min)).collect()
}

async fn personal_data_in_payloads_is_sealed_at_rest(store: &SqlStore, raw_sql: &common::RawSql) {
    let mut rec = log_record(1);
    rec.payload =
        r#"{"type":"identify","userId":"u","traits":{"email":"secret@x.com","phone":"+8613912345678"}}"#.into();
    store.event_log().append(std::slice::from_ref(&rec)).await.expect("append");
    store.event_log().sync().await.expect("sync");
    let back = store.event_log().read(0, 10).await.expect("read");
    assert_eq!(back[0].record.payload, rec.payload, "the processor reads it as sent");
    let p = pid();
    let mut e = event(back[0].seq, p, 1);
    e.payload = rec.payload.clone();
    let mut s = state(p, 1);
    s.traits.insert("email".into(), serde_json::json!("secret@x.com"));
    s.traits.insert("contact".into(), serde_json::json!({"phone": "+8613912345678"}));
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&BatchChanges { events: vec![(&e).into()], ..created(vec![s.clone()]) }).await.expect("apply");
    let mut back = tx.load(&[p]).await.expect("load").remove(0).0;
    let sealed = back.sealed_traits.clone().expect("read sealed, opened when needed");
    assert!(!sealed.traits.contains("secret@x.com"), "{sealed:?}");
    store.open_traits(&mut back).expect("open");
    assert_eq!((back.traits, back.sealed_traits), (s.traits.clone(), None), "traits opened in the clear");
    tx.commit().await.expect("commit");
    assert_eq!(store.profiles().get_profile(p).await.expect("get").map(|x| x.traits), Some(s.traits));
    let q = pid();
    let shared = MergeReason::SharedIdentity { identity: id("email:secret@x.com") };
    let merge = MergeChange { from: q, into: p, at: t(2), reason: shared.clone(), message_id: "m-x".into() };
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&BatchChanges { merges: vec![merge], ..created(vec![state(q, 2)]) }).await.expect("merge");
    tx.commit().await.expect("commit");
    assert_eq!(store.profiles().get_profile(p).await.expect("get").map(|x| x.merges[0].reason.clone()), Some(shared));
    let raw = raw_sql.dump_payloads().await;
    assert!(!raw.contains("secret@x.com") && !raw.contains("13912345678"), "{raw}");
    let timeline = store.profiles().profile_events(p, &PageRequest { after: None, limit: 5 }).await.expect("events");
    assert_eq!(timeline.items[0].payload, rec.payload);
}

async fn a_processor_transaction_commits_all_or_nothing(store: &SqlStore) {
    let p = pid();
    let mut tx = store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.offset().await.ok(), Some(0));
    tx.apply(&created(vec![state(p, 1)])).await.expect("create");
    tx.set_offset(5).await.expect("offset");
    drop(tx); // rolled back
    let mut tx = store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.offset().await.ok(), Some(0));
    assert!(store.profiles().get_profile(p).await.expect("get").is_none());
    let changes = BatchChanges {
        links: links(p, &["user_id:u1", "email:Ann@X.com"], 1),
        events: vec![(&event(1, p, 1)).into()],
        ..created(vec![state(p, 1)])
    };
    let key = |s: &str, m: &str| store.dedupe_key(s, m);
    tx.claim(&[key("src", "m1")]).await.expect("claim");
    tx.apply(&changes).await.expect("apply");
    tx.set_offset(1).await.expect("offset");
    tx.commit().await.expect("commit");
    let mut tx = store.begin_processing("main").await.expect("begin");
    assert_eq!(tx.offset().await.ok(), Some(1));
    let keys = [key("src", "m1"), key("src", "m2"), key("other", "m1")];
    assert_eq!(keys.iter().collect::<std::collections::HashSet<_>>().len(), 3, "a key per (source, messageId)");
    let seen = tx.claim(&keys).await.expect("seen");
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [key("src", "m1")]);
    assert_eq!(tx.claim(&keys).await.expect("claim again").len(), 3, "a claim records the new keys");
    let loaded = tx.load(&[p, pid()]).await.expect("load");
    assert_eq!(loaded.len(), 1);
    assert_eq!(opened(store, &loaded[0].0), state(p, 1));
    assert_eq!(loaded[0].1.len(), 2);
    drop(tx);
    let mut tx = store.begin_processing("main").await.expect("begin");
    let seen = tx.claim(&keys).await.expect("claim after a rollback");
    assert_eq!(seen.len(), 1, "claims roll back with their transaction: {seen:?}");
    let twice = [key("src", "m9"), key("src", "m9")];
    assert!(tx.claim(&twice).await.expect("a key twice in one claim").is_empty());
    drop(tx);
    // the processor's reader sees what was committed, outside any transaction
    let mut r = store.process_reader().await.expect("reader");
    assert_eq!((r.offset("main").await.ok(), r.offset("nobody").await.ok()), (Some(1), Some(0)));
    let seen = r.seen(&keys).await.expect("seen");
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [key("src", "m1")]);
    assert_eq!(r.holders(&[id("user_id:u1"), id("user_id:u9")]).await.expect("holders"), [(id("user_id:u1"), p)]);
    let loaded = r.load(&[p]).await.expect("load");
    assert_eq!((loaded.len(), opened(store, &loaded[0].0)), (1, state(p, 1)));
    assert!(r.orders(&["no-such-order".into()]).await.expect("orders").is_empty());
}

async fn identities_are_found_by_value_and_personal_data_is_encrypted(store: &SqlStore, raw_sql: &common::RawSql) {
    let p = pid();
    let mut tx = store.begin_processing("main").await.expect("begin");
    let changes = BatchChanges {
        links: links(p, &["email:ann@x.com", "phone:13800138000", "anonymous_id:a1"], 1),
        ..created(vec![state(p, 1)])
    };
    tx.apply(&changes).await.expect("apply");
    // linking again is a no-op
    tx.apply(&BatchChanges { links: links(p, &["email:ann@x.com"], 2), ..Default::default() }).await.expect("relink");
    let held = tx.holders(&[id("email:ann@x.com"), id("anonymous_id:zzz")]).await.expect("holders");
    assert_eq!(held, [(id("email:ann@x.com"), p)]);
    tx.commit().await.expect("commit");
    let found = store.profiles().find_profiles(&id("email:ANN@x.com")).await.expect("find");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].identities.len(), 3);
    assert!(found[0].identities.contains(&id("phone:+86 138 0013 8000")));
    let dump = raw_sql.dump_identities().await;
    assert!(!dump.contains("ann@x.com") && !dump.contains("13800138000"), "{dump}");
    assert!(dump.contains("a1"), "non-personal ids stay readable: {dump}");
}

async fn a_merge_moves_everything_and_old_ids_still_resolve(store: &SqlStore) {
    let (a, b, c) = (pid(), pid(), pid());
    let mut tx = store.begin_processing("main").await.expect("begin");
    let mut setup = created(vec![state(a, 1), state(b, 2), state(c, 3)]);
    setup.links = [
        links(a, &["anonymous_id:shared", "user_id:u"], 1),
        links(b, &["anonymous_id:shared", "device_id:d"], 2),
        links(c, &["email:c@x.com"], 3),
    ]
    .concat();
    // the timeline rows point into the log, which holds the events themselves
    let log = store.event_log();
    log.append(&(1..=3).map(log_record).collect::<Vec<_>>()).await.expect("append");
    log.sync().await.expect("sync");
    let s: Vec<i64> = log.read(0, 10).await.expect("read").iter().map(|r| r.seq).collect();
    setup.events = vec![(&event(s[0], a, 1)).into(), (&event(s[1], b, 2)).into(), (&event(s[2], c, 3)).into()];
    tx.apply(&setup).await.expect("setup");
    let why = MergeReason::SharedIdentity { identity: id("anonymous_id:shared") };
    let merge = |from, into, min, reason: MergeReason, m: &str| MergeChange {
        from,
        into,
        at: t(min),
        reason,
        message_id: m.into(),
    };
    let merges = BatchChanges {
        merges: vec![
            merge(b, a, 4, why, "m-merge-1"),
            merge(a, c, 5, MergeReason::Alias { previous_id: "u".into() }, "m-merge-2"),
        ],
        ..Default::default()
    };
    tx.apply(&merges).await.expect("merge");
    let held = tx.holders(&[id("anonymous_id:shared"), id("user_id:u")]).await.expect("holders");
    assert!(held.len() == 2 && held.iter().all(|(_, p)| *p == c), "{held:?}");
    tx.commit().await.expect("commit");
    // and once committed, to a reader and to a lookup by identity (the
    // embedded store follows its merges in memory)
    let mut r = store.process_reader().await.expect("reader");
    let held = r.holders(&[id("anonymous_id:shared"), id("user_id:u")]).await.expect("holders");
    assert!(held.len() == 2 && held.iter().all(|(_, p)| *p == c), "{held:?}");
    drop(r);
    let found = store.profiles().find_profiles(&id("anonymous_id:shared")).await.expect("find");
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), [c]);

    for old in [a, b, c] {
        let p = store.profiles().get_profile(old).await.expect("get").expect("resolves");
        assert_eq!(p.id, c);
        assert_eq!(p.identities.len(), 4, "{:?}", p.identities);
        assert_eq!(p.merges.len(), 2);
    }
    let page = store.profiles().profile_events(b, &PageRequest { after: None, limit: 2 }).await.expect("events");
    assert_eq!(page.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [s[2], s[1]]);
    assert_eq!(page.items[0].message_id, "m3", "the event's body comes from the log");
    let rest = store.profiles().profile_events(c, &PageRequest { after: page.next, limit: 2 }).await.expect("events");
    assert_eq!(rest.items.iter().map(|e| e.seq).collect::<Vec<_>>(), [s[0]]);
    assert!(rest.next.is_none());
    let owners: Vec<ProfileId> =
        store.profiles().events_after(0, 10).await.expect("events").iter().map(|e| e.profile_id).collect();
    assert_eq!(owners, [c, c, c], "every event moved to the survivor");
    let o = store.profiles().overview().await.expect("overview");
    assert_eq!((o.profiles, o.events), (1, 3), "the running totals");
}

async fn profile_lists_page_and_filter(store: &SqlStore) {
    let mut states = Vec::new();
    for m in 0..5u32 {
        let mut s = state(pid(), m);
        s.event_count = i64::from(m);
        if m % 2 == 0 {
            s.traits.insert("vip".into(), serde_json::json!(true));
        }
        states.push(s);
    }
    let mut ids: Vec<ProfileId> = states.iter().map(|s| s.id).collect();
    let mut tx = store.begin_processing("main").await.expect("begin");
    tx.apply(&created(states)).await.expect("create");
    tx.commit().await.expect("commit");
    let mut q = ProfileQuery { page: PageRequest { after: None, limit: 2 }, ..Default::default() };
    let mut seen = Vec::new();
    loop {
        let page = store.profiles().list_profiles(&q).await.expect("list");
        seen.extend(page.items.iter().map(|p| p.id));
        match page.next {
            Some(next) => q.page.after = Some(next),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids, "newest first, every profile once");
    let vip = ProfileQuery {
        has_trait: Some("vip".into()),
        min_events: Some(1),
        page: PageRequest { after: None, limit: 10 },
        ..Default::default()
    };
    assert_eq!(store.profiles().list_profiles(&vip).await.expect("list").items.len(), 2);
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            use super::*;
            $(#[tokio::test] async fn $name() { let h = Harness::embedded().await; super::run::$name(&h).await; })*
        }
        mod postgres {
            use super::*;
            $(#[tokio::test] async fn $name() { let h = Harness::postgres().await; super::run::$name(&h).await; h.cleanup().await; })*
        }
    };
}

mod run {
    use super::*;
    pub async fn log(h: &Harness) {
        the_log_returns_appended_records_in_order(&h.store).await
    }
    pub async fn pii(h: &Harness) {
        personal_data_in_payloads_is_sealed_at_rest(&h.store, &h.raw).await
    }
    pub async fn processing(h: &Harness) {
        a_processor_transaction_commits_all_or_nothing(&h.store).await
    }
    pub async fn identities(h: &Harness) {
        identities_are_found_by_value_and_personal_data_is_encrypted(&h.store, &h.raw).await
    }
    pub async fn merges(h: &Harness) {
        a_merge_moves_everything_and_old_ids_still_resolve(&h.store).await
    }
    pub async fn lists(h: &Harness) {
        profile_lists_page_and_filter(&h.store).await
    }
}

conformance!(log, pii, processing, identities, merges, lists);
