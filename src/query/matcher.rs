//! Matching queries against analyzed texts, one at a time or many at once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::ast::Expr;
use crate::text::{TokenRef, for_each_token};

const NONE: u32 = u32::MAX;

/// A fast non-cryptographic hash for short strings (token texts are not attacker-chosen in
/// a way that matters here: a collision only costs a probe).
#[derive(Default, Clone, Copy)]
struct WordHasher(u64);

const K: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for WordHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            h = (h.rotate_left(23) ^ u64::from_le_bytes(c.try_into().expect("8 bytes")))
                .wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            h = (h.rotate_left(23) ^ u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59))
                .wrapping_mul(K);
        }
        self.0 = h;
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.0 = (self.0.rotate_left(23) ^ u64::from(i)).wrapping_mul(K);
    }

    #[inline]
    fn finish(&self) -> u64 {
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(K) ^ (h >> 32)
    }
}

type WordMap<V> = HashMap<Box<str>, V, BuildHasherDefault<WordHasher>>;

#[inline]
fn hash_word(s: &str) -> u64 {
    let mut h = WordHasher::default();
    h.write(s.as_bytes());
    h.finish()
}

#[derive(Debug, Clone)]
struct Tok {
    /// Range of the folded text in `Analyzed::arena`.
    text: (u32, u32),
    start: usize,
    end: usize,
    sigil: Option<char>,
    /// Next position of the same word, or `NONE`.
    next: u32,
}

#[derive(Debug, Clone)]
struct Term {
    hash: u64,
    first: u32,
    last: u32,
    /// Bit 0: occurs as `#word`, bit 1: occurs as `@word`.
    tags: u8,
}

fn sigil_bit(sigil: Option<char>) -> u8 {
    match sigil {
        Some('#') => 1,
        Some('@') => 2,
        _ => 0,
    }
}

/// A text tokenized once for matching: its tokens in order, and an index from each distinct
/// word to its positions and to whether it occurs as a hashtag or handle.
///
/// Built by [`analyze`]; uses a handful of allocations whatever the number of tokens.
#[derive(Debug, Clone)]
pub struct Analyzed {
    arena: String,
    toks: Vec<Tok>,
    terms: Vec<Term>,
    /// Open-addressing table of term indices + 1 (0 = empty); its length is a power of two.
    table: Vec<u32>,
}

/// Tokenizes `text` (with [`crate::text::for_each_token`]) and indexes it for matching.
pub fn analyze(text: &str) -> Analyzed {
    let mut a = Analyzed {
        arena: String::with_capacity(text.len()),
        toks: Vec::with_capacity(text.len() / 5 + 1),
        terms: Vec::with_capacity(text.len() / 6 + 1),
        table: vec![0; (text.len() / 3).next_power_of_two().max(16)],
    };
    for_each_token(text, |t| a.push(t));
    a
}

impl Analyzed {
    fn push(&mut self, t: TokenRef<'_>) {
        let pos = self.toks.len() as u32;
        let from = self.arena.len() as u32;
        self.arena.push_str(t.text);
        self.toks.push(Tok {
            text: (from, self.arena.len() as u32),
            start: t.start,
            end: t.end,
            sigil: t.sigil,
            next: NONE,
        });
        let hash = hash_word(t.text);
        let bit = sigil_bit(t.sigil);
        match self.find(t.text, hash) {
            Ok(id) => {
                let term = &mut self.terms[id];
                let last = term.last as usize;
                term.last = pos;
                term.tags |= bit;
                self.toks[last].next = pos;
            }
            Err(slot) => {
                self.table[slot] = self.terms.len() as u32 + 1;
                self.terms.push(Term {
                    hash,
                    first: pos,
                    last: pos,
                    tags: bit,
                });
                if self.terms.len() * 2 > self.table.len() {
                    self.grow();
                }
            }
        }
    }

    fn grow(&mut self) {
        let size = self.table.len() * 2;
        self.table.clear();
        self.table.resize(size, 0);
        let mask = size - 1;
        for (id, term) in self.terms.iter().enumerate() {
            let mut slot = (term.hash as usize) & mask;
            while self.table[slot] != 0 {
                slot = (slot + 1) & mask;
            }
            self.table[slot] = id as u32 + 1;
        }
    }

