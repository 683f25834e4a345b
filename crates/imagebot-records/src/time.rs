//! Times of records: Unix seconds, shown and parsed as UTC (RFC 3339),
//! without a date crate.

use crate::TriageError;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, in Unix seconds.
pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = ((mp + 2) % 12 + 1) as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `2025-06-01T10:22:13Z`.
pub fn format(ts: i64) -> String {
    let (y, m, d) = civil_from_days(ts.div_euclid(86_400));
    let s = ts.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// An age (`30d`, `12h`, `2w`, `90m`), in whole seconds, by the one
/// duration parser of every command ([`imagebot_core::duration::parse`]).
pub fn parse_age(s: &str) -> Result<i64, TriageError> {
    imagebot_core::duration::parse(s)
        .map(|d| d.as_secs() as i64)
        .map_err(|_| TriageError::BadAge(s.to_string()))
}

/// A point in time: `YYYY-MM-DD` (UTC midnight), `YYYY-MM-DDTHH:MM[:SS][Z]`
/// (a space may replace the T), or an age back from `now` (`7d`).
pub fn parse_since(s: &str, now: i64) -> Result<i64, TriageError> {
    let t = s.trim();
    if t.ends_with(|c: char| c.is_ascii_alphabetic()) && !t.contains('-') {
        return parse_age(t)
            .map(|age| now.saturating_sub(age))
            .map_err(|_| TriageError::BadDate(s.to_string()));
    }
    parse_datetime(t).ok_or_else(|| TriageError::BadDate(s.to_string()))
}

fn parse_datetime(t: &str) -> Option<i64> {
    let t = t.strip_suffix(['Z', 'z']).unwrap_or(t);
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut parts = date.split('-');
    let y: i64 = num(parts.next()?, 4)?;
    let m: u32 = num(parts.next()?, 2)?.try_into().ok()?;
    let d: u32 = num(parts.next()?, 2)?.try_into().ok()?;
    if parts.next().is_some() || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    let mut secs = 0;
    if let Some(tm) = time {
        let mut f = tm.split(':');
        let h = num(f.next()?, 2)?;
        let mi = num(f.next()?, 2)?;
        let s = match f.next() {
            Some(x) => num(x, 2)?,
            None => 0,
        };
        if f.next().is_some() || h > 23 || mi > 59 || s > 59 {
            return None;
        }
        secs = h * 3600 + mi * 60 + s;
    }
    Some(days_from_civil(y, m, d) * 86_400 + secs)
}

/// A number of exactly `width` ASCII digits.
fn num(s: &str, width: usize) -> Option<i64> {
    if s.len() != width || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse_round_trip() {
        assert_eq!(format(0), "1970-01-01T00:00:00Z");
        assert_eq!(format(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format(1_748_773_333), "2025-06-01T10:22:13Z");
        for ts in [0, 951_782_400, 1_748_773_333, 4_102_444_799, -86_400] {
            assert_eq!(parse_since(&format(ts), 0).unwrap(), ts);
        }
        assert_eq!(parse_since("2025-06-01", 0).unwrap(), 1_748_736_000);
        assert_eq!(parse_since("2025-06-01 10:22", 0).unwrap(), 1_748_773_320);
    }

    #[test]
    fn ages_and_relative_dates() {
        assert_eq!(parse_age("30d").unwrap(), 30 * 86_400);
        assert_eq!(parse_age("12h").unwrap(), 43_200);
        assert_eq!(parse_age("2w").unwrap(), 14 * 86_400);
        assert_eq!(
            parse_since("7d", 1_000_000).unwrap(),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(parse_age("1.5d").unwrap(), 129_600);
        for bad in ["", "d", "30x", "-1d", "99999999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad}");
        }
        for bad in [
            "2025-02-30",
            "2025-13-01",
            "yesterday",
            "2025-6-1",
            "2025-06-01T25:00",
            "",
        ] {
            assert!(parse_since(bad, 0).is_err(), "{bad}");
        }
    }
}
