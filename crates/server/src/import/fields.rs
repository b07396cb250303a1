//! From a file's rows to what the API takes: column mapping (`map`,
//! presets), value checks with the line and column of each problem, and the
//! order, customer or event each row (or run of rows) makes.

use super::source::{BadLine, Row};
use beacon_core::money::parse_minor;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Orders,
    Customers,
    Events,
    Products,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "orders" => Some(Kind::Orders),
            "customers" => Some(Kind::Customers),
            "events" => Some(Kind::Events),
            "products" => Some(Kind::Products),
            _ => None,
        }
    }

    pub fn noun(self) -> &'static str {
        match self {
            Kind::Orders => "orders",
            Kind::Customers => "customers",
            Kind::Events => "events",
            Kind::Products => "products",
        }
    }

    /// The fields a column may map to (customers and events keep other
    /// columns too: as traits, as properties).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Orders => &ORDER_FIELDS,
            Kind::Customers => &["user_id", "anonymous_id", "email", "phone", "created_at"],
            Kind::Products => beacon_core::catalog::FIELDS,
            Kind::Events => {
                &["type", "event", "name", "user_id", "anonymous_id", "message_id", "timestamp", "email", "phone"]
            }
        }
    }
}

/// Where a column goes, and how its text is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub field: String,
    /// A chrono format for a date column (`%Y%m%d`).
    pub format: Option<String>,
}

/// Column → target. Columns named like a field map to it unless mapped.
#[derive(Debug, Clone, Default)]
pub struct Mapping {
    pub columns: HashMap<String, Target>,
    /// Set on every order that names none (a preset's currency).
    pub currency: Option<String>,
}

impl Mapping {
    /// A named preset.
    pub fn preset(kind: Kind, name: &str) -> Result<Mapping, String> {
        let target = |field: &str, format: Option<&str>| Target { field: field.into(), format: format.map(Into::into) };
        match (kind, name) {
            // CDNOW: every line is one order of `number_of_cds` CDs for `dollar_value` USD
            (Kind::Orders, "cdnow") => Ok(Mapping {
                columns: HashMap::from([
                    ("customer_id".into(), target("user_id", None)),
                    ("date".into(), target("placed_at", Some("%Y%m%d"))),
                    ("number_of_cds".into(), target("quantity", None)),
                    ("dollar_value".into(), target("total", None)),
                ]),
                currency: Some("USD".into()),
            }),
            (_, other) => Err(format!("no preset {other:?} for {}; presets: cdnow (orders)", kind.noun())),
        }
    }

    /// Adds `SOURCE=FIELD[:FORMAT]` (`--map`, `?map=`).
    pub fn add(&mut self, kind: Kind, spec: &str) -> Result<(), String> {
        let (source, rest) =
            spec.split_once('=').ok_or_else(|| format!("map {spec:?}: write SOURCE=FIELD[:FORMAT]"))?;
        let (field, format) = match rest.split_once(':') {
            Some((f, fmt)) => (f, Some(fmt.to_string())),
            None => (rest, None),
        };
        let keeps_others = matches!(kind, Kind::Customers | Kind::Events);
        let known = kind.fields().contains(&field) || keeps_others && field.starts_with(|c: char| c.is_alphabetic());
        if !known {
            return Err(format!(
                "map {spec:?}: {field:?} is not a field of {}: {}",
                kind.noun(),
                kind.fields().join(", ")
            ));
        }
        self.columns.insert(source.trim().to_string(), Target { field: field.to_string(), format });
        Ok(())
    }

    /// Columns of `header` this mapping will not import (orders only keep
    /// their own fields).
    pub fn unused(&self, kind: Kind, header: &[String]) -> Vec<String> {
        if matches!(kind, Kind::Customers | Kind::Events) {
            return Vec::new();
        }
        header
            .iter()
            .filter(|c| !self.columns.contains_key(*c) && !kind.fields().contains(&c.as_str()))
            .cloned()
            .collect()
    }

