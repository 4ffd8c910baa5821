//! Reputation reports: the data (built by hark from its index) and its renderings.
//! `data` builds it from the index; `html` and `pdf` render it (both self-contained, made in
//! Rust: no browser, no network).

use crate::mention::Mention;
use chrono::{DateTime, Utc};

pub mod data;
mod fonts;
pub mod html;
pub mod insights;
pub mod locale;
pub mod pdf;
pub mod schedule;
pub mod send;

/// Everything a report shows. Numbers are computed by hark from the index with the same
/// code as `hark stats` / `hark search`, so they agree with them.
#[derive(Debug, Clone)]
pub struct ReportData {
    /// `--title` (default "Reputation report: QUERY").
    pub title: String,
    /// `--brand-name`: the agency's name, shown in the header and footer.
    pub brand_name: Option<String>,
    /// `--logo FILE`: (MIME type, bytes), PNG/JPEG/SVG.
    pub logo: Option<(String, Vec<u8>)>,
    pub query: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub generated_at: DateTime<Utc>,
    pub current: Kpis,
    /// The same length of time just before `since`.
    pub previous: Kpis,
    /// Volume by sentiment over time (day buckets, or hours for periods up to 3 days).
    pub series: Vec<Bucket>,
    /// "hour" or "day".
    pub interval: String,
    /// The query and the `--compare` queries, in that order.
    pub share_of_voice: Vec<Share>,
    /// Mentions per source, largest first.
    pub sources: Vec<(String, u64)>,
    /// Up to 5 each, by reach.
    pub top_positive: Vec<Mention>,
    pub top_negative: Vec<Mention>,
    /// Up to 10, by summed reach.
    pub top_authors: Vec<Author>,
    pub alerts: Vec<AlertLine>,
    /// The executive summary and the key topics.
    pub insights: insights::Insights,
    /// The language of the report's own words, dates and numbers.
    pub locale: locale::Locale,
}

impl ReportData {
    /// Mentions over all share-of-voice rows, and the largest row (at least 1, so it can
    /// scale bars): what both renderers need to draw the chart.
    pub fn share_of_voice_scale(&self) -> (u64, u64) {
        let rows = self.share_of_voice.iter().map(|s| s.mentions);
        (rows.clone().sum(), rows.max().unwrap_or(0).max(1))
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Kpis {
    pub mentions: u64,
    pub reach: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// Mentions in a language without a classifier: not part of net sentiment.
    pub unscored: u64,
}

impl Kpis {
    /// (positive − negative) / scored mentions, in [-1, 1]; 0 when nothing is scored (the
    /// same definition as `hark stats`).
    pub fn net_sentiment(&self) -> f64 {
        let scored = self.mentions.saturating_sub(self.unscored);
        if scored == 0 {
            0.0
        } else {
            (self.positive as f64 - self.negative as f64) / scored as f64
        }
    }
    /// Share of a label in [0, 1].
    pub fn share(&self, n: u64) -> f64 {
        if self.mentions == 0 {
            0.0
        } else {
            n as f64 / self.mentions as f64
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    pub start: DateTime<Utc>,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub reach: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Share {
    pub query: String,
    pub mentions: u64,
    pub reach: u64,
    pub net_sentiment: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Author {
    pub name: String,
    pub mentions: u64,
    pub reach: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AlertLine {
    pub fired_at: DateTime<Utc>,
    pub rule: String,
    pub kind: String,
    pub observed: f64,
    pub expected: f64,
    /// Short human summary, e.g. "47 negative mentions in 1h, 6.2 expected".
    pub summary: String,
}
