//! Writing a condition in the text form (`Display`): what `parse` reads
//! back as the same tree (normalized).

use crate::ast::{Condition, Count, Op};
use crate::text::{KEYWORDS, word_char};
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

fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if plain(name) { f.write_str(name) } else { write!(f, "{}", Value::String(name.to_string())) }
}

fn write_test(f: &mut fmt::Formatter<'_>, op: Op, value: Option<&Value>) -> fmt::Result {
    write!(f, " {}", op.as_str())?;
    match value {
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
        }
    }
}
