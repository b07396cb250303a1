//! The events the real-time stage keeps of a profile answer every
//! condition as all its events do, at any later time, with more events
//! coming (`beacon_segment::keep`).

use beacon_segment::keep::Retention;
use beacon_segment::random::{self, Rng, Vocabulary};
use beacon_segment::{EventFact, Facts, matches};
use chrono::{DateTime, Duration, Utc};
use serde_json::Map;

/// `n` events around `now`: many of one name, on the edges of windows,
/// some an hour or two ahead of the clock.
fn events(rng: &mut Rng, v: &Vocabulary, now: DateTime<Utc>, n: u64) -> Vec<EventFact> {
    const EDGES: [i64; 14] = [0, 1, 11, 12, 13, 23, 24, 25, 167, 168, 169, 720, 721, -2];
    (0..n)
        .map(|_| {
            let mut properties = Map::new();
            for (key, values) in &v.properties {
                if !rng.one_in(3) {
                    properties.insert(key.clone(), rng.pick(values).clone());
                }
            }
            let hours = if rng.one_in(2) { *rng.pick(&EDGES) } else { rng.below(24 * 40) as i64 - 3 };
            let name = if rng.one_in(2) { v.events[0].clone() } else { rng.pick(&v.events).clone() };
            EventFact { name, at: now - Duration::hours(hours) - Duration::minutes(rng.below(60) as i64), properties }
        })
        .collect()
}

fn answers(c: &beacon_segment::Condition, events: &[EventFact], times: &[DateTime<Utc>]) -> Vec<bool> {
    let traits = Map::new();
    times.iter().map(|t| matches(c, &Facts::new(&traits, events, *t))).collect()
}

#[test]
fn kept_events_answer_as_all_do() {
    let now: DateTime<Utc> = "2026-06-15T10:00:00Z".parse().expect("time");
    let v = Vocabulary::example();
    let mut rng = Rng::new(5);
    let (mut dropped, mut held) = (0, 0);
    for case in 0..400 {
        let conditions: Vec<_> = (0..1 + rng.below(3))
            .map(|_| if rng.one_in(2) { random::condition(&mut rng, &v, 2) } else { random::marketing(&mut rng, &v) })
            .collect();
        let keep = Retention::of(&conditions);
        let n = rng.below(60);
        let all = events(&mut rng, &v, now, n);
        let kept = keep.keep(all.clone(), now);
        dropped += all.len() - kept.len();
        // more events come, a day later, then the kept are kept again
        let then = now + Duration::hours(1 + rng.below(48) as i64);
        let n = rng.below(20);
        let more = events(&mut rng, &v, then, n);
        let mut all_then = all.clone();
        all_then.extend(more.iter().cloned());
        all_then.sort_by_key(|e| e.at);
        let mut kept_then = kept.clone();
        kept_then.extend(more);
        let kept_then = keep.keep(kept_then, then);
        let later =
            |from: DateTime<Utc>| [0, 1, 13, 25, 24 * 4, 24 * 8, 24 * 31, 24 * 400].map(|h| from + Duration::hours(h));
        for c in &conditions {
            assert_eq!(answers(c, &all, &later(now)), answers(c, &kept, &later(now)), "case {case}: {c}");
            assert_eq!(
                answers(c, &all_then, &later(then)),
                answers(c, &kept_then, &later(then)),
                "case {case}, with more: {c}"
            );
            held += answers(c, &all, &later(now)).iter().filter(|a| **a).count();
        }
    }
    // the test means something: events were dropped, and conditions held
    assert!(dropped > 2000 && held > 300, "{dropped} events dropped, {held} answers held");
}

#[test]
fn a_changed_retention_has_another_stamp() {
    let parse = |t: &str| beacon_segment::parse(t).expect("parses");
    let a = Retention::of([&parse(r#"performed "Product Viewed" >= 3 within 30d"#)]);
    let b = Retention::of([&parse(r#"performed "Product Viewed" >= 4 within 30d"#)]);
    let c = Retention::of([&parse(r#"performed "Product Viewed" >= 3 within 7d"#)]);
    assert_ne!(a.stamp(), b.stamp());
    assert_eq!(a.stamp(), c.stamp(), "a window keeps the same events");
    assert_eq!(a.names().collect::<Vec<_>>(), ["Product Viewed"]);
}
