//! Rule evaluation: after every index commit (and on a timer in `hark run`), each rule is
//! evaluated on the mentions' own `published_at` times; what fires is recorded in the outbox
//! (see `outbox.rs`) together with the rule's new state, then delivered.
//!
//! One alert per incident: while a spike lasts the rule does not fire again; it sends one
//! follow-up when the observed volume doubles, and a note when the spike has been over for a
//! whole window. `cooldown` separates incidents. `keyword` and `viral_mention` rules alert on
//! mentions not alerted before; during the cooldown they are held, not dropped.

use super::detect::{self, Bucket, SpikeParams, SpikeTest};
use super::drivers;
use super::model::{Alert, AlertMention};
use super::outbox::{Outbox, RuleState};
use crate::config::{AlertRule, Config};
use crate::index::search::{SearchRequest, Sort, filter_query, search};
use crate::index::{IndexError, MentionIndex};
use crate::mention::{Label, Mention};
use crate::state::StateStore;
use chrono::{DateTime, Duration, DurationRound, Utc};
use std::collections::HashMap;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;

/// A period `(from, to)`.
pub type TimeSpan = (DateTime<Utc>, DateTime<Utc>);

/// At most this many baseline mentions (the newest) are compared with the window to find
/// what a spike is about.
pub const EXPLAIN_BASELINE_SAMPLE: usize = 3000;
/// At most this many window mentions are read for it.
pub const EXPLAIN_WINDOW_SAMPLE: usize = 3000;
/// The baseline a spike is explained against ends this long before the window (when the
/// baseline is at least a day longer), so that the spike's build-up is not its own baseline.
pub const EXPLAIN_GAP: Duration = Duration::hours(6);
/// A `negative_spike` is explained against the baseline's negative mentions when it has at
/// least this many.
pub const EXPLAIN_MIN_BASELINE: usize = 30;

/// Width of the time buckets spike rules are evaluated in.
pub fn bucket_width() -> Duration {
    Duration::minutes(5)
}

fn dur(d: std::time::Duration) -> Duration {
    Duration::from_std(d).unwrap_or(Duration::zero())
}

pub fn spike_params(rule: &AlertRule) -> SpikeParams {
    SpikeParams {
        window: dur(rule.window),
        baseline: dur(rule.baseline),
        bucket: bucket_width(),
        significance: rule.significance,
        min_count: rule.min_count,
        min_share: if rule.kind == "volume_spike" {
            0.0
        } else {
            rule.min_share
        },
        min_lift: rule.min_lift,
    }
}

/// Per-mention facts the spike test needs, read from fast fields.
#[derive(Debug, Clone, Copy)]
pub struct Point {
    pub t: i64,
    pub code: u64,
    pub reach: u64,
}

struct PointCollector;
struct PointSegment {
    date: Column<tantivy::DateTime>,
    code: Column<u64>,
    reach: Column<u64>,
    out: Vec<Point>,
}

impl Collector for PointCollector {
    type Fruit = Vec<Point>;
    type Child = PointSegment;
    fn for_segment(&self, _: u32, r: &tantivy::SegmentReader) -> tantivy::Result<PointSegment> {
        let ff = r.fast_fields();
        Ok(PointSegment {
            date: ff.date("published_at")?,
            code: ff.u64("sentiment_code")?,
            reach: ff.u64("reach")?,
            out: Vec::new(),
        })
    }
    fn requires_scoring(&self) -> bool {
        false
    }
    fn merge_fruits(&self, f: Vec<Vec<Point>>) -> tantivy::Result<Vec<Point>> {
        let mut all: Vec<Point> = f.into_iter().flatten().collect();
        all.sort_by_key(|p| p.t);
        Ok(all)
    }
}