    /// `Ok(term index)` or `Err(empty slot)`.
    #[inline]
    fn find(&self, word: &str, hash: u64) -> Result<usize, usize> {
        let mask = self.table.len() - 1;
        let mut slot = (hash as usize) & mask;
        loop {
            match self.table[slot] {
                0 => return Err(slot),
                id => {
                    let term = &self.terms[id as usize - 1];
                    if term.hash == hash && self.text(term.first as usize) == word {
                        return Ok(id as usize - 1);
                    }
                }
            }
            slot = (slot + 1) & mask;
        }
    }

    fn term(&self, word: &str) -> Option<&Term> {
        self.find(word, hash_word(word))
            .ok()
            .map(|id| &self.terms[id])
    }

    #[inline]
    fn text(&self, pos: usize) -> &str {
        let (a, b) = self.toks[pos].text;
        &self.arena[a as usize..b as usize]
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// Whether the text has no tokens.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// The token at `position`.
    ///
    /// # Panics
    ///
    /// If `position >= self.len()`.
    pub fn token(&self, position: usize) -> TokenRef<'_> {
        let t = &self.toks[position];
        TokenRef {
            text: self.text(position),
            start: t.start,
            end: t.end,
            position: position as u32,
            sigil: t.sigil,
        }
    }

    /// All tokens in order.
    pub fn tokens(&self) -> impl Iterator<Item = TokenRef<'_>> + '_ {
        (0..self.toks.len()).map(|p| self.token(p))
    }

