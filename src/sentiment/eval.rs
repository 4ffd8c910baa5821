//! Labelled data and the scores of a classifier on it: macro-averaged recall (the TweetEval
//! sentiment metric), accuracy, macro-F1 and the confusion matrix. Shared by `hark model eval`
//! and by training, which selects its best epoch on these numbers.

use crate::mention::Label;
use serde::Serialize;
use std::path::Path;

/// The three classes in a fixed order, used as indices everywhere in this module.
pub const LABELS: [Label; 3] = [Label::Negative, Label::Neutral, Label::Positive];

pub fn label_index(l: Label) -> usize {
    match l {
        Label::Negative => 0,
        // A prediction of "no classifier for this language" is scored as neutral: wrong
        // unless the text was neutral, which is what it would have been called before.
        Label::Neutral | Label::Unscored => 1,
        Label::Positive => 2,
    }
}

/// One labelled example.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub label: Label,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Line {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: no examples")]
    Empty { path: String },
}

/// Reads `label<TAB>text` lines (the format of `../shared/data/sentiment`). Labels are
/// `negative|neutral|positive` (any case) or `-1|0|1`; empty lines are skipped; anything
/// else is an error naming the line, so a silently misread file cannot skew a score.
pub fn read_tsv(path: &Path) -> Result<Vec<Example>, DataError> {
    let p = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: p.clone(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let err = |message: String| DataError::Line {
            path: p.clone(),
            line: i + 1,
            message,
        };
        let (label, body) = line
            .split_once('\t')
            .ok_or_else(|| err("expected `label<TAB>text`".into()))?;
        let label = parse_label(label).ok_or_else(|| {
            err(format!(
                "unknown label `{label}` (use negative, neutral or positive)"
            ))
        })?;
        out.push(Example {
            label,
            text: body.to_string(),
        });
    }
    if out.is_empty() {
        return Err(DataError::Empty { path: p });
    }
    Ok(out)
}

fn parse_label(s: &str) -> Option<Label> {
    match s.trim().to_ascii_lowercase().as_str() {
        "negative" | "neg" | "-1" => Some(Label::Negative),
        "neutral" | "neu" | "0" => Some(Label::Neutral),
        "positive" | "pos" | "1" => Some(Label::Positive),
        _ => None,
    }
}

/// Label counts in the order of [`LABELS`].
pub fn label_counts(data: &[Example]) -> [usize; 3] {
    let mut c = [0; 3];
    for e in data {
        c[label_index(e.label)] += 1;
    }
    c
}

/// Scores of predictions against gold labels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    pub examples: usize,
    /// Mean of the per-class recalls: the TweetEval sentiment metric.
    pub macro_recall: f64,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Per class, in the order negative, neutral, positive.
    pub recall: [f64; 3],
    pub precision: [f64; 3],
    pub f1: [f64; 3],
    /// `confusion[gold][predicted]`, classes in the order negative, neutral, positive.
    pub confusion: [[usize; 3]; 3],
}

impl Metrics {
    pub fn compute(gold: &[Label], predicted: &[Label]) -> Metrics {
        assert_eq!(gold.len(), predicted.len(), "one prediction per example");
        let mut confusion = [[0usize; 3]; 3];
        for (g, p) in gold.iter().zip(predicted) {
            confusion[label_index(*g)][label_index(*p)] += 1;
        }
        let n = gold.len();
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let mut recall = [0.0; 3];
        let mut precision = [0.0; 3];
        let mut f1 = [0.0; 3];
        for c in 0..3 {
            let tp = confusion[c][c];
            let gold_c: usize = confusion[c].iter().sum();
            let pred_c: usize = (0..3).map(|g| confusion[g][c]).sum();
            recall[c] = ratio(tp, gold_c);
            precision[c] = ratio(tp, pred_c);
            f1[c] = if recall[c] + precision[c] == 0.0 {
                0.0
            } else {
                2.0 * recall[c] * precision[c] / (recall[c] + precision[c])
            };
        }
        let correct: usize = (0..3).map(|c| confusion[c][c]).sum();
        Metrics {
            examples: n,
            macro_recall: recall.iter().sum::<f64>() / 3.0,
            accuracy: ratio(correct, n),
            macro_f1: f1.iter().sum::<f64>() / 3.0,
            recall,
            precision,
            f1,
            confusion,
        }
    }

    /// A human-readable summary for stderr/terminals.
    pub fn table(&self) -> String {
        let mut s = format!(
            "examples      {}\nmacro-recall  {:.4}\naccuracy      {:.4}\nmacro-F1      {:.4}\n\n",
            self.examples, self.macro_recall, self.accuracy, self.macro_f1
        );
        s.push_str("gold \\ predicted   negative   neutral  positive    recall  precision\n");
        for (g, row) in self.confusion.iter().enumerate() {
            s.push_str(&format!(
                "{:<17} {:>9} {:>9} {:>9} {:>9.4} {:>10.4}\n",
                LABELS[g].to_string(),
                row[0],
                row[1],
                row[2],
                self.recall[g],
                self.precision[g]
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Label::*;

    #[test]
    fn metrics_match_a_hand_computed_example() {
        // gold: 2 neg, 3 neu, 1 pos
        let gold = [Negative, Negative, Neutral, Neutral, Neutral, Positive];
        let pred = [Negative, Neutral, Neutral, Neutral, Positive, Positive];
        let m = Metrics::compute(&gold, &pred);
        assert_eq!(m.confusion, [[1, 1, 0], [0, 2, 1], [0, 0, 1]]);
        assert!((m.recall[0] - 0.5).abs() < 1e-12);
        assert!((m.recall[1] - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.recall[2] - 1.0).abs() < 1e-12);
        assert!((m.macro_recall - (0.5 + 2.0 / 3.0 + 1.0) / 3.0).abs() < 1e-12);
        assert!((m.accuracy - 4.0 / 6.0).abs() < 1e-12);
        // precision: neg 1/1, neu 2/3, pos 1/2
        let f1_neg = 2.0 * 0.5 / 1.5;
        let f1_neu = 2.0 / 3.0;
        let f1_pos = 2.0 * 0.5 / 1.5;
        assert!((m.macro_f1 - (f1_neg + f1_neu + f1_pos) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn a_class_never_predicted_scores_zero_not_nan() {
        let m = Metrics::compute(&[Negative, Positive], &[Positive, Positive]);
        assert_eq!(m.precision[0], 0.0);
        assert_eq!(m.f1[0], 0.0);
        assert!(m.macro_f1.is_finite());
    }

    #[test]
    fn tsv_errors_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.tsv");
        std::fs::write(&p, "positive\tgood\n\nNEGATIVE\tbad\r\nmeh\tx\n").unwrap();
        let e = read_tsv(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("d.tsv:4: unknown label `meh` (use negative, neutral or positive)"),
            "{e}"
        );
        std::fs::write(&p, "positive\tgood\n\nNEGATIVE\tbad\r\n0\tso so\n").unwrap();
        let d = read_tsv(&p).unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(
            d[1],
            Example {
                label: Negative,
                text: "bad".into()
            }
        );
        assert_eq!(label_counts(&d), [1, 1, 1]);
        std::fs::write(&p, "no tab here\n").unwrap();
        assert!(
            read_tsv(&p)
                .unwrap_err()
                .to_string()
                .contains(":1: expected")
        );
    }
}
