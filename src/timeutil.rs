//! Durations ("5m", "7d") and points in time ("2026-11-26", RFC 3339, "36h" ago) as users
//! write them in configs and on the command line.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use std::time::Duration;

/// A duration or a time a user wrote that hark cannot read; the message names the input and
/// what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("empty duration")]
    Empty,
    #[error("invalid duration `{input}`: expected a number before `{unit}`")]
    NoNumber { input: String, unit: String },
    #[error("invalid duration `{0}`")]
    BadNumber(String),
    #[error("invalid duration `{input}`: unknown unit `{unit}` (use ms, s, m, h, d or w)")]
    UnknownUnit { input: String, unit: String },
    #[error("invalid duration `{0}`: missing unit (e.g. `5m`, `1h`, `7d`)")]
    MissingUnit(String),
    #[error("invalid duration `{0}`: longer than 100 years")]
    TooLong(String),
    #[error("invalid time `{0}`: expected RFC 3339 such as 2026-11-26T10:00:00Z")]
    BadTimestamp(String),
    #[error("invalid time `{0}`: too far back")]
    TooFarBack(String),
    #[error(
        "invalid time `{0}`: expected an RFC 3339 time, a date (2026-11-26) or a duration back from now (7d, 36h)"
    )]
    BadWhen(String),
}

/// Parses `90s`, `5m`, `1h`, `7d`, `2w`, or combinations such as `1h30m`.
pub fn parse_duration(s: &str) -> Result<Duration, TimeError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(TimeError::Empty);
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
            return Err(TimeError::NoNumber {
                input: s.into(),
                unit,
            });
        }
        let n: u64 = num.parse().map_err(|_| TimeError::BadNumber(s.into()))?;
        num.clear();
        let ms = match unit.as_str() {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => {
                return Err(TimeError::UnknownUnit {
                    input: s.into(),
                    unit,
                });
            }
        };
        total = total.saturating_add(n.saturating_mul(ms));
        saw_unit = true;
    }
    if !num.is_empty() || !saw_unit {
        return Err(TimeError::MissingUnit(s.into()));
    }
    if total > MAX_DURATION_MS {
        return Err(TimeError::TooLong(s.into()));
    }
    Ok(Duration::from_millis(total))
}

/// The longest duration accepted anywhere (100 years): every duration hark is given must
/// be usable in date arithmetic without overflowing.
const MAX_DURATION_MS: u64 = 36_525 * 86_400_000;

/// Parses an RFC 3339 timestamp (any offset, converted to UTC), or RFC 2822.
pub fn parse_timestamp(s: &str) -> Result<DateTime<Utc>, TimeError> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Ok(t.with_timezone(&Utc));
    }
    // Meta's Graph API: "2021-07-09T19:09:52+0000" (no colon in the offset).
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Ok(t.with_timezone(&Utc));
    }
    // "2026-11-26 10:00:00" (no zone) is read as UTC.
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(Utc.from_utc_datetime(&t));
    }
    Err(TimeError::BadTimestamp(s.into()))
}

/// A point in time as data carries it: an RFC 3339 / RFC 2822 timestamp or a date
/// (midnight UTC) — the absolute forms `--since` accepts.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, TimeError> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists")));
    }
    parse_timestamp(s)
}

/// A WHEN argument: an RFC 3339 time, a date (midnight UTC), or a duration back from `now`.
pub fn parse_when(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    let s = s.trim();
    if let Ok(t) = parse_instant(s) {
        return Ok(t);
    }
    match parse_duration(s) {
        Ok(d) => chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| TimeError::TooFarBack(s.into())),
        Err(TimeError::TooLong(_)) => Err(TimeError::TooFarBack(s.into())),
        Err(_) => Err(TimeError::BadWhen(s.into())),
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
        assert!(matches!(
            parse_duration("5y"),
            Err(TimeError::UnknownUnit { .. })
        ));
        assert_eq!(
            parse_duration("5y").unwrap_err().to_string(),
            "invalid duration `5y`: unknown unit `y` (use ms, s, m, h, d or w)"
        );
    }

    #[test]
    fn timestamps_in_the_forms_apis_send() {
        let want = "2021-07-09T19:09:52+00:00";
        for s in [
            "2021-07-09T19:09:52Z",
            "2021-07-09T21:09:52+02:00",
            "2021-07-09T19:09:52+0000",
            "2021-07-09T21:09:52.000+0200",
            "2021-07-09T19:09:52",
            "2021-07-09T19:09:52.250",
            "2021-07-09 19:09:52",
            "Fri, 09 Jul 2021 19:09:52 GMT",
        ] {
            let t = parse_timestamp(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            use chrono::Timelike;
            assert_eq!(t.with_nanosecond(0).unwrap().to_rfc3339(), want, "{s}");
        }
        assert!(parse_timestamp("2021-07-09T19:09:52+00").is_err());
    }

    /// Regression (hardening #6): `baseline = "99999999w"` and `--since 1000000000d` were
    /// accepted and then overflowed date arithmetic (a panic in alert evaluation, in the
    /// API handler and in the CLI).
    #[test]
    fn absurd_durations_are_errors_not_overflows() {
        assert!(
            parse_duration("99999999w")
                .unwrap_err()
                .to_string()
                .contains("100 years")
        );
        assert!(parse_duration("18446744073709551615d").is_err());
        assert!(parse_duration("36500d").is_ok());
        let now = parse_timestamp("2026-11-26T12:00:00Z").unwrap();
        assert!(
            parse_when("1000000000d", now)
                .unwrap_err()
                .to_string()
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
