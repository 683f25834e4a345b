//! The one parser of durations, for every flag and command that takes one
//! (`--session-idle 30m`, `--rate-limit 5/10s`, `triage purge --older-than 30d`).
//! The grammar is humantime's (`500ms`, `90s`, `30m`, `1.5h`, `7d`, `2w`,
//! `1h 30m`); here only the range and the wording of the error.

use std::time::Duration;

/// The longest duration accepted: a hundred years.
pub const MAX: Duration = Duration::from_secs(100 * 366 * 86_400);

/// A duration such as `30m`, `90s`, `500ms`, `7d`, `2w` or `1h 30m`: more
/// than zero, at most [`MAX`]. The error names the value and what is accepted.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let d = humantime::parse_duration(s).map_err(|e| {
        format!("`{s}` is not a duration ({e}); use a number and a unit such as 500ms, 90s, 30m, 1h, 7d or 2w")
    })?;
    if d.is_zero() || d > MAX {
        return Err(format!(
            "`{s}` is out of range (more than 0, at most 100 years)"
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms_parse() {
        for (s, secs) in [
            ("500ms", 0.5),
            ("250ms", 0.25),
            ("90s", 90.0),
            ("30m", 1800.0),
            (" 10 min", 600.0),
            ("1h", 3600.0),
            ("1.5h", 5400.0),
            ("1h 30m", 5400.0),
            ("7d", 604_800.0),
            ("2w", 1_209_600.0),
        ] {
            assert_eq!(parse(s), Ok(Duration::from_secs_f64(secs)), "{s}");
        }
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        for bad in [
            "",
            "m",
            "45",
            "-1s",
            "1e9",
            "1..2s",
            "NaN",
            "30x",
            "d",
            "soon",
            "20 fortnight",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(err.contains(&format!("`{}`", bad.trim())), "{err}");
            assert!(err.contains("30m, 1h, 7d or 2w"), "{err}");
        }
        let err = parse("30x").unwrap_err();
        assert!(err.contains("unknown time unit \"x\""), "{err}");
        for out in ["0s", "0ms", "101y", "99999999h"] {
            assert!(parse(out).unwrap_err().contains("out of range"), "{out}");
        }
        assert_eq!(parse("100y"), Ok(Duration::from_secs(3_155_760_000)));
    }
}
