//! `hark import`: bulk-loads mentions (JSON lines, or CSV with the same field names) into the
//! index. Missing `sentiment`, `queries` and `reach` are computed as the pipeline would;
//! lines that fail are reported with their line numbers and the rest is imported; ids make a
//! second import of the same file replace instead of duplicating.
//!
//! Throughput: lines are read in chunks; parsing, matching, classification and building the
//! tantivy documents run in parallel (rayon); tantivy's indexing threads do the rest.

use crate::enrich::{Enricher, Unmatched};
use crate::index::MentionIndex;
use crate::mention::{Engagement, Label, Mention, Sentiment};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jsonl,
    Csv,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineError {
    pub line: u64,
    pub error: String,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportSummary {
    pub imported: u64,
    pub failed: u64,
    /// Fields (JSON keys, CSV columns) that are not part of a mention and were ignored;
    /// each is warned about once.
    #[serde(skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub ignored_fields: std::collections::BTreeSet<String>,
    /// The first failures (all are logged on stderr).
    pub errors: Vec<LineError>,
}

/// Mention fields besides the columns `hark search --format csv` writes
/// ([`crate::export::CSV_COLUMNS`]): the nested and list-valued ones of the JSON shape.
const JSON_ONLY_FIELDS: &[&str] = &["engagement", "duplicates", "parent_id"];

/// Whether `k` is a field of a mention (as JSON, or a CSV column after `csv_row`).
fn is_mention_field(k: &str) -> bool {
    crate::export::CSV_COLUMNS.contains(&k) || JSON_ONLY_FIELDS.contains(&k)
}

const CHUNK: usize = 4096;
const MAX_REPORTED: usize = 100;

/// The longest JSON line accepted (a mention with a 4 MB text is not a mention): a longer
/// line is reported and skipped without being read into memory whole.
pub const MAX_LINE_BYTES: usize = 4 * 1024 * 1024;

/// Imports `path` into `index`. `progress` is told how many bytes were consumed.
pub fn import_file(
    path: &Path,
    format: Format,
    index: &Arc<MentionIndex>,
    enricher: &Enricher,
    progress: &dyn Fn(u64),
) -> anyhow::Result<ImportSummary> {
    use anyhow::Context;
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    let mut writer = index.writer(threads.min(2), 256)?;
    let mut deletes_since_commit = 0usize;
    let mut summary = ImportSummary::default();
    // What the index held before this import, to know which ids need replacing.
    let before = index.reader.searcher();
    let mut added: std::collections::HashSet<String> = std::collections::HashSet::new();
    let record = |errs: Vec<LineError>, summary: &mut ImportSummary| {
        for e in errs {
            tracing::warn!("{}:{}: {}", path.display(), e.line, e.error);
            summary.failed += 1;
            if summary.errors.len() < MAX_REPORTED {
                summary.errors.push(e);
            }
        }
    };
    let mut process = |rows: Vec<(u64, Result<Value, String>)>,
                       summary: &mut ImportSummary|
     -> anyhow::Result<()> {
        for (_, v) in &rows {
            if let Ok(Value::Object(o)) = v {
                for k in o.keys() {
                    if !is_mention_field(k) && !summary.ignored_fields.contains(k) {
                        tracing::warn!(
                            "{}: field `{k}` is not part of a mention and is ignored{}",
                            path.display(),
                            crate::config::did_you_mean(k, crate::export::CSV_COLUMNS)
                        );
                        summary.ignored_fields.insert(k.clone());
                    }
                }
            }
        }
        let parsed: Vec<Result<Mention, LineError>> = rows
            .into_par_iter()
            .map(|(line, v)| {
                v.map_err(RowError::Invalid)
                    .and_then(row_to_mention)
                    .map_err(|e| LineError {
                        line,
                        error: e.to_string(),
                    })
            })
            .collect();
        let mut ok: Vec<Mention> = Vec::with_capacity(parsed.len());
        let mut errs: Vec<LineError> = Vec::new();
        for r in parsed {
            match r {
                Ok(m) => ok.push(m),
                Err(e) => errs.push(e),
            }
        }
        // One batch per chunk: `bert` classifies it in length-sorted batches.
        let enriched = enricher.enrich_many(ok, None, Unmatched::Keep);
        let results: Vec<(String, bool, tantivy::TantivyDocument)> = enriched
            .into_par_iter()
            .map(|m| {
                let existed = index.contains_id_in(&before, &m.id);
                (m.id.clone(), existed, index.document(&m))
            })
            .collect();
        for (id, existed, doc) in results {
            // Replace, never duplicate: delete only ids the index already had or this file
            // already added (tantivy keeps every delete until the commit, so a delete per
            // document would cost ~1 KB each).
            if existed || !added.insert(id.clone()) {
                writer.delete_term(tantivy::Term::from_field_text(index.fields.id, &id));
                deletes_since_commit += 1;
            }
            writer.add_document(doc).map_err(|e| index.explain(e))?;
            summary.imported += 1;
        }
        record(errs, summary);
        // Committing drains tantivy's delete queue: keeps a re-import's memory bounded.
        if deletes_since_commit >= 50_000 {
            writer.commit().map_err(|e| index.explain(e))?;
            deletes_since_commit = 0;
        }
        Ok(())
    };

    match format {
        Format::Jsonl => {
            let mut reader = BufReader::with_capacity(1 << 20, CountingReader::new(file, progress));
            let mut line_no = 0u64;
            let mut buf = Vec::new();
            loop {
                let mut rows = Vec::with_capacity(CHUNK);
                while rows.len() < CHUNK {
                    buf.clear();
                    let n = (&mut reader)
                        .take(MAX_LINE_BYTES as u64 + 1)
                        .read_until(b'\n', &mut buf)?;
                    if n == 0 {
                        break;
                    }
                    line_no += 1;
                    if buf.len() > MAX_LINE_BYTES && buf.last() != Some(&b'\n') {
                        // Skip the rest of the line without holding it in memory.
                        let mut rest = 0u64;
                        loop {
                            let chunk = reader.fill_buf()?;
                            if chunk.is_empty() {
                                break;
                            }
                            match chunk.iter().position(|b| *b == b'\n') {
                                Some(i) => {
                                    reader.consume(i + 1);
                                    break;
                                }
                                None => {
                                    let l = chunk.len();
                                    rest += l as u64;
                                    reader.consume(l);
                                }
                            }
                        }
                        rows.push((
                            line_no,
                            Err(format!(
                                "line of {} bytes is longer than the {MAX_LINE_BYTES}-byte limit: skipped",
                                buf.len() as u64 + rest
                            )),
                        ));
                        continue;
                    }
                    let Ok(text) = std::str::from_utf8(&buf) else {
                        rows.push((line_no, Err("line is not valid UTF-8".to_string())));
                        continue;
                    };
                    if text.trim().is_empty() {
                        continue;
                    }
                    rows.push((line_no, Ok(text.to_string())));
                }
                if rows.is_empty() {
                    break;
                }
                let parsed: Vec<(u64, Result<Value, String>)> = rows
                    .into_par_iter()
                    .map(|(n, r)| {
                        (
                            n,
                            r.and_then(|t| {
                                serde_json::from_str::<Value>(&t)
                                    .map_err(|e| format!("invalid JSON: {e}"))
                            }),
                        )
                    })
                    .collect();
                process(parsed, &mut summary)?;
            }
        }
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(CountingReader::new(file, progress));
            let headers = rdr.headers().context("cannot read the CSV header")?.clone();
            let mut rows = Vec::with_capacity(CHUNK);
            for (i, rec) in rdr.records().enumerate() {
                let line = rec
                    .as_ref()
                    .ok()
                    .and_then(|r| r.position().map(|p| p.line()))
                    .unwrap_or(i as u64 + 2);
                rows.push((
                    line,
                    rec.map_err(|e| format!("invalid CSV: {e}"))
                        .map(|r| csv_row(&headers, &r)),
                ));
                if rows.len() >= CHUNK {
                    process(std::mem::take(&mut rows), &mut summary)?;
                }
            }
            process(rows, &mut summary)?;
        }
    }
    writer.commit().map_err(|e| index.explain(e))?;
    writer
        .wait_merging_threads()
        .map_err(|e| index.explain(e))?;
    index.reload()?;
    Ok(summary)
}

