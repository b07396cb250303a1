//! The scenario library (`testdata/scenarios/*.json`): named carts, each with
//! its promotions, the total and discount a shop's finance team computes by
//! hand (`hand`), and the whole explanation the engine gave when the
//! scenario was written and checked (`expect`). A change to any explanation
//! fails here; if it is intended, `BEACON_BLESS=1 cargo test -p
//! beacon-pricing --test library` writes the new ones, for review in the
//! diff. The hand figures are never written by the test.

use beacon_core::Currency;
use beacon_pricing::cart::CartSpec;
use beacon_pricing::{Spec, price};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::path::PathBuf;

fn library() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/scenarios")
}

/// Prices a scenario: the cart in its currency (CNY if it names none), the
/// promotions in the shop's (`shop_currency`, else the cart's).
fn run(scenario: &Value) -> Value {
    let cart: CartSpec = serde_json::from_value(scenario["cart"].clone()).expect("a cart");
    let cart = cart.compile(Currency::CNY).expect("a valid cart");
    let shop = scenario["shop_currency"].as_str().and_then(Currency::parse).unwrap_or(cart.currency);
    let promotions: Vec<_> = scenario["promotions"]
        .as_array()
        .expect("promotions")
        .iter()
        .map(|s| Spec::parse(&s.to_string()).and_then(|s| s.compile(shop)).expect("a valid promotion"))
        .collect();
    let now: DateTime<Utc> = scenario["now"].as_str().and_then(|t| t.parse().ok()).expect("now");
    price(&cart, &promotions, now).to_json()
}

#[test]
fn every_scenario_prices_as_written() {
    let bless = std::env::var_os("BEACON_BLESS").is_some();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(library())
        .expect("testdata/scenarios")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 40, "the library has {} scenarios", paths.len());
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_stem().and_then(|n| n.to_str()).unwrap_or("?").to_string();
        let text = std::fs::read_to_string(path).expect("readable");
        let mut scenario: Value = serde_json::from_str(&text).expect("JSON");
        let got = run(&scenario);
        let hand = &scenario["hand"];
        if (got["discount"].as_str(), got["total"].as_str()) != (hand["discount"].as_str(), hand["total"].as_str()) {
            failures.push(format!(
                "{name}: by hand {hand}, the engine says discount {} total {}",
                got["discount"], got["total"]
            ));
        }
        if bless {
            scenario["expect"] = got;
            let mut out = serde_json::to_string_pretty(&scenario).expect("JSON");
            out.push('\n');
            std::fs::write(path, out).expect("writable");
        } else if scenario["expect"] != got {
            failures.push(format!(
                "{name}: the explanation changed:\n{}",
                serde_json::to_string_pretty(&got).unwrap_or_default()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
