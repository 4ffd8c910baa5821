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
    /// Query name → accepted exclusion words: a mention containing one does not match it.
    exclusions: crate::exclusions::Accepted,
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
            exclusions: Default::default(),
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

    /// Keeps mentions that contain a query's accepted exclusion words out of that query
    /// (see `exclusions.rs`).
    pub fn with_exclusions(mut self, exclusions: crate::exclusions::Accepted) -> Enricher {
        let mut h = Sha256::new();
        h.update(self.salt);
        let mut names: Vec<&String> = exclusions.keys().collect();
        names.sort();
        for n in names {
            let mut w: Vec<&String> = exclusions[n].iter().collect();
            w.sort();
            h.update(n.as_bytes());
            for x in w {
                h.update([0]);
                h.update(x.as_bytes());
            }
            h.update([1]);
        }
        self.salt = h.finalize().into();
        self.exclusions = exclusions;
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
        self.enrich_thread(mentions, lang_hint, unmatched, &|_| None)
    }

    /// [`enrich_many`](Self::enrich_many), where a comment or reply that names no query
    /// belongs to its thread: it takes the queries of its parent (`parent_id`), found in
    /// the same batch or, through `stored_parent`, among the mentions already stored. A
    /// complaint under a post about the brand rarely repeats the brand's name.
    pub fn enrich_thread(
        &self,
        mentions: Vec<Mention>,
        lang_hint: Option<&str>,
        unmatched: Unmatched,
        stored_parent: &(dyn Fn(&str) -> Option<Vec<String>> + Sync),
    ) -> Vec<Mention> {
        use rayon::prelude::*;
        let now = chrono::Utc::now();
        let mut prepared: Vec<(Mention, String, Vec<Vec<String>>)> = mentions
            .into_par_iter()
            .filter_map(|m| self.prepare(m, now, lang_hint, Unmatched::Keep))
            .collect();
        self.inherit_thread_queries(&mut prepared, stored_parent);
        if unmatched == Unmatched::Drop {
            prepared.retain(|(m, _, _)| !m.queries.is_empty());
        }
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

    /// Gives unmatched replies their parent's queries (those that still exist and apply to
    /// the reply's source and language), following chains of replies within the batch.
    fn inherit_thread_queries(
        &self,
        items: &mut [(Mention, String, Vec<Vec<String>>)],
        stored_parent: &(dyn Fn(&str) -> Option<Vec<String>> + Sync),
    ) {
        if !items
            .iter()
            .any(|(m, _, _)| m.queries.is_empty() && m.parent_id.is_some())
        {
            return;
        }
        let mut known: HashMap<String, Vec<String>> = items
            .iter()
            .filter(|(m, _, _)| !m.queries.is_empty())
            .map(|(m, _, _)| (m.id.clone(), m.queries.clone()))
            .collect();
        let mut looked_up: HashMap<String, Option<Vec<String>>> = HashMap::new();
        // A reply to a reply to a post settles in as many rounds as the chain is long.
        for _ in 0..8 {
            let mut changed = false;
            for (m, _, neutral) in items.iter_mut() {
                if !m.queries.is_empty() {
                    continue;
                }
                let Some(parent) = m.parent_id.as_deref() else {
                    continue;
                };
                let queries = match known.get(parent) {
                    Some(q) => q.clone(),
                    None => looked_up
                        .entry(parent.to_string())
                        .or_insert_with(|| stored_parent(parent))
                        .clone()
                        .unwrap_or_default(),
                };
                let idx: Vec<usize> = queries
                    .iter()
                    .filter_map(|n| self.by_name.get(n).copied())
                    .filter(|&i| self.applies(i, m))
                    .collect();
                if idx.is_empty() {
                    continue;
                }
                m.queries = idx.iter().map(|&i| self.queries[i].name.clone()).collect();
                *neutral = idx
                    .iter()
                    .flat_map(|&i| self.neutral[i].iter().cloned())
                    .collect();
                known.insert(m.id.clone(), m.queries.clone());
                changed = true;
            }
            if !changed {
                break;
            }
        }
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
                .filter(|&i| {
                    self.exclusions
                        .get(&self.queries[i].name)
                        .is_none_or(|w| !crate::exclusions::excluded(&content, w))
                })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn enricher() -> Enricher {
        let queries = vec![
            QueryConfig::from_match("acme", "acme").unwrap(),
            QueryConfig::from_match("globex", "globex").unwrap(),
        ];
        let router =
            Router::new(Arc::new(crate::sentiment::lexicon::Lexicon::new()), None).unwrap();
        Enricher::new(&queries, Arc::new(router))
    }

    fn mention(id: &str, text: &str, parent: Option<&str>) -> Mention {
        serde_json::from_value(serde_json::json!({
            "id": id, "source": "yt", "source_kind": "youtube", "text": text,
            "published_at": "2026-12-01T10:00:00Z", "parent_id": parent
        }))
        .unwrap()
    }

    #[test]
    fn replies_take_their_threads_queries() {
        let e = enricher();
        let batch = vec![
            mention("yt:v1", "Unboxing the new Acme blender", None),
            // Replies in the same batch, one a reply to a reply.
            mention("yt:c1", "mine broke after two days", Some("yt:v1")),
            mention("yt:c2", "same here, terrible", Some("yt:c1")),
            // A reply under a stored post about Globex.
            mention("yt:c3", "what a disappointment", Some("yt:old")),
            // A reply whose thread is about nothing monitored.
            mention("yt:c4", "nice cat", Some("yt:unrelated")),
            mention("yt:c5", "orphan", None),
        ];
        let stored = |id: &str| (id == "yt:old").then(|| vec!["globex".to_string()]);
        let out = e.enrich_thread(batch, None, Unmatched::Drop, &stored);
        let got: Vec<(&str, Vec<String>)> = out
            .iter()
            .map(|m| (m.id.as_str(), m.queries.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("yt:v1", vec!["acme".to_string()]),
                ("yt:c1", vec!["acme".to_string()]),
                ("yt:c2", vec!["acme".to_string()]),
                ("yt:c3", vec!["globex".to_string()]),
            ]
        );
        // Inherited mentions are scored like any other.
        assert_eq!(
            out[2].sentiment.as_ref().unwrap().label,
            crate::mention::Label::Negative
        );
        // Without the store, the reply to the stored post is unmatched.
        let again = e.enrich_many(
            vec![mention("yt:c3", "what a disappointment", Some("yt:old"))],
            None,
            Unmatched::Drop,
        );
        assert!(again.is_empty());
    }
}
