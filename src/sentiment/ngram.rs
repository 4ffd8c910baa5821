//! The `ngram` classifiers: one per language, for the languages VADER's English lexicon
//! cannot read. A multinomial logistic regression over hashed TF-IDF features, trained by
//! `hark model train --kind ngram` in Rust (so anyone can retrain on their own labelled
//! data: a brand's corrections, a new language) and shipped in `models/ngram/LANG.hng`.
//!
//! # Features
//!
//! The text is cut into hark's tokens ([`crate::text`]: folded, so `Génial` and `genial`
//! are one word), after URLs are removed and the query's brand terms masked (they carry no
//! sentiment, as in every classifier). Then, hashed into 2^18 buckets:
//! - word unigrams and bigrams; a word within three words after a negator (`pas`, `nicht`,
//!   `no`, `non`, `não`, `не`, `لا`, `नहीं`, … — any language's, since their spellings do not
//!   collide) is also a *negated* unigram, so "pas mal" / "не плохо" are not read as "mal" /
//!   "плохо";
//! - character 2- to 5-grams inside each word (padded with spaces): inflections, typos,
//!   elongations and unseen compounds still share most of their n-grams with known words;
//! - every emoji and `!`/`?` runs, since they carry much of a tweet's tone.
//!
//! Word features and character features are two TF-IDF groups (sublinear term frequency,
//! smoothed IDF), each L2-normalised, as in the TF-IDF + logistic regression reference.
//!
//! # Model
//!
//! Softmax regression with class weights inversely proportional to class frequency (the
//! metric is macro-averaged recall), L2-regularised, fitted by full-batch Adam: deterministic,
//! about a second per language. `score` is P(positive) − P(negative), like `bert`.
//!
//! # File format (`.hng`)
//!
//! `HARKNG1\n`, then little-endian: language (u8 length + bytes), hash bits (u8), three f32
//! biases, the weight scale (f32), the IDF scale (f32), the number of entries (u32), then per
//! bucket with a nonzero weight, in increasing order: the bucket as a delta (LEB128), the
//! IDF (u8, × IDF scale) and the three weights (i8, × weight scale). The whole is
//! gzip-compressed. A model is about 0.5–1 MB; quantisation changes no dev label in practice.

use super::{Classifier, Scores};
use crate::mention::Label;
use std::io::{Read, Write};

/// log2 of the number of hash buckets.
pub const BITS: u32 = 18;
const DIM: usize = 1 << BITS;
const MAGIC: &[u8] = b"HARKNG1\n";

/// Negators of the supported languages (folded, as the tokenizer yields them).
const NEGATORS: &[&str] = &[
    // en
    "not",
    "no",
    "never",
    "dont",
    "doesnt",
    "didnt",
    "isnt",
    "wasnt",
    "cant",
    "wont",
    "nothing",
    // fr
    "ne",
    "pas",
    "jamais",
    "rien",
    "aucun",
    "aucune",
    "sans",
    "ni",
    // de
    "nicht",
    "kein",
    "keine",
    "keinen",
    "keiner",
    "nie",
    "niemals",
    "ohne",
    "nichts",
    // es / pt / it
    "nunca",
    "sin",
    "nada",
    "ningun",
    "ninguna",
    "nao",
    "sem",
    "nem",
    "nenhum",
    "non",
    "mai",
    "senza",
    "niente",
    "nessun",
    "nessuno",
    // ru (folded: й → и)
    "не",
    "нет",
    "ни",
    "без",
    "никогда",
    "ничего",
    // ar
    "لا",
    "ما",
    "لم",
    "لن",
    "ليس",
    "غير",
    // hi
    "नहीं",
    "न",
    "मत",
    "नही",
];

