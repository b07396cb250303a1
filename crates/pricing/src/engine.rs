//! The pricing engine: `(cart, promotions, now) → priced cart + explanation`.
//! Pure: no I/O, no clock (the caller passes `now`), no randomness.
//!
//! Order of application (docs/promotions.md): promotions that target lines
//! run first, then whole-order promotions on the already-discounted amounts,
//! then free shipping (on the fee, which the evaluation keeps after the lines);
//! within each stage, higher `priority` first, then by id. Thresholds
//! (`min_spend`, tiers, 每满) are measured on the amounts a promotion sees
//! when its turn comes, and every discount is capped by them, so no
//! combination can make a line or the total negative.
//!
//! Best for the shopper: each exclusive group is one choice (none of its
//! exclusive promotions, or one of them, which then turns off the rest of
//! the group), and a promotion whose discount could push a later promotion
//! below its threshold is a yes/no choice, as is one that never combines
//! with another (`not_with`; such pairs are skipped); every other promotion applies
//! (leaving it out could only raise the total). The
//! engine evaluates every combination of these choices and keeps the lowest
//! total (ties: the fewest promotions, then the smallest list of ids) — up
//! to [`MAX_COMBINATIONS`]; beyond that it decides one choice at a time,
//! keeping the best so far, and says so (`exact: false`).

use crate::cart::Cart;
use crate::codes::{code_of, grants, unusable};
use crate::eval::{Eval, Outcome, canonical, evaluate, reward_discount};
use crate::explain::{Applied, Gift, Hint, Priced, PricedLine, Reason, Rejected};
use crate::limits::{Counter, Limit, Scope, Take, lacks_subject};
use crate::lines::Lines;
use crate::search::{choices, search};
use crate::spec::{Basis, Promotion, Reward, Status};
use chrono::{DateTime, Utc};

/// Most combinations searched exhaustively.
pub const MAX_COMBINATIONS: usize = 4096;

/// Prices `cart` with the promotions of `snapshot` its lines can match.
pub fn price_with(cart: &Cart, snapshot: &crate::index::Snapshot, now: DateTime<Utc>) -> Priced {
    let unknown = unknown_coupons(cart, |c| snapshot.has_coupon(c) || cart.grants.iter().any(|g| g.code == c));
    let found = snapshot.candidates_with_lines(cart).into_iter().map(|(p, lines)| (p, Some(lines))).collect();
    price_candidates(cart, found, now, MAX_COMBINATIONS, unknown, true)
}

/// [`price`] with another bound on the exhaustive search (for tests and
/// benchmarks of the one-choice-at-a-time search).
pub fn price_bounded(cart: &Cart, promotions: &[Promotion], now: DateTime<Utc>, max_combinations: usize) -> Priced {
    let unknown = unknown_coupons(cart, |c| {
        promotions.iter().any(|p| p.coupon.as_deref() == Some(c)) || cart.grants.iter().any(|g| g.code == c)
    });
    price_candidates(cart, promotions.iter().map(|p| (p, None)).collect(), now, max_combinations, unknown, true)
}

/// [`price`] with every promotion that could push a later threshold as a
/// choice, without first settling the thresholds no combination can move
/// (for tests that settling never changes the best total).
#[doc(hidden)]
pub fn price_unpruned(cart: &Cart, promotions: &[Promotion], now: DateTime<Utc>) -> Priced {
    let unknown = unknown_coupons(cart, |c| {
        promotions.iter().any(|p| p.coupon.as_deref() == Some(c)) || cart.grants.iter().any(|g| g.code == c)
    });
    price_candidates(cart, promotions.iter().map(|p| (p, None)).collect(), now, MAX_COMBINATIONS, unknown, false)
}

/// Prices `cart` with `promotions` at `now`, looking at every one of them
/// (see [`price_with`] for a shop's whole set).
pub fn price(cart: &Cart, promotions: &[Promotion], now: DateTime<Utc>) -> Priced {
    price_bounded(cart, promotions, now, MAX_COMBINATIONS)
}

/// The presented codes no promotion has.
fn unknown_coupons(cart: &Cart, known: impl Fn(&str) -> bool) -> Vec<Rejected> {
    let mut codes: Vec<&String> = cart.coupons.iter().filter(|c| !known(c)).collect();
    codes.sort();
    codes.dedup();
    codes.into_iter().map(|c| Rejected { id: c.clone(), reason: Reason::UnknownCoupon }).collect()
}

/// A candidate promotion, with its lines when the snapshot found them
/// (`Some(None)`: every line; `None`: not looked up yet).
type Candidate<'a> = (&'a Promotion, Option<Option<Vec<usize>>>);

