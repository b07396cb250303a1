//! The text form: reading ([`parse`]; `write.rs` writes it).
//!
//! ```text
//! condition := and ("or" and)*
//! and       := unary ("and" unary)*
//! unary     := "not" unary | "(" condition ")" | "everyone" | "nobody" | performed | trait
//! performed := "performed" STRING [cmp NUMBER] ["within" WINDOW] ["where" test ("," test)*]
//!            | "first" "performed" STRING "within" WINDOW | "last" "performed" STRING "before" WINDOW
//!            | ("order_count" | "net_spend" | "average_order") cmp NUMBER ["within" WINDOW]
//!            | "bought" ("product" | "category" | "brand") STRING ["within" WINDOW]
//!            | "has" WORD | "tag" STRING | "in" "segment" STRING | "consent" STRING | "bucket" cmp NUMBER
//!            | "coupons" [STRING] cmp NUMBER | "points" cmp NUMBER
//! trait     := ["trait"] KEY test-tail          (KEY: a word, or a string after "trait")
//! test-tail := "exists" | op VALUE | "in" "[" VALUE ("," VALUE)* "]" | "contains" VALUE
//!            | "within" WINDOW | "upcoming" WINDOW
//! op        := "=" | "!=" | ">" | ">=" | "<" | "<="
//! VALUE     := STRING | NUMBER | "true" | "false"     WINDOW := 30d | 12h | 4w
//! ```
//!
//! Strings are JSON strings (`"鞋"`, `"say \"hi\""`). "and" binds tighter
//! than "or"; a `where` list is separated by commas, so an "and" after it
//! joins the next condition.

use crate::ast::{Condition, Count, Op, Performed, PropertyFilter, TraitCondition};
use crate::lex::{Tok, lex};
use serde_json::Value;
use std::fmt;

/// Words that begin a condition, join two or stand for a value: a trait
/// with such a name is written `trait "name"`.
pub(crate) const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "performed",
    "within",
    "where",
    "trait",
    "exists",
    "in",
    "contains",
    "true",
    "false",
    "everyone",
    "nobody",
    "first",
    "last",
    "order_count",
    "net_spend",
    "average_order",
    "bought",
    "has",
    "tag",
    "consent",
    "bucket",
    "upcoming",
    "coupons",
    "points",
];

/// Why a text did not read as a condition: where (a character offset from
/// 0), what was expected there, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub position: usize,
    pub expected: String,
    pub found: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: expected {}, found {}", self.position + 1, self.expected, self.found)
    }
}

impl std::error::Error for ParseError {}

pub(crate) struct Parser {
    toks: Vec<(usize, Tok)>,
    pub(crate) at: usize,
    end: usize,
    /// Brackets and `not`s open (bounded: a text is no way to exhaust the stack).
    depth: usize,
}

/// Most brackets and `not`s one inside another.
const MAX_DEPTH: usize = 64;

/// Reads a condition in the text form (normalized: `(a and b) and c` is
/// one group of three).
pub fn parse(text: &str) -> Result<Condition, ParseError> {
    let mut p = Parser { toks: lex(text)?, at: 0, end: text.chars().count(), depth: 0 };
    let c = p.condition()?;
    match p.peek() {
        None => Ok(c.normalized()),
        Some(_) => Err(p.error("\"and\", \"or\" or the end")),
    }
}

impl Parser {
    pub(crate) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    pub(crate) fn error(&self, expected: &str) -> ParseError {
        let (position, found) = match self.toks.get(self.at) {
            Some((pos, tok)) => (*pos, tok.describe()),
            None => (self.end, "the end of the text".into()),
        };
        ParseError { position, expected: expected.into(), found }
    }

    pub(crate) fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    pub(crate) fn sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    pub(crate) fn expect_sym(&mut self, s: &str) -> Result<(), ParseError> {
        if !self.sym(s) {
            return Err(self.error(&format!("{s:?}")));
        }
        self.at += 1;
        Ok(())
    }