impl SegmentCollector for PointSegment {
    type Fruit = Vec<Point>;
    fn collect(&mut self, doc: u32, _: f32) {
        if let Some(t) = self.date.first(doc) {
            self.out.push(Point {
                t: t.into_timestamp_secs(),
                code: self.code.first(doc).unwrap_or(3),
                reach: self.reach.first(doc).unwrap_or(0),
            });
        }
    }
    fn harvest(self) -> Vec<Point> {
        self.out
    }
}

/// The query's mentions published in [from, to), as points sorted by time.
pub fn load_points(
    index: &MentionIndex,
    query: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Point>, IndexError> {
    let req = SearchRequest {
        query: Some(query.to_string()),
        since: Some(from),
        until: Some(to),
        ..Default::default()
    };
    let q = filter_query(index, &req)?;
    index
        .reader
        .searcher()
        .search(&*q, &PointCollector)
        .map_err(|e| index.tantivy_err(e))
}

/// Buckets of `width` covering [from, to) from sorted points. `negative_only` selects the
/// target mentions (negative_spike) or all (volume_spike).
pub fn buckets(
    points: &[Point],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    width: Duration,
    negative_only: bool,
) -> Vec<Bucket> {
    let w = width.num_seconds().max(1);
    let start = from.timestamp().div_euclid(w) * w;
    let n = ((to.timestamp() - start + w - 1) / w).max(0) as usize;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start: DateTime::from_timestamp(start + i as i64 * w, 0).expect("valid time"),
            ..Default::default()
        })
        .collect();
    for p in points {
        let i = (p.t - start).div_euclid(w);
        if i < 0 || i as usize >= n {
            continue;
        }
        // A negative share is a share of the mentions whose sentiment is known.
        if negative_only && p.code == 4 {
            continue;
        }
        let b = &mut out[i as usize];
        b.total += 1;
        if !negative_only || p.code == 0 {
            b.target += 1;
            b.target_weight += detect::reach_weight(p.reach);
        }
    }
    out
}

/// The history a test may use: leading buckets without any mention are dropped, so that a
/// query whose collection began recently is judged on the history it has (the detector
/// then refuses to fire until it has enough) instead of on a week of zeros. The window's own
/// buckets are always kept.
pub fn history(b: &[Bucket], window_buckets: usize) -> &[Bucket] {
    let keep_from = b.len().saturating_sub(window_buckets);
    let first = b
        .iter()
        .position(|x| x.total > 0)
        .unwrap_or(keep_from)
        .min(keep_from);
    &b[first..]
}

/// Everything needed to build alerts from the index.
pub struct Engine<'a> {
    pub index: &'a MentionIndex,
    pub state: &'a StateStore,
    pub config: &'a Config,
}

/// An alert the evaluation produced (already recorded in the outbox unless `dry_run`).
pub type Fired = Alert;

