//! Language detection for the `lang` field (ISO 639-1).
//!
//! Two tiers, because a trigram model costs ~100 µs per text and the importer's budget for
//! everything a mention needs is about that:
//! 1. The writing system decides alone where it identifies one language (Han, kana, Hangul,
//!    Greek, Hebrew, Thai, ...). For Latin-script text, function words decide: short texts
//!    almost always contain a few ("the", "und", "les"), and counting them over the shared
//!    tokenizer's folded tokens costs a hash lookup per word. A language wins with at least
//!    two hits and a clear lead over the runner-up.
//! 2. Otherwise whatlang's trigram model, and only when it calls its guess reliable (or is
//!    confident on a longer text).
//!
//! When neither is sure, the language the source declares (a feed's `<language>`) is used,
//! and else `lang` stays unset. A query's `languages` filter drops only mentions whose
//! language is known and not in the list, so an undetectable short post is never lost.

use std::collections::HashMap;
use std::sync::OnceLock;
use whatlang::Lang;

/// Function words per language: short texts almost always contain a few, and counting them
/// over the shared tokenizer's folded tokens costs a hash lookup per word, where a trigram
/// model costs ~100 µs per text. Folded forms (no diacritics), as the tokenizer yields them.
const STOPWORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "and", "is", "are", "was", "were", "to", "of", "in", "that", "it", "this",
            "for", "with", "you", "my", "not", "have", "has", "but", "on", "be", "at", "your",
            "just", "so", "what", "they", "from", "i", "me", "we", "our", "its", "an", "will",
            "can", "do", "dont", "been", "all", "about", "why", "how", "no", "or", "if", "would",
            "there", "their", "by", "again", "since", "im",
        ],
    ),
    (
        "fr",
        &[
            "le", "la", "les", "des", "est", "et", "un", "une", "du", "que", "qui", "pas", "pour",
            "dans", "sur", "avec", "ce", "cette", "je", "nous", "vous", "ils", "mais", "plus",
            "au", "aux", "son", "sa", "ses", "ne", "tres", "tout", "depuis", "mon", "ma", "mes",
            "sont", "ete", "fait", "encore", "comme", "c", "j", "l", "d", "n", "qu", "chez",
            "toujours", "rien",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "nicht", "ich", "ein", "eine", "mit", "auf", "fur",
            "den", "dem", "des", "zu", "im", "sich", "von", "auch", "es", "wir", "sie", "aber",
            "noch", "wie", "nur", "bei", "seit", "mein", "meine", "kein", "keine", "schon",
            "wieder", "sind", "war", "hat", "haben", "wird", "oder", "doch", "mal", "uns", "euch",
            "dass", "immer", "heute", "sollen", "soll", "lieber", "usw", "ach", "nichts", "jetzt",
            "hier", "gibt", "habe", "einen", "einem", "einer", "wenn",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "del", "que", "y", "es", "por", "con", "para", "una", "un", "no",
            "se", "lo", "su", "al", "pero", "mas", "muy", "como", "esta", "este", "mi", "yo",
            "hay", "todo", "ya", "porque", "cuando", "desde", "sin", "son", "fue", "tiene", "nos",
            "les", "ni", "otra", "vez",
        ],
    ),
    (
        "it",
        &[
            "il", "di", "che", "e", "la", "un", "una", "per", "non", "sono", "del", "della", "con",
            "mi", "si", "lo", "gli", "le", "ma", "piu", "anche", "come", "questo", "questa", "ho",
            "ha", "hanno", "nel", "nella", "alla", "da", "dei", "delle", "tutto", "sempre",
            "ancora", "perche", "gia", "io", "noi",
        ],
    ),
    (
        "pt",
        &[
            "o", "a", "os", "as", "de", "do", "da", "dos", "das", "que", "e", "nao", "um", "uma",
            "para", "com", "por", "em", "no", "na", "mais", "mas", "muito", "como", "eu", "voce",
            "ja", "tem", "foi", "ser", "isso", "esse", "essa", "meu", "minha", "ainda", "sempre",
            "quando", "porque", "nos",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "van", "is", "dat", "niet", "ik", "op", "te", "in", "voor",
            "met", "zijn", "er", "maar", "ook", "nog", "wel", "je", "we", "wij", "hij", "ze",
            "dit", "die", "naar", "al", "geen", "mijn", "bij", "om", "heb", "heeft", "was", "zo",
            "weer", "dan", "nu",
        ],
    ),
    (
        "sv",
        &[
            "och", "att", "det", "som", "en", "ett", "ar", "jag", "inte", "pa", "med", "for", "av",
            "den", "till", "har", "vi", "de", "om", "men", "var", "sa", "kan", "min", "mitt",
            "nar", "ocksa", "bara", "efter", "igen", "fran", "hur", "eller", "dem", "mig",
        ],
    ),
    (
        "da",
        &[
            "og", "at", "det", "er", "en", "et", "jeg", "ikke", "pa", "med", "for", "af", "den",
            "til", "har", "vi", "de", "som", "men", "var", "sa", "kan", "min", "mit", "nar",
            "ogsa", "bare", "efter", "igen", "fra", "hvordan", "eller", "dem", "mig", "hvad",
        ],
    ),
    (
        "pl",
        &[
            "i", "w", "nie", "na", "sie", "z", "do", "jest", "to", "ze", "o", "jak", "ale", "po",
            "co", "tak", "za", "od", "juz", "tylko", "dla", "mnie", "jestem", "byl", "bylo", "sa",
            "ten", "ta", "tego", "moj", "moja", "przez", "bardzo", "jeszcze", "czy",
        ],
    ),
    (
        "tr",
        &[
            "ve", "bir", "bu", "da", "de", "icin", "ile", "cok", "ne", "ben", "sen", "o", "biz",
            "ama", "gibi", "daha", "var", "yok", "mi", "degil", "olarak", "kadar", "sonra", "her",
            "hic", "neden", "simdi", "bana", "beni", "benim",
        ],
    ),
    (
        "id",
        &[
            "yang", "dan", "di", "ini", "itu", "dengan", "untuk", "tidak", "dari", "ke", "ada",
            "saya", "aku", "kami", "kita", "akan", "juga", "sudah", "bisa", "atau", "karena",
            "tapi", "lagi", "sangat", "apa", "kenapa", "belum", "masih", "mau", "nya",
        ],
    ),
    (
        "ro",
        &[
            "si", "in", "de", "la", "nu", "este", "cu", "pe", "un", "o", "care", "ca", "mai", "am",
            "sa", "din", "pentru", "dar", "sunt", "fost", "meu", "mea", "foarte", "inca", "acum",
            "iar", "doar", "tot", "ce", "cand",
        ],
    ),
    (
        "cs",
        &[
            "a", "je", "se", "na", "v", "to", "ze", "s", "z", "do", "ale", "jak", "by", "jsem",
            "jsou", "tak", "pro", "uz", "jeste", "ktery", "ktera", "nebo", "kdyz", "velmi", "muj",
            "moje", "tady", "proc", "taky", "porad",
        ],
    ),
    (
        // Hindi written in Latin letters (Hinglish), as most Indian tweets are.
        "hi",
        &[
            "hai", "hain", "ki", "ke", "ka", "ko", "nahi", "nahin", "nhi", "mein", "main", "bhi",
            "aur", "kya", "ye", "yeh", "wo", "woh", "se", "ho", "tha", "thi", "hota", "kar",
            "karo", "raha", "rahe", "kuch", "sab", "ji", "hum", "tum", "aap", "mera", "meri",
            "apne", "kaise", "kyun", "bahut", "abhi", "toh", "lekin", "par",
        ],
    ),
];