fn price_candidates<'a>(
    cart: &'a Cart,
    promotions: Vec<Candidate<'a>>,
    now: DateTime<Utc>,
    limit: usize,
    unknown: Vec<Rejected>,
    prune: bool,
) -> Priced {
    let order = canonical(cart);
    let mut rank = vec![0; cart.lines.len()];
    for (r, i) in order.iter().enumerate() {
        rank[*i] = r;
    }
    let every: Vec<usize> = order.iter().copied().filter(|i| cart.lines[*i].quantity > 0).collect();
    // the lines a promotion applies to, in canonical order
    let mut index: Option<Lines> = None;
    let mut lines_for = |p: &Promotion, found: Option<Option<Vec<usize>>>| match found {
        Some(None) => every.clone(),
        Some(Some(mut lines)) => {
            lines.sort_unstable_by_key(|i| rank[*i]);
            lines.dedup();
            lines
        }
        None => index.get_or_insert_with(|| Lines::new(cart, &order)).eligible(p),
    };
    let mut rejected = unknown;
    let mut live: Vec<(&Promotion, Vec<usize>)> = Vec::new();
    let grants = grants(cart, now, &mut rejected);
    let code = |p: &'a Promotion| code_of(p, &grants);
    // a coupon's promotion is only for carts that present its code, a group-buy for its teams' orders
    let presented = |p: &'a Promotion| {
        let coupon = match &p.codes {
            Some(_) => code(p).is_some(),
            None => p.coupon.as_ref().is_none_or(|c| cart.coupons.contains(c)),
        };
        coupon && (p.group_buy.is_none() || cart.group_buy.as_deref() == Some(p.id.as_str()))
    };
    for (p, found) in promotions.into_iter().filter(|(p, _)| presented(p)) {
        let reason = if !matches!(p.status, Status::Active | Status::Scheduled) {
            Some(Reason::Inactive { status: p.status })
        } else if let Some(starts_at) = p.starts_at.filter(|s| now < *s) {
            Some(Reason::NotStarted { starts_at })
        } else if let Some(ended_at) = p.ends_at.filter(|e| now >= *e) {
            Some(Reason::Expired { ended_at })
        } else if p.schedule.as_ref().is_some_and(|s| !s.open_at(now)) {
            Some(Reason::OutsideWindow)
        } else if p.eligibility.as_ref().is_some_and(|e| !e.admits(&cart.customer)) {
            Some(Reason::CustomerNotEligible)
        } else if p.currency.code != cart.currency.code {
            Some(Reason::CurrencyMismatch {
                promotion: p.currency.code().to_string(),
                cart: cart.currency.code().to_string(),
            })
        } else if let Some(reason) =
            p.codes.as_ref().and_then(|_| unusable(grants.iter().find(|g| g.promotion == p.id)?, cart, now))
        {
            Some(reason)
        } else {
            match spent_limit(p, cart, code(p)) {
                Some(Err(reason)) => Some(reason),
                Some(Ok(i)) => Some(match lines_for(p, found.clone()) {
                    lines if lines.is_empty() => Reason::NoMatchingLines,
                    lines => spent(cart, p, i, lines),
                }),
                None => None,
            }
        };
        match reason {
            Some(reason) => rejected.push(Rejected { id: p.id.clone(), reason }),
            None => match lines_for(p, found) {
                lines if lines.is_empty() => {
                    rejected.push(Rejected { id: p.id.clone(), reason: Reason::NoMatchingLines })
                }
                lines => live.push((p, lines)),
            },
        }
    }
    // line promotions, then whole-order ones, then free shipping (on what the others left)
    let stage = |p: &Promotion| (matches!(p.reward, Reward::FreeShipping(_)), p.target.is_none());
    // (ids are unique, so the order is total and an unstable sort is as good)
    live.sort_unstable_by(|(a, _), (b, _)| (stage(a), -a.priority, &a.id).cmp(&(stage(b), -b.priority, &b.id)));
    let (mut live, mut lines_of): (Vec<&Promotion>, Vec<Vec<usize>>) = live.into_iter().unzip();
    // a promotion that would take more of a limit than is left is left out and the rest priced again
    loop {
        let choices = choices(cart, &live, &lines_of, prune);
        let (on, combinations, exact, found) = search(cart, &live, &lines_of, &choices, limit);
        let eval = evaluate(cart, &live, &lines_of, &on);
        debug_assert_eq!(eval.paid, found, "the search scored the combination it chose");
        let (takes, over) = takes(cart, &live, &eval);
        if over.is_empty() {
            let mut priced = explain(cart, &live, &on, eval, rejected, combinations, exact);
            priced.takes = takes;
            if let Some(r) = &cart.points {
                crate::points::redeem(&mut priced, r);
            }
            priced.redeemed = priced
                .applied
                .iter()
                .filter_map(|a| {
                    Some((a.id.clone(), code(live.iter().find(|p| p.id == a.id && p.codes.is_some())?)?.to_string()))
                })
                .collect();
            return priced;
        }
        for (k, reason) in over.into_iter().rev() {
            lines_of.remove(k);
            rejected.push(Rejected { id: live.remove(k).id.clone(), reason });
        }
    }
}

