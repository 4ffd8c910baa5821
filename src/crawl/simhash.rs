//! Near-duplicate detection for syndicated copies and quoted reposts: 64-bit SimHash
//! fingerprints and an index that finds stored fingerprints within a small Hamming distance.
//!
//! **Fingerprint.** The text is folded (lowercased, Unicode-aware; everything that is not a
//! letter or digit separates words; apostrophes inside words are dropped so `don't` = `dont`;
//! combining diacritical marks are ignored) and cut into features:
//! - word 3-shingles (every run of three consecutive words; texts of one or two words give
//!   one shingle of what there is);
//! - in CJK scripts (Han, Hiragana, Katakana, Hangul), which don't separate words by
//!   spaces, character bigrams within each run of CJK characters (a lone CJK character
//!   counts on its own).
//!
//! Words are hashed with FNV-1a 64 over their UTF-8 bytes, a shingle's three word hashes are
//! combined with FNV-1a over their little-endian bytes and finished with MurmurHash3's
//! `fmix64` (FNV alone mixes its high bits poorly, and SimHash needs every bit of a feature
//! hash to be an independent coin). Everything is explicit integer arithmetic: fingerprints are
//! stable across runs, platforms and Rust versions, and may be stored.
//!
//! Each feature votes +w / -w on each of the 64 bits according to its hash; the fingerprint
//! has a bit set where the votes are positive. **Weights** rise linearly from both ends of the
//! text to its middle (`w = min(i+1, n-i)` for feature `i` of `n`): boilerplate sits at the
//! edges (a byline, "Read more at…", the comment of someone quoting an article), and the
//! middle of a copied text is what copies share. Measured while choosing them: with uniform
//! weights a 50-word text plus a byline and footer moved by 8.9 bits on average (100 words:
//! 6.6); with these weights by 2.6 (1.5) — test `boilerplate_around_a_copy_stays_near`.
//!
//! **Limits.** The Hamming distance of two fingerprints estimates the angle between their
//! weighted feature vectors (P(bit differs) = angle/π), so [`NEAR`] = 3 of 64 bits means a
//! cosine similarity of about 0.99: only *small* differences stay near. Boilerplate around a
//! short text is a large difference: a byline (and footer) around a 50-word text stays within
//! NEAR 72% of the time, 93% at 100 words, 99% at 200. Edits spread through the body are
//! worse, because one changed word changes three shingles: recall at NEAR is 30% for 1
//! changed word per 100, 7% for 2, 5% for 3 (test `recall_on_edited_copies`). Use it to catch
//! verbatim copies with different surroundings, not paraphrases. The empty text (no words)
//! has fingerprint 0, so empty posts all collide: skip them before indexing.
//!
//! **Index.** [`NearDupIndex`] splits fingerprints into 4 bands of 16 bits. Two fingerprints
//! within distance 3 differ in at most 3 bands, so they agree exactly on at least one
//! (pigeonhole): a lookup only compares against the fingerprints that share a band with
//! the query. Distances above 3 have no such guarantee; `find` then scans everything.

use std::collections::HashMap;

/// Hamming distance up to which two fingerprints are treated as the same text.
///
/// Justified by the tests over real text (concatenations of 5 tweets, ~80 words): unrelated
/// pairs lie at 32 bits on average, none of 10,000 random pairs comes within 10, and
/// neighbouring texts on the same topic are at least 18 apart; copies with a byline and footer
/// added stay within 3 most of the time (see the module documentation for rates). It is
/// also the largest distance for which the 4-band index is exact.
pub const NEAR: u32 = 3;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit SimHash of `text` (see the module documentation).
pub fn simhash(text: &str) -> u64 {
    fingerprint(&features(text))
}

