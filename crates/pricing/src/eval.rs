//! Evaluating one combination: each promotion in turn on the amounts the
//! earlier ones left, its discount split over its lines (largest remainder).

use crate::cart::Cart;
use crate::explain::Reason;
use crate::spec::{Basis, Off, Promotion, Reward};

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Applied { amount: i64, lines: Vec<(usize, i64)> },
    Rejected(Reason),
    Left,
}

pub(crate) struct Eval {
    pub(crate) total: i64,
    /// What the shopper pays: `total` less what redeemed points take off.
    pub(crate) paid: i64,
    pub(crate) outcomes: Vec<Outcome>,
    /// What each promotion saw: (eligible amount, eligible items).
    pub(crate) seen: Vec<(i64, i64)>,
}

pub(crate) fn percent(base: i64, bp: i64) -> i64 {
    // half up, to the minor unit
    ((i128::from(base) * i128::from(bp) + 5_000) / 10_000) as i64
}

/// The discount a reward gives on `base` (amount) and `items`, before the cap by `base`.
pub(crate) fn reward_discount(reward: &Reward, base: i64, items: i64) -> Result<i64, Reason> {
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
        // per line, in `evaluate_from`; here only for hints, which special prices have none of
        Reward::SpecialPrice(_) => 0,
        // a gift takes nothing off; free shipping nothing off the lines
        Reward::Gift { .. } | Reward::FreeShipping(_) => 0,
        // for hints: the free units at the lines' average unit price
        // a named product's price is not known here: no hint
        Reward::BuyXGetY { get_products, .. } if !get_products.is_empty() => 0,
        Reward::BuyXGetY { buy, get, bp, max_times, .. } => {
            let times = free_times(items, *buy, *get, *max_times);
            if times == 0 {
                return Err(Reason::MinItemsNotMet { required: buy + get, actual: items });
            }
            percent(base / items.max(1) * times * get, *bp)
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
pub(crate) fn has_threshold(p: &Promotion) -> bool {
    p.min_spend.is_some() || matches!(p.reward, Reward::Tiers(Basis::Amount, _) | Reward::Every { .. })
}

pub(crate) fn is_named(products: &[String], l: &crate::cart::Line) -> bool {
    products.iter().any(|p| *p == l.product_id || l.sku.as_ref() == Some(p))
}

/// Buy X of the targeted set, get Y of named products: the `get` units,
/// the cheapest of the named lines, for every `buy` units of the others.
fn named_get(
    cart: &Cart,
    amounts: &[i64],
    lines: &[usize],
    products: &[String],
    (buy, get, bp, max_times): (i64, i64, i64, Option<i64>),
) -> Result<Discount, Reason> {
    let (gets, buys): (Vec<usize>, Vec<usize>) = lines.iter().partition(|i| is_named(products, &cart.lines[**i]));
    let bought: i64 = buys.iter().map(|i| cart.lines[*i].quantity).sum();
    let times = max_times.map_or(bought / buy, |m| (bought / buy).min(m));
    if times == 0 {
        return Err(Reason::MinItemsNotMet { required: buy, actual: bought });
    }
    if gets.is_empty() {
        return Err(Reason::NoMatchingLines);
    }
    Ok(Discount::PerLine(cheapest(cart, amounts, &gets, times * get, bp)))
}

/// A text's first 8 bytes as a number (zero-padded): numbers order as the
/// texts do, as far as those bytes go.
pub(crate) fn prefix8(text: &str) -> u64 {
    let mut b = [0u8; 8];
    let bytes = text.as_bytes();
    b[..bytes.len().min(8)].copy_from_slice(&bytes[..bytes.len().min(8)]);
    u64::from_be_bytes(b)
}

/// The lines in an order that does not depend on their order in the cart
/// (largest-remainder ties go to the earlier line in it, so the same lines
/// in any order get the same discounts).
pub(crate) fn canonical(cart: &Cart) -> Vec<usize> {
    let mut order: Vec<usize> = (0..cart.lines.len()).collect();
    // most comparisons are one integer comparison; a tie compares everything
    let prefix: Vec<u64> = cart.lines.iter().map(|l| prefix8(&l.product_id)).collect();
    // (the index last makes the order total, so an unstable sort is as good)
    order.sort_unstable_by(|a, b| {
        let (x, y) = (&cart.lines[*a], &cart.lines[*b]);
        prefix[*a].cmp(&prefix[*b]).then_with(|| {
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
        })
    });
    order
}

pub(crate) fn evaluate(cart: &Cart, order: &[&Promotion], lines_of: &[Vec<usize>], on: &[bool]) -> Eval {
    evaluate_from(cart, order, lines_of, on, 0, start_amounts(cart), None, true)
}

/// What the shopper would pay before any promotion: each line's amount, and
/// last (at index `cart.lines.len()`) the shipping fee, which only free
/// shipping takes from.
pub(crate) fn start_amounts(cart: &Cart) -> Vec<i64> {
    cart.lines.iter().map(|l| l.gross().max(0)).chain([cart.shipping.max(0)]).collect()
}

/// Takes `amount` (≤ `base`, > 0) off `lines` in proportion to their
/// amounts (which add up to `base`), largest remainder first, ties to the
/// earlier of `lines` — `beacon_core`'s `allocate`, in place. With
/// `detail`, returns each line's share, by line index.
pub(crate) fn take(
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
        // in 64 bits when the product fits (it nearly always does), else in 128
        let (floor, rest) = match amount.checked_mul(amounts[*i].max(0)) {
            Some(exact) => (exact / base.max(1), i128::from(exact % base.max(1))),
            None => {
                let exact = i128::from(amount) * i128::from(amounts[*i].max(0));
                ((exact / total) as i64, exact % total)
            }
        };
        scratch.push((rest, j));
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
pub(crate) fn evaluate_from(
    cart: &Cart,
    order: &[&Promotion],
    lines_of: &[Vec<usize>],
    on: &[bool],
    start: usize,
    mut amounts: Vec<i64>,
    mut before: Option<&mut Vec<i64>>,
    detail: bool,
) -> Eval {
    let mut outcomes = Vec::with_capacity(order.len() - start);
    let mut seen = Vec::with_capacity(order.len() - start);
    let pool_from = if detail || before.is_some() { order.len() } else { pool_from(order, start) };
    let mut stepper = Stepper { cart, order, lines_of, pool_from, detail, scratch: Vec::new() };
    let mut pooled = 0i64;
    for (k, on) in on.iter().enumerate().skip(start) {
        if let Some(b) = before.as_deref_mut() {
            b.extend_from_slice(&amounts);
        }
        let (outcome, saw) = stepper.step(k, *on, &mut amounts, &mut pooled, None);
        outcomes.push(outcome);
        seen.push(saw);
    }
    let total = amounts.iter().sum::<i64>() - pooled;
    let paid = crate::points::paid(cart, total, amounts[cart.lines.len()]);
    Eval { total, paid, outcomes, seen }
}

/// Without detail, once only whole-order promotions are left, each sees the
/// same lines, so their discounts are pooled instead of spread over the
/// lines (the totals are the same). Where the pool starts, from `start` on.
pub(crate) fn pool_from(order: &[&Promotion], start: usize) -> usize {
    // (a buy-X-get-Y needs the lines' own amounts, so the pool starts after it)
    (start..order.len())
        .rev()
        .take_while(|k| order[*k].target.is_none() && !matches!(order[*k].reward, Reward::BuyXGetY { .. }))
        .last()
        .unwrap_or(order.len())
}

/// Evaluates one promotion at a time on amounts it changes in place.
pub(crate) struct Stepper<'a> {
    pub(crate) cart: &'a Cart,
    pub(crate) order: &'a [&'a Promotion],
    pub(crate) lines_of: &'a [Vec<usize>],
    /// Split discounts from here on are pooled ([`pool_from`]).
    pub(crate) pool_from: usize,
    pub(crate) detail: bool,
    pub(crate) scratch: Vec<(i128, usize)>,
}

impl Stepper<'_> {
    /// Promotion `k` (if `on`) on `amounts` and `pooled`: its outcome and
    /// what it saw (amount, items). With `log`, every amount it changes is
    /// recorded first as (slot, value before), so it can be undone.
    pub(crate) fn step(
        &mut self,
        k: usize,
        on: bool,
        amounts: &mut [i64],
        pooled: &mut i64,
        log: Option<&mut Vec<(usize, i64)>>,
    ) -> (Outcome, (i64, i64)) {
        let (cart, p, lines) = (self.cart, self.order[k], &self.lines_of[k]);
        let base: i64 = lines.iter().map(|i| amounts[*i]).sum::<i64>() - *pooled;
        let items: i64 = lines.iter().map(|i| cart.lines[*i].quantity).sum();
        if !on {
            return (Outcome::Left, (base, items));
        }
        // rewards that price each line themselves, and those split in proportion
        let result = match (p.min_spend, &p.reward) {
            (Some(min), _) if base < min => Err(Reason::MinSpendNotMet { required: min, actual: base }),
            (_, Reward::SpecialPrice(unit)) => Ok(Discount::PerLine(
                // each line down to the unit price, never up
                lines
                    .iter()
                    .map(|i| (*i, (amounts[*i] - unit.saturating_mul(cart.lines[*i].quantity)).max(0)))
                    .filter(|(_, d)| *d > 0)
                    .collect(),
            )),
            (_, Reward::Gift { .. }) => Ok(Discount::Gift),
            (_, Reward::FreeShipping(cap)) => {
                let fee = amounts[cart.lines.len()];
                Ok(Discount::PerLine(vec![(cart.lines.len(), cap.map_or(fee, |c| fee.min(c)))]))
            }
            (_, Reward::BuyXGetY { buy, get, bp, max_times, get_products }) if !get_products.is_empty() => {
                named_get(cart, amounts, lines, get_products, (*buy, *get, *bp, *max_times))
            }
            (_, Reward::BuyXGetY { buy, get, bp, max_times, .. }) => match free_times(items, *buy, *get, *max_times) {
                0 => Err(Reason::MinItemsNotMet { required: buy + get, actual: items }),
                times => Ok(Discount::PerLine(cheapest(cart, amounts, lines, times * get, *bp))),
            },
            _ => reward_discount(&p.reward, base, items).map(|d| Discount::Split(d.min(base))),
        };
        let discount = match result {
            Ok(Discount::Gift) => return (Outcome::Applied { amount: 0, lines: Vec::new() }, (base, items)),
            Ok(d) if d.amount() > 0 => d,
            Ok(_) => return (Outcome::Rejected(Reason::NoDiscount), (base, items)),
            Err(reason) => return (Outcome::Rejected(reason), (base, items)),
        };
        let amount = discount.amount();
        let shares = match discount {
            Discount::PerLine(shares) => {
                if let Some(log) = log {
                    log.extend(shares.iter().map(|(i, _)| (*i, amounts[*i])));
                }
                for (i, d) in &shares {
                    amounts[*i] -= d;
                }
                shares
            }
            Discount::Split(_) if k >= self.pool_from => {
                *pooled += amount;
                Vec::new()
            }
            Discount::Split(_) => {
                if let Some(log) = log {
                    log.extend(lines.iter().map(|i| (*i, amounts[*i])));
                }
                take(amounts, lines, amount, base, &mut self.scratch, self.detail)
            }
            Discount::Gift => Vec::new(),
        };
        (Outcome::Applied { amount, lines: if self.detail { shares } else { Vec::new() } }, (base, items))
    }
}

