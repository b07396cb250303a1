//! `beacon bench --only pricing`: the pure engine in process — a 50-line cart
//! against 10,000 active promotions through the snapshot's index, beside a
//! linear scan of all of them in the same run.

use crate::demo::rng::Rng;
use beacon_core::Currency;
use beacon_pricing::{Cart, Line, Promotion, Snapshot, Spec, price, price_with};
use serde_json::json;
use std::time::Instant;

const PRODUCTS: usize = 20_000;
const DEPTS: usize = 10;
const SUBS: usize = 20;
const BRANDS: u64 = 400;

/// The catalog entry of product `p` (what [`product_line`] lines are of).
pub fn product_json(p: usize) -> serde_json::Value {
    json!({"product_id": format!("P{p}"), "sku": format!("S{p}"), "name": format!("商品 {p}"),
        "category": [format!("d{}", p % DEPTS), format!("s{}", p % (DEPTS * SUBS))],
        "brand": format!("b{}", p % BRANDS as usize),
        "tags": if p.is_multiple_of(7) { vec![format!("t{}", p % 10)] } else { vec![] },
        "price": format!("{}.{:02}", 1 + p % 500, p % 100)})
}

pub const CATALOG: usize = PRODUCTS;

fn product_line(rng: &mut Rng) -> Line {
    let p = rng.below(PRODUCTS as u64) as usize;
    Line {
        product_id: format!("P{p}"),
        sku: Some(format!("S{p}")),
        category: vec![format!("d{}", p % DEPTS), format!("s{}", p % (DEPTS * SUBS))],
        brand: Some(format!("b{}", p % BRANDS as usize)),
        tags: if p.is_multiple_of(7) { vec![format!("t{}", p % 10)] } else { vec![] },
        unit_price: 100 + rng.below(50_000) as i64,
        quantity: 1 + rng.below(3) as i64,
    }
}

/// `n` promotions: most target a few products, some a category, brand or tag,
/// a handful the whole order; a quarter are exclusive coupons; some are
/// outside their window.
pub fn promotions(n: usize, seed: u64) -> Vec<Promotion> {
    specs(n, seed)
        .iter()
        .map(|spec| {
            Spec::parse(&spec.to_string()).and_then(|s| s.compile(Currency::CNY)).expect("bench promotions are valid")
        })
        .collect()
}

/// The specs of [`promotions`], as a shop would post them.
pub fn specs(n: usize, seed: u64) -> Vec<serde_json::Value> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|k| {
            // a shop's promotions: mostly on single products (直降), some on a category or
            // brand, a few on tags, a handful on the whole order
            let target = match rng.below(1000) {
                0..=939 => Some(json!({"products": (0..1 + rng.below(3)).map(|_| format!("P{}", rng.below(PRODUCTS as u64))).collect::<Vec<_>>()})),
                940..=969 => {
                    let d = rng.below(DEPTS as u64);
                    Some(json!({"categories": [format!("d{d}/s{}", d + DEPTS as u64 * rng.below(SUBS as u64))]}))
                }
                970..=989 => Some(json!({"brands": [format!("b{}", rng.below(BRANDS))]})),
                990..=997 => Some(json!({"tags": [format!("t{}", rng.below(10))]})),
                _ if k.is_multiple_of(3) => None,
                _ => Some(json!({"tags": [format!("t{}", rng.below(10))]})),
            };
            let reward = match rng.below(4) {
                0 => json!({"type": "amount_off", "amount": format!("{}", 1 + rng.below(30))}),
                1 => json!({"type": "percent_off", "percent": format!("{}", 5 + rng.below(20)), "max_discount": "50"}),
                2 => json!({"type": "tiers", "tiers": [{"min": "100", "amount_off": "10"}, {"min": "300", "amount_off": "40"}]}),
                _ => json!({"type": "every", "every": "100", "amount_off": "5", "max_discount": "30"}),
            };
            let mut spec = json!({"id": format!("promo-{k}"), "name": "bench", "reward": reward, "priority": rng.below(3)});
            if let Some(t) = target {
                spec["target"] = t;
            }
            if rng.chance(0.25) {
                spec["stacking"] = json!({"group": format!("coupons-{}", rng.below(5)), "exclusive": true});
            }
            if rng.chance(0.3) {
                spec["ends_at"] = json!("2026-01-01T00:00:00Z");
            }
            spec
        })
        .collect()
}

pub fn carts(n: usize, lines: usize, seed: u64) -> Vec<Cart> {
    let mut rng = Rng::new(seed ^ 1);
    (0..n).map(|_| Cart::new(Currency::CNY, (0..lines).map(|_| product_line(&mut rng)).collect())).collect()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((p / 100.0) * (sorted.len().max(1) - 1) as f64).round() as usize).copied().unwrap_or(0.0)
}

pub fn run() {
    let now = chrono::Utc::now();
    let promos = promotions(10_000, 7);
    let started = Instant::now();
    let snapshot = Snapshot::new(promos.clone());
    let indexing = started.elapsed();
    let carts = carts(500, 50, 7);
    let time = |f: &dyn Fn(&Cart) -> beacon_pricing::Priced| {
        let mut micros: Vec<f64> = Vec::with_capacity(carts.len());
        let mut checksum = 0i64;
        let mut applied = 0usize;
        let mut searched = 0usize;
        for cart in &carts {
            let t = Instant::now();
            let priced = f(cart);
            micros.push(t.elapsed().as_secs_f64() * 1e6);
            checksum += priced.total;
            applied += priced.applied.len();
            searched += priced.combinations;
        }
        micros.sort_by(f64::total_cmp);
        (micros, checksum, applied, searched)
    };
    let (indexed, sum_a, applied, searched) = time(&|c| price_with(c, &snapshot, now));
    let (linear, sum_b, _, _) = time(&|c| price(c, &promos, now));
    assert_eq!(sum_a, sum_b, "the index and the scan must price alike");
    println!(
        "\nPricing, in process: {} carts of 50 lines, 10,000 promotions (index built in {:.1} ms)\n",
        carts.len(),
        indexing.as_secs_f64() * 1e3
    );
    println!("| engine | p50 µs | p99 µs | max µs |\n|---|---|---|---|");
    for (name, m) in [("indexed snapshot", &indexed), ("linear scan (baseline)", &linear)] {
        println!(
            "| {name} | {:.0} | {:.0} | {:.0} |",
            percentile(m, 50.0),
            percentile(m, 99.0),
            m.last().copied().unwrap_or(0.0)
        );
    }
    println!(
        "\n{:.1} promotions applied and {:.1} combinations evaluated per cart on average",
        applied as f64 / carts.len() as f64,
        searched as f64 / carts.len() as f64
    );
}

/// One 200-line cart priced once against 1,000 promotions, through the
/// index and by the linear scan: the workload counted under callgrind
/// (docs/BENCHMARKS.md has the command).
pub fn once() {
    let now = chrono::Utc::now();
    let promos = promotions(1_000, 7);
    let snapshot = Snapshot::new(promos.clone());
    let cart = carts(1, 200, 9).pop().expect("one cart");
    let indexed = price_with(&cart, &snapshot, now);
    let linear = price(&cart, &promos, now);
    assert_eq!(indexed.total, linear.total, "the index and the scan must price alike");
    println!(
        "200 lines, 1,000 promotions: total {} after {} off, {} promotions applied, {} combinations",
        indexed.total,
        indexed.discount,
        indexed.applied.len(),
        indexed.combinations
    );
}
