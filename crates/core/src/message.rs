//! Validation of Segment tracking-API messages at the ingest edge.
//!
//! The hot path reads only the fields it must check and keeps the message's raw
//! JSON untouched, so every field of the spec (and any extension a client
//! sends) survives byte for byte.

use crate::error::{Error, ErrorCode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Largest single message, in bytes (Segment's limit).
pub const MAX_EVENT_BYTES: usize = 32 * 1024;
/// Largest request body after decompression, in bytes (Segment's batch limit).
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
/// Longest `messageId` accepted.
pub const MAX_MESSAGE_ID_LEN: usize = 200;

/// The six Segment call types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Track,
    Identify,
    Page,
    Screen,
    Group,
    Alias,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Track => "track",
            MessageKind::Identify => "identify",
            MessageKind::Page => "page",
            MessageKind::Screen => "screen",
            MessageKind::Group => "group",
            MessageKind::Alias => "alias",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "track" => MessageKind::Track,
            "identify" => MessageKind::Identify,
            "page" => MessageKind::Page,
            "screen" => MessageKind::Screen,
            "group" => MessageKind::Group,
            "alias" => MessageKind::Alias,
            _ => return None,
        })
    }
}

/// A message that passed validation, ready for the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingMessage {
    pub kind: MessageKind,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// Event time, corrected for client clock skew.
    pub timestamp: DateTime<Utc>,
    /// The message exactly as sent.
    pub payload: String,
}

/// What the request around a message contributes.
#[derive(Clone, Copy)]
pub struct Envelope<'a> {
    pub received_at: DateTime<Utc>,
    /// Batch-level `sentAt`, used when the message has none.
    pub sent_at: Option<DateTime<Utc>>,
    /// The call type implied by the route (`/v1/track`), if any.
    pub kind: Option<MessageKind>,
    /// Makes a fallback `messageId` when the client sent none (unique per call).
    pub generated_id: &'a (dyn Fn() -> String + Sync),
    /// An SDK's message, sent as it happens (not an import of history):
    /// its time may not be before [`LIVE_FLOOR`].
    pub live: bool,
    /// With the shop's identity rules, an identity in the message that
    /// cannot be read (an email trait that is no email) refuses it.
    pub identities: Option<&'a crate::extract::IdentityRules>,
}

/// Refuses a message naming an identity that cannot be normalised.
fn check_identities(kind: MessageKind, text: &str, env: &Envelope<'_>) -> Result<(), Error> {
    let Some(rules) = env.identities else { return Ok(()) };
    // (ids were checked already; only traits and context name others)
    if !text.contains("traits") && !text.contains("wechat") && !text.contains("device") {
        return Ok(());
    }
    let Ok((found, _)) = crate::extract::extract_text(kind, text, rules) else { return Ok(()) };
    match found.skipped.first() {
        None => Ok(()),
        Some((what, value)) => Err(Error::new(
            ErrorCode::InvalidIdentity,
            format!("{what} {value:?} cannot be read as one; send it corrected, or without it"),
        )),
    }
}

/// The earliest time a live message may carry: before it, a device clock
/// that was never set (history is imported with a secret key instead).
pub const LIVE_FLOOR: &str = "2000-01-01T00:00:00Z";
/// The earliest time any message may carry: 1970-01-01 is a missing date.
pub const FLOOR: &str = "1970-01-02T00:00:00Z";
/// How far past its receipt an event's (corrected) time may be, in hours.
pub const MAX_AHEAD_HOURS: i64 = 24;

/// Refuses an event time no clock could have meant.
fn check_time(at: DateTime<Utc>, env: &Envelope<'_>) -> Result<DateTime<Utc>, Error> {
    let floor = if env.live { LIVE_FLOOR } else { FLOOR };
    let bad = |m: String| Error::new(ErrorCode::InvalidTimestamp, m);
    if at < parse_time(floor, "floor")? {
        let how = if env.live { " (a device clock never set?); import history through /api/v1/events" } else { "" };
        return Err(bad(format!("timestamp {} is before {floor}{how}", at.to_rfc3339())));
    }
    if at > env.received_at + chrono::TimeDelta::hours(MAX_AHEAD_HOURS) {
        return Err(bad(format!(
            "timestamp {} is more than {MAX_AHEAD_HOURS} hours after the message was received ({}), \
             even corrected by its sentAt",
            at.to_rfc3339(),
            env.received_at.to_rfc3339()
        )));
    }
    Ok(at)
}

