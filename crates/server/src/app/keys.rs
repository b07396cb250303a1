//! API keys: generation, hashing, bootstrap; and the PII master key.
//!
//! Keys are 160+ bits of randomness, so a fast hash (SHA-256) is the right
//! storage form; argon2 is for human passwords.

use base64::Engine as _;
use beacon_core::access::Role;
use beacon_core::trust::Source;
use beacon_core::{Error, ErrorCode};
use beacon_store::{ApiKey, KeyKind, Store, StoreError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::path::Path;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Shortest key accepted from the environment at bootstrap.
pub const MIN_KEY_LEN: usize = 16;

/// Uniform random base62 text (rejection sampling keeps it unbiased).
pub fn random_token(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        if getrandom::fill(&mut buf).is_err() {
            // The OS RNG failing is unrecoverable; never fall back to weak randomness.
            std::process::abort();
        }
        for b in buf {
            if b < 248 && out.len() < len {
                out.push(ALPHABET[usize::from(b % 62)] as char);
            }
        }
    }
    out
}

pub fn hash_key(key: &str) -> Vec<u8> {
    Sha256::digest(key.as_bytes()).to_vec()
}

/// A newly made key: the secret (shown once) and its stored record.
pub struct IssuedKey {
    pub secret: String,
    pub record: ApiKey,
}

pub fn issue(kind: KeyKind, name: &str, secret: Option<String>, now: DateTime<Utc>) -> IssuedKey {
    let secret = secret.unwrap_or_else(|| match kind {
        KeyKind::Write(_) => format!("bwk_{}", random_token(32)),
        KeyKind::Secret(_) => format!("bsk_{}", random_token(40)),
    });
    let record = ApiKey {
        id: format!("key_{}", random_token(16)),
        name: name.to_string(),
        kind,
        hash: hash_key(&secret),
        // enough to recognise a key, never a real part of a short one
        prefix: secret.chars().take(8.min(secret.len() / 4)).collect(),
        created_at: now,
        revoked_at: None,
    };
    IssuedKey { secret, record }
}

/// A key to create, as a caller asks for it.
#[derive(Debug, Clone)]
pub struct CreateKey {
    pub name: String,
    pub kind: KeyKind,
}

/// Longest key name.
pub const MAX_NAME: usize = 200;

impl CreateKey {
    /// From the API's words: `kind` is `secret` (the default, with a role)
    /// or `write` (no role; `source` is `client`, the default, for a
    /// browser, app or mini-program, or `server` for the shop's back end).
    pub fn parse(name: &str, kind: Option<&str>, role: Option<&str>, source: Option<&str>) -> Result<CreateKey, Error> {
        let invalid = |m: String| Error::new(ErrorCode::InvalidParameter, m);
        let source = match (kind.unwrap_or("secret"), source) {
            ("write", Some(s)) => {
                Source::parse(s).ok_or_else(|| invalid(format!("source {s:?} is not client or server")))?
            }
            (_, Some(_)) => return Err(invalid("only write keys have a source".into())),
            (_, None) => Source::Client,
        };
        let kind = match (kind.unwrap_or("secret"), role) {
            ("write", None) => KeyKind::Write(source),
            ("write", Some(_)) => return Err(invalid("write keys have no role".into())),
            ("secret", Some(role)) => Role::parse(role).map(KeyKind::Secret).ok_or_else(|| {
                Error::new(ErrorCode::InvalidRole, format!("role {role:?} is not admin, marketer, analyst or viewer"))
            })?,
            ("secret", None) => return Err(Error::new(ErrorCode::InvalidRole, "a secret key needs a role")),
            (other, _) => return Err(invalid(format!("kind {other:?} is not secret or write"))),
        };
        let name = name.trim();
        if name.is_empty() || name.len() > MAX_NAME {
            return Err(invalid(format!("name must be 1 to {MAX_NAME} bytes")));
        }
        if name.chars().any(char::is_control) {
            return Err(invalid("name must be plain text (no control characters or line breaks)".into()));
        }
        Ok(CreateKey { name: name.to_string(), kind })
    }
}

