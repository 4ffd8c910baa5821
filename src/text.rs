//! The one tokenizer of hark.
//!
//! The query matcher ([`crate::query`]), the search index tokenizer and the sentiment
//! brand-masking all split and normalise text with this module, so that a word the query
//! language sees is exactly the word the index stores and the classifier masks.
//!
//! # Folding
//!
//! [`fold`] maps text to its matching form: compatibility decomposition (NFKD: full-width
//! `ＡＣＭＥ` → `acme`, ligatures `ﬁ` → `fi`, styled math letters `𝐚𝐜𝐦𝐞` → `acme`),
//! lowercase, removal of *diacritic* marks (Latin/Greek/Cyrillic combining accents, Hebrew
//! points, Arabic harakat and tatweel, variation selectors, soft hyphen and zero-width
//! joiners), letters without a decomposition spelled out (`ß`→`ss`, `æ`→`ae`, `œ`→`oe`,
//! `ø`→`o`, `ł`→`l`, `đ`/`ð`→`d`, `þ`→`th`, `ı`→`i`, `ħ`→`h`, `ŧ`→`t`, final `ς`→`σ`), and
//! finally canonical recomposition (NFC) so that Hangul syllables and voiced kana stay one
//! character. Marks that carry meaning in their script (Devanagari vowel signs, Thai tone
//! marks, the kana voicing mark, …) are kept. Folding is idempotent.
//!
//! Compatibility decomposition is only applied to characters that are part of words: `™` is
//! not turned into `tm` (so `Acme™` is the word `acme`), `①` is the word `1`.
//!
//! # Tokens
//!
//! A token is a maximal run of word characters — Unicode alphanumerics and `_` (so word
//! boundaries are those of regex `\b`) — with these refinements:
//!
//! * each Han, Hiragana or Katakana character is a token of its own (CJK is written without
//!   spaces, so a CJK word is matched as a phrase of its characters);
//! * combining marks and invisible joiners (ZWJ, ZWNJ, soft hyphen, word joiner) continue the
//!   current token and never start one: `cafe\u{301}` (decomposed) is the token `cafe`;
//! * boundaries are decided on the original characters, then every token is folded. If the
//!   decomposition of a word character contains a non-word character (`½` = `1⁄2`), that
//!   splits the token there.
//!
//! A token is tagged with a sigil (`#` or `@`, also their full-width forms) when the character
//! right before it is that sigil and the sigil itself starts the text or follows a non-word
//! character: in `#acme` and `(@acme)` the token `acme` has a sigil, in `bob@acme.com` it
//! has not.
//!
//! Token positions count from 0 without gaps. `start..end` is the byte range of the token in
//! the original text (it covers trailing combining marks).
//!
//! For every string `s`, `tokenize(&fold(s))` yields the same token texts as `tokenize(s)`, and
//! every token text re-tokenizes to itself.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// A token of a text; see the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Token {
    /// The folded text of the token.
    pub text: String,
    /// Byte offset of the first character of the token in the original text.
    pub start: usize,
    /// Byte offset just after the token (including trailing combining marks).
    pub end: usize,
    /// Position of the token: 0 for the first token, then consecutive.
    pub position: u32,
    /// `Some('#')` or `Some('@')` when the token is a hashtag or a handle.
    pub sigil: Option<char>,
}

/// A borrowed [`Token`], handed out by [`for_each_token`] without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenRef<'a> {
    /// The folded text of the token (valid during the callback only).
    pub text: &'a str,
    /// Byte offset of the first character of the token in the original text.
    pub start: usize,
    /// Byte offset just after the token.
    pub end: usize,
    /// Position of the token: 0 for the first token, then consecutive.
    pub position: u32,
    /// `Some('#')` or `Some('@')` when the token is a hashtag or a handle.
    pub sigil: Option<char>,
}

impl TokenRef<'_> {
    /// An owned copy of the token.
    pub fn to_token(&self) -> Token {
        Token {
            text: self.text.to_owned(),
            start: self.start,
            end: self.end,
            position: self.position,
            sigil: self.sigil,
        }
    }
}

/// Whether `c` is a word character of the original text: alphanumeric or `_`.
///
/// Combining marks are not word characters by themselves but continue a word.
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || c == '_'
    } else {
        c.is_alphanumeric() || c == '\u{FF3F}'
    }
}

