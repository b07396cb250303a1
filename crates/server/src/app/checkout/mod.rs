//! Pricing carts for shoppers and committing their orders: the I/O around
//! the pure engine (`beacon-pricing`).
//!
//! [`prepare`] turns a request into the engine's inputs: the buyer (a
//! profile by id or by identity: member tier, tags, orders, identities for
//! limits), the lines completed from the catalog, the promotion snapshot
//! ([`cache::PromotionCache`]) and how much of each candidate promotion's
//! limits is used. [`commit`] prices again at commit time and takes from
//! the counters atomically.

mod buyer;
pub mod cache;
pub mod commit;
pub mod committer;
pub mod coupons;
pub mod lookup;
pub mod loyalty;
pub mod recover;
pub mod returns;
pub mod signup;
pub mod teams;

use crate::app::{App, AppResult};
use beacon_core::Error;
use beacon_core::catalog::Product;
use beacon_core::message::parse_time;
use beacon_core::profile::Profile;
use beacon_core::{ErrorCode, Identity};
use beacon_pricing::cart::{CartSpec, Customer, LineSpec};
use beacon_pricing::limits::{Subject, counter_keys};
use beacon_pricing::{Cart, Priced, Snapshot};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A cart to price or to order, as the API takes it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CartRequest {
    /// The buyer: a profile id, or any of its identities.
    #[serde(default)]
    pub profile_id: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub anonymous_id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    pub lines: Vec<LineRequest>,
    #[serde(default)]
    pub coupons: Vec<String>,
    /// The store it is bought in (for limits per store).
    #[serde(default)]
    pub store: Option<String>,
    /// The shipping fee the shop charges (free shipping takes it off).
    #[serde(default)]
    pub shipping: Option<Value>,
    /// Points to redeem (the buyer's, by the points program's rules).
    #[serde(default)]
    pub points: Option<i64>,
    /// A group-buy order: the promotion, and the team to join (none: open one).
    #[serde(default)]
    pub group_buy: Option<teams::GroupBuyRequest>,
    /// Price as of this time (previews only; orders are priced now).
    #[serde(default)]
    pub now: Option<String>,
    /// Orders only: the order's id (generated if absent).
    #[serde(default)]
    pub order_id: Option<String>,
    /// Orders only: refuse the order (`price_changed`) unless it costs this.
    #[serde(default)]
    pub expected_total: Option<String>,
}

impl CartRequest {
    /// A cart from its JSON (`what`: `cart` or `order`); an unknown field or
    /// a wrong type is `invalid_cart`.
    pub fn from_json(v: Value, what: &str) -> Result<CartRequest, Error> {
        serde_json::from_value(v).map_err(|e| Error::new(ErrorCode::InvalidCart, format!("{what}: {e}")))
    }

    /// Whether pricing it looks a shopper up (by id, identity, points or team).
    pub fn names_a_shopper(&self) -> bool {
        self.profile_id.is_some()
            || self.user_id.is_some()
            || self.anonymous_id.is_some()
            || self.email.is_some()
            || self.phone.is_some()
            || self.points.is_some()
            || self.group_buy.is_some()
    }
}

/// A line: a catalog product by id or SKU; the rest is read from the
/// catalog unless given (a product not in the catalog needs its price).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    #[serde(default)]
    pub product_id: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default = "one")]
    pub quantity: i64,
    #[serde(default)]
    pub price: Option<Value>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
}

/// The offset of a follower that read the events table, once it is
/// retired (its work is queued by the processor now).
pub const RETIRED: i64 = i64::MAX;

fn one() -> i64 {
    1
}

/// One line as ordered: what the order event records.
#[derive(Debug, Clone)]
pub struct OrderLine {
    pub product_id: String,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub category: Option<String>,
}

/// The engine's inputs for one request.
pub struct Prepared {
    pub cart: Cart,
    pub snapshot: Arc<Snapshot>,
    pub profile: Option<Profile>,
    /// The identities the request named.
    pub identities: Vec<Identity>,
    pub lines: Vec<OrderLine>,
    /// The counters of each (promotion, limit) of the candidates.
    pub keys: HashMap<(String, usize), Vec<String>>,
    /// The buyer's points lots, read when points are redeemed.
    pub lots: Vec<beacon_pricing::points::Lot>,
    /// The counters of each of the program's redemption limits, with the limit.
    pub points_limits: Vec<(Vec<String>, i64)>,
    pub now: DateTime<Utc>,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidCart, message)
}

