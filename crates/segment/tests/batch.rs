//! The batch evaluator decides the same members as the one-profile
//! evaluator: random segments over random profiles, the scans answered from
//! the profiles' facts the way a store must answer them (windows after
//! `since` up to `until`, orders not cancelled). The stores' own answers are
//! held to the same in `crates/server/tests/segment_agreement.rs`.

use beacon_segment::batch::{self, Answers, Population, Rows, Scan};
use beacon_segment::columns::EventColumns;
use beacon_segment::random::{self, Rng, Vocabulary};
use beacon_segment::{CouponFact, EventFact, Facts, LineFact, OrderFact, PointsLot, matches, points_available};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value, json};

struct Profile {
    id: String,
    traits: Map<String, Value>,
    events: Vec<EventFact>,
    orders: Vec<OrderFact>,
    identities: Vec<String>,
    tags: Vec<String>,
    consents: Vec<String>,
    coupons: Vec<CouponFact>,
    points: Vec<PointsLot>,
}

impl Profile {
    fn facts(&self, now: DateTime<Utc>) -> Facts<'_> {
        Facts {
            profile_id: &self.id,
            orders: &self.orders,
            identities: &self.identities,
            tags: &self.tags,
            consents: &self.consents,
            coupons: &self.coupons,
            points: &self.points,
            ..Facts::new(&self.traits, &self.events, now)
        }
    }
}

fn vocabulary() -> Vocabulary {
    Vocabulary::example()
}

fn profiles(rng: &mut Rng, v: &Vocabulary, now: DateTime<Utc>, n: usize) -> Vec<Profile> {
    // half of the times on the edge of a window or next to it
    const EDGES: [i64; 16] = [0, 1, 11, 12, 13, 23, 24, 25, 71, 72, 73, 167, 168, 169, 720, 721];
    let hours_ago = |rng: &mut Rng| {
        now - Duration::hours(if rng.one_in(2) { *rng.pick(&EDGES) } else { rng.below(24 * 40) as i64 - 3 })
    };
    (0..n)
        .map(|i| {
            let mut traits = Map::new();
            for (key, values) in &v.traits {
                if !rng.one_in(3) {
                    traits.insert(key.clone(), rng.pick(values).clone());
                }
            }
            for key in &v.dates {
                if !rng.one_in(3) {
                    let t = hours_ago(rng) - Duration::days(365 * rng.below(3) as i64);
                    traits.insert(key.clone(), json!(t.to_rfc3339()));
                }
            }
            let events = (0..rng.below(8))
                .map(|_| {
                    let mut properties = Map::new();
                    for (key, values) in &v.properties {
                        if !rng.one_in(3) {
                            properties.insert(key.clone(), rng.pick(values).clone());
                        }
                    }
                    EventFact { name: rng.pick(&v.events).clone(), at: hours_ago(rng), properties }
                })
                .collect();
            let orders = (0..rng.below(3))
                .map(|_| OrderFact {
                    at: hours_ago(rng),
                    net: rng.pick(&["0.00", "49.90", "99.90", "150.00", "300.50"]).to_string(),
                    coupon: rng.one_in(2).then(|| "NEW10".to_string()),
                    lines: vec![LineFact {
                        product_id: Some(rng.pick(&v.products).clone()),
                        category: Some(rng.pick(&["鞋/跑鞋", "茶/绿茶", "茶叶"]).to_string()),
                        brand: rng.one_in(2).then(|| rng.pick(&v.brands).clone()),
                    }],
                })
                .collect();
            // times to come too: a coupon valid for a while, points vesting later
            let around = |rng: &mut Rng| hours_ago(rng) + Duration::hours(24 * 20);
            let coupons = (0..rng.below(4))
                .map(|_| CouponFact {
                    promotion: rng.pick(&v.promotions).clone(),
                    spent: rng.one_in(3),
                    until: (!rng.one_in(3)).then(|| around(rng)),
                })
                .collect();
            let points = (0..rng.below(4))
                .map(|_| PointsLot {
                    left: *rng.pick(&[100, 250, 400, -50, 0]),
                    vests_at: around(rng),
                    expires_at: rng.one_in(2).then(|| around(rng)),
                })
                .collect();
            let some = |rng: &mut Rng, list: &[String]| list.iter().filter(|_| rng.one_in(2)).cloned().collect();
            Profile {
                id: format!("p{i:03}"),
                traits,
                events,
                orders,
                identities: some(rng, &v.identity_kinds),
                tags: some(rng, &v.tags),
                consents: some(rng, &v.consents),
                coupons,
                points,
            }
        })
        .collect()
}

