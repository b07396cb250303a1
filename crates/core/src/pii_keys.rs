//! Which object keys hold personal data: one list (`security.pii_keys`) for
//! what is encrypted at rest and what a role without need sees masked.
//!
//! A key matches whatever its case and separators (`phone_number`,
//! `phoneNumber` and `Phone-Number` are one key). An entry `traits.KEY`
//! matches `KEY` only inside traits (an identify's `traits`, an event's
//! `context.traits`, at any depth below them): elsewhere a `name` is a
//! product's or a library's, an `address` a shop's.

/// The default list.
pub const DEFAULT_PII_KEYS: &[&str] = &[
    "email",
    "phone",
    "mobile",
    "phone_number",
    "email_address",
    "first_name",
    "last_name",
    "birthday",
    "id_number",
    "id_card",
    "openid",
    "unionid",
    "shipping_address",
    "billing_address",
    "traits.name",
    "traits.address",
];

/// Longest key compared (after normalising); longer ones never match.
const MAX_KEY: usize = 48;

/// A compiled list of personal keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiKeys {
    anywhere: Vec<Vec<u8>>,
    in_traits: Vec<Vec<u8>>,
    /// The pre-check's filter: a bit per (first byte, last byte) of a
    /// normalised key, indexed `first << 8 | last`.
    ends: Box<[u64; 1024]>,
}

/// A list entry that cannot be a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a key: use letters, digits, '_' or '-', optionally after \"traits.\" (at most {MAX_KEY})")]
pub struct BadPiiKey(pub String);

/// `first << 8 | last` of `key` as [`normalise`] makes it (`None`: empty).
fn ends_of(key: &[u8]) -> Option<usize> {
    let kept = |c: &&u8| **c != b'_' && **c != b'-';
    let first = key.iter().find(kept)?.to_ascii_lowercase();
    let last = key.iter().rev().find(kept)?.to_ascii_lowercase();
    Some(usize::from(first) << 8 | usize::from(last))
}

/// `key` lower-cased (ASCII) without `_` and `-`, into `buf`; `None` when
/// longer than [`MAX_KEY`].
fn normalise<'b>(key: &[u8], buf: &'b mut [u8; MAX_KEY]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &c in key {
        if c == b'_' || c == b'-' {
            continue;
        }
        *buf.get_mut(n)? = c.to_ascii_lowercase();
        n += 1;
    }
    Some(&buf[..n])
}

impl PiiKeys {
    /// Compiles `list` (see the module's doc for `traits.`).
    pub fn new<S: AsRef<str>>(list: &[S]) -> Result<PiiKeys, BadPiiKey> {
        let mut keys = PiiKeys { anywhere: Vec::new(), in_traits: Vec::new(), ends: Box::new([0; 1024]) };
        for entry in list {
            let entry = entry.as_ref();
            let (bucket, key) = match entry.strip_prefix("traits.") {
                Some(key) => (&mut keys.in_traits, key),
                None => (&mut keys.anywhere, entry),
            };
            let printable = key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-');
            let mut buf = [0; MAX_KEY];
            match normalise(key.as_bytes(), &mut buf) {
                Some(k) if printable && !k.is_empty() => bucket.push(k.to_vec()),
                _ => return Err(BadPiiKey(entry.to_string())),
            }
        }
        let ends: Vec<usize> = keys.anywhere.iter().chain(&keys.in_traits).filter_map(|k| ends_of(k)).collect();
        for e in ends {
            keys.ends[e >> 6] |= 1 << (e & 63);
        }
        Ok(keys)
    }

    /// [`DEFAULT_PII_KEYS`].
    pub fn defaults() -> PiiKeys {
        PiiKeys::new(DEFAULT_PII_KEYS).unwrap_or_else(|e| unreachable!("the default list is valid: {e}"))
    }

    /// Whether the value under `key` is personal (`in_traits`: the object
    /// is traits or lies within them).
    pub fn matches(&self, key: &str, in_traits: bool) -> bool {
        let mut buf = [0; MAX_KEY];
        let Some(k) = normalise(key.as_bytes(), &mut buf) else { return false };
        self.anywhere.iter().any(|p| p == k) || (in_traits && self.in_traits.iter().any(|p| p == k))
    }