impl Engine<'_> {
    fn excerpt(m: &Mention) -> String {
        let t = match &m.title {
            Some(t) if !m.text.starts_with(t.as_str()) => format!("{t} — {}", m.text),
            _ => m.text.clone(),
        };
        crate::display::excerpt(&t, 280)
    }

    fn alert_mention(m: &Mention) -> AlertMention {
        AlertMention {
            id: m.id.clone(),
            url: m.url.clone(),
            author: m.author.clone(),
            source: m.source.clone(),
            published_at: m.published_at,
            sentiment: m
                .sentiment
                .as_ref()
                .map(|s| s.label.to_string())
                .unwrap_or_default(),
            score: m.sentiment.as_ref().map(|s| s.score).unwrap_or(0.0),
            reach: m.reach.unwrap_or(0),
            excerpt: Self::excerpt(m),
        }
    }

    fn search_url(
        &self,
        rule: &AlertRule,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        sentiment: Option<&str>,
    ) -> Option<String> {
        let base = self.config.server.public_url.as_ref()?;
        let mut u = url::Url::parse(&format!("{}/search", base.trim_end_matches('/'))).ok()?;
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("query", &rule.query);
            q.append_pair("since", &crate::mention::format_time(&from));
            q.append_pair("until", &crate::mention::format_time(&to));
            if let Some(s) = sentiment {
                q.append_pair("sentiment", s);
            }
        }
        Some(u.to_string())
    }

    /// Builds the alert content for a window: breakdown, the 5 driving mentions by reach, top
    /// sources and authors.
    #[allow(clippy::too_many_arguments)]
    fn build(
        &self,
        rule: &AlertRule,
        update: &str,
        incident: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        observed: f64,
        expected: f64,
        p_value: Option<f64>,
        driving: Option<Vec<Mention>>,
    ) -> Result<Alert, IndexError> {
        let negative_only = rule.kind == "negative_spike";
        let req = SearchRequest {
            query: Some(rule.query.clone()),
            since: Some(from),
            until: Some(to),
            sort: Sort::Reach,
            limit: 10_000,
            ..Default::default()
        };
        let all = search(self.index, &req)?;
        let mut counts = [0u64; 3];
        let mut sources: HashMap<String, u64> = HashMap::new();
        let mut authors: HashMap<String, u64> = HashMap::new();
        for m in &all.mentions {
            if let Some(s) = &m.sentiment {
                counts[s.label as usize] += 1;
            }
            if !negative_only
                || m.sentiment
                    .as_ref()
                    .is_some_and(|s| s.label == Label::Negative)
            {
                *sources.entry(m.source.clone()).or_default() += 1;
                if let Some(a) = &m.author {
                    *authors.entry(a.clone()).or_default() += 1;
                }
            }
        }
        let top = |h: HashMap<String, u64>| {
            let mut v: Vec<(String, u64)> = h.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            v.truncate(5);
            v
        };
        let given = driving.as_ref().map(Vec::len);
        // The window's target mentions: the negative ones for a negative_spike.
        let targets: Vec<&Mention> = all
            .mentions
            .iter()
            .filter(|m| {
                !negative_only
                    || m.sentiment
                        .as_ref()
                        .is_some_and(|s| s.label == Label::Negative)
            })
            .collect();
        let driving: Vec<Mention> = match driving {
            Some(d) => d,
            None => targets.iter().take(5).map(|m| (*m).clone()).collect(),
        };
        let explanation = if given.is_some() {
            self.explain(rule, from, &driving.iter().collect::<Vec<_>>())?
        } else {
            self.explain(rule, from, &targets)?
        };
        let observed_count = match given {
            Some(n) => n as u64,
            None if negative_only => counts[0],
            None => all.total as u64,
        };
        let fired_at = driving
            .iter()
            .map(|m| m.published_at)
            .max()
            .unwrap_or(to)
            .min(to);
        Ok(Alert {
            id: format!("{}:{}:{}", rule.name, update, to.timestamp()),
            incident: incident.to_string(),
            update: update.to_string(),
            rule: rule.name.clone(),
            kind: rule.kind.clone(),
            query: rule.query.clone(),
            fired_at,
            window_start: from,
            window_end: to,
            observed,
            expected,
            p_value,
            observed_count,
            negative: counts[0],
            neutral: counts[1],
            positive: counts[2],
            mentions: driving.iter().take(5).map(Self::alert_mention).collect(),
            top_sources: top(sources),
            top_authors: top(authors),
            drivers: explanation.terms,
            driving_source: explanation.source,
            driving_author: explanation.author,
            search_url: self.search_url(rule, from, to, negative_only.then_some("negative")),
        })
    }

    /// Published times of the oldest and newest indexed mention of the rule's query (None
    /// when there is none): the default period of a backtest.
    pub fn history_span(&self, rule: &AlertRule) -> Result<Option<TimeSpan>, IndexError> {
        let one = |sort| {
            search(
                self.index,
                &SearchRequest {
                    query: Some(rule.query.clone()),
                    sort,
                    limit: 1,
                    ..Default::default()
                },
            )
            .map(|r| r.mentions.first().map(|m| m.published_at))
        };
        Ok(one(Sort::Oldest)?.zip(one(Sort::Newest)?))
    }

    /// What `window` (the target mentions of a window starting at `from`) is about compared
    /// with up to [`EXPLAIN_BASELINE_SAMPLE`] of the newest mentions of the rule's baseline
    /// before it (up to [`EXPLAIN_GAP`] before the window): the negative ones for a `negative_spike` when the baseline has at least
    /// [`EXPLAIN_MIN_BASELINE`] of them (so the drivers say what is new in the complaints,
    /// not that complaints use angry words), else all of them.
    pub fn explain(
        &self,
        rule: &AlertRule,
        from: DateTime<Utc>,
        window: &[&Mention],
    ) -> Result<drivers::Explanation, IndexError> {
        if window.is_empty() {
            return Ok(drivers::Explanation::default());
        }
        // The hours just before the window often hold the spike's own build-up: leave them
        // out so that the baseline is what the conversation is usually about.
        let baseline = dur(rule.baseline).max(Duration::hours(24));
        let gap = if baseline >= Duration::hours(24) + EXPLAIN_GAP {
            EXPLAIN_GAP
        } else {
            Duration::zero()
        };
        let base = SearchRequest {
            query: Some(rule.query.clone()),
            since: Some(from - baseline),
            until: Some(from - gap),
            sort: Sort::Newest,
            limit: EXPLAIN_BASELINE_SAMPLE,
            ..Default::default()
        };
        let mut baseline = Vec::new();
        if rule.kind == "negative_spike" {
            let neg = SearchRequest {
                sentiment: Some(Label::Negative),
                ..base.clone()
            };
            baseline = search(self.index, &neg)?.mentions;
        }
        if baseline.len() < EXPLAIN_MIN_BASELINE {
            baseline = search(self.index, &base)?.mentions;
        }
        let terms = self
            .config
            .query(&rule.query)
            .map(|q| crate::query::positive_terms(&q.expr))
            .unwrap_or_else(|| vec![vec![crate::text::fold(&rule.query)]]);
        let window: Vec<&Mention> = window.iter().take(EXPLAIN_WINDOW_SAMPLE).copied().collect();
        Ok(drivers::explain(
            &window,
            &baseline.iter().collect::<Vec<_>>(),
            &terms,
        ))
    }

    /// The spike test for the window ending at `end`.
    pub fn spike_test(
        &self,
        rule: &AlertRule,
        end: DateTime<Utc>,
    ) -> Result<SpikeTest, IndexError> {
        let p = spike_params(rule);
        let from = end - p.baseline - p.window;
        let points = load_points(self.index, &rule.query, from, end)?;
        let b = buckets(&points, from, end, p.bucket, rule.kind == "negative_spike");
        let wb = (p.window.num_seconds() / p.bucket.num_seconds().max(1)) as usize;
        Ok(detect::test_window(history(&b, wb), end, &p))
    }

    /// Evaluates one rule at `now`. Returns the alerts to record with the rule's new state
    /// and the mention ids they cover.
    pub fn evaluate(
        &self,
        rule: &AlertRule,
        now: DateTime<Utc>,
    ) -> anyhow::Result<(RuleState, Vec<Alert>, Vec<String>)> {
        let outbox = Outbox::new(self.state);
        let mut st = outbox.rule_state(&rule.name)?;
        let cooldown = dur(rule.cooldown);
        let in_cooldown = st.last_alert_at.is_some_and(|t| now - t < cooldown);
        let mut alerts = Vec::new();
        let mut covered = Vec::new();
        match rule.kind.as_str() {
            "negative_spike" | "volume_spike" => {
                // Evaluate on the end of the current bucket so the window includes the newest mentions.
                let end = now.duration_trunc(bucket_width()).unwrap_or(now) + bucket_width();
                let t = self.spike_test(rule, end)?;
                if let Some(update) =
                    incident_step(&mut st, &rule.name, &t, now, dur(rule.window), cooldown)
                {
                    let incident = st
                        .incident
                        .clone()
                        .unwrap_or_else(|| st.closed_incident.clone());
                    alerts.push(self.build(
                        rule,
                        update,
                        &incident,
                        t.window_start,
                        t.window_end,
                        t.observed,
                        t.expected,
                        Some(t.p_value),
                        None,
                    )?);
                }
            }
            "keyword" | "viral_mention" if !in_cooldown => {
                let lookback = dur(rule.window).max(Duration::hours(24));
                let req = SearchRequest {
                    expr: rule.match_expr.clone(),
                    query: Some(rule.query.clone()),
                    since: Some(now - lookback),
                    sort: Sort::Reach,
                    limit: 1000,
                    ..Default::default()
                };
                let found = search(self.index, &req)?.mentions;
                let mut hits: Vec<Mention> = if rule.kind == "keyword" {
                    found
                } else {
                    found
                        .into_iter()
                        .filter(|m| engagement_rate(m, now) >= rule.threshold)
                        .collect()
                };
                let ids: Vec<&str> = hits.iter().map(|m| m.id.as_str()).collect();
                let seen = outbox.already_alerted(&rule.name, &ids)?;
                let mut it = seen.into_iter();
                hits.retain(|_| !it.next().unwrap_or(false));
                if !hits.is_empty() {
                    // Negative ones first, then by reach.
                    hits.sort_by_key(|m| {
                        (
                            m.sentiment.as_ref().map(|s| s.label as u8).unwrap_or(1),
                            std::cmp::Reverse(m.reach.unwrap_or(0)),
                        )
                    });
                    let from = hits.iter().map(|m| m.published_at).min().unwrap_or(now);
                    let to = hits.iter().map(|m| m.published_at).max().unwrap_or(now)
                        + Duration::seconds(1);
                    covered = hits.iter().map(|m| m.id.clone()).collect();
                    let incident = format!("{}:{}", rule.name, now.timestamp());
                    let observed = if rule.kind == "keyword" {
                        hits.len() as f64
                    } else {
                        engagement_rate(&hits[0], now)
                    };
                    let a = self.build(
                        rule,
                        "new",
                        &incident,
                        from,
                        to,
                        observed,
                        if rule.kind == "keyword" {
                            0.0
                        } else {
                            rule.threshold
                        },
                        None,
                        Some(hits),
                    )?;
                    st.last_alert_at = Some(now);
                    alerts.push(a);
                }
            }
            _ => {}
        }
        Ok((st, alerts, covered))
    }

    /// Evaluates every rule and records what fires in the outbox. Returns the new alerts.
    pub fn evaluate_all(&self, now: DateTime<Utc>) -> anyhow::Result<Vec<Alert>> {
        let mut out = Vec::new();
        let outbox = Outbox::new(self.state);
        // Rule files, and the rules made from saved searches ("alert me").
        let saved = crate::saved::rules(&self.state.saved_searches()?, self.config);
        for rule in self.config.alerts.iter().chain(&saved) {
            match self.evaluate(rule, now) {
                Ok((st, alerts, covered)) => {
                    if alerts.is_empty() {
                        outbox.record(&rule.name, &st, None, &covered)?;
                    }
                    for a in alerts {
                        tracing::warn!(rule = %rule.name, update = %a.update, observed = a.observed, expected = a.expected, "alert");
                        outbox.record(&rule.name, &st, Some((&a, &rule.channels)), &covered)?;
                        out.push(a);
                    }
                }
                Err(e) => {
                    tracing::error!(rule = %rule.name, error = %e, "alert rule evaluation failed")
                }
            }
        }
        Ok(out)
    }
}

