//! Mentions as files: json (`{"total", "mentions"}`), jsonl, csv (formula-safe, the header
//! `hark import --format csv` reads back) and a table for people. One module for the CLI's
//! `hark search` and the API's `/api/search?format=`.

use crate::display::{one_line, truncate_chars};

use crate::index::search::SearchResult;
use crate::mention::{Mention, format_time};
use std::io::Write;

/// How mentions are written.
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
                "PUBLISHED (UTC)", "SENTIMENT", "REACH", "SOURCE", "AUTHOR"
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
                    // Seconds are enough for people (the JSON formats keep full precision).
                    m.published_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                    label,
                    m.reach.unwrap_or(0),
                    cell(&m.source, 14),
                    cell(m.author.as_deref().unwrap_or("-"), 16),
                    cell(&text, 70)
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

/// A table cell: one line of at most `width` characters.
fn cell(s: &str, width: usize) -> String {
    truncate_chars(&one_line(s), width)
}
