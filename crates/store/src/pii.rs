//! Personal data at rest: XChaCha20-Poly1305 for values (random 192-bit
//! nonces are safe at any volume), and an HMAC-SHA256 "blind index" so an
//! identity can be looked up without decrypting anything.
//!
//! An edge node (`--role edge`) holds no master key: it seals the personal
//! data of what it ingests for the core, with the core's X25519 public key
//! (an ephemeral key per process, Diffie-Hellman, a data key derived from
//! the shared secret), and can open nothing — neither what it sealed nor
//! anything else. Only a node with the master key derives the X25519 secret
//! that opens edge-sealed values.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, Generate, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

pub use beacon_core::pii_keys::PiiKeys;

const NONCE_LEN: usize = 24;

/// The key material, derived from one 32-byte master key (or, on an edge
/// node, from the core's public key: see the module's doc).
#[derive(Clone)]
pub struct PiiCipher {
    aead: XChaCha20Poly1305,
    index_key: [u8; 32],
    /// HMAC keyed with `index_key`, its key schedule done once: each lookup
    /// key then costs two SHA-256 blocks, not four.
    index_mac: Hmac<Sha256>,
    edge: Edge,
    /// Which keys' values are sealed (`security.pii_keys`).
    keys: Arc<PiiKeys>,
    /// Seals the data keys kept in the database (none on an edge node).
    pub(crate) kek: Option<XChaCha20Poly1305>,
    /// The data keys beyond the master key's own, shared by every clone
    /// (`pii_ring`).
    pub(crate) ring: Arc<std::sync::RwLock<crate::pii_ring::Ring>>,
}

#[derive(Clone)]
enum Edge {
    /// Holds the master key: opens what edge nodes sealed, by their
    /// ephemeral public keys (data keys derived once per key).
    Core { secret: x25519_dalek::StaticSecret, opened: Arc<Mutex<HashMap<[u8; 32], XChaCha20Poly1305>>> },
    /// An edge node: `aead` seals under the data key agreed with the core's
    /// public key `core` from the ephemeral key `ephemeral`.
    Sealer { core: [u8; 32], ephemeral: [u8; 32] },
}

/// The edge key could not be used: not a valid X25519 public key.
#[derive(Debug, thiserror::Error)]
#[error("the edge public key must be 32 bytes of base64 printed by `beacon keys edge-public` on a core node")]
pub struct EdgeKeyError;

