//! What the JSON form can hold that the language cannot mean: a test's
//! value of the wrong shape, an empty name, an amount that is no decimal.
//! The text form never makes these; a tree read from JSON is checked here
//! before it is stored or evaluated.

use crate::ast::{Condition, Op};
use crate::decimal::Decimal;
use serde_json::Value;

/// Where in the tree (`all[1].not.performed.where[0].value`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub path: String,
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for Invalid {}

/// Most conditions in one tree.
pub const MAX_CONDITIONS: usize = 500;

impl Condition {
    /// Checks every condition of the tree.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut seen = 0;
        check(self, "", &mut seen)
    }
}

fn invalid(path: &str, message: impl Into<String>) -> Invalid {
    let path = if path.is_empty() { "(the condition)".to_string() } else { path.to_string() };
    Invalid { path, message: message.into() }
}

fn name(path: &str, what: &str, text: &str) -> Result<(), Invalid> {
    if text.trim().is_empty() || text.chars().count() > 200 {
        return Err(invalid(path, format!("{what} must be 1 to 200 characters")));
    }
    Ok(())
}

fn check(c: &Condition, path: &str, seen: &mut usize) -> Result<(), Invalid> {
    *seen += 1;
    if *seen > MAX_CONDITIONS {
        return Err(invalid(path, format!("a segment has at most {MAX_CONDITIONS} conditions")));
    }
    let at = |key: &str| if path.is_empty() { key.to_string() } else { format!("{path}.{key}") };
    match c {
        Condition::All(items) | Condition::Any(items) => {
            let key = if matches!(c, Condition::All(_)) { "all" } else { "any" };
            for (i, item) in items.iter().enumerate() {
                check(item, &format!("{}[{i}]", at(key)), seen)?;
            }
            Ok(())
        }
        Condition::Not(inner) => check(inner, &at("not"), seen),
        Condition::Trait(t) => {
            name(&at("trait.key"), "a trait's name", &t.key)?;
            test(&at("trait"), t.op, t.value.as_ref())
        }
        Condition::Performed(p) => {
            name(&at("performed.event"), "an event's name", &p.event)?;
            for (i, f) in p.filters.iter().enumerate() {
                let here = format!("{}[{i}]", at("performed.where"));
                name(&format!("{here}.property"), "a property's name", &f.property)?;
                test(&here, f.op, f.value.as_ref())?;
            }
            Ok(())
        }
        Condition::FirstPerformed(t) => name(&at("first_performed.event"), "an event's name", &t.event),
        Condition::LastPerformedBefore(t) => name(&at("last_performed_before.event"), "an event's name", &t.event),
        Condition::Orders(o) => match Decimal::parse(&o.value) {
            Some(d) if d.compare(Decimal::from_int(0)) != Some(std::cmp::Ordering::Less) => Ok(()),
            _ => Err(invalid(&at("orders.value"), format!("{:?} is not an amount or a count (0 or more)", o.value))),
        },
        Condition::Bought(b) => {
            let (crate::ast::Item::Product(n) | crate::ast::Item::Category(n) | crate::ast::Item::Brand(n)) = &b.item;
            name(&at("bought.item"), "what was bought", n)
        }
        Condition::Has(n) => name(&at("has"), "an identity kind", n),
        Condition::Tag(n) => name(&at("tag"), "a tag", n),
        Condition::InSegment(n) => name(&at("in_segment"), "a segment's id", n),
        Condition::Consent(n) => name(&at("consent"), "a purpose", n),
        Condition::Bucket(b) if b.n > 100 => Err(invalid(&at("bucket.n"), "a bucket is 0 to 100")),
        Condition::Bucket(_) => Ok(()),
        Condition::Coupons(w) => {
            w.promotion.as_ref().map_or(Ok(()), |p| name(&at("coupons.promotion"), "a coupon template's id", p))
        }
        Condition::Points(_) => Ok(()),
    }
}

/// A test's value fits its operator.
fn test(path: &str, op: Op, value: Option<&Value>) -> Result<(), Invalid> {
    let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    let here = format!("{path}.value");
    match (op, value) {
        (Op::Exists, None) => Ok(()),
        (Op::Exists, Some(_)) => Err(invalid(&here, "exists takes no value")),
        (Op::In, Some(Value::Array(list))) if !list.is_empty() && list.len() <= 1000 && list.iter().all(scalar) => {
            Ok(())
        }
        (Op::In, _) => Err(invalid(&here, "in takes a list of 1 to 1,000 texts, numbers or true/false")),
        (Op::Within | Op::Upcoming, Some(Value::String(w))) if crate::ast::Window::parse(w).is_some() => Ok(()),
        (Op::Within | Op::Upcoming, _) => Err(invalid(&here, "a window such as \"30d\", \"12h\" or \"4w\"")),
        (_, Some(v)) if scalar(v) => Ok(()),
        (_, _) => Err(invalid(&here, format!("{} takes a text, a number, true or false", op.as_str()))),
    }
}