    /// The raw `order_id` of a row (to drop the rest of an order one of
    /// whose lines is bad).
    pub fn order_id_of(&self, row: &Row) -> Option<String> {
        let column = self
            .columns
            .iter()
            .find(|(_, t)| t.field == "order_id")
            .map(|(c, _)| c.as_str())
            .or_else(|| (!self.columns.contains_key("order_id")).then_some("order_id"))?;
        match row.fields.get(column)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// The row's values under their target fields, read and checked.
    pub fn apply(&self, kind: Kind, row: &Row) -> Result<Map<String, Value>, BadLine> {
        let mut out = Map::new();
        for (column, value) in &row.fields {
            let target = match self.columns.get(column) {
                Some(t) => t.clone(),
                None if kind.fields().contains(&column.as_str()) || matches!(kind, Kind::Customers | Kind::Events) => {
                    Target { field: column.clone(), format: None }
                }
                None => continue,
            };
            let bad = |reason: String| BadLine { line: row.line, column: Some(column.clone()), reason };
            if let Some(v) = check(&target, value).map_err(bad)? {
                out.insert(target.field, v);
            }
        }
        if kind == Kind::Orders
            && let Some(c) = &self.currency
        {
            out.entry("currency").or_insert_with(|| Value::String(c.clone()));
        }
        Ok(out)
    }
}

/// Reads one value for its field: dates to RFC 3339 (UTC), amounts and
/// quantities checked; empty text is absent.
fn check(target: &Target, value: &Value) -> Result<Option<Value>, String> {
    let text = match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        other => return Ok(Some(other.clone())),
    };
    Ok(Some(match target.field.as_str() {
        "placed_at" | "created_at" | "timestamp" => Value::String(time(&text, target.format.as_deref())?),
        "total" | "revenue" | "discount" | "shipping" | "price" => {
            let minor = parse_minor(&text, 4).map_err(|e| e.to_string())?;
            if minor < 0 {
                return Err(format!("{} {text} is negative", target.field));
            }
            Value::String(text)
        }
        "quantity" => match text.parse::<i64>() {
            Ok(q) if q >= 0 => json!(q),
            Ok(_) => return Err(format!("quantity {text} is negative")),
            Err(_) => return Err(format!("quantity {text:?} is not a whole number")),
        },
        _ => match value {
            Value::String(_) => Value::String(text),
            other => other.clone(),
        },
    }))
}

/// A time in `format` (UTC unless the format has an offset), or RFC 3339,
/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC).
fn time(text: &str, format: Option<&str>) -> Result<String, String> {
    let utc = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    if let Some(f) = format {
        if f.contains("%z") || f.contains("%:z") {
            return DateTime::parse_from_str(text, f)
                .map(|t| utc(t.with_timezone(&Utc)))
                .map_err(|_| bad_time(text, f));
        }
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return Ok(utc(t.and_utc()));
        }
        return NaiveDate::parse_from_str(text, f)
            .map(|d| utc(d.and_time(chrono::NaiveTime::MIN).and_utc()))
            .map_err(|_| bad_time(text, f));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(utc(t.with_timezone(&Utc)));
    }
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, f) {
            return Ok(utc(t.and_utc()));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| utc(d.and_time(chrono::NaiveTime::MIN).and_utc())).map_err(
        |_| {
            format!(
                "{text:?} is not a time (RFC 3339, YYYY-MM-DD, or map the column with its format, COLUMN=FIELD:%Y%m%d)"
            )
        },
    )
}

fn bad_time(text: &str, format: &str) -> String {
    format!("{text:?} is not a date in the format {format}")
}

/// One thing to send: an order, a customer or an event, and the lines it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub lines: Vec<u64>,
    pub body: Value,
}

/// Makes items from mapped rows. Consecutive order rows with the same
/// `order_id` are one order (one line each); rows without ids get ids from
/// the file (`file_key`) and the line, so a re-run makes the same ids.
pub struct Builder {
    kind: Kind,
    file_key: String,
    open: Option<(String, Item)>,
    /// An order one of whose lines was bad: its other lines are dropped.
    poisoned: Option<String>,
    /// Lines dropped that way, for the report.
    pub dropped: Vec<u64>,
}

const LINE_FIELDS: &[&str] = &["product_id", "sku", "name", "category", "price", "quantity"];

/// An order row's fields: a recorded order's (`app::records::FIELDS`), its
/// lines as one line per row.
static ORDER_FIELDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    let order = crate::app::records::FIELDS.iter().copied().filter(|f| *f != "products");
    order.chain(LINE_FIELDS.iter().copied()).collect()
});

