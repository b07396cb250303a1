//! Profiles and the trait-merge rule: key by key, the value with the newest
//! event timestamp wins. Ties are broken by the value's JSON text so the result
//! does not depend on the order events were processed in.

use crate::identity::Identity;
use crate::ids::ProfileId;
use crate::resolve::MergeReason;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// When each trait was last set, by event time.
pub type TraitTimes = BTreeMap<String, DateTime<Utc>>;

/// One person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub id: ProfileId,
    pub identities: Vec<Identity>,
    /// Those of `identities` only a client claimed: no server vouched for
    /// them ([`crate::trust`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unverified: Vec<Identity>,
    pub traits: Map<String, Value>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub event_count: i64,
    /// Orders, spend, first and last order (issue 3).
    pub orders: crate::commerce::order::OrderFigures,
    pub merges: Vec<MergeRecord>,
}

/// A merge that folded another profile into this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub merged_id: ProfileId,
    pub at: DateTime<Utc>,
    pub reason: MergeReason,
    /// The event that caused the merge.
    pub message_id: String,
}

fn newer(candidate: (&DateTime<Utc>, &Value), current: (&DateTime<Utc>, &Value)) -> bool {
    match candidate.0.cmp(current.0) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            let (new_text, old_text) = (candidate.1.to_string(), current.1.to_string());
            new_text > old_text
        }
    }
}

/// Applies `incoming` traits set at `at`. Returns whether anything changed.
pub fn apply_traits(
    traits: &mut Map<String, Value>,
    times: &mut TraitTimes,
    incoming: &Map<String, Value>,
    at: DateTime<Utc>,
) -> bool {
    let mut changed = false;
    for (key, value) in incoming {
        let wins = match (times.get(key), traits.get(key)) {
            (Some(t), Some(current)) => newer((&at, value), (t, current)),
            _ => true,
        };
        if wins {
            changed |= traits.get(key) != Some(value);
            traits.insert(key.clone(), value.clone());
            times.insert(key.clone(), at);
        }
    }
    changed
}

/// Folds another profile's traits into this one, newest per key.
pub fn merge_traits(
    traits: &mut Map<String, Value>,
    times: &mut TraitTimes,
    other: &Map<String, Value>,
    other_times: &TraitTimes,
) {
    for (key, value) in other {
        let at = other_times.get(key).copied().unwrap_or(DateTime::<Utc>::MIN_UTC);
        apply_traits(traits, times, &Map::from_iter([(key.clone(), value.clone())]), at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn t(m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, m, 0).single().unwrap_or_default()
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn newest_timestamp_wins_per_key_whatever_the_arrival_order() {
        let a = obj(json!({"name": "李雷", "tags": ["vip"], "addr": {"city": "上海"}}));
        let b = obj(json!({"name": "Li Lei", "age": 30}));
        let (mut t1, mut m1) = (Map::new(), TraitTimes::new());
        apply_traits(&mut t1, &mut m1, &a, t(5));
        apply_traits(&mut t1, &mut m1, &b, t(1));
        let (mut t2, mut m2) = (Map::new(), TraitTimes::new());
        apply_traits(&mut t2, &mut m2, &b, t(1));
        apply_traits(&mut t2, &mut m2, &a, t(5));
        assert_eq!(t1, t2);
        assert_eq!(t1.get("name"), Some(&json!("李雷")));
        assert_eq!(t1.get("age"), Some(&json!(30)));
        assert_eq!(t1.get("addr"), Some(&json!({"city": "上海"})));
    }

    #[test]
    fn merging_profiles_keeps_the_newer_value_of_each_key() {
        let (mut t1, mut m1) = (Map::new(), TraitTimes::new());
        apply_traits(&mut t1, &mut m1, &obj(json!({"plan": "free", "city": "北京"})), t(1));
        let (mut t2, mut m2) = (Map::new(), TraitTimes::new());
        apply_traits(&mut t2, &mut m2, &obj(json!({"plan": "pro"})), t(9));
        merge_traits(&mut t1, &mut m1, &t2, &m2);
        assert_eq!(t1, obj(json!({"plan": "pro", "city": "北京"})));
    }

    #[test]
    fn equal_timestamps_break_ties_by_value_not_by_order() {
        let x = obj(json!({"k": "x"}));
        let y = obj(json!({"k": "y"}));
        let (mut a, mut am) = (Map::new(), TraitTimes::new());
        apply_traits(&mut a, &mut am, &x, t(1));
        apply_traits(&mut a, &mut am, &y, t(1));
        let (mut b, mut bm) = (Map::new(), TraitTimes::new());
        apply_traits(&mut b, &mut bm, &y, t(1));
        apply_traits(&mut b, &mut bm, &x, t(1));
        assert_eq!(a, b);
    }
}
