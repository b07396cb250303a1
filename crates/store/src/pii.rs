//! Personal data at rest: XChaCha20-Poly1305 for values (random 192-bit
//! nonces are safe at any volume), and an HMAC-SHA256 "blind index" so an
//! identity can be looked up without decrypting anything.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;

const NONCE_LEN: usize = 24;

/// The key material, derived from one 32-byte master key.
#[derive(Clone)]
pub struct PiiCipher {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
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
        PiiCipher { aead: XChaCha20Poly1305::new(&enc_key.into()), index_key }
    }

    /// The keyed lookup hash of `kind:value`.
    pub fn lookup_key(&self, kind: &str, value: &str) -> Vec<u8> {
        hmac(&self.index_key, &[kind.as_bytes(), b"\0", value.as_bytes()]).to_vec()
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
}
