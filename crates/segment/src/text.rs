//! The text form: reading ([`parse`]; `write.rs` writes it).
//!
//! ```text
//! condition := and ("or" and)*
//! and       := unary ("and" unary)*
//! unary     := "not" unary | "(" condition ")" | "everyone" | "nobody" | performed | trait
//! performed := "performed" STRING [cmp NUMBER] ["within" WINDOW] ["where" test ("," test)*]
//! trait     := ["trait"] KEY test-tail          (KEY: a word, or a string after "trait")
//! test-tail := "exists" | op VALUE | "in" "[" VALUE ("," VALUE)* "]" | "contains" VALUE
//! op        := "=" | "!=" | ">" | ">=" | "<" | "<="
//! VALUE     := STRING | NUMBER | "true" | "false"     WINDOW := 30d | 12h | 4w
//! ```
//!
//! Strings are JSON strings (`"鞋"`, `"say \"hi\""`). "and" binds tighter
//! than "or"; a `where` list is separated by commas, so an "and" after it
//! joins the next condition.

use crate::ast::{Cmp, Condition, Count, Op, Performed, PropertyFilter, TraitCondition, Window};
use serde_json::Value;
use std::fmt;

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

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Window(Window),
    Sym(&'static str),
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("{w:?}"),
            Tok::Str(s) => format!("the string {s:?}"),
            Tok::Num(n) => format!("the number {n}"),
            Tok::Window(w) => format!("the window {w}"),
            Tok::Sym(s) => format!("{s:?}"),
        }
    }
}

const SYMBOLS: &[&str] = &["!=", ">=", "<=", "=", ">", "<", "(", ")", "[", "]", ","];

pub(crate) fn word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '.'
}

/// The tokens of `text` with their character positions.
fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let err = |at: usize, expected: &str, found: String| ParseError { position: at, expected: expected.into(), found };
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            if i >= chars.len() {
                return Err(err(start, "a closing quote", "the end of the text".into()));
            }
            i += 1;
            let literal: String = chars[start..i].iter().collect();
            let s = serde_json::from_str::<String>(&literal)
                .map_err(|e| err(start, "a string (JSON escapes)", format!("{literal}: {e}")))?;
            out.push((start, Tok::Str(s)));
        } else if c.is_ascii_digit() || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            i += 1;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            if i < chars.len() && matches!(chars[i], 'e' | 'E') {
                let mut j = i + 1;
                if j < chars.len() && matches!(chars[j], '+' | '-') {
                    j += 1;
                }
                if j < chars.len() && chars[j].is_ascii_digit() {
                    i = j;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            let number: String = chars[start..i].iter().collect();
            let unit_end = i + 1;
            if i < chars.len()
                && matches!(chars[i], 'h' | 'd' | 'w')
                && !chars.get(unit_end).is_some_and(|c| word_char(*c))
            {
                let window: String = chars[start..unit_end].iter().collect();
                let w = Window::parse(&window)
                    .ok_or_else(|| err(start, "a window such as 30d, 12h or 4w", window.clone()))?;
                out.push((start, Tok::Window(w)));
                i = unit_end;
            } else if i < chars.len() && word_char(chars[i]) {
                let rest: String = chars[start..].iter().take_while(|c| word_char(**c)).collect();
                return Err(err(start, "a number, or a window such as 30d", format!("{rest:?}")));
            } else {
                if crate::decimal::Decimal::parse(&number).is_none() {
                    return Err(err(start, "a number", number));
                }
                out.push((start, Tok::Num(number)));
            }
        } else if word_char(c) {
            while i < chars.len() && word_char(chars[i]) {
                i += 1;
            }
            out.push((start, Tok::Word(chars[start..i].iter().collect())));
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let sym = SYMBOLS
                .iter()
                .find(|s| rest.starts_with(*s))
                .ok_or_else(|| err(start, "a word, a string, a number, a comparison or a bracket", format!("{c:?}")))?;
            i += sym.chars().count();
            out.push((start, Tok::Sym(sym)));
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    at: usize,
    end: usize,
}

/// Reads a condition in the text form (normalized: `(a and b) and c` is
/// one group of three).
pub fn parse(text: &str) -> Result<Condition, ParseError> {
    let mut p = Parser { toks: lex(text)?, at: 0, end: text.chars().count() };
    let c = p.condition()?;
    match p.peek() {
        None => Ok(c.normalized()),
        Some(_) => Err(p.error("\"and\", \"or\" or the end")),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn error(&self, expected: &str) -> ParseError {
        let (position, found) = match self.toks.get(self.at) {
            Some((pos, tok)) => (*pos, tok.describe()),
            None => (self.end, "the end of the text".into()),
        };
        ParseError { position, expected: expected.into(), found }
    }

    fn word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn sym(&self, s: &str) -> bool {
        matches!(self.peek(), Some(Tok::Sym(x)) if *x == s)
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), ParseError> {
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
        let cmp = [(">=", Cmp::Gte), ("<=", Cmp::Lte), ("=", Cmp::Eq), (">", Cmp::Gt), ("<", Cmp::Lt)]
            .into_iter()
            .find(|(s, _)| self.sym(s));
        if let Some((_, cmp)) = cmp {
            self.at += 1;
            let n = match self.peek() {
                Some(Tok::Num(n)) => n.parse::<u32>().ok(),
                _ => None,
            };
            count = Count { cmp, n: n.ok_or_else(|| self.error("a whole number of times"))? };
            self.at += 1;
        }
        let mut within = None;
        if self.word("within") {
            self.at += 1;
            match self.peek() {
                Some(Tok::Window(w)) => within = Some(*w),
                _ => return Err(self.error("a window such as 30d, 12h or 4w")),
            }
            self.at += 1;
        }
        let mut filters = Vec::new();
        if self.word("where") {
            loop {
                self.at += 1;
                let property = match self.peek().cloned() {
                    Some(Tok::Word(w)) if !KEYWORDS.contains(&w.as_str()) => w,
                    Some(Tok::Str(s)) => s,
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