fn data_key(shared: &[u8; 32], ephemeral: &[u8; 32], core: &[u8; 32]) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&hmac(shared, &[b"beacon/pii/edge-data/v1", ephemeral, core]).into())
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
        let secret = x25519_dalek::StaticSecret::from(hmac(master, &[b"beacon/pii/edge/v1"]));
        let edge = Edge::Core { secret, opened: Default::default() };
        let keys = Arc::new(PiiKeys::defaults());
        let kek = Some(XChaCha20Poly1305::new(&hmac(master, &[b"beacon/pii/kek/v1"]).into()));
        let aead = XChaCha20Poly1305::new(&enc_key.into());
        PiiCipher { aead, index_key, index_mac, edge, keys, kek, ring: Default::default() }
    }

    /// The same cipher sealing the values of `keys` (the default:
    /// [`beacon_core::pii_keys::DEFAULT_PII_KEYS`]). Values sealed under
    /// another list still open: opening looks for sealed values, not keys.
    pub fn with_keys(mut self, keys: PiiKeys) -> Self {
        self.keys = Arc::new(keys);
        self
    }

    /// An edge node's cipher: seals for the core whose public key is
    /// `core_public` (base64, from [`PiiCipher::edge_public_key`]), opens
    /// nothing, and has no lookup key (its lookups match nothing stored).
    pub fn sealing_for(core_public: &str) -> Result<Self, EdgeKeyError> {
        let core: [u8; 32] = B64
            .decode(core_public.trim().trim_end_matches('='))
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or(EdgeKeyError)?;
        let mut random = [0u8; 64];
        getrandom::fill(&mut random).map_err(|_| EdgeKeyError)?;
        let secret = x25519_dalek::StaticSecret::from(<[u8; 32]>::try_from(&random[..32]).map_err(|_| EdgeKeyError)?);
        let ephemeral = x25519_dalek::PublicKey::from(&secret).to_bytes();
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(core));
        if !shared.was_contributory() {
            return Err(EdgeKeyError);
        }
        // a random lookup key: an edge's lookups can never match what the core stored
        let index_key: [u8; 32] = random[32..].try_into().map_err(|_| EdgeKeyError)?;
        let index_mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&index_key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        let aead = data_key(shared.as_bytes(), &ephemeral, &core);
        let keys = Arc::new(PiiKeys::defaults());
        let edge = Edge::Sealer { core, ephemeral };
        Ok(PiiCipher { aead, index_key, index_mac, edge, keys, kek: None, ring: Default::default() })
    }

    /// Whether identities of `kind` are stored encrypted: email and phone
    /// always, and any kind named in the personal keys (`openid`,
    /// `unionid`, a custom `id_number`…).
    pub fn seals_kind(&self, kind: &beacon_core::IdentityKind) -> bool {
        kind.is_pii() || self.keys.matches(kind.as_str(), false)
    }

    /// The public key edge nodes seal for (base64), on a node with the master key.
    pub fn edge_public_key(&self) -> Option<String> {
        match &self.edge {
            Edge::Core { secret, .. } => Some(B64.encode(x25519_dalek::PublicKey::from(secret).as_bytes())),
            Edge::Sealer { .. } => None,
        }
    }

    /// The core public key an edge node seals for (base64).
    pub fn sealing_for_key(&self) -> Option<String> {
        match &self.edge {
            Edge::Core { .. } => None,
            Edge::Sealer { core, .. } => Some(B64.encode(core)),
        }
    }

    /// Whether this cipher opens sealed values (false on an edge node).
    pub fn opens(&self) -> bool {
        matches!(self.edge, Edge::Core { .. })
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

    /// `nonce || ciphertext`, base64, under the current data key (tagged
    /// `k<id>:` unless it is the master key's own: `pii_ring`); on an edge
    /// node, `ephemeral public key || nonce || ciphertext`.
    pub fn encrypt(&self, plaintext: &str) -> String {
        match &self.edge {
            Edge::Core { .. } => match self.seal_current(plaintext) {
                Some(tagged) => tagged,
                None => B64.encode(seal_with(&self.aead, plaintext.as_bytes())),
            },
            Edge::Sealer { ephemeral, .. } => {
                let mut out = ephemeral.to_vec();
                out.extend_from_slice(&seal_with(&self.aead, plaintext.as_bytes()));
                B64.encode(out)
            }
        }
    }

    /// Opens what [`PiiCipher::encrypt`] sealed on a node with the master key
    /// (never on an edge node), under whichever data key it was.
    pub fn decrypt(&self, stored: &str) -> Result<String, DecryptError> {
        if !self.opens() {
            return Err(DecryptError);
        }
        if let Some(opened) = self.open_tagged(stored) {
            return opened;
        }
        open_with(&self.aead, &B64.decode(stored).map_err(|_| DecryptError)?)
    }

    /// Opens what an edge node sealed (on a node with the master key).
    pub(crate) fn decrypt_edge(&self, stored: &str) -> Result<String, DecryptError> {
        let Edge::Core { secret, opened } = &self.edge else { return Err(DecryptError) };
        let bytes = B64.decode(stored).map_err(|_| DecryptError)?;
        let (ephemeral, rest) = bytes.split_at_checked(32).ok_or(DecryptError)?;
        let ephemeral: [u8; 32] = ephemeral.try_into().map_err(|_| DecryptError)?;
        let mut keys = opened.lock().map_err(|_| DecryptError)?;
        if keys.len() > 10_000 {
            keys.clear();
        }
        let aead = keys.entry(ephemeral).or_insert_with(|| {
            let core = x25519_dalek::PublicKey::from(secret).to_bytes();
            let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(ephemeral));
            data_key(shared.as_bytes(), &ephemeral, &core)
        });
        open_with(aead, rest)
    }
}