/// Number of bits in which `a` and `b` differ.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// The feature hashes of `text`, in text order.
fn features(text: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(text.len() / 5 + 1);
    let mut shingles = Shingler::default();
    let mut word = WordHasher::default();
    let mut prev_cjk: Option<char> = None;
    let mut cjk_run = 0usize;
    for c in text.chars() {
        if is_cjk(c) {
            if let Some(h) = word.finish() {
                shingles.push(h, &mut out);
            }
            if let Some(p) = prev_cjk {
                out.push(pair_hash(p, c));
            }
            prev_cjk = Some(c);
            cjk_run += 1;
            continue;
        }
        if cjk_run == 1
            && let Some(p) = prev_cjk
        {
            // A lone CJK character between other text still counts.
            out.push(pair_hash(p, '\0'));
        }
        prev_cjk = None;
        cjk_run = 0;
        if c.is_alphanumeric() {
            word.push(c);
        } else if is_ignorable_in_word(c) {
            // Part of the word, contributes nothing.
        } else if let Some(h) = word.finish() {
            shingles.push(h, &mut out);
        }
    }
    if cjk_run == 1
        && let Some(p) = prev_cjk
    {
        out.push(pair_hash(p, '\0'));
    }
    if let Some(h) = word.finish() {
        shingles.push(h, &mut out);
    }
    shingles.finish(&mut out);
    out
}

/// Sums the ±weight votes of the features per bit; weights rise linearly from both ends of
/// the text to its middle.
fn fingerprint(features: &[u64]) -> u64 {
    if features.is_empty() {
        return 0;
    }
    let n = features.len() as u64;
    // Total weight Σ min(i+1, n-i) ≤ n²/4: fits u32 counters up to 2^16 features, which lets
    // the compiler vectorise twice as wide as with u64.
    if n <= 1 << 16 {
        majority_bits::<u32>(features)
    } else {
        majority_bits::<u64>(features)
    }
}

/// Bits set in more than half of the (weighted) features: per bit, the sum of the weights
/// of the features with that bit set, compared with half the total weight.
fn majority_bits<C>(features: &[u64]) -> u64
where
    C: Copy + Default + std::ops::AddAssign + std::ops::Mul<Output = C> + From<u32> + Into<u64>,
{
    let n = features.len() as u64;
    let mut set = [C::default(); 64];
    let mut total: u64 = 0;
    for (i, &f) in features.iter().enumerate() {
        let i = i as u64;
        let w = (i + 1).min(n - i);
        total += w;
        let wc = C::from(w as u32);
        for (b, v) in set.iter_mut().enumerate() {
            *v += C::from(((f >> b) & 1) as u32) * wc;
        }
    }
    set.iter().enumerate().fold(0u64, |fp, (b, &v)| {
        if 2 * v.into() > total {
            fp | (1 << b)
        } else {
            fp
        }
    })
}

/// FNV-1a over the folded characters of one word, fed one character at a time.
#[derive(Default)]
struct WordHasher {
    hash: u64,
    len: usize,
}

impl WordHasher {
    fn push(&mut self, c: char) {
        if self.len == 0 {
            self.hash = FNV_OFFSET;
        }
        self.len += 1;
        if c.is_ascii() {
            self.hash = (self.hash ^ c.to_ascii_lowercase() as u64).wrapping_mul(FNV_PRIME);
            return;
        }
        for lc in c.to_lowercase() {
            let mut buf = [0u8; 4];
            for &b in lc.encode_utf8(&mut buf).as_bytes() {
                self.hash = (self.hash ^ b as u64).wrapping_mul(FNV_PRIME);
            }
        }
    }

    /// The finished word's hash, or `None` when no word was started.
    fn finish(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        self.len = 0;
        Some(self.hash)
    }
}

/// Turns the stream of word hashes into 3-shingle feature hashes.
#[derive(Default)]
struct Shingler {
    window: [u64; 3],
    seen: usize,
}

impl Shingler {
    fn push(&mut self, word: u64, out: &mut Vec<u64>) {
        self.window = [self.window[1], self.window[2], word];
        self.seen += 1;
        if self.seen >= 3 {
            out.push(combine(&self.window));
        }
    }

    /// A text of one or two words still gets one feature.
    fn finish(&mut self, out: &mut Vec<u64>) {
        match self.seen {
            1 => out.push(combine(&self.window[2..])),
            2 => out.push(combine(&self.window[1..])),
            _ => {}
        }
    }
}

fn combine(words: &[u64]) -> u64 {
    let mut h = FNV_OFFSET;
    for w in words {
        for b in w.to_le_bytes() {
            h = (h ^ b as u64).wrapping_mul(FNV_PRIME);
        }
    }
    fmix64(h)
}

fn pair_hash(a: char, b: char) -> u64 {
    let mut h = FNV_OFFSET ^ 0x43; // distinct from word shingles
    for c in [a, b] {
        for byte in (c as u32).to_le_bytes() {
            h = (h ^ byte as u64).wrapping_mul(FNV_PRIME);
        }
    }
    fmix64(h)
}

