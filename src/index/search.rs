//! `hark search`: the match language (plus `field:value`) translated into tantivy queries,
//! combined with the command's filters, sorted and paged.
//!
//! The translation is exact because the index was built with the matcher's own tokenizer:
//! a term is a term query, a phrase a phrase query, `foo*` a regex over the term
//! dictionary, `#tag` the sigil-carrying token, `NEAR/n` two sloppy phrases (one per order).

use super::{IndexError, MentionIndex};
use crate::mention::{Label, Mention};
use crate::query::Expr;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::ops::Bound;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{Order, TantivyDocument, Term};

/// The fields usable as `field:value` in a search query.
pub const SEARCH_FIELDS: &[&str] = &[
    "id",
    "query",
    "source",
    "kind",
    "lang",
    "sentiment",
    "author",
    "title",
    "text",
    "url",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Newest,
    Oldest,
    Relevance,
    Reach,
}

impl Sort {
    pub fn parse(s: &str) -> Option<Sort> {
        match s {
            "newest" => Some(Sort::Newest),
            "oldest" => Some(Sort::Oldest),
            "relevance" => Some(Sort::Relevance),
            "reach" => Some(Sort::Reach),
            _ => None,
        }
    }
}

/// What to look for; every part is optional and they combine with AND.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub expr: Option<Expr>,
    pub query: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub sentiment: Option<Label>,
    /// A source name or a source kind.
    pub source: Option<String>,
    pub lang: Option<String>,
    /// Triage: only mentions with this status.
    pub status: Option<crate::triage::Status>,
    /// Triage: only mentions with this tag.
    pub tag: Option<String>,
    /// Mentions marked irrelevant are left out of everything unless asked for.
    pub relevance: Relevance,
    pub sort: Sort,
    pub limit: usize,
    pub offset: usize,
}

/// Which mentions count, by the team's "irrelevant" mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Relevance {
    /// Everything not marked irrelevant: what searches, counts, alerts and reports see.
    #[default]
    Relevant,
    /// Only the mentions marked irrelevant (to review or undo the marks).
    Irrelevant,
    /// All (erasure, retention).
    Any,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    pub total: usize,
    pub mentions: Vec<Mention>,
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    ))
}

/// Tokens of a phrase → a term or phrase query on `field`.
fn phrase(field: Field, tokens: &[String]) -> Box<dyn Query> {
    match tokens.len() {
        0 => Box::new(EmptyQuery),
        1 => term(field, &tokens[0]),
        _ => Box::new(PhraseQuery::new(
            tokens
                .iter()
                .map(|t| Term::from_field_text(field, t))
                .collect(),
        )),
    }
}

