//! Issuing unique coupon codes (券码) from a coupon template, and how a
//! code stands for its holder (the wallet).
//!
//! A code is drawn from the template's pattern with the operating system's
//! random numbers (`getrandom`); the pattern must leave 100,000 possible
//! codes per code issued (`beacon_pricing::codes::GUESS_FACTOR`). The store
//! issues each within the template's quantity and per-profile limit,
//! atomically; a code that happens to exist already is drawn again.

use crate::app::{App, AppResult};
use beacon_core::Error;
use beacon_core::ErrorCode;
use beacon_pricing::Promotion;
use beacon_pricing::codes::{Codes, Grant};
use beacon_pricing::spec::Status;
use beacon_store::{IssueLimits, Issued, NewCoupon, StoredCoupon};
use chrono::{DateTime, Utc};

/// Draws for codes that happen to exist already.
const DRAWS: usize = 5;

/// Who a code is issued to, and the key that makes issuing it again a no-op.
#[derive(Debug, Clone)]
pub struct Target {
    pub profile_id: Option<String>,
    pub issue_key: String,
}

/// The template of promotion `p`, or why it has none.
pub fn template(p: &Promotion) -> AppResult<&Codes> {
    p.codes.as_ref().ok_or_else(|| {
        Error::new(
            ErrorCode::Conflict,
            format!("promotion {:?} has no unique codes (it is not a coupon template)", p.id),
        )
    })
}

/// Whether the template can issue codes at `now` for shoppers (claims, sign-ups).
pub fn open_for_shoppers(p: &Promotion, now: DateTime<Utc>) -> Result<(), &'static str> {
    if !matches!(p.status, Status::Active | Status::Scheduled) {
        return Err("inactive");
    }
    if p.ends_at.is_some_and(|e| now >= e) {
        return Err("expired");
    }
    Ok(())
}

fn draw(codes: &Codes, n: usize) -> AppResult<Vec<String>> {
    let slots = codes.pattern.len();
    let mut random = vec![0u8; 4 * slots * n];
    getrandom::fill(&mut random).map_err(|e| beacon_store::internal_error(format!("random numbers: {e}")))?;
    let mut words = random.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    Ok((0..n).map(|_| codes.generate(|| words.next().unwrap_or(0))).collect())
}

/// Issues a code of template `p` to each target, each on its own.
pub async fn issue(
    app: &App,
    p: &Promotion,
    channel: &str,
    targets: &[Target],
    now: DateTime<Utc>,
) -> AppResult<Vec<Issued>> {
    let codes = template(p)?;
    let limits = IssueLimits {
        quantity: i64::try_from(codes.quantity).unwrap_or(i64::MAX),
        per_profile: i64::from(codes.per_profile),
    };
    let (valid_from, valid_until) = codes.validity(now, p.starts_at, p.ends_at);
    let mut out: Vec<Issued> = vec![Issued::CodeTaken; targets.len()];
    let mut pending: Vec<usize> = (0..targets.len()).collect();
    for _ in 0..DRAWS {
        if pending.is_empty() {
            break;
        }
        let drawn = draw(codes, pending.len())?;
        let batch: Vec<NewCoupon> = pending
            .iter()
            .zip(drawn)
            .map(|(i, code)| NewCoupon {
                code,
                profile_id: targets[*i].profile_id.clone(),
                issue_key: targets[*i].issue_key.clone(),
                valid_from,
                valid_until,
            })
            .collect();
        let results = app.store.promotions().issue_coupons(&p.id, channel, limits, &batch, now).await?;
        let mut again = Vec::new();
        for (i, r) in pending.iter().zip(results) {
            match r {
                Issued::CodeTaken => again.push(*i),
                r => out[*i] = r,
            }
        }
        pending = again;
    }
    metrics::counter!("beacon_coupons_issued_total", "channel" => channel.to_string())
        .increment(out.iter().filter(|r| matches!(r, Issued::New(_))).count() as u64);
    // the wallets that gain a code: the segments reading them (an issue
    // retried finds its code issued and decides them again)
    let holders: Vec<String> = out
        .iter()
        .filter_map(|r| match r {
            Issued::New(c) | Issued::Existing(c) => c.profile_id.clone(),
            _ => None,
        })
        .collect();
    crate::app::segments::wallet_changed(app, &holders).await?;
    Ok(out)
}

/// `available`, `used` or `expired` at `now` (a code of a template that
/// ended or is gone is expired).
pub fn status(c: &StoredCoupon, p: Option<&Promotion>, now: DateTime<Utc>) -> &'static str {
    let ended = p.is_none_or(|p| p.status == Status::Ended || p.ends_at.is_some_and(|e| now >= e));
    if c.used {
        "used"
    } else if ended || c.valid_until.is_some_and(|u| now >= u) {
        "expired"
    } else {
        "available"
    }
}

/// The engine's view of a stored code; an owner merged into the buyer is the buyer.
pub fn grant(c: StoredCoupon, buyer: Option<&beacon_core::profile::Profile>) -> Grant {
    let owner = c.profile_id.map(|o| match buyer {
        Some(b) if b.merges.iter().any(|m| m.merged_id.to_string() == o) => b.id.to_string(),
        _ => o,
    });
    Grant {
        code: c.code,
        promotion: c.promotion,
        owner,
        valid_from: c.valid_from,
        valid_until: c.valid_until,
        used: c.used,
    }
}
