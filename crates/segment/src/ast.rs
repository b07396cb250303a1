//! The condition tree and its JSON form.
//!
//! ```json
//! {"all": [
//!   {"performed": {"event": "Product Viewed", "count": {"cmp": ">=", "n": 3}, "within": "30d",
//!                  "where": [{"property": "category", "op": "=", "value": "鞋"}]}},
//!   {"not": {"performed": {"event": "Order Completed", "within": "30d"}}}
//! ]}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who is in: a tree of conditions on a profile's traits and behaviour.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// Every condition holds (none: everyone).
    All(Vec<Condition>),
    /// At least one holds (none: nobody).
    Any(Vec<Condition>),
    Not(Box<Condition>),
    /// A trait of the profile (`city = "上海"`).
    Trait(TraitCondition),
    /// The profile did an event so many times, in a window, with properties.
    Performed(Performed),
    /// The first time the profile did an event was within a window.
    FirstPerformed(EventTime),
    /// The profile did an event, but not within a window (the last time was before it).
    LastPerformedBefore(EventTime),
    /// An order figure (net of refunds and cancellations), in a window or ever.
    Orders(OrderFigure),
    /// The profile bought a product, something of a category (or one below
    /// it: `鞋` takes `鞋/跑鞋`) or of a brand, in a window or ever.
    Bought(Bought),
    /// The profile holds an identity of this kind (`phone`, `email`, `openid`…).
    Has(String),
    /// The profile carries this tag.
    Tag(String),
    /// The profile is a member of this saved segment.
    InSegment(String),
    /// The profile consented to this purpose (`email`, `sms`, `wechat`…).
    Consent(String),
    /// A stable bucket of the profile (0–99, from its id): holdouts, splits.
    Bucket(Count),
    /// How many coupons of its wallet (券包) the profile can use now — not
    /// used, not expired, their template not ended —, of one template or any.
    Coupons(Wallet),
    /// The profile's points it can spend now (vested, not expired, less any
    /// debt), as the points program counts them.
    Points(Count),
}

/// `coupons "spring" >= 1`: coupons held that can be used now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Wallet {
    /// The coupon template's (promotion's) id; any template if none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promotion: Option<String>,
    pub count: Count,
}

/// An event and a window, for the first or the last time it was done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventTime {
    pub event: String,
    pub within: Window,
}

/// Which order figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Orders placed (not cancelled).
    OrderCount,
    /// What they came to, net of refunds.
    NetSpend,
    /// Net spend per order.
    AverageOrder,
    /// Orders that used a coupon.
    CouponOrders,
}

impl Measure {
    pub const ALL: [Measure; 4] =
        [Measure::OrderCount, Measure::NetSpend, Measure::AverageOrder, Measure::CouponOrders];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::OrderCount => "order_count",
            Measure::NetSpend => "net_spend",
            Measure::AverageOrder => "average_order",
            Measure::CouponOrders => "coupon_orders",
        }
    }
}

/// `net_spend >= 500 within 90d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFigure {
    pub measure: Measure,
    pub cmp: Cmp,
    /// A decimal, as text (`"500"`, `"99.90"`).
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Window>,
}

