//! The search for the combination best for the shopper (see the engine's
//! module documentation for the choices and the bound).

use crate::cart::Cart;
use crate::eval::{Eval, Outcome, Stepper, evaluate_from, has_threshold, percent, pool_from, start_amounts};
use crate::score::{Score, better, id_ranks, score, score_of};
use crate::spec::Promotion;
use crate::spec::{Basis, Off, Reward};
use std::collections::HashMap;

/// One choice: its options, each the set of promotions (indexes into the
/// evaluation order) it turns on; the others of the choice stay off.
pub(crate) type Choice = Vec<Vec<usize>>;

pub(crate) fn choices(cart: &Cart, live: &[&Promotion], lines_of: &[Vec<usize>], prune: bool) -> Vec<Choice> {
    let mut out: Vec<Choice> = Vec::new();
    // a promotion that always applies is on in every combination, unless it
    // never combines with another that always applies (then both are options)
    let forced = |k: &usize| {
        live[*k].always && !live.iter().enumerate().any(|(j, p)| j != *k && p.always && p.conflicts(live[*k]))
    };
    let mut groups: Vec<&str> = live.iter().filter(|p| p.exclusive).map(|p| p.group.as_str()).collect();
    groups.sort_unstable();
    groups.dedup();
    for g in groups {
        // none of its exclusive promotions, or one of them alone (not one that can never apply)
        let mut options = vec![vec![]];
        let member = |k: &usize| live[*k].exclusive && live[*k].group == g;
        let useful = |k: &usize| !(prune && inert(cart, live[*k], &lines_of[*k]));
        options.extend((0..live.len()).filter(|k| member(k) && useful(k)).map(|k| vec![k]));
        // one that always applies is not an option: it, or another such, is the one
        let always: Vec<Vec<usize>> = options.iter().filter(|o| o.iter().any(&forced)).cloned().collect();
        out.push(if always.is_empty() { options } else { always });
    }
    // per line, the last promotion with a threshold that covers it and that
    // the promotions before it could move across one of its levels
    let gross: Vec<i64> = cart.lines.iter().map(|l| l.gross().max(0)).collect();
    let mut last_threshold: HashMap<usize, usize> = HashMap::new();
    for q in (0..live.len()).filter(|q| has_threshold(live[*q]) && !(prune && settled(live, lines_of, &gross, *q))) {
        for i in &lines_of[q] {
            last_threshold.insert(*i, q);
        }
    }
    let any_rule = live.iter().any(|p| !p.not_with.is_empty());
    for k in (0..live.len()).filter(|k| !live[*k].exclusive) {
        if forced(&k) {
            out.push(vec![vec![k]]);
            continue;
        }
        // can its discount take a later promotion below its threshold?
        let can_hurt = lines_of[k].iter().any(|i| last_threshold.get(i).is_some_and(|q| *q > k));
        // one that never combines with another is a yes/no choice, off first (always valid)
        let conflicts = any_rule && live.iter().any(|p| p.conflicts(live[k]));
        out.push(match (conflicts, can_hurt) {
            (true, _) => vec![vec![], vec![k]],
            (false, true) => vec![vec![k], vec![]],
            (false, false) => vec![vec![k]],
        });
    }
    out
}

/// Whether a promotion can never apply to this cart: its threshold
/// (`min_spend`, its first tier by amount or items, 每满's step, buy X get
/// Y's units) is above what its lines come to before any discount, and
/// discounts only lower that. Leaving it out of the choices changes nothing.
pub(crate) fn inert(cart: &Cart, p: &Promotion, lines: &[usize]) -> bool {
    let high: i64 = lines.iter().map(|i| cart.lines[*i].gross().max(0)).sum();
    let items: i64 = lines.iter().map(|i| cart.lines[*i].quantity).sum();
    if p.min_spend.is_some_and(|m| m > high) {
        return true;
    }
    match &p.reward {
        Reward::Tiers(Basis::Amount, tiers) => tiers.first().is_some_and(|t| t.min > high),
        Reward::Tiers(Basis::Items, tiers) => tiers.first().is_some_and(|t| t.min > items),
        Reward::Every { every, .. } => *every > high,
        Reward::BuyXGetY { buy, get, get_products, .. } if get_products.is_empty() => buy + get > items,
        _ => false,
    }
}

/// Whether threshold promotion `t` reaches the same level (`min_spend`,
/// tier, 每满 step) in every combination: the amount it measures lies
/// between its lines' gross and that less the most every promotion before
/// it could take off them, and no level lies in between (or, for 每满, its
/// cap is reached even at the low end). Leaving out an earlier promotion
/// then cannot win it anything, so that one need not be a choice.
fn settled(live: &[&Promotion], lines_of: &[Vec<usize>], gross: &[i64], t: usize) -> bool {
    let mine = &lines_of[t];
    let high: i64 = mine.iter().map(|i| gross[*i]).sum();
    let mut covered = vec![false; gross.len()];
    for i in mine {
        covered[*i] = true;
    }
    let cut: i64 = (0..t)
        .filter(|q| lines_of[*q].iter().any(|i| covered[*i]))
        .map(|q| most_off(live[q], lines_of[q].iter().map(|i| gross[*i]).sum()))
        .fold(0i64, i64::saturating_add);
    let low = high.saturating_sub(cut).max(0);
    let crosses = |level: i64| low < level && level <= high;
    let p = live[t];
    if p.min_spend.is_some_and(crosses) {
        return false;
    }
    match &p.reward {
        Reward::Tiers(Basis::Amount, tiers) => !tiers.iter().any(|tier| crosses(tier.min)),
        Reward::Every { every, amount_off, cap } => {
            high / every == low / every || cap.is_some_and(|c| (low / every).saturating_mul(*amount_off) >= c)
        }
        _ => true,
    }
}

