//! How the search ranks combinations: what the shopper pays (after
//! points), then fewer promotions, then the promotions' ids — compared as
//! ranks, computed once per search.

use crate::cart::Cart;
use crate::eval::{Eval, Outcome, evaluate_from, start_amounts};
use crate::spec::Promotion;

/// A combination's score: what the shopper pays (after points), how many
/// promotions applied, and (to break ties) their ids, sorted, as ranks in
/// the order of the ids ([`id_ranks`]): comparing two lists of ranks is
/// comparing the lists of ids, without a string in sight.
pub(crate) struct Score {
    pub(crate) total: i64,
    pub(crate) count: usize,
    pub(crate) ids: Vec<u32>,
}

/// Lower total wins; then fewer promotions; then the smaller list of ids.
pub(crate) fn better(a: &Score, b: &Score) -> bool {
    (a.total, a.count, &a.ids) < (b.total, b.count, &b.ids)
}

/// Each promotion's place among them ordered by id (then by evaluation order).
pub(crate) fn id_ranks(live: &[&Promotion]) -> Vec<u32> {
    let prefix: Vec<u64> = live.iter().map(|p| crate::eval::prefix8(&p.id)).collect();
    let mut by_id: Vec<usize> = (0..live.len()).collect();
    // (the index last makes the order total, so an unstable sort is as good)
    by_id.sort_unstable_by(|a, b| {
        prefix[*a].cmp(&prefix[*b]).then_with(|| live[*a].id.cmp(&live[*b].id)).then(a.cmp(b))
    });
    let mut ranks = vec![0u32; live.len()];
    for (rank, k) in by_id.into_iter().enumerate() {
        ranks[k] = rank as u32;
    }
    ranks
}

pub(crate) fn score(
    cart: &Cart,
    live: &[&Promotion],
    ranks: &[u32],
    lines_of: &[Vec<usize>],
    on: &[bool],
    best: Option<&Score>,
) -> Score {
    score_of(ranks, &[], &evaluate_from(cart, live, lines_of, on, 0, start_amounts(cart), None, false), best)
}

/// The score of an evaluation whose first promotions' outcomes are `prefix`
/// and the rest `suffix`.
pub(crate) fn score_of(ranks: &[u32], prefix: &[Outcome], suffix: &Eval, best: Option<&Score>) -> Score {
    let applied =
        || prefix.iter().chain(&suffix.outcomes).enumerate().filter(|(_, o)| matches!(o, Outcome::Applied { .. }));
    let count = applied().count();
    // the ids only matter when it may become (or tie with) the best
    let ids = match best {
        Some(b) if (suffix.paid, count) > (b.total, b.count) => Vec::new(),
        _ => {
            let mut ids: Vec<u32> = applied().map(|(k, _)| ranks[k]).collect();
            ids.sort_unstable();
            ids
        }
    };
    Score { total: suffix.paid, count, ids }
}
