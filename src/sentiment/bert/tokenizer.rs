//! Word-piece (BERT, DistilBERT) and byte-level BPE (RoBERTa) tokenizers from the model
//! directory's vocabulary files, via rust_tokenizers.

use super::BertError;
use rust_tokenizers::tokenizer::{
    BertTokenizer, RobertaTokenizer, Tokenizer as _, TruncationStrategy,
};
use std::path::Path;

// One per loaded model: the size difference between the variants costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Tokenizer {
    WordPiece(BertTokenizer),
    Bpe(RobertaTokenizer),
}

impl Tokenizer {
    /// The tokenizer for a model directory: `vocab.txt` (word pieces), or `vocab.json` +
    /// `merges.txt` (byte-level BPE). Casing follows `tokenizer_config.json` when present.
    pub fn from_dir(dir: &Path, bpe: bool) -> Result<Tokenizer, BertError> {
        let tok_config: serde_json::Value =
            std::fs::read_to_string(dir.join("tokenizer_config.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
        let lower = tok_config["do_lower_case"].as_bool();
        let err = |path: &Path, e: String| BertError::Tokenizer {
            path: path.to_path_buf(),
            message: e,
        };
        if bpe {
            let vocab = super::require(&dir.join("vocab.json"))?;
            let merges = super::require(&dir.join("merges.txt"))?;
            let add_prefix_space = tok_config["add_prefix_space"].as_bool().unwrap_or(false);
            RobertaTokenizer::from_file(&vocab, &merges, lower.unwrap_or(false), add_prefix_space)
                .map(Tokenizer::Bpe)
                .map_err(|e| err(&vocab, e.to_string()))
        } else {
            let vocab = super::require(&dir.join("vocab.txt"))?;
            let lower = lower.unwrap_or(true);
            let strip_accents = tok_config["strip_accents"].as_bool().unwrap_or(lower);
            BertTokenizer::from_file(&vocab, lower, strip_accents)
                .map(Tokenizer::WordPiece)
                .map_err(|e| err(&vocab, e.to_string()))
        }
    }

    /// Token ids with the special tokens added, truncated to `max_len`.
    pub fn encode(&self, text: &str, max_len: usize) -> Vec<i64> {
        let t = match self {
            Tokenizer::WordPiece(t) => {
                t.encode(text, None, max_len, &TruncationStrategy::LongestFirst, 0)
            }
            Tokenizer::Bpe(t) => {
                t.encode(text, None, max_len, &TruncationStrategy::LongestFirst, 0)
            }
        };
        t.token_ids
    }

    /// The id padding is filled with.
    pub fn pad_id(&self) -> i64 {
        use rust_tokenizers::vocab::Vocab as _;
        match self {
            Tokenizer::WordPiece(t) => t.vocab().token_to_id(t.vocab().get_pad_value()),
            Tokenizer::Bpe(t) => t.vocab().token_to_id(t.vocab().get_pad_value()),
        }
    }
}
