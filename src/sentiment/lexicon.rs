//! The `lexicon` classifier: VADER (Hutto & Gilbert, 2014) with brand-term masking.

use super::vader::Vader;
use super::{Classifier, Scores};
use crate::mention::Label;
use crate::text;

/// VADER's customary thresholds on the compound score.
pub const POSITIVE_AT: f64 = 0.05;
pub const NEGATIVE_AT: f64 = -0.05;

pub struct Lexicon {
    vader: Vader,
}

impl Lexicon {
    pub fn new() -> Self {
        Lexicon {
            vader: Vader::new(),
        }
    }
}

impl Default for Lexicon {
    fn default() -> Self {
        Self::new()
    }
}

pub fn label_for(compound: f64) -> Label {
    if compound >= POSITIVE_AT {
        Label::Positive
    } else if compound <= NEGATIVE_AT {
        Label::Negative
    } else {
        Label::Neutral
    }
}

impl Classifier for Lexicon {
    fn model(&self) -> &str {
        "lexicon"
    }

    fn classify(&self, input: &str, neutral: &[Vec<String>]) -> Scores {
        let s = if neutral.is_empty() {
            self.vader.polarity_scores(input)
        } else {
            self.vader
                .polarity_scores_masked(input, &|words| brand_mask(words, neutral))
        };
        Scores {
            label: label_for(s.compound),
            score: s.compound,
            neg: s.neg,
            neu: s.neu,
            pos: s.pos,
        }
    }
}

/// Marks the VADER words that are part of an occurrence of a brand term. Words are
/// tokenized with the project's shared tokenizer, so "@United," and "#bestbuy" line up with
/// the query terms exactly as the matcher sees them; a multi-word term ("best buy") only
/// masks where its words occur in sequence, so "the best prices" keeps its sentiment.
pub fn brand_mask(words: &[&str], neutral: &[Vec<String>]) -> Vec<bool> {
    let mut mask = vec![false; words.len()];
    // Flatten the words into tokens, remembering which word each token came from.
    let mut tokens: Vec<(String, usize)> = Vec::with_capacity(words.len());
    for (i, w) in words.iter().enumerate() {
        for t in text::tokenize(w) {
            tokens.push((t.text, i));
        }
    }
    for term in neutral {
        if term.is_empty() || term.len() > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - term.len() {
            if term.iter().zip(&tokens[start..]).all(|(a, (b, _))| a == b) {
                for (_, w) in &tokens[start..start + term.len()] {
                    mask[*w] = true;
                }
            }
        }
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::test_terms as terms;

    #[test]
    fn brand_named_like_a_sentiment_word_is_neutral() {
        let c = Lexicon::new();
        let united = terms(&["united"]);
        let plain = c.classify("@united my bag is lost", &[]);
        let masked = c.classify("@united my bag is lost", &united);
        assert_ne!(
            plain.label,
            Label::Negative,
            "plain VADER reads @united as positive"
        );
        assert_eq!(masked.label, Label::Negative);
        assert!(masked.score < 0.0);
    }

    #[test]
    fn multi_word_brand_masks_only_the_phrase() {
        let c = Lexicon::new();
        let bb = terms(&["best buy"]);
        assert_eq!(c.classify("Best Buy", &bb).label, Label::Neutral);
        assert_eq!(
            c.classify("Best Buy has the best prices", &bb).label,
            Label::Positive
        );
        let mask = brand_mask(&["Best", "Buy", "has", "the", "best"], &bb);
        assert_eq!(mask, vec![true, true, false, false, false]);
    }

    #[test]
    fn other_sentiment_brands() {
        let c = Lexicon::new();
        assert_eq!(
            c.classify("Dove soap", &terms(&["dove"])).label,
            Label::Neutral
        );
        assert_eq!(
            c.classify("Delta lost my luggage again, terrible", &terms(&["delta"]))
                .label,
            Label::Negative
        );
        assert_eq!(
            c.classify("#Virgin flight was awful", &terms(&["virgin"]))
                .label,
            Label::Negative
        );
    }
}