fn escape_regex(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if !c.is_alphanumeric() && c != '_' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn prefix(index: &MentionIndex, field: Field, p: &str) -> Result<Box<dyn Query>, IndexError> {
    let q = RegexQuery::from_pattern(&format!("{}.*", escape_regex(p)), field)
        .map_err(|e| index.tantivy_err(e))?;
    Ok(Box::new(q))
}

/// The single index token an operand of NEAR stands for, if it is one.
fn single_token(e: &Expr) -> Option<String> {
    match e {
        Expr::Phrase(t) if t.len() == 1 => Some(t[0].clone()),
        Expr::Tag { sigil, text } => Some(format!("{sigil}{text}")),
        _ => None,
    }
}

/// `positive` is false under an odd number of NOTs. Where the translation cannot be exact
/// (NEAR with a prefix operand), it errs towards more documents when positive and fewer
/// under NOT, so the query is a superset of the true matches, which are then verified.
fn translate(index: &MentionIndex, e: &Expr, positive: bool) -> Result<Box<dyn Query>, IndexError> {
    let f = &index.fields;
    Ok(match e {
        Expr::Phrase(tokens) => phrase(f.content, tokens),
        Expr::Prefix(p) => prefix(index, f.content, p)?,
        Expr::Tag { sigil, text } => term(f.content, &format!("{sigil}{text}")),
        Expr::Near {
            left,
            right,
            distance,
        } => match (single_token(left), single_token(right)) {
            (Some(a), Some(b)) => {
                // tantivy's slop is a budget over both orders; one phrase per order with
                // slop n-1 accepts exactly the pairs at most n positions apart.
                let slop = distance.saturating_sub(1);
                let mut ab = PhraseQuery::new(vec![
                    Term::from_field_text(f.content, &a),
                    Term::from_field_text(f.content, &b),
                ]);
                ab.set_slop(slop);
                let mut ba = PhraseQuery::new(vec![
                    Term::from_field_text(f.content, &b),
                    Term::from_field_text(f.content, &a),
                ]);
                ba.set_slop(slop);
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, Box::new(ab) as Box<dyn Query>),
                    (Occur::Should, Box::new(ba)),
                ]))
            }
            // Prefix operands: both must occur; positions are checked on the stored text.
            _ if positive => Box::new(BooleanQuery::new(vec![
                (Occur::Must, translate(index, left, positive)?),
                (Occur::Must, translate(index, right, positive)?),
            ])),
            _ => Box::new(EmptyQuery),
        },
        Expr::And(items) => {
            let mut clauses = Vec::new();
            let mut has_required = false;
            for item in items {
                match item {
                    Expr::Not(inner) => {
                        clauses.push((Occur::MustNot, translate(index, inner, !positive)?))
                    }
                    other => {
                        has_required = true;
                        clauses.push((Occur::Must, translate(index, other, positive)?));
                    }
                }
            }
            if !has_required {
                clauses.push((Occur::Must, Box::new(AllQuery)));
            }
            Box::new(BooleanQuery::new(clauses))
        }
        Expr::Or(items) => Box::new(BooleanQuery::new(
            items
                .iter()
                .map(|i| Ok((Occur::Should, translate(index, i, positive)?)))
                .collect::<Result<Vec<_>, IndexError>>()?,
        )),
        Expr::Not(inner) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, Box::new(AllQuery) as Box<dyn Query>),
            (Occur::MustNot, translate(index, inner, !positive)?),
        ])),
        Expr::Field { name, value } => field_query(index, name, value)?,
    })
}

fn field_query(
    index: &MentionIndex,
    name: &str,
    value: &str,
) -> Result<Box<dyn Query>, IndexError> {
    let f = &index.fields;
    let tokens = || {
        crate::text::tokenize(value)
            .into_iter()
            .map(|t| t.text)
            .collect::<Vec<_>>()
    };
    Ok(match name {
        "id" => term(f.id, value),
        "query" => term(f.queries, value),
        "source" => Box::new(BooleanQuery::new(vec![
            (Occur::Should, term(f.source, value)),
            (Occur::Should, term(f.source_kind, value)),
        ])),
        "kind" => term(f.source_kind, value),
        "lang" => term(f.lang, &value.to_ascii_lowercase()),
        "sentiment" => term(f.sentiment, &value.to_ascii_lowercase()),
        "url" => term(f.url, value),
        "author" => phrase(f.author, &tokens()),
        "title" => phrase(f.title, &tokens()),
        "text" => phrase(f.content, &tokens()),
        _ => Box::new(EmptyQuery),
    })
}

/// Whether the translated query may accept documents the matcher rejects (NEAR with
/// prefix operands): those are then checked against the stored text.
fn needs_verification(e: &Expr) -> bool {
    match e {
        Expr::Near { left, right, .. } => {
            single_token(left).is_none() || single_token(right).is_none()
        }
        Expr::And(v) | Expr::Or(v) => v.iter().any(needs_verification),
        Expr::Not(i) => needs_verification(i),
        _ => false,
    }
}

fn date_term(field: Field, t: DateTime<Utc>) -> Term {
    Term::from_field_date(
        field,
        tantivy::DateTime::from_timestamp_secs(t.timestamp().clamp(-9_200_000_000, 9_200_000_000)),
    )
}

