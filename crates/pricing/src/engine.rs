//! The pricing engine: `(cart, promotions, now) → priced cart + explanation`.
//! Pure: no I/O, no clock (the caller passes `now`), no randomness.
//!
//! Order of application (docs/promotions.md): promotions that target lines
//! run first, then whole-order promotions on the already-discounted amounts;
//! within each stage, higher `priority` first, then by id. Thresholds
//! (`min_spend`, tiers, 每满) are measured on the amounts a promotion sees
//! when its turn comes, and every discount is capped by them, so no
//! combination can make a line or the total negative.
//!
//! Best for the shopper: each exclusive group is one choice (none of its
//! exclusive promotions, or one of them, which then turns off the rest of
//! the group), and a promotion whose discount could push a later promotion
//! below its threshold is a yes/no choice; every other promotion applies
//! (leaving it out could only raise the total). The
//! engine evaluates every combination of these choices and keeps the lowest
//! total (ties: the fewest promotions, then the smallest list of ids) — up
//! to [`MAX_COMBINATIONS`]; beyond that it decides one choice at a time,
//! keeping the best so far, and says so (`exact: false`).

use crate::cart::Cart;
use crate::explain::{Applied, Hint, Priced, PricedLine, Reason, Rejected};
use crate::spec::{Basis, Off, Promotion, Reward, Status};
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// Most combinations searched exhaustively.
pub const MAX_COMBINATIONS: usize = 4096;

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Applied { amount: i64, lines: Vec<(usize, i64)> },
    Rejected(Reason),
    Left,
}

struct Eval {
    total: i64,
    outcomes: Vec<Outcome>,
    /// What each promotion saw: (eligible amount, eligible items).
    seen: Vec<(i64, i64)>,
}

fn percent(base: i64, bp: i64) -> i64 {
    // half up, to the minor unit
    ((i128::from(base) * i128::from(bp) + 5_000) / 10_000) as i64
}

/// The discount a reward gives on `base` (amount) and `items`, before the cap by `base`.
fn reward_discount(reward: &Reward, base: i64, items: i64) -> Result<i64, Reason> {
    Ok(match reward {
        Reward::AmountOff(a) => *a,
        Reward::PercentOff(bp, cap) => cap.map_or(percent(base, *bp), |c| percent(base, *bp).min(c)),
        Reward::Tiers(basis, tiers) => {
            let measure = if *basis == Basis::Items { items } else { base };
            let Some(tier) = tiers.iter().rev().find(|t| t.min <= measure) else {
                let required = tiers.first().map_or(0, |t| t.min);
                return Err(match basis {
                    Basis::Amount => Reason::MinSpendNotMet { required, actual: base },
                    Basis::Items => Reason::MinItemsNotMet { required, actual: items },
                });
            };
            match tier.off {
                Off::Amount(a) => a,
                Off::Percent(bp) => percent(base, bp),
            }
        }
        Reward::Every { every, amount_off, cap } => {
            let n = base / every;
            if n == 0 {
                return Err(Reason::MinSpendNotMet { required: *every, actual: base });
            }
            let d = n.saturating_mul(*amount_off);
            cap.map_or(d, |c| d.min(c))
        }
    })
}

/// Whether the promotion's outcome depends on the amount it sees (an item
/// count does not move when earlier promotions discount the lines).
fn has_threshold(p: &Promotion) -> bool {
    p.min_spend.is_some() || matches!(p.reward, Reward::Tiers(Basis::Amount, _) | Reward::Every { .. })
}

/// The lines a promotion applies to, in `order` (see [`canonical`]).
fn eligible(p: &Promotion, cart: &Cart, order: &[usize]) -> Vec<usize> {
    order
        .iter()
        .copied()
        .filter(|i| cart.lines[*i].quantity > 0 && p.target.as_ref().is_none_or(|t| t.matches(&cart.lines[*i])))
        .collect()
}

