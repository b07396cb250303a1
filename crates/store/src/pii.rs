//! Personal data at rest: XChaCha20-Poly1305 for values (random 192-bit
//! nonces are safe at any volume), and an HMAC-SHA256 "blind index" so an
//! identity can be looked up without decrypting anything.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::borrow::Cow;
use std::fmt;

const NONCE_LEN: usize = 24;

/// The key material, derived from one 32-byte master key.
#[derive(Clone)]
pub struct PiiCipher {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
    /// HMAC keyed with `index_key`, its key schedule done once: each lookup
    /// key then costs two SHA-256 blocks, not four.
    index_mac: Hmac<Sha256>,
}

impl fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PiiCipher(<redacted>)")
    }
}

/// A stored value could not be decrypted (wrong key or corrupt data).
#[derive(Debug, thiserror::Error)]
#[error("personal data could not be decrypted: wrong encryption key or corrupt data")]
pub struct DecryptError;

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl PiiCipher {
    /// Derives the encryption and index keys from `master` (32 bytes).
    pub fn new(master: &[u8; 32]) -> Self {
        let enc_key = hmac(master, &[b"beacon/pii/encrypt/v1"]);
        let index_key = hmac(master, &[b"beacon/pii/index/v1"]);
        let index_mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&index_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        PiiCipher { aead: XChaCha20Poly1305::new(&enc_key.into()), index_key, index_mac }
    }

    /// A value that identifies the key without revealing it (stored once per
    /// database, compared at every start).
    pub fn key_check(&self) -> String {
        hmac(&self.index_key, &[b"beacon/key-check/v1"]).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The keyed lookup hash of `kind:value`.
    pub fn lookup_key(&self, kind: &str, value: &str) -> Vec<u8> {
        self.keyed_hash(&[kind.as_bytes(), b"\0", value.as_bytes()]).to_vec()
    }

    /// HMAC-SHA256 under the index key of the parts, concatenated.
    pub fn keyed_hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac = self.index_mac.clone();
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().into()
    }

    /// `nonce || ciphertext`, base64.
    pub fn encrypt(&self, plaintext: &str) -> String {
        let nonce = XNonce::generate();
        let sealed = self
            .aead
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_else(|_| unreachable!("encryption of an in-memory buffer cannot fail"));
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        B64.encode(out)
    }

    pub fn decrypt(&self, stored: &str) -> Result<String, DecryptError> {
        let bytes = B64.decode(stored).map_err(|_| DecryptError)?;
        if bytes.len() < NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| DecryptError)?;
        let plain = self.aead.decrypt(&nonce, sealed).map_err(|_| DecryptError)?;
        String::from_utf8(plain).map_err(|_| DecryptError)
    }
}

/// Marks an encrypted string inside a stored JSON document.
pub const SEALED_PREFIX: &str = "bcn:pii:v1:";
/// Marks an encrypted non-string value (number, array, object) by its JSON text.
pub const SEALED_JSON_PREFIX: &str = "bcn:pii:v1j:";

/// Object keys whose values are personal data wherever they appear.
fn is_pii_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("email") || key.eq_ignore_ascii_case("phone")
}

/// A cheap pre-check: could this JSON text hold a personal-data key? Any
/// escape sequence defeats a text search, so escaped text always says yes.
fn may_hold_pii(text: &str) -> bool {
    let bytes = text.as_bytes();
    text.contains("\\u")
        || bytes.windows(7).any(|w| {
            w[0] == b'"'
                && w[6] == b'"'
                && (w[1..6].eq_ignore_ascii_case(b"email") || w[1..6].eq_ignore_ascii_case(b"phone"))
        })
}

/// The stored text could not be sealed: it is not valid JSON.
#[derive(Debug, thiserror::Error)]
#[error("a stored document is not valid JSON, so its personal data cannot be sealed")]
pub struct SealError;

impl PiiCipher {
    /// Encrypts every value (string, number, array or object) under an
    /// `email`/`phone` key, at any depth. Text without such keys is returned
    /// as is, byte for byte. Text that cannot be parsed is refused rather than
    /// stored in the clear.
    pub fn seal_json<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, SealError> {
        if !may_hold_pii(text) {
            return Ok(Cow::Borrowed(text));
        }
        let mut value = serde_json::from_str::<Value>(text).map_err(|_| SealError)?;
        Ok(if self.seal_value(&mut value) { Cow::Owned(value.to_string()) } else { Cow::Borrowed(text) })
    }

    fn seal_value(&self, value: &mut Value) -> bool {
        match value {
            Value::Object(map) => {
                let mut changed = false;
                for (key, v) in map.iter_mut() {
                    if is_pii_key(key) {
                        match v {
                            Value::Null => {}
                            Value::String(s) => {
                                *s = format!("{SEALED_PREFIX}{}", self.encrypt(s));
                                changed = true;
                            }
                            other => {
                                *other =
                                    Value::String(format!("{SEALED_JSON_PREFIX}{}", self.encrypt(&other.to_string())));
                                changed = true;
                            }
                        }
                    } else {
                        changed |= self.seal_value(v);
                    }
                }
                changed
            }
            Value::Array(items) => items.iter_mut().fold(false, |c, v| self.seal_value(v) | c),
            _ => false,
        }
    }

    /// Reverses [`PiiCipher::seal_json`]: opens sealed values under personal
    /// keys only (a client's own text that merely looks sealed elsewhere is
    /// left alone).
    pub fn open_json<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, DecryptError> {
        if !text.contains(SEALED_PREFIX) && !text.contains(SEALED_JSON_PREFIX) {
            return Ok(Cow::Borrowed(text));
        }
        let mut value = serde_json::from_str::<Value>(text).map_err(|_| DecryptError)?;
        Ok(if self.open_value(&mut value)? { Cow::Owned(value.to_string()) } else { Cow::Borrowed(text) })
    }

    fn open_value(&self, value: &mut Value) -> Result<bool, DecryptError> {
        let mut changed = false;
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    let sealed = match v {
                        Value::String(s) if is_pii_key(key) => Some(s.clone()),
                        _ => None,
                    };
                    if let Some(s) = sealed {
                        if let Some(rest) = s.strip_prefix(SEALED_JSON_PREFIX) {
                            *v = serde_json::from_str(&self.decrypt(rest)?).map_err(|_| DecryptError)?;
                            changed = true;
                        } else if let Some(rest) = s.strip_prefix(SEALED_PREFIX) {
                            *v = Value::String(self.decrypt(rest)?);
                            changed = true;
                        }
                    } else {
                        changed |= self.open_value(v)?;
                    }
                }
            }
            Value::Array(items) => {
                for v in items {
                    changed |= self.open_value(v)?;
                }
            }
            _ => {}
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let plain = r#"{"event":"x","properties":{"phone_model":"p"}}"#;
        assert!(matches!(c.seal_json(plain), Ok(Cow::Borrowed(_))), "no personal keys: stored byte for byte");
        assert!(PiiCipher::new(&[8; 32]).open_json(&sealed).is_err());
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
        let (_, opened) = round_trip(look_alike);
        assert_eq!(opened, serde_json::from_str::<Value>(look_alike).ok());
        assert!(c.open_json(r#"{"note":"bcn:pii:v1:AAAA"}"#).is_ok());
        assert!(c.seal_json(r#"{"email":"x@y.z", bad json"#).is_err(), "refused, not stored in the clear");
    }
}
