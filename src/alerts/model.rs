//! The alert every delivery channel renders, and the error every channel returns.
//!
//! An [`Alert`] is one notification about one incident: the same content goes to email
//! ([`super::email`]) and to webhooks ([`super::webhook`]: generic JSON, Slack, Teams,
//! Discord). Channels make ONE delivery attempt and report a [`DeliveryError`] that says
//! whether the caller's durable outbox should try again, and when.
//!
//! Mention fields (`excerpt`, `author`, `url`, `source`) come from the open web and are
//! attacker-controlled: every channel escapes them for its own markup and only ever links
//! `http`/`https` URLs ([`safe_link`]).
use std::time::Duration;

use super::drivers::{Contributor, Driver};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an alert says: the same content for every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique id of this notification (also the base of the idempotency key).
    pub id: String,
    /// Stable id of the incident this notification belongs to (email threading, follow-ups).
    pub incident: String,
    /// new | follow_up | ended | test
    pub update: String,
    pub rule: String,
    /// negative_spike | volume_spike | viral_mention | keyword
    pub kind: String,
    pub query: String,
    pub fired_at: DateTime<Utc>,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Observed and expected (reach-weighted where the kind uses weights) volume, and the
    /// test's tail probability (None for kinds without a test).
    pub observed: f64,
    pub expected: f64,
    pub p_value: Option<f64>,
    pub observed_count: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// The mentions that drive the alert, most reach first (at most 5).
    pub mentions: Vec<AlertMention>,
    pub top_sources: Vec<(String, u64)>,
    pub top_authors: Vec<(String, u64)>,
    /// What the window's mentions are about compared with the baseline: the most
    /// over-represented terms (see `alerts::drivers`).
    #[serde(default)]
    pub drivers: Vec<Driver>,
    /// The source and the author with the largest excess over their baseline share.
    #[serde(default)]
    pub driving_source: Option<Contributor>,
    #[serde(default)]
    pub driving_author: Option<Contributor>,
    /// Link to the same search in hark's web UI, when `[server].public_url` is set.
    pub search_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertMention {
    pub id: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub source: String,
    pub published_at: DateTime<Utc>,
    pub sentiment: String,
    pub score: f64,
    pub reach: u64,
    /// Text excerpt (attacker-controlled: escape everywhere it is rendered).
    pub excerpt: String,
}

/// Why one delivery attempt failed, and whether to try again.
///
/// `retryable` is true for failures that may pass on a later attempt (network errors,
/// timeouts, HTTP 5xx/408/429, SMTP 4xx); `retry_after` is the receiver's own hint
/// (HTTP `Retry-After`) and, when set, is the earliest moment the outbox should retry.
/// `message` never contains the webhook URL (those often embed a secret token) nor
/// any SMTP password.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    pub retryable: bool,
    pub retry_after: Option<Duration>,
    pub message: String,
}

impl DeliveryError {
    /// A failure worth retrying later.
    pub fn retryable(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: true,
            retry_after: None,
            message: message.into(),
        }
    }

    /// A failure that will not pass by retrying (bad address, rejected payload, 5xx SMTP).
    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            retryable: false,
            retry_after: None,
            message: message.into(),
        }
    }
}

impl Alert {
    /// True for a message sent by `hark alerts test` (or the like): never threaded,
    /// marked "[test]" where the channel has a subject.
    pub fn is_test(&self) -> bool {
        self.update == "test"
    }

    /// The alert kind for people: "Negative spike", "Volume spike", "Viral mention",
    /// "Keyword match"; an unknown kind is shown with its underscores as spaces.
    pub fn kind_label(&self) -> String {
        match self.kind.as_str() {
            "negative_spike" => "Negative spike".to_string(),
            "volume_spike" => "Volume spike".to_string(),
            "viral_mention" => "Viral mention".to_string(),
            "keyword" => "Keyword match".to_string(),
            other => {
                let s = other.replace('_', " ");
                let mut chars = s.chars();
                match chars.next() {
                    Some(c) => c.to_uppercase().chain(chars).collect(),
                    None => "Alert".to_string(),
                }
            }
        }
    }

