//! The one parser of durations, for every flag and command that takes one
//! (`--session-idle 30m`, `--rate-limit 5/10s`, `triage purge --older-than 30d`).

use std::time::Duration;

/// The longest duration accepted: a hundred years.
pub const MAX_SECS: f64 = 100.0 * 366.0 * 86_400.0;

/// A number (decimals allowed) and a unit: `ms`, `s`, `m` or `min`, `h`, `d`,
/// `w`; a bare number is seconds. More than zero, at most [`MAX_SECS`].
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (like 30m, 90s, 250ms, 7d)"))?;
    let scale = match unit.trim() {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 7.0 * 86_400.0,
        u => {
            return Err(format!(
                "unknown unit `{u}` in `{s}` (use ms, s, m, h, d or w)"
            ))
        }
    };
    let secs = n * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > MAX_SECS {
        return Err(format!(
            "`{s}` is out of range (more than 0, at most 100 years)"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_table() {
        for (s, secs) in [
            ("30m", 1800.0),
            ("90s", 90.0),
            ("45", 45.0),
            ("250ms", 0.25),
            ("1.5h", 5400.0),
            ("7d", 604_800.0),
            ("2w", 1_209_600.0),
            (" 10 min", 600.0),
        ] {
            assert_eq!(parse(s), Ok(Duration::from_secs_f64(secs)), "{s}");
        }
        for bad in [
            "",
            "m",
            "0",
            "-1s",
            "1e9",
            "1..2s",
            "99999999h",
            "NaN",
            "30x",
            "d",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
