//! Committing an order: price at commit time, take from every limit's
//! counters atomically with the order's checkout record, then write the
//! `Order Completed` event to the log (one order per `order_id`, as every
//! other order).
//!
//! All or nothing: a counter that cannot take its amount rolls the whole
//! checkout back; the cart is then priced again with the counters as they
//! are, so an automatic promotion that ran out is left out, while a coupon
//! the shopper presented that can no longer be used refuses the order
//! (`coupon_rejected`), as does a total other than `expected_total`
//! (`price_changed`). The same `Idempotency-Key` answers the first result
//! again, however the promotions changed since.

use super::{CartRequest, Prepared, prepare};
use crate::app::{App, AppResult};
use beacon_core::Error;
use beacon_core::money::parse_minor;
use beacon_core::{ErrorCode, IdentityKind, Money};
use beacon_pricing::Priced;
use beacon_pricing::groupbuy::Team;
use beacon_pricing::limits::{Counter, POINTS_OWNER};
use beacon_store::{
    CHECKOUT_RECORD_VERSION, Checkout, CheckoutOutcome, CheckoutRecord, CounterTake, PlacedOrder, PlacedProduct,
    RecordLine, TeamWrite, coupon_key,
};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Attempts when counters move between pricing and committing.
const ATTEMPTS: usize = 3;

fn conflict(code: ErrorCode, message: impl Into<String>) -> Error {
    Error::new(code, message)
}

/// An order as committed: whether it is a replay, and the answer.
pub struct Placed {
    pub replayed: bool,
    pub body: Value,
}

pub async fn place(app: &App, idempotency_key: &str, body: Map<String, Value>) -> AppResult<Placed> {
    if idempotency_key.is_empty() || idempotency_key.len() > 200 || idempotency_key.chars().any(char::is_control) {
        return Err(Error::new(ErrorCode::InvalidParameter, "Idempotency-Key must be 1 to 200 characters"));
    }
    let request_hash = hex::encode(Sha256::digest(Value::Object(body.clone()).to_string().as_bytes()));
    let req = CartRequest::from_json(Value::Object(body), "order")?;
    if req.now.is_some() {
        return Err(Error::new(
            ErrorCode::InvalidCart,
            "now is for previews (POST /api/v1/carts/price); an order is priced when it is placed",
        ));
    }
    let order_id = req.order_id.clone().unwrap_or_else(|| format!("ord_{}", uuid::Uuid::now_v7().simple()));
    if order_id.trim().is_empty() || order_id.len() > 100 || order_id.chars().any(char::is_control) {
        return Err(Error::new(ErrorCode::InvalidCart, "order_id must be 1 to 100 characters"));
    }
    for _ in 0..ATTEMPTS {
        let (prep, priced, order, event, team) = match priced_order(app, &req, &order_id).await {
            Ok(p) => p,
            // a retry of an order placed before answers as it did then, whatever changed since
            Err(e) => match app.store.promotions().checkout_by_key(idempotency_key).await? {
                Some(done) => return replay(app, done, &request_hash).await,
                None => return Err(e),
            },
        };
        let mut answer = json!({
            "order_id": order_id,
            "placed_at": prep.now,
            "profile_id": prep.profile.as_ref().map(|p| p.id),
            "pricing": priced.to_json(),
            "order": order.to_map(),
        });
        if let Some((_, t)) = &team {
            answer["group_buy"] = super::teams::team_json(t);
        }
        // the lots the redeemed points come from, soonest to expire first
        let used = priced.points.as_ref().map_or(0, |p| p.used);
        let points = beacon_pricing::points::spend(&prep.lots, used, prep.now)
            .map_err(|have| conflict(ErrorCode::Conflict, format!("only {have} points are available")))?;
        let record = CheckoutRecord {
            version: CHECKOUT_RECORD_VERSION,
            lines: record_lines(&prep, &priced),
            team: team.as_ref().map(|(_, t)| t.id.clone()),
            points_takes: points.clone(),
            order: Some(order),
            answer,
        };
        let checkout = Checkout {
            idempotency_key: idempotency_key.to_string(),
            order_id: order_id.clone(),
            request_hash: request_hash.clone(),
            profile_id: prep.profile.as_ref().map(|p| p.id.to_string()),
            takes: takes(&prep, &priced),
            record,
            created_at: prep.now,
            team: team.map(|(write, _)| write),
            points,
        };
        match app.committer.commit(checkout).await? {
            CheckoutOutcome::Committed(c) => {
                crate::app::log::append(app, vec![event]).await?;
                metrics::counter!("beacon_checkouts_total", "outcome" => "committed").increment(1);
                return Ok(Placed { replayed: false, body: c.record.answer });
            }
            CheckoutOutcome::Existing(c) => return replay(app, c, &request_hash).await,
            CheckoutOutcome::OrderTaken => {
                return Err(conflict(ErrorCode::Conflict, format!("order {order_id:?} was placed already")));
            }
            CheckoutOutcome::LimitReached { .. } => {
                metrics::counter!("beacon_checkouts_total", "outcome" => "limit_raced").increment(1);
            }
            CheckoutOutcome::TeamChanged => {
                metrics::counter!("beacon_checkouts_total", "outcome" => "team_raced").increment(1);
            }
            CheckoutOutcome::PointsChanged => {
                metrics::counter!("beacon_checkouts_total", "outcome" => "points_raced").increment(1);
            }
        }
    }
    Err(conflict(ErrorCode::Conflict, "promotion limits kept changing while the order was placed; retry"))
}

