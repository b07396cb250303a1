//! The text form's tokens: words, JSON strings, numbers, windows (`30d`)
//! and symbols, each with its character position.

use crate::ast::Window;
use crate::text::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Word(String),
    Str(String),
    Num(String),
    Window(Window),
    Sym(&'static str),
}

impl Tok {
    pub(crate) fn describe(&self) -> String {
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
pub(crate) fn lex(text: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
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
