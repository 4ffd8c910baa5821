//! Sentiment classifiers. `lexicon` (VADER) is built in and the default; `bert` comes with
//! the `bert` cargo feature.
//!
//! Brand terms carry no sentiment: when a mention is classified for a query, the query's own
//! terms (given as folded token sequences, see [`crate::text`]) are neutral, so that
//! "@united my bag is lost" is negative although VADER's lexicon scores "united" +1.8.

pub mod lexicon;
pub mod vader;

use crate::mention::{Label, Sentiment};
use serde::Serialize;

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

/// One text at a time; implementations are shared across threads.
pub trait Classifier: Send + Sync {
    /// The model name recorded with each mention (`lexicon`, `bert`, ...).
    fn model(&self) -> &str;
    /// Scores `text`; the token sequences in `neutral` (brand terms) carry no sentiment.
    fn classify(&self, text: &str, neutral: &[Vec<String>]) -> Scores;
}

/// The classifier named in the config.
pub fn by_name(name: &str) -> Result<Box<dyn Classifier>, String> {
    match name {
        "lexicon" | "vader" => Ok(Box::new(lexicon::Lexicon::new())),
        "bert" => Err("the `bert` model needs a build with `--features bert` (see README)".into()),
        other => Err(format!(
            "unknown sentiment model `{other}` (use `lexicon` or `bert`)"
        )),
    }
}