    /// The distinct folded words of the text, in order of first occurrence.
    pub fn words(&self) -> impl Iterator<Item = &str> + '_ {
        self.terms.iter().map(|t| self.text(t.first as usize))
    }

    /// Whether the folded `word` occurs (with or without sigil).
    pub fn contains(&self, word: &str) -> bool {
        self.term(word).is_some()
    }

    /// Whether the folded `word` occurs right after `sigil` (`'#'` or `'@'`).
    pub fn has_tag(&self, sigil: char, word: &str) -> bool {
        let bit = sigil_bit(Some(sigil));
        bit != 0 && self.term(word).is_some_and(|t| t.tags & bit != 0)
    }

    /// Positions of the folded `word`, ascending.
    pub fn positions(&self, word: &str) -> impl Iterator<Item = u32> + '_ {
        let mut p = self.term(word).map_or(NONE, |t| t.first);
        std::iter::from_fn(move || {
            (p != NONE).then(|| {
                let cur = p;
                p = self.toks[cur as usize].next;
                cur
            })
        })
    }

    /// Whether the words occur at consecutive positions starting at `pos`.
    fn phrase_at(&self, words: &[String], pos: u32) -> bool {
        let pos = pos as usize;
        pos + words.len() <= self.toks.len()
            && words
                .iter()
                .enumerate()
                .all(|(i, w)| self.text(pos + i) == w)
    }

    /// Positions where a NEAR operand matches, ascending.
    fn operand_positions(&self, e: &Expr) -> Vec<u32> {
        match e {
            Expr::Phrase(words) if !words.is_empty() => self
                .positions(&words[0])
                .filter(|&p| self.phrase_at(words, p))
                .collect(),
            Expr::Tag { sigil, text } => self
                .positions(text)
                .filter(|&p| self.toks[p as usize].sigil == Some(*sigil))
                .collect(),
            Expr::Prefix(prefix) => (0..self.toks.len() as u32)
                .filter(|&p| self.text(p as usize).starts_with(prefix.as_str()))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Whether some `a` and a *different* position `b` are at most `distance` apart.
fn near(a: &[u32], b: &[u32], distance: u32) -> bool {
    a.iter().any(|&p| {
        let lo = p.saturating_sub(distance);
        let hi = p.saturating_add(distance);
        let from = b.partition_point(|&q| q < lo);
        b[from..].iter().take_while(|&&q| q <= hi).any(|&q| q != p)
    })
}

fn eval(e: &Expr, doc: &Analyzed, fields: &mut dyn FnMut(&str, &str) -> bool) -> bool {
    match e {
        Expr::Phrase(words) => match words.as_slice() {
            [] => false,
            [w] => doc.contains(w),
            [w, ..] => doc.positions(w).any(|p| doc.phrase_at(words, p)),
        },
        Expr::Prefix(p) => doc.words().any(|w| w.starts_with(p.as_str())),
        Expr::Tag { sigil, text } => doc.has_tag(*sigil, text),
        Expr::Near {
            left,
            right,
            distance,
        } => {
            let a = doc.operand_positions(left);
            !a.is_empty() && near(&a, &doc.operand_positions(right), *distance)
        }
        Expr::And(children) => children.iter().all(|c| eval(c, doc, fields)),
        Expr::Or(children) => children.iter().any(|c| eval(c, doc, fields)),
        Expr::Not(child) => !eval(child, doc, fields),
        Expr::Field { name, value } => fields(name, value),
    }
}

impl Expr {
    /// Whether the analyzed text matches. Field filters count as not matching (a text alone
    /// has no fields); see [`Expr::matches_with`].
    pub fn matches(&self, doc: &Analyzed) -> bool {
        eval(self, doc, &mut |_, _| false)
    }

    /// Like [`Expr::matches`], deciding each field filter with `fields(name, value)`.
    pub fn matches_with(&self, doc: &Analyzed, mut fields: impl FnMut(&str, &str) -> bool) -> bool {
        eval(self, doc, &mut fields)
    }
}

/// A byte trie of anchor prefixes: walking a word's bytes visits every anchor prefix of it.
#[derive(Debug, Clone, Default)]
struct PrefixTrie {
    /// Node 0 is the root. Children sorted by byte.
    children: Vec<Vec<(u8, u32)>>,
    queries: Vec<Vec<u32>>,
}

impl PrefixTrie {
    fn insert(&mut self, key: &str, query: u32) {
        if self.children.is_empty() {
            self.children.push(Vec::new());
            self.queries.push(Vec::new());
        }
        let mut node = 0;
        for &b in key.as_bytes() {
            node = match self.children[node].binary_search_by_key(&b, |c| c.0) {
                Ok(i) => self.children[node][i].1 as usize,
                Err(i) => {
                    let id = self.children.len();
                    self.children[node].insert(i, (b, id as u32));
                    self.children.push(Vec::new());
                    self.queries.push(Vec::new());
                    id
                }
            };
        }
        let ids = &mut self.queries[node];
        if ids.last() != Some(&query) {
            ids.push(query);
        }
    }

    /// Calls `f` with the queries of every anchor prefix of `word`.
    #[inline]
    fn for_each_prefix(&self, word: &str, mut f: impl FnMut(&[u32])) {
        if self.children.is_empty() {
            return;
        }
        let mut node = 0;
        for &b in word.as_bytes() {
            let children = &self.children[node];
            match children.binary_search_by_key(&b, |c| c.0) {
                Ok(i) => node = children[i].1 as usize,
                Err(_) => return,
            }
            if !self.queries[node].is_empty() {
                f(&self.queries[node]);
            }
        }
    }
}

/// A word the text must contain for a query to possibly match.
#[derive(Debug, Clone, PartialEq)]
enum Anchor {
    Word(String),
    Prefix(String),
}

impl Anchor {
    /// A rough cost: how likely a random text contains it (shorter and prefix = likelier).
    fn cost(&self) -> f64 {
        match self {
            Anchor::Word(w) => 1.0 + 4.0 / w.chars().count() as f64,
            Anchor::Prefix(p) => 3.0 + 8.0 / p.chars().count() as f64,
        }
    }
}

fn total_cost(anchors: &[Anchor]) -> f64 {
    anchors.iter().map(Anchor::cost).sum()
}

/// A set of anchors such that any matching text contains at least one of them, or `None`
/// when the expression can match without any particular word (`NOT`, fields).
fn anchors(e: &Expr) -> Option<Vec<Anchor>> {
    let best = |sets: Vec<Vec<Anchor>>| {
        sets.into_iter()
            .min_by(|a, b| total_cost(a).total_cmp(&total_cost(b)))
    };
    match e {
        Expr::Phrase(words) => best(
            words
                .iter()
                .map(|w| vec![Anchor::Word(w.clone())])
                .collect(),
        ),
        Expr::Tag { text, .. } => Some(vec![Anchor::Word(text.clone())]),
        Expr::Prefix(p) => Some(vec![Anchor::Prefix(p.clone())]),
        Expr::Near { left, right, .. } => best(
            [left, right]
                .into_iter()
                .filter_map(|c| anchors(c))
                .collect(),
        ),
        Expr::And(children) => best(children.iter().filter_map(anchors).collect()),
        Expr::Or(children) => {
            let mut all = Vec::new();
            for c in children {
                all.extend(anchors(c)?);
            }
            Some(all)
        }
        Expr::Not(_) | Expr::Field { .. } => None,
    }
}

/// Many compiled queries, matched against a text at once.
///
/// **Prefilter.** For every query an *anchor set* is computed: words (and prefixes) such
/// that the query cannot match a text that contains none of them. A phrase is anchored by
/// its longest word, a tag by its word, a prefix by itself, `NEAR` and `AND` by their
/// cheapest anchored operand (shorter words and prefixes cost more, being more frequent),
/// `OR` by the union of its operands' sets (if every operand has one), and `NOT` and fields
/// not at all. Anchor words go into a hash map word → queries, anchor prefixes into a byte
/// trie that each distinct text word walks (stopping at the first byte without a child), so
/// a word costs one hash probe plus a few trie steps however many queries there are. Queries without anchors (e.g. `NOT spam`) are
/// candidates for every text.
///
/// [`QuerySet::matching`] collects the candidates of the text's distinct words in a bit set
/// and evaluates only those, exactly, in index order.
#[derive(Debug, Clone)]
pub struct QuerySet {
    queries: Vec<Expr>,
    words: WordMap<Vec<u32>>,
    prefixes: PrefixTrie,
    always: Vec<u32>,
}

impl QuerySet {
    /// Compiles the queries; `matching` reports indices into `queries`.
    pub fn new(queries: Vec<Expr>) -> QuerySet {
        let mut set = QuerySet {
            queries,
            words: WordMap::default(),
            prefixes: PrefixTrie::default(),
            always: Vec::new(),
        };
        for (i, q) in set.queries.iter().enumerate() {
            let i = i as u32;
            match anchors(q) {
                None => set.always.push(i),
                Some(list) => {
                    for a in list {
                        match a {
                            Anchor::Word(w) => {
                                let ids = set.words.entry(w.into_boxed_str()).or_default();
                                if ids.last() != Some(&i) {
                                    ids.push(i);
                                }
                            }
                            Anchor::Prefix(p) => set.prefixes.insert(&p, i),
                        }
                    }
                }
            }
        }
        set
    }

    /// The queries, in index order.
    pub fn queries(&self) -> &[Expr] {
        &self.queries
    }

    /// Number of queries.
    pub fn len(&self) -> usize {
        self.queries.len()
    }

    /// Whether there are no queries.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
    }

    /// Indices of the queries that match `doc`, ascending.
    pub fn matching(&self, doc: &Analyzed) -> Vec<usize> {
        let mut out = Vec::new();
        self.matching_into(doc, &mut out);
        out
    }

    /// Like [`QuerySet::matching`], appending to `out` (cleared first).
    pub fn matching_into(&self, doc: &Analyzed, out: &mut Vec<usize>) {
        out.clear();
        let mut candidates = vec![0u64; self.queries.len().div_ceil(64)];
        let mut mark = |ids: &[u32]| {
            for &i in ids {
                candidates[i as usize / 64] |= 1 << (i % 64);
            }
        };
        mark(&self.always);
        for word in doc.words() {
            if let Some(ids) = self.words.get(word) {
                mark(ids);
            }
            self.prefixes.for_each_prefix(word, &mut mark);
        }
        for (block, &bits) in candidates.iter().enumerate() {
            let mut bits = bits;
            while bits != 0 {
                let i = block * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.queries[i].matches(doc) {
                    out.push(i);
                }
            }
        }
    }
}