/// What was bought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    Product(String),
    Category(String),
    Brand(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bought {
    pub item: Item,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Window>,
}

/// How a value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Gte,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Lte,
    /// The value is one of a list.
    #[serde(rename = "in")]
    In,
    /// Text containing a part, or a list holding an item.
    #[serde(rename = "contains")]
    Contains,
    /// The trait or property is there (not null).
    #[serde(rename = "exists")]
    Exists,
    /// A time (RFC 3339 or a date) within the last window (value: `"30d"`).
    #[serde(rename = "within")]
    Within,
    /// A date's anniversary (a birthday) falls within the next window
    /// (value: `"7d"`), today included.
    #[serde(rename = "upcoming")]
    Upcoming,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Gte => ">=",
            Op::Lt => "<",
            Op::Lte => "<=",
            Op::In => "in",
            Op::Contains => "contains",
            Op::Exists => "exists",
            Op::Within => "within",
            Op::Upcoming => "upcoming",
        }
    }

    /// Whether the operator takes a value (all but `exists`).
    pub fn takes_value(self) -> bool {
        self != Op::Exists
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraitCondition {
    pub key: String,
    pub op: Op,
    /// Text, a number, true or false; a list for `in` (none for `exists`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A condition on a property of the events counted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PropertyFilter {
    pub property: String,
    pub op: Op,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// How many times, compared how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Count {
    pub cmp: Cmp,
    pub n: u32,
}

impl Default for Count {
    /// At least once.
    fn default() -> Self {
        Count { cmp: Cmp::Gte, n: 1 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Cmp {
    #[serde(rename = ">=")]
    Gte,
    #[serde(rename = "<=")]
    Lte,
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<")]
    Lt,
}

impl Cmp {
    pub fn as_str(self) -> &'static str {
        match self {
            Cmp::Gte => ">=",
            Cmp::Lte => "<=",
            Cmp::Eq => "=",
            Cmp::Gt => ">",
            Cmp::Lt => "<",
        }
    }

    pub fn holds(self, count: u64, n: u32) -> bool {
        self.holds_for(count.cmp(&u64::from(n)))
    }

    /// Whether a figure that compares `ordering` to the value passes.
    pub fn holds_for(self, ordering: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Cmp::Gte => ordering != Less,
            Cmp::Lte => ordering != Greater,
            Cmp::Eq => ordering == Equal,
            Cmp::Gt => ordering == Greater,
            Cmp::Lt => ordering == Less,
        }
    }
}

/// The event `event` done `count` times (at least once by default), within
/// the last `within` (ever, without one), counting only events whose
/// properties pass every filter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Performed {
    pub event: String,
    #[serde(default)]
    pub count: Count,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within: Option<Window>,
    #[serde(default, rename = "where", skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<PropertyFilter>,
}

/// A time window back from now: `30d`, `12h`, `4w`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Window {
    pub amount: u32,
    pub unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Hours,
    Days,
    Weeks,
}

impl Window {
    pub fn duration(self) -> chrono::Duration {
        let n = i64::from(self.amount);
        match self.unit {
            Unit::Hours => chrono::Duration::hours(n),
            Unit::Days => chrono::Duration::days(n),
            Unit::Weeks => chrono::Duration::weeks(n),
        }
    }

    /// `30d` (h, d or w; 1 to 36,500 days' worth).
    pub fn parse(s: &str) -> Option<Window> {
        // (any text may come here: only an ASCII last character can be a unit)
        let (digits, unit) = s.split_at_checked(s.len().checked_sub(1)?)?;
        let unit = match unit {
            "h" => Unit::Hours,
            "d" => Unit::Days,
            "w" => Unit::Weeks,
            _ => return None,
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let window = Window { amount: digits.parse().ok()?, unit };
        (window.amount > 0 && window.duration() <= chrono::Duration::days(36_500)).then_some(window)
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unit = match self.unit {
            Unit::Hours => 'h',
            Unit::Days => 'd',
            Unit::Weeks => 'w',
        };
        write!(f, "{}{unit}", self.amount)
    }
}

impl TryFrom<String> for Window {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Window::parse(&s).ok_or_else(|| format!("{s:?} is not a window such as 30d, 12h or 4w"))
    }
}

impl From<Window> for String {
    fn from(w: Window) -> String {
        w.to_string()
    }
}

impl Condition {
    /// The same condition with groups of one replaced by their condition
    /// and a group's groups of the same kind merged into it: what the text
    /// form reads back.
    pub fn normalized(&self) -> Condition {
        match self {
            Condition::All(items) | Condition::Any(items) => {
                let all = matches!(self, Condition::All(_));
                let mut flat = Vec::new();
                for item in items.iter().map(Condition::normalized) {
                    match item {
                        Condition::All(inner) if all => flat.extend(inner),
                        Condition::Any(inner) if !all => flat.extend(inner),
                        other => flat.push(other),
                    }
                }
                if flat.len() == 1 {
                    return flat.remove(0);
                }
                if all { Condition::All(flat) } else { Condition::Any(flat) }
            }
            Condition::Not(inner) => Condition::Not(Box::new(inner.normalized())),
            other => other.clone(),
        }
    }
}