/// `nonce || ciphertext` of `plaintext` under `aead`, with a random nonce.
pub(crate) fn seal_with(aead: &XChaCha20Poly1305, plaintext: &[u8]) -> Vec<u8> {
    let nonce = XNonce::generate();
    let sealed = aead
        .encrypt(&nonce, plaintext)
        .unwrap_or_else(|_| unreachable!("encryption of an in-memory buffer cannot fail"));
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

pub(crate) fn open_with(aead: &XChaCha20Poly1305, bytes: &[u8]) -> Result<String, DecryptError> {
    let (nonce, sealed) = bytes.split_at_checked(NONCE_LEN).ok_or(DecryptError)?;
    let nonce = XNonce::try_from(nonce).map_err(|_| DecryptError)?;
    let plain = aead.decrypt(&nonce, sealed).map_err(|_| DecryptError)?;
    String::from_utf8(plain).map_err(|_| DecryptError)
}

/// Marks an encrypted string inside a stored JSON document.
pub const SEALED_PREFIX: &str = "bcn:pii:v1:";
/// Marks an encrypted non-string value (number, array, object) by its JSON text.
pub const SEALED_JSON_PREFIX: &str = "bcn:pii:v1j:";
/// The same, sealed by an edge node for the core.
pub const EDGE_SEALED_PREFIX: &str = "bcn:pii:e1:";
pub const EDGE_SEALED_JSON_PREFIX: &str = "bcn:pii:e1j:";

/// The stored text could not be sealed: it is not valid JSON.
#[derive(Debug, thiserror::Error)]
#[error("a stored document is not valid JSON, so its personal data cannot be sealed")]
pub struct SealError;

impl PiiCipher {
    /// Encrypts every value (string, number, array or object) under a
    /// personal key, at any depth, and every other string that starts as a
    /// sealed one does (so that everything that looks sealed in stored text
    /// was sealed here). Text without either is returned as is, byte for
    /// byte. Text that cannot be parsed is refused rather than stored in the
    /// clear.
    pub fn seal_json<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, SealError> {
        self.seal(text, false)
    }

    /// [`Self::seal_json`] of a profile's traits (an object of traits:
    /// `traits.` keys count at its top level).
    pub fn seal_traits<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, SealError> {
        self.seal(text, true)
    }

    fn seal<'a>(&self, text: &'a str, traits: bool) -> Result<Cow<'a, str>, SealError> {
        if !self.keys.mentioned_in(text, traits) && !text.contains("bcn:pii:") {
            return Ok(Cow::Borrowed(text));
        }
        if !crate::pii_text::is_json(text) {
            return Err(SealError);
        }
        let (prefix, json_prefix) = match self.edge {
            Edge::Core { .. } => (SEALED_PREFIX, SEALED_JSON_PREFIX),
            Edge::Sealer { .. } => (EDGE_SEALED_PREFIX, EDGE_SEALED_JSON_PREFIX),
        };
        let spans = crate::pii_text::values_under(text, |k, in_traits| self.keys.matches(k, in_traits), true, traits);
        crate::pii_text::replace(text, &spans, |raw| {
            Ok(match raw.as_bytes()[0] {
                b'n' => None,
                b'"' => Some(format!("\"{prefix}{}\"", self.encrypt(&crate::pii_text::unquote(raw).ok_or(SealError)?))),
                _ => Some(format!("\"{json_prefix}{}\"", self.encrypt(raw))),
            })
        })
    }

    /// Reverses [`PiiCipher::seal_json`]: opens every sealed value, under
    /// whatever key (the list may have changed since). A value that does not
    /// open (a client's look-alike stored before such strings were sealed
    /// too, or damaged data) is left as it is: one bad value does not make a
    /// whole profile unreadable, and a wrong key is refused at start-up by
    /// the key check. An edge node opens nothing.
    pub fn open_json<'a>(&self, text: &'a str) -> Result<Cow<'a, str>, DecryptError> {
        if !text.contains("bcn:pii:") {
            return Ok(Cow::Borrowed(text));
        }
        if !self.opens() || !crate::pii_text::is_json(text) {
            return Err(DecryptError);
        }
        let spans = crate::pii_text::values_under(text, |_, _| false, true, false);
        crate::pii_text::replace(text, &spans, |raw| {
            let Some(s) = crate::pii_text::unquote(raw) else { return Ok(None) };
            let Some(parts) = sealed_parts(&s) else { return Ok(None) };
            let opened = self.open_sealed(&parts).ok().and_then(|plain| match parts.json {
                true => crate::pii_text::is_json(&plain).then_some(plain),
                false => Some(Value::String(plain).to_string()),
            });
            Ok::<_, DecryptError>(opened)
        })
    }
}

/// A sealed string's parts: whether it held JSON (not a string), whether an
/// edge node sealed it, and the ciphertext after the prefix.
pub(crate) struct Sealed<'a> {
    pub(crate) json: bool,
    pub(crate) edge: bool,
    pub(crate) body: &'a str,
}

/// The parts of `s` if it is a sealed value (by its prefix).
pub(crate) fn sealed_parts(s: &str) -> Option<Sealed<'_>> {
    [(SEALED_JSON_PREFIX, true, false), (SEALED_PREFIX, false, false), (EDGE_SEALED_JSON_PREFIX, true, true)]
        .into_iter()
        .chain([(EDGE_SEALED_PREFIX, false, true)])
        .find_map(|(prefix, json, edge)| s.strip_prefix(prefix).map(|body| Sealed { json, edge, body }))
}

impl PiiCipher {
    /// The plaintext of a sealed value, whoever sealed it.
    pub(crate) fn open_sealed(&self, sealed: &Sealed<'_>) -> Result<String, DecryptError> {
        if sealed.edge { self.decrypt_edge(sealed.body) } else { self.decrypt(sealed.body) }
    }
}

#[cfg(test)]
#[path = "pii_tests.rs"]
mod tests;
