use super::*;
use crate::extract::IdentityRules;
use crate::identity::NormalizeOptions;
use crate::ids::ProfileId;
use crate::resolve::resolve;
use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn id(pair: &str) -> Identity {
    Identity::parse_pair(pair, &NormalizeOptions::default()).expect("valid identity")
}

/// A profile of the model: its links (identity → verified) and first sight.
type ModelProfile = (BTreeMap<Identity, bool>, DateTime<Utc>);

/// The processor in miniature: candidates, [`admit`], resolve, [`restrict`],
/// then links (verified when a server sent them) and merges, as the stores apply them.
#[derive(Default)]
struct Model {
    profiles: BTreeMap<ProfileId, ModelProfile>,
    next: u128,
}

impl Model {
    fn send(&mut self, source: Source, pairs: &[&str], previous: Option<&str>) -> ProfileId {
        let ids: Vec<Identity> = pairs.iter().map(|p| id(p)).collect();
        let prev: Vec<Identity> = previous
            .map(|p| match source {
                Source::Server => vec![id(&format!("user_id:{p}")), id(&format!("anonymous_id:{p}"))],
                Source::Client => vec![id(&format!("anonymous_id:{p}"))],
            })
            .unwrap_or_default();
        let candidates: Vec<Candidate> = self
            .profiles
            .iter()
            .filter_map(|(pid, (links, first))| {
                let aliased = prev.iter().any(|i| links.contains_key(i));
                let shares = ids.iter().any(|i| links.contains_key(i));
                (aliased || shares).then(|| Candidate {
                    id: *pid,
                    identities: links.keys().cloned().collect(),
                    first_seen: *first,
                    aliased,
                    verified: links.values().any(|v| *v),
                    unverified: links.iter().filter(|(_, v)| !**v).map(|(i, _)| i.clone()).collect(),
                })
            })
            .collect();
        let admitted = admit(source, &ids, candidates);
        let plan = resolve(&ids, &admitted, previous, &IdentityRules::default());
        let plan = restrict(source, plan, &admitted);
        self.next += 1;
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().expect("time")
            + chrono::Duration::minutes(self.next as i64);
        let target = match plan.target {
            Target::Existing(t) => t,
            Target::New => {
                let t = ProfileId(Uuid::from_u128(self.next));
                self.profiles.insert(t, (BTreeMap::new(), at));
                t
            }
        };
        for (from, _) in &plan.merges {
            let (links, first) = self.profiles.remove(from).expect("merged profile exists");
            let into = self.profiles.get_mut(&target).expect("target exists");
            for (i, v) in links {
                *into.0.entry(i).or_insert(v) |= v;
            }
            into.1 = into.1.min(first);
        }
        let links = &mut self.profiles.get_mut(&target).expect("target exists").0;
        for i in plan.link {
            *links.entry(i).or_insert(false) |= source == Source::Server;
        }
        target
    }

    fn links(&self, p: ProfileId) -> &BTreeMap<Identity, bool> {
        &self.profiles[&p].0
    }
}

/// A shopper the back end knows: user id, email, phone, openid, and a device.
fn victim(m: &mut Model) -> ProfileId {
    m.send(
        Source::Server,
        &["user_id:victim", "email:victim@example.org", "phone:13800138000", "openid:o-victim", "anonymous_id:v-dev"],
        None,
    )
}

#[test]
fn a_client_claim_of_a_verified_identity_does_not_attach_the_device() {
    for claim in ["email:victim@example.org", "phone:13800138000", "openid:o-victim", "user_id:victim"] {
        let mut m = Model::default();
        let v = victim(&mut m);
        let landed = m.send(Source::Client, &["anonymous_id:attacker-device", claim], None);
        assert_ne!(landed, v, "{claim}: the attacker's message stays off the victim");
        assert!(!m.links(v).contains_key(&id("anonymous_id:attacker-device")), "{claim}");
        assert_eq!(m.links(landed).get(&id(claim)), Some(&false), "{claim}: recorded, unverified");
        // and a server message naming the claim alone does not confirm it
        let again = m.send(Source::Server, &[claim], None);
        assert_eq!(again, v);
        assert_eq!(m.profiles.len(), 2, "{claim}: nothing merged");
    }
}

