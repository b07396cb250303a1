//! Each shopper's 90 days: sessions on days weighted by weekday, trend and
//! a promotion day; in each, pages and product views, carts, checkouts and
//! orders at plausible rates; logins that join the anonymous history; later
//! refunds, cancellations and reviews. Deterministic per (seed, shopper).

use super::rng::Rng;
use super::shop::{CITIES, Catalog, Texts, department_count, name};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};

pub struct Plan {
    pub seed: u64,
    pub days: i64,
    /// The last day (UTC+8), inclusive.
    pub end: NaiveDate,
    /// Cumulative weight of each day.
    weights: Vec<f64>,
    /// Index of the promotion day.
    pub promo_day: i64,
    /// Cumulative weight of each hour (Beijing time).
    hours: Vec<f64>,
}

impl Plan {
    pub fn new(seed: u64, days: i64, end: NaiveDate) -> Plan {
        let promo_day = (days * 2 / 3).max(0);
        let mut weights = Vec::with_capacity(days as usize);
        let mut total = 0.0;
        for d in 0..days {
            let date = end - Duration::days(days - 1 - d);
            let weekend = matches!(date.weekday(), Weekday::Sat | Weekday::Sun);
            let mut w = (1.0 + 0.4 * d as f64 / days as f64) * if weekend { 1.35 } else { 1.0 };
            if d == promo_day {
                w *= 4.0;
            } else if d + 1 == promo_day {
                w *= 1.6;
            }
            total += w;
            weights.push(total);
        }
        let hours = HOURS
            .iter()
            .scan(0.0, |acc, h| {
                *acc += h;
                Some(*acc)
            })
            .collect();
        Plan { seed, days, end, weights, promo_day, hours }
    }

    pub fn date(&self, day: i64) -> NaiveDate {
        self.end - Duration::days(self.days - 1 - day)
    }
}

/// What was generated, by kind.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub sessions: u64,
    pub views: u64,
    pub adds: u64,
    pub checkouts: u64,
    pub orders: u64,
    pub refunds: u64,
    pub cancels: u64,
    pub reviews: u64,
}

/// Beijing-time hours of a shopping day, by weight (lunch and evening peaks).
const HOURS: [f64; 24] = [
    1.0, 0.5, 0.3, 0.2, 0.2, 0.3, 0.6, 1.2, 2.0, 2.6, 2.8, 3.0, 3.6, 3.4, 2.8, 2.6, 2.6, 2.8, 3.2, 3.8, 4.6, 5.0, 4.2,
    2.4,
];
const REFUND_REASONS: &[&str] = &["质量问题", "不想要了", "发错货", "尺码不合适", "damaged in transit"];

struct Shopper<'a> {
    plan: &'a Plan,
    rng: Rng,
    events: Vec<(DateTime<Utc>, Value)>,
    stats: Stats,
}

impl Shopper<'_> {
    fn emit(&mut self, at: DateTime<Utc>, mut msg: Value) {
        msg["timestamp"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        self.events.push((at, msg));
    }

    fn in_window(&self, at: DateTime<Utc>) -> bool {
        let last = self.plan.end + Duration::days(1);
        at < last.and_hms_opt(0, 0, 0).map_or(at, |t| t.and_utc()) - Duration::hours(8)
    }
}

