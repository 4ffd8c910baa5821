//! Scheduled reports: `[[reports]]` in hark.toml, e-mailed by `hark run` on time.
//!
//! ```toml
//! [[reports]]
//! name = "acme-weekly"
//! query = "acme"                 # or queries = ["acme", "globex"] (the first is the subject)
//! every = "week"                 # day | week | month
//! at = "Mon 08:00"               # day: "08:00"; week: "Mon 08:00"; month: "1 08:00"
//! timezone = "Europe/Paris"      # IANA name; default UTC
//! format = "pdf"                 # pdf | html
//! to = ["client@example.com"]
//! title = "Acme — weekly reputation report"   # optional, as `hark report --title`
//! brand_name = "Agency & Co"     # optional white-label
//! logo = "branding/logo.png"     # optional, relative to hark.toml
//! ```
//!
//! **When**: a report is due when its latest scheduled occurrence has passed and that
//! occurrence has not been sent (a hark started at 08:05 still sends the 08:00 report, once).
//! **What period**: the one that just ended, in the report's time zone — the previous day,
//! the previous Monday-to-Monday week, the previous calendar month — computed from local
//! dates, so a week across a daylight-saving change is 167 or 169 hours, as the calendar says.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::path::PathBuf;

/// How often.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    Week,
    Month,
}

/// A scheduled report, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSchedule {
    pub name: String,
    /// The subject query first, then the ones it is compared with.
    pub queries: Vec<String>,
    pub every: Every,
    /// Weekday (weekly) or day of the month (monthly, clamped to the month's length).
    pub weekday: Weekday,
    pub day_of_month: u32,
    pub time: NaiveTime,
    pub timezone: Tz,
    /// `pdf` or `html`.
    pub format: String,
    pub to: Vec<String>,
    pub title: Option<String>,
    pub brand_name: Option<String>,
    /// Resolved against hark.toml's directory.
    pub logo: Option<PathBuf>,
    /// The report's language (`locale = "fr"`; default en).
    pub locale: super::locale::Locale,
}

/// Why a `[[reports]]` entry cannot be scheduled (said in the words of its keys).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct ScheduleError(pub String);

/// `[[reports]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportScheduleFile {
    pub name: String,
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub queries: Option<Vec<String>>,
    pub every: String,
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub format: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub brand_name: Option<String>,
    #[serde(default)]
    pub logo: Option<PathBuf>,
    #[serde(default)]
    pub locale: Option<String>,
}