/// Whether `folded` (a token as the shared tokenizer yields it) is a function word of any
/// language hark detects ("the", "und", "les", "и", …).
pub fn is_function_word(folded: &str) -> bool {
    stopword_table().contains_key(folded)
}

fn stopword_table() -> &'static HashMap<&'static str, u16> {
    static TABLE: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t: HashMap<&'static str, u16> = HashMap::new();
        for (i, (_, words)) in STOPWORDS.iter().enumerate() {
            for w in *words {
                *t.entry(w).or_default() |= 1 << i;
            }
        }
        t
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Han,
    Kana,
    Hangul,
    Arabic,
    Hebrew,
    Devanagari,
    Thai,
    Other,
}

fn script_of(c: char) -> Option<Script> {
    let u = c as u32;
    Some(match u {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => Script::Latin,
        0x400..=0x52F => Script::Cyrillic,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF66..=0xFF9D => Script::Kana,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF => Script::Han,
        0xAC00..=0xD7AF | 0x1100..=0x11FF | 0x3130..=0x318F => Script::Hangul,
        0x600..=0x6FF | 0x750..=0x77F => Script::Arabic,
        0x590..=0x5FF => Script::Hebrew,
        0x900..=0x97F => Script::Devanagari,
        0xE00..=0xE7F => Script::Thai,
        _ if c.is_alphabetic() => Script::Other,
        _ => return None,
    })
}

