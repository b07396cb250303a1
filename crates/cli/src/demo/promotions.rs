//! The demo shop's running promotions, created through the promotions API
//! (once: a re-run keeps those that exist): 满减 tiers, a member discount, a
//! new-customer coupon limited per phone or device, a flash sale with stock
//! and a limit per buyer, a gift while its stock lasts, and a coupon
//! template whose unique codes shoppers claim.

use super::shop::Catalog;
use crate::import::client::{Answer, Client};
use anyhow::bail;
use beacon_core::Money;
use chrono::{Duration, Utc};
use serde_json::{Value, json};

fn specs(catalog: &Catalog) -> Vec<Value> {
    let now = Utc::now();
    let flash = &catalog.items[0];
    let half = Money { minor: flash.price_minor / 2, currency: beacon_core::Currency::CNY }.to_decimal_string();
    vec![
        json!({"id": "demo-man-jian", "name": "全场满199减20 满399减50", "status": "active",
            "reward": {"type": "tiers", "tiers": [{"min": "199", "amount_off": "20"}, {"min": "399", "amount_off": "50"}]}}),
        json!({"id": "demo-gold-tea", "name": "金卡会员茶叶88折", "status": "active", "target": {"categories": ["茶叶"]},
            "eligibility": {"tiers": ["gold"]}, "reward": {"type": "percent_off", "percent": "12"},
            "stacking": {"group": "member", "exclusive": true}}),
        json!({"id": "demo-new20", "name": "新人券 满99减20", "status": "active", "coupon": "NEW20", "min_spend": "99",
            "eligibility": {"new_customers_only": true}, "reward": {"type": "amount_off", "amount": "20"},
            "limits": [{"counter": "redemptions", "limit": 2000}, {"counter": "redemptions", "limit": 1, "scope": "identity"}]}),
        json!({"id": "demo-flash", "name": format!("秒杀 {} 半价", flash.name), "status": "active",
            "starts_at": now, "ends_at": now + Duration::days(7), "target": {"products": [flash.product_id]},
            "reward": {"type": "special_price", "price": half},
            "limits": [{"counter": "units", "limit": 50}, {"counter": "units", "limit": 1, "scope": "identity"}]}),
        json!({"id": "demo-gift", "name": "满300赠定制茶杯", "status": "active", "min_spend": "300",
            "reward": {"type": "gift", "product_id": "GIFT-CUP", "quantity": 1},
            "limits": [{"counter": "units", "limit": 200}]}),
        json!({"id": "demo-spring", "name": "春季券 满150减15", "status": "active", "min_spend": "150",
            "reward": {"type": "amount_off", "amount": "15"},
            "codes": {"pattern": "SPRING-####-????", "quantity": 5000, "claimable": true, "valid_days": 14}}),
    ]
}

/// What the welcome shows: the flash sale's product and a shopper with codes in their wallet.
pub struct Loaded {
    pub flash: String,
    pub member: String,
}

/// Creates the promotions that do not exist yet, and gives the first 20
/// shoppers a spring coupon (once: the issue key is the same every run).
pub async fn load(client: &Client, catalog: &Catalog) -> anyhow::Result<Loaded> {
    let existing = client.get("/api/v1/promotions?limit=200").await?;
    let have: Vec<&str> = existing["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str()).collect();
    for spec in specs(catalog) {
        if have.contains(&spec["id"].as_str().unwrap_or("")) {
            continue;
        }
        if let Answer::Rejected(v) = client.post("/api/v1/promotions", &spec).await? {
            bail!("a demo promotion was refused: {v}");
        }
    }
    let profiles = client.get("/api/v1/profiles?limit=20").await?;
    let ids: Vec<&str> = profiles["items"].as_array().into_iter().flatten().filter_map(|p| p["id"].as_str()).collect();
    if !ids.is_empty() {
        let give = json!({"profiles": ids});
        if let Answer::Rejected(v) =
            client.post_keyed("/api/v1/promotions/demo-spring/coupons", &give, "demo-wallets").await?
        {
            bail!("the demo coupons were refused: {v}");
        }
    }
    Ok(Loaded { flash: catalog.items[0].product_id.clone(), member: ids.first().unwrap_or(&"").to_string() })
}