/// The most a promotion can take off lines of gross `g`.
fn most_off(p: &Promotion, g: i64) -> i64 {
    let bound = match &p.reward {
        Reward::AmountOff(a) => *a,
        Reward::PercentOff(bp, cap) => cap.map_or(percent(g, *bp), |c| percent(g, *bp).min(c)),
        Reward::Tiers(_, tiers) => tiers
            .iter()
            .map(|t| match t.off {
                Off::Amount(a) => a,
                Off::Percent(bp) => percent(g, bp),
            })
            .max()
            .unwrap_or(0),
        Reward::Every { every, amount_off, cap } => {
            let n = (g / every).saturating_mul(*amount_off);
            cap.map_or(n, |c| n.min(c))
        }
        Reward::Gift { .. } | Reward::FreeShipping(_) => 0,
        Reward::SpecialPrice(_) | Reward::BuyXGetY { .. } => g,
    };
    bound.clamp(0, g)
}

/// What turning a promotion on rules out, worked out once per search.
pub(crate) struct Shape {
    /// For each exclusive promotion, the others of its group.
    rivals: Vec<Vec<usize>>,
    /// Pairs that never combine (`not_with`).
    conflicts: Vec<(usize, usize)>,
}

impl Shape {
    pub(crate) fn new(live: &[&Promotion]) -> Shape {
        let rivals = (0..live.len())
            .map(|k| match live[k].exclusive {
                true => (0..live.len()).filter(|j| *j != k && live[*j].group == live[k].group).collect(),
                false => Vec::new(),
            })
            .collect();
        let mut conflicts = Vec::new();
        if live.iter().any(|p| !p.not_with.is_empty()) {
            for k in 0..live.len() {
                for j in k + 1..live.len() {
                    if live[k].conflicts(live[j]) {
                        conflicts.push((k, j));
                    }
                }
            }
        }
        Shape { rivals, conflicts }
    }

    /// Whether no two promotions that are on never combine.
    fn valid(&self, on: &[bool]) -> bool {
        self.conflicts.iter().all(|(a, b)| !(on[*a] && on[*b]))
    }

    /// What turns promotions on for `choices`: see [`Switch::on`].
    fn switch<'c>(&'c self, choices: &'c [Choice]) -> Switch<'c> {
        let mut base = vec![false; self.rivals.len()];
        for c in choices.iter().filter(|c| c.len() == 1) {
            for k in &c[0] {
                base[*k] = true;
            }
        }
        let variable = (0..choices.len()).filter(|c| choices[*c].len() > 1).collect();
        Switch { rivals: &self.rivals, choices, base, variable }
    }
}

/// The promotions a set of picks turns on: those of the choices with one
/// option are always on (`base`), so only the others are looked at per
/// combination.
struct Switch<'c> {
    rivals: &'c [Vec<usize>],
    choices: &'c [Choice],
    base: Vec<bool>,
    variable: Vec<usize>,
}

impl Switch<'_> {
    /// Which promotions `picks` turns on. An exclusive promotion that is on
    /// turns off the rest of its group (an exclusive group is one choice, so
    /// at most one of its members is on).
    fn on(&self, picks: &[usize]) -> Vec<bool> {
        let mut on = self.base.clone();
        let picked = || self.variable.iter().flat_map(|c| &self.choices[*c][picks[*c]]);
        for k in picked() {
            on[*k] = true;
        }
        for k in picked() {
            for j in &self.rivals[*k] {
                on[*j] = false;
            }
        }
        on
    }
}

/// Evaluates combination after combination, each from the first promotion
/// it switches: the amounts are put back as they were before it (an undo
/// log of every amount a promotion changed), and only the rest is evaluated.
struct Walk<'a> {
    stepper: Stepper<'a>,
    amounts: Vec<i64>,
    pooled: i64,
    log: Vec<(usize, i64)>,
    /// Before each promotion: the log's length and the pooled discount.
    marks: Vec<(usize, i64)>,
    outcomes: Vec<Outcome>,
}

impl<'a> Walk<'a> {
    fn new(cart: &'a Cart, live: &'a [&'a Promotion], lines_of: &'a [Vec<usize>]) -> Walk<'a> {
        Walk {
            stepper: Stepper {
                cart,
                order: live,
                lines_of,
                pool_from: pool_from(live, 0),
                detail: false,
                scratch: Vec::new(),
            },
            amounts: start_amounts(cart),
            pooled: 0,
            log: Vec::new(),
            marks: vec![(0, 0); live.len()],
            outcomes: vec![Outcome::Left; live.len()],
        }
    }