/// The lines in an order that does not depend on their order in the cart
/// (largest-remainder ties go to the earlier line in it, so the same lines
/// in any order get the same discounts).
fn canonical(cart: &Cart) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cart.lines.len()).collect();
    order.sort_by(|a, b| {
        let (x, y) = (&cart.lines[*a], &cart.lines[*b]);
        (&x.product_id, &x.sku, x.unit_price, x.quantity, &x.brand, &x.category, &x.tags, a).cmp(&(
            &y.product_id,
            &y.sku,
            y.unit_price,
            y.quantity,
            &y.brand,
            &y.category,
            &y.tags,
            b,
        ))
    });
    order
}

fn evaluate(cart: &Cart, order: &[&Promotion], lines_of: &[Vec<usize>], on: &[bool]) -> Eval {
    let amounts: Vec<i64> = cart.lines.iter().map(|l| l.gross().max(0)).collect();
    evaluate_from(cart, order, lines_of, on, 0, amounts, None, true)
}

/// Takes `amount` (≤ `base`, > 0) off `lines` in proportion to their
/// amounts (which add up to `base`), largest remainder first, ties to the
/// earlier of `lines` — `beacon_core`'s `allocate`, in place. With
/// `detail`, returns each line's share, by line index.
fn take(
    amounts: &mut [i64],
    lines: &[usize],
    amount: i64,
    base: i64,
    scratch: &mut Vec<(i128, usize)>,
    detail: bool,
) -> Vec<(usize, i64)> {
    let mut shares = if detail { Vec::with_capacity(lines.len()) } else { Vec::new() };
    if let [only] = lines {
        amounts[*only] -= amount;
        if detail {
            shares.push((*only, amount));
        }
        return shares;
    }
    scratch.clear();
    let mut given = 0i64;
    let total = i128::from(base.max(1));
    let mut parts = vec![0i64; if detail { lines.len() } else { 0 }];
    for (j, i) in lines.iter().enumerate() {
        let exact = i128::from(amount) * i128::from(amounts[*i].max(0));
        let floor = (exact / total) as i64;
        scratch.push((exact % total, j));
        amounts[*i] -= floor;
        given += floor;
        if detail {
            parts[j] = floor;
        }
    }
    let left = (amount - given).max(0) as usize;
    if left > 0 {
        // the `left` largest remainders (ties: the earlier line); their order does not matter
        if left < scratch.len() {
            scratch.select_nth_unstable_by(left - 1, |a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        }
        for (_, j) in scratch.iter().take(left) {
            amounts[lines[*j]] -= 1;
            if detail {
                parts[*j] += 1;
            }
        }
    }
    if detail {
        shares = lines.iter().zip(parts).filter(|(_, p)| *p > 0).map(|(i, p)| (*i, p)).collect();
        shares.sort_unstable();
    }
    shares
}

/// Evaluates the promotions from `start` on, given the line amounts the
/// earlier ones left (outcomes and `seen` are of `start..`). With `before`,
/// appends the amounts each promotion found (one line after another).
#[allow(clippy::too_many_arguments)]
fn evaluate_from(
    cart: &Cart,
    order: &[&Promotion],
    lines_of: &[Vec<usize>],
    on: &[bool],
    start: usize,
    mut amounts: Vec<i64>,
    mut before: Option<&mut Vec<i64>>,
    detail: bool,
) -> Eval {
    let mut scratch = Vec::new();
    let mut outcomes = Vec::with_capacity(order.len() - start);
    let mut seen = Vec::with_capacity(order.len() - start);
    // Without detail, once only whole-order promotions are left, each sees
    // the same lines, so their discounts are pooled instead of spread over
    // the lines (the totals are the same).
    let pool_from = if detail || before.is_some() {
        order.len()
    } else {
        (start..order.len()).rev().take_while(|k| order[*k].target.is_none()).last().unwrap_or(order.len())
    };
    let mut pooled = 0i64;
    for (k, p) in order.iter().enumerate().skip(start) {
        if let Some(b) = before.as_deref_mut() {
            b.extend_from_slice(&amounts);
        }
        let lines = &lines_of[k];
        let base: i64 = lines.iter().map(|i| amounts[*i]).sum::<i64>() - pooled;
        let items: i64 = lines.iter().map(|i| cart.lines[*i].quantity).sum();
        seen.push((base, items));
        if !on[k] {
            outcomes.push(Outcome::Left);
            continue;
        }
        let result = match p.min_spend {
            Some(min) if base < min => Err(Reason::MinSpendNotMet { required: min, actual: base }),
            _ => reward_discount(&p.reward, base, items),
        };
        let amount = match result.map(|d| d.min(base)) {
            Ok(d) if d > 0 => d,
            Ok(_) => {
                outcomes.push(Outcome::Rejected(Reason::NoDiscount));
                continue;
            }
            Err(reason) => {
                outcomes.push(Outcome::Rejected(reason));
                continue;
            }
        };
        let applied = if k >= pool_from {
            pooled += amount;
            Vec::new()
        } else {
            take(&mut amounts, lines, amount, base, &mut scratch, detail)
        };
        outcomes.push(Outcome::Applied { amount, lines: applied });
    }
    Eval { total: amounts.iter().sum::<i64>() - pooled, outcomes, seen }
}

/// Prices `cart` with the promotions of `snapshot` its lines can match.
pub fn price_with(cart: &Cart, snapshot: &crate::index::Snapshot, now: DateTime<Utc>) -> Priced {
    price_candidates(cart, snapshot.candidates(cart), now, MAX_COMBINATIONS)
}

/// [`price`] with another bound on the exhaustive search (for tests and
/// benchmarks of the one-choice-at-a-time search).
pub fn price_bounded(cart: &Cart, promotions: &[Promotion], now: DateTime<Utc>, max_combinations: usize) -> Priced {
    price_candidates(cart, promotions.iter().collect(), now, max_combinations)
}

/// Prices `cart` with `promotions` at `now`, looking at every one of them
/// (see [`price_with`] for a shop's whole set).
pub fn price(cart: &Cart, promotions: &[Promotion], now: DateTime<Utc>) -> Priced {
    price_candidates(cart, promotions.iter().collect(), now, MAX_COMBINATIONS)
}

fn price_candidates(cart: &Cart, promotions: Vec<&Promotion>, now: DateTime<Utc>, limit: usize) -> Priced {
    let order = canonical(cart);
    let mut rejected = Vec::new();
    let mut live: Vec<&Promotion> = Vec::new();
    for p in promotions {
        let reason = match (p.status, p.starts_at, p.ends_at) {
            (Status::Active, Some(s), _) if now < s => Some(Reason::NotStarted { starts_at: s }),
            (Status::Active, _, Some(e)) if now >= e => Some(Reason::Expired { ended_at: e }),
            (Status::Active, _, _) if p.currency.code != cart.currency.code => Some(Reason::CurrencyMismatch {
                promotion: p.currency.code().to_string(),
                cart: cart.currency.code().to_string(),
            }),
            (Status::Active, _, _) => None,
            (status, _, _) => Some(Reason::Inactive { status }),
        };
        match reason {
            Some(reason) => rejected.push(Rejected { id: p.id.clone(), reason }),
            None if eligible(p, cart, &order).is_empty() => {
                rejected.push(Rejected { id: p.id.clone(), reason: Reason::NoMatchingLines })
            }
            None => live.push(p),
        }
    }
    live.sort_by(|a, b| (a.target.is_none(), -a.priority, &a.id).cmp(&(b.target.is_none(), -b.priority, &b.id)));
    let lines_of: Vec<Vec<usize>> = live.iter().map(|p| eligible(p, cart, &order)).collect();
    let choices = choices(&live, &lines_of);
    let (on, combinations, exact, found) = search(cart, &live, &lines_of, &choices, limit);
    let eval = evaluate(cart, &live, &lines_of, &on);
    debug_assert_eq!(eval.total, found, "the search scored the combination it chose");
    explain(cart, &live, &on, eval, rejected, combinations, exact)
}

/// One choice: its options, each the set of promotions (indexes into the
/// evaluation order) it turns on; the others of the choice stay off.
type Choice = Vec<Vec<usize>>;

fn choices(live: &[&Promotion], lines_of: &[Vec<usize>]) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    let mut groups: Vec<&str> = live.iter().filter(|p| p.exclusive).map(|p| p.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        // none of its exclusive promotions, or one of them alone
        let mut options = vec![vec![]];
        options.extend((0..live.len()).filter(|k| live[*k].exclusive && live[*k].group == g).map(|k| vec![k]));
        out.push(options);
    }
    // per line, the last promotion with a threshold that covers it
    let mut last_threshold: HashMap<usize, usize> = HashMap::new();
    for q in (0..live.len()).filter(|q| has_threshold(live[*q])) {
        for i in &lines_of[q] {
            last_threshold.insert(*i, q);
        }
    }
    for k in (0..live.len()).filter(|k| !live[*k].exclusive) {
        // can its discount take a later promotion below its threshold?
        let can_hurt = lines_of[k].iter().any(|i| last_threshold.get(i).is_some_and(|q| *q > k));
        out.push(if can_hurt { vec![vec![k], vec![]] } else { vec![vec![k]] });
    }
    out
}

