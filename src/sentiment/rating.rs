//! A review's sentiment from its star rating and its text together.
//!
//! Reviews (App Store, Google Play, Trustpilot) come with the reviewer's own verdict: 1 to 5
//! stars. Text classifiers miss much of it: sarcasm ("Great, another update that logs me
//! out"), mixed reviews, languages without a classifier. The stars decide the direction and
//! the text refines the strength:
//!
//! - 1–2 stars: **negative**, whatever the words (a 1-star review is never positive).
//! - 3 stars: the text's label.
//! - 4–5 stars: **positive**, unless the text is negative, then neutral (mixed).
//! - The score is the mean of the text's score and the stars' (1★ −1, 2★ −0.5, 3★ 0, 4★
//!   +0.5, 5★ +1), moved just inside the label's range when the two disagree.
//! - Text in a language without a classifier is scored by its stars alone.
//!
//! The model is recorded as the text model's name plus `+rating` (`lexicon+rating`), or
//! `rating` alone.

use super::Scores;
use crate::mention::Label;

/// The score a star rating stands for, in [-1, 1].
pub fn stars_score(rating: u8) -> f64 {
    (f64::from(rating.clamp(1, 5)) - 3.0) / 2.0
}

/// Combines the text's scores (from model `text_model`) with a 1–5 star rating.
pub fn blend(text: &Scores, text_model: &str, rating: u8) -> (Scores, String) {
    let stars = stars_score(rating);
    if text.label == Label::Unscored {
        let label = match rating {
            0..=2 => Label::Negative,
            3 => Label::Neutral,
            _ => Label::Positive,
        };
        let scores = Scores {
            label,
            score: stars,
            neg: 0.0,
            neu: 0.0,
            pos: 0.0,
        };
        return (scores, "rating".to_string());
    }
    let label = match rating {
        0..=2 => Label::Negative,
        3 => text.label,
        _ if text.label == Label::Negative => Label::Neutral,
        _ => Label::Positive,
    };
    // VADER's neutral band is (-0.05, 0.05); keep the score on the label's side of it.
    let mean = (text.score + stars) / 2.0;
    let score = match label {
        Label::Negative => mean.min(-0.05),
        Label::Positive => mean.max(0.05),
        _ => mean.clamp(-0.049, 0.049),
    };
    let scores = Scores {
        label,
        score,
        ..*text
    };
    (scores, format!("{text_model}+rating"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(label: Label, score: f64) -> Scores {
        Scores {
            label,
            score,
            neg: 0.0,
            neu: 1.0,
            pos: 0.0,
        }
    }

    #[test]
    fn one_star_is_never_positive() {
        // Sarcasm the lexicon reads as praise.
        let (s, model) = blend(&text(Label::Positive, 0.8), "lexicon", 1);
        assert_eq!(s.label, Label::Negative);
        assert!(s.score <= -0.05, "{}", s.score);
        assert_eq!(model, "lexicon+rating");
        let (s, _) = blend(&text(Label::Neutral, 0.0), "lexicon", 2);
        assert_eq!(s.label, Label::Negative);
        assert!((s.score + 0.25).abs() < 1e-9);
    }

    #[test]
    fn three_stars_follow_the_text_and_high_ratings_are_positive_or_mixed() {
        assert_eq!(
            blend(&text(Label::Negative, -0.6), "lexicon", 3).0.label,
            Label::Negative
        );
        let (s, _) = blend(&text(Label::Neutral, 0.0), "lexicon", 5);
        assert_eq!((s.label, s.score), (Label::Positive, 0.5));
        let (s, _) = blend(&text(Label::Negative, -0.9), "lexicon", 4);
        assert_eq!(s.label, Label::Neutral);
        assert!(s.score.abs() < 0.05);
    }

    #[test]
    fn unscored_text_is_scored_by_its_stars() {
        let (s, model) = blend(&super::super::router::unscored(), "none", 1);
        assert_eq!(
            (s.label, s.score, model.as_str()),
            (Label::Negative, -1.0, "rating")
        );
        let (s, _) = blend(&super::super::router::unscored(), "none", 4);
        assert_eq!((s.label, s.score), (Label::Positive, 0.5));
    }
}
