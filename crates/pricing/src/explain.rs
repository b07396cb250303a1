//! What the engine answers: the priced cart and why — every applied
//! promotion with its lines, every rejected one with a stable reason code
//! and its numbers, and hints of what more would unlock a discount.

use crate::limits::{Limit, Scope, Take};
use beacon_core::{Currency, Money};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    pub currency: Currency,
    /// The lines before promotions.
    pub subtotal: i64,
    /// Taken off the lines.
    pub discount: i64,
    /// The shipping fee, and what free shipping took off it.
    pub shipping: i64,
    pub shipping_discount: i64,
    /// subtotal − discount + shipping − shipping_discount − the points' discount.
    pub total: i64,
    /// Points redeemed (money off after every promotion).
    pub points: Option<crate::points::PointsUse>,
    pub lines: Vec<PricedLine>,
    pub applied: Vec<Applied>,
    pub rejected: Vec<Rejected>,
    pub hints: Vec<Hint>,
    /// Combinations evaluated, and whether the search was exhaustive.
    pub combinations: usize,
    pub exact: bool,
    /// What the applied promotions take from their limits (for the commit).
    pub takes: Vec<Take>,
    /// Gift lines (满赠) the applied promotions add, at zero.
    pub gifts: Vec<Gift>,
    /// (promotion, unique code) of each applied coupon template: the order
    /// uses the code up.
    pub redeemed: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Gift {
    pub promotion: String,
    pub product_id: String,
    pub sku: Option<String>,
    pub quantity: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PricedLine {
    pub product_id: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub subtotal: i64,
    pub discount: i64,
    pub total: i64,
    /// (promotion id, amount) in the order they applied.
    pub allocations: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub id: String,
    pub name: String,
    pub amount: i64,
    /// (line index, amount).
    pub lines: Vec<(usize, i64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub id: String,
    pub reason: Reason,
}

/// Why a promotion did not apply. Codes are public API.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    Inactive {
        status: crate::spec::Status,
    },
    NotStarted {
        starts_at: DateTime<Utc>,
    },
    Expired {
        ended_at: DateTime<Utc>,
    },
    /// Outside its recurring windows (限时折扣).
    OutsideWindow,
    /// The buyer is not among those it is for (tier, tags, new customers).
    CustomerNotEligible,
    /// A presented code that no promotion has (the rejected entry's id is the code).
    UnknownCoupon,
    NoMatchingLines,
    /// The promotion's amounts are in another currency than the cart.
    CurrencyMismatch {
        promotion: String,
        cart: String,
    },
    MinSpendNotMet {
        required: i64,
        actual: i64,
    },
    MinItemsNotMet {
        required: i64,
        actual: i64,
    },
    /// Another promotion gave the shopper a lower total.
    NotStackableWith {
        id: String,
    },
    /// Leaving it out gave the shopper a lower total (it would have cost a threshold elsewhere).
    NotBestForShopper,
    NoDiscount,
    /// A limit on redemptions or units (per customer, per day…) would be passed.
    UsageLimitReached {
        limit: Limit,
        used: i64,
        needed: i64,
    },
    /// Its discount budget has less left than this cart would take.
    BudgetExhausted {
        limit: i64,
        used: i64,
        needed: i64,
    },
    /// Its stock allotment (a units limit for everyone) has fewer units left than the cart's.
    OutOfStock {
        stock: i64,
        sold: i64,
        wanted: i64,
    },
    /// It is limited per profile, identity or store and the cart has none.
    CustomerRequired {
        scope: Scope,
    },
    /// The unique code was used by an earlier order.
    CouponUsed {
        code: String,
    },
    /// The unique code was issued to another profile.
    CouponNotOwned {
        code: String,
    },
    /// Another code of the same coupon template is presented (one per
    /// order; the entry's `id` is the code).
    DuplicateCoupon {
        promotion: String,
    },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Inactive { .. } => "inactive",
            Reason::NotStarted { .. } => "not_started",
            Reason::Expired { .. } => "expired",
            Reason::OutsideWindow => "outside_window",
            Reason::CustomerNotEligible => "customer_not_eligible",
            Reason::UnknownCoupon => "unknown_coupon",
            Reason::NoMatchingLines => "no_matching_lines",
            Reason::CurrencyMismatch { .. } => "currency_mismatch",
            Reason::MinSpendNotMet { .. } => "min_spend_not_met",
            Reason::MinItemsNotMet { .. } => "min_items_not_met",
            Reason::NotStackableWith { .. } => "not_stackable_with",
            Reason::NotBestForShopper => "not_best_for_shopper",
            Reason::NoDiscount => "no_discount",
            Reason::UsageLimitReached { .. } => "usage_limit_reached",
            Reason::BudgetExhausted { .. } => "budget_exhausted",
            Reason::OutOfStock { .. } => "out_of_stock",
            Reason::CustomerRequired { .. } => "customer_required",
            Reason::CouponUsed { .. } => "coupon_used",
            Reason::CouponNotOwned { .. } => "coupon_not_owned",
            Reason::DuplicateCoupon { .. } => "duplicate_coupon",
        }
    }
}

