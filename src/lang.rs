//! Language detection for the `lang` field (ISO 639-1), with whatlang.
//!
//! Short texts are hard: a tweet of five words is often misdetected. hark only commits to a
//! language when whatlang calls its guess reliable or the text is long enough for a confident
//! guess; otherwise it falls back to the language the source declares (a feed's `<language>`),
//! and else leaves `lang` unset. A query's `languages` filter drops only mentions whose
//! language is known and not in the list, so an undetectable short post is never lost.

use whatlang::Lang;

/// ISO 639-1 code of a detected language, or None when unsure.
pub fn detect(text: &str, hint: Option<&str>) -> Option<String> {
    let info = whatlang::detect(text);
    let hint = hint.and_then(normalise_hint);
    match info {
        Some(info) if info.is_reliable() || info.confidence() >= 0.5 => {
            Some(iso639_1(info.lang()).to_string())
        }
        Some(info) if hint.is_none() && info.confidence() >= 0.2 && text.len() >= 40 => {
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