    /// Evaluates `on` from promotion `f` (the ones before it are as last time).
    fn from(&mut self, f: usize, on: &[bool]) {
        if f < self.marks.len() {
            let (len, pooled) = self.marks[f];
            while self.log.len() > len {
                if let Some((i, v)) = self.log.pop() {
                    self.amounts[i] = v;
                }
            }
            self.pooled = pooled;
        }
        for (k, on) in on.iter().enumerate().skip(f) {
            self.marks[k] = (self.log.len(), self.pooled);
            // a promotion that is off changes nothing (what it would measure is not needed here)
            self.outcomes[k] = match on {
                true => self.stepper.step(k, true, &mut self.amounts, &mut self.pooled, Some(&mut self.log)).0,
                false => Outcome::Left,
            };
        }
    }

    fn score(&self, ranks: &[u32], best: Option<&Score>) -> Score {
        let total = self.amounts.iter().sum::<i64>() - self.pooled;
        let paid = crate::points::paid(self.stepper.cart, total, self.amounts[self.stepper.cart.lines.len()]);
        let eval = Eval { total, paid, outcomes: Vec::new(), seen: Vec::new() };
        score_of(ranks, &self.outcomes, &eval, best)
    }
}

/// The best switch settings, how many combinations were evaluated, and whether exhaustively.
pub(crate) fn search(
    cart: &Cart,
    live: &[&Promotion],
    lines_of: &[Vec<usize>],
    choices: &[Choice],
    limit: usize,
) -> (Vec<bool>, usize, bool, i64) {
    let total: usize = choices.iter().try_fold(1usize, |acc, c| acc.checked_mul(c.len())).unwrap_or(usize::MAX);
    let shape = Shape::new(live);
    let switcher = shape.switch(choices);
    let switch = |picks: &[usize]| switcher.on(picks);
    let mut picks = vec![0usize; choices.len()];
    let ranks = id_ranks(live);
    let mut best = (picks.clone(), score(cart, live, &ranks, lines_of, &switch(&picks), None));
    let mut evaluated = 1;
    if total <= limit {
        // every combination, odometer order, the choices whose promotions come
        // last turning fastest; each is evaluated from the first promotion it
        // switches, undoing what the previous one did from there
        let first = |c: &Choice| c.iter().flatten().min().copied().unwrap_or(usize::MAX);
        let mut digits: Vec<usize> = (0..choices.len()).collect();
        digits.sort_by_key(|d| std::cmp::Reverse(first(&choices[*d])));
        let mut walk = Walk::new(cart, live, lines_of);
        walk.from(0, &switch(&picks));
        let mut last_on = switch(&picks);
        loop {
            let mut d = 0;
            while d < digits.len() {
                let c = digits[d];
                picks[c] += 1;
                if picks[c] < choices[c].len() {
                    break;
                }
                picks[c] = 0;
                d += 1;
            }
            if d == digits.len() {
                break;
            }
            let on = switch(&picks);
            if !shape.valid(&on) {
                continue;
            }
            let Some(f) = (0..live.len()).find(|k| on[*k] != last_on[*k]) else { continue };
            walk.from(f, &on);
            last_on = on;
            let s = walk.score(&ranks, Some(&best.1));
            evaluated += 1;
            if better(&s, &best.1) {
                best = (picks.clone(), s);
            }
        }
        return (switch(&best.0), evaluated, true, best.1.total);
    }
    // too many: one choice at a time, keeping the best so far. A trial is
    // evaluated from the first promotion it switches; the ones before it
    // see the same amounts as in the best so far.
    let gross = start_amounts(cart);
    let width = gross.len();
    let traced = |on: &[bool]| {
        let mut before = Vec::with_capacity(live.len() * width);
        let eval = evaluate_from(cart, live, lines_of, on, 0, gross.clone(), Some(&mut before), false);
        (eval, before)
    };
    let mut best_on = switch(&best.0);
    let (mut best_eval, mut best_before) = traced(&best_on);
    for d in 0..choices.len() {
        for option in 1..choices[d].len() {
            let mut trial = best.0.clone();
            trial[d] = option;
            let on = switch(&trial);
            if !shape.valid(&on) {
                continue;
            }
            let Some(first) = (0..live.len()).find(|k| on[*k] != best_on[*k]) else { continue };
            let prefix = best_before[first * width..(first + 1) * width].to_vec();
            let suffix = evaluate_from(cart, live, lines_of, &on, first, prefix, None, false);
            let s = score_of(&ranks, &best_eval.outcomes[..first], &suffix, Some(&best.1));
            evaluated += 1;
            if better(&s, &best.1) {
                best = (trial, s);
                best_on = on;
                (best_eval, best_before) = traced(&best_on);
            }
        }
    }
    (switch(&best.0), evaluated, false, best.1.total)
}
