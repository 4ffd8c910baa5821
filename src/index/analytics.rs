//! Aggregates over the index that the API, the dashboard and the reports share: share of
//! voice across queries and the top authors or sources of a selection. (Time series per
//! sentiment are in [`super::stats`].)

use super::search::{SearchRequest, filter_query};
use super::stats::{Interval, stats};
use super::{IndexError, MentionIndex};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;

/// One query's row of a share-of-voice comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VoiceShare {
    pub name: String,
    pub mentions: u64,
    /// Share of all compared queries' mentions (0..1).
    pub share: f64,
    pub reach: u64,
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub net_sentiment: f64,
}

/// Mentions, reach and sentiment per query over one period — what share of voice charts
/// and reports use.
pub fn share_of_voice(
    index: &MentionIndex,
    queries: &[String],
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Result<Vec<VoiceShare>, IndexError> {
    let mut rows = Vec::new();
    for q in queries {
        let req = SearchRequest {
            query: Some(q.clone()),
            since,
            until,
            ..Default::default()
        };
        let filter = filter_query(index, &req)?;
        let s = stats(index, &*filter, Some(q), since, until, Interval::Day)?;
        rows.push((q.clone(), s.totals));
    }
    let all: u64 = rows.iter().map(|(_, t)| t.total).sum();
    Ok(rows
        .into_iter()
        .map(|(name, t)| VoiceShare {
            name,
            mentions: t.total,
            share: if all == 0 {
                0.0
            } else {
                t.total as f64 / all as f64
            },
            reach: t.reach,
            negative: t.negative,
            neutral: t.neutral,
            positive: t.positive,
            net_sentiment: t.net_sentiment(),
        })
        .collect())
}

/// Top authors or sources of the mentions a request selects: (name, mentions, reach),
/// ordered by reach (authors) or mention count (sources).
///
/// Reads the stored documents segment by segment in doc-id order (so each compressed store
/// block is decompressed once), segments in parallel, and parses only the three fields it
/// needs.
pub fn top(
    index: &MentionIndex,
    req: &SearchRequest,
    by_authors: bool,
    limit: usize,
) -> Result<Vec<(String, u64, u64)>, IndexError> {
    use rayon::prelude::*;
    use tantivy::schema::document::Value as _;
    #[derive(serde::Deserialize)]
    struct Slim<'a> {
        #[serde(borrow, default)]
        author: Option<std::borrow::Cow<'a, str>>,
        #[serde(borrow, default)]
        source: std::borrow::Cow<'a, str>,
        #[serde(default)]
        reach: Option<u64>,
    }
    let tv = |e: tantivy::TantivyError| IndexError::Tantivy {
        path: std::path::PathBuf::new(),
        source: e,
    };
    let filter = filter_query(index, req)?;
    let searcher = index.reader.searcher();
    let docs = searcher
        .search(&*filter, &tantivy::collector::DocSetCollector)
        .map_err(tv)?;
    let mut by_segment: Vec<Vec<u32>> = vec![Vec::new(); searcher.segment_readers().len()];
    for addr in docs {
        by_segment[addr.segment_ord as usize].push(addr.doc_id);
    }
    let json_field = index.fields.json;
    let parts: Vec<HashMap<String, (u64, u64)>> = by_segment
        .into_par_iter()
        .enumerate()
        .map(|(seg, mut ids)| {
            ids.sort_unstable();
            let mut agg: HashMap<String, (u64, u64)> = HashMap::new();
            let Ok(store) = searcher.segment_reader(seg as u32).get_store_reader(64) else {
                return agg;
            };
            for id in ids {
                let Ok(doc) = store.get::<tantivy::TantivyDocument>(id) else {
                    continue;
                };
                let Some(json) = doc.get_first(json_field).and_then(|v| v.as_str()) else {
                    continue;
                };
                let Ok(m) = serde_json::from_str::<Slim>(json) else {
                    continue;
                };
                let key = if by_authors {
                    m.author.map(|a| a.into_owned())
                } else {
                    Some(m.source.into_owned())
                };
                let Some(key) = key.filter(|k| !k.is_empty()) else {
                    continue;
                };
                let e = agg.entry(key).or_default();
                e.0 += 1;
                e.1 += m.reach.unwrap_or(0);
            }
            agg
        })
        .collect();
    let mut agg: HashMap<String, (u64, u64)> = HashMap::new();
    for part in parts {
        for (k, (n, r)) in part {
            let e = agg.entry(k).or_default();
            e.0 += n;
            e.1 += r;
        }
    }
    let mut rows: Vec<(String, u64, u64)> = agg.into_iter().map(|(k, (n, r))| (k, n, r)).collect();
    if by_authors {
        rows.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    } else {
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    }
    rows.truncate(limit);
    Ok(rows)
}
