//! Builds a report's data from the index, with the same code as `hark stats`, `hark search`
//! and the API, so that the numbers agree everywhere.

use super::{AlertLine, Author, Bucket, Kpis, ReportData, Share};
use crate::index::MentionIndex;
use crate::index::analytics::{share_of_voice, top};
use crate::index::search::{SearchRequest, Sort, filter_query, search};
use crate::index::stats::{Interval, stats};
use crate::mention::Label;
use crate::state::StateStore;
use chrono::{DateTime, Utc};

/// What the user asked for.
pub struct ReportRequest {
    pub query: String,
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
    pub compare: Vec<String>,
    pub title: Option<String>,
    pub brand_name: Option<String>,
    pub logo: Option<(String, Vec<u8>)>,
    /// The query's own words (never a topic), as [`crate::query::positive_terms`] gives them.
    pub query_terms: Vec<Vec<String>>,
    /// The language of the report's own words, dates and numbers.
    pub locale: super::locale::Locale,
    /// Query name → how people call it (`display_name` in the query file); names not in
    /// it are shown as they are.
    pub display_names: std::collections::HashMap<String, String>,
}

impl ReportRequest {
    /// How the report names query `q`.
    pub fn display(&self, q: &str) -> String {
        self.display_names
            .get(q)
            .cloned()
            .unwrap_or_else(|| q.to_string())
    }

    /// The display names of a deployment's queries.
    pub fn display_names_of(
        config: &crate::config::Config,
    ) -> std::collections::HashMap<String, String> {
        config
            .queries
            .iter()
            .map(|q| (q.name.clone(), q.display_name.clone()))
            .collect()
    }
}

fn kpis(
    index: &MentionIndex,
    query: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> anyhow::Result<(Kpis, Vec<Bucket>, String)> {
    let req = SearchRequest {
        query: Some(query.to_string()),
        since: Some(since),
        until: Some(until),
        ..Default::default()
    };
    let filter = filter_query(index, &req)?;
    let interval = if until - since <= chrono::Duration::days(3) {
        Interval::Hour
    } else {
        Interval::Day
    };
    let s = stats(
        index,
        &*filter,
        Some(query),
        Some(since),
        Some(until),
        interval,
    )?;
    let t = &s.totals;
    let k = Kpis {
        mentions: t.total,
        reach: t.reach,
        negative: t.negative,
        neutral: t.neutral,
        positive: t.positive,
        unscored: t.unscored,
    };
    let buckets = s
        .buckets
        .iter()
        .filter_map(|b| {
            Some(Bucket {
                start: crate::timeutil::parse_timestamp(&b.start).ok()?,
                negative: b.counts.negative,
                neutral: b.counts.neutral,
                positive: b.counts.positive,
                reach: b.counts.reach,
            })
        })
        .collect();
    let iv = match interval {
        Interval::Hour => "hour",
        Interval::Day => "day",
    };
    Ok((k, buckets, iv.to_string()))
}

pub fn build(
    index: &MentionIndex,
    state: Option<&StateStore>,
    r: &ReportRequest,
) -> anyhow::Result<ReportData> {
    // The summary's sentences and the title are written in the report's language.
    let _locale = super::locale::scope(r.locale);
    let (current, series, interval) = kpis(index, &r.query, r.since, r.until)?;
    let span = r.until - r.since;
    let (previous, _, _) = kpis(index, &r.query, r.since - span, r.since)?;
    let mut names = vec![r.query.clone()];
    names.extend(r.compare.iter().filter(|c| **c != r.query).cloned());
    let share_of_voice: Vec<Share> = share_of_voice(index, &names, Some(r.since), Some(r.until))?
        .into_iter()
        .map(|v| Share {
            query: r.display(&v.name),
            mentions: v.mentions,
            reach: v.reach,
            net_sentiment: v.net_sentiment,
        })
        .collect();
    let base = SearchRequest {
        query: Some(r.query.clone()),
        since: Some(r.since),
        until: Some(r.until),
        ..Default::default()
    };
    let sources = top(index, &base, false, 10)?
        .into_iter()
        .map(|(n, m, _)| (n, m))
        .collect();
    let top_authors = top(index, &base, true, 10)?
        .into_iter()
        .map(|(name, mentions, reach)| Author {
            name,
            mentions,
            reach,
        })
        .collect();
    // Candidates by reach and by recency, ranked by impact (reach × recency).
    let by_label = |label: Label| -> anyhow::Result<Vec<crate::mention::Mention>> {
        let mut seen = std::collections::HashSet::new();
        let mut cands = Vec::new();
        for sort in [Sort::Reach, Sort::Newest] {
            let req = SearchRequest {
                sentiment: Some(label),
                sort,
                limit: 200,
                ..base.clone()
            };
            for m in search(index, &req)?.mentions {
                if seen.insert(m.id.clone()) {
                    cands.push(m);
                }
            }
        }
        Ok(super::insights::rank_by_impact(cands, r.since, r.until, 5))
    };
    // Samples for the summary and topics: the period, and the three periods before it.
    let sample = |since, until| -> anyhow::Result<Vec<crate::mention::Mention>> {
        let req = SearchRequest {
            query: Some(r.query.clone()),
            since: Some(since),
            until: Some(until),
            sort: Sort::Newest,
            limit: 5000,
            ..Default::default()
        };
        Ok(search(index, &req)?.mentions)
    };
    let period = sample(r.since, r.until)?;
    let history = sample(r.since - span * 3, r.since)?;
    let alerts = match state {
        None => Vec::new(),
        Some(st) => crate::alerts::outbox::Outbox::new(st)
            .list()?
            .into_iter()
            .filter(|s| {
                s.alert.query == r.query
                    && s.alert.fired_at >= r.since
                    && s.alert.fired_at < r.until
            })
            .filter(|s| s.alert.update != "test")
            .map(|s| AlertLine {
                fired_at: s.alert.fired_at,
                rule: s.alert.rule.clone(),
                kind: s.alert.kind.clone(),
                observed: s.alert.observed,
                expected: s.alert.expected,
                summary: s.alert.headline(),
            })
            .collect(),
    };
    let share_of_voice: Vec<Share> = share_of_voice;
    let insights = super::insights::summarize(&super::insights::Inputs {
        query: &r.display(&r.query),
        since: r.since,
        until: r.until,
        current: &current,
        previous: &previous,
        series: &series,
        interval: &interval,
        share_of_voice: &share_of_voice,
        alerts: alerts.len(),
        period: &period,
        history: &history,
        query_terms: &r.query_terms,
    });
    Ok(ReportData {
        title: r.title.clone().unwrap_or_else(|| {
            super::locale::fill("Reputation report: {q}", &[("q", &r.display(&r.query))])
        }),
        brand_name: r.brand_name.clone(),
        logo: r.logo.clone(),
        query: r.display(&r.query),
        since: r.since,
        until: r.until,
        generated_at: Utc::now(),
        current,
        previous,
        series,
        interval,
        share_of_voice,
        sources,
        top_positive: by_label(Label::Positive)?,
        top_negative: by_label(Label::Negative)?,
        top_authors,
        alerts,
        insights,
        locale: r.locale,
    })
}
