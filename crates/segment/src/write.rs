//! Writing a condition in the text form (`Display`): what `parse` reads
//! back as the same tree (normalized).

use crate::ast::{Condition, Count, Item, Op};
use crate::lex::word_char;
use crate::text::KEYWORDS;
use serde_json::Value;
use std::fmt;

fn write_value(f: &mut fmt::Formatter<'_>, v: &Value) -> fmt::Result {
    match v {
        Value::Array(items) => {
            f.write_str("[")?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write_value(f, item)?;
            }
            f.write_str("]")
        }
        other => write!(f, "{other}"),
    }
}

/// Whether `name` can be written as a bare word.
fn plain(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(word_char)
        && !KEYWORDS.contains(&name)
}

/// A property's name: any word reads back after `where` or a comma.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let word = !name.is_empty() && name.chars().all(word_char) && !name.starts_with(|c: char| c.is_ascii_digit());
    if word { f.write_str(name) } else { write!(f, "{}", quoted(name)) }
}

fn write_test(f: &mut fmt::Formatter<'_>, op: Op, value: Option<&Value>) -> fmt::Result {
    write!(f, " {}", op.as_str())?;
    match value {
        // a window, as written
        Some(Value::String(w)) if matches!(op, Op::Within | Op::Upcoming) => write!(f, " {w}"),
        Some(v) if op.takes_value() => {
            f.write_str(" ")?;
            write_value(f, v)
        }
        _ => Ok(()),
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = |f: &mut fmt::Formatter<'_>, items: &[Condition], joiner: &str| {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(joiner)?;
                }
                match item {
                    Condition::All(inner) | Condition::Any(inner) if !inner.is_empty() => write!(f, "({item})")?,
                    _ => write!(f, "{item}")?,
                }
            }
            Ok(())
        };
        match self {
            Condition::All(items) if items.is_empty() => f.write_str("everyone"),
            Condition::Any(items) if items.is_empty() => f.write_str("nobody"),
            Condition::All(items) => group(f, items, " and "),
            Condition::Any(items) => group(f, items, " or "),
            Condition::Not(inner) => match inner.as_ref() {
                Condition::All(items) | Condition::Any(items) if !items.is_empty() => write!(f, "not ({inner})"),
                _ => write!(f, "not {inner}"),
            },
            Condition::Trait(t) => {
                if plain(&t.key) {
                    f.write_str(&t.key)?;
                } else {
                    write!(f, "trait {}", Value::String(t.key.clone()))?;
                }
                write_test(f, t.op, t.value.as_ref())
            }
            Condition::Performed(p) => {
                write!(f, "performed {}", Value::String(p.event.clone()))?;
                if p.count != Count::default() {
                    write!(f, " {} {}", p.count.cmp.as_str(), p.count.n)?;
                }
                if let Some(w) = p.within {
                    write!(f, " within {w}")?;
                }
                for (i, filter) in p.filters.iter().enumerate() {
                    f.write_str(if i == 0 { " where " } else { ", " })?;
                    write_name(f, &filter.property)?;
                    write_test(f, filter.op, filter.value.as_ref())?;
                }
                Ok(())
            }
            Condition::FirstPerformed(t) => write!(f, "first performed {} within {}", quoted(&t.event), t.within),
            Condition::LastPerformedBefore(t) => write!(f, "last performed {} before {}", quoted(&t.event), t.within),
            Condition::Orders(o) => {
                write!(f, "{} {} {}", o.measure.as_str(), o.cmp.as_str(), o.value)?;
                o.within.map_or(Ok(()), |w| write!(f, " within {w}"))
            }
            Condition::Bought(b) => {
                let (kind, name) = match &b.item {
                    Item::Product(n) => ("product", n),
                    Item::Category(n) => ("category", n),
                    Item::Brand(n) => ("brand", n),
                };
                write!(f, "bought {kind} {}", quoted(name))?;
                b.within.map_or(Ok(()), |w| write!(f, " within {w}"))
            }
            Condition::Has(kind) if kind.chars().all(word_char) && !kind.is_empty() => write!(f, "has {kind}"),
            Condition::Has(kind) => write!(f, "has {}", quoted(kind)),
            Condition::Tag(tag) => write!(f, "tag {}", quoted(tag)),
            Condition::InSegment(id) => write!(f, "in segment {}", quoted(id)),
            Condition::Consent(purpose) => write!(f, "consent {}", quoted(purpose)),
            Condition::Bucket(c) => write!(f, "bucket {} {}", c.cmp.as_str(), c.n),
            Condition::Coupons(w) => {
                f.write_str("coupons ")?;
                if let Some(p) = &w.promotion {
                    write!(f, "{} ", quoted(p))?;
                }
                write!(f, "{} {}", w.count.cmp.as_str(), w.count.n)
            }
            Condition::Points(c) => write!(f, "points {} {}", c.cmp.as_str(), c.n),
        }
    }
}

fn quoted(text: &str) -> Value {
    Value::String(text.to_string())
}
