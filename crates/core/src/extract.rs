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

/// Reads identities and traits from a stored message.
pub fn extract(kind: MessageKind, payload: &Value, rules: &IdentityRules) -> Extracted {
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
    push(&mut out, IdentityKind::UserId, payload.get("userId"));
    push(&mut out, IdentityKind::AnonymousId, payload.get("anonymousId"));
    push(&mut out, IdentityKind::DeviceId, path(payload, &["context", "device", "id"]));

    let context_traits = path(payload, &["context", "traits"]).and_then(Value::as_object);
    let top_traits = payload.get("traits").and_then(Value::as_object);
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
    push(&mut out, IdentityKind::OpenId, path(payload, &["context", "wechat", "openid"]));
    push(&mut out, IdentityKind::UnionId, path(payload, &["context", "wechat", "unionid"]));

    if kind == MessageKind::Alias {
        out.previous_id = payload.get("previousId").and_then(as_id_string).map(|p| p.trim().to_string());
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
}
