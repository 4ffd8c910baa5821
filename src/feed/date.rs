//! Feed dates as publishers write them: RFC 822 with the usual mistakes (no weekday, a
//! wrong weekday, two-digit years, named or missing zones, `GMT+2`), W3C/ISO 8601 with
//! missing parts (`2003-12-31`, `2003-12-31T10:14Z`, a space for `T`, no zone = UTC).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// The instant a feed date names, or None when it cannot be read (the caller uses the
/// fetch time).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let t = read(s)?;
    // A year outside 1000..=9999 is a typo or an attack, not a publication date.
    (1000..=9999).contains(&t.year()).then_some(t)
}

fn read(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    if s.as_bytes()[0].is_ascii_digit()
        && s.len() >= 4
        && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
    {
        return iso8601(s);
    }
    rfc822(s)
}

fn iso8601(s: &str) -> Option<DateTime<Utc>> {
    let (date, rest) = match s.find(['T', 't', ' ']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let date = match date.len() {
        4 => NaiveDate::from_ymd_opt(date.parse().ok()?, 1, 1)?,
        7 => NaiveDate::parse_from_str(&format!("{date}-01"), "%Y-%m-%d").ok()?,
        8 if !date.contains('-') => NaiveDate::parse_from_str(date, "%Y%m%d").ok()?,
        _ => NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
    };
    if rest.is_empty() {
        return Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?));
    }
    let zone_at = rest
        .char_indices()
        .skip(1)
        .find(|(_, c)| matches!(c, 'Z' | 'z' | '+' | '-'))
        .map_or(rest.len(), |(i, _)| i);
    let (time, zone) = (&rest[..zone_at], rest[zone_at..].trim());
    let time = time.trim();
    let time = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .or_else(|_| NaiveTime::parse_from_str(time, "%H%M%S"))
        .ok()?;
    let offset = zone_offset(zone)?;
    offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

/// `Z`, `+02:00`, `+0200`, `-05`, `GMT`, `EST`, ... (empty = UTC).
fn zone_offset(z: &str) -> Option<FixedOffset> {
    let z = z.trim();
    let upper = z.to_ascii_uppercase();
    const NAMED: &[(&str, i32)] = &[
        ("", 0),
        ("Z", 0),
        ("UT", 0),
        ("UTC", 0),
        ("GMT", 0),
        ("EST", -5),
        ("EDT", -4),
        ("CST", -6),
        ("CDT", -5),
        ("MST", -7),
        ("MDT", -6),
        ("PST", -8),
        ("PDT", -7),
        ("CET", 1),
        ("BST", 1),
        ("CEST", 2),
        ("EET", 2),
        ("MSK", 3),
    ];
    let hours = match NAMED.iter().find(|(n, _)| *n == upper) {
        Some((_, h)) => *h,
        _ => {
            let rest = upper
                .strip_prefix("GMT")
                .or_else(|| upper.strip_prefix("UTC"))
                .unwrap_or(&upper);
            let (sign, digits) = match rest.as_bytes().first()? {
                b'+' => (1, &rest[1..]),
                b'-' => (-1, &rest[1..]),
                _ => return None,
            };
            let digits: String = digits.chars().filter(|c| *c != ':').collect();
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let (h, m) = match digits.len() {
                1 | 2 => (digits.parse::<i32>().ok()?, 0),
                3 => (
                    digits[..1].parse::<i32>().ok()?,
                    digits[1..].parse::<i32>().ok()?,
                ),
                4 => (
                    digits[..2].parse::<i32>().ok()?,
                    digits[2..].parse::<i32>().ok()?,
                ),
                _ => return None,
            };
            return FixedOffset::east_opt(sign * (h * 3600 + m * 60));
        }
    };
    FixedOffset::east_opt(hours * 3600)
}

/// RFC 822 without its strictness: optional (and unchecked) weekday, day and month in
/// either order, 2- or 4-digit year, optional seconds, any zone [`zone_offset`] knows.
fn rfc822(s: &str) -> Option<DateTime<Utc>> {
    let cleaned = s.replace(',', " ");
    let mut parts: Vec<&str> = cleaned.split_whitespace().collect();
    if parts
        .first()
        .is_some_and(|p| p.chars().all(|c| c.is_ascii_alphabetic()) && month(p).is_none())
    {
        parts.remove(0);
    }
    if parts.len() < 3 {
        return None;
    }
    let (day, mon) = match (
        parts[0].parse::<u32>().ok(),
        month(parts[1]),
        month(parts[0]),
    ) {
        (Some(d), Some(m), _) => (d, m),
        (None, _, Some(m)) => (parts[1].parse().ok()?, m),
        _ => return None,
    };
    let mut year: i32 = parts[2].parse().ok()?;
    if parts[2].len() == 2 {
        year += if year < 70 { 2000 } else { 1900 };
    }
    let date = NaiveDate::from_ymd_opt(year, mon, day)?;
    let time = parts.get(3).and_then(|t| {
        NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
            .ok()
    });
    let time = time.unwrap_or(NaiveTime::MIN);
    let zone = parts.get(4).copied().unwrap_or("");
    let offset = zone_offset(zone).unwrap_or(FixedOffset::east_opt(0)?);
    offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
        .map(|t| t.with_timezone(&Utc))
}

fn month(s: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let l = s.get(..3)?.to_ascii_lowercase();
    MONTHS.iter().position(|m| *m == l).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(s: &str) -> String {
        parse(s).map(|t| t.to_rfc3339()).unwrap_or_default()
    }

    #[test]
    fn publishers_dates() {
        assert_eq!(
            iso("Mon, 06 Sep 2010 00:01:00 +0000"),
            "2010-09-06T00:01:00+00:00"
        );
        assert_eq!(
            iso("Tue, 06 Sep 2010 00:01:00 GMT"),
            "2010-09-06T00:01:00+00:00"
        ); // wrong weekday
        assert_eq!(iso("06 Sep 10 02:01 GMT+2"), "2010-09-06T00:01:00+00:00");
        assert_eq!(iso("Sep 6, 2010 09:00:00 EST"), "2010-09-06T14:00:00+00:00");
        assert_eq!(iso("2003-12-31"), "2003-12-31T00:00:00+00:00");
        assert_eq!(iso("2003-12-31T10:14Z"), "2003-12-31T10:14:00+00:00");
        assert_eq!(
            iso("2003-12-31 10:14:55-05:00"),
            "2003-12-31T15:14:55+00:00"
        );
        assert_eq!(iso("2003-12"), "2003-12-01T00:00:00+00:00");
        assert_eq!(iso("yesterday"), "");
        assert_eq!(iso("99999-01-01"), "");
    }
}