/// Which promotions a set of picks turns on. An exclusive promotion that is
/// on turns off the rest of its group.
fn switch(live: &[&Promotion], choices: &[Choice], picks: &[usize]) -> Vec<bool> {
    let mut on = vec![false; live.len()];
    for (choice, pick) in choices.iter().zip(picks) {
        for k in &choice[*pick] {
            on[*k] = true;
        }
    }
    for k in 0..live.len() {
        if on[k] && live[k].exclusive {
            for j in 0..live.len() {
                if j != k && live[j].group == live[k].group {
                    on[j] = false;
                }
            }
        }
    }
    on
}

/// A combination's score: its total, how many promotions applied, and (to
/// break ties) their ids, sorted.
struct Score<'a> {
    total: i64,
    count: usize,
    ids: Vec<&'a str>,
}

/// Lower total wins; then fewer promotions; then the smaller list of ids.
fn better(a: &Score<'_>, b: &Score<'_>) -> bool {
    (a.total, a.count, &a.ids) < (b.total, b.count, &b.ids)
}

fn score<'a>(
    cart: &Cart,
    live: &[&'a Promotion],
    lines_of: &[Vec<usize>],
    on: &[bool],
    best: Option<&Score<'_>>,
) -> Score<'a> {
    let gross: Vec<i64> = cart.lines.iter().map(|l| l.gross().max(0)).collect();
    score_of(live, &[], &evaluate_from(cart, live, lines_of, on, 0, gross, None, false), best)
}