/// The fast tier: None when it cannot decide.
fn detect_fast(text: &str) -> Option<&'static str> {
    let mut counts = [0usize; 11];
    let mut letters = 0usize;
    for c in text.chars() {
        if let Some(s) = script_of(c) {
            counts[s as usize] += 1;
            letters += 1;
        }
    }
    if letters == 0 {
        return None;
    }
    let count = |s: Script| counts[s as usize];
    let cjk = count(Script::Han) + count(Script::Kana);
    if cjk * 2 > letters {
        // Japanese mixes kana into Han text; Chinese has none.
        return Some(if count(Script::Kana) * 10 >= cjk {
            "ja"
        } else {
            "zh"
        });
    }
    for (script, code) in [
        (Script::Hangul, "ko"),
        (Script::Greek, "el"),
        (Script::Hebrew, "he"),
        (Script::Thai, "th"),
        (Script::Devanagari, "hi"),
    ] {
        if count(script) * 2 > letters {
            return Some(code);
        }
    }
    if count(Script::Cyrillic) * 2 > letters {
        return Some(cyrillic_language(text));
    }
    if count(Script::Arabic) * 2 > letters {
        return Some(arabic_script_language(text));
    }
    if count(Script::Latin) * 2 <= letters {
        return None;
    }
    let table = stopword_table();
    let mut hits = [0u32; 16];
    crate::text::for_each_token(text, |t| {
        if let Some(mask) = table.get(t.text) {
            for (i, h) in hits.iter_mut().enumerate().take(STOPWORDS.len()) {
                if mask & (1 << i) != 0 {
                    *h += 1;
                }
            }
        }
    });
    let mut order: Vec<usize> = (0..STOPWORDS.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(hits[i]));
    let (best, second) = (hits[order[0]], hits[order[1]]);
    // At least two function words, and clearly ahead of the next language.
    (best >= 2 && best * 2 >= second * 3).then(|| STOPWORDS[order[0]].0)
}

/// Cyrillic text by its letters (trigram models confuse short Russian posts with Bulgarian,
/// Ukrainian, Serbian, …): a letter only one language uses decides; Russian otherwise.
fn cyrillic_language(text: &str) -> &'static str {
    let has = |set: &str| {
        text.chars()
            .any(|c| set.contains(c.to_lowercase().next().unwrap_or(c)))
    };
    if has("ыэё") {
        "ru"
    } else if has("ґєії") {
        "uk"
    } else if has("ў") {
        "be"
    } else if has("ѓќѕ") {
        "mk"
    } else if has("ђћџљњј") {
        "sr"
    } else if has("ъ") && text.chars().filter(|c| *c == 'ъ').count() >= 2 {
        "bg"
    } else {
        "ru"
    }
}

/// Arabic script: Persian and Urdu by their extra letters, Arabic otherwise.
fn arabic_script_language(text: &str) -> &'static str {
    let has = |set: &str| text.chars().any(|c| set.contains(c));
    if has("ٹڈڑںےھ") {
        "ur"
    } else if has("پچژگکی") {
        "fa"
    } else {
        "ar"
    }
}

/// whatlang restricted to languages written in Latin script that brands are commonly
/// talked about in: its full model names rare languages (Javanese, Shona, Zulu, …) for
/// short, noisy posts far more often than they occur.
fn latin_detector() -> &'static whatlang::Detector {
    static D: OnceLock<whatlang::Detector> = OnceLock::new();
    D.get_or_init(|| {
        whatlang::Detector::with_allowlist(vec![
            Lang::Eng,
            Lang::Fra,
            Lang::Deu,
            Lang::Spa,
            Lang::Ita,
            Lang::Por,
            Lang::Nld,
            Lang::Swe,
            Lang::Dan,
            Lang::Nob,
            Lang::Fin,
            Lang::Pol,
            Lang::Ces,
            Lang::Slk,
            Lang::Hun,
            Lang::Ron,
            Lang::Tur,
            Lang::Ind,
            Lang::Hrv,
            Lang::Slv,
            Lang::Lit,
            Lang::Lav,
            Lang::Est,
            Lang::Cat,
            Lang::Vie,
        ])
    })
}

