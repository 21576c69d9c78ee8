//! UTC timestamps for the run history: how a run's time is written, and how `--since`
//! is read (a date, a date and time, or an age), without a calendar dependency.

use thiserror::Error;

/// A `--since` that is not a date, a date and time, or an age.
#[derive(Debug, Error, PartialEq, Eq)]
#[error(
    "{text:?} is not a time: {why} (give YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS] in UTC, or an age such as 7d, 12h, 30m, 2w)"
)]
pub struct SinceError {
    /// What was given.
    pub text: String,
    /// What is wrong with it.
    pub why: String,
}

/// Seconds since 1970-01-01 00:00 UTC, as `2026-11-24T10:00:00Z` (RFC 3339, UTC).
pub fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Now, in seconds since 1970-01-01 00:00 UTC.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Reads `--since`: `2026-11-24` (midnight UTC), `2026-11-24T10:00`, `2026-11-24 10:00:30`
/// (a trailing `Z` is allowed; every time is UTC), or an age before `now`: `30m`, `12h`,
/// `7d`, `2w`. Returns seconds since 1970-01-01 UTC.
pub fn parse_since(text: &str, now: i64) -> Result<i64, SinceError> {
    let bad = |why: &str| SinceError {
        text: text.to_string(),
        why: why.to_string(),
    };
    let t = text.trim();
    if let Some(unit) = t.chars().last().filter(|c| "mhdw".contains(*c))
        && t.len() > 1
        && t[..t.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        let n: i64 = t[..t.len() - 1].parse().map_err(|_| bad("too large"))?;
        let per = match unit {
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 7 * 86_400,
        };
        return n
            .checked_mul(per)
            .and_then(|s| now.checked_sub(s))
            .ok_or_else(|| bad("too large"));
    }
    let t = t.strip_suffix('Z').unwrap_or(t);
    let (date, time) = match t.split_once(['T', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let field = |s: &str, len: usize, what: &str| -> Result<i64, SinceError> {
        if s.len() != len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(&format!("the {what} must be {len} digits")));
        }
        s.parse().map_err(|_| bad(what))
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts[..] else {
        return Err(bad("the date must be YYYY-MM-DD"));
    };
    let (y, m, d) = (
        field(y, 4, "year")?,
        field(m, 2, "month")?,
        field(d, 2, "day")?,
    );
    if !(1..=12).contains(&m) {
        return Err(bad(&format!("there is no month {m}")));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err(bad(&format!("{y:04}-{m:02} has no day {d}")));
    }
    let mut secs = 0;
    if let Some(time) = time {
        let parts: Vec<&str> = time.split(':').collect();
        let (h, min, s) = match parts[..] {
            [h, min] => (h, min, "00"),
            [h, min, s] => (h, min, s),
            _ => return Err(bad("the time must be HH:MM or HH:MM:SS")),
        };
        let (h, min, s) = (
            field(h, 2, "hour")?,
            field(min, 2, "minute")?,
            field(s, 2, "second")?,
        );
        if h > 23 || min > 59 || s > 59 {
            return Err(bad(&format!("{h:02}:{min:02}:{s:02} is not a time of day")));
        }
        secs = h * 3600 + min * 60 + s;
    }
    Ok(days_from_civil(y, m, d) * 86_400 + secs)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (the inverse of `days_from_civil`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_000_000;

    fn since(text: &str) -> Result<i64, SinceError> {
        parse_since(text, NOW)
    }

    #[test]
    fn dates_and_times_are_utc() {
        let day = since("2026-11-24").unwrap();
        assert_eq!(rfc3339(day), "2026-11-24T00:00:00Z");
        assert_eq!(
            rfc3339(since("2026-11-24T10:00").unwrap()),
            "2026-11-24T10:00:00Z"
        );
        assert_eq!(since("2026-11-24 10:00").unwrap(), day + 36_000);
        assert_eq!(since("2026-11-24T10:00:30Z").unwrap(), day + 36_030);
        assert_eq!(since("1970-01-01").unwrap(), 0);
        assert_eq!(
            rfc3339(since("2024-02-29T23:59:59").unwrap()),
            "2024-02-29T23:59:59Z"
        );
    }

    #[test]
    fn ages_count_back_from_now() {
        assert_eq!(since("7d").unwrap(), NOW - 7 * 86_400);
        assert_eq!(since("12h").unwrap(), NOW - 12 * 3600);
        assert_eq!(since("30m").unwrap(), NOW - 1800);
        assert_eq!(since("2w").unwrap(), NOW - 14 * 86_400);
    }

    #[test]
    fn bad_times_say_what_is_wrong() {
        for (text, why) in [
            ("yesterday", "the date must be YYYY-MM-DD"),
            ("2026-13-01", "there is no month 13"),
            ("2026-02-29", "2026-02 has no day 29"),
            ("2026-11-24T25:00", "25:00:00 is not a time of day"),
            ("2026-11-24T10", "the time must be HH:MM or HH:MM:SS"),
            ("26-11-24", "the year must be 4 digits"),
            ("d", "the date must be YYYY-MM-DD"),
            ("99999999999999999999d", "too large"),
            ("", "the date must be YYYY-MM-DD"),
        ] {
            let err = since(text).unwrap_err();
            assert_eq!(err.why, why, "{text:?}");
            assert!(err.to_string().contains("YYYY-MM-DD"), "{err}");
        }
    }

    #[test]
    fn round_trips_over_centuries() {
        for unix in [0, 59, 951_782_400, 4_102_444_800, NOW] {
            let text = rfc3339(unix);
            assert_eq!(since(&text).unwrap(), unix, "{text}");
        }
    }
}
