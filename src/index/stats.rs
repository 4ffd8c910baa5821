//! Time-bucketed counts per sentiment label and summed reach (`hark stats`), computed from
//! fast fields in one pass over the matching documents, without loading stored mentions.

use super::{IndexError, MentionIndex};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::Query;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    Hour,
    Day,
}

impl Interval {
    pub fn seconds(self) -> i64 {
        match self {
            Interval::Hour => 3600,
            Interval::Day => 86_400,
        }
    }

    pub fn floor(self, t: i64) -> i64 {
        t.div_euclid(self.seconds()) * self.seconds()
    }
}

/// One time bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub total: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    /// Mentions in a language without a classifier (label `unscored`).
    pub unscored: u64,
    pub reach: u64,
}

impl Counts {
    fn add(&mut self, code: u64, reach: u64) {
        self.total += 1;
        match code {
            0 => self.negative += 1,
            1 => self.neutral += 1,
            2 => self.positive += 1,
            4 => self.unscored += 1,
            _ => {}
        }
        self.reach = self.reach.saturating_add(reach);
    }

    fn merge(&mut self, o: &Counts) {
        self.total += o.total;
        self.negative += o.negative;
        self.neutral += o.neutral;
        self.positive += o.positive;
        self.unscored += o.unscored;
        self.reach = self.reach.saturating_add(o.reach);
    }

    /// (positive − negative) / scored mentions (unscored ones are left out: their
    /// sentiment is unknown, not neutral), in [-1, 1]; 0 when nothing is scored.
    pub fn net_sentiment(&self) -> f64 {
        let scored = self.total.saturating_sub(self.unscored);
        if scored == 0 {
            0.0
        } else {
            (self.positive as f64 - self.negative as f64) / scored as f64
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Bucket {
    pub start: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub query: Option<String>,
    pub interval: Interval,
    pub since: Option<String>,
    pub until: Option<String>,
    pub buckets: Vec<Bucket>,
    pub totals: Counts,
    pub net_sentiment: f64,
}

struct StatsCollector {
    interval: Interval,
}

struct StatsSegment {
    interval: Interval,
    date: Column<tantivy::DateTime>,
    code: Column<u64>,
    reach: Column<u64>,
    buckets: BTreeMap<i64, Counts>,
}

impl Collector for StatsCollector {
    type Fruit = BTreeMap<i64, Counts>;
    type Child = StatsSegment;

    fn for_segment(
        &self,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<StatsSegment> {
        let ff = reader.fast_fields();
        Ok(StatsSegment {
            interval: self.interval,
            date: ff.date("published_at")?,
            code: ff.u64("sentiment_code")?,
            reach: ff.u64("reach")?,
            buckets: BTreeMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<BTreeMap<i64, Counts>>) -> tantivy::Result<Self::Fruit> {
        let mut out = BTreeMap::new();
        for f in fruits {
            for (k, v) in f {
                out.entry(k).or_insert_with(Counts::default).merge(&v);
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for StatsSegment {
    type Fruit = BTreeMap<i64, Counts>;

    fn collect(&mut self, doc: DocId, _: Score) {
        let Some(t) = self.date.first(doc) else {
            return;
        };
        let key = self.interval.floor(t.into_timestamp_secs());
        let code = self.code.first(doc).unwrap_or(3);
        let reach = self.reach.first(doc).unwrap_or(0);
        self.buckets.entry(key).or_default().add(code, reach);
    }

    fn harvest(self) -> Self::Fruit {
        self.buckets
    }
}

fn ts(secs: i64) -> String {
    crate::mention::format_time(
        &Utc.timestamp_opt(secs, 0)
            .single()
            .expect("valid timestamp"),
    )
}

/// Counts of the documents matching `filter`, bucketed. Empty buckets between `since` and
/// `until` (or between the first and last mention) are included with zeros, so the series
/// can be charted as is.
pub fn stats(
    index: &MentionIndex,
    filter: &dyn Query,
    query_name: Option<&str>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    interval: Interval,
) -> Result<Stats, IndexError> {
    let searcher = index.reader.searcher();
    let found = searcher
        .search(filter, &StatsCollector { interval })
        .map_err(|e| index.tantivy_err(e))?;
    let mut totals = Counts::default();
    for c in found.values() {
        totals.merge(c);
    }
    let first = since
        .map(|s| interval.floor(s.timestamp()))
        .or(found.keys().next().copied());
    // `until` is exclusive: a bucket starting exactly at `until` is empty by construction.
    let last = until
        .map(|u| interval.floor(u.timestamp() - 1))
        .or(found.keys().next_back().copied());
    let mut buckets = Vec::new();
    if let (Some(first), Some(last)) = (first, last) {
        let mut t = first;
        while t <= last && buckets.len() < 100_000 {
            let counts = found.get(&t).cloned().unwrap_or_default();
            buckets.push(Bucket {
                start: ts(t),
                counts,
            });
            t += interval.seconds();
        }
    }
    Ok(Stats {
        query: query_name.map(str::to_string),
        interval,
        since: since.map(|t| crate::mention::format_time(&t)),
        until: until.map(|t| crate::mention::format_time(&t)),
        net_sentiment: totals.net_sentiment(),
        buckets,
        totals,
    })
}
