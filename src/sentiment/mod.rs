//! Sentiment classifiers. `lexicon` (VADER) is built in and the default; `bert` comes with
//! the `bert` cargo feature.
//!
//! Brand terms carry no sentiment: when a mention is classified for a query, the query's own
//! terms (given as folded token sequences, see [`crate::text`]) are neutral, so that
//! "@united my bag is lost" is negative although VADER's lexicon scores "united" +1.8.

#[cfg(feature = "bert")]
pub mod bert;
#[cfg(feature = "e5")]
pub mod e5;
pub mod eval;
pub mod head;
pub mod lexicon;
pub mod ngram;
pub mod rating;
pub mod router;
pub mod settings;
pub mod transformer;
pub mod vader;

use crate::mention::{Label, Sentiment};
use rayon::prelude::*;
use serde::Serialize;
pub use settings::{DEFAULT_BERT_MODEL, SentimentConfig};
use std::path::{Path, PathBuf};

/// A classifier's full answer, as `hark classify` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    pub label: Label,
    /// In [-1, 1].
    pub score: f64,
    pub neg: f64,
    pub neu: f64,
    pub pos: f64,
}

impl Scores {
    pub fn to_sentiment(&self, model: &str) -> Sentiment {
        Sentiment {
            label: self.label,
            score: self.score,
            model: model.to_string(),
        }
    }
}

/// Scores texts; implementations are shared across threads.
pub trait Classifier: Send + Sync {
    /// The model name recorded with each mention (`lexicon`, `bert`, ...).
    fn model(&self) -> &str;
    /// Scores `text`; the token sequences in `neutral` (brand terms) carry no sentiment.
    fn classify(&self, text: &str, neutral: &[Vec<String>]) -> Scores;
    /// Scores many texts, each with its own brand terms; results in input order. Models that
    /// run in batches (`bert`) override this; the default spreads single calls over cores.
    fn classify_batch(&self, items: &[(&str, &[Vec<String>])]) -> Vec<Scores> {
        items
            .par_iter()
            .map(|(text, neutral)| self.classify(text, neutral))
            .collect()
    }
}

/// The directory a `bert` model loads from: `[sentiment].bert_model` (relative to the
/// config's directory), falling back to the model shipped in the checkout when the default
/// path is used and absent.
pub fn bert_model_dir(settings: &SentimentConfig, root: &Path) -> PathBuf {
    let configured = root.join(&settings.bert_model);
    if !configured.exists() && settings.bert_model == Path::new(DEFAULT_BERT_MODEL) {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_BERT_MODEL);
        if shipped.exists() {
            return shipped;
        }
    }
    configured
}

/// Why a sentiment model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SentimentError {
    #[error("unknown sentiment model `{0}` (use lexicon, bert or a model directory)")]
    UnknownModel(String),
    #[error(
        "the `bert` model needs a build with `--features bert` (see README: Transformer sentiment)"
    )]
    NeedsBertFeature,
    #[error("cannot load the bert model: {0}")]
    Bert(String),
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    BadModelFile {
        path: PathBuf,
        source: ngram::ModelFileError,
    },
}

/// The deployment's sentiment: the configured model for English (see [`load`]) and the
/// per-language models (built in, plus `models/ngram/*.hng` next to the config).
pub fn load_router(
    name: &str,
    settings: &SentimentConfig,
    root: &Path,
) -> Result<router::Router, SentimentError> {
    let english: std::sync::Arc<dyn Classifier> = std::sync::Arc::from(load(name, settings, root)?);
    let router = router::Router::new(english, Some(&root.join("models")))?;
    #[cfg(feature = "e5")]
    let router = with_multilingual_encoder(router, root);
    Ok(router)
}

/// The `e5` (and `bert`) build's sentiment for the languages with a trained head: the multilingual
/// encoder blended with the n-gram model (see `sentiment/e5`). Without its weights the
/// n-gram models keep scoring, and the log says why.
#[cfg(feature = "e5")]
fn with_multilingual_encoder(router: router::Router, root: &Path) -> router::Router {
    let found = |rel: &str| {
        let local = root.join("models").join(rel);
        if local.exists() {
            local
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("models")
                .join(rel)
        }
    };
    let heads_path = found(e5::HEADS);
    let loaded = e5::Encoder::load(&found(e5::WEIGHTS)).and_then(|enc| {
        let heads = e5::Heads::read(&heads_path)?;
        if !heads.fit_this_encoder() {
            return Err(e5::E5Error::ForeignHeads {
                path: heads_path.clone(),
                found: heads.encoder,
            });
        }
        Ok((enc, heads))
    });
    match loaded {
        Ok((encoder, heads)) => {
            let classifiers =
                e5::classifiers(std::sync::Arc::new(encoder), &heads, router.ngram_models());
            tracing::info!(languages = classifiers.len(), "multilingual encoder loaded");
            router.with_classifiers(classifiers)
        }
        Err(e) => {
            tracing::warn!(error = %e, "multilingual encoder not used: non-English text is scored by the n-gram models");
            router
        }
    }
}

/// The classifier for `name`: `lexicon`, `bert` (the model of `[sentiment].bert_model`), or a
/// model directory (hark's own or a Hugging Face classifier; needs the `bert` feature).
pub fn load(
    name: &str,
    settings: &SentimentConfig,
    root: &Path,
) -> Result<Box<dyn Classifier>, SentimentError> {
    match name {
        "lexicon" | "vader" => Ok(Box::new(lexicon::Lexicon::new())),
        _ => load_bert(name, settings, root),
    }
}

#[cfg(feature = "bert")]
fn load_bert(
    name: &str,
    settings: &SentimentConfig,
    root: &Path,
) -> Result<Box<dyn Classifier>, SentimentError> {
    let dir = if name == "bert" {
        bert_model_dir(settings, root)
    } else if Path::new(name).is_dir() {
        PathBuf::from(name)
    } else if root.join("models").join(name).is_dir() {
        root.join("models").join(name)
    } else {
        return Err(SentimentError::UnknownModel(name.to_string()));
    };
    let defaults = bert::Options::default();
    let opts = bert::Options {
        threads: settings.threads.unwrap_or(defaults.threads),
        batch_tokens: settings.batch_tokens.unwrap_or(defaults.batch_tokens),
        device: settings.device.clone().unwrap_or(defaults.device),
        precision: settings.precision.clone().unwrap_or(defaults.precision),
    };
    bert::BertClassifier::load(&dir, &opts)
        .map(|c| Box::new(c) as Box<dyn Classifier>)
        .map_err(|e| SentimentError::Bert(e.to_string()))
}

#[cfg(not(feature = "bert"))]
fn load_bert(
    name: &str,
    _settings: &SentimentConfig,
    _root: &Path,
) -> Result<Box<dyn Classifier>, SentimentError> {
    if name == "bert" || Path::new(name).is_dir() {
        Err(SentimentError::NeedsBertFeature)
    } else {
        Err(SentimentError::UnknownModel(name.to_string()))
    }
}

/// Brand terms as the pipeline passes them: folded words, one list per term.
#[cfg(test)]
pub(crate) fn test_terms(ts: &[&str]) -> Vec<Vec<String>> {
    ts.iter()
        .map(|t| t.split(' ').map(str::to_string).collect())
        .collect()
}