    fn condition(&mut self) -> Result<Condition, ParseError> {
        let mut items = vec![self.and()?];
        while self.word("or") {
            self.at += 1;
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Condition::Any(items) })
    }

    fn and(&mut self) -> Result<Condition, ParseError> {
        let mut items = vec![self.unary()?];
        while self.word("and") {
            self.at += 1;
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Condition::All(items) })
    }

    fn unary(&mut self) -> Result<Condition, ParseError> {
        let nests = self.word("not") || self.sym("(");
        if nests {
            if self.depth >= MAX_DEPTH {
                return Err(self.error(&format!("at most {MAX_DEPTH} brackets and nots one inside another")));
            }
            self.depth += 1;
        }
        let c = self.unary_inner();
        if nests {
            self.depth -= 1;
        }
        c
    }

    fn unary_inner(&mut self) -> Result<Condition, ParseError> {
        if self.word("not") {
            self.at += 1;
            return Ok(Condition::Not(Box::new(self.unary()?)));
        }
        if self.sym("(") {
            self.at += 1;
            let c = self.condition()?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        for (w, c) in [("everyone", Condition::All(vec![])), ("nobody", Condition::Any(vec![]))] {
            if self.word(w) {
                self.at += 1;
                return Ok(c);
            }
        }
        if self.word("performed") {
            self.at += 1;
            return self.performed().map(Condition::Performed);
        }
        if let Some(c) = self.other_condition()? {
            return Ok(c);
        }
        let key = if self.word("trait") {
            self.at += 1;
            match self.peek().cloned() {
                Some(Tok::Str(s) | Tok::Word(s)) => s,
                _ => return Err(self.error("a trait's name")),
            }
        } else {
            match self.peek().cloned() {
                Some(Tok::Word(w)) if !KEYWORDS.contains(&w.as_str()) => w,
                _ => return Err(self.error("a condition (performed, not, a trait, or a bracket)")),
            }
        };
        self.at += 1;
        let (op, value) = self.test()?;
        Ok(Condition::Trait(TraitCondition { key, op, value }))
    }

    fn performed(&mut self) -> Result<Performed, ParseError> {
        let event = match self.peek().cloned() {
            Some(Tok::Str(s)) if !s.is_empty() => s,
            _ => return Err(self.error("the event's name in quotes")),
        };
        self.at += 1;
        let mut count = Count::default();
        if let Some(cmp) = self.cmp() {
            count = Count { cmp, n: self.whole_number("a whole number of times")? };
        }
        let mut within = None;
        if self.word("within") {
            self.at += 1;
            within = Some(self.window()?);
        }
        let mut filters = Vec::new();
        if self.word("where") {
            loop {
                self.at += 1;
                let property = match self.peek().cloned() {
                    Some(Tok::Word(w) | Tok::Str(w)) => w,
                    _ => return Err(self.error("a property's name")),
                };
                self.at += 1;
                let (op, value) = self.test()?;
                filters.push(PropertyFilter { property, op, value });
                if !self.sym(",") {
                    break;
                }
            }
        }
        Ok(Performed { event, count, within, filters })
    }

    /// What follows a trait's or property's name: the comparison and value.
    fn test(&mut self) -> Result<(Op, Option<Value>), ParseError> {
        if self.word("exists") {
            self.at += 1;
            return Ok((Op::Exists, None));
        }
        for (w, op) in [("within", Op::Within), ("upcoming", Op::Upcoming)] {
            if self.word(w) {
                self.at += 1;
                let window = self.window()?;
                return Ok((op, Some(Value::String(window.to_string()))));
            }
        }
        if self.word("in") {
            self.at += 1;
            self.expect_sym("[")?;
            let mut list = vec![self.value()?];
            while self.sym(",") {
                self.at += 1;
                list.push(self.value()?);
            }
            self.expect_sym("]")?;
            return Ok((Op::In, Some(Value::Array(list))));
        }
        let op = if self.word("contains") {
            Op::Contains
        } else {
            let ops = [("=", Op::Eq), ("!=", Op::Ne), (">", Op::Gt), (">=", Op::Gte), ("<", Op::Lt), ("<=", Op::Lte)];
            match ops.into_iter().find(|(s, _)| self.sym(s)) {
                Some((_, op)) => op,
                None => return Err(self.error("a comparison (=, !=, >, >=, <, <=, in, contains, exists)")),
            }
        };
        self.at += 1;
        Ok((op, Some(self.value()?)))
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        let v = match self.peek() {
            Some(Tok::Str(s)) => Value::String(s.clone()),
            Some(Tok::Num(n)) => serde_json::from_str::<Value>(n).map_err(|_| self.error("a number"))?,
            Some(Tok::Word(w)) if w == "true" || w == "false" => Value::Bool(w == "true"),
            _ => return Err(self.error("a value (a string in quotes, a number, true or false)")),
        };
        self.at += 1;
        Ok(v)
    }
}
