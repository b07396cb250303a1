//! How identities, merge reasons and ids are written to and read from rows.
//! Identities of a personal kind ([`PiiCipher::seals_kind`]) are encrypted.

use crate::pii::PiiCipher;
use crate::{Result, StoreError};
use beacon_core::resolve::MergeReason;
use beacon_core::{Identity, IdentityKind, ProfileId};

/// Encodes an identity for storage: (lookup hash, plain value, ciphertext).
pub(crate) fn encode_identity(pii: &PiiCipher, id: &Identity) -> (Vec<u8>, Option<String>, Option<String>) {
    let lookup = pii.lookup_key(id.kind.as_str(), &id.value);
    if pii.seals_kind(&id.kind) {
        (lookup, None, Some(pii.encrypt(&id.value)))
    } else {
        (lookup, Some(id.value.clone()), None)
    }
}

/// Decodes a stored identity row.
pub(crate) fn decode_identity(
    pii: &PiiCipher,
    kind: &str,
    value: Option<String>,
    value_enc: Option<String>,
) -> Result<Identity> {
    let kind = IdentityKind::parse(kind).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let value = match (value, value_enc) {
        (Some(v), _) => v,
        (None, Some(enc)) => pii.decrypt(&enc).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        (None, None) => return Err(StoreError::Corrupt("identity without a value".into())),
    };
    Ok(Identity { kind, value })
}

/// A merge reason as stored: a shared email or phone is encrypted.
pub(crate) fn encode_reason(pii: &PiiCipher, reason: &MergeReason) -> Result<String> {
    let mut reason = reason.clone();
    if let MergeReason::SharedIdentity { identity } = &mut reason
        && pii.seals_kind(&identity.kind)
    {
        identity.value = format!("{}{}", crate::pii::SEALED_PREFIX, pii.encrypt(&identity.value));
    }
    serde_json::to_string(&reason).map_err(|e| StoreError::Backend(e.to_string()))
}

pub(crate) fn decode_reason(pii: &PiiCipher, text: &str) -> Result<MergeReason> {
    let mut reason: MergeReason = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let MergeReason::SharedIdentity { identity } = &mut reason
        && let Some(sealed) = identity.value.strip_prefix(crate::pii::SEALED_PREFIX)
    {
        identity.value = pii.decrypt(sealed).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    }
    Ok(reason)
}

pub(crate) fn parse_id(s: &str) -> Result<ProfileId> {
    s.parse().map_err(|_| StoreError::Corrupt(format!("profile id {s:?}")))
}
