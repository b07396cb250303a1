//! Tests of `pii.rs`: values, lookups, sealed JSON, edge sealing.

use super::*;

#[test]
fn an_edge_seals_for_the_core_and_opens_nothing() {
    let core = PiiCipher::new(&[7; 32]);
    let public = core.edge_public_key().unwrap_or_default();
    assert_eq!(PiiCipher::new(&[7; 32]).edge_public_key(), Some(public.clone()), "the same master, the same key");
    let edge = PiiCipher::sealing_for(&public).expect("edge");
    assert!(!edge.opens() && edge.edge_public_key().is_none());
    let text = r#"{"traits":{"email":"ann@example.com","phone":13800138000,"name":"安"}}"#;
    let sealed = edge.seal_json(text).expect("seal").into_owned();
    assert!(!sealed.contains("ann@example.com") && !sealed.contains("13800138000"), "{sealed}");
    assert!(sealed.contains(EDGE_SEALED_PREFIX) && sealed.contains(EDGE_SEALED_JSON_PREFIX));
    assert_eq!(core.open_json(&sealed).expect("the core opens it"), text);
    // asked to, the edge opens neither what it sealed nor what the core sealed
    assert!(edge.open_json(&sealed).is_err());
    assert!(edge.open_json(&core.seal_json(text).expect("seal")).is_err());
    assert!(edge.decrypt(&core.encrypt("ann@example.com")).is_err());
    // another master opens nothing of it; another edge process seals under another key
    assert_eq!(PiiCipher::new(&[8; 32]).open_json(&sealed).expect("left sealed"), sealed);
    let other = PiiCipher::sealing_for(&public).expect("edge");
    assert_ne!(other.encrypt("x")[..43], edge.encrypt("x")[..43], "a new ephemeral key per process");
    assert_eq!(core.open_json(&other.seal_json(text).expect("seal")).expect("open"), text);
    // and its lookups match nothing the core stores
    assert_ne!(edge.lookup_key("email", "ann@example.com"), core.lookup_key("email", "ann@example.com"));
    for bad in ["", "not base64!", "AAAA", &"A".repeat(43)] {
        assert!(PiiCipher::sealing_for(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn values_round_trip_and_ciphertexts_differ_each_time() {
    let c = PiiCipher::new(&[7; 32]);
    let a = c.encrypt("ann@example.com");
    let b = c.encrypt("ann@example.com");
    assert_ne!(a, b);
    assert!(!a.contains("ann"));
    assert_eq!(c.decrypt(&a).ok().as_deref(), Some("ann@example.com"));
    assert!(PiiCipher::new(&[8; 32]).decrypt(&a).is_err());
    assert!(c.decrypt("garbage!").is_err());
}

#[test]
fn lookup_keys_are_stable_and_keyed() {
    let c = PiiCipher::new(&[7; 32]);
    assert_eq!(c.lookup_key("email", "a@x.com"), c.lookup_key("email", "a@x.com"));
    assert_ne!(c.lookup_key("email", "a@x.com"), c.lookup_key("phone", "a@x.com"));
    assert_ne!(c.lookup_key("email", "a@x.com"), PiiCipher::new(&[8; 32]).lookup_key("email", "a@x.com"));
}

#[test]
fn personal_data_in_json_is_sealed_at_any_depth_and_opened_back() {
    let c = PiiCipher::new(&[7; 32]);
    let text = r#"{"z":1,"traits":{"Email":"a@x.com","name":"李"},"context":{"traits":{"phone":"+8613800138000"}},"list":[{"email":"b@x.com"}],"email_count":2}"#;
    let sealed = c.seal_json(text).unwrap_or_default();
    for secret in ["a@x.com", "+8613800138000", "b@x.com"] {
        assert!(!sealed.contains(secret), "{sealed}");
    }
    assert!(sealed.starts_with(r#"{"z":1,"#), "key order kept: {sealed}");
    let opened = c.open_json(&sealed).ok().map(|c| c.into_owned()).unwrap_or_default();
    assert_eq!(serde_json::from_str::<Value>(&opened).ok(), serde_json::from_str::<Value>(text).ok());
    let plain = r#"{"event":"x","properties":{"phone_model":"p","name":"龙井"},"context":{"library":{"name":"a"}}}"#;
    assert!(matches!(c.seal_json(plain), Ok(Cow::Borrowed(_))), "no personal keys: stored byte for byte");
    // the configured list: any key, anywhere or within traits only
    let custom = PiiCipher::new(&[7; 32]).with_keys(PiiKeys::new(&["wechat_id", "traits.nick"]).expect("keys"));
    let text = r#"{"properties":{"WechatId":"wx1","nick":"n1"},"traits":{"nick":"n2","email":"kept"}}"#;
    let sealed = custom.seal_json(text).expect("sealed").into_owned();
    // (read by field: a ciphertext's base64 may hold "n2" by chance)
    let v: Value = serde_json::from_str(&sealed).expect("JSON");
    assert_ne!(v["properties"]["WechatId"], "wx1", "{sealed}");
    assert_eq!(v["properties"]["nick"], "n1", "not within traits: kept: {sealed}");
    assert_ne!(v["traits"]["nick"], "n2", "{sealed}");
    assert_eq!(v["traits"]["email"], "kept", "not on this list: {sealed}");
    assert_eq!(c.open_json(&sealed).expect("opened by any list"), text);
    assert_eq!(PiiCipher::new(&[8; 32]).open_json(&sealed).expect("left sealed"), sealed, "another key opens nothing");
}

#[test]
fn numbers_arrays_escaped_keys_and_look_alike_text_are_handled() {
    let c = PiiCipher::new(&[7; 32]);
    let round_trip = |text: &str| {
        let sealed = c.seal_json(text).map(|s| s.into_owned()).unwrap_or_default();
        let opened = c.open_json(&sealed).map(|s| s.into_owned()).unwrap_or_default();
        (sealed, serde_json::from_str::<Value>(&opened).ok())
    };
    let text = r#"{"traits":{"phone":13800138000,"email":["a@x.com"],"\u0065mail":"b@x.com"}}"#;
    let (sealed, opened) = round_trip(text);
    for secret in ["13800138000", "a@x.com", "b@x.com"] {
        assert!(!sealed.contains(secret), "{secret} in {sealed}");
    }
    assert_eq!(opened, serde_json::from_str::<Value>(text).ok());
    // a client string that looks sealed: kept as sent, never a decryption error
    let look_alike = r#"{"properties":{"note":"bcn:pii:v1:AAAA"},"traits":{"email":"bcn:pii:v1:BBBB"}}"#;
    let (sealed, opened) = round_trip(look_alike);
    assert_eq!(opened, serde_json::from_str::<Value>(look_alike).ok());
    assert!(!sealed.contains("AAAA") && !sealed.contains("BBBB"), "look-alikes are sealed too: {sealed}");
    assert!(c.open_json(r#"{"note":"bcn:pii:v1:AAAA"}"#).is_ok());
    assert!(c.seal_json(r#"{"email":"x@y.z", bad json"#).is_err(), "refused, not stored in the clear");
}

/// [`PiiCipher::seal_json`] through a parsed document (the reference the
/// text scan is tested against).
fn seal_value(c: &PiiCipher, value: &mut Value, in_traits: bool) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match v {
                    _ if !c.keys.matches(key, in_traits) => seal_value(c, v, in_traits || key == "traits"),
                    Value::Null => {}
                    Value::String(s) => *s = format!("{SEALED_PREFIX}{}", c.encrypt(s)),
                    other => *other = Value::String(format!("{SEALED_JSON_PREFIX}{}", c.encrypt(&other.to_string()))),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| seal_value(c, v, in_traits)),
        Value::String(s) if s.starts_with("bcn:pii:") => *s = format!("{SEALED_PREFIX}{}", c.encrypt(s)),
        _ => {}
    }
}

/// [`PiiCipher::open_json`] through a parsed document.
fn open_value(c: &PiiCipher, value: &mut Value) -> Result<(), DecryptError> {
    match value {
        Value::Object(map) => map.values_mut().try_for_each(|v| open_value(c, v)),
        Value::Array(items) => items.iter_mut().try_for_each(|v| open_value(c, v)),
        Value::String(s) => {
            if let Some(rest) = s.strip_prefix(SEALED_JSON_PREFIX) {
                *value = serde_json::from_str(&c.decrypt(rest)?).map_err(|_| DecryptError)?;
            } else if let Some(rest) = s.strip_prefix(SEALED_PREFIX) {
                *value = Value::String(c.decrypt(rest)?);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Random documents: keys personal or not (any case), values of every
/// kind, strings with quotes, escapes and look-alike ciphertext, nested.
fn random_doc(next: &mut impl FnMut(u64) -> u64, depth: u32) -> Value {
    const KEYS: [&str; 7] = ["email", "Phone_Number", "EMAIL", "name", "traits", "note", "address"];
    const STRINGS: [&str; 6] = ["a@x.com", "引号\"和\\反斜杠", "bcn:pii:v1:AAAA", "", "+8613800138000", "]}{["];
    match next(if depth == 0 { 4 } else { 6 }) {
        0 => Value::String(STRINGS[next(6) as usize].into()),
        1 => serde_json::json!(next(1000) as f64 / 8.0),
        2 => Value::Bool(next(2) == 0),
        3 => Value::Null,
        4 => Value::Array((0..next(3)).map(|_| random_doc(next, depth - 1)).collect()),
        _ => Value::Object(
            (0..next(4)).map(|_| (KEYS[next(7) as usize].to_string(), random_doc(next, depth - 1))).collect(),
        ),
    }
}

/// The text scan seals and opens exactly what the parsed reference does:
/// the same values sealed (string or JSON), and each opens the other's.
#[test]
fn the_text_scan_agrees_with_the_parsed_reference() {
    let c = PiiCipher::new(&[7; 32]);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |m: u64| {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % m
    };
    // what was sealed, and how, without the ciphertexts (random each time)
    fn shape(v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with(SEALED_JSON_PREFIX) => Value::String("J".into()),
            Value::String(s) if s.starts_with(SEALED_PREFIX) => Value::String("S".into()),
            Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
            Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), shape(v))).collect()),
            other => other.clone(),
        }
    }
    for round in 0..400 {
        let top = ["traits", "properties"][round % 2];
        let doc = Value::Object([(top.to_string(), random_doc(&mut next, 3))].into_iter().collect());
        let mut text = if round % 4 < 2 { doc.to_string() } else { serde_json::to_string_pretty(&doc).expect("JSON") };
        if round % 3 == 0 {
            text = text.replace("\"email\"", "\"\\u0065mail\"");
        }
        let sealed = c.seal_json(&text).expect("sealed").into_owned();
        let mut reference = doc.clone();
        seal_value(&c, &mut reference, false);
        let parsed: Value = serde_json::from_str(&sealed).expect("sealed text is JSON");
        assert_eq!(shape(&parsed), shape(&reference), "{text}");
        let opened: Value = serde_json::from_str(&c.open_json(&sealed).expect("opened")).expect("JSON");
        assert_eq!(opened, doc, "{text}");
        let mut by_reference = parsed.clone();
        open_value(&c, &mut by_reference).expect("reference opens the scan's");
        assert_eq!(by_reference, doc);
        let opened: Value = serde_json::from_str(&c.open_json(&reference.to_string()).expect("opened")).expect("JSON");
        assert_eq!(opened, doc, "the scan opens the reference's");
    }
}

#[test]
fn a_new_data_key_seals_from_then_on_and_every_key_still_opens() {
    let c = PiiCipher::new(&[7; 32]);
    let old = c.seal_json(r#"{"email":"a@x.cn","n":1}"#).expect("seal").into_owned();
    let id_old = c.encrypt("+8613800138000");
    let k1 = c.new_data_key().expect("key");
    c.install_data_keys(&[(1, k1.clone())], 1).expect("install");
    assert_eq!(c.current_data_key(), 1);
    let new = c.encrypt("b@x.cn");
    assert!(new.starts_with("k1:"), "{new}");
    assert_eq!(c.decrypt(&new).expect("open"), "b@x.cn");
    assert_eq!(c.decrypt(&id_old).expect("the old key opens"), "+8613800138000");
    // sealed again: every value moves to key 1, once
    let (again, n) = c.reseal_json(&old).expect("reseal");
    assert_eq!((n, c.data_keys_in(&old), c.data_keys_in(&again)), (1, vec![0], vec![1]));
    assert_eq!(c.open_json(&again).expect("open"), r#"{"email":"a@x.cn","n":1}"#);
    assert_eq!(c.reseal_json(&again).expect("reseal").1, 0, "nothing left to move");
    assert_eq!(c.reseal(&id_old).expect("reseal").map(|s| s.starts_with("k1:")), Some(true));
    assert_eq!(c.reseal(&new).expect("reseal"), None);
    // a clone shares the keys; a cipher of another master cannot open them
    assert_eq!(c.clone().decrypt(&new).expect("open"), "b@x.cn");
    let other = PiiCipher::new(&[8; 32]);
    assert!(other.install_data_keys(&[(1, k1)], 1).is_err());
    assert!(PiiCipher::new(&[7; 32]).decrypt(&new).is_err(), "key 1 unknown until installed");
    assert!(c.install_data_keys(&[], 2).is_err(), "a current key must be known");
}
