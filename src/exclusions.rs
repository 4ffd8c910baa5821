//! Exclusion proposals: when a team marks mentions of a query irrelevant (the other
//! "Acme": the cartoon, the namesake company), hark proposes the words that set them apart
//! (frequent among the irrelevant mentions, rare among the relevant ones). Accepted words
//! keep future mentions that contain them out of that query, from the next `hark run` on.
//! Accepted exclusions live in the state store (`StateUpdate::Exclusions`).

use crate::config::QueryConfig;
use crate::index::MentionIndex;
use crate::index::search::{Relevance, SearchRequest, Sort, search};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// A proposed word, with how many irrelevant and relevant mentions contain it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub term: String,
    pub irrelevant: usize,
    pub relevant: usize,
}

/// Mentions read per side (the newest).
const SAMPLE: usize = 5000;

fn words(text: &str) -> HashSet<String> {
    crate::text::tokenize(text)
        .into_iter()
        .map(|t| t.text)
        .filter(|t| t.chars().count() >= 3 && !t.chars().all(|c| c.is_ascii_digit()))
        .collect()
}

/// Up to `limit` words that set the irrelevant mentions of `query` apart, best first. A word
/// qualifies when at least two irrelevant mentions (or all of them, if only one) contain it,
/// and at most 1 % of the relevant ones; the query's own terms never qualify.
pub fn propose(
    index: &MentionIndex,
    query: &QueryConfig,
    limit: usize,
) -> Result<Vec<Proposal>, crate::index::IndexError> {
    let side = |relevance| -> Result<Vec<HashSet<String>>, crate::index::IndexError> {
        let req = SearchRequest {
            query: Some(query.name.clone()),
            relevance,
            sort: Sort::Newest,
            limit: SAMPLE,
            ..Default::default()
        };
        Ok(search(index, &req)?
            .mentions
            .iter()
            .map(|m| words(&m.content()))
            .collect())
    };
    let irrelevant = side(Relevance::Irrelevant)?;
    if irrelevant.is_empty() {
        return Ok(Vec::new());
    }
    let relevant = side(Relevance::Relevant)?;
    let own: HashSet<String> = query
        .neutral_terms()
        .into_iter()
        .flatten()
        .chain(query.search_terms.iter().flat_map(|t| words(t)))
        .collect();
    fn df(docs: &[HashSet<String>]) -> HashMap<&str, usize> {
        let mut m: HashMap<&str, usize> = HashMap::new();
        for d in docs {
            for w in d {
                *m.entry(w.as_str()).or_default() += 1;
            }
        }
        m
    }
    let (di, dr) = (df(&irrelevant), df(&relevant));
    let min_irr = 2.min(irrelevant.len());
    let max_rel = relevant.len() / 100;
    let mut out: Vec<(f64, Proposal)> = di
        .into_iter()
        .filter(|(w, n)| *n >= min_irr && !own.contains(*w))
        .filter_map(|(w, n)| {
            let r = dr.get(w).copied().unwrap_or(0);
            (r <= max_rel).then(|| {
                let score = ((n as f64 + 0.5) / (irrelevant.len() as f64 + 1.0)).ln()
                    - ((r as f64 + 0.5) / (relevant.len() as f64 + 1.0)).ln();
                (
                    score,
                    Proposal {
                        term: w.to_string(),
                        irrelevant: n,
                        relevant: r,
                    },
                )
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(b.1.irrelevant.cmp(&a.1.irrelevant))
            .then(a.1.term.cmp(&b.1.term))
    });
    Ok(out.into_iter().take(limit).map(|(_, p)| p).collect())
}

/// The accepted words after accepting `accept` and removing `remove` (folded as the index
/// folds words; each must be one word).
pub fn apply_change(
    current: Option<HashSet<String>>,
    accept: &[String],
    remove: &[String],
) -> Result<Vec<String>, String> {
    let fold = |w: &String| -> Result<String, String> {
        let t = crate::text::tokenize(w);
        match t.as_slice() {
            [one] => Ok(one.text.clone()),
            _ => Err(format!("`{w}` is not one word")),
        }
    };
    let mut words = current.unwrap_or_default();
    for w in accept {
        words.insert(fold(w)?);
    }
    for w in remove {
        words.remove(&fold(w)?);
    }
    let mut v: Vec<String> = words.into_iter().collect();
    v.sort();
    Ok(v)
}

/// Accepted exclusion words as the enricher checks them: query name → folded words.
pub type Accepted = HashMap<String, HashSet<String>>;

/// Whether `text` contains one of `words` (folded, as the proposals are).
pub fn excluded(text: &str, words: &HashSet<String>) -> bool {
    let mut hit = false;
    crate::text::for_each_token(text, |t| {
        if !hit && words.contains(t.text) {
            hit = true;
        }
    });
    hit
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::Mention;

    #[test]
    fn proposes_what_sets_the_irrelevant_apart() {
        let dir = tempfile::tempdir().unwrap();
        let index = MentionIndex::open_or_create(dir.path()).unwrap();
        let mut w = index.writer(1, 50).unwrap();
        let add = |i: usize, text: &str, irrelevant: bool| {
            let mut m = Mention::new(format!("t:{i}"), chrono::Utc::now());
            m.text = text.into();
            m.queries = vec!["acme".into()];
            if irrelevant {
                m.apply_triage(crate::triage::Triage {
                    irrelevant: true,
                    ..Default::default()
                });
            }
            index.upsert(&w, &m).unwrap();
        };
        for i in 0..200 {
            add(i, &format!("acme support ticket {i} about my order"), false);
        }
        add(1000, "acme road runner cartoon coyote", true);
        add(1001, "wile coyote buys acme rockets, classic cartoon", true);
        add(1002, "acme order support", true);
        w.commit().unwrap();
        index.reload().unwrap();
        let q = QueryConfig::from_match("acme", "acme").unwrap();
        let p = propose(&index, &q, 5).unwrap();
        let terms: Vec<&str> = p.iter().map(|p| p.term.as_str()).collect();
        assert_eq!(&terms[..2], ["cartoon", "coyote"], "{p:?}");
        assert!(
            !terms.contains(&"acme") && !terms.contains(&"order"),
            "{terms:?}"
        );
        assert_eq!(p[0].irrelevant, 2);
        let words: HashSet<String> = ["cartoon".to_string()].into();
        assert!(excluded("The new ACME Cartoon!", &words));
        assert!(!excluded("acme cartoonish", &words));
    }
}
