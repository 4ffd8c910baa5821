//! Scoring spike alerts against labelled incidents, and loading the labelled volume series the
//! detector is calibrated on (`timestamp,value` CSV rows of 5-minute counts plus a JSON map
//! `series → [[start, end], …]` of incident windows, the Numenta Anomaly Benchmark layout).
//!
//! Used by `benches/volume_eval.rs` and the real-traffic regression test; a brand with its own
//! incident log can score a rule the same way.

use super::engine::Point;
use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use std::collections::BTreeMap;

/// An error in a labelled series or its incident windows.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("line {line}: {message}")]
    Row { line: usize, message: String },
    #[error("incident windows: {0}")]
    Windows(String),
}

/// A labelled incident: an alert anywhere in `[start, end]` catches it.
pub type Incident = (DateTime<Utc>, DateTime<Utc>);

/// One volume series as mentions: each row's `value` mentions spread evenly over its bucket.
#[derive(Debug, Clone)]
pub struct VolumeSeries {
    /// Sorted by time.
    pub points: Vec<Point>,
    /// Start of the first row.
    pub first: DateTime<Utc>,
    /// End of the last row.
    pub last: DateTime<Utc>,
}

/// At most this many mentions are expanded from one series (≈ 2.4 GB of points).
pub const MAX_POINTS: u64 = 100_000_000;

/// Width of one row of a volume series.
pub const ROW_SECONDS: i64 = 300;

/// Parses `timestamp,value` rows (a header line is skipped; times `YYYY-MM-DD HH:MM:SS` UTC or
/// RFC 3339). The `k`-th of `n` mentions of a row starting at `t` is published at
/// `t + (k + ½)·300/n` s, which is also how `scripts/bench_volume.sh` imports them.
pub fn volume_series(csv: &str) -> Result<VolumeSeries, EvalError> {
    let mut points = Vec::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for (i, line) in csv.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let row = |message: String| EvalError::Row {
            line: i + 1,
            message,
        };
        let (ts, v) = line
            .split_once(',')
            .ok_or_else(|| row("expected `timestamp,value`".into()))?;
        let t = NaiveDateTime::parse_from_str(ts.trim(), "%Y-%m-%d %H:%M:%S")
            .map(|t| t.and_utc())
            .or_else(|_| ts.trim().parse::<DateTime<Utc>>())
            .map_err(|e| row(format!("timestamp `{ts}`: {e}")))?
            .timestamp();
        let n: u64 = v
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x >= 0.0 && *x < 1e9)
            .map(|x| x.round() as u64)
            .ok_or_else(|| row(format!("value `{v}` is not a count")))?;
        if points.len() as u64 + n > MAX_POINTS {
            return Err(row(format!(
                "more than {MAX_POINTS} mentions in the series: too large to replay in memory"
            )));
        }
        for k in 0..n {
            points.push(Point {
                t: t + ((k as f64 + 0.5) * ROW_SECONDS as f64 / n as f64) as i64,
                code: 1,
                reach: 0,
            });
        }
        first = first.min(t);
        last = last.max(t + ROW_SECONDS);
    }
    if first > last {
        return Err(EvalError::Row {
            line: 0,
            message: "no rows".into(),
        });
    }
    points.sort_by_key(|q| q.t);
    Ok(VolumeSeries {
        points,
        first: DateTime::from_timestamp(first, 0).unwrap_or_default(),
        last: DateTime::from_timestamp(last, 0).unwrap_or_default(),
    })
}

/// Parses `{"SERIES": [["start", "end"], …], …}` (RFC 3339 times).
pub fn incident_windows(json: &str) -> Result<BTreeMap<String, Vec<Incident>>, EvalError> {
    let raw: BTreeMap<String, Vec<(String, String)>> =
        serde_json::from_str(json).map_err(|e| EvalError::Windows(e.to_string()))?;
    let time = |s: &str| {
        s.parse::<DateTime<Utc>>()
            .map_err(|e| EvalError::Windows(format!("`{s}`: {e}")))
    };
    raw.into_iter()
        .map(|(k, v)| {
            let w = v
                .iter()
                .map(|(a, b)| Ok((time(a)?, time(b)?)))
                .collect::<Result<Vec<_>, EvalError>>()?;
            Ok((k, w))
        })
        .collect()
}