#[test]
fn a_client_alias_onto_a_verified_user_does_not_merge() {
    let mut m = Model::default();
    let v = victim(&mut m);
    let attacker = m.send(Source::Client, &["anonymous_id:attacker-device"], None);
    let landed = m.send(Source::Client, &["user_id:victim", "anonymous_id:attacker-device"], Some("attacker-device"));
    assert_eq!(landed, attacker);
    let landed = m.send(Source::Client, &["user_id:attacker"], Some("victim"));
    assert_ne!(landed, v, "a client's previousId is looked up as a device only");
    assert!(m.links(v).keys().all(|i| !i.value.contains("attacker")));
}

#[test]
fn bait_planted_on_the_attackers_device_is_not_merged_by_the_victims_own_claim() {
    let mut m = Model::default();
    let v = victim(&mut m);
    m.send(Source::Client, &["anonymous_id:attacker-device", "email:new@example.org"], None);
    // the victim, on the vouched-for device, claims the same new email
    let landed = m.send(Source::Client, &["anonymous_id:v-dev", "email:new@example.org"], None);
    assert_eq!(landed, v, "the own device lands on its profile");
    assert_eq!(m.profiles.len(), 2, "the bait is not merged into the victim");
    assert_eq!(m.links(v).get(&id("email:new@example.org")), Some(&false));
}

#[test]
fn a_login_confirms_a_claim_and_merges() {
    let mut m = Model::default();
    let known = m.send(Source::Server, &["user_id:u1", "email:u1@example.org"], None);
    let browsing = m.send(Source::Client, &["anonymous_id:a1"], None);
    let claimed = m.send(Source::Client, &["anonymous_id:a1", "user_id:u1"], None);
    assert_eq!(claimed, browsing, "the claim stays on the browsing profile");
    // the back end, at login, names the device and the user: one person
    let confirmed = m.send(Source::Server, &["user_id:u1", "anonymous_id:a1"], None);
    assert_eq!(m.profiles.len(), 1);
    assert!(confirmed == known || confirmed == browsing);
    assert_eq!(m.links(confirmed).get(&id("anonymous_id:a1")), Some(&true));
    assert_eq!(m.links(confirmed).get(&id("user_id:u1")), Some(&true));
    // from then on the device's client messages land on the person
    assert_eq!(m.send(Source::Client, &["anonymous_id:a1", "email:other@example.org"], None), confirmed);
}

#[test]
fn client_only_shops_merge_as_before() {
    let mut m = Model::default();
    let a = m.send(Source::Client, &["anonymous_id:a1"], None);
    let b = m.send(Source::Client, &["anonymous_id:a2", "email:x@example.org"], None);
    let c = m.send(Source::Client, &["anonymous_id:a1", "email:x@example.org"], None);
    assert_eq!(m.profiles.len(), 1, "unverified profiles merge on a shared claim");
    assert!(c == a || c == b);
}

#[test]
fn a_claim_without_a_device_does_not_reach_a_verified_profile() {
    let mut m = Model::default();
    let v = victim(&mut m);
    let landed = m.send(Source::Client, &["user_id:victim", "email:other@example.org"], None);
    assert_ne!(landed, v, "its traits would be set on the victim");
    assert!(!m.links(v).contains_key(&id("email:other@example.org")));
    // the same claim again goes where the first went
    assert_eq!(m.send(Source::Client, &["user_id:victim"], None), landed);
}

proptest! {
    /// Whatever a client sends, from devices that are not the victim's, no
    /// such device ends up on the victim's profile, and the victim's
    /// profile is never merged away.
    #[test]
    fn no_client_message_attaches_a_device_to_a_verified_profile(
        events in prop::collection::vec((0usize..3, prop::collection::vec(0usize..8, 0..4), any::<bool>()), 1..16)
    ) {
        let claims = [
            "user_id:victim", "email:victim@example.org", "phone:13800138000", "openid:o-victim",
            "user_id:mallory", "email:m@example.org", "unionid:u-m", "phone:13900139000",
        ];
        let devices = ["anonymous_id:att-1", "anonymous_id:att-2", "device_id:att-3"];
        let mut m = Model::default();
        let v = victim(&mut m);
        for (device, picks, alias) in &events {
            let mut pairs = vec![devices[*device]];
            pairs.extend(picks.iter().map(|p| claims[*p]));
            let previous = alias.then_some("victim");
            m.send(Source::Client, &pairs, previous);
        }
        prop_assert!(m.profiles.contains_key(&v), "the victim's profile survives");
        for d in devices {
            prop_assert!(!m.links(v).contains_key(&id(d)), "{} attached to the victim", d);
        }
    }
}
