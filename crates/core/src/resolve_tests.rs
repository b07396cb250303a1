use super::*;
use crate::identity::NormalizeOptions;
use chrono::TimeZone;
use proptest::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn id(pair: &str) -> Identity {
    Identity::parse_pair(pair, &NormalizeOptions::default()).expect("valid identity")
}

/// (identities, event names, first seen)
type ModelProfile = (BTreeSet<Identity>, BTreeSet<String>, DateTime<Utc>);

/// An in-memory reference model of the processor: applies plans exactly as the
/// stores do (link identities, move events, drop merged profiles).
#[derive(Default)]
struct Model {
    profiles: BTreeMap<ProfileId, ModelProfile>,
    next: u128,
}

struct Ev {
    name: String,
    ids: Vec<Identity>,
    previous: Option<String>,
    at: DateTime<Utc>,
}

fn ev(name: &str, ids: &[&str], minute: u32) -> Ev {
    Ev {
        name: name.into(),
        ids: ids.iter().map(|p| id(p)).collect(),
        previous: None,
        at: Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).single().expect("time"),
    }
}

impl Model {
    fn apply(&mut self, e: &Ev) -> Plan {
        let rules = IdentityRules::default();
        let prev = e.previous.as_ref().map(|p| [id(&format!("user_id:{p}")), id(&format!("anonymous_id:{p}"))]);
        let candidates: Vec<Candidate> = self
            .profiles
            .iter()
            .filter_map(|(pid, (ids, _, first))| {
                let aliased = prev.as_ref().is_some_and(|p| p.iter().any(|i| ids.contains(i)));
                let shares = e.ids.iter().any(|i| ids.contains(i));
                (aliased || shares).then(|| Candidate {
                    id: *pid,
                    identities: ids.iter().cloned().collect(),
                    first_seen: *first,
                    aliased,
                    verified: true,
                    unverified: Vec::new(),
                })
            })
            .collect();
        let plan = resolve(&e.ids, &candidates, e.previous.as_deref(), &rules);
        let target = match plan.target {
            Target::Existing(t) => t,
            Target::New => {
                self.next += 1;
                let t = ProfileId(Uuid::from_u128(self.next));
                self.profiles.insert(t, (BTreeSet::new(), BTreeSet::new(), e.at));
                t
            }
        };
        for (from, _) in &plan.merges {
            if let Some((ids, events, first)) = self.profiles.remove(from)
                && let Some(t) = self.profiles.get_mut(&target)
            {
                t.0.extend(ids);
                t.1.extend(events);
                t.2 = t.2.min(first);
            }
        }
        if let Some(t) = self.profiles.get_mut(&target) {
            t.0.extend(plan.link.iter().cloned());
            t.1.insert(e.name.clone());
            t.2 = t.2.min(e.at);
        }
        plan
    }

    /// The final profiles as (identities, events), independent of ids.
    fn partition(&self) -> BTreeSet<(Vec<String>, Vec<String>)> {
        self.profiles
            .values()
            .map(|(ids, evs, _)| {
                (ids.iter().map(|i| format!("{}:{}", i.kind, i.value)).collect(), evs.iter().cloned().collect())
            })
            .collect()
    }
}

fn run(events: &[&Ev]) -> BTreeSet<(Vec<String>, Vec<String>)> {
    let mut m = Model::default();
    for e in events {
        m.apply(e);
    }
    m.partition()
}

#[test]
fn anonymous_browsing_login_and_email_become_one_profile() {
    let evs = [
        ev("view", &["anonymous_id:a1"], 1),
        ev("login", &["anonymous_id:a1", "user_id:u1"], 2),
        ev("profile", &["user_id:u1", "email:ann@x.com"], 3),
        ev("other-device", &["anonymous_id:a2", "email:ann@x.com"], 4),
    ];
    let p = run(&evs.iter().collect::<Vec<_>>());
    assert_eq!(p.len(), 1, "{p:?}");
}

#[test]
fn a_shared_phone_is_recorded_on_both_people_and_never_merges_them() {
    let evs = [ev("e1", &["user_id:u1", "phone:13800138000"], 1), ev("e2", &["user_id:u2", "phone:13800138000"], 2)];
    let forward = run(&[&evs[0], &evs[1]]);
    let backward = run(&[&evs[1], &evs[0]]);
    assert_eq!(forward, backward);
    assert_eq!(forward.len(), 2);
    assert!(forward.iter().all(|(ids, _)| ids.contains(&"phone:+8613800138000".to_string())));
}

#[test]
fn two_user_ids_never_merge_even_through_a_chain_of_weak_identities() {
    let evs = [
        ev("a", &["user_id:u1", "device_id:d"], 1),
        ev("b", &["device_id:d", "email:x@x.com"], 2),
        ev("c", &["email:x@x.com", "user_id:u2"], 3),
    ];
    let p = run(&evs.iter().collect::<Vec<_>>());
    let user_ids: Vec<usize> =
        p.iter().map(|(ids, _)| ids.iter().filter(|i| i.starts_with("user_id:")).count()).collect();
    assert_eq!(user_ids, [1, 1]);
}

