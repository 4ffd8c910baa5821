//! The report's executive summary and key topics: a few generated sentences with the numbers
//! that matter, and the phrases most characteristic of the period. Deterministic (the same
//! index gives the same words) and local (no external service).
//!
//! Topics use the alerts' spike-explanation code ([`crate::alerts::drivers::explain`]): the
//! period's mentions against a sample of the three periods before it, so a topic is what is
//! *new* in the conversation, not what is always said; the query's own words never count.

use super::locale::{fill, tr};
use super::{Bucket, Kpis, Share};
use crate::alerts::drivers::{Driver, explain};
use crate::mention::{Label, Mention};
use chrono::{DateTime, Datelike, Utc};

/// What [`summarize`] needs.
pub struct Inputs<'a> {
    pub query: &'a str,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub current: &'a Kpis,
    pub previous: &'a Kpis,
    pub series: &'a [Bucket],
    /// "hour" or "day".
    pub interval: &'a str,
    pub share_of_voice: &'a [Share],
    pub alerts: usize,
    /// A sample of the period's mentions and of the history before it.
    pub period: &'a [Mention],
    pub history: &'a [Mention],
    pub query_terms: &'a [Vec<String>],
}

/// The summary sentences and the topics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Insights {
    pub summary: Vec<String>,
    /// Characteristic of the period (vs the history).
    pub topics: Vec<Driver>,
    /// Characteristic of the period's negative mentions (vs the history).
    pub negative_topics: Vec<Driver>,
}

fn pct_change(now: u64, before: u64) -> Option<f64> {
    (before > 0).then(|| (now as f64 - before as f64) * 100.0 / before as f64)
}

fn net(k: &Kpis) -> Option<f64> {
    let scored = k.positive + k.negative + k.neutral;
    (scored > 0).then(|| (k.positive as f64 - k.negative as f64) / scored as f64)
}