/// Whether `c` is a Han, Hiragana or Katakana character (each is a token of its own).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3005 | 0x3007 | 0x3021..=0x3029 | 0x3038..=0x303B // iteration marks, numerals
        | 0x3040..=0x309F // Hiragana
        | 0x30A0..=0x30FF // Katakana
        | 0x31F0..=0x31FF // Katakana phonetic extensions
        | 0x3400..=0x4DBF // CJK extension A
        | 0x4E00..=0x9FFF // CJK unified ideographs
        | 0xF900..=0xFAFF // compatibility ideographs
        | 0xFF66..=0xFF9D // half-width Katakana
        | 0x1B000..=0x1B16F // Kana supplement and extensions
        | 0x20000..=0x3FFFF) // CJK extensions B..
}

/// Marks and invisible characters removed by folding.
fn is_dropped(c: char) -> bool {
    matches!(c as u32,
        0x00AD // soft hyphen
        | 0x0300..=0x036F // combining diacritical marks
        | 0x0591..=0x05BD | 0x05BF | 0x05C1..=0x05C2 | 0x05C4..=0x05C5 | 0x05C7 // Hebrew points
        | 0x0610..=0x061A | 0x0640 | 0x064B..=0x065F | 0x0670 // Arabic harakat, tatweel
        | 0x06D6..=0x06DC | 0x06DF..=0x06E4 | 0x06E7..=0x06E8 | 0x06EA..=0x06ED
        | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F // more diacritics
        | 0x200C | 0x200D | 0x2060 | 0xFEFF // joiners
        | 0xFE00..=0xFE0F | 0xE0100..=0xE01EF) // variation selectors
}

/// Letters that have no decomposition but a conventional plain spelling.
fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        'ħ' => "h",
        'ŧ' => "t",
        'ς' => "σ",
        _ => return None,
    })
}

/// A non-ASCII character that is folded (word characters and marks/joiners that continue
/// words); all other characters are separators and pass [`fold`] unchanged.
fn is_foldable(c: char) -> bool {
    is_word_char(c) || is_combining_mark(c) || is_dropped(c)
}

/// Calls `f` with the folded characters of the non-ASCII foldable character `c`.
#[inline]
fn fold_char(c: char, mut f: impl FnMut(char)) {
    decompose_compatible(c, |d| {
        for l in d.to_lowercase() {
            if let Some(rep) = special(l) {
                rep.chars().for_each(&mut f);
            } else if !is_dropped(l) {
                f(l);
            }
        }
    });
}

fn nfc_into(s: &str, out: &mut String) {
    out.clear();
    out.extend(s.nfc());
}

/// Folds `s` for matching: lowercase, no diacritics, compatibility forms resolved; see the
/// [module documentation](self). Characters that are not part of words are kept as they are.
pub fn fold(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    // Runs of word characters are folded and recomposed (NFC) one run at a time, so that
    // separators are never touched by normalization.
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let mut composed = String::new();
    let flush = |run: &mut String, out: &mut String, composed: &mut String| {
        if run.is_ascii() {
            out.push_str(run);
        } else {
            nfc_into(run, composed);
            out.push_str(composed);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() || c == '_' {
                run.push(c.to_ascii_lowercase());
            } else {
                flush(&mut run, &mut out, &mut composed);
                out.push(c);
            }
        } else if is_foldable(c) {
            fold_char(c, |l| run.push(l));
        } else {
            flush(&mut run, &mut out, &mut composed);
            out.push(c);
        }
    }
    flush(&mut run, &mut out, &mut composed);
    out
}

/// Splits `s` into tokens; see the [module documentation](self).
pub fn tokenize(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    for_each_token(s, |t| tokens.push(t.to_token()));
    tokens
}

/// Calls `f` for every token of `s`, in order, reusing one buffer for the token texts.
pub fn for_each_token(s: &str, f: impl FnMut(TokenRef<'_>)) {
    let mut tk = Tokenizer {
        src: s,
        buf: String::new(),
        composed: String::new(),
        active: false,
        cjk: false,
        ascii: true,
        start: 0,
        end: 0,
        prev_start: usize::MAX,
        sigil: None,
        position: 0,
        f,
    };
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii() {
            if b.is_ascii_alphanumeric() || b == b'_' {
                if !tk.active || tk.cjk {
                    tk.begin(i, false);
                }
                tk.buf.push(char::from(b.to_ascii_lowercase()));
                tk.end = i + 1;
            } else {
                tk.flush();
            }
            i += 1;
            continue;
        }
        let c = s[i..].chars().next().expect("char boundary");
        let next = i + c.len_utf8();
        if is_foldable(c) {
            fold_char(c, |l| tk.feed(l, i, next));
            if tk.active {
                // Dropped marks and joiners still belong to the token's span.
                tk.end = next;
            }
        } else {
            tk.flush();
        }
        i = next;
    }
    tk.flush();
}

