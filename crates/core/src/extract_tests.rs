//! Tests of [`super`]: identities and traits from messages, in both readings.

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
