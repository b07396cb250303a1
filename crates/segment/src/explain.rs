//! Why a profile is in a segment or not: the tree again, each condition
//! with whether it held and, where there is one, the figure it was decided
//! on (how many times an event counted, the order figure) — what the
//! console shows beside a profile, and what a person checks a count by.

use crate::ast::Condition;
use crate::eval::{Facts, matches, times};
use serde::Serialize;

/// One condition's outcome, and its parts' for a group.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explained {
    /// The condition in the text form.
    pub condition: String,
    pub holds: bool,
    /// What it was decided on: `"counted 2"`, `"net_spend 176.00"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub figure: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<Explained>,
}

/// Explains `condition` for the profile `facts` describe.
pub fn explain(condition: &Condition, facts: &Facts<'_>) -> Explained {
    let parts = match condition {
        Condition::All(items) | Condition::Any(items) => items.iter().map(|c| explain(c, facts)).collect(),
        Condition::Not(inner) => vec![explain(inner, facts)],
        _ => Vec::new(),
    };
    let figure = match condition {
        Condition::Performed(p) => Some(format!("counted {}", times(p, facts))),
        Condition::Orders(o) => Some(crate::orders::figure(o, facts)),
        _ => None,
    };
    Explained { condition: condition.to_string(), holds: matches(condition, facts), figure, parts }
}