struct Tokenizer<'s, F> {
    src: &'s str,
    buf: String,
    composed: String,
    active: bool,
    cjk: bool,
    ascii: bool,
    start: usize,
    end: usize,
    prev_start: usize,
    sigil: Option<char>,
    position: u32,
    f: F,
}

fn sigil_before(src: &str, at: usize) -> Option<char> {
    let mut before = src[..at].chars().rev();
    let sigil = match before.next()? {
        '#' | '\u{FF03}' => '#',
        '@' | '\u{FF20}' => '@',
        _ => return None,
    };
    match before.next() {
        // Marks and joiners continue the word before them.
        Some(p) if is_foldable(p) => None,
        _ => Some(sigil),
    }
}

impl<F: FnMut(TokenRef<'_>)> Tokenizer<'_, F> {
    fn begin(&mut self, at: usize, cjk: bool) {
        self.flush();
        self.active = true;
        self.cjk = cjk;
        self.start = at;
        // A second token starting inside the same source character is not a hashtag.
        self.sigil = if at == self.prev_start {
            None
        } else {
            sigil_before(self.src, at)
        };
        self.prev_start = at;
    }

    /// Handles one folded character `l` coming from the source character at `i..next`.
    fn feed(&mut self, l: char, i: usize, next: usize) {
        if l.is_ascii() {
            if l.is_ascii_alphanumeric() || l == '_' {
                if !self.active || self.cjk {
                    self.begin(i, false);
                }
                self.buf.push(l);
                self.end = next;
            } else {
                self.flush();
            }
        } else if is_combining_mark(l) {
            if self.active {
                self.buf.push(l);
                self.ascii = false;
                self.end = next;
            }
        } else if is_cjk(l) {
            self.begin(i, true);
            self.buf.push(l);
            self.ascii = false;
            self.end = next;
        } else if is_word_char(l) {
            if !self.active || self.cjk {
                self.begin(i, false);
            }
            self.buf.push(l);
            self.ascii = false;
            self.end = next;
        } else {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if !self.active {
            return;
        }
        self.active = false;
        let text = if self.ascii {
            self.buf.as_str()
        } else {
            nfc_into(&self.buf, &mut self.composed);
            self.composed.as_str()
        };
        (self.f)(TokenRef {
            text,
            start: self.start,
            end: self.end,
            position: self.position,
            sigil: self.sigil,
        });
        self.position += 1;
        self.buf.clear();
        self.ascii = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn fold_basics() {
        assert_eq!(fold("Hello WORLD"), "hello world");
        assert_eq!(fold("Café"), "cafe");
        assert_eq!(fold("cafe\u{301}"), "cafe");
        assert_eq!(fold("Straße STRASSE ẞ"), "strasse strasse ss");
        assert_eq!(
            fold("Æsir Œuvre Ørsted Łódź Đorđe Þór ı"),
            "aesir oeuvre orsted lodz dorde thor i"
        );
        assert_eq!(fold("ＡＣＭＥ ﬁne 𝐚𝐜𝐦𝐞"), "acme fine acme");
        assert_eq!(fold("İstanbul"), "istanbul");
        assert_eq!(fold("ΣΊΣΥΦΟΣ σίσυφος"), "σισυφοσ σισυφοσ");
        assert_eq!(fold("Acme™"), "acme™");
        assert_eq!(fold("naïve résumé Ångström"), "naive resume angstrom");
        assert_eq!(fold("Привет Ёж"), "привет еж");
    }

    #[test]
    fn fold_keeps_meaningful_marks_and_composes() {
        assert_eq!(fold("हिन्दी"), "हिन्दी");
        assert_eq!(fold("が"), "が");
        assert_eq!(fold("ｶﾞ"), "ガ");
        assert_eq!(fold("한국"), "한국");
        assert_eq!(fold("שָׁלוֹם"), "שלום");
        assert_eq!(fold("مُحَمَّد"), "محمد");
    }

    #[test]
    fn fold_is_idempotent_for_every_char() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let s = c.to_string();
            let f = fold(&s);
            assert_eq!(fold(&f), f, "fold not idempotent for U+{:04X}", c as u32);
            assert_eq!(
                texts(&f),
                texts(&s),
                "tokens differ after fold for U+{:04X}",
                c as u32
            );
            for t in texts(&s) {
                assert_eq!(
                    texts(&t),
                    vec![t.clone()],
                    "token of U+{:04X} not stable",
                    c as u32
                );
            }
        }
    }

    #[test]
    fn word_boundaries() {
        assert_eq!(
            texts("Acme, acmeology; ACME-corp"),
            ["acme", "acmeology", "acme", "corp"]
        );
        assert_eq!(texts("foo_bar baz42 4.5"), ["foo_bar", "baz42", "4", "5"]);
        assert_eq!(
            texts("AT&T e-mail it's"),
            ["at", "t", "e", "mail", "it", "s"]
        );
        assert_eq!(texts("  "), Vec::<String>::new());
        assert_eq!(texts(""), Vec::<String>::new());
        assert_eq!(texts("Acme™ rocks"), ["acme", "rocks"]);
        assert_eq!(texts("½"), ["1", "2"]);
        assert_eq!(texts("ac\u{AD}me"), ["acme"]);
        assert_eq!(texts("\u{301}acme ❤\u{FE0F}"), ["acme"]);
    }

    #[test]
    fn cjk_characters_are_single_tokens() {
        assert_eq!(
            texts("日本語のテキスト"),
            ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]
        );
        assert_eq!(texts("acme日本acme"), ["acme", "日", "本", "acme"]);
        assert_eq!(texts("が\u{3099}"), ["が\u{3099}"]);
        assert_eq!(texts("か\u{3099}き"), ["が", "き"]);
        assert_eq!(texts("한국어 텍스트"), ["한국어", "텍스트"]);
    }

    #[test]
    fn offsets_positions_and_sigils() {
        let s = "Hi #Acme, mail bob@acme.com or @café_x! ＃日本";
        let toks = tokenize(s);
        let summary: Vec<_> = toks
            .iter()
            .map(|t| (t.text.as_str(), &s[t.start..t.end], t.position, t.sigil))
            .collect();
        assert_eq!(
            summary,
            [
                ("hi", "Hi", 0, None),
                ("acme", "Acme", 1, Some('#')),
                ("mail", "mail", 2, None),
                ("bob", "bob", 3, None),
                ("acme", "acme", 4, None),
                ("com", "com", 5, None),
                ("or", "or", 6, None),
                ("cafe_x", "café_x", 7, Some('@')),
                ("日", "日", 8, Some('#')),
                ("本", "本", 9, None),
            ]
        );
        let toks = tokenize("cafe\u{301} ##x a#b");
        assert_eq!(toks[0].end, "cafe\u{301}".len());
        assert_eq!(toks[1].sigil, Some('#'));
        assert_eq!(toks[3].sigil, None);
    }

    #[test]
    fn for_each_token_matches_tokenize() {
        let s = "Ünïcödé and ASCII, 日本 #tag";
        let mut v = Vec::new();
        for_each_token(s, |t| v.push(t.to_token()));
        assert_eq!(v, tokenize(s));
    }

    proptest::proptest! {
        #[test]
        fn tokens_are_stable_under_fold(s in proptest::prelude::any::<String>()) {
            let toks = tokenize(&s);
            proptest::prop_assert_eq!(texts(&fold(&s)), texts(&s));
            proptest::prop_assert_eq!(fold(&fold(&s)), fold(&s));
            let (mut last_start, mut last_end) = (0, 0);
            for (i, t) in toks.iter().enumerate() {
                proptest::prop_assert_eq!(t.position as usize, i);
                // Spans are ordered; they overlap only where one character is split (`½`).
                proptest::prop_assert!(t.start < t.end && t.end <= s.len());
                proptest::prop_assert!(t.start >= last_start && t.end >= last_end);
                proptest::prop_assert!(s.is_char_boundary(t.start) && s.is_char_boundary(t.end));
                proptest::prop_assert_eq!(texts(&t.text), vec![t.text.clone()]);
                proptest::prop_assert_eq!(&fold(&t.text), &t.text);
                // Re-tokenizing the token's source span gives the token back.
                proptest::prop_assert!(texts(&s[t.start..t.end]).contains(&t.text));
                (last_start, last_end) = (t.start, t.end);
            }
        }

        #[test]
        fn tokens_of_mixed_scripts(s in "([a-zA-Z0-9_ #@,.'\\-]|[àÉßæØłİı]|\\u{301}|日|本|が|ｶ|ﾞ|한|ह|ि|½|™|\\u{AD}){0,24}") {
            proptest::prop_assert_eq!(texts(&fold(&s)), texts(&s));
            for t in tokenize(&s) {
                proptest::prop_assert_eq!(texts(&t.text), vec![t.text.clone()]);
            }
        }
    }
}