/// What a store must answer to `scan`, from the profiles' facts.
fn answer(scan: &Scan, people: &[Profile]) -> Rows {
    let after = |at: DateTime<Utc>, since: &Option<DateTime<Utc>>| since.is_none_or(|s| at > s);
    let events = |event: &String| -> Vec<(&Profile, &EventFact)> {
        people.iter().flat_map(|p| p.events.iter().filter(|e| &e.name == event).map(move |e| (p, e))).collect()
    };
    match scan {
        Scan::EventCounts { event, since, until } => {
            let mut counts = std::collections::BTreeMap::new();
            for (p, _) in events(event).into_iter().filter(|(_, e)| after(e.at, since) && e.at <= *until) {
                *counts.entry(p.id.clone()).or_insert(0u64) += 1;
            }
            Rows::Counts(counts.into_iter().collect())
        }
        Scan::EventProperties { event, since, until } => Rows::Properties(
            events(event)
                .into_iter()
                .filter(|(_, e)| after(e.at, since) && e.at <= *until)
                .map(|(p, e)| (p.id.clone(), e.properties.clone()))
                .collect(),
        ),
        Scan::EventSpan { event, until } => Rows::Spans(
            people
                .iter()
                .filter_map(|p| {
                    let times: Vec<_> =
                        p.events.iter().filter(|e| &e.name == event && e.at <= *until).map(|e| e.at).collect();
                    Some((p.id.clone(), *times.iter().min()?, *times.iter().max()?))
                })
                .collect(),
        ),
        Scan::Trait(key) => Rows::Values(
            people
                .iter()
                .filter_map(|p| Some((p.id.clone(), p.traits.get(key).filter(|v| !v.is_null())?.clone())))
                .collect(),
        ),
        Scan::Orders { since, until } => Rows::Orders(
            people
                .iter()
                .flat_map(|p| {
                    p.orders.iter().filter(|o| after(o.at, since) && o.at <= *until).map(|o| (p.id.clone(), o.clone()))
                })
                .collect(),
        ),
        Scan::Identity(kind) => {
            Rows::Ids(people.iter().filter(|p| p.identities.contains(kind)).map(|p| p.id.clone()).collect())
        }
        Scan::Tag(tag) => Rows::Ids(people.iter().filter(|p| p.tags.contains(tag)).map(|p| p.id.clone()).collect()),
        Scan::Consent(c) => Rows::Ids(people.iter().filter(|p| p.consents.contains(c)).map(|p| p.id.clone()).collect()),
        Scan::Segment(_) => Rows::Ids(Vec::new()),
        Scan::Coupons { promotion, at } => Rows::Counts(
            people
                .iter()
                .map(|p| {
                    let of = |c: &&CouponFact| promotion.as_ref().is_none_or(|w| *w == c.promotion);
                    (p.id.clone(), p.coupons.iter().filter(of).filter(|c| c.available(*at)).count() as u64)
                })
                .filter(|(_, n)| *n > 0)
                .collect(),
        ),
        Scan::Points { at } => Rows::Amounts(
            people
                .iter()
                .filter(|p| !p.points.is_empty())
                .map(|p| (p.id.clone(), points_available(&p.points, *at)))
                .collect(),
        ),
    }
}

#[test]
fn batch_and_one_at_a_time_decide_the_same_members() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let v = vocabulary();
    let mut rng = Rng::new(16);
    let people = profiles(&mut rng, &v, now, 150);
    let ids: Vec<String> = people.iter().map(|p| p.id.clone()).collect();
    let (mut some_in, mut some_out) = (0, 0);
    for case in 0..600 {
        let c = random::condition(&mut rng, &v, 3);
        let answers: Answers = batch::scans(&c, now).into_iter().map(|s| (s.clone(), answer(&s, &people))).collect();
        let decided = batch::decide(&c, now, &ids, &answers).expect("every scan answered");
        for (p, &is_in) in people.iter().zip(&decided) {
            assert_eq!(is_in, matches(&c, &p.facts(now)), "case {case}, profile {}: {c}", p.id);
        }
        let members = decided.iter().filter(|b| **b).count();
        some_in += usize::from(members > 0 && members < people.len());
        some_out += usize::from(members == 0);
    }
    // the cases are not all trivially everyone or nobody
    assert!(some_in > 200, "{some_in} of 600 cases split the profiles");
    assert!(some_out < 400, "{some_out} of 600 cases selected nobody");
}