fn weekday(s: &str) -> Option<Weekday> {
    let l = s.to_ascii_lowercase();
    Some(match l.get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

impl ReportScheduleFile {
    /// Validates the table; `root` is hark.toml's directory. (Query names are checked by
    /// the config loader, which knows them.)
    pub fn build(&self, root: &std::path::Path) -> Result<ReportSchedule, ScheduleError> {
        let queries = match (&self.query, &self.queries) {
            (Some(q), None) => vec![q.clone()],
            (None, Some(qs)) if !qs.is_empty() => qs.clone(),
            (Some(_), Some(_)) => {
                return Err(ScheduleError("give `query` or `queries`, not both".into()));
            }
            _ => return Err(ScheduleError("`query` (or `queries`) is required".into())),
        };
        let every = match self.every.as_str() {
            "day" => Every::Day,
            "week" => Every::Week,
            "month" => Every::Month,
            other => {
                return Err(ScheduleError(format!(
                    "`every`: `{other}` is not day, week or month"
                )));
            }
        };
        let at = self.at.clone().unwrap_or_else(|| {
            match every {
                Every::Day => "08:00",
                Every::Week => "Mon 08:00",
                Every::Month => "1 08:00",
            }
            .to_string()
        });
        let parts: Vec<&str> = at.split_whitespace().collect();
        let (day_part, time_part) = match (every, parts.as_slice()) {
            (Every::Day, [t]) => (None, *t),
            (Every::Week | Every::Month, [d, t]) => (Some(*d), *t),
            (Every::Week | Every::Month, [t]) => (None, *t),
            _ => {
                return Err(ScheduleError(format!(
                    "`at`: `{at}` is not like \"08:00\", \"Mon 08:00\" or \"1 08:00\""
                )));
            }
        };
        let time = NaiveTime::parse_from_str(time_part, "%H:%M")
            .map_err(|_| ScheduleError(format!("`at`: `{time_part}` is not a time like 08:00")))?;
        let mut wd = Weekday::Mon;
        let mut dom = 1;
        match (every, day_part) {
            (Every::Week, Some(d)) => {
                wd = weekday(d).ok_or_else(|| {
                    ScheduleError(format!("`at`: `{d}` is not a weekday (Mon … Sun)"))
                })?
            }
            (Every::Month, Some(d)) => {
                dom = d
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (1..=31).contains(n))
                    .ok_or_else(|| {
                        ScheduleError(format!("`at`: `{d}` is not a day of the month (1 … 31)"))
                    })?
            }
            _ => {}
        }
        let tz_name = self.timezone.clone().unwrap_or_else(|| "UTC".into());
        let timezone: Tz = tz_name.parse().map_err(|_| {
            ScheduleError(format!(
                "`timezone`: `{tz_name}` is not an IANA time zone (e.g. Europe/Paris)"
            ))
        })?;
        let format = self.format.clone().unwrap_or_else(|| "pdf".into());
        if format != "pdf" && format != "html" {
            return Err(ScheduleError(format!(
                "`format`: `{format}` is not pdf or html"
            )));
        }
        if self.to.is_empty() {
            return Err(ScheduleError("`to`: at least one e-mail address".into()));
        }
        for a in &self.to {
            a.parse::<lettre::message::Mailbox>()
                .map_err(|e| ScheduleError(format!("`to`: `{a}` is not an e-mail address: {e}")))?;
        }
        let locale = match &self.locale {
            None => super::locale::Locale::En,
            Some(l) => super::locale::Locale::parse(l).ok_or_else(|| {
                ScheduleError(format!("`locale`: `{l}` is not en, fr, de, es or ru"))
            })?,
        };
        Ok(ReportSchedule {
            locale,
            name: self.name.clone(),
            queries,
            every,
            weekday: wd,
            day_of_month: dom,
            time,
            timezone,
            format,
            to: self.to.clone(),
            title: self.title.clone(),
            brand_name: self.brand_name.clone(),
            logo: self.logo.as_ref().map(|l| root.join(l)),
        })
    }
}

impl ReportSchedule {
    /// The instant a local date and time names in the report's zone: in a DST gap, the first
    /// instant after it; in a fold, the first of the two.
    fn instant(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        let mut t = date.and_time(time);
        for _ in 0..4 {
            if let Some(i) = self.timezone.from_local_datetime(&t).earliest() {
                return i.with_timezone(&Utc);
            }
            t += Duration::minutes(30);
        }
        Utc.from_utc_datetime(&date.and_time(time))
    }

    fn occurrence_on(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        match self.every {
            Every::Day => Some(self.instant(date, self.time)),
            Every::Week => (date.weekday() == self.weekday).then(|| self.instant(date, self.time)),
            Every::Month => {
                let last = last_day_of_month(date);
                (date.day() == self.day_of_month.min(last)).then(|| self.instant(date, self.time))
            }
        }
    }

    /// The latest scheduled occurrence at or before `now`.
    pub fn latest_occurrence(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let mut date = now.with_timezone(&self.timezone).date_naive();
        // At most a month and a day back.
        for _ in 0..40 {
            if let Some(t) = self.occurrence_on(date)
                && t <= now
            {
                return t;
            }
            date = date.pred_opt().expect("dates far from the limits");
        }
        unreachable!("every schedule occurs within 40 days")
    }

    /// The period a report sent at `occurrence` covers: the day, week (Monday to Monday, or
    /// the seven days before a weekly report on another weekday) or calendar month that
    /// just ended, in local time.
    pub fn period(&self, occurrence: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
        let day = occurrence.with_timezone(&self.timezone).date_naive();
        let midnight = NaiveTime::MIN;
        let (start, end) = match self.every {
            Every::Day => (day - Duration::days(1), day),
            Every::Week => {
                let end = day - Duration::days(day.weekday().num_days_from_monday() as i64);
                let end = if self.weekday == Weekday::Mon {
                    end
                } else {
                    day
                };
                (end - Duration::days(7), end)
            }
            Every::Month => {
                let first = day.with_day(1).expect("day 1 exists");
                let prev = (first - Duration::days(1))
                    .with_day(1)
                    .expect("day 1 exists");
                (prev, first)
            }
        };
        (self.instant(start, midnight), self.instant(end, midnight))
    }
}

fn last_day_of_month(d: NaiveDate) -> u32 {
    let next = if d.month() == 12 {
        NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
    }
    .expect("valid date");
    (next - Duration::days(1)).day()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(every: &str) -> ReportScheduleFile {
        ReportScheduleFile {
            name: "r".into(),
            query: Some("acme".into()),
            queries: None,
            every: every.into(),
            at: None,
            timezone: None,
            format: None,
            to: vec!["a@example.com".into()],
            title: None,
            brand_name: None,
            logo: None,
            locale: None,
        }
    }

    fn sched(every: &str, at: &str, tz: &str) -> ReportSchedule {
        let mut f = file(every);
        f.at = Some(at.into());
        f.timezone = Some(tz.into());
        f.build(std::path::Path::new(".")).unwrap()
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn weekly_occurrence_and_period() {
        let s = sched("week", "Mon 08:00", "Europe/Paris");
        // Wednesday 2026-12-09: the latest occurrence is Monday 7 Dec 08:00 Paris (07:00 UTC).
        assert_eq!(
            s.latest_occurrence(t("2026-12-09T12:00:00Z")),
            t("2026-12-07T07:00:00Z")
        );
        // Started at 08:05 on the Monday: that morning's report is the latest, still due.
        assert_eq!(
            s.latest_occurrence(t("2026-12-07T07:05:00Z")),
            t("2026-12-07T07:00:00Z")
        );
        // At 07:59 Paris it is still last week's.
        assert_eq!(
            s.latest_occurrence(t("2026-12-07T06:59:00Z")),
            t("2026-11-30T07:00:00Z")
        );
        let (a, b) = s.period(t("2026-12-07T07:00:00Z"));
        assert_eq!(
            (a, b),
            (t("2026-11-29T23:00:00Z"), t("2026-12-06T23:00:00Z"))
        );
    }

    #[test]
    fn a_week_across_the_spring_dst_change_is_167_hours() {
        // Europe/Paris moves to summer time on Sunday 29 March 2026.
        let s = sched("week", "Mon 08:00", "Europe/Paris");
        let occ = s.latest_occurrence(t("2026-03-30T10:00:00Z"));
        assert_eq!(occ, t("2026-03-30T06:00:00Z"), "08:00 CEST is 06:00 UTC");
        let (a, b) = s.period(occ);
        assert_eq!(a, t("2026-03-22T23:00:00Z"));
        assert_eq!(b, t("2026-03-29T22:00:00Z"));
        assert_eq!((b - a).num_hours(), 167);
        // And the autumn one, 169 hours (25 October 2026).
        let (a, b) = s.period(s.latest_occurrence(t("2026-10-26T12:00:00Z")));
        assert_eq!((b - a).num_hours(), 169);
    }

    #[test]
    fn a_time_in_the_dst_gap_is_the_first_instant_after_it() {
        // 02:30 does not exist in Paris on 29 March 2026.
        let s = sched("day", "02:30", "Europe/Paris");
        let occ = s.latest_occurrence(t("2026-03-29T12:00:00Z"));
        assert_eq!(occ, t("2026-03-29T01:00:00Z"), "03:00 CEST");
    }

    #[test]
    fn monthly_and_daily() {
        let s = sched("month", "31 09:00", "UTC");
        // February has no 31st: the last day stands in.
        assert_eq!(
            s.latest_occurrence(t("2027-03-01T00:00:00Z")),
            t("2027-02-28T09:00:00Z")
        );
        let (a, b) = s.period(t("2027-02-28T09:00:00Z"));
        assert_eq!(
            (a, b),
            (t("2027-01-01T00:00:00Z"), t("2027-02-01T00:00:00Z"))
        );
        let d = sched("day", "07:30", "America/New_York");
        let occ = d.latest_occurrence(t("2026-12-07T13:00:00Z"));
        assert_eq!(occ, t("2026-12-07T12:30:00Z"));
        assert_eq!(
            d.period(occ),
            (t("2026-12-06T05:00:00Z"), t("2026-12-07T05:00:00Z"))
        );
    }

    #[test]
    fn bad_tables_are_explained() {
        let mut f = file("fortnight");
        let root = std::path::Path::new(".");
        assert!(
            f.build(root)
                .unwrap_err()
                .0
                .contains("not day, week or month")
        );
        f.every = "week".into();
        f.at = Some("Funday 08:00".into());
        assert!(f.build(root).unwrap_err().0.contains("not a weekday"));
        f.at = None;
        f.timezone = Some("Mars/Olympus".into());
        assert!(f.build(root).unwrap_err().0.contains("IANA"));
        f.timezone = None;
        f.to = vec!["not an address".into()];
        assert!(
            f.build(root)
                .unwrap_err()
                .0
                .contains("not an e-mail address")
        );
    }
}
