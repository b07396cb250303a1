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
/// profile, event, properties, message id, time), under `key`.
pub fn jobs(key: String, events: Vec<(String, &str, Value, String)>, at: DateTime<Utc>) -> NewJob {
    let events: Vec<Value> = events
        .into_iter()
        .map(|(profile, event, properties, message_id)| {
            json!({"profile_id": profile, "event": event, "properties": properties, "message_id": message_id, "at": at})
        })
        .collect();
    NewJob { key, topic: TOPIC.into(), payload: json!({"events": events}), due_at: at }
}

/// Appends the job's events to the log (one append for them all).
pub async fn handle(app: &App, payload: &Value) -> AppResult<()> {
    let single = [payload.clone()];
    let events = payload.get("events").and_then(Value::as_array).map_or(&single[..], Vec::as_slice);
    let mut found: std::collections::HashMap<String, Option<Vec<Identity>>> = Default::default();
    let mut records = Vec::with_capacity(events.len());
    for e in events {
        let text = |k: &str| e.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(profile), Some(event), Some(message_id)) = (text("profile_id"), text("event"), text("message_id"))
        else {
            return Err(internal_error(format!("a profile event without its fields: {e}")));
        };
        if !found.contains_key(&profile) {
            found.insert(profile.clone(), usable(app, &profile).await?);
        }
        let Some(Some(usable)) = found.get(&profile) else {
            // erased since: nobody to say it of
            continue;
        };
        let mut msg = json!({
            "type": "track", "event": event, "messageId": message_id,
            "timestamp": e.get("at").cloned().unwrap_or_else(|| json!(app.now())),
            "properties": e.get("properties").cloned().unwrap_or_else(|| json!({})),
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
