//! The transform stage: a collected mention is matched against every query, its language
//! detected, and its sentiment scored with the query terms neutral. Shared by `hark run`,
//! `hark import` and `hark demo`, so every path stores mentions the same way.

use crate::config::QueryConfig;
use crate::lang;
use crate::mention::Mention;
use crate::query::{self, QuerySet};
use crate::sentiment::router::Router;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// What to do with a mention that matches no query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unmatched {
    /// Collected items that concern no query are not stored.
    Drop,
    /// Imported history is kept even when no current query matches it.
    Keep,
}

pub struct Enricher {
    queries: Vec<QueryConfig>,
    set: QuerySet,
    by_name: HashMap<String, usize>,
    neutral: Vec<Vec<Vec<String>>>,
    sentiment: Arc<Router>,
    /// Source name → the queries all its items belong to (a source's `queries` key).
    assigned: HashMap<String, Vec<String>>,
    /// Changes when the queries change, so that seen items are re-evaluated.
    salt: [u8; 32],
}

impl Enricher {
    pub fn new(queries: &[QueryConfig], sentiment: Arc<Router>) -> Enricher {
        let set = QuerySet::new(queries.iter().map(|q| q.expr.clone()).collect());
        let mut h = Sha256::new();
        h.update(sentiment.english_model().as_bytes());
        h.update(sentiment.languages().join(",").as_bytes());
        for q in queries {
            h.update(q.name.as_bytes());
            h.update([0]);
            h.update(q.match_text.as_bytes());
            h.update([0]);
            h.update(q.languages.join(",").as_bytes());
            h.update(q.sources.join(",").as_bytes());
            h.update([1]);
        }
        Enricher {
            by_name: queries
                .iter()
                .enumerate()
                .map(|(i, q)| (q.name.clone(), i))
                .collect(),
            neutral: queries.iter().map(QueryConfig::neutral_terms).collect(),
            queries: queries.to_vec(),
            set,
            sentiment,
            assigned: HashMap::new(),
            salt: h.finalize().into(),
        }
    }

    /// Assigns every item of the named sources to their listed queries, without term
    /// matching (the sources' `queries` key: a brand's own app reviews, page comments).
    pub fn with_assigned_queries(mut self, sources: &[crate::config::SourceConfig]) -> Enricher {
        let mut h = Sha256::new();
        h.update(self.salt);
        for s in sources.iter().filter(|s| !s.queries.is_empty()) {
            h.update(s.name.as_bytes());
            h.update([0]);
            h.update(s.queries.join(",").as_bytes());
            h.update([1]);
            self.assigned.insert(s.name.clone(), s.queries.clone());
        }
        self.salt = h.finalize().into();
        self
    }

    pub fn queries(&self) -> &[QueryConfig] {
        &self.queries
    }

    pub fn sentiment(&self) -> &Router {
        &self.sentiment
    }

    /// Identifies the content of a collected mention under the current queries: equal
    /// fingerprints mean re-processing would store the same thing.
    pub fn fingerprint(&self, m: &Mention) -> u64 {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(m.title.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
        h.update(m.text.as_bytes());
        h.update([0]);
        h.update(m.url.as_deref().unwrap_or("").as_bytes());
        let d = h.finalize();
        u64::from_le_bytes(d[..8].try_into().expect("8 bytes"))
    }

    /// Fills `queries` (when empty), `lang`, `sentiment` and `reach`. Returns None when the
    /// mention matches no query and `unmatched` is `Drop`.
    pub fn enrich(
        &self,
        m: Mention,
        lang_hint: Option<&str>,
        unmatched: Unmatched,
    ) -> Option<Mention> {
        self.enrich_many(vec![m], lang_hint, unmatched).pop()
    }

    /// [`enrich`](Self::enrich) for many mentions, in order, dropping the unmatched ones when
    /// `unmatched` is `Drop`. Language and matching run in parallel; sentiment is scored in
    /// one batch call, which batching classifiers (`bert`) need to be fast.
    pub fn enrich_many(
        &self,
        mentions: Vec<Mention>,
        lang_hint: Option<&str>,
        unmatched: Unmatched,
    ) -> Vec<Mention> {
        use rayon::prelude::*;
        let now = chrono::Utc::now();
        let prepared: Vec<(Mention, String, Vec<Vec<String>>)> = mentions
            .into_par_iter()
            .filter_map(|m| self.prepare(m, now, lang_hint, unmatched))
            .collect();
        let todo: Vec<crate::sentiment::router::RouteItem<'_>> = prepared
            .iter()
            .filter(|(m, _, _)| m.sentiment.is_none())
            .map(|(m, content, neutral)| (content.as_str(), m.lang.as_deref(), neutral.as_slice()))
            .collect();
        let mut scores = self.sentiment.classify_batch(&todo).into_iter();
        prepared
            .into_iter()
            .map(|(mut m, _, _)| {
                if m.sentiment.is_none() {
                    let (s, model) = scores
                        .next()
                        .expect("one score per mention without sentiment");
                    // A review's stars count with its text (see `sentiment::rating`).
                    m.sentiment = Some(match m.engagement.rating {
                        Some(stars) => {
                            let (s, model) = crate::sentiment::rating::blend(&s, model, stars);
                            s.to_sentiment(&model)
                        }
                        None => s.to_sentiment(model),
                    });
                }
                m.finish();
                m
            })
            .collect()
    }

    /// Language and queries of a mention, with its text and the brand terms to mask.
    fn prepare(
        &self,
        mut m: Mention,
        now: chrono::DateTime<chrono::Utc>,
        lang_hint: Option<&str>,
        unmatched: Unmatched,
    ) -> Option<(Mention, String, Vec<Vec<String>>)> {
        m.sanitize(now);
        let content = m.content();
        if m.lang.is_none() {
            m.lang = lang::detect(&content, lang_hint);
        }
        if m.queries.is_empty()
            && let Some(q) = self.assigned.get(&m.source)
        {
            m.queries = q.clone();
        }
        let matched: Vec<usize> = if m.queries.is_empty() {
            let analyzed = query::analyze(&content);
            self.set
                .matching(&analyzed)
                .into_iter()
                .filter(|&i| self.applies(i, &m))
                .collect()
        } else {
            m.queries
                .iter()
                .filter_map(|n| self.by_name.get(n).copied())
                .collect()
        };
        if matched.is_empty() && m.queries.is_empty() && unmatched == Unmatched::Drop {
            return None;
        }
        if m.queries.is_empty() {
            m.queries = matched
                .iter()
                .map(|&i| self.queries[i].name.clone())
                .collect();
        }
        let neutral: Vec<Vec<String>> = matched
            .iter()
            .flat_map(|&i| self.neutral[i].iter().cloned())
            .collect();
        Some((m, content, neutral))
    }

    /// The query's own `sources` and `languages` filters.
    fn applies(&self, i: usize, m: &Mention) -> bool {
        let q = &self.queries[i];
        let source_ok = q.sources.is_empty()
            || q.sources
                .iter()
                .any(|s| *s == m.source || *s == m.source_kind);
        source_ok && lang::passes(&q.languages, m.lang.as_deref())
    }
}
