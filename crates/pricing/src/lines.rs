//! The cart's lines indexed by what promotions target, once per pricing.

use crate::cart::Cart;
use crate::fasthash::FastMap;
use crate::spec::{Promotion, Reward};

/// The cart's lines by what targets name (product ids and SKUs, category
/// paths and every path above them, brands, tags), built once per pricing,
/// so finding a promotion's lines is a few lookups, not a scan of the cart.
pub(crate) struct Lines<'c> {
    /// Lines with a quantity, in canonical order.
    all: Vec<usize>,
    /// Each line's place in canonical order.
    rank: Vec<usize>,
    by_product: FastMap<&'c str, Vec<usize>>,
    by_category: FastMap<&'c [String], Vec<usize>>,
    by_brand: FastMap<&'c str, Vec<usize>>,
    by_tag: FastMap<&'c str, Vec<usize>>,
}

impl<'c> Lines<'c> {
    pub(crate) fn new(cart: &'c Cart, order: &[usize]) -> Lines<'c> {
        let mut rank = vec![0; cart.lines.len()];
        let mut x = Lines {
            all: Vec::with_capacity(order.len()),
            rank: Vec::new(),
            by_product: FastMap::with_capacity_and_hasher(order.len() * 2, Default::default()),
            by_category: FastMap::with_capacity_and_hasher(order.len(), Default::default()),
            by_brand: FastMap::default(),
            by_tag: FastMap::default(),
        };
        for (r, i) in order.iter().enumerate() {
            rank[*i] = r;
            let l = &cart.lines[*i];
            if l.quantity <= 0 {
                continue;
            }
            x.all.push(*i);
            x.by_product.entry(l.product_id.as_str()).or_default().push(*i);
            if let Some(sku) = l.sku.as_deref().filter(|s| *s != l.product_id) {
                x.by_product.entry(sku).or_default().push(*i);
            }
            for depth in 1..=l.category.len() {
                x.by_category.entry(&l.category[..depth]).or_default().push(*i);
            }
            if let Some(b) = &l.brand {
                x.by_brand.entry(b.as_str()).or_default().push(*i);
            }
            for t in &l.tags {
                x.by_tag.entry(t.as_str()).or_default().push(*i);
            }
        }
        x.rank = rank;
        x
    }

    /// The lines a promotion applies to, in canonical order: its target's,
    /// and a buy-X-get-Y's named `get` products.
    pub(crate) fn eligible(&self, p: &Promotion) -> Vec<usize> {
        let Some(t) = &p.target else { return self.all.clone() };
        let mut out: Vec<usize> = Vec::new();
        let named = match &p.reward {
            Reward::BuyXGetY { get_products, .. } => get_products.as_slice(),
            _ => &[],
        };
        for key in t.products.iter().chain(named) {
            out.extend(self.by_product.get(key.as_str()).into_iter().flatten());
        }
        for c in t.categories.iter().filter(|c| !c.is_empty()) {
            out.extend(self.by_category.get(c.as_slice()).into_iter().flatten());
        }
        for b in &t.brands {
            out.extend(self.by_brand.get(b.as_str()).into_iter().flatten());
        }
        for tag in &t.tags {
            out.extend(self.by_tag.get(tag.as_str()).into_iter().flatten());
        }
        out.sort_unstable_by_key(|i| self.rank[*i]);
        out.dedup();
        out
    }
}