/// A small polarity lexicon of everyday words per language (folded), as two features the
/// model weighs itself (and their negated forms): 1,839 tweets do not contain every way to
/// say "terrible", and these words generalise beyond the training data. Prefix matches
/// (`horribl` covers horrible, horriblement) keep the lists short.
#[rustfmt::skip]
const POSITIVE: &[(&str, &[&str])] = &[
    ("fr", &["adore", "aime", "bien", "bon", "bonne", "bravo", "content", "excellent", "felicit",
        "formidable", "genial", "heureu", "incroyable", "magnifique", "merci", "parfait",
        "plaisir", "recommande", "super", "top"]),
    ("de", &["begeister", "danke", "empfehl", "freu", "genial", "glucklich", "grossartig", "gut",
        "klasse", "liebe", "perfekt", "prima", "schon", "super", "toll", "wunderbar"]),
    ("es", &["buena", "bueno", "encanta", "excelente", "feliz", "genial", "gracias", "maravill",
        "mejor", "perfecto", "recomiendo", "lindo", "linda", "amo"]),
    ("pt", &["adoro", "amo", "boa", "bom", "feliz", "linda", "lindo", "maravilh", "melhor",
        "obrigad", "otimo", "perfeito"]),
    ("it", &["adoro", "bella", "bello", "bravo", "buona", "buono", "consiglio", "fantastic",
        "felice", "grazie", "meraviglios", "migliore", "ottimo", "perfetto"]),
    ("ru", &["класс", "круто", "лучш", "люблю", "молодц", "нрав", "отлич", "прекрасн", "рад",
        "спасибо", "супер", "удобн", "хорош", "замечательн"]),
];

#[rustfmt::skip]
const NEGATIVE: &[(&str, &[&str])] = &[
    ("fr", &["arnaque", "colere", "decevant", "decu", "deteste", "furieu", "honte", "horribl",
        "inadmissible", "lent", "mal", "marre", "mauvais", "merde", "nul", "nulle", "panne",
        "pire", "probleme", "scandal", "triste"]),
    ("de", &["arger", "betrug", "enttausch", "furchtbar", "hass", "katastroph", "mist",
        "nervig", "peinlich", "problem", "schade", "scheiss", "schlecht", "schlimm",
        "schrecklich", "traurig", "wutend"]),
    ("es", &["asco", "estafa", "fatal", "horribl", "mal", "mala", "malo", "odio", "peor",
        "pesimo", "pesima", "problema", "triste", "verguenza"]),
    ("pt", &["golpe", "horrivel", "lixo", "mal", "merda", "odeio", "pessimo", "pessima", "pior",
        "problema", "raiva", "ruim", "triste", "vergonha"]),
    ("it", &["brutta", "brutto", "delus", "odio", "orribil", "peggio", "pessima", "pessimo",
        "problema", "schifo", "triste", "truffa", "vergogna"]),
    ("ru", &["бесит", "говно", "груст", "жаль", "кошмар", "ненавиж", "обман", "отвратит",
        "отстои", "плох", "позор", "проблем", "разочаров", "ужасн", "хуж"]),
];

/// Whether a folded word is in the polarity lexicon of `lang`: `Some(true)` positive,
/// `Some(false)` negative.
fn lexicon_polarity(lang: &str, tok: &str) -> Option<bool> {
    let of = |table: &[(&str, &'static [&'static str])]| {
        table
            .iter()
            .find(|(l, _)| *l == lang)
            .map_or(&[][..], |(_, w)| *w)
    };
    let hit = |list: &[&str]| {
        list.iter().any(|w| {
            tok == *w || (w.chars().count() >= 4 && tok.starts_with(w) && tok.len() <= w.len() + 6)
        })
    };
    if hit(of(NEGATIVE)) {
        Some(false)
    } else if hit(of(POSITIVE)) {
        Some(true)
    } else {
        None
    }
}

fn is_negator(tok: &str) -> bool {
    static SET: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    SET.get_or_init(|| NEGATORS.iter().copied().collect())
        .contains(tok)
}