/// Why a promotion's limits rule it out before pricing: nothing to count
/// by (`Err`), or nothing left of limit `Ok(i)`.
fn spent_limit(p: &Promotion, cart: &Cart, code: Option<&str>) -> Option<Result<usize, Reason>> {
    p.limits.iter().enumerate().find_map(|(i, l)| {
        if lacks_subject(l, &cart.who, code) {
            return Some(Err(Reason::CustomerRequired { scope: l.scope }));
        }
        (cart.usage.used(&p.id, i) >= l.limit).then_some(Ok(i))
    })
}

fn over_reason(l: &Limit, used: i64, needed: i64) -> Reason {
    match (l.counter, l.scope) {
        (Counter::Discount, _) => Reason::BudgetExhausted { limit: l.limit, used, needed },
        (Counter::Units, Scope::Promotion) => Reason::OutOfStock { stock: l.limit, sold: used, wanted: needed },
        _ => Reason::UsageLimitReached { limit: l.clone(), used, needed },
    }
}

/// What applying `p` (taking `amount` off `lines`) takes from its limit `l`.
fn needs(cart: &Cart, p: &Promotion, l: &Limit, amount: i64, lines: &[(usize, i64)]) -> i64 {
    match l.counter {
        Counter::Redemptions => 1,
        Counter::Discount => amount,
        // the points program's own (a promotion's limits refuse it at compile)
        Counter::Points => 0,
        Counter::Units => match &p.reward {
            // a gift's stock
            Reward::Gift { quantity, .. } => *quantity,
            _ => lines.iter().filter(|(_, a)| *a > 0).filter_map(|(j, _)| cart.lines.get(*j)).map(|l| l.quantity).sum(),
        },
    }
}

/// A limit with nothing left, as the cart would have used it: `p` priced
/// alone on `lines` says what it needed (`budget_exhausted` the money,
/// `out_of_stock` the units), not just that one more was too many.
fn spent(cart: &Cart, p: &Promotion, i: usize, lines: Vec<usize>) -> Reason {
    let l = &p.limits[i];
    let used = cart.usage.used(&p.id, i);
    let eval = evaluate(cart, &[p], &[lines], &[true]);
    match eval.outcomes.first() {
        Some(Outcome::Applied { amount, lines }) => over_reason(l, used, needs(cart, p, l, *amount, lines)),
        // what it would not have applied to, it needed nothing of: say why not
        Some(Outcome::Rejected(reason)) => reason.clone(),
        _ => over_reason(l, used, 1),
    }
}

/// What each applied promotion takes from its limits, and the promotions
/// (by index, ascending) that would take more than is left.
fn takes(cart: &Cart, live: &[&Promotion], eval: &Eval) -> (Vec<Take>, Vec<(usize, Reason)>) {
    let (mut takes, mut over) = (Vec::new(), Vec::new());
    for (k, outcome) in eval.outcomes.iter().enumerate() {
        let (p, Outcome::Applied { amount, lines }) = (live[k], outcome) else { continue };
        for (i, l) in p.limits.iter().enumerate() {
            let needed = needs(cart, p, l, *amount, lines);
            let used = cart.usage.used(&p.id, i);
            if used.saturating_add(needed) > l.limit {
                over.push((k, over_reason(l, used, needed)));
                break;
            }
            takes.push(Take { promotion: p.id.clone(), limit: i, counter: l.counter, amount: needed, max: l.limit });
        }
    }
    (takes, over)
}

