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
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(e: &Extracted) -> Vec<String> {
        e.identities.iter().map(|i| format!("{}:{}", i.kind, i.value)).collect()
    }

    #[test]
    fn identify_reads_every_identity_and_merges_context_traits_under_top_level() {
        let payload = json!({
            "type": "identify", "userId": "u1", "anonymousId": "a1",
            "context": {"device": {"id": "dev-9"}, "traits": {"phone": "138 0013 8000", "name": "旧名"},
                        "wechat": {"openid": "o-1"}},
            "traits": {"email": "Ann@Example.com", "name": "李雷", "unionid": "un-1"}
        });
        let e = extract(MessageKind::Identify, &payload, &IdentityRules::default());
        assert_eq!(
            ids(&e),
            [
                "user_id:u1",
                "anonymous_id:a1",
                "device_id:dev-9",
                "email:ann@example.com",
                "phone:+8613800138000",
                "unionid:un-1",
                "openid:o-1"
            ]
        );
        assert_eq!(e.traits.get("name"), Some(&json!("李雷")));
    }

    #[test]
    fn track_has_no_trait_updates_and_bad_values_are_skipped() {
        let payload = json!({"anonymousId": "a1", "context": {"traits": {"email": "not-an-email"}}});
        let e = extract(MessageKind::Track, &payload, &IdentityRules::default());
        assert_eq!(ids(&e), ["anonymous_id:a1"]);
        assert!(e.traits.is_empty());
        assert_eq!(e.skipped, [("email".to_string(), "not-an-email".to_string())]);
    }

    #[test]
    fn custom_kinds_come_from_settings() {
        let rules = IdentityRules { custom_kinds: vec!["member_no".into()], ..IdentityRules::default() };
        let payload = json!({"userId": "u", "traits": {"member_no": 1001}});
        let e = extract(MessageKind::Identify, &payload, &rules);
        assert_eq!(ids(&e), ["user_id:u", "member_no:1001"]);
    }

    fn both(kind: MessageKind, text: &str, rules: &IdentityRules) -> (Extracted, Option<String>) {
        let narrow = extract_text(kind, text, rules).expect("valid JSON");
        let payload: Value = serde_json::from_str(text).expect("valid JSON");
        let name = match kind {
            MessageKind::Track => payload.get("event"),
            MessageKind::Page | MessageKind::Screen => payload.get("name"),
            _ => None,
        }
        .and_then(Value::as_str)
        .map(str::to_string);
        assert_eq!(narrow, (extract(kind, &payload, rules), name), "{text}");
        narrow
    }

    #[test]
    fn reading_the_text_matches_reading_the_whole_tree_on_odd_shapes() {
        let rules = IdentityRules { custom_kinds: vec!["member_no".into()], ..IdentityRules::default() };
        let texts = [
            r#"{"userId":"u","event":"Viewed","properties":{"a":[1,{"b":null}]},"context":{"library":{"name":"x"}}}"#,
            // a key given twice: the last one counts, as in a Value
            r#"{"userId":"first","userId":"second","traits":{"email":"a@b.co"},"traits":{"phone":"13800138000"}}"#,
            r#"{"anonymousId":"a","context":{"traits":{"email":"x@y.zz"},"traits":{"email":"z@y.zz"}}}"#,
            // shapes that are not what the fields usually hold
            r#"{"userId":12,"anonymousId":1.5,"context":"text","traits":[1,2]}"#,
            r#"{"userId":null,"anonymousId":"a","context":{"device":"d","wechat":{"openid":7}}}"#,
            r#"{"userId":"u","context":{"device":{"id":"dev"},"wechat":{"openid":"o","unionid":"un"}}}"#,
            r#"{"userId":"u","previousId":"old","name":"Home","event":{"not":"text"}}"#,
            r#"{"userId":"u","traits":{"member_no":1001,"名字":"李雷","nested":{"k":[true]}}}"#,
        ];
        for text in texts {
            for kind in [MessageKind::Identify, MessageKind::Track, MessageKind::Page, MessageKind::Alias] {
                both(kind, text, &rules);
            }
        }
        let (e, _) = both(MessageKind::Identify, texts[1], &rules);
        assert_eq!(ids(&e), ["user_id:second", "phone:+8613800138000"]);
    }

    #[test]
    fn text_that_is_not_json_is_an_error() {
        assert!(extract_text(MessageKind::Track, "{", &IdentityRules::default()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn reading_the_text_matches_reading_the_whole_tree(
            user in proptest::option::of(leaf()),
            anon in proptest::option::of(leaf()),
            device in proptest::option::of(leaf()),
            email in proptest::option::of(leaf()),
            phone in proptest::option::of(leaf()),
            openid in proptest::option::of(leaf()),
            name in proptest::option::of(leaf()),
            top_traits in proptest::bool::ANY,
        ) {
            let mut msg = serde_json::Map::new();
            let mut context = serde_json::Map::new();
            let mut traits = serde_json::Map::new();
            if let Some(v) = user { msg.insert("userId".into(), v); }
            if let Some(v) = anon { msg.insert("anonymousId".into(), v); }
            if let Some(v) = device { context.insert("device".into(), json!({"id": v})); }
            if let Some(v) = email { traits.insert("email".into(), v); }
            if let Some(v) = phone { traits.insert("phone".into(), v); }
            if let Some(v) = openid { context.insert("wechat".into(), json!({"openid": v})); }
            if let Some(v) = name { msg.insert("event".into(), v.clone()); msg.insert("name".into(), v); }
            if top_traits { msg.insert("traits".into(), Value::Object(traits)); } else { context.insert("traits".into(), Value::Object(traits)); }
            msg.insert("context".into(), Value::Object(context));
            msg.insert("properties".into(), json!({"sku": "S-1", "price": 9.5, "tags": ["a", "b"]}));
            let text = Value::Object(msg).to_string();
            for kind in [MessageKind::Identify, MessageKind::Track, MessageKind::Screen, MessageKind::Alias] {
                both(kind, &text, &IdentityRules::default());
            }
        }
    }

    #[test]
    fn consent_preferences_are_words_on_purposes() {
        let payload = json!({"type": "track", "userId": "u1", "event": "X", "context": {"consent": {
            "categoryPreferences": {"email": true, "sms": false, " wechat ": true, "ads": "yes", "": true}}}});
        let text = payload.to_string();
        let (found, _) = extract_text(MessageKind::Track, &text, &IdentityRules::default()).expect("reads");
        let mut got = found.consents.clone();
        got.sort();
        // a word is true or false; a name is trimmed and not empty
        assert_eq!(got, [("email".to_string(), true), ("sms".to_string(), false), ("wechat".to_string(), true)]);
        assert_eq!(found, extract(MessageKind::Track, &payload, &IdentityRules::default()));
    }

    fn leaf() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e6f64..1e6).prop_map(|f| json!(f)),
            "[a-zA-Z0-9@. +\\-]{0,16}".prop_map(Value::String),
            Just(json!("138 0013 8000")),
            Just(json!("Ann@Example.com")),
            Just(json!({"nested": [1, "x"]})),
        ]
    }
}
