//! A reference evaluator written from docs/promotions.md alone, slow and
//! plain: it prices every subset of the promotions that may combine, one
//! promotion after another in the documented order, and keeps the lowest
//! total. It shares no code with the engine (no search, no pruning, no
//! pooling, no index), so the engine's total must be what this finds.
//!
//! Points are not modelled (carts here redeem none); coupon templates and
//! group-buys neither (the generators make none).

use beacon_pricing::spec::{Basis, Off, Reward, Status};
use beacon_pricing::{Cart, Promotion};
use chrono::{DateTime, Utc};
use std::collections::BTreeSet;

/// Every total the documented rules allow (more than one only when
/// combinations tie on the total but differ in which limits they pass).
pub fn totals(cart: &Cart, promos: &[Promotion], now: DateTime<Utc>) -> BTreeSet<i64> {
    let mut live: Vec<&Promotion> = promos.iter().filter(|p| considered(cart, p, now)).collect();
    // line promotions, then whole-order ones, then free shipping; higher priority first, then by id
    live.sort_by_key(|p| (matches!(p.reward, Reward::FreeShipping(_)), p.target.is_none(), -p.priority, p.id.clone()));
    outcomes(cart, &live)
}

fn outcomes(cart: &Cart, live: &[&Promotion]) -> BTreeSet<i64> {
    let mut best: Option<(i64, Vec<Run>)> = None;
    for mask in 0u32..(1 << live.len()) {
        let on: Vec<&Promotion> = (0..live.len()).filter(|k| mask & (1 << k) != 0).map(|k| live[k]).collect();
        if !combines(&on) {
            continue;
        }
        let run = run(cart, &on);
        match &mut best {
            Some((total, runs)) if run.total == *total => runs.push(run),
            Some((total, _)) if run.total > *total => {}
            _ => best = Some((run.total, vec![run])),
        }
    }
    let Some((total, runs)) = best else { return BTreeSet::new() };
    let mut out = BTreeSet::new();
    for r in runs {
        // a promotion that would pass one of its limits is left out and the rest priced again
        let over: Vec<&str> = r.applied.iter().filter(|a| passes_a_limit(cart, a)).map(|a| a.id.as_str()).collect();
        if over.is_empty() {
            out.insert(total);
        } else {
            let rest: Vec<&Promotion> = live.iter().copied().filter(|p| !over.contains(&p.id.as_str())).collect();
            out.extend(outcomes(cart, &rest));
        }
    }
    out
}

/// Whether the promotion is in play at all: presented, active, in its
/// window, for this customer, in the cart's currency, with room in its
/// limits, and with lines to apply to.
fn considered(cart: &Cart, p: &Promotion, now: DateTime<Utc>) -> bool {
    let presented = p.coupon.as_ref().is_none_or(|c| cart.coupons.contains(c));
    let active = matches!(p.status, Status::Active | Status::Scheduled)
        && p.starts_at.is_none_or(|s| s <= now)
        && p.ends_at.is_none_or(|e| now < e)
        && p.schedule.as_ref().is_none_or(|s| s.open_at(now));
    let customer = p.eligibility.as_ref().is_none_or(|e| {
        let c = &cart.customer;
        (e.tiers.is_empty() || c.tier.as_ref().is_some_and(|t| e.tiers.contains(t)))
            && (e.tags.is_empty() || c.tags.iter().any(|t| e.tags.contains(t)))
            && (!e.new_customers_only || c.orders == 0)
    });
    let room = p.limits.iter().enumerate().all(|(i, l)| {
        let subject = match l.scope {
            beacon_pricing::limits::Scope::Promotion => true,
            beacon_pricing::limits::Scope::Profile => cart.who.profile.is_some(),
            _ => false,
        };
        subject && cart.usage.used(&p.id, i) < l.limit
    });
    presented && active && customer && p.currency == cart.currency && room && !lines(cart, p).is_empty()
}

