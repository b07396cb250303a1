//! Data keys, for rotating the key personal data is encrypted with
//! (`beacon keys rotate-pii`) without changing the master key.
//!
//! Key 0 is the one derived from the master key (every value sealed before
//! rotation existed is under it; its ciphertexts carry no tag). Keys 1, 2, …
//! are random, kept in the database (`meta`, `pii_data_key.<id>`) sealed
//! under a key-encryption key derived from the master key, so every node
//! with the master key loads them; their ciphertexts start `k<id>:` (`:` is
//! no base64 character, so a tag cannot be mistaken for data). New values
//! are sealed under the current key (`pii_data_key_current`); values under
//! any known key open. The lookup hashes and the key check stay derived from
//! the master key: rotating changes no lookup.

use super::pii::{DecryptError, PiiCipher, open_with, seal_with, sealed_parts};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::aead::KeyInit;
use std::borrow::Cow;
use std::collections::HashMap;

/// The data keys a cipher knows beyond key 0, and the one it seals with.
#[derive(Default)]
pub(crate) struct Ring {
    pub(crate) current: u32,
    pub(crate) keys: HashMap<u32, XChaCha20Poly1305>,
}

/// `(key id, the rest)` of a stored ciphertext (`k3:…` → 3; untagged → 0).
pub(crate) fn tag_of(stored: &str) -> (u32, &str) {
    let Some(rest) = stored.strip_prefix('k') else { return (0, stored) };
    match rest.split_once(':') {
        Some((digits, body)) if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            (digits.parse().unwrap_or(u32::MAX), body)
        }
        _ => (0, stored),
    }
}

impl PiiCipher {
    /// The key new values are sealed with (0: the master key's own).
    pub fn current_data_key(&self) -> u32 {
        self.ring.read().map(|r| r.current).unwrap_or(0)
    }

    /// Learns data keys as stored (`(id, sealed key)`), and which is current.
    pub fn install_data_keys(&self, sealed: &[(u32, String)], current: u32) -> Result<(), DecryptError> {
        let kek = self.kek.as_ref().ok_or(DecryptError)?;
        let mut opened = HashMap::new();
        for (id, text) in sealed {
            let key =
                B64.decode(open_with(kek, &B64.decode(text).map_err(|_| DecryptError)?)?).map_err(|_| DecryptError)?;
            let key: [u8; 32] = key.try_into().map_err(|_| DecryptError)?;
            opened.insert(*id, XChaCha20Poly1305::new(&key.into()));
        }
        if current != 0 && !opened.contains_key(&current) {
            return Err(DecryptError);
        }
        let mut ring = self.ring.write().map_err(|_| DecryptError)?;
        ring.keys = opened;
        ring.current = current;
        Ok(())
    }

    /// A new random data key, sealed for keeping in the database.
    pub fn new_data_key(&self) -> Result<String, DecryptError> {
        let kek = self.kek.as_ref().ok_or(DecryptError)?;
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|_| DecryptError)?;
        Ok(B64.encode(seal_with(kek, B64.encode(key).as_bytes())))
    }

    /// Seals under the current data key (`None`: key 0, the caller's own way).
    pub(crate) fn seal_current(&self, plaintext: &str) -> Option<String> {
        let ring = self.ring.read().ok()?;
        let aead = ring.keys.get(&ring.current).filter(|_| ring.current != 0)?;
        Some(format!("k{}:{}", ring.current, B64.encode(seal_with(aead, plaintext.as_bytes()))))
    }

    /// Opens a tagged ciphertext (`None`: untagged, key 0's).
    pub(crate) fn open_tagged(&self, stored: &str) -> Option<Result<String, DecryptError>> {
        let (id, body) = tag_of(stored);
        if id == 0 {
            return None;
        }
        let ring = self.ring.read().ok()?;
        let Some(aead) = ring.keys.get(&id) else { return Some(Err(DecryptError)) };
        Some(B64.decode(body).map_err(|_| DecryptError).and_then(|b| open_with(aead, &b)))
    }

    /// An identity's stored ciphertext sealed again under the current key
    /// (`None`: it is under it already).
    pub fn reseal(&self, stored: &str) -> Result<Option<String>, DecryptError> {
        if tag_of(stored).0 == self.current_data_key() {
            return Ok(None);
        }
        Ok(Some(self.encrypt(&self.decrypt(stored)?)))
    }

    /// JSON text with every sealed value sealed again under the current
    /// key, and how many were; values under it already, or that do not open,
    /// are left as they are (an edge node's become the core's).
    pub fn reseal_json<'a>(&self, text: &'a str) -> Result<(Cow<'a, str>, usize), DecryptError> {
        if !text.contains("bcn:pii:") {
            return Ok((Cow::Borrowed(text), 0));
        }
        if !crate::pii_text::is_json(text) {
            return Err(DecryptError);
        }
        let current = self.current_data_key();
        let spans = crate::pii_text::values_under(text, |_, _| false, true, false);
        let mut count = 0;
        let out = crate::pii_text::replace(text, &spans, |raw| {
            let Some(s) = crate::pii_text::unquote(raw) else { return Ok(None) };
            let Some(parts) = sealed_parts(&s) else { return Ok(None) };
            // (an edge node's value moves to the core's key whatever it was)
            if !parts.edge && tag_of(parts.body).0 == current {
                return Ok(None);
            }
            let Ok(plain) = self.open_sealed(&parts) else { return Ok::<_, DecryptError>(None) };
            count += 1;
            let prefix = if parts.json { super::pii::SEALED_JSON_PREFIX } else { super::pii::SEALED_PREFIX };
            Ok(Some(serde_json::Value::String(format!("{prefix}{}", self.encrypt(&plain))).to_string()))
        })?;
        Ok((out, count))
    }

    /// The data keys of the sealed values in JSON text, one entry a value.
    pub fn data_keys_in(&self, text: &str) -> Vec<u32> {
        if !text.contains("bcn:pii:") || !crate::pii_text::is_json(text) {
            return Vec::new();
        }
        let spans = crate::pii_text::values_under(text, |_, _| false, true, false);
        spans
            .iter()
            .filter_map(|(a, b)| crate::pii_text::unquote(&text[*a..*b]))
            .filter_map(|s| sealed_parts(&s).filter(|p| !p.edge).map(|p| tag_of(p.body).0))
            .collect()
    }
}
