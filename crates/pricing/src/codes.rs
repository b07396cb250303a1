//! Unique coupon codes (券码): a promotion with `codes` is a coupon
//! template. Its codes are made from a pattern (`SPRING-####-????`), each
//! used once, issued to a profile (claimed, given by an operator, on
//! sign-up) or to nobody (a bearer code), valid in the promotion's window or
//! for N days after issue.
//!
//! The engine stays pure: the caller draws the randomness a code is made
//! from ([`Codes::generate`]) and looks up the codes a cart presents, which
//! it passes as [`Grant`]s.

use crate::cart::Cart;
use crate::explain::{Reason, Rejected};
use crate::spec::{Promotion, invalid};
use beacon_core::Error;
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// How many possible codes there must be per code issued: a shopper
/// guessing codes finds a live one less than once in this many tries.
pub const GUESS_FACTOR: u128 = 100_000;

/// Letters for `?`: A to Z without I and O (read as 1 and 0).
const LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
const DIGITS: &[u8] = b"0123456789";
/// For `*`: digits and letters without 0, 1, I and O.
const MIXED: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CodesSpec {
    /// `#` a digit, `?` a letter (no I or O), `*` a digit or letter (no 0,
    /// 1, I or O); letters, digits, `-` and `_` as written.
    #[serde(default = "default_pattern")]
    pub pattern: String,
    /// Most codes ever issued; none: as many as the pattern keeps unguessable.
    #[serde(default)]
    pub quantity: Option<u64>,
    /// Most codes one profile may be issued (by any way), default 1.
    #[serde(default = "one")]
    pub per_profile: u32,
    /// Valid for this many days after issue (never after the promotion
    /// ends); none: the promotion's own window.
    #[serde(default)]
    pub valid_days: Option<u32>,
    /// Shoppers may claim a code themselves (领券).
    #[serde(default)]
    pub claimable: bool,
    /// Each new profile that signs up (a `Signed Up` event) is issued one.
    #[serde(default)]
    pub on_signup: bool,
}

fn default_pattern() -> String {
    "****-****-****".into()
}

fn one() -> u32 {
    1
}

/// A validated coupon template.
#[derive(Debug, Clone, PartialEq)]
pub struct Codes {
    pub pattern: String,
    /// Most codes ever issued (the pattern's unguessable capacity if the spec set none).
    pub quantity: u64,
    pub per_profile: u32,
    pub valid_days: Option<u32>,
    pub claimable: bool,
    pub on_signup: bool,
}

/// A unique code a cart presents, as the store knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    /// Upper-cased.
    pub code: String,
    pub promotion: String,
    /// The profile it was issued to; none: whoever holds it.
    pub owner: Option<String>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_until: Option<DateTime<Utc>>,
    /// Redeemed by an order (and not given back).
    pub used: bool,
}

fn alphabet(c: u8) -> Option<&'static [u8]> {
    match c {
        b'#' => Some(DIGITS),
        b'?' => Some(LETTERS),
        b'*' => Some(MIXED),
        _ => None,
    }
}

/// How many codes `pattern` can make.
pub fn space(pattern: &str) -> u128 {
    pattern.bytes().filter_map(alphabet).fold(1u128, |n, a| n.saturating_mul(a.len() as u128))
}

impl CodesSpec {
    pub(crate) fn compile(&self, id: &str) -> Result<Codes, Error> {
        let pattern = self.pattern.trim().to_ascii_uppercase();
        if pattern.is_empty()
            || pattern.len() > 64
            || !pattern.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_#?*".contains(&c))
        {
            return Err(invalid(id, "codes.pattern must be 1 to 64 of letters, digits, '-', '_', '#', '?' and '*'"));
        }
        let capacity = u64::try_from(space(&pattern) / GUESS_FACTOR).unwrap_or(u64::MAX);
        if capacity == 0 {
            return Err(invalid(
                id,
                format!(
                    "codes.pattern {pattern:?} makes {} codes: too few to be unguessable; add '#', '?' or '*'",
                    space(&pattern)
                ),
            ));
        }
        let quantity = self.quantity.unwrap_or(capacity);
        if quantity == 0 || quantity > capacity {
            return Err(invalid(
                id,
                format!(
                    "codes.quantity must be 1 to {capacity} for pattern {pattern:?} (it must have {GUESS_FACTOR} possible codes per code issued)"
                ),
            ));
        }
        if self.per_profile == 0 || self.per_profile > 1000 {
            return Err(invalid(id, "codes.per_profile must be 1 to 1000"));
        }
        if self.valid_days.is_some_and(|d| d == 0 || d > 3660) {
            return Err(invalid(id, "codes.valid_days must be 1 to 3660"));
        }
        Ok(Codes {
            pattern,
            quantity,
            per_profile: self.per_profile,
            valid_days: self.valid_days,
            claimable: self.claimable,
            on_signup: self.on_signup,
        })
    }
}

