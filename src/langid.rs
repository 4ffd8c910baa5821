//! A character n-gram language identifier for short Latin-script posts in the languages
//! hark has sentiment models for (en, fr, de, es, it, pt, and Hindi written in Latin
//! letters). Trigram models trained on books and Wikipedia (whatlang) confuse Spanish with
//! Portuguese and call half of German tweets unknown; this one is trained on tweets
//! (`examples/train_langid.rs`, from the labelled sets the sentiment models use) and is only
//! trusted when it is confident (see [`crate::lang::detect`]).
//!
//! Multinomial naive Bayes over hashed character 1- to 4-grams of each folded word (padded
//! with spaces), add-one smoothing. File (`models/langid.bin`, gzip): `HARKLID1\n`, the
//! language count (u8) and codes (2 bytes each), the hash bits (u8), the log-probability
//! scale (f32), then per bucket and language one u8: −log P quantised by the scale.

use std::io::{Read, Write};
use std::sync::OnceLock;

const BITS: u32 = 16;
const DIM: usize = 1 << BITS;
const MAGIC: &[u8] = b"HARKLID1\n";

fn buckets(text: &str, mut f: impl FnMut(usize)) {
    crate::text::for_each_token(text, |t| {
        if t.sigil.is_some() || t.text.chars().all(|c| c.is_ascii_digit()) {
            return;
        }
        let mut buf = [' '; 32];
        let mut len = 1;
        for c in t.text.chars().take(30) {
            buf[len] = c;
            len += 1;
        }
        let padded = &buf[..len + 1];
        for n in 1..=4 {
            for w in padded.windows(n) {
                let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ n as u64;
                for c in w {
                    h ^= u64::from(*c as u32);
                    h = h.wrapping_mul(0x0000_0100_0000_01b3);
                }
                h ^= h >> 29;
                f((h as usize) & (DIM - 1));
            }
        }
    });
}

/// A trained identifier.
pub struct LangId {
    langs: Vec<String>,
    /// `DIM × langs` log-probabilities.
    logp: Vec<f32>,
}

/// Why a language-identification model file cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LangIdFileError {
    #[error("not a language model: {0}")]
    NotGzip(#[source] std::io::Error),
    #[error("not a language model (magic)")]
    BadMagic,
    #[error("truncated language model")]
    Truncated,
    #[error("unexpected hash bits")]
    HashBits,
}

impl LangId {
    /// Trains on `(language, text)` examples.
    pub fn train(examples: &[(String, String)]) -> LangId {
        let mut langs: Vec<String> = examples.iter().map(|(l, _)| l.clone()).collect();
        langs.sort();
        langs.dedup();
        let k = langs.len();
        let mut counts = vec![0f64; DIM * k];
        let mut totals = vec![0f64; k];
        for (l, text) in examples {
            let li = langs.iter().position(|x| x == l).expect("known language");
            buckets(text, |b| {
                counts[b * k + li] += 1.0;
                totals[li] += 1.0;
            });
        }
        let logp = (0..DIM * k)
            .map(|i| (((counts[i] + 1.0) / (totals[i % k] + DIM as f64)).ln()) as f32)
            .collect();
        LangId { langs, logp }
    }

    /// Whether `code` is one of the languages it was trained on.
    pub fn knows(&self, code: &str) -> bool {
        self.langs.iter().any(|l| l == code)
    }

    /// The most likely language and its posterior probability (equal priors).
    pub fn classify(&self, text: &str) -> Option<(&str, f32)> {
        let k = self.langs.len();
        let mut score = vec![0f32; k];
        let mut n = 0;
        buckets(text, |b| {
            n += 1;
            for (s, lp) in score.iter_mut().zip(&self.logp[b * k..b * k + k]) {
                *s += lp;
            }
        });
        if n == 0 {
            return None;
        }
        let (best, &top) = score.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
        let z: f32 = score.iter().map(|s| (s - top).exp()).sum();
        Some((&self.langs[best], 1.0 / z))
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let min = self.logp.iter().fold(0f32, |m, v| m.min(*v));
        let scale = -min / 255.0;
        let mut raw = MAGIC.to_vec();
        raw.push(self.langs.len() as u8);
        for l in &self.langs {
            raw.extend_from_slice(&l.as_bytes()[..2]);
        }
        raw.push(BITS as u8);
        raw.extend_from_slice(&scale.to_le_bytes());
        raw.extend(
            self.logp
                .iter()
                .map(|v| (-v / scale).round().clamp(0.0, 255.0) as u8),
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&raw).expect("in-memory write");
        gz.finish().expect("in-memory write")
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<LangId, LangIdFileError> {
        use LangIdFileError::Truncated;
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut raw)
            .map_err(LangIdFileError::NotGzip)?;
        let rest = raw.strip_prefix(MAGIC).ok_or(LangIdFileError::BadMagic)?;
        let (&k, rest) = rest.split_first().ok_or(Truncated)?;
        let k = k as usize;
        let codes = rest.get(..2 * k).ok_or(Truncated)?;
        let langs = codes
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        let rest = &rest[2 * k..];
        if rest.first() != Some(&(BITS as u8)) {
            return Err(LangIdFileError::HashBits);
        }
        let scale = f32::from_le_bytes(rest.get(1..5).ok_or(Truncated)?.try_into().expect("4"));
        let q = rest.get(5..5 + DIM * k).ok_or(Truncated)?;
        Ok(LangId {
            langs,
            logp: q.iter().map(|&b| -(f32::from(b)) * scale).collect(),
        })
    }
}

/// The identifier shipped in `models/langid.bin`.
pub fn builtin() -> &'static LangId {
    static M: OnceLock<LangId> = OnceLock::new();
    M.get_or_init(|| {
        LangId::from_bytes(include_bytes!("../models/langid.bin")).expect("built-in language model")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_and_round_trips() {
        let ex: Vec<(String, String)> = [
            ("en", "the weather is really nice today and I love it"),
            ("de", "das Wetter ist heute wirklich schön und ich liebe es"),
            ("en", "what a great game, the team played well"),
            (
                "de",
                "was für ein tolles Spiel, die Mannschaft hat gut gespielt",
            ),
        ]
        .iter()
        .map(|(l, t)| (l.to_string(), t.to_string()))
        .collect();
        let m = LangId::train(&ex);
        assert_eq!(m.classify("ich liebe das Spiel").unwrap().0, "de");
        assert_eq!(m.classify("I love the game").unwrap().0, "en");
        let back = LangId::from_bytes(&m.to_bytes()).unwrap();
        assert_eq!(back.classify("ich liebe das Spiel").unwrap().0, "de");
        assert!(m.classify("!!! 123").is_none());
    }

    #[test]
    fn builtin_model_loads() {
        let m = builtin();
        assert_eq!(m.classify("Ce service est vraiment nul").unwrap().0, "fr");
    }
}