/// The score of an evaluation whose first promotions' outcomes are `prefix`
/// and the rest `suffix`.
fn score_of<'a>(live: &[&'a Promotion], prefix: &[Outcome], suffix: &Eval, best: Option<&Score<'_>>) -> Score<'a> {
    let applied =
        || prefix.iter().chain(&suffix.outcomes).enumerate().filter(|(_, o)| matches!(o, Outcome::Applied { .. }));
    let count = applied().count();
    // the ids only matter when it may become (or tie with) the best
    let ids = match best {
        Some(b) if (suffix.total, count) > (b.total, b.count) => Vec::new(),
        _ => {
            let mut ids: Vec<&str> = applied().map(|(k, _)| live[k].id.as_str()).collect();
            ids.sort_unstable();
            ids
        }
    };
    Score { total: suffix.total, count, ids }
}

/// The best switch settings, how many combinations were evaluated, and whether exhaustively.
fn search(
    cart: &Cart,
    live: &[&Promotion],
    lines_of: &[Vec<usize>],
    choices: &[Choice],
    limit: usize,
) -> (Vec<bool>, usize, bool, i64) {
    let total: usize = choices.iter().try_fold(1usize, |acc, c| acc.checked_mul(c.len())).unwrap_or(usize::MAX);
    let mut picks = vec![0usize; choices.len()];
    let mut best = (picks.clone(), score(cart, live, lines_of, &switch(live, choices, &picks), None));
    let mut evaluated = 1;
    if total <= limit {
        // every combination, odometer order
        loop {
            let mut d = 0;
            while d < picks.len() {
                picks[d] += 1;
                if picks[d] < choices[d].len() {
                    break;
                }
                picks[d] = 0;
                d += 1;
            }
            if d == picks.len() {
                break;
            }
            let s = score(cart, live, lines_of, &switch(live, choices, &picks), Some(&best.1));
            evaluated += 1;
            if better(&s, &best.1) {
                best = (picks.clone(), s);
            }
        }
        return (switch(live, choices, &best.0), evaluated, true, best.1.total);
    }
    // too many: one choice at a time, keeping the best so far. A trial is
    // evaluated from the first promotion it switches; the ones before it
    // see the same amounts as in the best so far.
    let gross: Vec<i64> = cart.lines.iter().map(|l| l.gross().max(0)).collect();
    let width = gross.len();
    let traced = |on: &[bool]| {
        let mut before = Vec::with_capacity(live.len() * width);
        let eval = evaluate_from(cart, live, lines_of, on, 0, gross.clone(), Some(&mut before), false);
        (eval, before)
    };
    let mut best_on = switch(live, choices, &best.0);
    let (mut best_eval, mut best_before) = traced(&best_on);
    for d in 0..choices.len() {
        for option in 1..choices[d].len() {
            let mut trial = best.0.clone();
            trial[d] = option;
            let on = switch(live, choices, &trial);
            let Some(first) = (0..live.len()).find(|k| on[*k] != best_on[*k]) else { continue };
            let prefix = best_before[first * width..(first + 1) * width].to_vec();
            let suffix = evaluate_from(cart, live, lines_of, &on, first, prefix, None, false);
            let s = score_of(live, &best_eval.outcomes[..first], &suffix, Some(&best.1));
            evaluated += 1;
            if better(&s, &best.1) {
                best = (trial, s);
                best_on = on;
                (best_eval, best_before) = traced(&best_on);
            }
        }
    }
    (switch(live, choices, &best.0), evaluated, false, best.1.total)
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
    let mut hints = Vec::new();
    for (k, outcome) in eval.outcomes.iter().enumerate() {
        let p = live[k];
        match outcome {
            Outcome::Applied { amount, lines: parts } => {
                for (i, a) in parts {
                    lines[*i].discount += a;
                    lines[*i].total -= a;
                    lines[*i].allocations.push((p.id.clone(), *a));
                }
                applied.push(Applied { id: p.id.clone(), name: p.name.clone(), amount: *amount, lines: parts.clone() });
            }
            Outcome::Rejected(reason) => rejected.push(Rejected { id: p.id.clone(), reason: reason.clone() }),
            Outcome::Left => {
                // left out: for the exclusive promotion of its group that is on, or because
                // leaving it out was better for the shopper
                let rival =
                    (0..live.len()).find(|j| *j != k && on[*j] && live[*j].exclusive && live[*j].group == p.group);
                let reason = match rival {
                    Some(j) => Reason::NotStackableWith { id: live[j].id.clone() },
                    None => Reason::NotBestForShopper,
                };
                rejected.push(Rejected { id: p.id.clone(), reason });
            }
        }
        if let Some(h) = hint(p, eval.seen[k], outcome) {
            hints.push(h);
        }
    }
    let subtotal: i64 = lines.iter().map(|l| l.subtotal).sum();
    Priced {
        currency: cart.currency,
        subtotal,
        discount: subtotal - eval.total,
        total: eval.total,
        lines,
        applied,
        rejected,
        hints,
        combinations,
        exact,
    }
}

/// What more the shopper would need for this promotion's next step.
fn hint(p: &Promotion, (base, items): (i64, i64), outcome: &Outcome) -> Option<Hint> {
    let make = |more: i64, is_items: bool| {
        // for items, priced at the eligible lines' average unit price
        let (b, n) = if is_items { (base + more * (base / items.max(1)), items + more) } else { (base + more, items) };
        let discount = reward_discount(&p.reward, b, n).ok()?.min(b);
        (more > 0 && discount > 0).then(|| Hint { id: p.id.clone(), more, items: is_items, discount })
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
