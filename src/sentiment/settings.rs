//! `[sentiment]` in hark.toml: which model scores English text and how the transformer runs.
//! (The config loader reads it; the sentiment stage owns it.)

use serde::Deserialize;
use std::path::PathBuf;

/// `[sentiment]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentimentConfig {
    /// `lexicon` (VADER, the default) or `bert`.
    #[serde(default = "default_model")]
    pub model: String,
    /// The `bert` model directory: hark's own (manifest.json) or a Hugging Face classifier.
    #[serde(default = "default_bert_model")]
    pub bert_model: PathBuf,
    /// Classifier worker threads (default: all cores).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Padded tokens per batch at most (default 2048).
    #[serde(default)]
    pub batch_tokens: Option<usize>,
    /// `auto` (CUDA when available), `cpu` or `cuda`.
    #[serde(default)]
    pub device: Option<String>,
    /// `int8` (the default; hark's own model on CPU) or `f32`.
    #[serde(default)]
    pub precision: Option<String>,
}

/// Where `hark model train` puts, and `model = "bert"` finds, the shipped model.
pub const DEFAULT_BERT_MODEL: &str = "models/bert";

fn default_bert_model() -> PathBuf {
    PathBuf::from(DEFAULT_BERT_MODEL)
}

fn default_model() -> String {
    "lexicon".into()
}

impl Default for SentimentConfig {
    fn default() -> Self {
        SentimentConfig {
            model: default_model(),
            bert_model: default_bert_model(),
            threads: None,
            batch_tokens: None,
            device: None,
            precision: None,
        }
    }
}