/// The order's checkout: its pricing, its order and log record, and the team it opens or joins.
type Ordered = (Prepared, Priced, PlacedOrder, beacon_store::NewLogRecord, Option<(TeamWrite, Team)>);

/// The cart priced now, checked, and the order it makes.
async fn priced_order(app: &App, req: &CartRequest, order_id: &str) -> AppResult<Ordered> {
    let prep = prepare(app, req, app.now()).await?;
    let priced = prep.price();
    check(req, &prep, &priced)?;
    let order = order_fields(req, &prep, &priced, order_id);
    // checked before anything is taken: an order the log would refuse takes nothing
    let event = crate::app::records::order_record(&order.to_map(), prep.now)?;
    let team = match &req.group_buy {
        Some(g) => {
            let (write, team, _) = super::teams::join(app, &prep, &priced, g, order_id).await?;
            Some((write, team))
        }
        None => None,
    };
    Ok((prep, priced, order, event, team))
}

/// The first answer again, and its order event (the log keeps one per order id).
async fn replay(app: &App, done: beacon_store::Checkout, request_hash: &str) -> AppResult<Placed> {
    if done.request_hash != request_hash {
        return Err(Error::new(ErrorCode::IdempotencyKeyReused, "this Idempotency-Key was used for another request"));
    }
    // the first attempt may have stopped between its commit and its event
    if let Some(order) = &done.record.order {
        let event = crate::app::records::order_record(&order.to_map(), done.created_at)?;
        crate::app::log::append(app, vec![event]).await?;
    }
    metrics::counter!("beacon_checkouts_total", "outcome" => "replayed").increment(1);
    Ok(Placed { replayed: true, body: done.record.answer })
}

/// Refuses an order whose presented coupon did not apply, or whose total is
/// not the one expected.
fn check(req: &CartRequest, prep: &Prepared, priced: &Priced) -> AppResult<()> {
    // a shared code's promotion, or the template a unique code is of
    let coupon_of = |id: &str| prep.snapshot.promotion(id).and_then(|p| p.coupon.as_deref());
    let template_of = |code: &str| prep.cart.grants.iter().find(|g| g.code == code).map(|g| g.promotion.as_str());
    let applied_code = |code: &str| {
        priced.applied.iter().any(|a| coupon_of(&a.id) == Some(code)) || priced.redeemed.iter().any(|(_, c)| c == code)
    };
    let mut explained: Option<Value> = None;
    for code in &prep.cart.coupons {
        if applied_code(code) {
            continue;
        }
        let json = explained.get_or_insert_with(|| priced.to_json());
        let reason = json["rejected"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| {
                let id = r["id"].as_str();
                id == Some(code.as_str()) || id.and_then(coupon_of) == Some(code) || id == template_of(code)
            })
            .map(|r| r["reason"].clone())
            .unwrap_or_else(|| json!({"code": "no_discount"}));
        // a better offer won, or nothing was left to take off: the order goes ahead
        // without the coupon, which the shopper keeps
        if matches!(reason["code"].as_str(), Some("not_best_for_shopper" | "not_stackable_with" | "no_discount")) {
            continue;
        }
        return Err(Error::new(
            ErrorCode::CouponRejected,
            format!("coupon {code} cannot be used: {}", reason["code"].as_str().unwrap_or("rejected")),
        )
        .with_details(json!({"coupon": code, "reason": reason})));
    }
    if let Some(expected) = &req.expected_total {
        let want = parse_minor(expected, priced.currency.exponent)
            .map_err(|e| Error::new(ErrorCode::InvalidCart, format!("expected_total: {e}")))?;
        if want != priced.total {
            let m = |minor| Money { minor, currency: priced.currency }.to_decimal_string();
            return Err(Error::new(
                ErrorCode::PriceChanged,
                format!("the order costs {} now, not {}", m(priced.total), m(want)),
            )
            .with_details(json!({"expected_total": m(want), "total": m(priced.total), "pricing": priced.to_json()})));
        }
    }
    Ok(())
}

