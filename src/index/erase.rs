//! Deleting mentions: erasure on request (`hark delete`: a person's posts, a leaked text)
//! and retention (`[storage].retention`: everything published before a horizon).
//!
//! Selection reads the index; deletion needs the index writer, which `hark run` holds while
//! it runs: `hark delete` then says to stop it (retention runs inside `hark run`, through its
//! own writer). Erased ids are recorded in the state store so that sources never bring them
//! back; retention needs no record, since collection drops items older than the horizon.

use super::search::{SearchRequest, search};
use super::{IndexError, MentionIndex};
use crate::query::Expr;
use chrono::{DateTime, Utc};
use tantivy::collector::DocSetCollector;
use tantivy::query::RangeQuery;
use tantivy::schema::Value as _;
use tantivy::{DocAddress, TantivyDocument};

/// What to delete: every mention that meets all the given conditions.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// The author, exactly (ignoring case and surrounding spaces).
    pub author: Option<String>,
    /// A match-language expression the mention's text matches.
    pub expr: Option<Expr>,
    /// Published before this time.
    pub before: Option<DateTime<Utc>>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.author.is_none() && self.expr.is_none() && self.before.is_none()
    }
}

/// The ids of the mentions `sel` selects. An empty selection selects nothing.
pub fn select(index: &MentionIndex, sel: &Selection) -> Result<Vec<String>, IndexError> {
    if sel.is_empty() {
        return Ok(Vec::new());
    }
    if sel.author.is_none() && sel.expr.is_none() {
        return published_before(index, sel.before.expect("a time bound"));
    }
    // Narrow by the author's words in the index, then keep exact matches only: erasing
    // "John Smith" must not touch "John Smithson".
    let mut parts: Vec<Expr> = sel.expr.iter().cloned().collect();
    if let Some(a) = &sel.author {
        parts.push(Expr::Field {
            name: "author".into(),
            value: a.trim().to_string(),
        });
    }
    let expr = if parts.len() == 1 {
        parts.pop()
    } else {
        Some(Expr::And(parts))
    };
    let searcher = index.reader.searcher();
    let req = SearchRequest {
        expr,
        until: sel.before,
        relevance: super::search::Relevance::Any,
        limit: usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX),
        ..Default::default()
    };
    let wanted = sel.author.as_deref().map(|a| a.trim().to_lowercase());
    Ok(search(index, &req)?
        .mentions
        .into_iter()
        .filter(|m| {
            wanted.as_deref().is_none_or(|w| {
                m.author
                    .as_deref()
                    .is_some_and(|a| a.trim().to_lowercase() == w)
            })
        })
        .map(|m| m.id)
        .collect())
}

/// Ids of everything published before `t` (read from the id field, no mention decoded).
fn published_before(index: &MentionIndex, t: DateTime<Utc>) -> Result<Vec<String>, IndexError> {
    let f = &index.fields;
    let upper = tantivy::Term::from_field_date(
        f.published_at,
        tantivy::DateTime::from_timestamp_secs(t.timestamp()),
    );
    let q = RangeQuery::new(std::ops::Bound::Unbounded, std::ops::Bound::Excluded(upper));
    let searcher = index.reader.searcher();
    let docs = searcher
        .search(&q, &DocSetCollector)
        .map_err(|e| index.tantivy_err(e))?;
    let mut docs: Vec<DocAddress> = docs.into_iter().collect();
    docs.sort();
    let mut ids = Vec::with_capacity(docs.len());
    for d in docs {
        let doc: TantivyDocument = searcher.doc(d).map_err(|e| index.tantivy_err(e))?;
        if let Some(id) = doc.get_first(f.id).and_then(|v| v.as_str()) {
            ids.push(id.to_string());
        }
    }
    Ok(ids)
}

/// Deletes `ids` and commits (opens the writer: fails while `hark run` holds it).
pub fn delete(index: &MentionIndex, ids: &[String]) -> Result<(), IndexError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut writer = index.writer(1, 50)?;
    for id in ids {
        index.delete(&writer, id);
    }
    writer.commit().map_err(|e| index.tantivy_err(e))?;
    index.reload()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::Mention;
    use chrono::TimeZone;

    fn m(id: &str, author: &str, text: &str, day: u32) -> Mention {
        Mention {
            author: Some(author.into()),
            text: text.into(),
            ..Mention::new(id, Utc.with_ymd_and_hms(2026, 11, day, 10, 0, 0).unwrap())
        }
    }

    #[test]
    fn selects_by_exact_author_text_and_time() {
        let dir = tempfile::tempdir().unwrap();
        let index = MentionIndex::open_or_create(dir.path()).unwrap();
        let mut w = index.writer(1, 50).unwrap();
        for x in [
            m("t:1", "John Smith", "my phone is 555-0100", 1),
            m("t:2", "john smith ", "hello", 20),
            m("t:3", "John Smithson", "hello", 2),
            m("t:4", "Ann", "my phone is 555-0100", 25),
        ] {
            index.upsert(&w, &x).unwrap();
        }
        w.commit().unwrap();
        index.reload().unwrap();
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let by_author = Selection {
            author: Some("John Smith".into()),
            ..Default::default()
        };
        assert_eq!(sorted(select(&index, &by_author).unwrap()), ["t:1", "t:2"]);
        let by_text = Selection {
            expr: Some(crate::query::parse("\"555-0100\"", &Default::default()).unwrap()),
            ..Default::default()
        };
        assert_eq!(sorted(select(&index, &by_text).unwrap()), ["t:1", "t:4"]);
        let before = Utc.with_ymd_and_hms(2026, 11, 10, 0, 0, 0).unwrap();
        let old = Selection {
            before: Some(before),
            ..Default::default()
        };
        assert_eq!(sorted(select(&index, &old).unwrap()), ["t:1", "t:3"]);
        let both = Selection {
            before: Some(before),
            ..by_author.clone()
        };
        assert_eq!(select(&index, &both).unwrap(), ["t:1"]);
        assert!(select(&index, &Selection::default()).unwrap().is_empty());
        drop(w);
        delete(&index, &["t:1".to_string(), "t:3".to_string()]).unwrap();
        assert_eq!(index.num_docs(), 2);
        assert!(index.get("t:1").unwrap().is_none());
    }
}