/// A promotion's discount: already per line, or an amount to split over its
/// lines in proportion.
enum Discount {
    PerLine(Vec<(usize, i64)>),
    Split(i64),
    /// A gift line; nothing off.
    Gift,
}

impl Discount {
    fn amount(&self) -> i64 {
        match self {
            Discount::PerLine(shares) => shares.iter().map(|(_, d)| d).sum(),
            Discount::Split(d) => *d,
            Discount::Gift => 0,
        }
    }
}

/// How many times a buy-X-get-Y applies to `items` units.
fn free_times(items: i64, buy: i64, get: i64, max_times: Option<i64>) -> i64 {
    let times = items / (buy + get);
    max_times.map_or(times, |m| times.min(m))
}

/// `bp` off the `units` cheapest units of `lines` (by the amount each unit
/// has left; ties to the earlier line), per line, by line index.
fn cheapest(cart: &Cart, amounts: &[i64], lines: &[usize], units: i64, bp: i64) -> Vec<(usize, i64)> {
    let mut by_price: Vec<usize> = lines.iter().copied().filter(|i| cart.lines[*i].quantity > 0).collect();
    // a unit of i is cheaper than one of j when amounts[i] / q_i < amounts[j] / q_j
    by_price.sort_by(|a, b| {
        let (qa, qb) = (i128::from(cart.lines[*a].quantity), i128::from(cart.lines[*b].quantity));
        (i128::from(amounts[*a]) * qb).cmp(&(i128::from(amounts[*b]) * qa))
    });
    let mut left = units;
    let mut shares = Vec::new();
    for i in by_price {
        if left == 0 {
            break;
        }
        let q = cart.lines[i].quantity;
        let free = left.min(q);
        left -= free;
        // those units' part of the line's amount, then the percentage (half up)
        let part = i128::from(amounts[i]) * i128::from(free) * i128::from(bp);
        let share = ((part + i128::from(q) * 5_000) / (i128::from(q) * 10_000)) as i64;
        if share > 0 {
            shares.push((i, share.min(amounts[i])));
        }
    }
    shares.sort_unstable();
    shares
}