/// Every event of shopper `i`, oldest first, with its message id.
pub fn shopper(plan: &Plan, catalog: &Catalog, texts: &Texts, i: usize) -> (Vec<Value>, Stats) {
    let mut s = Shopper { plan, rng: Rng::fork(plan.seed, i as u64), events: Vec::new(), stats: Stats::default() };
    let (full_name, zh) = name(&mut s.rng);
    let logs_in = s.rng.chance(0.72);
    let anon = format!("anon-{}-{i}", plan.seed);
    let user = format!("u{}", 100_000 + i);
    let mut traits = json!({"name": full_name, "city": *s.rng.pick(CITIES)});
    if s.rng.chance(0.65) {
        let domain = if zh { "example.cn" } else { "example.com" };
        traits["email"] = json!(format!("shopper{i}@{domain}"));
    }
    if s.rng.chance(0.7) {
        traits["phone"] = json!(format!("1{}{:09}", s.rng.range(3, 9), s.rng.below(1_000_000_000)));
    }
    let favourite = [s.rng.below(department_count() as u64) as usize, s.rng.below(department_count() as u64) as usize];
    let device =
        json!({"id": format!("dev-{}-{i}", plan.seed), "type": if s.rng.chance(0.7) { "ios" } else { "android" }});
    let mut sessions = 1;
    while sessions < 40 && s.rng.chance(0.86) {
        sessions += 1;
    }
    let mut days: Vec<i64> = (0..sessions).map(|_| s.rng.weighted(&plan.weights) as i64).collect();
    days.sort_unstable();
    let mut identified = false;
    let mut order_no = 0;
    for day in days {
        s.stats.sessions += 1;
        let promo = day == plan.promo_day;
        let hour = s.rng.weighted(&plan.hours);
        let start = plan.date(day).and_hms_opt(hour as u32, 0, 0).map_or(DateTime::<Utc>::MIN_UTC, |t| t.and_utc())
            - Duration::hours(8)
            + Duration::seconds(s.rng.range(0, 3599));
        let mut t = start;
        let who = |identified: bool| {
            let mut m = json!({"anonymousId": anon, "context": {"device": device, "locale": if zh { "zh-CN" } else { "en-US" }}});
            if identified {
                m["userId"] = json!(user);
            }
            m
        };
        let mut page = who(identified);
        page["type"] = json!("page");
        page["name"] = json!(if zh { "首页" } else { "Home" });
        s.emit(t, page);
        if s.rng.chance(0.35) {
            continue; // bounced
        }
        let mut cart: Vec<(usize, i64)> = Vec::new();
        for _ in 0..s.rng.range(1, 6) {
            t += Duration::seconds(s.rng.range(15, 120));
            let dept = if s.rng.chance(0.8) {
                *s.rng.pick(&favourite)
            } else {
                s.rng.below(department_count() as u64) as usize
            };
            let (list, weights) = &catalog.by_department[dept];
            let index = list[s.rng.weighted(weights)];
            let item = &catalog.items[index];
            let mut view = who(identified);
            view["type"] = json!("track");
            view["event"] = json!("Product Viewed");
            view["properties"] = product_props(item);
            s.emit(t, view);
            s.stats.views += 1;
            if s.rng.chance(if promo { 0.13 } else { 0.07 }) {
                let qty = if s.rng.chance(0.8) { 1 } else { 2 };
                t += Duration::seconds(s.rng.range(5, 60));
                let mut add = who(identified);
                add["type"] = json!("track");
                add["event"] = json!("Product Added");
                add["properties"] = product_props(item);
                add["properties"]["quantity"] = json!(qty);
                s.emit(t, add);
                s.stats.adds += 1;
                cart.push((index, qty));
            }
        }
        if cart.is_empty() || !logs_in {
            continue; // browsing only, or a guest who never signs in
        }
        if !identified {
            identified = true;
            t += Duration::seconds(s.rng.range(10, 90));
            let mut login = who(true);
            login["type"] = json!("identify");
            login["traits"] = traits.clone();
            s.emit(t, login);
        }
        if !s.rng.chance(0.5) {
            continue; // cart abandoned
        }
        t += Duration::seconds(s.rng.range(20, 180));
        let mut checkout = who(true);
        checkout["type"] = json!("track");
        checkout["event"] = json!("Checkout Started");
        s.emit(t, checkout);
        s.stats.checkouts += 1;
        if !s.rng.chance(if promo { 0.8 } else { 0.68 }) {
            continue;
        }
        order_no += 1;
        t += Duration::seconds(s.rng.range(30, 300));
        order(&mut s, t, &who(true), catalog, texts, zh, &cart, format!("D{}-{i}-{order_no}", plan.seed), promo);
    }
    s.events.sort_by_key(|(at, _)| *at);
    let mut stats = s.stats;
    let events = s
        .events
        .into_iter()
        .enumerate()
        .map(|(n, (_, mut m))| {
            m["messageId"] = json!(format!("demo-{}-{i}-{n}", plan.seed));
            m
        })
        .collect::<Vec<_>>();
    stats.events = events.len() as u64;
    (events, stats)
}

