//! Identity kinds and the normalisation that makes two spellings of the same
//! identity compare equal (`Foo@Example.com ` = `foo@example.com`,
//! `138 0013 8000` = `+8613800138000`).

use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest identity value accepted, in bytes (after normalisation).
pub const MAX_IDENTITY_LEN: usize = 256;

/// What kind of identifier a value is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum IdentityKind {
    UserId,
    AnonymousId,
    Email,
    Phone,
    DeviceId,
    OpenId,
    UnionId,
    /// A shop-specific identifier named in settings (e.g. `member_no`).
    Custom(String),
}

impl IdentityKind {
    pub fn as_str(&self) -> &str {
        match self {
            IdentityKind::UserId => "user_id",
            IdentityKind::AnonymousId => "anonymous_id",
            IdentityKind::Email => "email",
            IdentityKind::Phone => "phone",
            IdentityKind::DeviceId => "device_id",
            IdentityKind::OpenId => "openid",
            IdentityKind::UnionId => "unionid",
            IdentityKind::Custom(name) => name,
        }
    }

    /// Parses a kind name. Custom names must be lowercase ASCII words.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "user_id" => IdentityKind::UserId,
            "anonymous_id" => IdentityKind::AnonymousId,
            "email" => IdentityKind::Email,
            "phone" => IdentityKind::Phone,
            "device_id" => IdentityKind::DeviceId,
            "openid" => IdentityKind::OpenId,
            "unionid" => IdentityKind::UnionId,
            other => {
                let ok = !other.is_empty()
                    && other.len() <= 64
                    && other.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                if !ok {
                    return Err(Error::new(ErrorCode::InvalidIdentity, format!("unknown identity type {other:?}")));
                }
                IdentityKind::Custom(other.to_string())
            }
        })
    }

    /// Email and phone are personal data: encrypted at rest.
    pub fn is_pii(&self) -> bool {
        matches!(self, IdentityKind::Email | IdentityKind::Phone)
    }
}

impl fmt::Display for IdentityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<IdentityKind> for String {
    fn from(k: IdentityKind) -> String {
        k.as_str().to_string()
    }
}

impl TryFrom<String> for IdentityKind {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        IdentityKind::parse(&s)
    }
}

/// A normalised identity: constructed only through [`Identity::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Identity {
    #[serde(rename = "type")]
    pub kind: IdentityKind,
    pub value: String,
}

/// Knobs for normalisation, from settings.
#[derive(Debug, Clone)]
pub struct NormalizeOptions {
    /// Country calling code assumed for phone numbers without `+` (e.g. "86").
    pub default_country_code: String,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions { default_country_code: "86".to_string() }
    }
}

impl Identity {
    /// Normalises `raw` as an identity of `kind`.
    pub fn parse(kind: IdentityKind, raw: &str, opts: &NormalizeOptions) -> Result<Self, Error> {
        let trimmed = raw.trim();
        let value = match kind {
            IdentityKind::Email => normalize_email(trimmed)?,
            IdentityKind::Phone => normalize_phone(trimmed, opts)?,
            _ => trimmed.to_string(),
        };
        if value.is_empty() {
            return Err(Error::new(ErrorCode::InvalidIdentity, format!("{kind} is empty")));
        }
        if value.len() > MAX_IDENTITY_LEN {
            return Err(Error::new(
                ErrorCode::InvalidIdentity,
                format!("{kind} is longer than {MAX_IDENTITY_LEN} bytes"),
            ));
        }
        Ok(Identity { kind, value })
    }

    /// `TYPE:VALUE`, the form used in query strings.
    pub fn parse_pair(pair: &str, opts: &NormalizeOptions) -> Result<Self, Error> {
        let (kind, value) = pair.split_once(':').ok_or_else(|| {
            Error::new(ErrorCode::InvalidParameter, "identity must be TYPE:VALUE, e.g. email:ann@example.com")
        })?;
        Identity::parse(IdentityKind::parse(kind)?, value, opts)
    }
}

fn normalize_email(s: &str) -> Result<String, Error> {
    let lower = s.to_lowercase();
    let valid = match lower.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !lower.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(lower)
    } else {
        Err(Error::new(ErrorCode::InvalidIdentity, format!("{s:?} is not an email address")))
    }
}

/// E.164: `+` then 8 to 15 digits. Separators (space, `-`, `.`, brackets) are
/// dropped; `00` is read as `+`; a number without either gets the default
/// country code (a leading trunk `0` is dropped first).
fn normalize_phone(s: &str, opts: &NormalizeOptions) -> Result<String, Error> {
    let bad = || Error::new(ErrorCode::InvalidIdentity, format!("{s:?} is not a phone number"));
    let mut digits = String::with_capacity(s.len());
    let mut plus = false;
    for (i, c) in s.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => plus = true,
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(bad()),
        }
    }
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_string()
    } else {
        let national = digits.strip_prefix('0').unwrap_or(&digits);
        format!("{}{}", opts.default_country_code, national)
    };
    if !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err(bad());
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(s: &str) -> Result<String, Error> {
        Identity::parse(IdentityKind::Phone, s, &NormalizeOptions::default()).map(|i| i.value)
    }

    #[test]
    fn phones_in_common_spellings_normalise_to_one_e164_value() {
        for s in ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000"] {
            assert_eq!(phone(s).ok().as_deref(), Some("+8613800138000"), "{s}");
        }
        assert_eq!(phone("+1 (415) 555-2671").ok().as_deref(), Some("+14155552671"));
    }

    #[test]
    fn letters_and_short_numbers_are_not_phones() {
        for s in ["abc", "12", "+", "1380013800x", "+0123456789"] {
            assert!(phone(s).is_err(), "{s}");
        }
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        let id = Identity::parse(IdentityKind::Email, "  Ann.Lee@Example.COM ", &NormalizeOptions::default());
        assert_eq!(id.map(|i| i.value).ok().as_deref(), Some("ann.lee@example.com"));
        for bad in ["ann", "@x.com", "ann@", "a b@x.com", "a@b@c"] {
            assert!(Identity::parse(IdentityKind::Email, bad, &NormalizeOptions::default()).is_err());
        }
    }

    #[test]
    fn kinds_round_trip_and_custom_names_are_checked() {
        for k in ["user_id", "anonymous_id", "email", "phone", "device_id", "openid", "unionid", "member_no"] {
            assert_eq!(IdentityKind::parse(k).map(|k| k.to_string()).ok().as_deref(), Some(k));
        }
        assert!(IdentityKind::parse("Bad Kind").is_err());
        assert!(IdentityKind::parse("").is_err());
    }
}
