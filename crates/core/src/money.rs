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

impl Default for Currency {
    fn default() -> Self {
        Currency::CNY
    }
}

impl Currency {
    pub const CNY: Currency = Currency { code: *b"CNY", exponent: 2 };
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// A currency by its ISO-4217 code (any case), with the number of minor
    /// digits ISO gives it (2 unless listed). `None` unless three letters.
    pub fn parse(code: &str) -> Option<Currency> {
        let bytes = code.trim().as_bytes();
        let code: [u8; 3] = bytes.try_into().ok()?;
        if !code.iter().all(u8::is_ascii_alphabetic) {
            return None;
        }
        let code = code.map(|b| b.to_ascii_uppercase());
        const NO_MINOR: &[&[u8; 3]] = &[
            b"BIF", b"CLP", b"DJF", b"GNF", b"ISK", b"JPY", b"KMF", b"KRW", b"PYG", b"RWF", b"UGX", b"UYI", b"VND",
            b"VUV", b"XAF", b"XOF", b"XPF",
        ];
        const THREE_MINOR: &[&[u8; 3]] = &[b"BHD", b"IQD", b"JOD", b"KWD", b"LYD", b"OMR", b"TND"];
        let exponent = if NO_MINOR.contains(&&code) {
            0
        } else if THREE_MINOR.contains(&&code) {
            3
        } else {
            2
        };
        Some(Currency { code, exponent })
    }
}

/// Why a decimal amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("{0:?} is not a decimal number")]
    NotANumber(String),
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// Parses a decimal amount in major units ("129.90", "-3", "1.5e2", or a
/// JSON number's text) into minor units with `exponent` digits, exactly.
/// Digits beyond the currency's precision (a float from a JavaScript client:
/// "0.30000000000000004") are rounded half to even.
pub fn parse_minor(text: &str, exponent: u8) -> Result<i64, AmountError> {
    let bad = || AmountError::NotANumber(text.chars().take(40).collect());
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp10) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], s[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        || !(-400..=400).contains(&exp10)
    {
        return Err(bad());
    }
    // the digits as one integer, and where the decimal point sits
    let digits: Vec<u8> = int.bytes().chain(frac.bytes()).map(|b| b - b'0').collect();
    let point = int.len() as i32 + exp10 + i32::from(exponent);
    let too_large = || AmountError::TooLarge(text.chars().take(40).collect());
    let mut value: i128 = 0;
    for (i, d) in digits.iter().enumerate() {
        if (i as i32) >= point {
            break;
        }
        value = value.checked_mul(10).and_then(|v| v.checked_add(i128::from(*d))).ok_or_else(too_large)?;
        if value > i128::from(i64::MAX) {
            return Err(too_large());
        }
    }
    for _ in digits.len() as i32..point {
        value = value.checked_mul(10).ok_or_else(too_large)?;
        if value > i128::from(i64::MAX) {
            return Err(too_large());
        }
    }
    // half to even on what is cut off
    let rest: &[u8] = if point < 0 { &digits } else { digits.get(point as usize..).unwrap_or(&[]) };
    let first_cut = if point < 0 { 0 } else { rest.first().copied().unwrap_or(0) };
    let beyond = if point < 0 { rest.iter().any(|d| *d > 0) } else { rest.iter().skip(1).any(|d| *d > 0) };
    if point >= 0 && (first_cut > 5 || first_cut == 5 && (beyond || value % 2 == 1)) {
        value += 1;
    }
    let value = i64::try_from(value).map_err(|_| too_large())?;
    Ok(if negative { -value } else { value })
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
    fn amounts_parse_exactly_and_round_half_even() {
        let p = |t: &str| parse_minor(t, 2);
        assert_eq!(p("129.9"), Ok(12990));
        assert_eq!(p("129.90"), Ok(12990));
        assert_eq!(p("0.30000000000000004"), Ok(30));
        assert_eq!(p("-3"), Ok(-300));
        assert_eq!(p("1.5e2"), Ok(15000));
        assert_eq!(p("15E-1"), Ok(150));
        assert_eq!(p(".5"), Ok(50));
        assert_eq!(p("0.125"), Ok(12));
        assert_eq!(p("0.135"), Ok(14));
        assert_eq!(p("0.1250001"), Ok(13));
        assert_eq!(p("0.004"), Ok(0));
        assert_eq!(p("1e-9"), Ok(0));
        assert_eq!(parse_minor("1200", 0), Ok(1200));
        assert_eq!(parse_minor("1.2345", 3), Ok(1234));
        assert_eq!(p("92233720368547758.07"), Ok(i64::MAX));
        assert!(matches!(p("92233720368547758.08"), Err(AmountError::TooLarge(_))));
        assert!(matches!(p("1e300"), Err(AmountError::TooLarge(_))));
        for bad in ["", "-", ".", "abc", "1.2.3", "1e", "1e999", "١٢", "NaN", "12,5"] {
            assert!(matches!(p(bad), Err(AmountError::NotANumber(_))), "{bad:?}");
        }
    }

    #[test]
    fn currencies_know_their_minor_digits() {
        assert_eq!(Currency::parse("usd"), Some(Currency::USD));
        assert_eq!(Currency::parse("JPY").map(|c| c.exponent), Some(0));
        assert_eq!(Currency::parse("KWD").map(|c| c.exponent), Some(3));
        assert_eq!(Currency::parse("US"), None);
        assert_eq!(Currency::parse("U$D"), None);
        assert_eq!(Currency::parse("人民币"), None);
    }

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
