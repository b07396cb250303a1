//! Time zones at the edges: a fixed offset from UTC, as shops and reports
//! write it (`+08:00`, `-0530`, `Z`).

/// Seconds east of UTC of `+08:00`, `-0530`, `Z` or `UTC`; `None` for
/// anything else (named zones are not offsets) and for an offset that is
/// not a whole quarter hour: none in use is (+05:45 Nepal, +08:45 Eucla),
/// and reports count by the quarter hour.
pub fn parse_utc_offset(tz: &str) -> Option<i32> {
    let tz = tz.trim();
    if tz.eq_ignore_ascii_case("z") || tz.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    let (sign, rest) = match tz.as_bytes().first()? {
        b'+' => (1, &tz[1..]),
        b'-' => (-1, &tz[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
    (h <= 14 && m % 15 == 0 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::parse_utc_offset;

    #[test]
    fn offsets_read_as_seconds_east() {
        assert_eq!(parse_utc_offset("+08:00"), Some(8 * 3600));
        assert_eq!(parse_utc_offset("-0530"), Some(-(5 * 3600 + 30 * 60)));
        assert_eq!(parse_utc_offset("Z"), Some(0));
        assert_eq!(parse_utc_offset("+05:45"), Some(5 * 3600 + 45 * 60));
        for bad in ["08:00", "+8", "+15:00", "+08:60", "", "+0８:00", "CST", "+05:17"] {
            assert_eq!(parse_utc_offset(bad), None, "{bad:?}");
        }
    }
}