/// The filter part of a request (everything but sorting and paging), as one query.
pub fn filter_query(
    index: &MentionIndex,
    req: &SearchRequest,
) -> Result<Box<dyn Query>, IndexError> {
    let f = &index.fields;
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if let Some(e) = &req.expr {
        clauses.push((Occur::Must, translate(index, e, true)?));
    }
    if let Some(q) = &req.query {
        clauses.push((Occur::Must, term(f.queries, q)));
    }
    if req.since.is_some() || req.until.is_some() {
        let lower = req.since.map_or(Bound::Unbounded, |t| {
            Bound::Included(date_term(f.published_at, t))
        });
        let upper = req.until.map_or(Bound::Unbounded, |t| {
            Bound::Excluded(date_term(f.published_at, t))
        });
        clauses.push((Occur::Must, Box::new(RangeQuery::new(lower, upper))));
    }
    if let Some(s) = req.sentiment {
        clauses.push((Occur::Must, term(f.sentiment, s.as_str())));
    }
    if let Some(s) = &req.source {
        clauses.push((Occur::Must, field_query(index, "source", s)?));
    }
    if let Some(l) = &req.lang {
        clauses.push((Occur::Must, term(f.lang, &l.to_ascii_lowercase())));
    }
    if let Some(s) = req.status {
        clauses.push((
            Occur::Must,
            term(f.triage, &format!("status:{}", s.as_str())),
        ));
    }
    if let Some(t) = &req.tag {
        let t = crate::triage::normalize_tag(t);
        clauses.push((Occur::Must, term(f.triage, &format!("tag:{t}"))));
    }
    match req.relevance {
        Relevance::Relevant => clauses.push((Occur::MustNot, term(f.triage, "irrelevant"))),
        Relevance::Irrelevant => clauses.push((Occur::Must, term(f.triage, "irrelevant"))),
        Relevance::Any => {}
    }
    if clauses.is_empty() {
        return Ok(Box::new(AllQuery));
    }
    // A query of exclusions only matches nothing in tantivy: exclude from everything.
    if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
        clauses.push((Occur::Must, Box::new(AllQuery)));
    }
    Ok(Box::new(BooleanQuery::new(clauses)))
}

pub fn search(index: &MentionIndex, req: &SearchRequest) -> Result<SearchResult, IndexError> {
    let searcher = index.reader.searcher();
    let query = filter_query(index, req)?;
    let err = |e| index.tantivy_err(e);
    if let Some(e) = req.expr.as_ref().filter(|e| needs_verification(e)) {
        return search_verified(index, req, &*query, e);
    }
    // Bounded by what the index holds: `--limit 18446744073709551615` (or a huge offset)
    // must not overflow or allocate a heap of that size in the collector.
    let docs = usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX);
    let offset = req.offset.min(docs);
    let limit = req.limit.min(docs - offset).max(1);
    let top = TopDocs::with_limit(limit).and_offset(offset);
    let (total, addrs): (usize, Vec<tantivy::DocAddress>) = match req.sort {
        Sort::Relevance => {
            let (n, d) = searcher.search(&*query, &(Count, top)).map_err(err)?;
            (n, d.into_iter().map(|(_, a)| a).collect())
        }
        Sort::Newest | Sort::Oldest => {
            let order = if req.sort == Sort::Newest {
                Order::Desc
            } else {
                Order::Asc
            };
            let c = top.order_by_fast_field::<tantivy::DateTime>("published_at", order);
            let (n, d) = searcher.search(&*query, &(Count, c)).map_err(err)?;
            (n, d.into_iter().map(|(_, a)| a).collect())
        }
        Sort::Reach => {
            let c = top.order_by_fast_field::<u64>("reach", Order::Desc);
            let (n, d) = searcher.search(&*query, &(Count, c)).map_err(err)?;
            (n, d.into_iter().map(|(_, a)| a).collect())
        }
    };
    let mut mentions = Vec::with_capacity(addrs.len());
    for a in addrs {
        let doc: TantivyDocument = searcher.doc(a).map_err(err)?;
        mentions.push(index.mention(&doc)?);
    }
    if req.limit == 0 {
        mentions.clear();
    }
    Ok(SearchResult { total, mentions })
}

/// A `field:value` filter decided on a loaded mention (same semantics as `field_query`).
fn field_matches(m: &Mention, name: &str, value: &str) -> bool {
    let phrase_in = |hay: &str| {
        let want: Vec<String> = crate::text::tokenize(value)
            .into_iter()
            .map(|t| t.text)
            .collect();
        crate::query::Expr::Phrase(want).matches(&crate::query::analyze(hay))
    };
    match name {
        "id" => m.id == value,
        "query" => m.queries.iter().any(|q| q == value),
        "source" => m.source == value || m.source_kind == value,
        "kind" => m.source_kind == value,
        "lang" => m.lang.as_deref() == Some(value.to_ascii_lowercase().as_str()),
        "sentiment" => m
            .sentiment
            .as_ref()
            .is_some_and(|s| s.label.as_str() == value.to_ascii_lowercase()),
        "url" => m.url.as_deref() == Some(value),
        "author" => phrase_in(m.author.as_deref().unwrap_or("")),
        "title" => phrase_in(m.title.as_deref().unwrap_or("")),
        "text" => phrase_in(&m.content()),
        _ => false,
    }
}