#[derive(Deserialize)]
struct WireMessage<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "messageId", borrow, default)]
    message_id: Option<&'a RawValue>,
    #[serde(rename = "userId", borrow, default)]
    user_id: Option<&'a RawValue>,
    #[serde(rename = "anonymousId", borrow, default)]
    anonymous_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "originalTimestamp", borrow, default)]
    original_timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sentAt", borrow, default)]
    sent_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    event: Option<Cow<'a, str>>,
    #[serde(rename = "previousId", borrow, default)]
    previous_id: Option<&'a RawValue>,
    #[serde(rename = "groupId", borrow, default)]
    group_id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    category: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    properties: Option<&'a RawValue>,
    #[serde(borrow, default)]
    traits: Option<&'a RawValue>,
    #[serde(borrow, default)]
    context: Option<&'a RawValue>,
    #[serde(borrow, default)]
    integrations: Option<&'a RawValue>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidEvent, message)
}

/// Reads an id field: a JSON string or number (as Segment accepts); `null` and
/// the empty string count as absent.
pub(crate) fn id_field(raw: Option<&RawValue>, field: &str) -> Result<Option<String>, Error> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get();
    let value = match text.as_bytes().first() {
        Some(b'"') => serde_json::from_str::<Cow<str>>(text)
            .map_err(|_| invalid(format!("{field} is not a valid string")))?
            .into_owned(),
        // a number must survive any JSON parser exactly: a 64-bit integer
        Some(b'-' | b'0'..=b'9') if text.parse::<i64>().is_ok() || text.parse::<u64>().is_ok() => text.to_string(),
        Some(b'-' | b'0'..=b'9') => {
            return Err(invalid(format!("{field} as a number must be a 64-bit integer; send it as a string")));
        }
        _ => return Err(invalid(format!("{field} must be a string or a number"))),
    };
    if value.len() > crate::identity::MAX_IDENTITY_LEN {
        return Err(invalid(format!("{field} is longer than {} bytes", crate::identity::MAX_IDENTITY_LEN)));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(format!("{field} contains a control character")));
    }
    Ok(if value.trim().is_empty() { None } else { Some(value) })
}

/// Event and page names: text without control characters.
fn name_field(value: Option<&str>, field: &str) -> Result<(), Error> {
    match value {
        Some(v) if v.chars().any(char::is_control) => Err(invalid(format!("{field} contains a control character"))),
        _ => Ok(()),
    }
}

fn object_field(raw: Option<&RawValue>, field: &str) -> Result<(), Error> {
    match raw.map(|r| r.get().as_bytes().first()) {
        None | Some(Some(b'{')) => Ok(()),
        _ => Err(invalid(format!("{field} must be an object"))),
    }
}

/// Can every store keep this text? It must parse (no lone surrogates) and
/// hold no NUL character anywhere (PostgreSQL text and JSON refuse it).
fn escapes_are_storable(text: &str) -> bool {
    fn clean(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => !s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().all(clean),
            serde_json::Value::Object(m) => m.iter().all(|(k, v)| !k.contains('\0') && clean(v)),
            _ => true,
        }
    }
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| clean(&v))
}

/// Parses an ISO-8601 / RFC 3339 time.
pub fn parse_time(s: &str, field: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Error::new(ErrorCode::InvalidTimestamp, format!("{field} {s:?} is not an ISO-8601 time")))
}

/// Segment's skew correction: `receivedAt - (sentAt - originalTimestamp)`.
fn corrected_time(
    original: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    received_at: DateTime<Utc>,
) -> DateTime<Utc> {
    match (original, sent_at) {
        (Some(original), Some(sent)) => {
            received_at.checked_sub_signed(sent.signed_duration_since(original)).unwrap_or(original)
        }
        (Some(original), None) => original,
        (None, _) => received_at,
    }
}