/// Every counter each applied promotion takes from (one per identity for
/// limits per identity, each bounded by the limit).
fn takes(prep: &Prepared, priced: &Priced) -> Vec<CounterTake> {
    let mut out = Vec::new();
    for t in &priced.takes {
        for key in prep.keys.get(&(t.promotion.clone(), t.limit)).into_iter().flatten() {
            out.push(CounterTake {
                key: key.clone(),
                amount: t.amount,
                max: t.max,
                promotion: t.promotion.clone(),
                counter: t.counter.as_str().to_string(),
            });
        }
    }
    // the points program's redemption limits take the points redeemed
    let redeemed = priced.points.as_ref().map_or(0, |p| p.used);
    for (keys, max) in prep.points_limits.iter().filter(|_| redeemed > 0) {
        for key in keys {
            out.push(CounterTake {
                key: key.clone(),
                amount: redeemed,
                max: *max,
                promotion: POINTS_OWNER.into(),
                counter: Counter::Points.as_str().into(),
            });
        }
    }
    // a unique code is used once
    for (promotion, code) in &priced.redeemed {
        out.push(CounterTake {
            key: coupon_key(promotion, code),
            amount: 1,
            max: 1,
            promotion: promotion.clone(),
            counter: "redemptions".into(),
        });
    }
    out
}

/// Each cart line as priced, with what each promotion took off it (the
/// share a refund gives back).
fn record_lines(prep: &Prepared, priced: &Priced) -> Vec<RecordLine> {
    priced
        .lines
        .iter()
        .zip(&prep.lines)
        .map(|(l, ordered)| RecordLine {
            product_id: l.product_id.clone(),
            sku: ordered.sku.clone(),
            quantity: l.quantity,
            allocations: l.allocations.clone(),
        })
        .collect()
}

/// The order as `POST /api/v1/orders` records it (an `Order Completed`
/// event): the engine's total and discount, the lines at their unit prices.
fn order_fields(req: &CartRequest, prep: &Prepared, priced: &Priced, order_id: &str) -> PlacedOrder {
    let m = |minor| Money { minor, currency: priced.currency }.to_decimal_string();
    let held = |kind| {
        prep.profile.as_ref().and_then(|p| p.identities.iter().find(|i| i.kind == kind)).map(|i| i.value.clone())
    };
    let user_id = req.user_id.clone().or_else(|| held(IdentityKind::UserId));
    let mut anonymous_id = req.anonymous_id.clone().or_else(|| held(IdentityKind::AnonymousId));
    if user_id.is_none() && anonymous_id.is_none() {
        // a buyer known only by email or phone: those link the order to them
        anonymous_id = Some(format!("order:{order_id}"));
    }
    // what the promotions cost the shop, free shipping and points included
    let points = priced.points.as_ref().map_or(0, |p| p.discount);
    let codes: Vec<&str> = priced
        .applied
        .iter()
        .filter_map(|a| prep.snapshot.promotion(&a.id).and_then(|p| p.coupon.as_deref()))
        .chain(priced.redeemed.iter().map(|(_, code)| code.as_str()))
        .collect();
    let products = prep.cart.lines.iter().zip(&prep.lines).map(|(l, ordered)| PlacedProduct {
        product_id: ordered.product_id.clone(),
        sku: ordered.sku.clone(),
        name: ordered.name.clone(),
        category: ordered.category.clone(),
        price: m(l.unit_price),
        quantity: l.quantity,
    });
    let gifts = priced.gifts.iter().map(|g| PlacedProduct {
        product_id: g.product_id.clone(),
        sku: g.sku.clone(),
        name: None,
        category: None,
        price: m(0),
        quantity: g.quantity,
    });
    PlacedOrder {
        order_id: order_id.to_string(),
        user_id,
        anonymous_id,
        email: req.email.clone(),
        phone: req.phone.clone(),
        placed_at: prep.now,
        currency: priced.currency.code().to_string(),
        total: m(priced.total),
        discount: m(priced.discount + priced.shipping_discount + points),
        shipping: (priced.shipping > 0).then(|| m(priced.shipping - priced.shipping_discount)),
        coupon: (!codes.is_empty()).then(|| codes.join(",")),
        products: products.chain(gifts).collect(),
    }
}