/// Slow path: all candidates are loaded and checked with the in-memory matcher.
fn search_verified(
    index: &MentionIndex,
    req: &SearchRequest,
    query: &dyn Query,
    expr: &Expr,
) -> Result<SearchResult, IndexError> {
    let searcher = index.reader.searcher();
    let err = |e| index.tantivy_err(e);
    let addrs = searcher
        .search(query, &tantivy::collector::DocSetCollector)
        .map_err(err)?;
    let mut found = Vec::new();
    for a in addrs {
        let doc: TantivyDocument = searcher.doc(a).map_err(err)?;
        let m = index.mention(&doc)?;
        if expr.matches_with(&crate::query::analyze(&m.content()), |name, value| {
            field_matches(&m, name, value)
        }) {
            found.push(m);
        }
    }
    match req.sort {
        Sort::Newest | Sort::Relevance => found.sort_by_key(|m| std::cmp::Reverse(m.published_at)),
        Sort::Oldest => found.sort_by_key(|a| a.published_at),
        Sort::Reach => found.sort_by_key(|m| std::cmp::Reverse(m.reach)),
    }
    let total = found.len();
    let mentions = found.into_iter().skip(req.offset).take(req.limit).collect();
    Ok(SearchResult { total, mentions })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mention::{Engagement, Sentiment};
    use crate::query::{ParseOptions, analyze, parse};

    /// A tiny deterministic generator, so that failures reproduce.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[(self.next() % xs.len() as u64) as usize]
        }
    }

    const WORDS: &[&str] = &[
        "acme",
        "Acmé",
        "corp",
        "road",
        "runner",
        "#acme",
        "@acme",
        "café",
        "cafe",
        "bad",
        "acmeology",
        "delay",
        "delays",
        "x",
        "東京",
        "the",
    ];

    fn random_text(r: &mut Rng) -> String {
        let n = 1 + r.next() % 12;
        (0..n)
            .map(|_| r.pick(WORDS))
            .collect::<Vec<_>>()
            .join(if r.next().is_multiple_of(3) {
                ", "
            } else {
                " "
            })
    }

    fn random_query(r: &mut Rng, depth: u32) -> String {
        let atoms = [
            "acme",
            "corp",
            "\"acme corp\"",
            "#acme",
            "@acme",
            "cafe",
            "delay*",
            "(acme NEAR/2 corp)",
            "(road NEAR/3 runner)",
            "(acme NEAR/1 delay*)",
            "東京",
            "\"road runner\"",
            "the",
        ];
        if depth == 0 || r.next().is_multiple_of(3) {
            return r.pick(&atoms).to_string();
        }
        let a = random_query(r, depth - 1);
        let b = random_query(r, depth - 1);
        match r.next() % 4 {
            0 => format!("({a} AND {b})"),
            1 => format!("({a} OR {b})"),
            2 => format!("({a} AND NOT {b})"),
            _ => format!("({a} {b})"),
        }
    }

    #[test]
    fn search_agrees_with_the_matcher() {
        let dir = tempfile::tempdir().unwrap();
        let index = MentionIndex::open_or_create(dir.path()).unwrap();
        let writer = index.writer(1, 32).unwrap();
        let mut r = Rng(0x9e3779b97f4a7c15);
        let mut docs = Vec::new();
        for i in 0..300 {
            let text = random_text(&mut r);
            let m = Mention {
                id: format!("t:{i}"),
                queries: vec![],
                source: "s".into(),
                source_kind: "test".into(),
                url: None,
                author: None,
                title: None,
                text: text.clone(),
                published_at: chrono::Utc::now(),
                fetched_at: None,
                lang: None,
                sentiment: Some(Sentiment {
                    label: Label::Neutral,
                    score: 0.0,
                    model: "t".into(),
                }),
                engagement: Engagement::default(),
                reach: Some(i),
                duplicates: Vec::new(),
                triage: None,
                parent_id: None,
            };
            index.upsert(&writer, &m).unwrap();
            docs.push(m);
        }
        let mut writer = writer;
        writer.commit().unwrap();
        index.reload().unwrap();
        for _ in 0..300 {
            let q = random_query(&mut r, 3);
            let expr = parse(&q, &ParseOptions::default()).unwrap();
            let want: std::collections::BTreeSet<String> = docs
                .iter()
                .filter(|d| expr.matches(&analyze(&d.content())))
                .map(|d| d.id.clone())
                .collect();
            let req = SearchRequest {
                expr: Some(expr),
                limit: 1000,
                ..Default::default()
            };
            let got = search(&index, &req).unwrap();
            let got_ids: std::collections::BTreeSet<String> =
                got.mentions.iter().map(|m| m.id.clone()).collect();
            let diff: Vec<&String> = docs
                .iter()
                .filter(|d| want.contains(&d.id) != got.mentions.iter().any(|m| m.id == d.id))
                .map(|d| &d.text)
                .collect();
            assert_eq!(
                got.total,
                want.len(),
                "total for {q}; differing docs: {diff:?}"
            );
            assert_eq!(got_ids, want, "query {q}");
        }
    }

    #[test]
    fn filters_sort_and_page() {
        let dir = tempfile::tempdir().unwrap();
        let index = MentionIndex::open_or_create(dir.path()).unwrap();
        let mut writer = index.writer(1, 32).unwrap();
        let base = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        for i in 0..50u64 {
            let label = Label::ALL[(i % 3) as usize];
            let m = Mention {
                id: format!("t:{i}"),
                queries: vec![if i % 2 == 0 {
                    "even".into()
                } else {
                    "odd".into()
                }],
                source: format!("src{}", i % 5),
                source_kind: "test".into(),
                url: None,
                author: Some(format!("Author {}", i % 4)),
                title: None,
                text: format!("acme item {i}"),
                published_at: base + chrono::Duration::hours(i as i64),
                fetched_at: None,
                lang: Some(if i % 10 == 0 {
                    "fr".into()
                } else {
                    "en".into()
                }),
                sentiment: Some(Sentiment {
                    label,
                    score: 0.0,
                    model: "t".into(),
                }),
                engagement: Engagement::default(),
                reach: Some(1000 - i),
                duplicates: Vec::new(),
                triage: None,
                parent_id: None,
            };
            index.upsert(&writer, &m).unwrap();
        }
        // Re-adding an id replaces it.
        let mut again = index.get("t:0").unwrap();
        assert!(again.is_none());
        writer.commit().unwrap();
        index.reload().unwrap();
        again = index.get("t:0").unwrap();
        let mut m0 = again.unwrap();
        m0.text = "acme replaced".into();
        index.upsert(&writer, &m0).unwrap();
        writer.commit().unwrap();
        index.reload().unwrap();
        assert_eq!(index.num_docs(), 50);

        let run = |req: SearchRequest| search(&index, &req).unwrap();
        let r = run(SearchRequest {
            query: Some("even".into()),
            sentiment: Some(Label::Negative),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(
            r.total,
            (0..50).filter(|i| i % 2 == 0 && i % 3 == 0).count()
        );
        let r = run(SearchRequest {
            since: Some(base + chrono::Duration::hours(10)),
            until: Some(base + chrono::Duration::hours(20)),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(r.total, 10);
        assert_eq!(r.mentions[0].id, "t:19", "newest first");
        let r = run(SearchRequest {
            sort: Sort::Oldest,
            limit: 3,
            offset: 2,
            ..Default::default()
        });
        assert_eq!(
            r.mentions.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            vec!["t:2", "t:3", "t:4"]
        );
        assert_eq!(r.total, 50);
        let r = run(SearchRequest {
            sort: Sort::Reach,
            limit: 1,
            ..Default::default()
        });
        assert_eq!(r.mentions[0].id, "t:0");
        let r = run(SearchRequest {
            lang: Some("FR".into()),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(r.total, 5);
        let r = run(SearchRequest {
            source: Some("src1".into()),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(r.total, 10);
        let r = run(SearchRequest {
            source: Some("test".into()),
            limit: 0,
            ..Default::default()
        });
        assert_eq!((r.total, r.mentions.len()), (50, 0));
        let fields = ParseOptions {
            allow_fields: SEARCH_FIELDS,
        };
        let r = run(SearchRequest {
            expr: Some(parse("author:\"author 3\" AND sentiment:positive", &fields).unwrap()),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(
            r.total,
            (0..50).filter(|i| i % 4 == 3 && i % 3 == 2).count()
        );
        let r = run(SearchRequest {
            expr: Some(parse("replaced", &fields).unwrap()),
            limit: 100,
            ..Default::default()
        });
        assert_eq!(r.total, 1);
    }
}