/// The incident logic shared by live evaluation and backtests. Given the spike test of the
/// window ending now, returns what to send, if anything: `new` (no open incident, outside
/// the cooldown), `follow_up` (once per incident, when the observed volume has doubled since
/// the alert) or `ended` (the test has not fired for a whole window).
pub fn incident_step(
    st: &mut RuleState,
    rule: &str,
    t: &SpikeTest,
    now: DateTime<Utc>,
    window: Duration,
    cooldown: Duration,
) -> Option<&'static str> {
    let end = t.window_end;
    if t.fired {
        st.last_firing_end = Some(end);
        match &st.incident {
            None if st.last_alert_at.is_none_or(|x| now - x >= cooldown) => {
                st.incident = Some(format!("{rule}:{}", t.window_start.timestamp()));
                st.incident_observed = t.observed;
                st.follow_up_sent = false;
                st.last_alert_at = Some(now);
                Some("new")
            }
            Some(_) if !st.follow_up_sent && t.observed >= 2.0 * st.incident_observed => {
                st.follow_up_sent = true;
                Some("follow_up")
            }
            _ => None,
        }
    } else if st.incident.is_some() && st.last_firing_end.is_none_or(|e| end - e >= window) {
        st.closed_incident = st.incident.take().unwrap_or_default();
        Some("ended")
    } else {
        None
    }
}