/// How far a negation reaches (in words).
const NEGATION_SCOPE: u32 = 3;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Word = 0,
    Char = 1,
}

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn bucket(h: u64) -> u32 {
    // Final mix so that the low bits depend on every input byte.
    let mut x = h;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    (x as u32) & (DIM as u32 - 1)
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x1F000..=0x1F2FF | 0x2B50 | 0x2B55)
}

/// The raw features of a text: (bucket, group) per occurrence. Returns the polarity of its
/// *negated* lexicon words: a negated word counts −0.74 times its polarity (VADER's
/// negation factor), so "pas mal" is +0.74.
fn raw_features(
    lang: &str,
    text: &str,
    neutral: &[Vec<String>],
    out: &mut Vec<(u32, Group)>,
) -> f32 {
    out.clear();
    let mut lexicon_score = 0f32;
    let cleaned = strip_urls(text);
    // The folded tokens, in one buffer (no allocation per token).
    let mut text_buf = String::with_capacity(cleaned.len() + 8);
    let mut spans: Vec<(usize, usize, Option<char>)> = Vec::with_capacity(32);
    crate::text::for_each_token(&cleaned, |t| {
        let start = text_buf.len();
        text_buf.push_str(t.text);
        spans.push((start, text_buf.len(), t.sigil));
    });
    let tokens: Vec<(&str, Option<char>)> = spans
        .iter()
        .map(|&(s, e, sigil)| (&text_buf[s..e], sigil))
        .collect();
    let masked = brand_mask(&tokens, neutral);
    let mut negated_until: Option<usize> = None;
    let mut prev: Option<&str> = None;
    for (i, (tok, sigil)) in tokens.iter().enumerate() {
        if masked[i] {
            prev = None;
            continue;
        }
        let tok: &str = if *sigil == Some('@') { "@user" } else { tok };
        let h = fnv(fnv(FNV0, b"w"), tok.as_bytes());
        out.push((bucket(h), Group::Word));
        if negated_until.is_some_and(|u| i <= u) {
            out.push((bucket(fnv(fnv(FNV0, b"n"), tok.as_bytes())), Group::Word));
        }
        if let Some(p) = prev {
            let h = fnv(
                fnv(fnv(fnv(FNV0, b"b"), p.as_bytes()), b" "),
                tok.as_bytes(),
            );
            out.push((bucket(h), Group::Word));
        }
        if is_negator(tok) {
            negated_until = Some(i + NEGATION_SCOPE as usize);
        }
        if *sigil != Some('@') {
            char_ngrams(tok, out);
        }
        let negated = negated_until.is_some_and(|u| i <= u);
        if let Some(polarity) = lexicon_polarity(lang, tok) {
            let sign = if polarity { 1.0 } else { -1.0 };
            if negated {
                lexicon_score -= 0.74 * sign;
            }
            let key: &[u8] = match (polarity, negated) {
                (true, false) => b"L+",
                (false, false) => b"L-",
                (true, true) => b"L+n",
                (false, true) => b"L-n",
            };
            out.push((bucket(fnv(FNV0, key)), Group::Word));
        }
        prev = Some(tok);
    }
    let mut run = 0;
    let mut run_char = ' ';
    for c in cleaned.chars() {
        if is_emoji(c) {
            let mut buf = [0u8; 4];
            let h = fnv(fnv(FNV0, b"e"), c.encode_utf8(&mut buf).as_bytes());
            out.push((bucket(h), Group::Word));
        }
        if c == '!' || c == '?' {
            if c == run_char {
                run += 1;
            } else {
                run = 1;
                run_char = c;
            }
            if run == 1 || run == 3 {
                let key = [b'p', c as u8, b'0' + run as u8];
                out.push((bucket(fnv(FNV0, &key)), Group::Word));
            }
        } else if !c.is_whitespace() {
            run = 0;
            run_char = ' ';
        }
    }
    lexicon_score
}

/// How much the lexicon polarity moves the logits (fixed, not learned: 1,839 tweets hold
/// too few negated sentiment words — "pas mal", "не плохо", "nicht schlecht" — for a
/// model to learn that negation flips them; the lexicon knows).
const LEXICON_PRIOR: f32 = 1.5;