#[test]
fn alias_merges_the_previous_id_into_the_new_user_with_the_reason() {
    let mut m = Model::default();
    m.apply(&ev("old", &["user_id:old-1", "email:o@x.com"], 1));
    m.apply(&ev("new", &["user_id:new-1"], 2));
    let mut alias = ev("alias", &["user_id:new-1"], 3);
    alias.previous = Some("old-1".into());
    let plan = m.apply(&alias);
    assert_eq!(m.profiles.len(), 1);
    assert_eq!(
        plan.merges.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(),
        [MergeReason::Alias { previous_id: "old-1".into() }]
    );
    assert_eq!(plan.target, Target::Existing(ProfileId(Uuid::from_u128(2))));
}

#[test]
fn after_an_alias_either_user_id_finds_the_merged_profile() {
    let mut m = Model::default();
    m.apply(&ev("old", &["user_id:old-1"], 1));
    m.apply(&ev("new", &["user_id:new-1"], 2));
    let mut alias = ev("alias", &["user_id:new-1"], 3);
    alias.previous = Some("old-1".into());
    m.apply(&alias);
    m.apply(&ev("later-new", &["user_id:new-1", "anonymous_id:x"], 4));
    m.apply(&ev("later-old", &["user_id:old-1"], 5));
    assert_eq!(m.profiles.len(), 1, "{:?}", m.partition());
    // a third user id sharing a device is still someone else
    m.apply(&ev("other", &["user_id:third", "anonymous_id:x"], 6));
    assert_eq!(m.profiles.len(), 2);
}

#[test]
fn an_alias_whose_previous_id_the_user_already_holds_keeps_the_user_as_survivor() {
    let mut m = Model::default();
    m.apply(&ev("login", &["user_id:u", "anonymous_id:x"], 1));
    m.apply(&ev("device", &["device_id:d"], 2));
    let mut alias = ev("alias", &["user_id:u", "device_id:d"], 3);
    alias.previous = Some("x".into());
    let plan = m.apply(&alias);
    assert_eq!(plan.target, Target::Existing(ProfileId(Uuid::from_u128(1))), "the user's profile survives");
    assert_eq!(m.profiles.len(), 1);
}

#[test]
fn the_store_order_of_candidates_does_not_change_the_plan() {
    let t = |m| Utc.with_ymd_and_hms(2026, 1, 1, 0, m, 0).single().expect("time");
    let a = Candidate {
        id: ProfileId(Uuid::from_u128(1)),
        identities: vec![id("anonymous_id:a")],
        first_seen: t(5),
        aliased: false,
        verified: true,
        unverified: Vec::new(),
    };
    let b = Candidate {
        id: ProfileId(Uuid::from_u128(2)),
        identities: vec![id("email:b@x.com")],
        first_seen: t(1),
        aliased: false,
        verified: true,
        unverified: Vec::new(),
    };
    let ids = [id("anonymous_id:a"), id("email:b@x.com")];
    let rules = IdentityRules::default();
    let p1 = resolve(&ids, &[a.clone(), b.clone()], None, &rules);
    let p2 = resolve(&ids, &[b, a], None, &rules);
    assert_eq!(p1, p2);
    assert_eq!(p1.target, Target::Existing(ProfileId(Uuid::from_u128(2))), "oldest survives");
}

/// People who share nothing but (at most) a phone that they only ever send
/// together with their user id: every order of their events ends in the same
/// profiles.
fn people_events() -> impl Strategy<Value = Vec<(usize, Vec<usize>, u32)>> {
    // (person, which of the person's identities the event carries, minute)
    prop::collection::vec((0usize..3, prop::collection::vec(0usize..4, 1..3), 0u32..59), 1..12)
}

fn identities_of(person: usize, picks: &[usize]) -> Vec<String> {
    let mut out = Vec::new();
    for &p in picks {
        let pair = match p {
            0 => format!("user_id:u{person}"),
            1 => format!("anonymous_id:a{person}"),
            2 => format!("email:p{person}@x.com"),
            _ => format!("device_id:d{person}"),
        };
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    // persons 0 and 1 share a phone, only ever sent with their user id
    if person < 2 && out.iter().any(|p| p.starts_with("user_id:")) {
        out.push("phone:+8613800138000".into());
    }
    out
}

proptest! {
    #[test]
    fn event_order_does_not_change_the_final_profiles(spec in people_events(), seed in any::<u64>()) {
        let evs: Vec<Ev> = spec
            .iter()
            .enumerate()
            .map(|(n, (person, picks, minute))| {
                let ids = identities_of(*person, picks);
                let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
                ev(&format!("e{n}"), &refs, *minute)
            })
            .collect();
        let forward: Vec<&Ev> = evs.iter().collect();
        let mut shuffled = forward.clone();
        // deterministic Fisher-Yates from the seed
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(i, (s >> 33) as usize % (i + 1));
        }
        prop_assert_eq!(run(&forward), run(&shuffled));
    }
}
