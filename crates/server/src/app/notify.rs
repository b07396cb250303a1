//! Events the server says of a profile (`Segment Entered`, `Lifecycle
//! Stage Changed`…), queued in the outbox by whatever decided them and
//! appended here to the event log, named by one of the profile's
//! identities (a user id first), under the message id they were queued
//! with: a retried job logs nothing twice.

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

/// Appends the job's event to the log.
pub async fn handle(app: &App, payload: &Value) -> AppResult<()> {
    let text = |k: &str| payload.get(k).and_then(Value::as_str).map(str::to_string);
    let (Some(profile), Some(event), Some(message_id)) = (text("profile_id"), text("event"), text("message_id")) else {
        return Err(internal_error(format!("a profile event without its fields: {payload}")));
    };
    let Ok(found) = super::profiles::by_id(app, &profile).await else {
        // erased since: nobody to say it of
        return Ok(());
    };
    let mut msg = json!({
        "type": "track", "event": event, "messageId": message_id,
        "timestamp": payload.get("at").cloned().unwrap_or_else(|| json!(app.now())),
        "properties": payload.get("properties").cloned().unwrap_or_else(|| json!({})),
    });
    // (only identities a server's message lands by: a claim a client made
    // alone would send it to a new profile, docs/SECURITY.md)
    let usable: Vec<Identity> = found
        .identities
        .iter()
        .filter(|i| beacon_core::trust::is_anchor(&i.kind) || !found.unverified.contains(i))
        .cloned()
        .collect();
    if !address(&mut msg, &usable) {
        tracing::warn!(profile = %profile, "a profile without an identity a server may name it by: {event} not logged");
        metrics::counter!("beacon_profile_events_unaddressed_total").increment(1);
        return Ok(());
    }
    super::log::append_internal(app, SOURCE, msg).await
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