/// Character 2- to 5-grams of ` tok ` (at most the first 40 characters).
fn char_ngrams(tok: &str, out: &mut Vec<(u32, Group)>) {
    let mut bounds: Vec<usize> = Vec::with_capacity(tok.len() + 2);
    let padded = format!(" {tok} ");
    bounds.extend(padded.char_indices().map(|(i, _)| i).take(42));
    let end = if bounds.len() < 42 {
        padded.len()
    } else {
        bounds[41]
    };
    bounds.push(end);
    let n_chars = bounds.len() - 1;
    for n in 2..=5 {
        if n > n_chars {
            break;
        }
        for s in 0..=n_chars - n {
            let gram = &padded[bounds[s]..bounds[s + n]];
            let h = fnv(fnv(FNV0, &[b'c', b'0' + n as u8]), gram.as_bytes());
            out.push((bucket(h), Group::Char));
        }
    }
}

fn strip_urls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains("http") && !text.contains("www.") {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let w = word.trim_start_matches(|c: char| !c.is_alphanumeric());
        if !(w.starts_with("http://") || w.starts_with("https://") || w.starts_with("www.")) {
            out.push_str(word);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Which tokens belong to a brand term (a neutral token sequence).
fn brand_mask(tokens: &[(&str, Option<char>)], neutral: &[Vec<String>]) -> Vec<bool> {
    let mut masked = vec![false; tokens.len()];
    for term in neutral.iter().filter(|t| !t.is_empty()) {
        if term.len() > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - term.len() {
            if term.iter().zip(&tokens[start..]).all(|(a, (b, _))| a == b) {
                for m in &mut masked[start..start + term.len()] {
                    *m = true;
                }
            }
        }
    }
    masked
}

/// A text as the model sees it: sparse TF-IDF, each group L2-normalised.
fn vectorize(raw: &[(u32, Group)], idf: &[f32], out: &mut Vec<(u32, f32)>) {
    thread_local! {
        /// Occurrence counts per (group, bucket), all zero between calls: counting in a
        /// dense array is linear, where sorting the occurrences was most of the cost.
        static COUNTS: std::cell::RefCell<Vec<u16>> = std::cell::RefCell::new(vec![0; 2 * DIM]);
    }
    out.clear();
    COUNTS.with(|counts| {
        let counts = &mut *counts.borrow_mut();
        let key = |b: u32, g: Group| g as usize * DIM + b as usize;
        let mut distinct: Vec<(u32, Group)> = Vec::with_capacity(raw.len());
        for &(b, g) in raw.iter() {
            let c = &mut counts[key(b, g)];
            if *c == 0 {
                distinct.push((b, g));
            }
            *c = c.saturating_add(1);
        }
        let mut norms = [0f32; 2];
        let mut groups: Vec<Group> = Vec::with_capacity(distinct.len());
        for (b, g) in distinct {
            let c = std::mem::take(&mut counts[key(b, g)]);
            let v = (1.0 + f32::from(c).ln()) * idf[b as usize];
            if v != 0.0 {
                norms[g as usize] += v * v;
                out.push((b, v));
                groups.push(g);
            }
        }
        let norms = norms.map(|n| if n > 0.0 { n.sqrt() } else { 1.0 });
        for ((_, v), g) in out.iter_mut().zip(&groups) {
            *v /= norms[*g as usize];
        }
    });
}

/// A trained per-language model.
pub struct NgramModel {
    lang: String,
    name: String,
    /// `DIM × 3` weights, class-major within a bucket.
    w: Vec<f32>,
    idf: Vec<f32>,
    bias: [f32; 3],
}

/// Per-thread buffers of `classify`: the raw feature counts and the weighted features.
type Scratch = (Vec<(u32, Group)>, Vec<(u32, f32)>);

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> =
        const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

impl NgramModel {
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// Class probabilities (negative, neutral, positive).
    pub fn probabilities(&self, text: &str, neutral: &[Vec<String>]) -> [f32; 3] {
        SCRATCH.with(|s| {
            let (raw, x) = &mut *s.borrow_mut();
            let lex = raw_features(&self.lang, text, neutral, raw);
            vectorize(raw, &self.idf, x);
            let mut z = self.bias;
            z[0] -= LEXICON_PRIOR * lex;
            z[2] += LEXICON_PRIOR * lex;
            for &(b, v) in x.iter() {
                let w = &self.w[b as usize * 3..b as usize * 3 + 3];
                z[0] += w[0] * v;
                z[1] += w[1] * v;
                z[2] += w[2] * v;
            }
            softmax(z)
        })
    }

    /// Reads a `.hng` model (see the module docs).
    pub fn from_bytes(bytes: &[u8]) -> Result<NgramModel, ModelFileError> {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(ModelFileError::NotGzip)?;
        let mut r = Reader { b: &raw, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(ModelFileError::BadMagic);
        }
        let n = r.u8()? as usize;
        let lang =
            String::from_utf8(r.take(n)?.to_vec()).map_err(|_| ModelFileError::BadLanguage)?;
        let bits = r.u8()?;
        if u32::from(bits) != BITS {
            return Err(ModelFileError::HashBits(bits));
        }
        let bias = [r.f32()?, r.f32()?, r.f32()?];
        let wscale = r.f32()?;
        let iscale = r.f32()?;
        let entries = r.u32()? as usize;
        let mut w = vec![0f32; DIM * 3];
        let mut idf = vec![0f32; DIM];
        let mut b: usize = 0;
        for k in 0..entries {
            let delta = r.leb128()? as usize;
            b = if k == 0 { delta } else { b + delta };
            if b >= DIM {
                return Err(ModelFileError::BucketOutOfRange);
            }
            idf[b] = f32::from(r.u8()?) * iscale;
            for c in 0..3 {
                w[b * 3 + c] = f32::from(r.u8()? as i8) * wscale;
            }
        }
        Ok(NgramModel {
            name: format!("ngram-{lang}"),
            lang,
            w,
            idf,
            bias,
        })
    }

    /// Writes the model as `.hng` (quantised, gzip-compressed).
    pub fn to_bytes(&self) -> Vec<u8> {
        let wmax = self.w.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-9);
        let imax = self.idf.iter().fold(0f32, |m, v| m.max(*v)).max(1e-9);
        let wscale = wmax / 127.0;
        let iscale = imax / 255.0;
        let q = |v: f32| (v / wscale).round().clamp(-127.0, 127.0) as i8;
        let mut body = Vec::new();
        let mut entries = 0u32;
        let mut last = 0usize;
        for b in 0..DIM {
            let ws = [q(self.w[b * 3]), q(self.w[b * 3 + 1]), q(self.w[b * 3 + 2])];
            if ws == [0, 0, 0] {
                continue;
            }
            let delta = if entries == 0 { b } else { b - last };
            leb128(&mut body, delta as u64);
            body.push((self.idf[b] / iscale).round().clamp(0.0, 255.0) as u8);
            body.extend(ws.iter().map(|v| *v as u8));
            last = b;
            entries += 1;
        }
        let mut head = Vec::new();
        head.extend_from_slice(MAGIC);
        head.push(self.lang.len() as u8);
        head.extend_from_slice(self.lang.as_bytes());
        head.push(BITS as u8);
        for v in self.bias {
            head.extend_from_slice(&v.to_le_bytes());
        }
        head.extend_from_slice(&wscale.to_le_bytes());
        head.extend_from_slice(&iscale.to_le_bytes());
        head.extend_from_slice(&entries.to_le_bytes());
        head.extend_from_slice(&body);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&head).expect("in-memory write");
        gz.finish().expect("in-memory write")
    }
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelFileError> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or(ModelFileError::Truncated)?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, ModelFileError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, ModelFileError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn f32(&mut self) -> Result<f32, ModelFileError> {
        Ok(f32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn leb128(&mut self) -> Result<u64, ModelFileError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ModelFileError::BadVarint)
    }
}