fn product_props(item: &super::shop::Item) -> Value {
    json!({
        "product_id": item.product_id, "sku": item.sku, "name": item.name, "category": item.category,
        "price": format!("{}.{:02}", item.price_minor / 100, item.price_minor % 100), "currency": "CNY",
    })
}

#[allow(clippy::too_many_arguments)]
fn order(
    s: &mut Shopper<'_>,
    t: DateTime<Utc>,
    who: &Value,
    catalog: &Catalog,
    texts: &Texts,
    zh: bool,
    cart: &[(usize, i64)],
    order_id: String,
    promo: bool,
) {
    let gross: i64 = cart.iter().map(|(item, qty)| catalog.items[*item].price_minor * qty).sum();
    // the promotion day's 满减 tiers; otherwise a new-customer coupon now and then
    let (discount, coupon) = if promo && gross >= 50_000 {
        (8_000, Some("双11满500减80"))
    } else if promo && gross >= 20_000 {
        (3_000, Some("双11满200减30"))
    } else if s.rng.chance(0.08) {
        (gross / 10, Some("NEW10"))
    } else {
        (0, None)
    };
    let total = gross - discount;
    let money = |m: i64| format!("{}.{:02}", m / 100, m % 100);
    let products: Vec<Value> = cart
        .iter()
        .map(|(item, qty)| {
            let mut p = product_props(&catalog.items[*item]);
            p["quantity"] = json!(qty);
            p
        })
        .collect();
    let mut msg = who.clone();
    msg["type"] = json!("track");
    msg["event"] = json!("Order Completed");
    msg["properties"] = json!({
        "order_id": order_id, "total": money(total), "revenue": money(total), "discount": money(discount),
        "coupon": coupon, "currency": "CNY", "products": products,
    });
    s.emit(t, msg);
    s.stats.orders += 1;
    let after = |s: &mut Shopper<'_>, event: &str, at: DateTime<Utc>, props: Value| {
        if s.in_window(at) {
            let mut m = who.clone();
            m["type"] = json!("track");
            m["event"] = json!(event);
            m["properties"] = props;
            s.emit(at, m);
            true
        } else {
            false
        }
    };
    if s.rng.chance(0.02) {
        let at = t + Duration::minutes(s.rng.range(2, 30));
        if after(s, "Order Cancelled", at, json!({"order_id": order_id, "reason": "买错了"})) {
            s.stats.cancels += 1;
        }
        return;
    }
    if s.rng.chance(0.06) {
        let at = t + Duration::days(s.rng.range(2, 10));
        let reason = *s.rng.pick(REFUND_REASONS);
        let props = if s.rng.chance(0.6) {
            json!({"order_id": order_id, "reason": reason})
        } else {
            let line = &catalog.items[cart[0].0];
            json!({"order_id": order_id, "reason": reason, "products": [{"product_id": line.product_id, "quantity": 1}]})
        };
        if after(s, "Order Refunded", at, props) {
            s.stats.refunds += 1;
        }
    }
    if s.rng.chance(0.18) {
        let at = t + Duration::days(s.rng.range(2, 12));
        let (item, _) = *s.rng.pick(cart);
        let positive = s.rng.chance(0.82);
        let pool = match (zh, positive) {
            (true, true) => &texts.zh.0,
            (true, false) => &texts.zh.1,
            (false, true) => &texts.en.0,
            (false, false) => &texts.en.1,
        };
        let rating = if positive {
            if s.rng.chance(0.6) { 5 } else { 4 }
        } else if s.rng.chance(0.5) {
            1
        } else {
            2
        };
        let props = json!({
            "product_id": catalog.items[item].product_id, "review_id": format!("R-{order_id}"),
            "rating": rating, "review_body": *s.rng.pick(pool),
        });
        if after(s, "Product Reviewed", at, props) {
            s.stats.reviews += 1;
        }
    }
}