/// How a list of alerts fares against the labelled incidents of one series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Score {
    pub incidents: usize,
    /// Incidents with at least one alert inside their window.
    pub caught: usize,
    /// Alerts inside no incident window, at or after `count_false_from`.
    pub false_alerts: usize,
    /// Per caught incident: from its window start to its first alert.
    pub delays: Vec<Duration>,
}

impl Score {
    pub fn add(&mut self, o: &Score) {
        self.incidents += o.incidents;
        self.caught += o.caught;
        self.false_alerts += o.false_alerts;
        self.delays.extend(&o.delays);
    }

    /// Median of [`Score::delays`] (zero when nothing was caught).
    pub fn median_delay(&self) -> Duration {
        let mut d = self.delays.clone();
        d.sort();
        d.get(d.len() / 2).copied().unwrap_or_else(Duration::zero)
    }
}

/// Scores alerts (their `fired_at` times) against `incidents`. Alerts before
/// `count_false_from` are not counted as false (a detector is learning its baseline there);
/// every incident counts.
pub fn score(
    fired: &[DateTime<Utc>],
    incidents: &[Incident],
    count_false_from: DateTime<Utc>,
) -> Score {
    let mut first: Vec<Option<DateTime<Utc>>> = vec![None; incidents.len()];
    let mut false_alerts = 0;
    for &t in fired {
        match incidents.iter().position(|(a, b)| t >= *a && t <= *b) {
            Some(i) if first[i].is_none_or(|f| t < f) => first[i] = Some(t),
            Some(_) => {}
            None if t >= count_false_from => false_alerts += 1,
            None => {}
        }
    }
    Score {
        incidents: incidents.len(),
        caught: first.iter().flatten().count(),
        false_alerts,
        delays: first
            .iter()
            .zip(incidents)
            .filter_map(|(f, (a, _))| f.map(|f| f - *a))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn rows_become_evenly_spread_mentions() {
        let s = volume_series("timestamp,value\n2015-02-26 21:42:53,2\n2015-02-26 21:47:53,0\n")
            .unwrap();
        let ts: Vec<i64> = s.points.iter().map(|p| p.t - s.first.timestamp()).collect();
        assert_eq!(ts, vec![75, 225]);
        assert_eq!(s.last - s.first, Duration::seconds(600));
        let e = volume_series("timestamp,value\n2015-02-26 21:42:53,many\n").unwrap_err();
        assert_eq!(e.to_string(), "line 2: value `many` is not a count");
        let huge = "timestamp,value\n2015-02-26 21:42:53,1\n2015-02-26 21:47:53,100000000\n";
        let e = volume_series(huge).unwrap_err();
        assert!(e.to_string().starts_with("line 3: more than"), "{e}");
    }

    #[test]
    fn alerts_are_scored_against_windows() {
        let inc = vec![
            (t("2015-03-01T00:00:00Z"), t("2015-03-02T00:00:00Z")),
            (t("2015-03-05T00:00:00Z"), t("2015-03-06T00:00:00Z")),
        ];
        let fired = vec![
            t("2015-02-20T00:00:00Z"), // before counting starts: ignored
            t("2015-03-01T06:00:00Z"),
            t("2015-03-01T03:00:00Z"),
            t("2015-03-03T00:00:00Z"), // false
        ];
        let s = score(&fired, &inc, t("2015-02-25T00:00:00Z"));
        assert_eq!((s.incidents, s.caught, s.false_alerts), (2, 1, 1));
        assert_eq!(s.delays, vec![Duration::hours(3)]);
        let w = incident_windows(r#"{"X": [["2015-03-01T00:00:00Z", "2015-03-02T00:00:00Z"]]}"#)
            .unwrap();
        assert_eq!(w["X"], vec![inc[0]]);
    }
}