/// Why a `.hng` model file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelFileError {
    #[error("not a gzip-compressed .hng model: {0}")]
    NotGzip(std::io::Error),
    #[error("not a hark ngram model (bad magic)")]
    BadMagic,
    #[error("truncated model file")]
    Truncated,
    #[error("the model's language code is not UTF-8")]
    BadLanguage,
    #[error("model has {0} hash bits; this build reads {BITS}")]
    HashBits(u8),
    #[error("bucket out of range")]
    BucketOutOfRange,
    #[error("bad varint")]
    BadVarint,
}

fn leb128(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn softmax(z: [f32; 3]) -> [f32; 3] {
    let m = z[0].max(z[1]).max(z[2]);
    let e = z.map(|v| (v - m).exp());
    let s = e[0] + e[1] + e[2];
    e.map(|v| v / s)
}

impl Classifier for NgramModel {
    fn model(&self) -> &str {
        &self.name
    }

    fn classify(&self, text: &str, neutral: &[Vec<String>]) -> Scores {
        let p = self.probabilities(text, neutral);
        let best = (0..3)
            .max_by(|&a, &b| p[a].total_cmp(&p[b]))
            .expect("three classes");
        Scores {
            label: [Label::Negative, Label::Neutral, Label::Positive][best],
            score: f64::from(p[2] - p[0]),
            neg: f64::from(p[0]),
            neu: f64::from(p[1]),
            pos: f64::from(p[2]),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Training

/// Training settings; the defaults are what the shipped models used.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub lang: String,
    /// L2 penalty per example; tried in turn when `dev` data is given, the best kept.
    pub l2: Vec<f32>,
    pub iterations: usize,
    pub learning_rate: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            lang: String::new(),
            l2: vec![3e-5, 1e-4, 3e-4, 1e-3, 3e-3],
            iterations: 300,
            learning_rate: 0.05,
        }
    }
}

/// What training reports.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    pub lang: String,
    pub examples: usize,
    pub l2: f32,
    /// Macro-averaged recall on the dev data per L2 value tried (empty without dev data).
    pub dev_macro_recall: Vec<(f32, f64)>,
}

