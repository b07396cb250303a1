//! Exact comparison of decimal numbers written as text (`"129.90"`, `100`,
//! `-0.5`, `1e3`): prices and amounts are compared as the decimals they
//! are, never through binary floating point.

use std::cmp::Ordering;

/// A decimal as digits: `mantissa × 10^-scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Most significant digits read (beyond that the number is refused).
const MAX_DIGITS: usize = 30;

impl Decimal {
    /// A decimal in plain or exponent notation; none for anything else.
    pub fn parse(text: &str) -> Option<Decimal> {
        let s = text.trim();
        let (s, exponent) = match s.find(['e', 'E']) {
            Some(at) => (&s[..at], s[at + 1..].parse::<i32>().ok()?),
            None => (s, 0),
        };
        let (negative, s) = match s.as_bytes().first()? {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
        let digits = || whole.bytes().chain(fraction.bytes());
        if whole.is_empty() && fraction.is_empty() || !digits().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if whole.len() + fraction.len() > MAX_DIGITS || exponent.abs() > 60 {
            return None;
        }
        let mut mantissa: i128 = 0;
        for b in digits() {
            mantissa = mantissa * 10 + i128::from(b - b'0');
        }
        let mut scale = i64::try_from(fraction.len()).ok()? - i64::from(exponent);
        while scale < 0 {
            mantissa = mantissa.checked_mul(10)?;
            scale += 1;
        }
        let scale = u32::try_from(scale).ok()?;
        Some(Decimal { mantissa: if negative { -mantissa } else { mantissa }, scale })
    }

    /// A JSON number or numeric text.
    pub fn of(value: &serde_json::Value) -> Option<Decimal> {
        match value {
            serde_json::Value::Number(n) => Decimal::parse(&n.to_string()),
            serde_json::Value::String(s) => Decimal::parse(s),
            _ => None,
        }
    }

    /// Both at the larger scale, or none when that overflows.
    fn aligned(self, other: Decimal) -> Option<(i128, i128)> {
        let scale = self.scale.max(other.scale);
        let up = |d: Decimal| d.mantissa.checked_mul(10i128.checked_pow(scale - d.scale)?);
        Some((up(self)?, up(other)?))
    }

    pub fn from_int(n: i128) -> Decimal {
        Decimal { mantissa: n, scale: 0 }
    }

    /// The sum, or none when it overflows.
    pub fn add(self, other: Decimal) -> Option<Decimal> {
        let (a, b) = self.aligned(other)?;
        Some(Decimal { mantissa: a.checked_add(b)?, scale: self.scale.max(other.scale) })
    }

    /// Times a whole number, or none when it overflows.
    pub fn times(self, n: i128) -> Option<Decimal> {
        Some(Decimal { mantissa: self.mantissa.checked_mul(n)?, scale: self.scale })
    }

    /// `self ÷ n` to `places` decimal places, rounded toward zero (for
    /// showing an average, never for deciding).
    pub fn divided(self, n: i128, places: u32) -> Decimal {
        let scaled = if places >= self.scale {
            self.mantissa.saturating_mul(10i128.saturating_pow(places - self.scale))
        } else {
            self.mantissa / 10i128.pow(self.scale - places)
        };
        Decimal { mantissa: if n == 0 { 0 } else { scaled / n }, scale: places }
    }

    pub fn compare(self, other: Decimal) -> Option<Ordering> {
        self.aligned(other).map(|(a, b)| a.cmp(&b))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let digits = self.mantissa.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let digits = format!("{digits:0>width$}", width = scale + 1);
        let (whole, fraction) = digits.split_at(digits.len() - scale);
        write!(f, "{sign}{whole}.{fraction}")
    }
}

#[cfg(test)]
mod tests {
    use super::Decimal;
    use std::cmp::Ordering::*;

    fn cmp(a: &str, b: &str) -> Option<std::cmp::Ordering> {
        Decimal::parse(a)?.compare(Decimal::parse(b)?)
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(cmp("0.1", "0.10"), Some(Equal));
        assert_eq!(cmp("129.90", "129.9"), Some(Equal));
        assert_eq!(cmp("100", "99.999999999999999999"), Some(Greater));
        assert_eq!(cmp("-0.5", "0"), Some(Less));
        assert_eq!(cmp("1e3", "1000.0"), Some(Equal));
        assert_eq!(cmp("2.5E-1", ".25"), Some(Equal));
        // 0.1 + 0.2 is no float here
        assert_eq!(cmp("0.30000000000000004", "0.3"), Some(Greater));
        let d = |s: &str| Decimal::parse(s).expect(s);
        assert_eq!(d("176.01").divided(2, 2).to_string(), "88.00");
        assert_eq!(d("-0.5").to_string(), "-0.5");
        assert_eq!(d("0.05").add(d("1")).map(|x| x.to_string()), Some("1.05".into()));
        assert_eq!(d("1e3").to_string(), "1000");
        assert_eq!(d("7").divided(0, 2).to_string(), "0.00", "no orders: nothing to show, no panic");
        for bad in ["", "-", ".", "1.2.3", "abc", "1e", "１２", "1e999"] {
            assert_eq!(Decimal::parse(bad), None, "{bad:?}");
        }
    }
}
