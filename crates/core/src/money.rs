//! Exact money: integer minor units with a currency. Never f64.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount in minor units (fen, cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

/// An ISO-4217 currency code with its number of minor-unit digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Currency {
    pub code: [u8; 3],
    pub exponent: u8,
}

impl Currency {
    pub const CNY: Currency = Currency { code: *b"CNY", exponent: 2 };
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }
}

impl Money {
    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// The amount in major units as an exact decimal string ("12.30").
    pub fn to_decimal_string(&self) -> String {
        let exp = u32::from(self.currency.exponent);
        if exp == 0 {
            return self.minor.to_string();
        }
        let scale = 10i128.pow(exp);
        let v = i128::from(self.minor);
        let sign = if v < 0 { "-" } else { "" };
        let abs = v.abs();
        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = exp as usize)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_are_exact() {
        let m = |minor| Money { minor, currency: Currency::CNY }.to_decimal_string();
        assert_eq!(m(250031563), "2500315.63");
        assert_eq!(m(5), "0.05");
        assert_eq!(m(-120), "-1.20");
        assert_eq!(m(0), "0.00");
        let yen = Money { minor: 1200, currency: Currency { code: *b"JPY", exponent: 0 } };
        assert_eq!(yen.to_decimal_string(), "1200");
    }
}