/// The words that say something about the language: URLs, @handles and the `RT` marker
/// are left out (in a short Russian post, `@BoyWithMarlboro https://t.co/N39G` would
/// otherwise outweigh the Cyrillic).
fn language_bearing(text: &str) -> std::borrow::Cow<'_, str> {
    let noise = |w: &str| {
        w.starts_with('@')
            || w.starts_with("http")
            || w.starts_with("www.")
            || w == "RT"
            || w.starts_with("&amp")
            || w.starts_with("&lt")
            || w.starts_with("&gt")
    };
    if !text.split_whitespace().any(noise) {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.split_whitespace()
            .filter(|w| !noise(w))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The posterior above which [`crate::langid`] decides for Latin-script text.
const LANGID_CONFIDENCE: f32 = 0.9;

/// ISO 639-1 code of a detected language, or None when unsure.
pub fn detect(text: &str, hint: Option<&str>) -> Option<String> {
    let cleaned = language_bearing(text);
    let text: &str = &cleaned;
    let latin = text
        .chars()
        .filter_map(script_of)
        .all(|s| s == Script::Latin);
    let fast = detect_fast(text);
    // Latin-script posts: the tweet-trained identifier, when it is sure. It knows only the
    // languages hark scores, so a language it does not know wins when the function words,
    // or whatlang reliably, say so (Dutch is not German).
    let lid = crate::langid::builtin();
    if latin
        && let Some((code, p)) = lid.classify(text)
        && p >= LANGID_CONFIDENCE
    {
        let unknown_to_lid = match fast {
            Some(f) if lid.knows(f) => None,
            Some(f) => Some(f.to_string()),
            // No function words decided: whatlang (costlier) gets a say.
            None => latin_detector()
                .detect(text)
                .filter(|i| i.is_reliable())
                .map(|i| iso639_1(i.lang()))
                .filter(|c| !lid.knows(c))
                .map(str::to_string),
        };
        return Some(unknown_to_lid.unwrap_or_else(|| code.to_string()));
    }
    if let Some(code) = fast {
        return Some(code.to_string());
    }
    let info = if latin {
        latin_detector().detect(text)
    } else {
        whatlang::detect(text)
    };
    let hint = hint.and_then(normalise_hint);
    match info {
        Some(info) if info.is_reliable() || info.confidence() >= 0.5 => {
            Some(iso639_1(info.lang()).to_string())
        }
        Some(info) if hint.is_none() && info.confidence() >= 0.2 && text.len() >= 40 => {
            Some(iso639_1(info.lang()).to_string())
        }
        // A Latin-script post of a few words: the restricted model's best guess beats no
        // language at all (which would score it as English).
        Some(info) if hint.is_none() && latin && text.split_whitespace().count() >= 3 => {
            Some(iso639_1(info.lang()).to_string())
        }
        _ => hint,
    }
}

/// `en-US`, `EN`, `fr_BE` → `en`, `en`, `fr`.
pub fn normalise_hint(h: &str) -> Option<String> {
    let code: String = h
        .trim()
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    (code.len() == 2).then(|| code.to_ascii_lowercase())
}

/// Whether a mention in `lang` passes a query's `languages` filter.
pub fn passes(filter: &[String], lang: Option<&str>) -> bool {
    match lang {
        _ if filter.is_empty() => true,
        None => true,
        Some(l) => filter.iter().any(|f| f == l),
    }
}

fn iso639_1(lang: Lang) -> &'static str {
    match lang {
        Lang::Epo => "eo",
        Lang::Eng => "en",
        Lang::Rus => "ru",
        Lang::Cmn => "zh",
        Lang::Spa => "es",
        Lang::Por => "pt",
        Lang::Ita => "it",
        Lang::Ben => "bn",
        Lang::Fra => "fr",
        Lang::Deu => "de",
        Lang::Ukr => "uk",
        Lang::Kat => "ka",
        Lang::Ara => "ar",
        Lang::Hin => "hi",
        Lang::Jpn => "ja",
        Lang::Heb => "he",
        Lang::Yid => "yi",
        Lang::Pol => "pl",
        Lang::Amh => "am",
        Lang::Jav => "jv",
        Lang::Kor => "ko",
        Lang::Nob => "nb",
        Lang::Dan => "da",
        Lang::Swe => "sv",
        Lang::Fin => "fi",
        Lang::Tur => "tr",
        Lang::Nld => "nl",
        Lang::Hun => "hu",
        Lang::Ces => "cs",
        Lang::Ell => "el",
        Lang::Bul => "bg",
        Lang::Bel => "be",
        Lang::Mar => "mr",
        Lang::Kan => "kn",
        Lang::Ron => "ro",
        Lang::Slv => "sl",
        Lang::Hrv => "hr",
        Lang::Srp => "sr",
        Lang::Mkd => "mk",
        Lang::Lit => "lt",
        Lang::Lav => "lv",
        Lang::Est => "et",
        Lang::Tam => "ta",
        Lang::Vie => "vi",
        Lang::Urd => "ur",
        Lang::Tha => "th",
        Lang::Guj => "gu",
        Lang::Uzb => "uz",
        Lang::Pan => "pa",
        Lang::Aze => "az",
        Lang::Ind => "id",
        Lang::Tel => "te",
        Lang::Pes => "fa",
        Lang::Mal => "ml",
        Lang::Ori => "or",
        Lang::Mya => "my",
        Lang::Nep => "ne",
        Lang::Sin => "si",
        Lang::Khm => "km",
        Lang::Tuk => "tk",
        Lang::Aka => "ak",
        Lang::Zul => "zu",
        Lang::Sna => "sn",
        Lang::Afr => "af",
        Lang::Lat => "la",
        Lang::Slk => "sk",
        Lang::Cat => "ca",
        Lang::Tgl => "tl",
        Lang::Hye => "hy",
        Lang::Cym => "cy",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_languages() {
        assert_eq!(
            detect(
                "The delivery was late again and nobody from support answered my emails.",
                None
            )
            .as_deref(),
            Some("en")
        );
        assert_eq!(detect("Le service client ne répond jamais, c'est vraiment inacceptable pour un abonnement.", None).as_deref(), Some("fr"));
        assert_eq!(
            detect(
                "Der Kundendienst antwortet nie, das ist wirklich eine Frechheit für diesen Preis.",
                None
            )
            .as_deref(),
            Some("de")
        );
        assert_eq!(
            detect(
                "Служба поддержки не отвечает уже третий день подряд, это возмутительно.",
                None
            )
            .as_deref(),
            Some("ru")
        );
    }

    #[test]
    fn fast_tier_decides_common_cases() {
        assert_eq!(
            detect_fast("is the app down again? my internet is not working"),
            Some("en")
        );
        assert_eq!(
            detect_fast("la connexion est coupée depuis ce matin, c'est nul"),
            Some("fr")
        );
        assert_eq!(
            detect_fast("das Internet ist seit heute morgen nicht da"),
            Some("de")
        );
        assert_eq!(
            detect_fast("el servicio no funciona desde ayer y nadie responde"),
            Some("es")
        );
        assert_eq!(detect_fast("東京の天気はどうですか"), Some("ja"));
        assert_eq!(detect_fast("今天天气很好"), Some("zh"));
        assert_eq!(detect_fast("Καλημέρα σε όλους"), Some("el"));
        assert_eq!(
            detect_fast("Brightwave down!!!"),
            None,
            "no function words: not decided here"
        );
        assert_eq!(detect_fast("12345 !!!"), None);
    }

    #[test]
    fn hint_used_when_unsure() {
        assert_eq!(detect("ok", Some("en-US")).as_deref(), Some("en"));
        assert_eq!(detect("ok", None), None);
    }

    #[test]
    fn filter_keeps_unknown() {
        let f = vec!["en".to_string()];
        assert!(passes(&f, None));
        assert!(passes(&f, Some("en")));
        assert!(!passes(&f, Some("fr")));
        assert!(passes(&[], Some("fr")));
    }
}

#[cfg(test)]
mod langid_tests {
    use super::detect;

    #[test]
    fn short_posts_in_the_scored_languages() {
        for (text, want) in [
            ("Qué mal servicio, nunca más", "es"),
            ("Que serviço ruim, nunca mais", "pt"),
            ("Der Service ist echt mies", "de"),
            ("Il servizio è pessimo", "it"),
            ("Le service est nul", "fr"),
            ("yeh service bahut kharab hai yaar", "hi"),
            // "die" and "was" are Dutch too; "sollen", "lieber", "usw" are not (a German dev
            // tweet that used to be taken for Dutch).
            (
                "@user @user Die sollen lieber was zeichnen, basteln, dichten usw..",
                "de",
            ),
            ("Dat was het dan, die gaan we niet meer zien", "nl"),
        ] {
            assert_eq!(detect(text, None).as_deref(), Some(want), "{text}");
        }
    }

    /// The tweet-trained identifier knows only the languages hark scores; other languages
    /// must not be pulled into them (then scored by the wrong model).
    #[test]
    fn other_latin_languages_are_not_taken_for_scored_ones() {
        for (text, want) in [
            (
                "Acme heeft de levering weer niet op tijd gedaan, echt jammer",
                "nl",
            ),
            ("To jest bardzo dobra firma, polecam wszystkim", "pl"),
            (
                "Det här företaget är verkligen bra, jag rekommenderar det",
                "sv",
            ),
        ] {
            assert_eq!(detect(text, None).as_deref(), Some(want), "{text}");
        }
    }
}
