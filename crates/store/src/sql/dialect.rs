//! The SQL text that differs between SQLite and PostgreSQL, in one place:
//! callers write `dialect.rows(…)` or `dialect.skip_locked()` instead of
//! matching on the backend. (What differs in how the stores work — the
//! embedded log's files and fsyncs, SQLite's in-process write queue — is
//! not SQL and stays where it is done.)

use super::Dialect;

pub(crate) trait SqlDialect {
    /// The placeholder of the `i`th bound value (1-based).
    fn param(&self, i: usize) -> String;
    /// Locks the rows a `SELECT` read until the transaction ends, where the
    /// backend has row locks (PostgreSQL); SQLite's writers take turns anyway.
    fn for_update(&self) -> &'static str;
    /// `INSERT` for many rows inside a transaction that is rolled back
    /// whole on any error: SQLite's `OR FAIL` spares the statement its undo
    /// journal (a constraint error still ends the transaction's commit).
    fn bulk_insert(&self) -> &'static str;
    /// The same, passing over rows another transaction holds (claims).
    fn skip_locked(&self) -> &'static str;
    /// An integer expression as text, for `||`.
    fn int_as_text(&self, expr: &str) -> String;
    /// Where `needle` is in `haystack`, 0 if nowhere (both text expressions).
    fn position(&self, haystack: &str, needle: &str) -> String;
    /// Whether the JSON text in `column` has the top-level key `param`.
    fn has_key(&self, column: &str, param: &str) -> String;
    /// The select list of one text value: a JSON array with one array of
    /// `columns` per row the statement selects (`[]` for none). A bulk
    /// read of thousands of rows comes back as one value: through the
    /// SQLite driver each row of a result is handed from the database's
    /// thread to the caller's, and those hand-overs cost more than the
    /// reading. Columns must be text or numbers (a blob through [`Self::hex`]).
    fn json_rows(&self, columns: &str) -> String;
    /// A blob expression as hexadecimal text.
    fn hex(&self, expr: &str) -> String;
    /// The smaller (`least`) or larger of two values: SQLite's two-argument
    /// `min`/`max`, PostgreSQL's `LEAST`/`GREATEST`.
    fn least(&self, a: &str, b: &str) -> String;
    fn greatest(&self, a: &str, b: &str) -> String;

    /// `($1,$2),($3,$4),…` for `rows` rows of `width` values.
    fn rows(&self, rows: usize, width: usize) -> String {
        let mut s = String::with_capacity(rows * width * 5);
        for r in 0..rows {
            s.push_str(if r == 0 { "(" } else { ",(" });
            for c in 0..width {
                if c > 0 {
                    s.push(',');
                }
                s.push_str(&self.param(r * width + c + 1));
            }
            s.push(')');
        }
        s
    }

    /// `$n+1,…,$n+m`: `m` values bound after `n` others (an `IN (…)` list).
    fn params_from(&self, n: usize, m: usize) -> String {
        (n + 1..=n + m).map(|i| self.param(i)).collect::<Vec<_>>().join(",")
    }
}

impl SqlDialect for Dialect {
    fn param(&self, i: usize) -> String {
        match self {
            // plain `?`: SQLite's by-name lookup of `$n` is linear per
            // parameter, quadratic over a multi-row statement
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${i}"),
        }
    }

    fn bulk_insert(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "INSERT OR FAIL",
            Dialect::Postgres => "INSERT",
        }
    }

    fn for_update(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE",
        }
    }

    fn skip_locked(&self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    fn int_as_text(&self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("{expr}::text"),
        }
    }

    fn position(&self, haystack: &str, needle: &str) -> String {
        match self {
            Dialect::Sqlite => format!("instr({haystack}, {needle})"),
            Dialect::Postgres => format!("strpos({haystack}, {needle})"),
        }
    }

    fn json_rows(&self, columns: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_group_array(json_array({columns}))"),
            Dialect::Postgres => format!("COALESCE(json_agg(json_build_array({columns}))::text, '[]')"),
        }
    }

    fn hex(&self, expr: &str) -> String {
        match self {
            Dialect::Sqlite => format!("hex({expr})"),
            Dialect::Postgres => format!("upper(encode({expr}, 'hex'))"),
        }
    }

    fn least(&self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("min({a}, {b})"),
            Dialect::Postgres => format!("LEAST({a}, {b})"),
        }
    }

    fn greatest(&self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("max({a}, {b})"),
            Dialect::Postgres => format!("GREATEST({a}, {b})"),
        }
    }

    fn has_key(&self, column: &str, param: &str) -> String {
        match self {
            Dialect::Sqlite => format!("EXISTS (SELECT 1 FROM json_each({column}) WHERE key = {param})"),
            Dialect::Postgres => format!("jsonb_exists({column}::jsonb, {param})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_each_backend() {
        assert_eq!(Dialect::Postgres.rows(2, 2), "($1,$2),($3,$4)");
        assert_eq!(Dialect::Sqlite.rows(2, 2), "(?,?),(?,?)");
        assert_eq!(Dialect::Postgres.params_from(2, 3), "$3,$4,$5");
        assert_eq!(Dialect::Sqlite.params_from(2, 3), "?,?,?");
    }
}
