//! `beacon price`: runs the pure pricing engine offline on a cart and a set
//! of promotions, and prints the explanation (for support, and for writing
//! promotions before they go live).

use anyhow::Context;
use beacon_core::Currency;
use beacon_pricing::cart::CartSpec;
use beacon_pricing::{Spec, price};
use chrono::{DateTime, Utc};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct PriceOptions {
    /// A cart: {"currency": "CNY", "lines": [{"product_id", "category", "price", "quantity", …}]}.
    #[arg(long)]
    pub cart: PathBuf,
    /// A JSON array of promotion specs (docs/promotions.md).
    #[arg(long)]
    pub promotions: PathBuf,
    /// Price as at this time (RFC 3339; default now).
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// The shop currency, for a cart that names none.
    #[arg(long, default_value = "CNY")]
    pub currency: String,
}

pub fn run(opts: PriceOptions) -> anyhow::Result<()> {
    let currency = Currency::parse(&opts.currency).context("--currency is not an ISO-4217 code")?;
    let read = |p: &PathBuf| std::fs::read_to_string(p).with_context(|| format!("{}", p.display()));
    let cart: CartSpec = serde_json::from_str(&read(&opts.cart)?).context("the cart")?;
    let cart = cart.compile(currency)?;
    let specs: Vec<serde_json::Value> = serde_json::from_str(&read(&opts.promotions)?).context("the promotions")?;
    let promotions = specs
        .iter()
        .map(|s| Spec::parse(&s.to_string()).and_then(|s| s.compile(cart.currency)))
        .collect::<Result<Vec<_>, _>>()?;
    let priced = price(&cart, &promotions, opts.now.unwrap_or_else(Utc::now));
    println!("{}", serde_json::to_string_pretty(&priced.to_json())?);
    Ok(())
}
