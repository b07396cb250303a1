//! Personal data as a role that needs no more sees it: `138****8000`,
//! `l***@example.com`, `李**`. Applied to whole JSON views, so a trait, an
//! event's properties or context, and an identity are masked alike.

use crate::pii_keys::PiiKeys;
use serde_json::Value;

/// `li.lei@example.com` → `l***@example.com`.
pub fn email(s: &str) -> String {
    match s.split_once('@') {
        Some((user, domain)) => format!("{}***@{domain}", user.chars().next().unwrap_or('*')),
        None => text(s),
    }
}

/// `13800138000` → `138****8000`, `+8613800138000` → `+86138****8000`.
pub fn phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 8 {
        return text(s);
    }
    let head: String = chars[..chars.len() - 8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// Anything else: its first character, then `**` (whatever its length).
pub fn text(s: &str) -> String {
    s.chars().next().map_or_else(String::new, |first| format!("{first}**"))
}

/// A value under a personal key: by what it looks like.
fn value(key: &str, s: &str) -> String {
    if s.contains('@') {
        email(s)
    } else if key.to_ascii_lowercase().contains("phone")
        || key.eq_ignore_ascii_case("mobile")
        || (s.len() >= 8 && s.chars().all(|c| c.is_ascii_digit() || "+- ".contains(c)))
    {
        phone(s)
    } else {
        text(s)
    }
}

/// Masks every string and number in `v` (all of it is personal: an
/// `address` object, a list of phones).
fn all(key: &str, v: &mut Value) {
    match v {
        Value::String(s) => *s = value(key, s),
        Value::Number(n) => *v = Value::String(value(key, &n.to_string())),
        Value::Object(map) => map.values_mut().for_each(|c| all(key, c)),
        Value::Array(items) => items.iter_mut().for_each(|c| all(key, c)),
        _ => {}
    }
}

/// Masks, in place, every value under a personal key (`security.pii_keys`)
/// and the value of every identity (`{"type", "value"}`) of such a type, at
/// any depth.
pub fn json(v: &mut Value, keys: &PiiKeys) {
    walk(v, keys, false);
}

fn walk(v: &mut Value, keys: &PiiKeys, in_traits: bool) {
    match v {
        Value::Object(map) => {
            let identity =
                map.get("type").and_then(Value::as_str).filter(|t| keys.matches(t, false)).map(str::to_string);
            for (k, child) in map.iter_mut() {
                let personal = keys.matches(k, in_traits) || (k == "value" && identity.is_some());
                match child {
                    Value::String(s) if personal => *s = value(identity.as_deref().unwrap_or(k), s),
                    Value::Number(n) if personal => *child = Value::String(value(k, &n.to_string())),
                    _ if personal => all(k, child),
                    _ => walk(child, keys, in_traits || k == "traits"),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| walk(i, keys, in_traits)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json as j;

    #[test]
    fn values_are_masked_as_the_issue_shows() {
        assert_eq!(phone("13800138000"), "138****8000");
        assert_eq!(phone("+8613800138000"), "+86138****8000");
        assert_eq!(email("li.lei@example.com"), "l***@example.com");
        assert_eq!(text("李雷"), "李**");
        assert_eq!(text("长安街1号"), "长**");
    }

    #[test]
    fn a_view_is_masked_at_any_depth_and_nothing_else_changes() {
        let keys = PiiKeys::defaults();
        let mut v = j!({
            "identities": [{"type": "email", "value": "ann@x.cn"}, {"type": "user_id", "value": "u1"}],
            "traits": {"name": "李雷", "mobile": 13800138000u64, "city": "深圳", "address": {"street": "长安街"}},
            "message": {"context": {"traits": {"email_address": "bob@y.cn"}}, "properties": {"total": "9.90", "name": "龙井"}},
            "name": "Product Viewed",
        });
        json(&mut v, &keys);
        assert_eq!(
            v,
            j!({
                "identities": [{"type": "email", "value": "a***@x.cn"}, {"type": "user_id", "value": "u1"}],
                "traits": {"name": "李**", "mobile": "138****8000", "city": "深圳", "address": {"street": "长**"}},
                "message": {"context": {"traits": {"email_address": "b***@y.cn"}}, "properties": {"total": "9.90", "name": "龙井"}},
                "name": "Product Viewed",
            })
        );
    }
}