/// Most lines a cart sent to the API may have.
pub const MAX_LINES: usize = 500;

/// What promotions may require of the buyer, from the profile: member tier
/// (trait `tier`), tags (trait `tags`), orders placed.
fn customer(profile: Option<&Profile>) -> Customer {
    let Some(p) = profile else { return Customer::default() };
    Customer {
        tier: p.traits.get("tier").and_then(Value::as_str).map(str::to_string),
        tags: p
            .traits
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        orders: p.orders.order_count,
    }
}

async fn lines(app: &App, req: &CartRequest) -> AppResult<(Vec<LineSpec>, Vec<OrderLine>)> {
    if req.lines.len() > MAX_LINES {
        return Err(invalid(format!("at most {MAX_LINES} lines")));
    }
    let keys: Vec<String> = req.lines.iter().filter_map(|l| l.product_id.clone().or_else(|| l.sku.clone())).collect();
    if app.catalog_stamp.due() && app.catalog_stamp.changed(app.store.catalog().catalog_stamp().await?) {
        app.catalog.invalidate();
    }
    let mut by_key: HashMap<String, Option<Arc<Product>>> = HashMap::new();
    let mut missing = Vec::new();
    for k in keys {
        match app.catalog.get(&k) {
            Some(p) => {
                by_key.insert(k, p);
            }
            None => missing.push(k),
        }
    }
    if !missing.is_empty() {
        let generation = app.catalog.generation();
        let found = app.store.catalog().get_products(&missing).await?;
        let mut fetched: HashMap<String, Option<Arc<Product>>> = missing.iter().map(|k| (k.clone(), None)).collect();
        for p in found {
            let p = Arc::new(p.product);
            // a key asked for as a SKU (a product's own id wins over another's SKU)
            if let Some(slot @ None) = p.sku.as_ref().and_then(|sku| fetched.get_mut(sku)) {
                *slot = Some(p.clone());
            }
            fetched.insert(p.product_id.clone(), Some(p));
        }
        by_key.extend(fetched.iter().map(|(k, v)| (k.clone(), v.clone())));
        app.catalog.put(fetched, generation);
    }
    let mut specs = Vec::with_capacity(req.lines.len());
    let mut ordered = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        let key = l
            .product_id
            .as_deref()
            .or(l.sku.as_deref())
            .ok_or_else(|| invalid(format!("lines[{i}] needs a product_id or sku")))?;
        let product = by_key.get(key).and_then(|p| p.as_deref());
        let price = match (&l.price, product) {
            (Some(p), _) => p.clone(),
            (None, Some(p)) => Value::from(p.price.to_decimal_string()),
            (None, None) => {
                return Err(invalid(format!("lines[{i}]: {key:?} is not in the catalog; send its price")));
            }
        };
        let category = l.category.clone().or_else(|| product.map(|p| p.category.join("/")));
        let spec = LineSpec {
            product_id: product.map_or_else(|| key.to_string(), |p| p.product_id.clone()),
            sku: l.sku.clone().or_else(|| product.and_then(|p| p.sku.clone())),
            category: category.clone(),
            brand: l.brand.clone().or_else(|| product.and_then(|p| p.brand.clone())),
            tags: l.tags.clone().or_else(|| product.map(|p| p.tags.clone())).unwrap_or_default(),
            price,
            quantity: l.quantity,
        };
        ordered.push(OrderLine {
            product_id: spec.product_id.clone(),
            sku: spec.sku.clone(),
            name: l.name.clone().or_else(|| product.map(|p| p.name.clone())),
            category,
        });
        specs.push(spec);
    }
    Ok((specs, ordered))
}

