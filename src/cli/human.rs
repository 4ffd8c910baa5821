//! Output for people: tables, sparklines and verdicts in plain words. A command with both
//! forms prints the human one when stdout is a terminal and JSON when it is a pipe or a file
//! (scripts keep getting JSON without asking); `--format` overrides either way.

use crate::index::stats::Stats;
use crate::pipeline::RunSummary;
use std::io::{IsTerminal, Write};

/// Whether output defaults to the human form: stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// `hark stats --format table`: one line per bucket, a sparkline of the volume, totals.
pub fn write_stats_table(out: &mut impl Write, s: &Stats) -> std::io::Result<()> {
    if s.buckets.is_empty() {
        return writeln!(out, "no mentions in this period");
    }
    writeln!(
        out,
        "{:<17}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}",
        "PERIOD (UTC)", "MENTIONS", "NEGATIVE", "NEUTRAL", "POSITIVE", "NET", "REACH"
    )?;
    for b in &s.buckets {
        let c = &b.counts;
        let start = b.start.replace('T', " ");
        let start = start
            .trim_end_matches('Z')
            .trim_end_matches(":00:00")
            .trim_end_matches(" 00");
        writeln!(
            out,
            "{:<17}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}",
            start,
            c.total,
            c.negative,
            c.neutral,
            c.positive,
            net(c.positive, c.negative),
            c.reach
        )?;
    }
    let t = &s.totals;
    writeln!(
        out,
        "{:<17}  {:>8}  {:>8}  {:>8}  {:>8}  {:>8}  {:>10}",
        "TOTAL",
        t.total,
        t.negative,
        t.neutral,
        t.positive,
        net(t.positive, t.negative),
        t.reach
    )?;
    let volume: Vec<u64> = s.buckets.iter().map(|b| b.counts.total).collect();
    let negative: Vec<u64> = s.buckets.iter().map(|b| b.counts.negative).collect();
    writeln!(out)?;
    writeln!(out, "volume    {}", crate::display::sparkline(&volume))?;
    writeln!(out, "negative  {}", crate::display::sparkline(&negative))?;
    writeln!(
        out,
        "          {} … {}",
        s.buckets.first().map_or("", |b| b.start.as_str()),
        s.buckets.last().map_or("", |b| b.start.as_str())
    )
}

/// Net sentiment as a signed percentage of the labelled mentions.
fn net(pos: u64, neg: u64) -> String {
    if pos + neg == 0 {
        return "–".into();
    }
    format!(
        "{:+.0}%",
        (pos as f64 - neg as f64) * 100.0 / (pos + neg) as f64
    )
}

/// The `run --once` summary for people: a line per source in plain words and a verdict.
pub fn write_run_summary(out: &mut impl Write, s: &RunSummary) -> std::io::Result<()> {
    let width = s
        .sources
        .iter()
        .map(|r| r.source.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    for r in &s.sources {
        let mut what = format!(
            "{} request{}, {} item{}",
            r.requests,
            plural(r.requests),
            r.items,
            plural(r.items)
        );
        if r.not_modified > 0 {
            what.push_str(&format!(", {} unchanged since last time", r.not_modified));
        }
        if r.skipped_items > 0 {
            what.push_str(&format!(
                ", {} unusable item{} skipped",
                r.skipped_items,
                plural(r.skipped_items)
            ));
        }
        let status = if r.errors.is_empty() {
            "ok".to_string()
        } else if r.errors.len() >= r.requests && r.items == 0 {
            format!("FAILED: {}", plain_error(&r.errors[0]))
        } else {
            format!(
                "{} error{}: {}",
                r.errors.len(),
                plural(r.errors.len()),
                plain_error(&r.errors[0])
            )
        };
        writeln!(out, "{:<width$}  {what}  — {status}", r.source)?;
    }
    for d in &s.disabled {
        writeln!(out, "{d:<width$}  not started")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{} collected, {} new or changed indexed, {} already known, {} matched no query.",
        s.collected, s.indexed, s.skipped_unchanged, s.unmatched
    )?;
    if s.skipped_erased + s.skipped_expired + s.retention_deleted > 0 {
        writeln!(
            out,
            "Not kept: {} erased on request (hark delete), {} older than [storage] retention; {} stored mention{} deleted by retention.",
            s.skipped_erased,
            s.skipped_expired,
            s.retention_deleted,
            if s.retention_deleted == 1 { "" } else { "s" }
        )?;
    }
    if s.alerts_raised > 0 {
        writeln!(
            out,
            "{} alert{} raised; deliveries: {} delivered, {} failed, {} retrying.",
            s.alerts_raised,
            plural(s.alerts_raised),
            s.alert_deliveries.delivered,
            s.alert_deliveries.failed,
            s.alert_deliveries.retrying
        )?;
    }
    let failed = s
        .sources
        .iter()
        .filter(|r| !r.errors.is_empty() && r.items == 0)
        .count();
    let verdict = if s.sources.is_empty() {
        "Nothing to collect: add [[sources]] to hark.toml (see `hark init --brand`).".to_string()
    } else if failed == s.sources.len() {
        let offline = s
            .sources
            .iter()
            .flat_map(|r| r.errors.iter())
            .all(|e| looks_offline(e));
        if offline {
            "No source answered — are you offline, or is a proxy/firewall blocking hark?".into()
        } else {
            "Every source failed: see the errors above.".into()
        }
    } else if failed > 0 {
        format!(
            "{failed} of {} sources failed; the others were collected.",
            s.sources.len()
        )
    } else if s.indexed == 0 && s.collected > 0 && s.unmatched == s.collected {
        "Every source answered, but nothing matched your queries: check their `match`.".into()
    } else {
        "All sources answered.".into()
    };
    writeln!(out, "{verdict}")
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn looks_offline(e: &str) -> bool {
    let e = e.to_ascii_lowercase();
    [
        "dns error",
        "failed to lookup",
        "connection refused",
        "network is unreachable",
        "connect",
        "timed out",
    ]
    .iter()
    .any(|k| e.contains(k))
}

/// An error in plain words: the known network failures named, the rest shortened.
fn plain_error(e: &str) -> String {
    let l = e.to_ascii_lowercase();
    let plain = if l.contains("dns error") || l.contains("failed to lookup") {
        "host name could not be resolved (offline?)"
    } else if l.contains("connection refused") {
        "connection refused"
    } else if l.contains("timed out") || l.contains("timeout") {
        "timed out"
    } else if l.contains("http 401") || l.contains("http 403") {
        "access refused: check the credentials"
    } else if l.contains("http 404") {
        "not found (404): check the URL"
    } else if l.contains("http 429") {
        "rate limited (429): will retry later"
    } else {
        return crate::display::truncate_chars(&crate::display::one_line(e), 160);
    };
    plain.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::PollReport;

    #[test]
    fn offline_run_says_so() {
        let s = RunSummary {
            sources: vec![PollReport {
                source: "news".into(),
                requests: 2,
                errors: vec![
                        "GET https://x/: error sending request: dns error: failed to lookup address"
                            .into();
                        2
                    ],
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_run_summary(&mut out, &s).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with(
                "news    2 requests, 0 items  — FAILED: host name could not be resolved"
            ),
            "{text}"
        );
        assert!(text.contains("are you offline"), "{text}");
    }

    #[test]
    fn net_sentiment() {
        assert_eq!(net(3, 1), "+50%");
        assert_eq!(net(0, 0), "–");
    }
}