    /// The update for people: "New", "Ongoing", "Ended", "Test".
    pub fn update_label(&self) -> &'static str {
        match self.update.as_str() {
            "new" => "New",
            "follow_up" => "Ongoing",
            "ended" => "Ended",
            "test" => "Test",
            _ => "Update",
        }
    }

    /// What the incident is about, stable across all its notifications:
    /// "Negative spike: acme". Email uses it as the subject of every threaded message.
    pub fn topic(&self) -> String {
        format!("{}: {}", self.kind_label(), one_line(&self.query))
    }

    /// A short human title:
    /// "Negative spike: acme — 42 negative mentions in 1h (expected 6.1)".
    ///
    /// Where the kind weighs mentions by reach (`observed` differs from
    /// `observed_count`), the weighted figure is shown beside the expectation:
    /// "… 42 negative mentions in 1h (weighted 130.2, expected 20.5)".
    /// It may contain a mention's source name, so channels escape it like any text.
    pub fn title(&self) -> String {
        format!("{} — {}", self.topic(), self.summary())
    }

    /// [`Alert::title`] preceded by the update when it is not the first notification:
    /// "Ended: Negative spike: acme — …", "Ongoing: …", "Test: …".
    pub fn headline(&self) -> String {
        match self.update.as_str() {
            "new" => self.title(),
            _ => format!("{}: {}", self.update_label(), self.title()),
        }
    }

    /// The part of the title after the topic: "42 negative mentions in 1h (expected 6.1)",
    /// followed by what they are about when drivers were found:
    /// "… (expected 6.1) — about outage, down, refund".
    pub fn summary(&self) -> String {
        let window = self.window_label();
        let n = self.observed_count;
        let plural = |word: &str| {
            if n == 1 {
                word.to_string()
            } else {
                format!("{word}s")
            }
        };
        let expectation = if self.is_weighted() {
            format!(
                "(weighted {:.1}, expected {:.1})",
                self.observed, self.expected
            )
        } else {
            format!("(expected {:.1})", self.expected)
        };
        let base = match self.kind.as_str() {
            "negative_spike" => {
                format!(
                    "{n} negative {} in {window} {expectation}",
                    plural("mention")
                )
            }
            "volume_spike" => format!("{n} {} in {window} {expectation}", plural("mention")),
            "viral_mention" => match self.mentions.first() {
                Some(m) => format!(
                    "reach {} on {} ({n} {} in {window})",
                    compact_number(m.reach),
                    one_line(&truncate_chars(&m.source, 40)),
                    plural("mention")
                ),
                None => format!("{n} {} in {window} {expectation}", plural("mention")),
            },
            "keyword" => format!("{n} matching {} in {window}", plural("mention")),
            _ => format!("{n} {} in {window} {expectation}", plural("mention")),
        };
        match self.drivers_brief() {
            Some(about) => format!("{base} — about {about}"),
            None => base,
        }
    }

    /// The top three driver terms: "outage, down, refund" (None without drivers).
    pub fn drivers_brief(&self) -> Option<String> {
        (!self.drivers.is_empty()).then(|| {
            self.drivers
                .iter()
                .take(3)
                .map(|d| truncate_chars(&one_line(&d.term), 40))
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// "outage (42 % of mentions), down (35 %), …": every driver with its share of the
    /// window's mentions (None without drivers).
    pub fn drivers_text(&self) -> Option<String> {
        (!self.drivers.is_empty()).then(|| {
            self.drivers
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    format!(
                        "{} ({:.0} %{})",
                        truncate_chars(&one_line(&d.term), 60),
                        d.share * 100.0,
                        if i == 0 { " of mentions" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
    }

    /// "source forum (40 %), author user1 (5 %)": the source and author driving the spike.
    pub fn driven_by_text(&self) -> Option<String> {
        super::drivers::driven_by_text(self.driving_source.as_ref(), self.driving_author.as_ref())
    }

    /// Length of the alert window for people: "1h", "30m", "1d 6h", "1h 30m".
    pub fn window_label(&self) -> String {
        let secs = (self.window_end - self.window_start).num_seconds().max(0);
        duration_label(secs as u64)
    }

    /// "2026-03-01 11:00 – 12:00 UTC (1h)": the window with its length.
    pub fn window_text(&self) -> String {
        let same_day = self.window_start.date_naive() == self.window_end.date_naive();
        let end = if same_day {
            self.window_end.format("%H:%M UTC").to_string()
        } else {
            fmt_time(&self.window_end)
        };
        format!(
            "{} – {end} ({})",
            self.window_start.format("%Y-%m-%d %H:%M"),
            self.window_label()
        )
    }

    /// "42", or "42 (weighted 130.2)" where the kind weighs mentions by reach.
    pub fn observed_text(&self) -> String {
        if self.is_weighted() {
            format!("{} (weighted {:.1})", self.observed_count, self.observed)
        } else {
            self.observed_count.to_string()
        }
    }

    /// True when `observed` is a reach-weighted volume rather than the plain count.
    pub fn is_weighted(&self) -> bool {
        (self.observed - self.observed_count as f64).abs() > 1e-9
    }

    /// "42 negative · 3 neutral · 1 positive".
    pub fn sentiment_text(&self) -> String {
        format!(
            "{} negative · {} neutral · {} positive",
            self.negative, self.neutral, self.positive
        )
    }
}

/// "2026-03-01 11:42 UTC".
pub fn fmt_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A p-value for people: "0.012", "3.2e-9".
pub fn p_value_text(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// "1d 6h", "1h 30m", "45s": the largest two non-zero units.
pub fn duration_label(secs: u64) -> String {
    if secs == 0 {
        return "0s".to_string();
    }
    let units = [(86_400u64, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    let first = units
        .iter()
        .position(|&(size, _)| secs >= size)
        .unwrap_or(3);
    let (size, name) = units[first];
    let mut out = format!("{}{name}", secs / size);
    // A second, adjacent unit when it is not zero ("1h 30m"; never "1d 5s").
    if let Some(&(next, next_name)) = units.get(first + 1) {
        let rest = (secs % size) / next;
        if rest > 0 {
            out.push_str(&format!(" {rest}{next_name}"));
        }
    }
    out
}

/// 950 → "950", 12_300 → "12.3k", 4_500_000 → "4.5M".
pub fn compact_number(n: u64) -> String {
    match n {
        0..=9_999 => n.to_string(),
        10_000..=999_999 => format!("{:.1}k", n as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}B", n as f64 / 1e9),
    }
}

pub use crate::display::{multi_line as clean_text, one_line, safe_link, truncate_chars};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn alert() -> Alert {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        Alert {
            id: "a1".into(),
            incident: "i1".into(),
            update: "new".into(),
            rule: "acme-negative".into(),
            kind: "negative_spike".into(),
            query: "acme".into(),
            fired_at: t,
            window_start: t - chrono::Duration::hours(1),
            window_end: t,
            observed: 42.0,
            expected: 6.1,
            p_value: Some(1e-9),
            observed_count: 42,
            negative: 42,
            neutral: 3,
            positive: 1,
            mentions: vec![],
            top_sources: vec![],
            top_authors: vec![],
            drivers: vec![],
            driving_source: None,
            driving_author: None,
            search_url: None,
        }
    }

    #[test]
    fn title_reads_well() {
        let a = alert();
        assert_eq!(
            a.title(),
            "Negative spike: acme — 42 negative mentions in 1h (expected 6.1)"
        );
        let mut ended = a.clone();
        ended.update = "ended".into();
        assert!(
            ended
                .headline()
                .starts_with("Ended: Negative spike: acme — ")
        );
        let mut weighted = a.clone();
        weighted.observed = 130.25;
        weighted.expected = 20.5;
        assert!(
            weighted
                .title()
                .ends_with("(weighted 130.2, expected 20.5)"),
            "{}",
            weighted.title()
        );
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(duration_label(3600), "1h");
        assert_eq!(duration_label(5400), "1h 30m");
        assert_eq!(duration_label(86_400 + 6 * 3600), "1d 6h");
        assert_eq!(compact_number(12_300), "12.3k");
    }

    #[test]
    fn links() {
        assert!(safe_link("https://example.com/a?b=1&c=2").is_some());
        assert!(safe_link("HTTP://example.com").is_some());
        assert!(safe_link("javascript:alert(1)").is_none());
        assert!(safe_link("https://x.com/\"onmouseover=").is_none());
        assert!(safe_link("data:text/html,hi").is_none());
        assert!(safe_link("https:///path").is_none());
        assert!(safe_link("ééééé").is_none());
        assert!(safe_link("http://é.example/ü").is_some());
        assert!(safe_link("https://").is_none());
    }
}
