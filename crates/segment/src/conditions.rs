//! The conditions of the text form that begin with their own word
//! (`first performed`, `net_spend`, `bought`, `has`, `tag`, `in segment`,
//! `consent`, `bucket`, `coupons`, `points`), and the small readers they
//! share with `text`.

use crate::ast::{Bought, Cmp, Condition, Count, EventTime, Item, Measure, OrderFigure, Wallet, Window};
use crate::lex::Tok;
use crate::text::{ParseError, Parser};

/// Words that name a computed tag by its value: `value_tier "champions"` is
/// `tag "value:champions"` (the RFM value group), `lifecycle_stage "at_risk"`
/// is `tag "stage:at_risk"`, `cluster "core"` is `tag "cluster:core"`.
pub const SUGAR: [(&str, &str); 3] = [("value_tier", "value:"), ("lifecycle_stage", "stage:"), ("cluster", "cluster:")];

impl Parser {
    /// A comparison of counts, if one is next (taken).
    pub(crate) fn cmp(&mut self) -> Option<Cmp> {
        let cmps = [(">=", Cmp::Gte), ("<=", Cmp::Lte), ("=", Cmp::Eq), (">", Cmp::Gt), ("<", Cmp::Lt)];
        let (_, cmp) = cmps.into_iter().find(|(s, _)| self.sym(s))?;
        self.at += 1;
        Some(cmp)
    }

    pub(crate) fn whole_number(&mut self, what: &str) -> Result<u32, ParseError> {
        let n = match self.peek() {
            Some(Tok::Num(n)) => n.parse::<u32>().ok(),
            _ => None,
        };
        let n = n.ok_or_else(|| self.error(what))?;
        self.at += 1;
        Ok(n)
    }

    pub(crate) fn window(&mut self) -> Result<Window, ParseError> {
        match self.peek() {
            Some(Tok::Window(w)) => {
                let w = *w;
                self.at += 1;
                Ok(w)
            }
            _ => Err(self.error("a window such as 30d, 12h or 4w")),
        }
    }

    fn text(&mut self, what: &str) -> Result<String, ParseError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) if !s.is_empty() => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.error(what)),
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), ParseError> {
        if !self.word(w) {
            return Err(self.error(&format!("{w:?}")));
        }
        self.at += 1;
        Ok(())
    }

    fn optional_window(&mut self) -> Result<Option<Window>, ParseError> {
        if !self.word("within") {
            return Ok(None);
        }
        self.at += 1;
        self.window().map(Some)
    }

    /// The conditions that begin with their own word (not a trait's name).
    /// (`value_tier "champions"` and its kin read as the tag the tags
    /// sweeper keeps for it: [`SUGAR`].)
    pub(crate) fn other_condition(&mut self) -> Result<Option<Condition>, ParseError> {
        let Some(Tok::Word(w)) = self.peek().cloned() else { return Ok(None) };
        let measure = Measure::ALL.into_iter().find(|m| m.as_str() == w);
        let words = ["first", "last", "bought", "has", "tag", "in", "consent", "bucket", "coupons", "points"];
        if !words.contains(&w.as_str()) && !SUGAR.iter().any(|(word, _)| *word == w) && measure.is_none() {
            return Ok(None);
        }
        self.at += 1;
        Ok(Some(match w.as_str() {
            "first" | "last" => {
                self.expect_word("performed")?;
                let event = self.text("the event's name in quotes")?;
                self.expect_word(if w == "first" { "within" } else { "before" })?;
                let within = self.window()?;
                if w == "first" {
                    Condition::FirstPerformed(EventTime { event, within })
                } else {
                    Condition::LastPerformedBefore(EventTime { event, within })
                }
            }
            "bought" => {
                let item = match self.peek() {
                    Some(Tok::Word(k)) if k == "product" || k == "category" || k == "brand" => k.clone(),
                    _ => return Err(self.error("product, category or brand")),
                };
                self.at += 1;
                let name = self.text("a name in quotes")?;
                let item = match item.as_str() {
                    "product" => Item::Product(name),
                    "category" => Item::Category(name),
                    _ => Item::Brand(name),
                };
                Condition::Bought(Bought { item, within: self.optional_window()? })
            }
            "has" => match self.peek().cloned() {
                Some(Tok::Word(kind) | Tok::Str(kind)) => {
                    self.at += 1;
                    Condition::Has(kind)
                }
                _ => return Err(self.error("an identity kind (phone, email, openid…)")),
            },
            "tag" => Condition::Tag(self.text("a tag in quotes")?),
            word if SUGAR.iter().any(|(w, _)| *w == word) => {
                let prefix = SUGAR.iter().find(|(w, _)| *w == word).map_or("", |(_, p)| p);
                Condition::Tag(format!("{prefix}{}", self.text("a name in quotes")?))
            }
            "in" => {
                self.expect_word("segment")?;
                Condition::InSegment(self.text("a segment's id in quotes")?)
            }
            "consent" => Condition::Consent(self.text("a purpose in quotes (\"email\", \"sms\"…)")?),
            "bucket" => {
                let cmp = self.cmp().ok_or_else(|| self.error("a comparison (>=, <=, =, >, <)"))?;
                let n = self.whole_number("a bucket from 0 to 100")?;
                if n > 100 {
                    self.at -= 1;
                    return Err(self.error("a bucket from 0 to 100"));
                }
                Condition::Bucket(Count { cmp, n })
            }
            "coupons" => {
                let promotion = match self.peek().cloned() {
                    Some(Tok::Str(_)) => Some(self.text("a coupon template's id in quotes")?),
                    _ => None,
                };
                let cmp = self
                    .cmp()
                    .ok_or_else(|| self.error("a template's id in quotes, or a comparison (>=, <=, =, >, <)"))?;
                let n = self.whole_number("a whole number of coupons")?;
                Condition::Coupons(Wallet { promotion, count: Count { cmp, n } })
            }
            "points" => {
                let cmp = self.cmp().ok_or_else(|| self.error("a comparison (>=, <=, =, >, <)"))?;
                Condition::Points(Count { cmp, n: self.whole_number("a whole number of points")? })
            }
            _ => {
                let measure = measure.unwrap_or(Measure::OrderCount);
                let cmp = self.cmp().ok_or_else(|| self.error("a comparison (>=, <=, =, >, <)"))?;
                let value = match self.peek() {
                    Some(Tok::Num(n)) if !n.starts_with('-') => n.clone(),
                    _ => return Err(self.error("an amount or a count, not negative")),
                };
                self.at += 1;
                Condition::Orders(OrderFigure { measure, cmp, value, within: self.optional_window()? })
            }
        }))
    }
}