/// The same, with the events' counts and spans answered by position from
/// [`EventColumns`] fed as a store's changes arrive: each profile's events
/// split between it and a device merged into it afterwards, the events
/// added out of time order, and an erased profile with events of its own.
#[test]
fn columns_answer_as_a_store_does() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let v = vocabulary();
    let mut rng = Rng::new(61);
    let people = profiles(&mut rng, &v, now, 150);
    let mut columns = EventColumns::new();
    columns.add_profile("erased");
    for p in &people {
        columns.add_profile(&format!("device-{}", p.id));
        columns.add_profile(&p.id);
    }
    let mut rows: Vec<(&str, String, &EventFact)> = Vec::new();
    for p in &people {
        for (i, e) in p.events.iter().enumerate() {
            let who = if i % 2 == 0 { p.id.clone() } else { format!("device-{}", p.id) };
            rows.push((&e.name, who, e));
        }
    }
    rows.sort_by_key(|(_, who, _)| who.clone());
    for (name, who, e) in &rows {
        columns.add_event(who, name, e.at.timestamp_micros());
        columns.add_event("erased", name, e.at.timestamp_micros());
    }
    for p in &people {
        columns.merge(&format!("device-{}", p.id), &p.id);
    }
    columns.remove("erased");
    assert_eq!(columns.live(), people.len());
    for case in 0..400 {
        let c = random::condition(&mut rng, &v, 3);
        let answers: Answers = batch::scans(&c, now)
            .into_iter()
            .map(|s| (s.clone(), columns.answer(&s).unwrap_or_else(|| answer(&s, &people))))
            .collect();
        let decided = batch::decide_over(&c, now, &columns, &answers).expect("every scan answered");
        for p in &people {
            let at = columns.position(&p.id).expect("numbered");
            assert_eq!(decided[at], matches(&c, &p.facts(now)), "case {case}, profile {}: {c}", p.id);
        }
        let live = (0..columns.len()).filter(|&i| columns.is_live(i)).count();
        assert_eq!(live, people.len());
    }
}

#[test]
fn a_missing_answer_is_an_error_not_a_guess() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let c = beacon_segment::parse(r#"performed "X" >= 2 within 7d"#).expect("parses");
    let e = batch::decide(&c, now, &["a".into()], &Answers::new()).expect_err("unanswered");
    assert!(matches!(e.0, Scan::EventCounts { .. }), "{e}");
    let wrong: Answers = batch::scans(&c, now).into_iter().map(|s| (s, Rows::Ids(vec![]))).collect();
    assert!(batch::decide(&c, now, &["a".into()], &wrong).is_err());
}

#[test]
fn an_answer_holds_until_the_moment_next_change_names() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let v = vocabulary();
    let mut rng = Rng::new(8);
    let people = profiles(&mut rng, &v, now, 60);
    let (mut changed_there, mut timed) = (0, 0);
    for case in 0..300 {
        let c = random::condition(&mut rng, &v, 2);
        for p in &people {
            let at_now = matches(&c, &p.facts(now));
            let Some(next) = beacon_segment::depends::next_change(&c, &p.facts(now)) else {
                // nothing timed: the answer is the same a year on
                assert_eq!(matches(&c, &p.facts(now + Duration::days(365))), at_now, "case {case}: {c}");
                continue;
            };
            timed += 1;
            assert!(next > now);
            // anywhere before that moment the answer is the same
            for t in [now + (next - now) / 2, next - Duration::microseconds(1)] {
                assert_eq!(matches(&c, &p.facts(t)), at_now, "case {case}, {} at {t} (next {next}): {c}", p.id);
            }
            changed_there += usize::from(matches(&c, &p.facts(next)) != at_now);
        }
    }
    assert!(timed > 1000 && changed_there > 100, "{timed} timed answers, {changed_there} changed at the moment");
}

/// An event no leaf of a condition is moved by changes its answer at no
/// time to come: the pipeline does not decide a segment again for it.
#[test]
fn an_event_no_leaf_is_moved_by_changes_nothing() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let v = vocabulary();
    let mut rng = Rng::new(11);
    let mut people = profiles(&mut rng, &v, now, 40);
    let newcomers = profiles(&mut rng, &v, now, 40);
    let (mut skipped, mut moved) = (0, 0);
    let later = [0, 1, 13, 25, 24 * 4, 24 * 8, 24 * 31, 24 * 400].map(|h| now + Duration::hours(h));
    for case in 0..300 {
        let c = random::condition(&mut rng, &v, 2);
        let leaves = c.event_leaves();
        for (p, n) in people.iter_mut().zip(&newcomers) {
            let Some(e) = n.events.first() else { continue };
            if leaves.iter().any(|l| l.moved_by(e, now)) {
                moved += 1;
                continue;
            }
            skipped += 1;
            let before: Vec<bool> = later.iter().map(|t| matches(&c, &p.facts(*t))).collect();
            p.events.push(e.clone());
            p.events.sort_by_key(|e| e.at);
            let after: Vec<bool> = later.iter().map(|t| matches(&c, &p.facts(*t))).collect();
            p.events.retain(|x| x != e || x.at != e.at);
            assert_eq!(before, after, "case {case}, {} with {e:?}: {c}", p.id);
        }
    }
    assert!(skipped > 1000 && moved > 300, "{skipped} events skipped, {moved} moved a leaf");
}
