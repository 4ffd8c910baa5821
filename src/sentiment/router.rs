//! The mention's language picks its classifier.
//!
//! - English, and text whose language could not be told (short posts, emoji only): the
//!   configured model (`lexicon`, VADER-exact; or `bert`).
//! - A language with an `ngram` model: that model. Built in (trained by `hark model train
//!   --kind ngram` on the labelled tweets of `../shared/data/sentiment-multilingual`): French,
//!   German, Spanish, Italian, Portuguese, Russian, Arabic, Hindi. A deployment can add or
//!   replace languages with its own `models/ngram/LANG.hng` files.
//! - Any other language: `unscored` (score 0, model `none`): never a silent "neutral".

use super::ngram::NgramModel;
use super::{Classifier, Scores};
use crate::mention::{Label, Sentiment};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// The models compiled into the binary.
const BUILTIN: &[(&str, &[u8])] = &[
    ("ar", include_bytes!("../../models/ngram/ar.hng")),
    ("de", include_bytes!("../../models/ngram/de.hng")),
    ("es", include_bytes!("../../models/ngram/es.hng")),
    ("fr", include_bytes!("../../models/ngram/fr.hng")),
    ("hi", include_bytes!("../../models/ngram/hi.hng")),
    ("it", include_bytes!("../../models/ngram/it.hng")),
    ("pt", include_bytes!("../../models/ngram/pt.hng")),
    ("ru", include_bytes!("../../models/ngram/ru.hng")),
];

/// The built-in models, decoded once per process (about 3 MB of weights each).
fn builtin() -> &'static BTreeMap<String, Arc<NgramModel>> {
    static MODELS: OnceLock<BTreeMap<String, Arc<NgramModel>>> = OnceLock::new();
    MODELS.get_or_init(|| {
        BUILTIN
            .iter()
            .map(|(lang, bytes)| {
                let m = NgramModel::from_bytes(bytes)
                    .unwrap_or_else(|e| panic!("built-in model {lang}: {e}"));
                (lang.to_string(), Arc::new(m))
            })
            .collect()
    })
}

/// The model name recorded with an unscored mention.
pub const UNSCORED_MODEL: &str = "none";

/// Languages with a built-in classifier besides English.
pub fn builtin_languages() -> Vec<&'static str> {
    BUILTIN.iter().map(|(l, _)| *l).collect()
}

/// Sentiment for every language hark can score (see the module docs).
/// One text to classify: `(text, detected language, the query terms to mask)`.
pub type RouteItem<'a> = (&'a str, Option<&'a str>, &'a [Vec<String>]);

pub struct Router {
    english: Arc<dyn Classifier>,
    by_lang: BTreeMap<String, Arc<NgramModel>>,
    /// Classifiers that replace a language's n-gram model (the multilingual encoder's heads
    /// in the `bert` build, which blend with it).
    replaced: BTreeMap<String, Arc<dyn Classifier>>,
}