/// A CSV record as the JSON object of the same mention: `likes` (or `engagement.likes`),
/// `sentiment` (a label) with `score`, `queries` separated by `;` or `|`.
fn csv_row(headers: &csv::StringRecord, rec: &csv::StringRecord) -> Value {
    let mut obj = Map::new();
    let mut eng = Map::new();
    let mut sent = Map::new();
    for (h, v) in headers.iter().zip(rec.iter()) {
        if v.is_empty() {
            continue;
        }
        // Undo the formula guard of `hark search --format csv` (`'=…` → `=…`).
        let v = match v.strip_prefix('\'') {
            Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest,
            _ => v,
        };
        let h = h.trim();
        let num = || {
            v.trim()
                .parse::<u64>()
                .map(Value::from)
                .unwrap_or(Value::String(v.to_string()))
        };
        match h {
            "likes" | "shares" | "comments" | "views" | "followers" | "rating" => {
                eng.insert(h.to_string(), num());
            }
            k if k.starts_with("engagement.") => {
                eng.insert(k["engagement.".len()..].to_string(), num());
            }
            "sentiment" | "sentiment.label" | "label" => {
                sent.insert("label".into(), Value::String(v.to_string()));
            }
            "score" | "sentiment.score" | "sentiment_score" => {
                sent.insert(
                    "score".into(),
                    v.trim()
                        .parse::<f64>()
                        .map(Value::from)
                        .unwrap_or(Value::String(v.into())),
                );
            }
            "model" | "sentiment.model" => {
                sent.insert("model".into(), Value::String(v.to_string()));
            }
            "queries" => {
                let qs: Vec<Value> = v
                    .split([';', '|'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.into()))
                    .collect();
                obj.insert("queries".into(), Value::Array(qs));
            }
            "reach" => {
                obj.insert("reach".into(), num());
            }
            other => {
                obj.insert(other.to_string(), Value::String(v.to_string()));
            }
        }
    }
    if !eng.is_empty() {
        obj.insert("engagement".into(), Value::Object(eng));
    }
    if !sent.is_empty() {
        obj.insert("sentiment".into(), Value::Object(sent));
    }
    Value::Object(obj)
}