impl Codes {
    /// A code from the pattern, each placeholder filled by `next()` (the
    /// caller's random numbers, from a cryptographic source).
    pub fn generate(&self, mut next: impl FnMut() -> u32) -> String {
        self.pattern
            .bytes()
            .map(|c| match alphabet(c) {
                // the bias of a u32 modulo 32 or fewer is below one in 10^8
                Some(a) => a[next() as usize % a.len()] as char,
                None => c as char,
            })
            .collect()
    }

    /// The window of a code issued at `at` for a promotion ending at `ends_at`.
    pub fn validity(
        &self,
        at: DateTime<Utc>,
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.valid_days {
            Some(days) => {
                let until = at + chrono::Duration::days(i64::from(days));
                (Some(starts_at.map_or(at, |s| s.max(at))), Some(ends_at.map_or(until, |e| e.min(until))))
            }
            None => (starts_at, ends_at),
        }
    }
}

/// The unique code the engine uses for each coupon template in this cart
/// (for the caller to read the same code's limit counters).
pub fn chosen_grants(cart: &Cart, now: DateTime<Utc>) -> Vec<&Grant> {
    grants(cart, now, &mut Vec::new())
}

/// The unique code each coupon template uses in this cart: of the codes
/// presented for one template, the first usable (soonest to expire, then by
/// code), else the first; the others are rejected as `duplicate_coupon`.
pub(crate) fn grants<'a>(cart: &'a Cart, now: DateTime<Utc>, rejected: &mut Vec<Rejected>) -> Vec<&'a Grant> {
    let mut all: Vec<&Grant> = cart.grants.iter().filter(|g| cart.coupons.contains(&g.code)).collect();
    all.sort_by(|a, b| {
        let rank = |g: &Grant| (unusable(g, cart, now).is_some(), g.valid_until.is_none(), g.valid_until);
        (&a.promotion, rank(a), &a.code).cmp(&(&b.promotion, rank(b), &b.code))
    });
    all.dedup_by(|later, first| {
        let same = later.promotion == first.promotion;
        if same && later.code != first.code {
            let promotion = first.promotion.clone();
            rejected.push(Rejected { id: later.code.clone(), reason: Reason::DuplicateCoupon { promotion } });
        }
        same
    });
    all
}

/// The code a promotion is used with: its shared code, or the unique code presented for it.
pub(crate) fn code_of<'a>(p: &'a Promotion, grants: &[&'a Grant]) -> Option<&'a str> {
    match &p.codes {
        Some(_) => grants.iter().find(|g| g.promotion == p.id).map(|g| g.code.as_str()),
        None => p.coupon.as_deref(),
    }
}

/// Why a unique code cannot be used in this cart now.
pub(crate) fn unusable(g: &Grant, cart: &Cart, now: DateTime<Utc>) -> Option<Reason> {
    if g.used {
        Some(Reason::CouponUsed { code: g.code.clone() })
    } else if g.owner.as_ref().is_some_and(|o| cart.who.profile.as_ref() != Some(o)) {
        Some(Reason::CouponNotOwned { code: g.code.clone() })
    } else if let Some(starts_at) = g.valid_from.filter(|s| now < *s) {
        Some(Reason::NotStarted { starts_at })
    } else {
        g.valid_until.filter(|e| now >= *e).map(|ended_at| Reason::Expired { ended_at })
    }
}