/// Why a model cannot be trained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TrainError {
    #[error("no training examples")]
    NoExamples,
}

/// Trains a model on labelled examples; with `dev`, each L2 value of `opts` is tried and the
/// one with the best macro-averaged recall on `dev` is kept (else the first).
pub fn train(
    data: &[super::eval::Example],
    dev: Option<&[super::eval::Example]>,
    opts: &TrainOptions,
) -> Result<(NgramModel, TrainReport), TrainError> {
    if data.is_empty() {
        return Err(TrainError::NoExamples);
    }
    // Document frequencies, then IDF (smoothed, as scikit-learn's).
    let mut df = vec![0u32; DIM];
    let mut raw = Vec::new();
    let mut seen: Vec<u32> = Vec::new();
    for e in data {
        raw_features(&opts.lang, &e.text, &[], &mut raw);
        seen.clear();
        seen.extend(raw.iter().map(|(b, _)| *b));
        seen.sort_unstable();
        seen.dedup();
        for b in &seen {
            df[*b as usize] += 1;
        }
    }
    let n = data.len() as f32;
    let idf: Vec<f32> = df
        .iter()
        .map(|&d| {
            if d == 0 {
                0.0
            } else {
                ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0
            }
        })
        .collect();
    let mut lexicon: Vec<f32> = Vec::with_capacity(data.len());
    let vectors: Vec<Vec<(u32, f32)>> = data
        .iter()
        .map(|e| {
            let mut x = Vec::new();
            lexicon.push(raw_features(&opts.lang, &e.text, &[], &mut raw));
            vectorize(&raw, &idf, &mut x);
            x
        })
        .collect();
    let labels: Vec<usize> = data
        .iter()
        .map(|e| super::eval::label_index(e.label))
        .collect();
    let mut counts = [0usize; 3];
    for &y in &labels {
        counts[y] += 1;
    }
    let class_weight: [f32; 3] = counts.map(|c| if c == 0 { 0.0 } else { n / (3.0 * c as f32) });

    let mut best: Option<(f64, NgramModel, f32)> = None;
    let mut tried = Vec::new();
    let grid: Vec<f32> = if dev.is_some() {
        opts.l2.clone()
    } else {
        opts.l2.iter().take(1).copied().collect()
    };
    for &l2 in &grid {
        // The negation prior is applied when scoring only: fitted with it, the model learns
        // to undo it on the training tweets (few negated sentiment words, noisy ones).
        let no_prior = vec![0f32; lexicon.len()];
        let (w, bias) = fit(&vectors, &no_prior, &labels, class_weight, l2, opts);
        let model = NgramModel {
            lang: opts.lang.clone(),
            name: format!("ngram-{}", opts.lang),
            w,
            idf: idf.clone(),
            bias,
        };
        let score = match dev {
            Some(dev) => {
                let gold: Vec<Label> = dev.iter().map(|e| e.label).collect();
                let pred: Vec<Label> = dev
                    .iter()
                    .map(|e| model.classify(&e.text, &[]).label)
                    .collect();
                super::eval::Metrics::compute(&gold, &pred).macro_recall
            }
            None => 0.0,
        };
        tracing::info!(lang = %opts.lang, l2, dev_macro_recall = score, "trained");
        tried.push((l2, score));
        if best.as_ref().is_none_or(|(s, _, _)| score > *s) {
            best = Some((score, model, l2));
        }
    }
    let (_, model, l2) = best.expect("at least one L2 value");
    let report = TrainReport {
        lang: opts.lang.clone(),
        examples: data.len(),
        l2,
        dev_macro_recall: if dev.is_some() { tried } else { Vec::new() },
    };
    Ok((model, report))
}