impl Router {
    /// `english` scores English (and undetected) text; `models_dir`'s `ngram/*.hng` files,
    /// when present, add languages or replace built-in ones.
    pub fn new(
        english: Arc<dyn Classifier>,
        models_dir: Option<&Path>,
    ) -> Result<Router, super::SentimentError> {
        let mut by_lang = builtin().clone();
        if let Some(dir) = models_dir.map(|d| d.join("ngram"))
            && let Ok(rd) = std::fs::read_dir(&dir)
        {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "hng") {
                    let bytes =
                        std::fs::read(&p).map_err(|source| super::SentimentError::Read {
                            path: p.clone(),
                            source,
                        })?;
                    let m = NgramModel::from_bytes(&bytes).map_err(|source| {
                        super::SentimentError::BadModelFile {
                            path: p.clone(),
                            source,
                        }
                    })?;
                    tracing::debug!(lang = m.lang(), path = %p.display(), "ngram model loaded");
                    by_lang.insert(m.lang().to_string(), Arc::new(m));
                }
            }
        }
        Ok(Router {
            english,
            by_lang,
            replaced: BTreeMap::new(),
        })
    }

    /// The n-gram model of each language.
    pub fn ngram_models(&self) -> &BTreeMap<String, Arc<NgramModel>> {
        &self.by_lang
    }

    /// Scores the given languages with these classifiers instead of their n-gram models.
    pub fn with_classifiers(mut self, classifiers: Vec<(String, Arc<dyn Classifier>)>) -> Router {
        self.replaced.extend(classifiers);
        self
    }

    /// The configured (English) model's name.
    pub fn english_model(&self) -> &str {
        self.english.model()
    }

    /// Every language with a classifier: `en` and the n-gram ones.
    pub fn languages(&self) -> Vec<String> {
        let mut v = vec!["en".to_string()];
        v.extend(self.by_lang.keys().cloned());
        v
    }

    /// Which classifier scores text of language `lang`.
    fn pick(&self, lang: Option<&str>) -> Option<&dyn Classifier> {
        match lang {
            None | Some("en") => Some(&*self.english),
            Some(l) => match self.replaced.get(l) {
                Some(c) => Some(&**c),
                None => self.by_lang.get(l).map(|m| &**m as &dyn Classifier),
            },
        }
    }

    /// Scores one text of language `lang` (None: unknown); the model name comes with it.
    pub fn classify(
        &self,
        text: &str,
        lang: Option<&str>,
        neutral: &[Vec<String>],
    ) -> (Scores, &str) {
        match self.pick(lang) {
            Some(c) => (c.classify(text, neutral), c.model()),
            None => (unscored(), UNSCORED_MODEL),
        }
    }

    /// Scores many texts, each with its language and brand terms; results in input order.
    /// Texts are grouped per classifier, so batching models (`bert`) still see batches.
    pub fn classify_batch(&self, items: &[RouteItem<'_>]) -> Vec<(Scores, &str)> {
        let mut out: Vec<Option<(Scores, &str)>> = vec![None; items.len()];
        let mut groups: BTreeMap<Option<&str>, Vec<usize>> = BTreeMap::new();
        for (i, (_, lang, _)) in items.iter().enumerate() {
            let key = match self.pick(*lang) {
                None => {
                    out[i] = Some((unscored(), UNSCORED_MODEL));
                    continue;
                }
                Some(_) if matches!(lang, None | Some("en")) => None,
                Some(_) => *lang,
            };
            groups.entry(key).or_default().push(i);
        }
        for (lang, idx) in groups {
            let c = self
                .pick(lang)
                .expect("grouped languages have a classifier");
            let batch: Vec<(&str, &[Vec<String>])> =
                idx.iter().map(|&i| (items[i].0, items[i].2)).collect();
            for (i, s) in idx.iter().zip(c.classify_batch(&batch)) {
                out[*i] = Some((s, c.model()));
            }
        }
        out.into_iter()
            .map(|o| o.expect("every item scored"))
            .collect()
    }
}

/// The answer for a language without a classifier.
pub fn unscored() -> Scores {
    Scores {
        label: Label::Unscored,
        score: 0.0,
        neg: 0.0,
        neu: 0.0,
        pos: 0.0,
    }
}

