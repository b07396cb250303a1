//! A promotion snapshot indexed by what promotions target, so pricing a
//! cart looks only at the promotions its lines can match — not at every
//! promotion the shop has.

use crate::cart::Cart;
use crate::fasthash::FastMap as HashMap;
use crate::spec::Promotion;

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    promotions: Vec<Promotion>,
    whole_order: Vec<usize>,
    /// Product ids and SKUs.
    by_product: HashMap<String, Vec<usize>>,
    by_category: HashMap<Vec<String>, Vec<usize>>,
    by_brand: HashMap<String, Vec<usize>>,
    by_tag: HashMap<String, Vec<usize>>,
    /// Coupon code → promotions.
    by_coupon: HashMap<String, Vec<usize>>,
    by_id: HashMap<String, usize>,
}

impl Snapshot {
    pub fn new(promotions: Vec<Promotion>) -> Snapshot {
        let mut s = Snapshot { promotions, ..Default::default() };
        for (k, p) in s.promotions.iter().enumerate() {
            s.by_id.insert(p.id.clone(), k);
            if let Some(code) = &p.coupon {
                s.by_coupon.entry(code.clone()).or_default().push(k);
            }
            let Some(t) = &p.target else {
                s.whole_order.push(k);
                continue;
            };
            // a buy-X-get-Y is found by the products it gives too (its explanation says what to buy)
            let named = match &p.reward {
                crate::spec::Reward::BuyXGetY { get_products, .. } => get_products.as_slice(),
                _ => &[],
            };
            for id in t.products.iter().chain(named) {
                s.by_product.entry(id.clone()).or_default().push(k);
            }
            for c in &t.categories {
                s.by_category.entry(c.clone()).or_default().push(k);
            }
            for b in &t.brands {
                s.by_brand.entry(b.clone()).or_default().push(k);
            }
            for tag in &t.tags {
                s.by_tag.entry(tag.clone()).or_default().push(k);
            }
        }
        s
    }

    pub fn promotions(&self) -> &[Promotion] {
        &self.promotions
    }

    pub fn promotion(&self, id: &str) -> Option<&Promotion> {
        self.by_id.get(id).map(|k| &self.promotions[*k])
    }

    pub fn has_coupon(&self, code: &str) -> bool {
        self.by_coupon.contains_key(code)
    }

    /// [`Snapshot::candidates`], each with the lines that found it (in cart
    /// order; `None`: a whole-order promotion, every line), so pricing need
    /// not look the lines up again.
    pub fn candidates_with_lines(&self, cart: &Cart) -> Vec<(&Promotion, Option<Vec<usize>>)> {
        let mut hit: Vec<(usize, usize)> = Vec::new();
        let mut bare: Vec<usize> = self.whole_order.clone();
        for code in &cart.coupons {
            bare.extend(self.by_coupon.get(code).into_iter().flatten().copied());
        }
        bare.extend(cart.grants.iter().filter_map(|g| self.by_id.get(&g.promotion).copied()));
        for (i, line) in cart.lines.iter().enumerate().filter(|(_, l)| l.quantity > 0) {
            let mut add = |v: Option<&Vec<usize>>| hit.extend(v.into_iter().flatten().map(|k| (*k, i)));
            add(self.by_product.get(&line.product_id));
            if let Some(sku) = line.sku.as_ref().filter(|s| **s != line.product_id) {
                add(self.by_product.get(sku));
            }
            for depth in 1..=line.category.len() {
                add(self.by_category.get(&line.category[..depth]));
            }
            if let Some(b) = &line.brand {
                add(self.by_brand.get(b));
            }
            for tag in &line.tags {
                add(self.by_tag.get(tag));
            }
        }
        hit.extend(bare.into_iter().map(|k| (k, usize::MAX)));
        hit.sort_unstable();
        hit.dedup();
        let mut out: Vec<(&Promotion, Option<Vec<usize>>)> = Vec::new();
        for (k, i) in hit {
            let p = &self.promotions[k];
            if out.last().is_none_or(|(q, _)| !std::ptr::eq(*q, p)) {
                out.push((p, p.target.as_ref().map(|_| Vec::new())));
            }
            if let (Some((_, Some(lines))), true) = (out.last_mut(), i != usize::MAX) {
                lines.push(i);
            }
        }
        out
    }

    /// The promotions that could apply to `cart`, in snapshot order (with
    /// those of every code it presents, so a coupon for other products is
    /// explained, not reported unknown).
    pub fn candidates(&self, cart: &Cart) -> Vec<&Promotion> {
        self.candidates_with_lines(cart).into_iter().map(|(p, _)| p).collect()
    }
}