/// Makes a key and stores it with its audit entry (one transaction); the
/// secret is in the result only.
pub async fn create_key(
    store: &dyn Store,
    cmd: &CreateKey,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<IssuedKey, Error> {
    let issued = issue(cmd.kind, &cmd.name, None, now);
    store.keys().insert_key(&issued.record, actor).await?;
    Ok(issued)
}

/// Revokes a key, audited in the same transaction; `not_found` if there is
/// no such key, `conflict` for the last active admin key. Revoking a revoked
/// key changes nothing and is not audited again.
pub async fn revoke_key(store: &dyn Store, id: &str, actor: &str, now: DateTime<Utc>) -> Result<ApiKey, Error> {
    store.keys().revoke_key(id, now, actor).await.map_err(|e| match e {
        StoreError::NotFound => Error::new(ErrorCode::NotFound, "no such key"),
        e => e.into(),
    })
}

/// The keys a store's first start makes (`BEACON_ADMIN_KEY`,
/// `BEACON_WRITE_KEY`, `BEACON_SERVER_KEY`): those given, or, when none
/// is, fresh ones of each kind.
#[derive(Debug, Clone, Default)]
pub struct FirstKeys {
    pub admin: Option<String>,
    /// For the shop's pages and apps: a client source.
    pub write: Option<String>,
    /// For the shop's back end: a server source.
    pub server: Option<String>,
}

/// On a store with no keys: creates the [`FirstKeys`]. Returns the keys
/// created (empty when keys already existed).
pub async fn bootstrap(store: &dyn Store, keys: &FirstKeys, now: DateTime<Utc>) -> Result<Vec<IssuedKey>, StoreError> {
    if store.keys().count_keys().await? > 0 {
        return Ok(Vec::new());
    }
    let FirstKeys { admin, write, server } = keys.clone();
    let fresh = admin.is_none() && write.is_none() && server.is_none();
    let mut made = Vec::new();
    if admin.is_some() || fresh {
        made.push(issue(KeyKind::Secret(Role::Admin), "bootstrap admin", admin, now));
    }
    if write.is_some() || fresh {
        made.push(issue(KeyKind::Write(Source::Client), "bootstrap write", write, now));
    }
    if server.is_some() || fresh {
        made.push(issue(KeyKind::Write(Source::Server), "bootstrap server", server, now));
    }
    for key in &made {
        store.keys().insert_key(&key.record, "bootstrap").await?;
    }
    Ok(made)
}

/// Which of the [`FirstKeys`] given at start
/// a store that already had keys does not know: they are ignored (keys are
/// made on the first start only), which the operator should hear about.
pub async fn unknown_given(store: &dyn Store, keys: &FirstKeys) -> Result<Vec<&'static str>, StoreError> {
    let mut out = Vec::new();
    let given =
        [("BEACON_ADMIN_KEY", &keys.admin), ("BEACON_WRITE_KEY", &keys.write), ("BEACON_SERVER_KEY", &keys.server)];
    for (name, key) in given {
        if let Some(key) = key
            && store.keys().find_key_by_hash(&hash_key(key)).await?.is_none()
        {
            out.push(name);
        }
    }
    Ok(out)
}

/// Parses a 32-byte key given as 64 hex digits or base64.
pub fn parse_master_key(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    let bytes = hex::decode(s).ok().or_else(|| base64::engine::general_purpose::STANDARD.decode(s).ok())?;
    bytes.try_into().ok()
}

/// The configured key, or the one in `<data_dir>/encryption.key`, created on
/// first start. Returns the key and whether it was just generated.
pub fn load_or_create_master_key(configured: &str, data_dir: &Path) -> std::io::Result<([u8; 32], bool)> {
    if let Some(k) = parse_master_key(configured) {
        return Ok((k, false));
    }
    let path = data_dir.join("encryption.key");
    if let Ok(text) = std::fs::read_to_string(&path) {
        return parse_master_key(&text).map(|k| (k, false)).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{} is not a 32-byte key", path.display()))
        });
    }
    std::fs::create_dir_all(data_dir)?;
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(|e| std::io::Error::other(e.to_string()))?;
    write_private(&path, &hex::encode(key))?;
    Ok((key, true))
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_base62_of_the_right_length_and_differ() {
        let a = random_token(40);
        assert_eq!(a.len(), 40);
        assert!(a.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(a, random_token(40));
    }

    #[test]
    fn master_keys_parse_from_hex_or_base64_and_are_created_once() {
        assert!(parse_master_key(&"ab".repeat(32)).is_some());
        assert!(parse_master_key(&base64::engine::general_purpose::STANDARD.encode([1u8; 32])).is_some());
        assert!(parse_master_key("short").is_none());
        let dir = tempfile::tempdir().expect("tempdir");
        let (k1, new1) = load_or_create_master_key("", dir.path()).expect("create");
        let (k2, new2) = load_or_create_master_key("", dir.path()).expect("reload");
        assert!(new1 && !new2);
        assert_eq!(k1, k2);
    }
}
