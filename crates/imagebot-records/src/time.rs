//! Times of records: Unix seconds, shown and parsed as UTC (RFC 3339), by
//! jiff.

use crate::TriageError;
use jiff::{civil::DateTime, tz::TimeZone, Timestamp};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    Timestamp::now().as_second()
}

/// `2025-06-01T10:22:13Z`. A number outside jiff's years (-9999 to 9999),
/// which only a damaged database could hold, is shown as `@` and the number.
pub fn format(ts: i64) -> String {
    Timestamp::from_second(ts).map_or_else(|_| format!("@{ts}"), |t| t.to_string())
}

/// An age (`30d`, `12h`, `2w`, `90m`), in whole seconds, by the one
/// duration parser of every command ([`crate::duration::parse`]).
pub fn parse_age(s: &str) -> Result<i64, TriageError> {
    crate::duration::parse(s)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .map_err(|_| TriageError::BadAge(s.to_string()))
}

/// A point in time: `YYYY-MM-DD` (UTC midnight), `YYYY-MM-DDTHH:MM[:SS][Z]`
/// (a space may replace the T; with an offset such as `+08:00`, that
/// offset), or an age back from `now` (`7d`).
pub fn parse_since(s: &str, now: i64) -> Result<i64, TriageError> {
    let t = s.trim();
    if t.ends_with(|c: char| c.is_ascii_alphabetic() && c != 'Z' && c != 'z') && !t.contains('-') {
        return parse_age(t)
            .map(|age| now.saturating_sub(age))
            .map_err(|_| TriageError::BadDate(s.to_string()));
    }
    parse_datetime(t).ok_or_else(|| TriageError::BadDate(s.to_string()))
}

/// With an offset (`Z`, `+08:00`) an instant; without one, a UTC date-time.
fn parse_datetime(t: &str) -> Option<i64> {
    if let Ok(ts) = t.parse::<Timestamp>() {
        return Some(ts.as_second());
    }
    let civil: DateTime = t.strip_suffix(['Z', 'z']).unwrap_or(t).parse().ok()?;
    TimeZone::UTC
        .to_timestamp(civil)
        .ok()
        .map(Timestamp::as_second)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format(1_748_773_333), "2025-06-01T10:22:13Z");
        assert_eq!(format(i64::MAX), format!("@{}", i64::MAX));
        for ts in [0, 951_782_400, 1_748_773_333, 4_102_444_799, -86_400] {
            assert_eq!(parse_since(&format(ts), 0).unwrap(), ts);
        }
        assert_eq!(parse_since("2025-06-01", 0).unwrap(), 1_748_736_000);
        assert_eq!(parse_since("2025-06-01Z", 0).unwrap(), 1_748_736_000);
        assert_eq!(parse_since("2025-06-01 10:22", 0).unwrap(), 1_748_773_320);
        assert_eq!(
            parse_since("2025-06-01T10:22:13", 0).unwrap(),
            1_748_773_333
        );
        assert_eq!(
            parse_since("2025-06-01T18:22:13+08:00", 0).unwrap(),
            1_748_773_333
        );
    }

    #[test]
    fn ages_and_relative_dates() {
        assert_eq!(parse_age("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_age("12h").unwrap(), 43_200);
        assert_eq!(parse_age("2w").unwrap(), 14 * 86_400);
        assert_eq!(parse_age("1h 30m").unwrap(), 5400);
        assert_eq!(
            parse_since("7d", 1_000_000).unwrap(),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(parse_age("1.5d").unwrap(), 129_600);
        for bad in ["", "d", "30x", "-1d", "0d", "99999999999999999999d"] {
            assert!(
                matches!(parse_age(bad), Err(TriageError::BadAge(ref v)) if v == bad),
                "{bad}"
            );
        }
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "yesterday",
            "2025-6-1",
            "2025-06-01T25:00",
            "2025-06-01T10:60",
            "2025-06-01 10:22 UTC",
            "",
        ] {
            assert!(
                matches!(parse_since(bad, 0), Err(TriageError::BadDate(ref v)) if v == bad),
                "{bad}"
            );
        }
    }
}