/// MurmurHash3's 64-bit finaliser: every input bit affects every output bit.
fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Characters that belong to a word without separating it: apostrophes and combining marks.
fn is_ignorable_in_word(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{0300}'..='\u{036F}' | '\u{200D}')
}

/// Scripts written without spaces between words (plus Hangul, whose words are long).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'     // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}'   // Katakana phonetic extensions
        | '\u{3400}'..='\u{4DBF}'   // CJK extension A
        | '\u{4E00}'..='\u{9FFF}'   // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}'   // Hangul syllables
        | '\u{F900}'..='\u{FAFF}'   // CJK compatibility ideographs
        | '\u{FF66}'..='\u{FF9F}'   // half-width Katakana
        | '\u{20000}'..='\u{2FA1F}' // CJK extensions B–F, compatibility supplement
    )
}

/// Stored fingerprints with a value each, searchable by Hamming distance.
///
/// Each fingerprint is kept once: inserting a fingerprint again replaces its value.
#[derive(Debug, Clone)]
pub struct NearDupIndex<T> {
    values: HashMap<u64, T>,
    /// For each of the 4 bands, the stored fingerprints by the band's 16 bits.
    bands: [HashMap<u16, Vec<u64>>; 4],
}

impl<T: Clone> Default for NearDupIndex<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Clone> NearDupIndex<T> {
    /// An empty index.
    pub fn new() -> Self {
        NearDupIndex {
            values: HashMap::new(),
            bands: Default::default(),
        }
    }

    /// Stores `fp` with `value`, replacing the value of an equal fingerprint.
    pub fn insert(&mut self, fp: u64, value: T) {
        if self.values.insert(fp, value).is_none() {
            for (band, map) in self.bands.iter_mut().enumerate() {
                map.entry(band_key(fp, band)).or_default().push(fp);
            }
        }
    }

    /// The stored fingerprint closest to `fp` within `max_distance`, with its value; ties go
    /// to the numerically smallest fingerprint. Exact through the bands for
    /// `max_distance <= 3`; larger distances scan every entry.
    pub fn find(&self, fp: u64, max_distance: u32) -> Option<(u64, T)> {
        let mut best: Option<(u32, u64)> = None;
        let mut consider = |candidate: u64| {
            let d = hamming(fp, candidate);
            if d <= max_distance && best.is_none_or(|(bd, bfp)| (d, candidate) < (bd, bfp)) {
                best = Some((d, candidate));
            }
        };
        if max_distance <= 3 {
            for (band, map) in self.bands.iter().enumerate() {
                if let Some(list) = map.get(&band_key(fp, band)) {
                    list.iter().for_each(|&c| consider(c));
                }
            }
        } else {
            self.values.keys().for_each(|&c| consider(c));
        }
        let (_, found) = best?;
        self.values.get(&found).map(|v| (found, v.clone()))
    }

    /// Number of stored fingerprints.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Forgets `fp` (nothing happens when it isn't stored).
    pub fn remove(&mut self, fp: u64) {
        if self.values.remove(&fp).is_none() {
            return;
        }
        for (band, map) in self.bands.iter_mut().enumerate() {
            let key = band_key(fp, band);
            if let Some(list) = map.get_mut(&key) {
                if let Some(pos) = list.iter().position(|&c| c == fp) {
                    list.swap_remove(pos);
                }
                if list.is_empty() {
                    map.remove(&key);
                }
            }
        }
    }
}