/// "Spend 12.00 more for 20.00 off" (凑单提示).
#[derive(Debug, Clone, PartialEq)]
pub struct Hint {
    pub id: String,
    /// Minor units, or items for item-count tiers.
    pub more: i64,
    pub items: bool,
    /// The promotion's discount once reached.
    pub discount: i64,
    /// The gift (product id, quantity) once reached (满赠).
    pub gift: Option<(String, i64)>,
}

impl Priced {
    pub fn to_json(&self) -> Value {
        let m = |minor: i64| Money { minor, currency: self.currency }.to_decimal_string();
        let reason = |r: &Reason| {
            let mut v = json!({"code": r.code()});
            match r {
                Reason::Inactive { status } => v["status"] = json!(status),
                Reason::NotStarted { starts_at } => v["starts_at"] = json!(starts_at),
                Reason::Expired { ended_at } => v["ended_at"] = json!(ended_at),
                Reason::MinSpendNotMet { required, actual } => {
                    v["required"] = json!(m(*required));
                    v["actual"] = json!(m(*actual));
                }
                Reason::MinItemsNotMet { required, actual } => {
                    v["required"] = json!(required);
                    v["actual"] = json!(actual);
                }
                Reason::NotStackableWith { id } => v["id"] = json!(id),
                Reason::UsageLimitReached { limit, used, needed } => {
                    v["counter"] = json!(limit.counter);
                    v["limit"] = json!(limit.limit);
                    v["used"] = json!(used);
                    v["needed"] = json!(needed);
                    v["period"] = json!(limit.period);
                    v["scope"] = json!(limit.scope);
                }
                Reason::BudgetExhausted { limit, used, needed } => {
                    v["limit"] = json!(m(*limit));
                    v["used"] = json!(m(*used));
                    v["needed"] = json!(m(*needed));
                }
                Reason::OutOfStock { stock, sold, wanted } => {
                    v["stock"] = json!(stock);
                    v["sold"] = json!(sold);
                    v["wanted"] = json!(wanted);
                }
                Reason::CustomerRequired { scope } => v["scope"] = json!(scope),
                Reason::CouponUsed { code } | Reason::CouponNotOwned { code } => v["coupon"] = json!(code),
                Reason::DuplicateCoupon { promotion } => v["promotion"] = json!(promotion),
                Reason::CurrencyMismatch { promotion, cart } => {
                    v["promotion_currency"] = json!(promotion);
                    v["cart_currency"] = json!(cart);
                }
                _ => {}
            }
            v
        };
        json!({
            "currency": self.currency.code(),
            "subtotal": m(self.subtotal),
            "discount": m(self.discount),
            "shipping": m(self.shipping),
            "shipping_discount": m(self.shipping_discount),
            "total": m(self.total),
            "lines": self.lines.iter().enumerate().map(|(i, l)| json!({
                "index": i, "product_id": l.product_id, "quantity": l.quantity, "unit_price": m(l.unit_price),
                "subtotal": m(l.subtotal), "discount": m(l.discount), "total": m(l.total),
                "allocations": l.allocations.iter().map(|(id, a)| json!({"promotion": id, "amount": m(*a)})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "applied": self.applied.iter().map(|a| json!({
                "id": a.id, "name": a.name, "amount": m(a.amount),
                "lines": a.lines.iter().map(|(i, x)| json!({"index": i, "amount": m(*x)})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "rejected": self.rejected.iter().map(|r| json!({"id": r.id, "reason": reason(&r.reason)})).collect::<Vec<_>>(),
            "hints": self.hints.iter().map(|h| {
                let more = if h.items { json!({"items_more": h.more}) } else { json!({"spend_more": m(h.more)}) };
                let mut v = json!({"id": h.id, "discount": m(h.discount)});
                if let Some((product_id, quantity)) = &h.gift {
                    v["gift"] = json!({"product_id": product_id, "quantity": quantity});
                }
                if let (Value::Object(o), Value::Object(extra)) = (&mut v, more) {
                    o.extend(extra);
                }
                v
            }).collect::<Vec<_>>(),
            "gifts": self.gifts.iter().map(|g| json!({
                "promotion": g.promotion, "product_id": g.product_id, "sku": g.sku, "quantity": g.quantity, "price": m(0),
            })).collect::<Vec<_>>(),
            "points": self.points.as_ref().map(|p| json!({
                "requested": p.requested, "used": p.used, "discount": m(p.discount), "limited_by": p.limited_by,
            })),
            "redeemed": self.redeemed.iter().map(|(p, c)| json!({"promotion": p, "coupon": c})).collect::<Vec<_>>(),
            "search": {"combinations": self.combinations, "exact": self.exact},
        })
    }
}