/// A mention's sentiment from a router answer.
pub fn to_sentiment((s, model): &(Scores, &str)) -> Sentiment {
    s.to_sentiment(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router() -> Router {
        Router::new(Arc::new(super::super::lexicon::Lexicon::new()), None).unwrap()
    }

    fn label(text: &str, lang: &str) -> Label {
        router().classify(text, Some(lang), &[]).0.label
    }

    #[test]
    fn every_builtin_model_loads_and_scores() {
        let r = router();
        assert_eq!(
            r.languages(),
            ["en", "ar", "de", "es", "fr", "hi", "it", "pt", "ru"]
        );
        let (s, model) = r.classify("Ce service est nul, je suis furieux", Some("fr"), &[]);
        assert_eq!((s.label, model), (Label::Negative, "ngram-fr"));
        let (s, model) = r.classify("I love it", Some("en"), &[]);
        assert_eq!((s.label, model), (Label::Positive, "lexicon"));
        let (s, model) = r.classify("Dit is prima", Some("nl"), &[]);
        assert_eq!((s.label, model), (Label::Unscored, "none"));
        assert_eq!(s.score, 0.0);
    }

    #[test]
    fn complaints_and_praise_per_language() {
        let cases: &[(&str, &str, Label)] = &[
            ("fr", "Ce service est nul, je suis furieux", Label::Negative),
            (
                "fr",
                "Merci beaucoup, c'est génial, j'adore !",
                Label::Positive,
            ),
            (
                "de",
                "Der Kundenservice ist eine Katastrophe, total enttäuscht",
                Label::Negative,
            ),
            (
                "de",
                "Super, vielen Dank, das ist wirklich toll!",
                Label::Positive,
            ),
            (
                "es",
                "Pésimo servicio, qué vergüenza, lo odio",
                Label::Negative,
            ),
            ("es", "Gracias, me encanta, es genial", Label::Positive),
            (
                "it",
                "Servizio pessimo, che schifo, una vergogna",
                Label::Negative,
            ),
            (
                "it",
                "Grazie mille, è bellissimo, lo adoro",
                Label::Positive,
            ),
            (
                "pt",
                "Péssimo atendimento, que vergonha, odeio",
                Label::Negative,
            ),
            ("pt", "Obrigado, adorei, é ótimo!", Label::Positive),
            ("ru", "Ужасный сервис, никогда больше", Label::Negative),
            (
                "ru",
                "Спасибо, отличный сервис, очень доволен",
                Label::Positive,
            ),
        ];
        for (lang, text, want) in cases {
            assert_eq!(label(text, lang), *want, "{lang}: {text}");
        }
    }

    #[test]
    fn negation_is_not_read_as_the_word_it_negates() {
        let r = router();
        for (lang, plain, negated) in [
            ("fr", "c'est mal", "c'est pas mal"),
            ("ru", "плохо", "не плохо"),
            ("de", "das ist schlecht", "das ist nicht schlecht"),
        ] {
            let p = r.classify(plain, Some(lang), &[]).0;
            let n = r.classify(negated, Some(lang), &[]).0;
            assert!(
                n.score > p.score,
                "{lang}: {plain} {p:?} vs {negated} {n:?}"
            );
        }
    }

    #[test]
    fn emoji_carry_tone() {
        let r = router();
        let sad = r.classify("Livraison reçue 😡😡", Some("fr"), &[]).0;
        let happy = r.classify("Livraison reçue 😍😍", Some("fr"), &[]).0;
        assert!(happy.score > sad.score, "{sad:?} {happy:?}");
    }

    #[test]
    fn brand_terms_are_neutral_in_every_language() {
        let r = router();
        // "Super" is a brand here; its own praise must not count.
        let brand = vec![vec!["super".to_string()]];
        let plain = r.classify("Super", Some("fr"), &[]).0;
        let masked = r.classify("Super", Some("fr"), &brand).0;
        assert!(masked.pos < plain.pos, "{plain:?} {masked:?}");
    }

    #[test]
    fn batches_keep_order_and_route_by_language() {
        let r = router();
        let items: Vec<RouteItem<'_>> = vec![
            ("I hate this", Some("en"), &[]),
            ("Ужасный сервис", Some("ru"), &[]),
            ("this is nice", None, &[]),
            ("とても良い", Some("ja"), &[]),
            ("C'est nul", Some("fr"), &[]),
        ];
        let out = r.classify_batch(&items);
        let models: Vec<&str> = out.iter().map(|(_, m)| *m).collect();
        assert_eq!(
            models,
            ["lexicon", "ngram-ru", "lexicon", "none", "ngram-fr"]
        );
        assert_eq!(out[0].0.label, Label::Negative);
        assert_eq!(out[3].0.label, Label::Unscored);
    }
}