/// Engagement (likes + shares + comments) per minute since publication (at least one minute).
pub fn engagement_rate(m: &Mention, now: DateTime<Utc>) -> f64 {
    let e = &m.engagement;
    let total = e.likes.unwrap_or(0) + e.shares.unwrap_or(0) + e.comments.unwrap_or(0);
    let minutes = ((now - m.published_at).num_seconds() as f64 / 60.0).max(1.0);
    total as f64 / minutes
}

/// One alert a backtest found (`hark alerts backtest` prints these as JSON lines).
#[derive(Debug, Clone, serde::Serialize)]
pub struct BacktestHit {
    pub rule: String,
    pub kind: String,
    pub update: String,
    pub fired_at: String,
    pub window_start: String,
    pub window_end: String,
    pub observed: f64,
    pub expected: f64,
    pub p_value: Option<f64>,
    pub observed_count: u64,
    pub mentions: Vec<String>,
    /// What the window's mentions are about (see [`drivers`]).
    pub drivers: Vec<drivers::Driver>,
    pub driving_source: Option<drivers::Contributor>,
    pub driving_author: Option<drivers::Contributor>,
}

/// An alert a spike backtest raised: what the incident logic sent and the test behind it.
#[derive(Debug, Clone)]
pub struct SpikeHit {
    /// `new` or `follow_up`.
    pub update: &'static str,
    /// When the evidence was complete: the newest target mention in the window.
    pub fired_at: DateTime<Utc>,
    pub test: SpikeTest,
}

