//! Durations ("5m", "7d") and points in time ("2026-11-26", RFC 3339, "36h" ago) as users
//! write them in configs and on the command line.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::time::Duration;

/// Parses `90s`, `5m`, `1h`, `7d`, `2w`, or combinations such as `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty duration".into());
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut saw_unit = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if c == 'm' && chars.peek() == Some(&'s') {
            chars.next();
            unit = "ms".into();
        }
        if num.is_empty() {
            return Err(format!(
                "invalid duration `{s}`: expected a number before `{unit}`"
            ));
        }
        let n: u64 = num.parse().map_err(|_| format!("invalid duration `{s}`"))?;
        num.clear();
        let ms = match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => {
                return Err(format!(
                    "invalid duration `{s}`: unknown unit `{unit}` (use ms, s, m, h, d or w)"
                ));
            }
        };
        total = total.saturating_add(n.saturating_mul(ms));
        saw_unit = true;
    }
    if !num.is_empty() || !saw_unit {
        return Err(format!(
            "invalid duration `{s}`: missing unit (e.g. `5m`, `1h`, `7d`)"
        ));
    }
    if total > MAX_DURATION_MS {
        return Err(format!("invalid duration `{s}`: longer than 100 years"));
    }
    Ok(Duration::from_millis(total))
}

/// The longest duration accepted anywhere (100 years): every duration hark is given must
/// be usable in date arithmetic without overflowing.
const MAX_DURATION_MS: u64 = 36_525 * 86_400_000;

/// Parses an RFC 3339 timestamp (any offset, converted to UTC), or RFC 2822.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // "2026-11-26 10:00:00" (no zone) is read as UTC.
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    Err(format!(
        "invalid time `{s}`: expected RFC 3339 such as 2026-11-26T10:00:00Z"
    ))
}

/// A WHEN argument: an RFC 3339 time, a date (midnight UTC), or a duration back from `now`.
pub fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")));
    }
    if let Ok(t) = parse_timestamp(s) {
        return Ok(t);
    }
    match parse_duration(s) {
        Ok(d) => chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| format!("invalid time `{s}`: too far back")),
        Err(e) if e.contains("longer than") => Err(format!("invalid time `{s}`: too far back")),
        Err(_) => Err(format!(
            "invalid time `{s}`: expected an RFC 3339 time, a date (2026-11-26) or a duration back from now (7d, 36h)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(
            parse_duration("7d").unwrap(),
            Duration::from_secs(7 * 86400)
        );
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert!(parse_duration("5").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("5y").unwrap_err().contains("unknown unit"));
    }

    /// Regression (hardening #6): `baseline = "99999999w"` and `--since 1000000000d` were
    /// accepted and then overflowed date arithmetic (a panic in alert evaluation, in the
    /// API handler and in the CLI).
    #[test]
    fn absurd_durations_are_errors_not_overflows() {
        assert!(
            parse_duration("99999999w")
                .unwrap_err()
                .contains("100 years")
        );
        assert!(parse_duration("18446744073709551615d").is_err());
        assert!(parse_duration("36500d").is_ok());
        let now = parse_timestamp("2026-11-26T12:00:00Z").unwrap();
        assert!(
            parse_when("1000000000d", now)
                .unwrap_err()
                .contains("too far back")
        );
        assert!(parse_when("99999999999999999999d", now).is_err());
    }

    #[test]
    fn whens() {
        let now = parse_timestamp("2026-11-26T12:00:00Z").unwrap();
        assert_eq!(
            parse_when("36h", now).unwrap(),
            parse_timestamp("2026-11-25T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_when("2026-11-01", now).unwrap(),
            parse_timestamp("2026-11-01T00:00:00Z").unwrap()
        );
        assert_eq!(
            parse_when("2026-11-26T10:00:00+02:00", now).unwrap(),
            parse_timestamp("2026-11-26T08:00:00Z").unwrap()
        );
        assert!(parse_when("yesterday", now).is_err());
    }
}
