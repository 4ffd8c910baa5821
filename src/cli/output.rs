//! Output formats for mentions: table (for people), json, jsonl, csv (for scripts).

use crate::index::search::SearchResult;
use crate::mention::{Mention, format_time};
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MentionFormat {
    Table,
    Json,
    Jsonl,
    Csv,
}

/// CSV columns; `hark import --format csv` reads the same header.
pub const CSV_COLUMNS: &[&str] = &[
    "id",
    "queries",
    "source",
    "source_kind",
    "url",
    "author",
    "title",
    "text",
    "published_at",
    "fetched_at",
    "lang",
    "sentiment",
    "score",
    "model",
    "likes",
    "shares",
    "comments",
    "views",
    "followers",
    "reach",
];

fn n(x: Option<u64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// A cell that a spreadsheet would not run as a formula: text starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return gets a leading `'` (OWASP's advice for CSV injection).
/// Mention text is attacker-controlled, and `=HYPERLINK(...)` in a tweet must stay text
/// when a PR team opens the export. Numbers hark writes itself (a negative score) are
/// left alone.
pub fn csv_safe(cell: String) -> String {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') if cell.parse::<f64>().is_err() => {
            format!("'{cell}")
        }
        _ => cell,
    }
}

pub fn csv_record(m: &Mention) -> Vec<String> {
    csv_fields(m).into_iter().map(csv_safe).collect()
}

fn csv_fields(m: &Mention) -> Vec<String> {
    let s = m.sentiment.as_ref();
    vec![
        m.id.clone(),
        m.queries.join(";"),
        m.source.clone(),
        m.source_kind.clone(),
        m.url.clone().unwrap_or_default(),
        m.author.clone().unwrap_or_default(),
        m.title.clone().unwrap_or_default(),
        m.text.clone(),
        format_time(&m.published_at),
        m.fetched_at.as_ref().map(format_time).unwrap_or_default(),
        m.lang.clone().unwrap_or_default(),
        s.map(|s| s.label.to_string()).unwrap_or_default(),
        s.map(|s| s.score.to_string()).unwrap_or_default(),
        s.map(|s| s.model.clone()).unwrap_or_default(),
        n(m.engagement.likes),
        n(m.engagement.shares),
        n(m.engagement.comments),
        n(m.engagement.views),
        n(m.engagement.followers),
        n(m.reach),
    ]
}

/// One line of at most `width` characters, control characters removed.
pub fn excerpt(s: &str, width: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if flat.chars().count() <= width {
        flat
    } else {
        let mut out: String = flat.chars().take(width.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

pub fn write_mentions(
    out: &mut dyn Write,
    result: &SearchResult,
    format: MentionFormat,
) -> anyhow::Result<()> {
    match format {
        MentionFormat::Json => {
            serde_json::to_writer(&mut *out, result)?;
            writeln!(out)?;
        }
        MentionFormat::Jsonl => {
            for m in &result.mentions {
                serde_json::to_writer(&mut *out, m)?;
                writeln!(out)?;
            }
        }
        MentionFormat::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(CSV_COLUMNS)?;
            for m in &result.mentions {
                w.write_record(csv_record(m))?;
            }
            w.flush()?;
        }
        MentionFormat::Table => {
            writeln!(
                out,
                "{:<20}  {:<8}  {:>7}  {:<14}  {:<16}  TEXT",
                "PUBLISHED", "SENTIMENT", "REACH", "SOURCE", "AUTHOR"
            )?;
            for m in &result.mentions {
                let label = m
                    .sentiment
                    .as_ref()
                    .map(|s| s.label.as_str())
                    .unwrap_or("-");
                let text = match &m.title {
                    Some(t) if !m.text.starts_with(t.as_str()) => format!("{t} — {}", m.text),
                    _ => m.text.clone(),
                };
                writeln!(
                    out,
                    "{:<20}  {:<9} {:>7}  {:<14}  {:<16}  {}",
                    format_time(&m.published_at),
                    label,
                    m.reach.unwrap_or(0),
                    excerpt(&m.source, 14),
                    excerpt(m.author.as_deref().unwrap_or("-"), 16),
                    excerpt(&text, 70)
                )?;
            }
            writeln!(
                out,
                "{} of {} mentions",
                result.mentions.len(),
                result.total
            )?;
        }
    }
    Ok(())
}

/// Writes `v` as one JSON line on stdout (a command's result).
pub fn print_json_line(v: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}