fn terms(d: &[Driver], n: usize) -> String {
    d.iter()
        .take(n)
        .map(|t| format!("“{}”", t.term))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Builds the summary and the topics.
pub fn summarize(i: &Inputs) -> Insights {
    let all: Vec<&Mention> = i.period.iter().collect();
    let history: Vec<&Mention> = i.history.iter().collect();
    let by = |label: Label| -> Vec<&Mention> {
        i.period
            .iter()
            .filter(|m| m.sentiment.as_ref().is_some_and(|s| s.label == label))
            .collect()
    };
    let topics = explain(&all, &history, i.query_terms).terms;
    let negative_topics = explain(&by(Label::Negative), &history, i.query_terms).terms;
    let positive_topics = explain(&by(Label::Positive), &all, i.query_terms).terms;

    let c = i.current;
    let mut s = Vec::new();
    let change = match pct_change(c.mentions, i.previous.mentions) {
        Some(p) => fill(
            "{p} % compared with the previous period",
            &[("p", &format!("{p:+.0}"))],
        ),
        None if c.mentions > 0 => tr("none in the previous period").to_string(),
        None => tr("as in the previous period").to_string(),
    };
    s.push(fill(
        "{q} was mentioned {n} times ({change}), with a potential reach of {reach}.",
        &[
            ("q", i.query),
            ("n", &super::html::fmt_int(c.mentions)),
            ("change", &change),
            ("reach", &super::html::fmt_int(c.reach)),
        ],
    ));
    if let Some(n) = net(c) {
        let before = net(i.previous).map_or(String::new(), |p| {
            fill(" (previous period: {p})", &[("p", &format!("{p:+.2}"))])
        });
        let scored = (c.positive + c.negative + c.neutral).max(1) as f64;
        s.push(fill(
            "Net sentiment was {n}{before}: {neg} % of the mentions were negative, {pos} % positive.",
            &[
                ("n", &format!("{n:+.2}")),
                ("before", &before),
                ("neg", &format!("{:.0}", c.negative as f64 * 100.0 / scored)),
                ("pos", &format!("{:.0}", c.positive as f64 * 100.0 / scored)),
            ],
        ));
    }
    // The largest incident: the bucket with the most negative mentions.
    if let Some((k, b)) = i
        .series
        .iter()
        .enumerate()
        .filter(|(_, b)| b.negative > 0)
        .max_by_key(|(k, b)| (b.negative, std::cmp::Reverse(*k)))
    {
        let end = i.series.get(k + 1).map_or(i.until, |n| n.start);
        let negatives: Vec<&Mention> = i
            .period
            .iter()
            .filter(|m| m.published_at >= b.start && m.published_at < end)
            .filter(|m| {
                m.sentiment
                    .as_ref()
                    .is_some_and(|s| s.label == Label::Negative)
            })
            .collect();
        // Against everything else (the history and the rest of the period): what set the
        // incident apart.
        let others: Vec<&Mention> = history
            .iter()
            .copied()
            .chain(
                i.period
                    .iter()
                    .filter(|m| m.published_at < b.start || m.published_at >= end),
            )
            .collect();
        let about = explain(&negatives, &others, i.query_terms).terms;
        let date = super::locale::long_date(b.start.year(), b.start.month(), b.start.day());
        let when = if i.interval == "hour" {
            format!("{date}, {} UTC", b.start.format("%H:00"))
        } else {
            date
        };
        let unit = if i.interval == "hour" {
            tr("hour")
        } else {
            tr("day")
        };
        let mut line = fill(
            "The largest incident was on {when}: {n} negative mentions in one {unit}",
            &[
                ("when", &when),
                ("n", &super::html::fmt_int(b.negative)),
                ("unit", unit),
            ],
        );
        if !about.is_empty() {
            line.push_str(&fill(", about {terms}", &[("terms", &terms(&about, 3))]));
        }
        line.push('.');
        s.push(line);
    }
    if let Some(t) = positive_topics.first() {
        s.push(fill(
            "The top positive theme was “{t}” ({p} % of the positive mentions).",
            &[("t", &t.term), ("p", &format!("{:.0}", t.share * 100.0))],
        ));
    }
    if i.share_of_voice.len() > 1 {
        let total: u64 = i
            .share_of_voice
            .iter()
            .map(|v| v.mentions)
            .sum::<u64>()
            .max(1);
        let parts: Vec<String> = i
            .share_of_voice
            .iter()
            .map(|v| {
                format!(
                    "{} {:.1} %",
                    v.query,
                    v.mentions as f64 * 100.0 / total as f64
                )
            })
            .collect();
        s.push(fill(
            "Share of voice: {list}.",
            &[("list", &parts.join(", "))],
        ));
    }
    if i.alerts == 1 {
        s.push(tr("1 alert was raised in the period.").to_string());
    } else if i.alerts > 1 {
        s.push(fill(
            "{n} alerts were raised in the period.",
            &[("n", &i.alerts.to_string())],
        ));
    }
    Insights {
        summary: s,
        topics,
        negative_topics,
    }
}

/// Ranks negative (or positive) mentions by impact within the period: reach (log-scaled,
/// so one celebrity does not hide everything else) times recency (halving every quarter
/// of the period), so this week's crisis comes before a month-old complaint of similar reach.
pub fn rank_by_impact(
    mut ms: Vec<Mention>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    n: usize,
) -> Vec<Mention> {
    let span = (until - since).num_seconds().max(1) as f64;
    let half_life = span / 4.0;
    let score = |m: &Mention| {
        let reach = m.reach.unwrap_or(0) as f64;
        let eng = &m.engagement;
        let interactions = (eng.likes.unwrap_or(0)
            + eng.shares.unwrap_or(0) * 3
            + eng.comments.unwrap_or(0) * 2) as f64;
        let age = (until - m.published_at).num_seconds().max(0) as f64;
        (1.0 + reach + 10.0 * interactions).ln() * 0.5f64.powf(age / half_life)
    };
    ms.sort_by(|a, b| score(b).total_cmp(&score(a)).then_with(|| a.id.cmp(&b.id)));
    ms.truncate(n);
    ms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::Sentiment;

    fn m(id: &str, text: &str, label: Label, days_ago: i64, reach: u64) -> Mention {
        let until = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        Mention {
            id: id.into(),
            queries: vec!["acme".into()],
            source: "s".into(),
            source_kind: "feed".into(),
            url: None,
            author: None,
            title: None,
            text: text.into(),
            published_at: until - chrono::Duration::days(days_ago) - chrono::Duration::minutes(1),
            fetched_at: None,
            lang: Some("en".into()),
            sentiment: Some(Sentiment {
                label,
                score: 0.0,
                model: "t".into(),
            }),
            engagement: Default::default(),
            reach: Some(reach),
            duplicates: Vec::new(),
            triage: None,
            parent_id: None,
        }
    }

    #[test]
    fn recent_crisis_outranks_an_old_complaint_of_similar_reach() {
        let (since, until) = (
            DateTime::parse_from_rfc3339("2026-11-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
            DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        );
        let old = m("old", "a", Label::Negative, 28, 20_000);
        let new = m("new", "b", Label::Negative, 1, 12_000);
        let ranked = rank_by_impact(vec![old, new], since, until, 2);
        assert_eq!(ranked[0].id, "new");
    }

    #[test]
    fn summary_has_the_numbers_and_the_incident() {
        let until = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let since = until - chrono::Duration::days(3);
        let mut period = Vec::new();
        for i in 0..12 {
            period.push(m(
                &format!("n{i}"),
                "acme outage again, refund now",
                Label::Negative,
                1,
                10,
            ));
        }
        for i in 0..6 {
            period.push(m(
                &format!("p{i}"),
                "acme new app is lovely",
                Label::Positive,
                2,
                10,
            ));
        }
        let history: Vec<Mention> = (0..20)
            .map(|i| {
                m(
                    &format!("h{i}"),
                    "acme store opening hours",
                    Label::Neutral,
                    5,
                    1,
                )
            })
            .collect();
        let series = vec![
            Bucket {
                start: since,
                negative: 0,
                neutral: 0,
                positive: 6,
                reach: 60,
            },
            Bucket {
                start: since + chrono::Duration::days(1),
                negative: 12,
                neutral: 0,
                positive: 0,
                reach: 120,
            },
            Bucket {
                start: since + chrono::Duration::days(2),
                negative: 0,
                neutral: 0,
                positive: 0,
                reach: 0,
            },
        ];
        let current = Kpis {
            mentions: 18,
            reach: 180,
            negative: 12,
            neutral: 0,
            positive: 6,
            unscored: 0,
        };
        let previous = Kpis {
            mentions: 12,
            reach: 100,
            negative: 1,
            neutral: 10,
            positive: 1,
            unscored: 0,
        };
        let sov = [
            Share {
                query: "acme".into(),
                mentions: 18,
                reach: 180,
                net_sentiment: -0.3,
            },
            Share {
                query: "globex".into(),
                mentions: 6,
                reach: 60,
                net_sentiment: 0.1,
            },
        ];
        let i = summarize(&Inputs {
            query: "acme",
            since,
            until,
            current: &current,
            previous: &previous,
            series: &series,
            interval: "day",
            share_of_voice: &sov,
            alerts: 1,
            period: &period,
            history: &history,
            query_terms: &[vec!["acme".into()]],
        });
        let text = i.summary.join(" ");
        assert!(
            text.contains("acme was mentioned 18 times (+50 % compared with the previous period)"),
            "{text}"
        );
        assert!(
            text.contains("Net sentiment was -0.33 (previous period: +0.00)"),
            "{text}"
        );
        assert!(
            text.contains(
                "The largest incident was on Nov 29, 2026: 12 negative mentions in one day, about"
            ),
            "{text}"
        );
        assert!(text.contains("outage"), "{text}");
        assert!(
            text.contains("Share of voice: acme 75.0 %, globex 25.0 %."),
            "{text}"
        );
        assert!(text.contains("1 alert was raised"), "{text}");
        assert!(
            i.topics.iter().any(|t| t.term.contains("outage")),
            "{:?}",
            i.topics
        );
        assert!(i.negative_topics.iter().all(|t| !t.term.contains("acme")));
    }
}