#[allow(clippy::too_many_arguments)]
fn explain(
    cart: &Cart,
    live: &[&Promotion],
    on: &[bool],
    eval: Eval,
    mut rejected: Vec<Rejected>,
    combinations: usize,
    exact: bool,
) -> Priced {
    let mut lines: Vec<PricedLine> = cart
        .lines
        .iter()
        .map(|l| PricedLine {
            product_id: l.product_id.clone(),
            quantity: l.quantity,
            unit_price: l.unit_price,
            subtotal: l.gross().max(0),
            discount: 0,
            total: l.gross().max(0),
            allocations: Vec::new(),
        })
        .collect();
    let mut applied = Vec::new();
    let mut gifts = Vec::new();
    let mut hints = Vec::new();
    let mut shipping_discount = 0;
    for (k, outcome) in eval.outcomes.iter().enumerate() {
        let p = live[k];
        match outcome {
            Outcome::Applied { amount, lines: parts } => {
                let mut on_lines = Vec::with_capacity(parts.len());
                for (i, a) in parts {
                    // past the lines: the shipping fee
                    let Some(line) = lines.get_mut(*i) else {
                        shipping_discount += a;
                        continue;
                    };
                    line.discount += a;
                    line.total -= a;
                    line.allocations.push((p.id.clone(), *a));
                    on_lines.push((*i, *a));
                }
                applied.push(Applied { id: p.id.clone(), name: p.name.clone(), amount: *amount, lines: on_lines });
                if let Reward::Gift { product_id, sku, quantity } = &p.reward {
                    gifts.push(Gift {
                        promotion: p.id.clone(),
                        product_id: product_id.clone(),
                        sku: sku.clone(),
                        quantity: *quantity,
                    });
                }
            }
            Outcome::Rejected(reason) => rejected.push(Rejected { id: p.id.clone(), reason: reason.clone() }),
            Outcome::Left => {
                // left out: for the exclusive promotion of its group that is on, or because
                // leaving it out was better for the shopper
                let rival = (0..live.len()).find(|j| {
                    *j != k && on[*j] && (live[*j].exclusive && live[*j].group == p.group || live[*j].conflicts(p))
                });
                let (base, items) = eval.seen[k];
                let unmet = match p.min_spend {
                    Some(min) if base < min => Some(Reason::MinSpendNotMet { required: min, actual: base }),
                    _ => reward_discount(&p.reward, base, items).err(),
                };
                let reason = match (rival, unmet) {
                    (Some(j), _) => Reason::NotStackableWith { id: live[j].id.clone() },
                    // it would not have applied anyway: say why
                    (None, Some(reason)) => reason,
                    (None, None) => Reason::NotBestForShopper,
                };
                rejected.push(Rejected { id: p.id.clone(), reason });
            }
        }
        if let Some(h) = hint(p, eval.seen[k], outcome, cart.shipping) {
            hints.push(h);
        }
    }
    let subtotal: i64 = lines.iter().map(|l| l.subtotal).sum();
    let shipping = cart.shipping.max(0);
    Priced {
        currency: cart.currency,
        subtotal,
        discount: subtotal + shipping - shipping_discount - eval.total,
        shipping,
        shipping_discount,
        total: eval.total,
        points: None,
        lines,
        applied,
        rejected,
        hints,
        combinations,
        exact,
        takes: Vec::new(),
        gifts,
        redeemed: Vec::new(),
    }
}

/// What more the shopper would need for this promotion's next step.
fn hint(p: &Promotion, (base, items): (i64, i64), outcome: &Outcome, shipping: i64) -> Option<Hint> {
    let make = |more: i64, is_items: bool| {
        // for items, priced at the eligible lines' average unit price
        let (b, n) = if is_items { (base + more * (base / items.max(1)), items + more) } else { (base + more, items) };
        let discount = match &p.reward {
            // 凑单包邮: the fee it would take off
            Reward::FreeShipping(cap) => cap.map_or(shipping, |c| shipping.min(c)),
            // 凑单赠: nothing off, a gift
            Reward::Gift { product_id, quantity, .. } => {
                let gift = Some((product_id.clone(), *quantity));
                return (more > 0).then(|| Hint { id: p.id.clone(), more, items: is_items, discount: 0, gift });
            }
            _ => reward_discount(&p.reward, b, n).ok()?.min(b),
        };
        (more > 0 && discount > 0).then(|| Hint { id: p.id.clone(), more, items: is_items, discount, gift: None })
    };
    match outcome {
        Outcome::Rejected(Reason::MinSpendNotMet { required, actual }) => make(required - actual, false),
        Outcome::Rejected(Reason::MinItemsNotMet { required, actual }) => make(required - actual, true),
        Outcome::Applied { .. } => match &p.reward {
            Reward::Tiers(basis, tiers) => {
                let measure = if *basis == Basis::Items { items } else { base };
                let next = tiers.iter().find(|t| t.min > measure)?;
                make(next.min - measure, *basis == Basis::Items)
            }
            Reward::Every { every, amount_off, cap } if cap.is_none_or(|c| (base / every + 1) * amount_off <= c) => {
                make(every - base % every, false)
            }
            _ => None,
        },
        _ => None,
    }
}
