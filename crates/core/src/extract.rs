//! What a stored message says about who sent it: its identities and, for
//! `identify`, the traits to merge into the profile.

use crate::identity::{Identity, IdentityKind, NormalizeOptions};
use crate::message::MessageKind;
use serde_json::{Map, Value};

/// Settings-driven identity rules.
#[derive(Debug, Clone)]
pub struct IdentityRules {
    pub normalize: NormalizeOptions,
    /// Kinds of which a profile may hold one value only; two profiles holding
    /// different values of such a kind never merge implicitly.
    pub unique_kinds: Vec<IdentityKind>,
    /// Extra identity kinds read from traits under their own name.
    pub custom_kinds: Vec<String>,
}

impl Default for IdentityRules {
    fn default() -> Self {
        IdentityRules {
            normalize: NormalizeOptions::default(),
            unique_kinds: vec![IdentityKind::UserId],
            custom_kinds: Vec::new(),
        }
    }
}

impl IdentityRules {
    pub fn is_unique(&self, kind: &IdentityKind) -> bool {
        self.unique_kinds.contains(kind)
    }
}

/// Identities and trait updates read from one message.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub identities: Vec<Identity>,
    /// `alias`: the previous id, to be looked up as a user id or anonymous id.
    pub previous_id: Option<String>,
    /// Traits to merge (identify only): `context.traits` overlaid by `traits`.
    pub traits: Map<String, Value>,
    /// Identity-like values that could not be normalised (kept as traits only).
    pub skipped: Vec<(String, String)>,
    /// The person's word on each purpose (`context.consent.categoryPreferences`,
    /// Segment's consent object): granted or not.
    pub consents: Vec<(String, bool)>,
}

fn as_id_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        // only exact integers: a float's text is not a stable identifier
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

/// The parts of a message that [`extract`] reads.
#[derive(Default)]
struct Parts<'a> {
    user_id: Option<&'a Value>,
    anonymous_id: Option<&'a Value>,
    previous_id: Option<&'a Value>,
    device_id: Option<&'a Value>,
    context_traits: Option<&'a Value>,
    traits: Option<&'a Value>,
    openid: Option<&'a Value>,
    unionid: Option<&'a Value>,
    consent: Option<&'a Value>,
}

impl<'a> Parts<'a> {
    fn of(payload: &'a Value) -> Self {
        Parts {
            user_id: payload.get("userId"),
            anonymous_id: payload.get("anonymousId"),
            previous_id: payload.get("previousId"),
            device_id: path(payload, &["context", "device", "id"]),
            context_traits: path(payload, &["context", "traits"]),
            traits: payload.get("traits"),
            openid: path(payload, &["context", "wechat", "openid"]),
            unionid: path(payload, &["context", "wechat", "unionid"]),
            consent: path(payload, &["context", "consent", "categoryPreferences"]),
        }
    }
}

/// Just the fields [`extract`] reads: everything else in the text (properties,
/// most of the context) is skipped while parsing rather than built into a
/// tree, which makes reading a stored message several times cheaper.
#[derive(serde::Deserialize)]
struct Fields<'t> {
    #[serde(rename = "userId", default)]
    user_id: Option<Value>,
    #[serde(rename = "anonymousId", default)]
    anonymous_id: Option<Value>,
    #[serde(rename = "previousId", default)]
    previous_id: Option<Value>,
    #[serde(default)]
    traits: Option<Value>,
    #[serde(default)]
    context: Option<ContextFields>,
    #[serde(default)]
    event: Option<Value>,
    #[serde(default)]
    name: Option<Value>,
    #[serde(borrow, default)]
    properties: Option<&'t serde_json::value::RawValue>,
}

#[derive(serde::Deserialize)]
struct ContextFields {
    #[serde(default)]
    device: Option<Value>,
    #[serde(default)]
    traits: Option<Value>,
    #[serde(default)]
    wechat: Option<Value>,
    #[serde(default)]
    consent: Option<Value>,
}

/// What the processor reads from a stored message, in one pass over its
/// text: identities and traits, the event's name, and its `properties` as
/// they are written (for the commerce and product readings, which then
/// parse only those).
pub struct MessageRead<'t> {
    pub found: Extracted,
    /// `event` of a track, `name` of a page or screen.
    pub name: Option<String>,
    pub properties: Option<&'t serde_json::value::RawValue>,
}

/// Reads identities and traits from a stored message's JSON text, and the
/// event's name (`event` of a track, `name` of a page or screen). Gives the
/// same result as parsing the text into a [`Value`] and calling [`extract`].
pub fn extract_text(
    kind: MessageKind,
    text: &str,
    rules: &IdentityRules,
) -> Result<(Extracted, Option<String>), serde_json::Error> {
    read_message(kind, text, rules).map(|m| (m.found, m.name))
}