impl Builder {
    pub fn new(kind: Kind, file_key: &str) -> Self {
        Builder { kind, file_key: file_key.to_string(), open: None, poisoned: None, dropped: Vec::new() }
    }

    /// Adds a row; returns the items it completed.
    pub fn push(&mut self, line: u64, mut f: Map<String, Value>) -> Vec<Item> {
        let derived = format!("imp-{}-{line}", self.file_key);
        match self.kind {
            Kind::Orders => {
                let mut product = Map::new();
                for key in LINE_FIELDS {
                    if let Some(v) = f.remove(*key) {
                        product.insert((*key).into(), v);
                    }
                }
                let id = match f.get("order_id") {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                };
                if id.is_some() && id == self.poisoned {
                    self.dropped.push(line);
                    return Vec::new();
                }
                self.poisoned = None;
                let mut done = Vec::new();
                if let (Some(id), Some((open_id, item))) = (&id, self.open.as_mut())
                    && id == open_id
                {
                    item.lines.push(line);
                    if !product.is_empty()
                        && let Some(Value::Array(products)) = item.body.get_mut("products")
                    {
                        products.push(Value::Object(product));
                    }
                    return done;
                }
                done.extend(self.finish());
                let id = id.unwrap_or(derived);
                f.insert("order_id".into(), Value::String(id.clone()));
                if !product.is_empty() {
                    f.insert("products".into(), json!([product]));
                }
                self.open = Some((id, Item { lines: vec![line], body: Value::Object(f) }));
                done
            }
            Kind::Customers => {
                if let Some(Value::Object(traits)) = f.remove("traits") {
                    for (k, v) in traits {
                        f.entry(k).or_insert(v);
                    }
                }
                let mut msg = json!({"type": "identify", "messageId": derived});
                for (from, to) in [("user_id", "userId"), ("anonymous_id", "anonymousId"), ("created_at", "timestamp")]
                {
                    if let Some(v) = f.remove(from) {
                        msg[to] = v;
                    }
                }
                msg["traits"] = Value::Object(f);
                vec![Item { lines: vec![line], body: msg }]
            }
            Kind::Products => vec![Item { lines: vec![line], body: Value::Object(f) }],
            Kind::Events => {
                let mut msg = Map::new();
                let mut properties = match f.remove("properties") {
                    Some(Value::Object(p)) => p,
                    _ => Map::new(),
                };
                let renames = [("user_id", "userId"), ("anonymous_id", "anonymousId"), ("message_id", "messageId")];
                for (key, value) in f {
                    let key = renames.iter().find(|(from, _)| *from == key).map_or(key, |(_, to)| (*to).to_string());
                    let is_message_field = matches!(
                        key.as_str(),
                        "type"
                            | "event"
                            | "name"
                            | "userId"
                            | "anonymousId"
                            | "messageId"
                            | "timestamp"
                            | "originalTimestamp"
                            | "sentAt"
                            | "context"
                            | "traits"
                            | "integrations"
                            | "category"
                            | "groupId"
                            | "previousId"
                    );
                    if is_message_field {
                        msg.insert(key, value);
                    } else {
                        properties.insert(key, value);
                    }
                }
                if !properties.is_empty() {
                    msg.insert("properties".into(), Value::Object(properties));
                }
                msg.entry("messageId").or_insert(Value::String(derived));
                vec![Item { lines: vec![line], body: Value::Object(msg) }]
            }
        }
    }

    /// A line of order `order_id` was bad: none of the order is imported.
    pub fn reject(&mut self, order_id: Option<String>) {
        let Some(id) = order_id.filter(|_| self.kind == Kind::Orders) else { return };
        if self.open.as_ref().is_some_and(|(open, _)| *open == id)
            && let Some((_, item)) = self.open.take()
        {
            self.dropped.extend(item.lines);
        }
        self.poisoned = Some(id);
    }

    /// The item still open at the end of the file.
    pub fn finish(&mut self) -> Option<Item> {
        self.open.take().map(|(_, item)| item)
    }
}

#[cfg(test)]
#[path = "fields_tests.rs"]
mod tests;