    /// A cheap pre-check of JSON text: false only if no object key in it can
    /// be personal (`in_traits`: the text is traits). Text with an escape
    /// always says yes.
    pub fn mentioned_in(&self, text: &str, in_traits: bool) -> bool {
        let b = text.as_bytes();
        // without escapes, strings run from one quote to the next
        if memchr::memchr(b'\\', b).is_some() {
            return true;
        }
        let mut trait_key = false;
        let (n, mut i) = (b.len(), 0);
        // (tight loops: this runs over every event ingested)
        loop {
            while i < n && b[i] != b'"' {
                i += 1;
            }
            let start = i + 1;
            i = start;
            while i < n && b[i] != b'"' {
                i += 1;
            }
            if i >= n {
                break;
            }
            let end = i;
            i += 1;
            // only keys: a string followed by `:`
            let mut j = i;
            while j < n && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < n && b[j] == b':' {
                match self.token(&b[start..end]) {
                    Some(true) => return true,
                    Some(false) => trait_key = true,
                    None => {}
                }
            }
        }
        trait_key && (in_traits || text.contains("\"traits\""))
    }

    /// Whether an object key is one anywhere (`Some(true)`) or within
    /// traits only (`Some(false)`).
    fn token(&self, token: &[u8]) -> Option<bool> {
        // most keys fail on the bit of their first and last byte
        let e = ends_of(token)?;
        if self.ends[e >> 6] & (1 << (e & 63)) == 0 {
            return None;
        }
        let mut buf = [0; MAX_KEY];
        let k = normalise(token, &mut buf)?;
        if self.anywhere.iter().any(|p| p == k) {
            Some(true)
        } else {
            self.in_traits.iter().any(|p| p == k).then_some(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_whatever_their_case_and_separators() {
        let k = PiiKeys::defaults();
        for key in ["email", "Email", "phone_number", "phoneNumber", "Phone-Number", "firstName", "ID_NUMBER"] {
            assert!(k.matches(key, false), "{key}");
        }
        for key in ["name", "address", "product", "e_mail_x", ""] {
            assert!(!k.matches(key, false), "{key}");
        }
        assert!(k.matches("name", true) && k.matches("Address", true));
        assert!(!k.matches(&"a".repeat(200), true));
    }

    #[test]
    fn entries_are_checked() {
        assert!(PiiKeys::new(&["traits.nick_name", "微信号"]).is_ok_and(|k| k.matches("nickName", true)));
        for bad in ["", "traits.", "a b", "x\"y", &"a".repeat(49)] {
            assert_eq!(PiiKeys::new(&[bad]), Err(BadPiiKey(bad.to_string())), "{bad:?}");
        }
    }

    #[test]
    fn the_pre_check_finds_every_key_that_could_match() {
        let k = PiiKeys::defaults();
        assert!(k.mentioned_in(r#"{"a":1,"Phone_Number":"x"}"#, false));
        assert!(k.mentioned_in(r#"{"traits":{"name":"x"}}"#, false));
        assert!(k.mentioned_in(r#"{"name":"x"}"#, true) && !k.mentioned_in(r#"{"name":"x"}"#, false));
        assert!(k.mentioned_in(r#"{"a":"\u0065mail"}"#, false), "escaped text");
        assert!(k.mentioned_in(r#"{"a":"\"","b":1}"#, false), "escaped text");
        assert!(k.mentioned_in(r#"{"a":"","email":1}"#, false), "after an empty string");
        assert!(k.mentioned_in("{\"x\":[1,{\"Email\" \n\t: 1}]}", false), "space before the colon");
        assert!(!k.mentioned_in(r#"{"a":"email","b":["phone"]}"#, false), "values are no keys");
        assert!(
            !k.mentioned_in(r#"{"context":{"library":{"name":"analytics.js"}},"properties":{"address":"x"}}"#, false)
        );
        assert!(!k.mentioned_in(r#"{"type":"track","properties":{"price":1}}"#, false));
    }
}