/// The span of mentions a spike backtest over [since, until) needs: its first window's baseline
/// to the end of the bucket holding `until`.
pub fn backtest_span(
    p: &SpikeParams,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let w = p.bucket;
    let first_end = since.duration_trunc(w).unwrap_or(since) + w;
    (first_end - p.baseline - p.window, until + w)
}

/// Replays a spike rule over sorted `points`: the window ending at every bucket boundary in
/// [since, until] is tested against its baseline and fed to [`incident_step`], exactly as the
/// live evaluation does after each bucket. Pure: no index, no state store (used by
/// `hark alerts backtest` and by the real-traffic benchmark).
pub fn backtest_spikes(
    points: &[Point],
    negative_only: bool,
    p: &SpikeParams,
    cooldown: Duration,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<SpikeHit> {
    let mut st = RuleState::default();
    let mut hits = Vec::new();
    replay_spike_tests(points, negative_only, p, since, until, |t| {
        let end = t.window_end;
        let fire = incident_step(&mut st, "backtest", &t, end, p.window, cooldown)
            .filter(|u| *u != "ended");
        if let Some(update) = fire {
            let ws = t.window_start.timestamp();
            let we = t.window_end.timestamp();
            let lo = points.partition_point(|q| q.t < ws);
            let last = points[lo..]
                .iter()
                .take_while(|q| q.t < we)
                .filter(|q| !negative_only || q.code == 0)
                .map(|q| q.t)
                .max()
                .unwrap_or(we);
            hits.push(SpikeHit {
                update,
                fired_at: DateTime::from_timestamp(last, 0).unwrap_or(end),
                test: t,
            });
        }
    });
    hits
}

/// The spike test of the window ending at every bucket boundary in [since, until], in order,
/// over sorted `points` (what the live evaluation computes after each bucket).
pub fn replay_spike_tests(
    points: &[Point],
    negative_only: bool,
    p: &SpikeParams,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    mut f: impl FnMut(SpikeTest),
) {
    let w = p.bucket;
    let (from, to) = backtest_span(p, since, until);
    let first_end = from + p.baseline + p.window;
    let all = buckets(points, from, to, w, negative_only);
    let per_test = ((p.baseline + p.window).num_seconds() / w.num_seconds().max(1)) as usize;
    let wb = (p.window.num_seconds() / w.num_seconds().max(1)) as usize;
    let mut end = first_end;
    let mut i = 0usize;
    while end <= to && i + per_test <= all.len() {
        f(detect::test_window(
            history(&all[i..i + per_test], wb),
            end,
            p,
        ));
        end += w;
        i += 1;
    }
}

impl Engine<'_> {
    /// The alerts `rule` would have raised over the indexed history in [since, until), judged
    /// in the mentions' own published time, with the same incident logic as live evaluation
    /// (cooldown, one follow-up when the volume doubles). Sends nothing.
    pub fn backtest(
        &self,
        rule: &AlertRule,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> anyhow::Result<Vec<BacktestHit>> {
        use crate::mention::format_time;
        let mut hits = Vec::new();
        match rule.kind.as_str() {
            "negative_spike" | "volume_spike" => {
                let p = spike_params(rule);
                let (from, to) = backtest_span(&p, since, until);
                let points = load_points(self.index, &rule.query, from, to)?;
                let negative_only = rule.kind == "negative_spike";
                for hit in
                    backtest_spikes(&points, negative_only, &p, dur(rule.cooldown), since, until)
                {
                    let t = &hit.test;
                    let req = SearchRequest {
                        query: Some(rule.query.clone()),
                        since: Some(t.window_start),
                        until: Some(t.window_end),
                        sentiment: negative_only.then_some(Label::Negative),
                        sort: Sort::Reach,
                        limit: 5,
                        ..Default::default()
                    };
                    let top = search(self.index, &req)?;
                    let window = search(
                        self.index,
                        &SearchRequest {
                            sort: Sort::Newest,
                            limit: EXPLAIN_WINDOW_SAMPLE,
                            ..req
                        },
                    )?;
                    let e = self.explain(
                        rule,
                        t.window_start,
                        &window.mentions.iter().collect::<Vec<_>>(),
                    )?;
                    hits.push(BacktestHit {
                        rule: rule.name.clone(),
                        kind: rule.kind.clone(),
                        update: hit.update.into(),
                        fired_at: format_time(&hit.fired_at),
                        window_start: format_time(&t.window_start),
                        window_end: format_time(&t.window_end),
                        observed: t.observed,
                        expected: t.expected,
                        p_value: Some(t.p_value),
                        observed_count: t.observed_count,
                        mentions: top.mentions.into_iter().map(|m| m.id).collect(),
                        drivers: e.terms,
                        driving_source: e.source,
                        driving_author: e.author,
                    });
                }
            }
            "keyword" | "viral_mention" => {
                let req = SearchRequest {
                    expr: rule.match_expr.clone(),
                    query: Some(rule.query.clone()),
                    since: Some(since),
                    until: Some(until),
                    sort: Sort::Oldest,
                    limit: 100_000,
                    ..Default::default()
                };
                let cooldown = dur(rule.cooldown);
                let mut last: Option<DateTime<Utc>> = None;
                let mut group: Vec<Mention> = Vec::new();
                let flush = |group: &mut Vec<Mention>,
                             hits: &mut Vec<BacktestHit>|
                 -> Result<(), IndexError> {
                    if group.is_empty() {
                        return Ok(());
                    }
                    let first = group[0].published_at;
                    let lastp = group.iter().map(|m| m.published_at).max().unwrap_or(first);
                    group.sort_by_key(|m| std::cmp::Reverse(m.reach.unwrap_or(0)));
                    let e = self.explain(rule, first, &group.iter().collect::<Vec<_>>())?;
                    hits.push(BacktestHit {
                        rule: rule.name.clone(),
                        kind: rule.kind.clone(),
                        update: "new".into(),
                        fired_at: format_time(&first),
                        window_start: format_time(&first),
                        window_end: format_time(&(lastp + Duration::seconds(1))),
                        observed: group.len() as f64,
                        expected: 0.0,
                        p_value: None,
                        observed_count: group.len() as u64,
                        mentions: group.iter().take(5).map(|m| m.id.clone()).collect(),
                        drivers: e.terms,
                        driving_source: e.source,
                        driving_author: e.author,
                    });
                    group.clear();
                    Ok(())
                };
                for m in search(self.index, &req)?.mentions {
                    if rule.kind == "viral_mention" {
                        let seen_at = m.fetched_at.unwrap_or(m.published_at);
                        if engagement_rate(&m, seen_at) < rule.threshold {
                            continue;
                        }
                    }
                    // One alert for the first mention, then the ones within the cooldown
                    // are held and sent together when it ends.
                    match last {
                        Some(l) if m.published_at - l < cooldown => group.push(m),
                        _ => {
                            flush(&mut group, &mut hits)?;
                            last = Some(m.published_at);
                            group.push(m);
                        }
                    }
                }
                flush(&mut group, &mut hits)?;
            }
            _ => {}
        }
        Ok(hits)
    }
}

impl Engine<'_> {
    /// A clearly marked test alert for `rule`, built from the last window's real mentions.
    pub fn test_alert(&self, rule: &AlertRule, now: DateTime<Utc>) -> anyhow::Result<Alert> {
        let from = now - dur(rule.window);
        let incident = format!("{}:test:{}", rule.name, now.timestamp());
        let mut a = self.build(rule, "test", &incident, from, now, 0.0, 0.0, None, None)?;
        a.id = format!("{}:test:{}", rule.name, now.timestamp_millis());
        a.fired_at = now;
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_at(minute: i64, fired: bool, observed: f64) -> SpikeTest {
        let end = DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap();
        SpikeTest {
            window_start: end - Duration::hours(1),
            window_end: end,
            observed,
            expected: 1.0,
            observed_count: observed as u64,
            expected_count: 1.0,
            total_count: observed as u64,
            share: 1.0,
            dispersion: 0.1,
            p_value: if fired { 1e-6 } else { 0.5 },
            fired,
            reason: String::new(),
        }
    }

    #[test]
    fn one_alert_per_incident_one_follow_up_then_ended_and_cooldown() {
        let mut st = RuleState::default();
        let (w, cd) = (Duration::hours(1), Duration::hours(6));
        let mut step = |m: i64, fired: bool, obs: f64| {
            let t = test_at(m, fired, obs);
            incident_step(&mut st, "r", &t, t.window_end, w, cd)
        };
        assert_eq!(step(0, true, 10.0), Some("new"));
        assert_eq!(
            step(5, true, 15.0),
            None,
            "the spike goes on: no second alert"
        );
        assert_eq!(step(10, true, 21.0), Some("follow_up"), "doubled");
        assert_eq!(step(15, true, 50.0), None, "one follow-up only");
        assert_eq!(
            step(20, false, 1.0),
            None,
            "not over for a whole window yet"
        );
        assert_eq!(step(80, false, 1.0), Some("ended"));
        assert_eq!(step(90, true, 10.0), None, "within the cooldown");
        assert_eq!(
            step(6 * 60 + 1, true, 10.0),
            Some("new"),
            "a new incident after the cooldown"
        );
    }
}