/// No two exclusive-in-one-group, no two that never combine.
fn combines(on: &[&Promotion]) -> bool {
    on.iter().enumerate().all(|(i, a)| {
        on[i + 1..].iter().all(|b| {
            !(a.group == b.group && (a.exclusive || b.exclusive))
                && !a.not_with.contains(&b.group)
                && !b.not_with.contains(&a.group)
        })
    })
}

/// The lines a promotion applies to (with a quantity), in the documented
/// tie order: by product id, then SKU, price and quantity.
fn lines(cart: &Cart, p: &Promotion) -> Vec<usize> {
    let named: &[String] = match &p.reward {
        Reward::BuyXGetY { get_products, .. } => get_products,
        _ => &[],
    };
    let mut out: Vec<usize> = (0..cart.lines.len())
        .filter(|i| {
            let l = &cart.lines[*i];
            let in_target = p.target.as_ref().is_none_or(|t| {
                t.products.iter().any(|x| *x == l.product_id || l.sku.as_ref() == Some(x))
                    || t.categories.iter().any(|c| !c.is_empty() && l.category.starts_with(c))
                    || l.brand.as_ref().is_some_and(|b| t.brands.contains(b))
                    || l.tags.iter().any(|x| t.tags.contains(x))
            });
            l.quantity > 0 && (in_target || named.contains(&l.product_id))
        })
        .collect();
    out.sort_by(|a, b| {
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
    out
}

pub struct Applied {
    pub id: String,
    pub amount: i64,
    /// Units of the lines it took something off (a gift: the gift's).
    pub units: i64,
    limits: Vec<beacon_pricing::limits::Limit>,
}

pub struct Run {
    pub total: i64,
    /// What is left of each line, then of the shipping fee.
    pub left: Vec<i64>,
    pub applied: Vec<Applied>,
}

fn passes_a_limit(cart: &Cart, a: &Applied) -> bool {
    use beacon_pricing::limits::Counter;
    a.limits.iter().enumerate().any(|(i, l)| {
        let needed = match l.counter {
            Counter::Redemptions => 1,
            Counter::Discount => a.amount,
            Counter::Units => a.units,
            Counter::Points => 0,
        };
        cart.usage.used(&a.id, i) + needed > l.limit
    })
}

fn half_up(base: i64, bp: i64) -> i64 {
    ((i128::from(base) * i128::from(bp) + 5_000) / 10_000) as i64
}

/// The promotions `on` (in order), each on what the earlier ones left.
pub fn run(cart: &Cart, on: &[&Promotion]) -> Run {
    let n = cart.lines.len();
    let mut left: Vec<i64> = cart.lines.iter().map(|l| l.unit_price * l.quantity).collect();
    left.push(cart.shipping);
    let mut applied = Vec::new();
    for p in on {
        let lines = lines(cart, p);
        let base: i64 = lines.iter().map(|i| left[*i]).sum();
        let items: i64 = lines.iter().map(|i| cart.lines[*i].quantity).sum();
        if p.min_spend.is_some_and(|m| base < m) {
            continue;
        }
        let per_line: Vec<(usize, i64)> = match &p.reward {
            Reward::Gift { quantity, .. } => {
                applied.push(Applied { id: p.id.clone(), amount: 0, units: *quantity, limits: p.limits.clone() });
                continue;
            }
            Reward::FreeShipping(cap) => vec![(n, cap.map_or(left[n], |c| c.min(left[n])))],
            Reward::SpecialPrice(unit) => {
                lines.iter().map(|i| (*i, (left[*i] - unit * cart.lines[*i].quantity).max(0))).collect()
            }
            Reward::BuyXGetY { buy, get, bp, max_times, get_products } if get_products.is_empty() => {
                let times = max_times.map_or(items / (buy + get), |m| m.min(items / (buy + get)));
                cheapest(cart, &left, &lines, times * get, *bp)
            }
            Reward::BuyXGetY { buy, get, bp, max_times, get_products } => {
                let (gets, buys): (Vec<usize>, Vec<usize>) =
                    lines.iter().partition(|i| get_products.contains(&cart.lines[**i].product_id));
                let bought: i64 = buys.iter().map(|i| cart.lines[*i].quantity).sum();
                let times = max_times.map_or(bought / buy, |m| m.min(bought / buy));
                cheapest(cart, &left, &gets, times * get, *bp)
            }
            reward => split(&left, &lines, discount(reward, base, items).min(base)),
        };
        let amount: i64 = per_line.iter().map(|(_, d)| d).sum();
        if amount <= 0 {
            continue;
        }
        let units = per_line.iter().filter(|(i, d)| *d > 0 && *i < n).map(|(i, _)| cart.lines[*i].quantity).sum();
        for (i, d) in &per_line {
            left[*i] -= d;
        }
        applied.push(Applied { id: p.id.clone(), amount, units, limits: p.limits.clone() });
    }
    Run { total: left.iter().sum(), left, applied }
}

/// The discount of the rewards split over their lines (0 when not reached).
fn discount(reward: &Reward, base: i64, items: i64) -> i64 {
    match reward {
        Reward::AmountOff(a) => *a,
        Reward::PercentOff(bp, cap) => cap.map_or(half_up(base, *bp), |c| c.min(half_up(base, *bp))),
        Reward::Tiers(basis, tiers) => {
            let measure = if *basis == Basis::Items { items } else { base };
            match tiers.iter().rfind(|t| t.min <= measure).map(|t| t.off) {
                Some(Off::Amount(a)) => a,
                Some(Off::Percent(bp)) => half_up(base, bp),
                None => 0,
            }
        }
        Reward::Every { every, amount_off, cap } => {
            let d = base / every * amount_off;
            cap.map_or(d, |c| c.min(d))
        }
        _ => 0,
    }
}

/// `amount` over `lines` in proportion to what each has left, largest
/// remainder first, ties to the earlier line.
fn split(left: &[i64], lines: &[usize], amount: i64) -> Vec<(usize, i64)> {
    let base: i64 = lines.iter().map(|i| left[*i]).sum();
    if amount <= 0 || base <= 0 {
        return Vec::new();
    }
    let mut shares: Vec<(usize, i64, i128)> = lines
        .iter()
        .map(|i| {
            let exact = i128::from(amount) * i128::from(left[*i]);
            (*i, (exact / i128::from(base)) as i64, exact % i128::from(base))
        })
        .collect();
    let mut rest = amount - shares.iter().map(|s| s.1).sum::<i64>();
    let mut by_remainder: Vec<usize> = (0..shares.len()).collect();
    by_remainder.sort_by(|a, b| shares[*b].2.cmp(&shares[*a].2).then(a.cmp(b)));
    for k in by_remainder {
        if rest == 0 {
            break;
        }
        shares[k].1 += 1;
        rest -= 1;
    }
    shares.into_iter().map(|(i, d, _)| (i, d)).collect()
}

/// `bp` off the `units` cheapest units (by what each unit has left, ties to
/// the earlier line), rounded half up per line.
fn cheapest(cart: &Cart, left: &[i64], lines: &[usize], units: i64, bp: i64) -> Vec<(usize, i64)> {
    let mut by_price = lines.to_vec();
    // stable: ties keep the earlier line first
    by_price.sort_by(|a, b| {
        let (qa, qb) = (i128::from(cart.lines[*a].quantity), i128::from(cart.lines[*b].quantity));
        (i128::from(left[*a]) * qb).cmp(&(i128::from(left[*b]) * qa))
    });
    let mut want = units;
    let mut out = Vec::new();
    for i in by_price {
        if want <= 0 {
            break;
        }
        let q = cart.lines[i].quantity;
        let free = want.min(q);
        want -= free;
        let share = (i128::from(left[i]) * i128::from(free) * i128::from(bp) + i128::from(q) * 5_000)
            / (i128::from(q) * 10_000);
        out.push((i, (share as i64).min(left[i])));
    }
    out
}
