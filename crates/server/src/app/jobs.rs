//! The work an event leaves for later, as outbox jobs: queued by the
//! processor's follow-up stage (`processor::follow`) in its batch
//! transaction, keyed by the event's log position (a replayed batch queues
//! nothing twice), and handled here when a worker claims them. Handlers are
//! idempotent: a job whose worker died is claimed again.

use super::checkout::{loyalty, returns, signup};
use super::{App, AppResult};
use beacon_core::{Error, ErrorCode, ProfileId};
use beacon_store::{NewJob, Queue};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

/// A `Signed Up` event: sign-up coupon codes for the profile.
pub const SIGNUP: &str = "coupons.signup";
/// An order event, or an event the points program pays for.
pub const POINTS: &str = "points";
/// An applied refund or cancellation: promotion limits given back.
pub const RETURNS: &str = "limits.return";
/// The server says something of a profile (it entered a segment, its
/// lifecycle stage changed): the event goes into the log.
pub const PROFILE_NOTIFY: &str = super::notify::TOPIC;
/// Time passed: a profile's time-bound segments are decided again (a timer).
pub const SEGMENT_RECHECK: &str = crate::processor::segments::RECHECK;
/// Every topic, with its queue, for the dispatchers.
pub const TOPICS: [(Queue, &str); 5] = [
    (Queue::Outbox, SIGNUP),
    (Queue::Outbox, POINTS),
    (Queue::Outbox, RETURNS),
    (Queue::Outbox, PROFILE_NOTIFY),
    (Queue::Timers, SEGMENT_RECHECK),
];

fn job(topic: &str, seq: i64, payload: Value, at: DateTime<Utc>) -> NewJob {
    NewJob { key: format!("{topic}:{seq}"), topic: topic.into(), payload, due_at: at }
}

/// The sign-up at log position `seq` of `profile`.
pub fn signup(seq: i64, profile: &str, at: DateTime<Utc>) -> NewJob {
    job(SIGNUP, seq, json!({"profile_id": profile}), at)
}

/// An order event (`completed`: an `Order Completed`) from `source`;
/// `program`: whether a points program existed when it was processed
/// (points are earned from the program's start, not for orders before it).
pub fn points_order(
    seq: i64,
    order_id: &str,
    completed: bool,
    source: &str,
    program: bool,
    at: DateTime<Utc>,
) -> NewJob {
    job(POINTS, seq, json!({"order_id": order_id, "completed": completed, "source": source, "program": program}), at)
}

/// An event the points program pays for, received at `received` on
/// `profile`, due at `at`.
pub fn points_event(
    seq: i64,
    name: &str,
    profile: &str,
    source: &str,
    received: DateTime<Utc>,
    at: DateTime<Utc>,
) -> NewJob {
    let payload = json!({"event": name, "seq": seq, "profile_id": profile, "source": source, "received_at": received});
    job(POINTS, seq, payload, at)
}

/// The applied refund or cancellation at log position `seq`.
pub fn give_back(seq: i64, order_id: &str, at: DateTime<Utc>) -> NewJob {
    job(RETURNS, seq, json!({"seq": seq, "order_id": order_id}), at)
}

fn malformed(topic: &str, payload: &Value) -> Error {
    Error::new(ErrorCode::Internal, format!("a {topic} job without its fields: {payload}"))
}

/// Does what a job of `topic` asks.
pub async fn handle(app: &App, topic: &str, payload: &Value) -> AppResult<()> {
    let text = |k: &str| payload.get(k).and_then(Value::as_str);
    match topic {
        SIGNUP => {
            let profile = text("profile_id").ok_or_else(|| malformed(topic, payload))?;
            signup::issue_for(app, profile).await
        }
        POINTS => {
            let source = text("source").unwrap_or("");
            if let Some(order_id) = text("order_id") {
                // earned only if the program was there when the order was processed
                let completed =
                    payload["completed"].as_bool().unwrap_or(false) && payload["program"].as_bool().unwrap_or(true);
                return loyalty::order_changed(app, order_id, completed, source).await;
            }
            let (Some(name), Some(profile), Some(seq)) = (text("event"), text("profile_id"), payload["seq"].as_i64())
            else {
                return Err(malformed(topic, payload));
            };
            let at: DateTime<Utc> =
                serde_json::from_value(payload["received_at"].clone()).map_err(|_| malformed(topic, payload))?;
            let profile: ProfileId = super::profiles::parse_id(profile)?;
            loyalty::event_earns(app, seq, name, profile, source, at).await
        }
        PROFILE_NOTIFY => super::notify::handle(app, payload).await,
        SEGMENT_RECHECK => {
            let profile = text("profile_id").ok_or_else(|| malformed(topic, payload))?;
            super::segments::recheck(app, super::profiles::parse_id(profile)?).await
        }
        RETURNS => {
            let seq = payload["seq"].as_i64().ok_or_else(|| malformed(topic, payload))?;
            let given = returns::give_back_one(app.store.as_ref(), seq, app.now()).await.map_err(Error::from)?;
            match given {
                Some(profile) => super::segments::wallet_changed(app, &[profile]).await,
                None => Ok(()),
            }
        }
        other => Err(Error::new(ErrorCode::Internal, format!("no handler for jobs of topic {other:?}"))),
    }
}
