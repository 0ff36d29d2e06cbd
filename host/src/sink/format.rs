//! How numbers and times look in every sink, so the text line, the JSON object, the CSV row
//! and the database row of one reading agree.

use std::time::{SystemTime, UNIX_EPOCH};

/// `x` with `sig` significant digits: the estimator is good to about 1 %, so printing more
/// digits would claim precision it does not have.
pub fn significant(x: f64, sig: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x:.0}");
    }
    let digits = x.abs().log10().floor() as i32 + 1;
    let decimals = (sig as i32 - digits).max(0) as usize;
    format!("{x:.decimals$}")
}

/// ISO 8601 UTC with milliseconds, e.g. `2026-11-21T08:00:01.250Z`.
pub fn iso_utc(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// Milliseconds since the Unix epoch: the key of a reading in the CSV and the database.
pub fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits() {
        assert_eq!(significant(4.98765, 4), "4.988");
        assert_eq!(significant(95.0123, 4), "95.01");
        assert_eq!(significant(1147.16, 4), "1147");
        assert_eq!(significant(0.2049, 4), "0.2049");
        assert_eq!(significant(0.0, 4), "0");
    }
}