/// [`extract_text`], with the message's `properties` as written.
pub fn read_message<'t>(
    kind: MessageKind,
    text: &'t str,
    rules: &IdentityRules,
) -> Result<MessageRead<'t>, serde_json::Error> {
    let name_of = |event: Option<&Value>, name: Option<&Value>| {
        let field = match kind {
            MessageKind::Track => event,
            MessageKind::Page | MessageKind::Screen => name,
            _ => None,
        };
        field.and_then(Value::as_str).map(str::to_string)
    };
    match serde_json::from_str::<Fields<'t>>(text) {
        Ok(f) => {
            let context = f.context.as_ref();
            let parts = Parts {
                user_id: f.user_id.as_ref(),
                anonymous_id: f.anonymous_id.as_ref(),
                previous_id: f.previous_id.as_ref(),
                device_id: context.and_then(|c| c.device.as_ref()).and_then(|d| d.get("id")),
                context_traits: context.and_then(|c| c.traits.as_ref()),
                traits: f.traits.as_ref(),
                openid: context.and_then(|c| c.wechat.as_ref()).and_then(|w| w.get("openid")),
                unionid: context.and_then(|c| c.wechat.as_ref()).and_then(|w| w.get("unionid")),
                consent: context.and_then(|c| c.consent.as_ref()).and_then(|c| c.get("categoryPreferences")),
            };
            Ok(MessageRead {
                found: extract_parts(kind, &parts, rules),
                name: name_of(f.event.as_ref(), f.name.as_ref()),
                properties: f.properties,
            })
        }
        // a shape the narrow reading refuses (a key given twice, a context
        // that is not an object…): read it whole, as a Value sees it (and
        // its properties as a reading of them alone finds them, if it can)
        Err(_) => {
            let payload: Value = serde_json::from_str(text)?;
            let found = extract(kind, &payload, rules);
            #[derive(serde::Deserialize)]
            struct PropertiesOnly<'t> {
                #[serde(borrow, default)]
                properties: Option<&'t serde_json::value::RawValue>,
            }
            let properties = serde_json::from_str::<PropertiesOnly<'t>>(text).ok().and_then(|p| p.properties);
            Ok(MessageRead { found, name: name_of(payload.get("event"), payload.get("name")), properties })
        }
    }
}

/// Reads identities and traits from a stored message.
pub fn extract(kind: MessageKind, payload: &Value, rules: &IdentityRules) -> Extracted {
    extract_parts(kind, &Parts::of(payload), rules)
}

fn extract_parts(kind: MessageKind, parts: &Parts<'_>, rules: &IdentityRules) -> Extracted {
    let mut out = Extracted::default();
    let push = |out: &mut Extracted, kind: IdentityKind, raw: Option<&Value>| {
        let Some(raw) = raw.and_then(as_id_string) else {
            return;
        };
        match Identity::parse(kind.clone(), &raw, &rules.normalize) {
            Ok(id) if !out.identities.contains(&id) => out.identities.push(id),
            Ok(_) => {}
            Err(_) => out.skipped.push((kind.to_string(), raw)),
        }
    };
    push(&mut out, IdentityKind::UserId, parts.user_id);
    push(&mut out, IdentityKind::AnonymousId, parts.anonymous_id);
    push(&mut out, IdentityKind::DeviceId, parts.device_id);

    let context_traits = parts.context_traits.and_then(Value::as_object);
    let top_traits = parts.traits.and_then(Value::as_object);
    let trait_sources: Vec<&Map<String, Value>> = context_traits.into_iter().chain(top_traits).collect();
    let mut named: Vec<(IdentityKind, &str)> = vec![
        (IdentityKind::Email, "email"),
        (IdentityKind::Phone, "phone"),
        (IdentityKind::OpenId, "openid"),
        (IdentityKind::UnionId, "unionid"),
    ];
    for custom in &rules.custom_kinds {
        named.push((IdentityKind::Custom(custom.clone()), custom.as_str()));
    }
    for (kind, key) in &named {
        for source in &trait_sources {
            push(&mut out, kind.clone(), source.get(*key));
        }
    }
    push(&mut out, IdentityKind::OpenId, parts.openid);
    push(&mut out, IdentityKind::UnionId, parts.unionid);

    // a purpose is a name of 1 to 64 characters; only true or false is a word on it
    if let Some(prefs) = parts.consent.and_then(Value::as_object) {
        for (purpose, granted) in prefs {
            let purpose = purpose.trim();
            if let (Some(granted), 1..=64) = (granted.as_bool(), purpose.chars().count()) {
                out.consents.push((purpose.to_string(), granted));
            }
        }
    }
    if kind == MessageKind::Alias {
        out.previous_id = parts.previous_id.and_then(as_id_string).map(|p| p.trim().to_string());
    }
    if kind == MessageKind::Identify {
        for source in trait_sources {
            for (k, v) in source {
                out.traits.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
