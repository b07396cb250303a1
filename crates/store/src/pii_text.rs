//! Sealing and opening personal data inside JSON text, in the text: the
//! values under personal keys (`security.pii_keys`) are found by a scan of
//! the bytes and replaced, the rest is copied as it is. Every event with an email passes
//! through here twice (sealed into the log at ingest, opened by the
//! processor), and parsing the whole document into a `serde_json::Value`
//! and printing it again cost more than the rest of its handling.
//!
//! The text is checked to be JSON first (a cheap parse that keeps nothing),
//! so the scan may rely on it: a string ends at its first unescaped quote, a
//! container at its matching bracket. What the scan seals and opens is what
//! `seal_value` / `open_value` would (the tests compare them).

use serde::de::IgnoredAny;
use std::borrow::Cow;

/// Whether `text` is one JSON document.
pub(crate) fn is_json(text: &str) -> bool {
    serde_json::from_str::<IgnoredAny>(text).is_ok()
}

/// The end (one past the closing quote) of the string starting at `i`.
fn string_end(b: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < b.len() && b[i] != b'"' {
        i += if b[i] == b'\\' { 2 } else { 1 };
    }
    i + 1
}

/// The end of the object or array starting at `i`.
fn container_end(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i = string_end(b, i);
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The end of the number, `true`, `false` or `null` starting at `i`.
fn scalar_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// A JSON string literal's content, unescaped.
pub(crate) fn unquote(raw: &str) -> Option<Cow<'_, str>> {
    match raw.contains('\\') {
        false => Some(Cow::Borrowed(raw.get(1..raw.len().checked_sub(1)?)?)),
        true => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
    }
}

/// The spans of the values directly under an object key that `is_key`
/// accepts (given the key unescaped, and whether the object lies within
/// `traits`), at any depth, in order; such values are not looked into. With
/// `sealed`, also every other string value that starts as a sealed one does
/// (`bcn:pii:`). With `traits`, the whole text is traits. `text` must be
/// valid JSON ([`is_json`]).
pub(crate) fn values_under(
    text: &str,
    is_key: impl Fn(&str, bool) -> bool,
    sealed: bool,
    traits: bool,
) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    // per open container: whether it is an object, and whether it lies within traits
    let mut open: Vec<(bool, bool)> = Vec::new();
    let (mut expect_key, mut wanted, mut key_is_traits) = (false, false, traits);
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let in_traits = open.last().is_some_and(|c| c.1);
        match b[i] {
            b'{' | b'[' if wanted => i = container_end(b, i),
            b'{' | b'[' => {
                open.push((b[i] == b'{', in_traits || key_is_traits));
                key_is_traits = false;
                expect_key = b[i] == b'{';
                i += 1;
                continue;
            }
            b'}' | b']' => {
                open.pop();
                i += 1;
                continue;
            }
            b',' => {
                expect_key = open.last().is_some_and(|c| c.0);
                i += 1;
                continue;
            }
            b':' | b' ' | b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            b'"' if expect_key => {
                i = string_end(b, i);
                expect_key = false;
                let key = unquote(&text[start..i]);
                key_is_traits = key.as_deref() == Some("traits");
                wanted = key.is_some_and(|k| is_key(&k, in_traits));
                continue;
            }
            b'"' => {
                i = string_end(b, i);
                wanted |= sealed && b[start..].starts_with(b"\"bcn:pii:");
            }
            _ => i = scalar_end(b, i),
        }
        // a value ended at `i`
        key_is_traits = false;
        if wanted {
            out.push((start, i.min(b.len())));
            wanted = false;
        }
    }
    out
}

/// `text` with each span replaced by what `with` answers for its text
/// (`None`: kept); borrowed when nothing changed.
pub(crate) fn replace<'a, E>(
    text: &'a str,
    spans: &[(usize, usize)],
    mut with: impl FnMut(&str) -> Result<Option<String>, E>,
) -> Result<Cow<'a, str>, E> {
    let mut out: Option<String> = None;
    let mut copied = 0;
    for &(start, end) in spans {
        if let Some(new) = with(&text[start..end])? {
            let s = out.get_or_insert_with(|| String::with_capacity(text.len() + 64));
            s.push_str(&text[copied..start]);
            s.push_str(&new);
            copied = end;
        }
    }
    Ok(match out {
        Some(mut s) => {
            s.push_str(&text[copied..]);
            Cow::Owned(s)
        }
        None => Cow::Borrowed(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(text: &str) -> Vec<&str> {
        assert!(is_json(text), "{text}");
        values_under(text, |k, _| k.eq_ignore_ascii_case("email"), false, false)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect()
    }

    #[test]
    fn finds_the_values_under_a_key_at_any_depth_and_no_further() {
        let text = r#" { "a" : [ {"Email" : "x@y.cn" } , 1 ] , "b":{"email":{"email":"inner"}},
            "c":"email","\u0065mail": [1, "two", {"e":"]"}], "note":"\"email\":\"no\"", "email":null,"EMAIL":12.5e3} "#;
        assert_eq!(spans(text), [r#""x@y.cn""#, r#"{"email":"inner"}"#, r#"[1, "two", {"e":"]"}]"#, "null", "12.5e3"]);
        assert_eq!(spans(r#"["email", {"k": "email"}]"#), Vec::<&str>::new());
        assert_eq!(spans(r#"{"email":true}"#), ["true"]);
        assert!(!is_json(r#"{"email":"x", bad"#));
    }

    #[test]
    fn knows_what_lies_within_traits_and_finds_sealed_strings() {
        let text = r#"{"name":"p","traits":{"name":"a","x":[{"name":"b"}],"k":"bcn:pii:v1:z"},"c":{"name":"c"},
            "context":{"traits":{"name":"d"}},"t":"bcn:pii:v1:y","bcn:pii:key":1}"#;
        let found: Vec<&str> = values_under(text, |k, traits| k == "name" && traits, true, false)
            .into_iter()
            .map(|(s, e)| &text[s..e])
            .collect();
        assert_eq!(found, [r#""a""#, r#""b""#, r#""bcn:pii:v1:z""#, r#""d""#, r#""bcn:pii:v1:y""#]);
        let root = r#"{"name":"a","x":{"name":"b"}}"#;
        let found = values_under(root, |k, traits| k == "name" && traits, false, true);
        assert_eq!(found.len(), 2, "the whole text is traits");
    }

    #[test]
    fn replaces_only_what_it_is_asked_to() {
        let text = r#"{"email":"a","n":1,"email":"b"}"#;
        let sp = values_under(text, |k, _| k == "email", false, false);
        let out = replace(text, &sp, |v| Ok::<_, ()>((v == "\"b\"").then(|| "\"B\"".to_string())));
        assert_eq!(out, Ok(Cow::Owned::<str>(r#"{"email":"a","n":1,"email":"B"}"#.into())));
        let kept = replace(text, &sp, |_| Ok::<_, ()>(None));
        assert!(matches!(kept, Ok(Cow::Borrowed(_))));
    }
}