fn band_key(fp: u64, band: usize) -> u16 {
    (fp >> (band * 16)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic PRNG (xorshift64*), so that measured rates are reproducible.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// The texts of the labelled tweets in `../shared/data` (not redistributable); None when
    /// they are not available here.
    fn tweets() -> Option<Vec<String>> {
        let path = crate::testdata::shared_or_skip("data/sentiment/train.tsv")?;
        let data = std::fs::read_to_string(path).expect("sentiment data");
        Some(
            data.lines()
                .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_string()))
                .collect(),
        )
    }

    /// `n` words of real text: consecutive tweets from `start` on.
    fn words_from(tweets: &[String], start: usize, n: usize) -> String {
        let mut words: Vec<&str> = Vec::with_capacity(n + 40);
        let mut i = start;
        while words.len() < n {
            words.extend(tweets[i % tweets.len()].split_whitespace());
            i += 1;
        }
        words.truncate(n);
        words.join(" ")
    }

    fn share(hits: usize, total: usize) -> f64 {
        hits as f64 / total as f64
    }

    const ARTICLE: &str = "The city council voted on Tuesday to expand the bicycle lane network \
        along the river, a plan that had been debated for nearly three years. Supporters said \
        the new lanes would reduce traffic and make commuting safer for children, while local \
        shop owners worried about losing parking spaces in front of their stores during the \
        long construction period that is expected to begin next spring.";

    #[test]
    fn identical_and_trivially_different_texts_have_distance_zero() {
        assert_eq!(hamming(simhash(ARTICLE), simhash(ARTICLE)), 0);
        let reformatted = ARTICLE
            .to_uppercase()
            .replace(' ', "  \n\t ")
            .replace(',', " ;")
            .replace('.', "!!");
        assert_eq!(hamming(simhash(ARTICLE), simhash(&reformatted)), 0);
        assert_eq!(simhash("don't stop"), simhash("Dont   STOP!"));
        // Combining marks are ignored (there is no Unicode normalisation: a precomposed é is
        // its own letter).
        assert_eq!(simhash("cafe creme"), simhash("CAFE\u{301} CRE\u{300}ME"));
        assert_ne!(simhash("cafe creme"), simhash("café crème"));
    }

    #[test]
    fn fingerprints_are_stable() {
        // Pinned values: if one changes, fingerprints stored by an older build are void.
        assert_eq!(simhash(""), 0);
        assert_eq!(simhash("  ...  "), 0);
        assert_eq!(simhash("hello"), 0xfcb8_19f4_58f3_b3c2);
        assert_eq!(simhash(ARTICLE), 0x95b5_d640_fb58_926f);
        assert_eq!(simhash("東京都の天気は晴れです"), 0x3956_f823_3eea_8996);
    }

    #[test]
    fn hamming_counts_bits() {
        assert_eq!(hamming(0, 0), 0);
        assert_eq!(hamming(0b1011, 0b0001), 2);
        assert_eq!(hamming(0, u64::MAX), 64);
    }

    #[test]
    fn short_texts_still_get_a_fingerprint() {
        assert_ne!(simhash("hello"), 0);
        assert_ne!(simhash("hello world"), simhash("hello"));
        assert_eq!(simhash("Hello, world."), simhash("hello world"));
    }

    #[test]
    fn cjk_text_is_cut_into_character_bigrams() {
        let text = "東京都は今日、新しい自転車道の計画を発表しました。市民の多くはこの計画を歓迎しており、\
            通勤が安全になると期待しています。一方で商店主たちは駐車場が減ることを心配しています。";
        let one_char_changed = text.replacen("安全", "安心", 1);
        let unrelated = "昨日の試合は雨のため中止となり、来週の土曜日に延期されることが決まりました。\
            チケットはそのまま使用できます。払い戻しを希望する方は窓口までお越しください。";
        let d_edit = hamming(simhash(text), simhash(&one_char_changed));
        let d_far = hamming(simhash(text), simhash(unrelated));
        eprintln!("CJK: one character changed {d_edit}, unrelated {d_far}");
        // 2 of ~80 bigrams, in the heavily weighted middle: a large change for SimHash.
        assert!(d_edit <= 10, "one character changed: {d_edit}");
        let spaced = text.replace('、', " ").replace('。', "\n");
        assert_eq!(simhash(text), simhash(&spaced));
        assert!(d_far > 10, "unrelated: {d_far}");
        // Without spaces the text is not one giant word.
        assert_ne!(simhash("東京"), simhash("東京都"));
    }

    #[test]
    fn boilerplate_around_a_copy_stays_near() {
        // The example text (66 words) with a byline and a footer.
        let copy = format!("By Jane Doe, Staff Writer\n\n{ARTICLE}\n\nRead more at example.com");
        assert!(hamming(simhash(ARTICLE), simhash(&copy)) <= NEAR);

        // Measured over real text: 300 texts per length, each with a byline (3–5 words) and,
        // every other time, a footer.
        let Some(tweets) = tweets() else {
            return;
        };
        let mut rng = Rng(7);
        for (words, want_share) in [(50, 0.65), (100, 0.9), (200, 0.97), (400, 0.99)] {
            let (mut near, mut sum) = (0, 0);
            for k in 0..300 {
                let body = words_from(&tweets, rng.below(tweets.len()), words);
                let copy = if k % 2 == 0 {
                    format!("By Jane Doe, Staff Writer\n{body}\nRead more at example.com")
                } else {
                    format!("By Jane Doe: {body}")
                };
                let d = hamming(simhash(&body), simhash(&copy));
                sum += d;
                near += usize::from(d <= NEAR);
            }
            eprintln!(
                "{words} words + boilerplate: mean distance {:.2}, within NEAR {:.3}",
                sum as f64 / 300.0,
                share(near, 300)
            );
            assert!(share(near, 300) >= want_share, "{words} words");
        }
    }

    #[test]
    fn unrelated_texts_are_far_and_near_has_no_false_positives() {
        // "Articles" of 5 consecutive tweets (~80 words). Tweets of the data set come grouped
        // by topic, so neighbouring articles are unrelated texts on the same topic.
        let Some(tweets) = tweets() else {
            return;
        };
        let articles: Vec<String> = tweets.chunks(5).map(|c| c.join(" ")).collect();
        let fps: Vec<u64> = articles.iter().map(|a| simhash(a)).collect();
        let mut rng = Rng(42);
        let (mut within_near, mut within_10, mut sum) = (0, 0, 0u64);
        let pairs = 10_000;
        for _ in 0..pairs {
            let a = rng.below(fps.len());
            let b = (a + 1 + rng.below(fps.len() - 1)) % fps.len();
            let d = hamming(fps[a], fps[b]);
            sum += d as u64;
            within_near += usize::from(d <= NEAR);
            within_10 += usize::from(d <= 10);
        }
        let (mut adjacent_near, mut adjacent_10, mut adjacent_min) = (0, 0, 64);
        for w in fps.windows(2).take(pairs) {
            let d = hamming(w[0], w[1]);
            adjacent_near += usize::from(d <= NEAR);
            adjacent_10 += usize::from(d <= 10);
            adjacent_min = adjacent_min.min(d);
        }
        eprintln!(
            "random pairs: mean {:.2}, within NEAR {within_near}/{pairs}, within 10 {within_10}; \
             adjacent pairs: within NEAR {adjacent_near}, within 10 {adjacent_10}, min {adjacent_min}",
            sum as f64 / pairs as f64
        );
        assert_eq!(within_near, 0);
        assert_eq!(within_10, 0);
        assert_eq!(adjacent_near, 0);
        assert!(adjacent_10 <= 1);
    }

    #[test]
    fn recall_on_edited_copies() {
        // Copies of real text with 1–3 random words per 100 replaced.
        let Some(tweets) = tweets() else {
            return;
        };
        let mut rng = Rng(99);
        let trials = 300;
        let mut recall = [0usize; 3];
        for _ in 0..trials {
            let words_n = 100 + rng.below(301);
            let body = words_from(&tweets, rng.below(tweets.len()), words_n);
            let fp = simhash(&body);
            for (per_100, hits) in (1..=3).zip(recall.iter_mut()) {
                let mut words: Vec<String> = body.split_whitespace().map(String::from).collect();
                for _ in 0..(per_100 * words_n).div_ceil(100) {
                    let at = rng.below(words.len());
                    words[at] = format!("edit{}", rng.next() % 10_000);
                }
                *hits += usize::from(hamming(fp, simhash(&words.join(" "))) <= NEAR);
            }
        }
        let rates = recall.map(|h| share(h, trials));
        eprintln!("recall at NEAR for 1/2/3 edited words per 100: {rates:.3?}");
        assert!(
            rates[0] >= 0.2 && rates[1] >= 0.03 && rates[2] >= 0.01,
            "{rates:?}"
        );
        assert!(rates[0] > rates[1] && rates[1] > rates[2]);
    }

    #[test]
    fn garbage_input_does_not_panic() {
        let mut rng = Rng(5);
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let text = String::from_utf8_lossy(&bytes);
            let _ = simhash(&text);
            let chars: String = (0..len)
                .filter_map(|_| char::from_u32((rng.next() % 0x3_0000) as u32))
                .collect();
            let _ = simhash(&chars);
        }
    }

    fn brute_force(stored: &[u64], fp: u64, max: u32) -> Option<u64> {
        stored
            .iter()
            .map(|&s| (hamming(fp, s), s))
            .filter(|&(d, _)| d <= max)
            .min()
            .map(|(_, s)| s)
    }

    #[test]
    fn index_agrees_with_brute_force() {
        let mut rng = Rng(1234);
        let mut index = NearDupIndex::new();
        let mut stored = Vec::new();
        for i in 0..3000u32 {
            // Clustered fingerprints, so that near neighbours and ties exist.
            let fp = if i % 3 == 0 && !stored.is_empty() {
                stored[rng.below(stored.len())] ^ (1u64 << rng.below(64)) ^ (1u64 << rng.below(64))
            } else {
                rng.next()
            };
            if !stored.contains(&fp) {
                stored.push(fp);
            }
            index.insert(fp, fp.rotate_left(7));
        }
        assert_eq!(index.len(), stored.len());
        for q in 0..4000 {
            let base = stored[rng.below(stored.len())];
            let query = if q % 4 == 0 {
                rng.next()
            } else {
                (0..rng.below(6)).fold(base, |f, _| f ^ (1u64 << rng.below(64)))
            };
            for max in 0..=5 {
                let want = brute_force(&stored, query, max).map(|s| (s, s.rotate_left(7)));
                assert_eq!(index.find(query, max), want, "query {query:x} max {max}");
            }
        }
    }

    #[test]
    fn index_insert_replace_and_remove() {
        let mut index = NearDupIndex::new();
        assert!(index.is_empty());
        assert_eq!(index.find(0, 3), None);
        index.insert(0b1111, "a");
        index.insert(0b1111, "b"); // replaces
        index.insert(0b1111_0000, "c");
        assert_eq!(index.len(), 2);
        assert_eq!(index.find(0b0111, NEAR), Some((0b1111, "b")));
        assert_eq!(index.find(0, NEAR), None); // 4 bits away from both
        assert_eq!(index.find(0, 4), Some((0b1111, "b"))); // tie: the smaller one
        index.remove(0b1111);
        index.remove(0b1111); // absent: nothing happens
        assert_eq!(index.len(), 1);
        assert_eq!(index.find(0b0111, NEAR), None);
        assert_eq!(index.find(0b1011_0000, NEAR), Some((0b1111_0000, "c")));
        // Fingerprints differing only in one band are still found through the other three.
        index.insert(u64::MAX, "max");
        assert_eq!(index.find(u64::MAX ^ 0b111, NEAR), Some((u64::MAX, "max")));
        assert_eq!(
            index.find(u64::MAX ^ (1 | 1 << 20 | 1 << 40), NEAR),
            Some((u64::MAX, "max"))
        );
    }

    #[test]
    fn index_finds_a_syndicated_copy() {
        let mut index = NearDupIndex::new();
        index.insert(simhash(ARTICLE), "https://a.example/bike-lanes");
        index.insert(
            simhash(
                "Completely different words about the weather this weekend, \
            with rain expected on Saturday and sun on Sunday across most of the region.",
            ),
            "w",
        );
        let copy = format!("Reposted from The Gazette:\n{ARTICLE}\nShare this story");
        let found = index.find(simhash(&copy), NEAR).map(|(_, v)| v);
        assert_eq!(found, Some("https://a.example/bike-lanes"));
    }

    /// Throughput, measured with `cargo test --release -- --ignored simhash_speed --nocapture`.
    #[test]
    #[ignore]
    fn simhash_speed() {
        let Some(tweets) = tweets() else {
            return;
        };
        let articles: Vec<String> = tweets.chunks(5).map(|c| c.join(" ")).collect();
        let bytes: usize = articles.iter().map(|a| a.len()).sum();
        let start = std::time::Instant::now();
        let x = articles.iter().fold(0, |x, a| x ^ simhash(a));
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "simhash of {} articles: {:.1} MB/s ({x:x})",
            articles.len(),
            bytes as f64 / 1e6 / secs
        );
        let text = tweets.join(" ");
        let start = std::time::Instant::now();
        let fp = simhash(&text);
        let secs = start.elapsed().as_secs_f64();
        eprintln!(
            "simhash: {:.1} MB in {secs:.3}s = {:.1} MB/s ({fp:x})",
            text.len() as f64 / 1e6,
            text.len() as f64 / 1e6 / secs
        );
    }
}