/// Validates one raw message. The error says which field is wrong.
pub fn validate(raw: &RawValue, env: &Envelope<'_>) -> Result<IncomingMessage, Error> {
    let text = raw.get();
    if text.len() > MAX_EVENT_BYTES {
        return Err(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("event is {} bytes; the limit is {MAX_EVENT_BYTES}", text.len()),
        ));
    }
    if !text.starts_with('{') {
        return Err(invalid("an event must be a JSON object"));
    }
    let wire: WireMessage<'_> = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
    // The route decides the type of a single call; a batch item names its own.
    let kind = match (env.kind, wire.kind.as_deref()) {
        (Some(k), _) => k,
        (None, Some(t)) => {
            MessageKind::parse(t).ok_or_else(|| invalid(format!("type {t:?} is not a Segment call type")))?
        }
        (None, None) => return Err(invalid("type is required in a batch")),
    };
    let user_id = id_field(wire.user_id, "userId")?;
    let anonymous_id = id_field(wire.anonymous_id, "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(Error::new(ErrorCode::MissingIdentity, "either userId or anonymousId is required"));
    }
    match kind {
        MessageKind::Track if wire.event.as_deref().is_none_or(|e| e.trim().is_empty()) => {
            return Err(invalid("track needs a non-empty event name"));
        }
        MessageKind::Alias if id_field(wire.previous_id, "previousId")?.is_none() || user_id.is_none() => {
            return Err(invalid("alias needs previousId and userId"));
        }
        MessageKind::Group if id_field(wire.group_id, "groupId")?.is_none() => {
            return Err(invalid("group needs a groupId"));
        }
        _ => {}
    }
    object_field(wire.properties, "properties")?;
    object_field(wire.traits, "traits")?;
    object_field(wire.context, "context")?;
    object_field(wire.integrations, "integrations")?;
    name_field(wire.event.as_deref(), "event")?;
    name_field(wire.name.as_deref(), "name")?;
    name_field(wire.category.as_deref(), "category")?;
    // Escapes can hide text that JSON parsers reject later (a lone UTF-16
    // surrogate from a truncated emoji): such a message must fail here, not
    // after it was acknowledged.
    if text.contains("\\u") && !escapes_are_storable(text) {
        return Err(invalid(
            "the event contains an invalid escape (a lone UTF-16 surrogate) or a NUL character (\\u0000)",
        ));
    }
    // an order, refund or review the processor could not read is refused now
    if kind == MessageKind::Track
        && let Some(commerce) = wire.event.as_deref().and_then(crate::commerce::CommerceKind::of)
    {
        crate::commerce::parse_properties(commerce, wire.properties, crate::Currency::CNY)?;
    }
    let original = match wire.timestamp.as_deref().or(wire.original_timestamp.as_deref()) {
        Some(t) => Some(parse_time(t, "timestamp")?),
        None => None,
    };
    let sent_at = match wire.sent_at.as_deref() {
        Some(t) => Some(parse_time(t, "sentAt")?),
        None => env.sent_at,
    };
    let message_id = match id_field(wire.message_id, "messageId")? {
        Some(id) if id.len() > MAX_MESSAGE_ID_LEN => {
            return Err(invalid(format!("messageId is longer than {MAX_MESSAGE_ID_LEN} bytes")));
        }
        Some(id) => id,
        None => (env.generated_id)(),
    };
    check_identities(kind, text, env)?;
    Ok(IncomingMessage {
        kind,
        message_id,
        user_id,
        anonymous_id,
        timestamp: check_time(corrected_time(original, sent_at, env.received_at), env)?,
        payload: text.to_string(),
    })
}

/// Applies a batch's top-level `context` and `integrations` to one message:
/// keys the message lacks are taken from the batch; the message's own win.
/// Returns `None` when nothing changes (the payload stays byte for byte).
pub fn apply_batch_defaults(
    payload: &str,
    context: Option<&serde_json::Map<String, serde_json::Value>>,
    integrations: Option<&serde_json::Map<String, serde_json::Value>>,
) -> Option<String> {
    use serde_json::Value;
    let mut msg: serde_json::Map<String, Value> = serde_json::from_str(payload).ok()?;
    let mut changed = false;
    for (field, defaults) in [("context", context), ("integrations", integrations)] {
        let Some(defaults) = defaults.filter(|d| !d.is_empty()) else { continue };
        let target = msg.entry(field).or_insert_with(|| Value::Object(Default::default()));
        if target.is_null() {
            *target = Value::Object(Default::default());
        }
        if let Value::Object(own) = target {
            for (k, v) in defaults {
                if !own.contains_key(k) {
                    own.insert(k.clone(), v.clone());
                    changed = true;
                }
            }
        }
    }
    changed.then(|| Value::Object(msg).to_string())
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