/// Full-batch Adam on the class-weighted, L2-penalised cross-entropy.
fn fit(
    xs: &[Vec<(u32, f32)>],
    lexicon: &[f32],
    ys: &[usize],
    cw: [f32; 3],
    l2: f32,
    opts: &TrainOptions,
) -> (Vec<f32>, [f32; 3]) {
    let mut w = vec![0f32; DIM * 3];
    let mut bias = [0f32; 3];
    let mut m = vec![0f32; DIM * 3];
    let mut v = vec![0f32; DIM * 3];
    let (mut mb, mut vb) = ([0f32; 3], [0f32; 3]);
    let mut grad = vec![0f32; DIM * 3];
    // Only buckets some example uses are updated (the rest stay 0).
    let mut used: Vec<u32> = xs.iter().flatten().map(|(b, _)| *b).collect();
    used.sort_unstable();
    used.dedup();
    let total_weight: f32 = ys.iter().map(|&y| cw[y]).sum();
    let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
    for t in 1..=opts.iterations {
        for &b in &used {
            let i = b as usize * 3;
            grad[i..i + 3].copy_from_slice(&[0.0; 3]);
        }
        let mut gb = [0f32; 3];
        for ((x, &y), &lex) in xs.iter().zip(ys).zip(lexicon) {
            let mut z = bias;
            z[0] -= LEXICON_PRIOR * lex;
            z[2] += LEXICON_PRIOR * lex;
            for &(b, val) in x {
                let i = b as usize * 3;
                z[0] += w[i] * val;
                z[1] += w[i + 1] * val;
                z[2] += w[i + 2] * val;
            }
            let mut p = softmax(z);
            p[y] -= 1.0;
            let s = cw[y] / total_weight;
            for c in 0..3 {
                gb[c] += p[c] * s;
            }
            for &(b, val) in x {
                let i = b as usize * 3;
                for c in 0..3 {
                    grad[i + c] += p[c] * s * val;
                }
            }
        }
        let lr = opts.learning_rate;
        let c1 = 1.0 - b1.powi(t as i32);
        let c2 = 1.0 - b2.powi(t as i32);
        for &b in &used {
            for c in 0..3 {
                let i = b as usize * 3 + c;
                let g = grad[i] + l2 * w[i];
                m[i] = b1 * m[i] + (1.0 - b1) * g;
                v[i] = b2 * v[i] + (1.0 - b2) * g * g;
                w[i] -= lr * (m[i] / c1) / ((v[i] / c2).sqrt() + eps);
            }
        }
        for c in 0..3 {
            mb[c] = b1 * mb[c] + (1.0 - b1) * gb[c];
            vb[c] = b2 * vb[c] + (1.0 - b2) * gb[c] * gb[c];
            bias[c] -= lr * (mb[c] / c1) / ((vb[c] / c2).sqrt() + eps);
        }
    }
    (w, bias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::eval::Example;

    fn ex(label: Label, text: &str) -> Example {
        Example {
            label,
            text: text.into(),
        }
    }

    fn toy() -> Vec<Example> {
        let mut d = Vec::new();
        for i in 0..20 {
            d.push(ex(Label::Positive, &format!("super génial j'adore {i}")));
            d.push(ex(Label::Negative, &format!("nul horrible je déteste {i}")));
            d.push(ex(Label::Neutral, &format!("le train part à {i} heures")));
        }
        d
    }

    #[test]
    fn learns_a_toy_language_and_round_trips_through_the_file_format() {
        let opts = TrainOptions {
            lang: "fr".into(),
            ..Default::default()
        };
        let (m, _) = train(&toy(), None, &opts).unwrap();
        assert_eq!(m.classify("j'adore, génial", &[]).label, Label::Positive);
        assert_eq!(
            m.classify("horrible, je déteste", &[]).label,
            Label::Negative
        );
        let bytes = m.to_bytes();
        let back = NgramModel::from_bytes(&bytes).unwrap();
        assert_eq!(back.lang(), "fr");
        assert_eq!(back.model(), "ngram-fr");
        for t in ["j'adore", "nul", "le train", "génial mais nul"] {
            let (a, b) = (m.probabilities(t, &[]), back.probabilities(t, &[]));
            for c in 0..3 {
                assert!((a[c] - b[c]).abs() < 0.02, "{t}: {a:?} vs {b:?}");
            }
        }
        // Deterministic: the same data gives the same file.
        let (m2, _) = train(&toy(), None, &opts).unwrap();
        assert_eq!(m2.to_bytes(), bytes);
    }

    #[test]
    fn brand_terms_are_masked() {
        let mut d = toy();
        for i in 0..20 {
            d.push(ex(Label::Negative, &format!("orange horrible {i}")));
        }
        let opts = TrainOptions {
            lang: "fr".into(),
            ..Default::default()
        };
        let (m, _) = train(&d, None, &opts).unwrap();
        let brand = vec![vec!["orange".to_string()]];
        let plain = m.probabilities("orange", &[]);
        let masked = m.probabilities("orange", &brand);
        assert!(masked[0] < plain[0], "{plain:?} {masked:?}");
    }

    #[test]
    fn negation_is_a_feature_of_its_own() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        raw_features("fr", "c'est pas mal", &[], &mut a);
        raw_features("fr", "c'est mal", &[], &mut b);
        let neg = bucket(fnv(fnv(FNV0, b"n"), b"mal"));
        assert!(a.iter().any(|(x, _)| *x == neg));
        assert!(!b.iter().any(|(x, _)| *x == neg));
    }

    #[test]
    fn corrupt_files_are_errors() {
        assert!(NgramModel::from_bytes(b"nonsense").is_err());
        let m = train(&toy(), None, &TrainOptions::default()).unwrap().0;
        let bytes = m.to_bytes();
        assert!(NgramModel::from_bytes(&bytes[..bytes.len() / 2]).is_err());
    }
}
