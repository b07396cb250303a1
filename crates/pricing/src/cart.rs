//! What is priced: a cart of lines with what promotions select them by.

use beacon_core::Currency;

#[derive(Debug, Clone, PartialEq)]
pub struct Cart {
    pub currency: Currency,
    pub lines: Vec<Line>,
    /// Who is buying (anonymous by default).
    pub customer: Customer,
    /// Coupon codes presented, upper-cased.
    pub coupons: Vec<String>,
    /// The presented codes that are unique codes of coupon templates, as
    /// the store knows them.
    pub grants: Vec<crate::codes::Grant>,
    /// Who is buying, for limits per profile, identity or store.
    pub who: crate::limits::Subject,
    /// How much of the promotions' limits is used.
    pub usage: crate::limits::Usage,
    /// The shipping fee (minor units), which free shipping takes off.
    pub shipping: i64,
    /// The group-buy (promotion id) this is a team member's order of.
    pub group_buy: Option<String>,
    /// Points to redeem, with the buyer's balance and the program's rules.
    pub points: Option<crate::points::Redemption>,
}

impl Cart {
    /// An anonymous buyer's cart without coupons, limits unused.
    pub fn new(currency: Currency, lines: Vec<Line>) -> Cart {
        Cart {
            currency,
            lines,
            customer: Customer::default(),
            coupons: Vec::new(),
            grants: Vec::new(),
            who: Default::default(),
            usage: Default::default(),
            shipping: 0,
            group_buy: None,
            points: None,
        }
    }
}

/// What promotions may require of the buyer.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer {
    /// Member tier (会员等级), e.g. `gold`.
    #[serde(default)]
    pub tier: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Orders placed before this one.
    #[serde(default)]
    pub orders: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub product_id: String,
    pub sku: Option<String>,
    /// From the root: `["茶叶", "绿茶"]`.
    pub category: Vec<String>,
    pub brand: Option<String>,
    pub tags: Vec<String>,
    /// Minor units.
    pub unit_price: i64,
    pub quantity: i64,
}

impl Line {
    /// Price × quantity (saturating: the API bounds both).
    pub fn gross(&self) -> i64 {
        self.unit_price.saturating_mul(self.quantity)
    }
}

impl crate::spec::Target {
    /// Whether the line is one of the target's (any of its lists may match).
    pub fn matches(&self, line: &Line) -> bool {
        self.products.iter().any(|p| *p == line.product_id || line.sku.as_ref() == Some(p))
            || self.categories.iter().any(|c| !c.is_empty() && line.category.starts_with(c))
            || line.brand.as_ref().is_some_and(|b| self.brands.contains(b))
            || line.tags.iter().any(|t| self.tags.contains(t))
    }
}

/// The JSON form of a cart line (what the API and `beacon price` take).
#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LineSpec {
    pub product_id: String,
    #[serde(default)]
    pub sku: Option<String>,
    /// "茶叶/绿茶".
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub brand: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Unit price, a decimal string or number.
    pub price: serde_json::Value,
    #[serde(default = "one")]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

#[derive(Debug, Clone, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CartSpec {
    #[serde(default)]
    pub currency: Option<String>,
    pub lines: Vec<LineSpec>,
    #[serde(default)]
    pub customer: Customer,
    /// Coupon codes the shopper entered.
    #[serde(default)]
    pub coupons: Vec<String>,
    /// The store it is bought in (for limits per store).
    #[serde(default)]
    pub store: Option<String>,
    /// The shipping fee the shop charges for it (free shipping takes it off).
    #[serde(default)]
    pub shipping: Option<serde_json::Value>,
    /// A team member's order of this group-buy (promotion id).
    #[serde(default)]
    pub group_buy: Option<String>,
}

/// Most lines a cart may have.
pub const MAX_LINES: usize = 1000;

impl CartSpec {
    /// Validates the cart; `currency` applies where it names none.
    pub fn compile(&self, currency: Currency) -> Result<Cart, beacon_core::Error> {
        use beacon_core::{Error, ErrorCode};
        let bad = |m: String| Error::new(ErrorCode::InvalidCart, m);
        let currency = match &self.currency {
            Some(c) => Currency::parse(c).ok_or_else(|| bad(format!("currency {c:?} is not an ISO-4217 code")))?,
            None => currency,
        };
        if self.lines.len() > MAX_LINES {
            return Err(bad(format!("at most {MAX_LINES} lines")));
        }
        let amount = |field: &str, v: &serde_json::Value| -> Result<i64, Error> {
            let text = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => return Err(bad(format!("{field} must be a decimal number"))),
            };
            let minor =
                beacon_core::money::parse_minor(&text, currency.exponent).map_err(|e| bad(format!("{field}: {e}")))?;
            if !(0..=1_000_000_000_000).contains(&minor) {
                return Err(bad(format!("{field} must be between 0 and 10,000,000,000")));
            }
            Ok(minor)
        };
        let lines = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let unit_price = amount(&format!("lines[{i}].price"), &l.price)?;
                if !(0..=100_000).contains(&l.quantity) {
                    return Err(bad(format!("lines[{i}].quantity must be between 0 and 100000")));
                }
                Ok(Line {
                    product_id: l.product_id.clone(),
                    sku: l.sku.clone(),
                    category: l
                        .category
                        .as_deref()
                        .unwrap_or("")
                        .split('/')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect(),
                    brand: l.brand.clone(),
                    tags: l.tags.clone(),
                    unit_price,
                    quantity: l.quantity,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if self.coupons.len() > 20 {
            return Err(bad("at most 20 coupon codes".into()));
        }
        let coupons = self.coupons.iter().map(|c| c.trim().to_ascii_uppercase()).collect();
        let mut cart = Cart::new(currency, lines);
        cart.customer = self.customer.clone();
        cart.coupons = coupons;
        cart.who.store = self.store.clone();
        cart.group_buy = self.group_buy.clone();
        cart.shipping = self.shipping.as_ref().map(|s| amount("shipping", s)).transpose()?.unwrap_or(0);
        Ok(cart)
    }
}
