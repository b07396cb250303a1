//! Events the server says of a profile (`Segment Entered`, `Lifecycle
//! Stage Changed`…), queued in the outbox by whatever decided them and
//! appended here to the event log, named by one of the profile's
//! identities (a user id first), under the message id they were queued
//! with: a retried job logs nothing twice. A decision that says many
//! (a batch's segment changes) queues them as one job ([`jobs`]).

use super::{App, AppResult};
use beacon_core::{Identity, IdentityKind};
use beacon_store::{NewJob, internal_error};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// The outbox topic.
pub const TOPIC: &str = "profile.notify";

/// The source these events are logged (and deduplicated) under: the
/// server's own (`api:`), trusted as a server's records are.
pub const SOURCE: &str = "api:beacon";

/// The job that logs `event` (with `properties`) of `profile` at `at`,
/// once per `message_id`.
pub fn job(profile: &str, event: &str, properties: Value, message_id: String, at: DateTime<Utc>) -> NewJob {
    NewJob {
        key: message_id.clone(),
        topic: TOPIC.into(),
        payload: json!({"profile_id": profile, "event": event, "properties": properties, "message_id": message_id,
                        "at": at}),
        due_at: at,
    }
}

/// One job logging every event of `events` (each what [`job`] takes:
/// profile, event, properties, message id), all at `at`, under `key`: a
/// compact payload (`{"at", "said": [[profile, event, message id,
/// properties], …]}`), for a batch's many segment changes.
pub fn jobs(key: String, events: Vec<(String, &str, Value, String)>, at: DateTime<Utc>) -> NewJob {
    let said = events
        .into_iter()
        .map(|(profile, event, properties, message_id)| {
            Value::Array(vec![
                Value::String(profile),
                Value::String(event.into()),
                Value::String(message_id),
                properties,
            ])
        })
        .collect();
    NewJob { key, topic: TOPIC.into(), payload: json!({"at": at, "said": Value::Array(said)}), due_at: at }
}

/// One event of a job, whichever shape it came in.
struct Said<'a> {
    profile: &'a str,
    event: &'a str,
    message_id: &'a str,
    properties: Option<&'a Value>,
    at: Option<&'a Value>,
}

fn said(payload: &Value) -> AppResult<Vec<Said<'_>>> {
    let missing = || internal_error(format!("a profile event without its fields: {payload}"));
    let Some(list) = payload.get("said").and_then(Value::as_array) else {
        let text = |k: &str| payload.get(k).and_then(Value::as_str);
        let (Some(profile), Some(event), Some(message_id)) = (text("profile_id"), text("event"), text("message_id"))
        else {
            return Err(missing());
        };
        return Ok(vec![Said {
            profile,
            event,
            message_id,
            properties: payload.get("properties"),
            at: payload.get("at"),
        }]);
    };
    list.iter()
        .map(|item| {
            let text = |i: usize| item.get(i).and_then(Value::as_str);
            let (Some(profile), Some(event), Some(message_id)) = (text(0), text(1), text(2)) else {
                return Err(missing());
            };
            Ok(Said { profile, event, message_id, properties: item.get(3), at: payload.get("at") })
        })
        .collect()
}

/// Appends the job's events to the log (one append for them all).
pub async fn handle(app: &App, payload: &Value) -> AppResult<()> {
    let events = said(payload)?;
    let mut found: std::collections::HashMap<&str, Option<Vec<Identity>>> = Default::default();
    let mut records = Vec::with_capacity(events.len());
    for e in events {
        let (profile, event) = (e.profile, e.event);
        if !found.contains_key(profile) {
            found.insert(profile, usable(app, profile).await?);
        }
        let Some(Some(usable)) = found.get(profile) else {
            // erased since: nobody to say it of
            continue;
        };
        let mut msg = json!({
            "type": "track", "event": event, "messageId": e.message_id,
            "timestamp": e.at.cloned().unwrap_or_else(|| json!(app.now())),
            "properties": e.properties.cloned().unwrap_or_else(|| json!({})),
        });
        if !address(&mut msg, usable) {
            tracing::warn!(profile = %profile, "a profile without an identity a server may name it by: {event} not logged");
            metrics::counter!("beacon_profile_events_unaddressed_total").increment(1);
            continue;
        }
        records.push(super::log::internal_record(app, SOURCE, msg)?);
    }
    if records.is_empty() {
        return Ok(());
    }
    super::log::append(app, records).await
}

/// The identities a server's message may name `profile` by (only those a
/// server's message lands by: a claim a client made alone would send it
/// to a new profile, docs/SECURITY.md); `None` if it is gone.
async fn usable(app: &App, profile: &str) -> AppResult<Option<Vec<Identity>>> {
    let Ok(found) = super::profiles::by_id(app, profile).await else {
        return Ok(None);
    };
    let usable = found
        .identities
        .iter()
        .filter(|i| beacon_core::trust::is_anchor(&i.kind) || !found.unverified.contains(i))
        .cloned()
        .collect();
    Ok(Some(usable))
}

/// Names the profile in `msg` by its most stable identity; false if it has none.
fn address(msg: &mut Value, identities: &[Identity]) -> bool {
    let of = |kind: &IdentityKind| identities.iter().find(|i| &i.kind == kind).map(|i| i.value.clone());
    if let Some(u) = of(&IdentityKind::UserId) {
        msg["userId"] = json!(u);
    } else if let Some(a) = of(&IdentityKind::AnonymousId) {
        msg["anonymousId"] = json!(a);
    } else if let Some(d) = of(&IdentityKind::DeviceId) {
        msg["context"] = json!({"device": {"id": d}});
    } else if let Some(i) = identities.first() {
        msg["context"] = json!({"traits": {i.kind.to_string(): i.value}});
    } else {
        return false;
    }
    true
}