fn opt_str(o: &Map<String, Value>, k: &str) -> Result<Option<String>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(format!("`{k}` must be a string, not {other}")),
    }
}

fn opt_u64(o: &Map<String, Value>, k: &str) -> Result<Option<u64>, String> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
            .map(Some)
            .ok_or_else(|| format!("`{k}` must be a non-negative number")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{k}` must be a number, not `{s}`")),
        Some(other) => Err(format!("`{k}` must be a number, not {other}")),
    }
}

/// Why one imported row was rejected: the row is skipped, counted and reported with its line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RowError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Time(#[from] crate::timeutil::TimeError),
}

impl From<String> for RowError {
    fn from(s: String) -> Self {
        RowError::Invalid(s)
    }
}

impl From<&str> for RowError {
    fn from(s: &str) -> Self {
        RowError::Invalid(s.to_string())
    }
}

/// Validates one imported object into a mention. Fields other tools add are ignored.
pub fn row_to_mention(v: Value) -> Result<Mention, RowError> {
    let Value::Object(o) = v else {
        return Err("expected a JSON object".into());
    };
    let text = opt_str(&o, "text")?.unwrap_or_default();
    let title = opt_str(&o, "title")?;
    let published_raw = opt_str(&o, "published_at")?.ok_or("missing `published_at`")?;
    // The same forms as `--since`: RFC 3339, a date (midnight UTC), RFC 2822.
    let published_at = crate::timeutil::parse_instant(&published_raw)?;
    // The pipeline would replace such a time by the import time (`Mention::sanitize`);
    // history is imported as it was, or not at all.
    if published_at.timestamp() < 0 || published_at > chrono::Utc::now() + chrono::Duration::days(1)
    {
        return Err(
            format!("`published_at` {published_raw} is before 1970 or in the future").into(),
        );
    }
    let fetched_at = match opt_str(&o, "fetched_at")? {
        Some(s) if !s.is_empty() => Some(crate::timeutil::parse_instant(&s)?),
        _ => None,
    };
    if text.trim().is_empty() && title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err("no `text` and no `title`".into());
    }
    let source = opt_str(&o, "source")?.unwrap_or_else(|| "import".into());
    let source_kind = opt_str(&o, "source_kind")?.unwrap_or_else(|| "import".into());
    let url = opt_str(&o, "url")?;
    let author = opt_str(&o, "author")?;
    let id = match opt_str(&o, "id")? {
        Some(id) if !id.trim().is_empty() => id,
        _ => {
            // A stable id from the content, so re-importing the same line replaces it.
            use sha2::{Digest, Sha256};
            let mut h = Sha256::new();
            for part in [
                url.as_deref().unwrap_or(""),
                author.as_deref().unwrap_or(""),
                &published_raw,
                &text,
            ] {
                h.update(part.as_bytes());
                h.update([0]);
            }
            format!("{source_kind}:{}", hex::encode(&h.finalize()[..12]))
        }
    };
    let queries = match o.get("queries") {
        None | Some(Value::Null) => vec![],
        Some(Value::Array(a)) => a
            .iter()
            .map(|q| {
                q.as_str()
                    .map(str::to_string)
                    .ok_or("`queries` must be strings")
            })
            .collect::<Result<_, _>>()?,
        Some(Value::String(s)) => s
            .split([';', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(_) => return Err("`queries` must be an array of names".into()),
    };
    let sentiment = match o.get("sentiment") {
        None | Some(Value::Null) => None,
        Some(Value::String(l)) => Some(Sentiment {
            label: Label::parse(l).ok_or_else(|| format!("unknown sentiment label `{l}`"))?,
            score: 0.0,
            model: "import".into(),
        }),
        Some(Value::Object(s)) => {
            let label = opt_str(s, "label")?.ok_or("`sentiment` needs a `label`")?;
            let label =
                Label::parse(&label).ok_or_else(|| format!("unknown sentiment label `{label}`"))?;
            let score = match s.get("score") {
                None | Some(Value::Null) => 0.0,
                Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
                Some(Value::String(x)) => x
                    .parse()
                    .map_err(|_| format!("sentiment score `{x}` is not a number"))?,
                Some(_) => return Err("sentiment `score` must be a number".into()),
            };
            if !(-1.0..=1.0).contains(&score) {
                return Err(format!("sentiment score {score} is outside [-1, 1]").into());
            }
            Some(Sentiment {
                label,
                score,
                model: opt_str(s, "model")?.unwrap_or_else(|| "import".into()),
            })
        }
        Some(_) => return Err("`sentiment` must be an object or a label".into()),
    };
    let engagement = match o.get("engagement") {
        None | Some(Value::Null) => Engagement::default(),
        Some(Value::Object(e)) => Engagement {
            likes: opt_u64(e, "likes")?,
            shares: opt_u64(e, "shares")?,
            comments: opt_u64(e, "comments")?,
            views: opt_u64(e, "views")?,
            followers: opt_u64(e, "followers")?,
            rating: match opt_u64(e, "rating")? {
                None => None,
                Some(r @ 1..=5) => Some(r as u8),
                Some(r) => return Err(format!("`rating` must be 1 to 5 stars, not {r}").into()),
            },
        },
        Some(_) => return Err("`engagement` must be an object".into()),
    };
    let lang = opt_str(&o, "lang")?.filter(|l| !l.is_empty());
    Ok(Mention {
        id,
        queries,
        source,
        source_kind,
        url,
        author,
        title,
        text,
        published_at,
        fetched_at,
        lang,
        sentiment,
        engagement,
        reach: opt_u64(&o, "reach")?,
        duplicates: Vec::new(),
        triage: None,
        parent_id: opt_str(&o, "parent_id")?.filter(|p| !p.is_empty()),
    })
}

/// Counts bytes for the progress bar.
struct CountingReader<'a, R> {
    inner: R,
    done: u64,
    report: &'a dyn Fn(u64),
}

impl<'a, R> CountingReader<'a, R> {
    fn new(inner: R, report: &'a dyn Fn(u64)) -> Self {
        CountingReader {
            inner,
            done: 0,
            report,
        }
    }
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.done += n as u64;
        (self.report)(self.done);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_become_mentions() {
        let h = csv::StringRecord::from(vec![
            "id",
            "text",
            "published_at",
            "likes",
            "sentiment",
            "score",
            "queries",
        ]);
        let r = csv::StringRecord::from(vec![
            "x:1",
            "hello",
            "2026-01-01T00:00:00Z",
            "3",
            "positive",
            "0.5",
            "a;b",
        ]);
        let m = row_to_mention(csv_row(&h, &r)).unwrap();
        assert_eq!(m.engagement.likes, Some(3));
        assert_eq!(m.sentiment.unwrap().label, Label::Positive);
        assert_eq!(m.queries, vec!["a", "b"]);
    }

    #[test]
    fn bad_rows_are_explained() {
        assert!(
            row_to_mention(serde_json::json!({"text":"x"}))
                .unwrap_err()
                .to_string()
                .contains("published_at")
        );
        assert!(matches!(
            row_to_mention(serde_json::json!({"text":"x","published_at":"nope"})),
            Err(RowError::Time(crate::timeutil::TimeError::BadTimestamp(_)))
        ));
        assert!(
            row_to_mention(
                serde_json::json!({"text":"x","published_at":"2026-01-01","sentiment":"meh"})
            )
            .is_err()
        );
        assert!(row_to_mention(serde_json::json!([1])).is_err());
        for t in ["1969-12-31T23:59:59Z", "2999-01-01T00:00:00Z"] {
            let e = row_to_mention(serde_json::json!({"text":"x","published_at":t})).unwrap_err();
            assert!(
                e.to_string().contains("before 1970 or in the future"),
                "{t}: {e}"
            );
        }
    }

    /// Regression (first hour): a plain date, which `--since` accepts, was refused.
    #[test]
    fn plain_dates_are_accepted() {
        let m =
            row_to_mention(serde_json::json!({"text":"x","published_at":"2026-12-01"})).unwrap();
        assert_eq!(m.published_at.to_rfc3339(), "2026-12-01T00:00:00+00:00");
    }

    #[test]
    fn missing_id_is_stable() {
        let v = serde_json::json!({"text":"hello","published_at":"2026-01-01T00:00:00Z"});
        assert_eq!(
            row_to_mention(v.clone()).unwrap().id,
            row_to_mention(v).unwrap().id
        );
    }
}
