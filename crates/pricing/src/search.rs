//! The search for the combination best for the shopper (see the engine's
//! module documentation for the choices and the bound).

use crate::cart::Cart;
use crate::eval::{Eval, Outcome, evaluate_from, has_threshold, start_amounts};
use crate::spec::Promotion;
use std::collections::HashMap;

/// One choice: its options, each the set of promotions (indexes into the
/// evaluation order) it turns on; the others of the choice stay off.
pub(crate) type Choice = Vec<Vec<usize>>;

pub(crate) fn choices(live: &[&Promotion], lines_of: &[Vec<usize>]) -> Vec<Choice> {
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
        // one that never combines with another is a yes/no choice, off first (always valid)
        let conflicts = live.iter().any(|p| p.conflicts(live[k]));
        out.push(match (conflicts, can_hurt) {
            (true, _) => vec![vec![], vec![k]],
            (false, true) => vec![vec![k], vec![]],
            (false, false) => vec![vec![k]],
        });
    }
    out
}

/// Whether no two promotions that are on never combine (`not_with`).
pub(crate) fn valid(live: &[&Promotion], on: &[bool]) -> bool {
    (0..live.len()).all(|k| !on[k] || (k + 1..live.len()).all(|j| !on[j] || !live[k].conflicts(live[j])))
}

/// Which promotions a set of picks turns on. An exclusive promotion that is
/// on turns off the rest of its group.
pub(crate) fn switch(live: &[&Promotion], choices: &[Choice], picks: &[usize]) -> Vec<bool> {
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
pub(crate) struct Score<'a> {
    pub(crate) total: i64,
    pub(crate) count: usize,
    pub(crate) ids: Vec<&'a str>,
}

/// Lower total wins; then fewer promotions; then the smaller list of ids.
pub(crate) fn better(a: &Score<'_>, b: &Score<'_>) -> bool {
    (a.total, a.count, &a.ids) < (b.total, b.count, &b.ids)
}

pub(crate) fn score<'a>(
    cart: &Cart,
    live: &[&'a Promotion],
    lines_of: &[Vec<usize>],
    on: &[bool],
    best: Option<&Score<'_>>,
) -> Score<'a> {
    score_of(live, &[], &evaluate_from(cart, live, lines_of, on, 0, start_amounts(cart), None, false), best)
}

/// The score of an evaluation whose first promotions' outcomes are `prefix`
/// and the rest `suffix`.
pub(crate) fn score_of<'a>(
    live: &[&'a Promotion],
    prefix: &[Outcome],
    suffix: &Eval,
    best: Option<&Score<'_>>,
) -> Score<'a> {
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
pub(crate) fn search(
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
            let on = switch(live, choices, &picks);
            if !valid(live, &on) {
                continue;
            }
            let s = score(cart, live, lines_of, &on, Some(&best.1));
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
    let gross = start_amounts(cart);
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
            if !valid(live, &on) {
                continue;
            }
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