/// Reads everything the engine needs for `req`.
pub async fn prepare(app: &App, req: &CartRequest, now: DateTime<Utc>) -> AppResult<Prepared> {
    let (profile, identities) = buyer::buyer(app, req).await?;
    let (line_specs, ordered) = lines(app, req).await?;
    let spec = CartSpec {
        currency: req.currency.clone(),
        lines: line_specs,
        customer: customer(profile.as_ref()),
        coupons: req.coupons.clone(),
        store: req.store.clone(),
        shipping: req.shipping.clone(),
        group_buy: req.group_buy.as_ref().map(|g| g.promotion.clone()),
    };
    let shop_currency = app.rules.currency;
    let mut cart = spec.compile(shop_currency)?;
    let held = profile.as_ref().map_or(&identities, |p| &p.identities);
    cart.who = Subject {
        profile: profile.as_ref().map(|p| p.id.to_string()),
        // email and phone by their keyed hash: counter keys are stored and shown
        identities: held.iter().map(|i| app.store.identity_key(i)).collect(),
        store: req.store.clone(),
    };
    let (lots, points_limits) = points(app, req, profile.as_ref(), &mut cart, now).await?;
    let snapshot = app.promotions.snapshot(app.store.as_ref(), shop_currency).await?;
    // presented codes that are no shared code: unique codes of coupon templates (or unknown)
    let unique: Vec<String> = cart.coupons.iter().filter(|c| !snapshot.has_coupon(c)).cloned().collect();
    if !unique.is_empty() {
        let found = app.store.promotions().coupons(&unique).await?;
        cart.grants = found.into_iter().map(|c| coupons::grant(c, profile.as_ref())).collect();
    }
    let offset = app.settings.utc_offset_seconds();
    let mut keys = HashMap::new();
    // the code the engine will use for each template (the first usable of those presented)
    let chosen = beacon_pricing::codes::chosen_grants(&cart, now);
    for p in snapshot.candidates(&cart) {
        let code = match &p.codes {
            Some(_) => chosen.iter().find(|g| g.promotion == p.id).map(|g| g.code.as_str()),
            None => p.coupon.as_deref(),
        };
        // a coupon's promotion is not considered for a cart that does not present its code,
        // a group-buy for an order that is not one of its teams'
        if (p.coupon.is_some() || p.codes.is_some()) && !code.is_some_and(|c| cart.coupons.iter().any(|x| x == c))
            || p.group_buy.is_some() && cart.group_buy.as_deref() != Some(p.id.as_str())
        {
            continue;
        }
        for i in 0..p.limits.len() {
            keys.insert((p.id.clone(), i), counter_keys(p, i, &cart.who, code, now, offset));
        }
    }
    if !keys.is_empty() {
        let all: Vec<String> = keys.values().flatten().cloned().collect();
        let used = app.store.promotions().counters(&all).await?;
        for (limit, names) in &keys {
            let most = names.iter().filter_map(|k| used.get(k)).copied().max().unwrap_or(0);
            if most > 0 {
                cart.usage.0.insert(limit.clone(), most);
            }
        }
    }
    Ok(Prepared { cart, snapshot, profile, identities, lines: ordered, keys, lots, points_limits, now })
}

/// The points program's part: the buyer's tier by it, and the points to
/// redeem with their balance and the room its redemption limits leave (the
/// lots and the limits' counters, for the commit).
async fn points(
    app: &App,
    req: &CartRequest,
    profile: Option<&Profile>,
    cart: &mut Cart,
    now: DateTime<Utc>,
) -> AppResult<(Vec<beacon_pricing::points::Lot>, Vec<(Vec<String>, i64)>)> {
    let program = app.loyalty.get(app).await?;
    let (Some(p), Some(buyer)) = (program.as_deref().filter(|p| p.active), profile) else {
        return match req.points {
            Some(_) => Err(invalid("points need a known buyer (profile) and an active points program")),
            None => Ok(Default::default()),
        };
    };
    if let Some(tier) = loyalty::tier(app, p, buyer, now).await? {
        cart.customer.tier = Some(tier);
    }
    let Some(requested) = req.points else { return Ok(Default::default()) };
    let rule = p.redeem.ok_or_else(|| invalid("the points program does not redeem points"))?;
    if !(0..=1_000_000_000).contains(&requested) {
        return Err(invalid("points must be 0 to 1,000,000,000"));
    }
    let lots: Vec<_> = app.store.loyalty().lots(&buyer.id.to_string()).await?.iter().map(loyalty::lot).collect();
    let available = beacon_pricing::points::balance(&lots, now).available;
    let (room, limits) = loyalty::redemption_room(app, p, &cart.who, now).await?;
    cart.points = Some(beacon_pricing::points::Redemption { requested, available, room, rule });
    Ok((lots, limits))
}

/// The `now` a preview asks for, else the clock's.
pub fn preview_time(req: &CartRequest, clock: DateTime<Utc>) -> AppResult<DateTime<Utc>> {
    match &req.now {
        Some(t) => Ok(parse_time(t, "now")?),
        None => Ok(clock),
    }
}

impl Prepared {
    pub fn price(&self) -> Priced {
        beacon_pricing::price_with(&self.cart, &self.snapshot, self.now)
    }
}
