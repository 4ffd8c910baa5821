//! The parts of transformer classification that need no libtorch, so that they are tested
//! in every build: length-bucketed batching, brand-term masking, mapping a model's labels
//! onto negative/neutral/positive, and scores from class probabilities.

use super::Scores;
use crate::mention::Label;
use std::borrow::Cow;

/// Groups example indices into batches of similar length, longest first: each batch holds at
/// most `max_batch` examples and `budget` padded tokens.
pub fn plan_batches(lengths: &[usize], budget: usize, max_batch: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    let mut batches = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut longest = 0;
    for i in order {
        // Sorted longest first, so the first member of a batch sets its padded width.
        if current.is_empty() {
            longest = lengths[i].max(1);
        }
        if !current.is_empty()
            && ((current.len() + 1) * longest > budget || current.len() >= max_batch)
        {
            batches.push(std::mem::take(&mut current));
            longest = lengths[i].max(1);
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Maps each output of a Hugging Face classifier to negative (0), neutral (1) or positive (2)
/// from `id2label`: names containing neg/neu/pos; `LABEL_0..2` in TweetEval's order
/// (negative, neutral, positive) or `LABEL_0..1` as negative, positive; and star ratings
/// (1–2 stars negative, 3 neutral, 4–5 positive).
pub fn label_classes(config: &serde_json::Value) -> Result<Vec<usize>, String> {
    let map = config["id2label"]
        .as_object()
        .ok_or("no `id2label`: not a sequence-classification model")?;
    let n = map.len();
    let mut out = vec![usize::MAX; n];
    for (k, v) in map {
        let i: usize = k
            .parse()
            .ok()
            .filter(|&i| i < n)
            .ok_or_else(|| format!("id2label key `{k}` is not an index below {n}"))?;
        let name = v.as_str().unwrap_or("").to_ascii_lowercase();
        let stars = name
            .split_whitespace()
            .next()
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|_| name.contains("star"));
        out[i] = if name.contains("neg") {
            0
        } else if name.contains("neu") {
            1
        } else if name.contains("pos") {
            2
        } else if let Some(s) = stars {
            match s {
                0..=2 => 0,
                3 => 1,
                _ => 2,
            }
        } else if let Some(k) = name
            .strip_prefix("label_")
            .and_then(|k| k.parse::<usize>().ok())
        {
            match (n, k) {
                (3, k) => k,
                (2, 0) => 0,
                (2, 1) => 2,
                _ => return Err(format!("cannot tell what label `{name}` means")),
            }
        } else {
            return Err(format!(
                "cannot tell whether label `{name}` is negative, neutral or positive"
            ));
        };
    }
    Ok(out)
}

/// The brand terms of the query replaced by `@user`, the placeholder the training tweets use
/// for any account: the classifier then reads "@united my bag is lost" as it reads
/// "@user my bag is lost", and a brand named like a sentiment word carries none.
pub fn mask_brand_terms<'a>(text: &'a str, neutral: &[Vec<String>]) -> Cow<'a, str> {
    if neutral.is_empty() {
        return Cow::Borrowed(text);
    }
    let tokens = crate::text::tokenize(text);
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for term in neutral.iter().filter(|t| !t.is_empty()) {
        if term.len() > tokens.len() {
            continue;
        }
        for start in 0..=tokens.len() - term.len() {
            let run = &tokens[start..start + term.len()];
            if term.iter().zip(run).all(|(a, b)| *a == b.text) {
                let first = &run[0];
                let from = first.start - first.sigil.map_or(0, char::len_utf8);
                spans.push((from, run[run.len() - 1].end));
            }
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (s, e) in spans {
        if e <= at {
            continue;
        }
        if s >= at {
            out.push_str(&text[at..s]);
            out.push_str("@user");
        }
        at = e;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// Label and score of class probabilities: the most probable class, and P(pos) − P(neg).
pub fn scores(p: [f32; 3]) -> Scores {
    let [neg, neu, pos] = p.map(f64::from);
    let label = if neg >= neu && neg >= pos {
        Label::Negative
    } else if pos > neu {
        Label::Positive
    } else {
        Label::Neutral
    };
    Scores {
        label,
        score: (pos - neg).clamp(-1.0, 1.0),
        neg,
        neu,
        pos,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sentiment::test_terms as terms;

    #[test]
    fn brand_terms_become_the_account_placeholder() {
        let t = terms(&["united"]);
        assert_eq!(
            mask_brand_terms("@united my bag is lost", &t),
            "@user my bag is lost"
        );
        assert_eq!(mask_brand_terms("#United, again!", &t), "@user, again!");
        assert_eq!(mask_brand_terms("reunited at last", &t), "reunited at last");
        let bb = terms(&["best buy", "bestbuy"]);
        assert_eq!(
            mask_brand_terms("Best Buy has the best prices, says @BestBuy", &bb),
            "@user has the best prices, says @user"
        );
        assert_eq!(
            mask_brand_terms("Café Crème", &terms(&["cafe creme"])),
            "@user"
        );
        assert_eq!(mask_brand_terms("no brand here", &[]), "no brand here");
    }

    #[test]
    fn batches_are_length_sorted_and_within_budget() {
        let lengths = [5, 40, 7, 40, 12, 3, 39, 6];
        let b = plan_batches(&lengths, 90, 3);
        let flat: Vec<usize> = b.iter().flatten().copied().collect();
        let mut sorted = flat.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            (0..lengths.len()).collect::<Vec<_>>(),
            "each index once"
        );
        for batch in &b {
            let longest = batch.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(batch.len() * longest <= 90 && batch.len() <= 3, "{batch:?}");
        }
        // Longest first, and neighbours in length share a batch.
        assert_eq!(b[0], vec![1, 3]);
        assert_eq!(b[1], vec![6, 4]);
        assert_eq!(b[2], vec![2, 7, 0]);
        // A single sequence longer than the budget still gets a batch of its own.
        assert_eq!(plan_batches(&[500, 2], 90, 8), vec![vec![0], vec![1]]);
    }

    #[test]
    fn labels_map_by_name() {
        let cfg = |j: serde_json::Value| serde_json::json!({ "id2label": j });
        assert_eq!(
            label_classes(&cfg(
                serde_json::json!({"0":"negative","1":"neutral","2":"positive"})
            )),
            Ok(vec![0, 1, 2])
        );
        assert_eq!(
            label_classes(&cfg(serde_json::json!({"0":"POSITIVE","1":"NEGATIVE"}))),
            Ok(vec![2, 0])
        );
        assert_eq!(
            label_classes(&cfg(
                serde_json::json!({"0":"LABEL_0","1":"LABEL_1","2":"LABEL_2"})
            )),
            Ok(vec![0, 1, 2])
        );
        assert_eq!(
            label_classes(&cfg(
                serde_json::json!({"0":"1 star","1":"2 stars","2":"3 stars","3":"4 stars","4":"5 stars"})
            )),
            Ok(vec![0, 0, 1, 2, 2])
        );
        assert!(label_classes(&cfg(serde_json::json!({"0":"joy","1":"anger"}))).is_err());
        assert!(label_classes(&serde_json::json!({})).is_err());
    }

    #[test]
    fn scores_follow_the_contract() {
        let s = scores([0.7, 0.2, 0.1]);
        assert_eq!(s.label, Label::Negative);
        assert!((s.score - (0.1 - 0.7)).abs() < 1e-6);
        assert_eq!(scores([0.1, 0.3, 0.6]).label, Label::Positive);
        assert_eq!(scores([0.2, 0.5, 0.3]).label, Label::Neutral);
    }

    proptest::proptest! {
        #[test]
        fn every_text_lands_in_exactly_one_batch_within_budget(
            lengths in proptest::collection::vec(1usize..200, 0..300),
            budget in 1usize..5000,
            max_batch in 1usize..64,
        ) {
            let b = plan_batches(&lengths, budget, max_batch);
            let mut seen = vec![0u32; lengths.len()];
            for batch in &b {
                proptest::prop_assert!(!batch.is_empty() && batch.len() <= max_batch);
                let longest = batch.iter().map(|&i| lengths[i]).max().unwrap();
                proptest::prop_assert!(batch.len() == 1 || batch.len() * longest <= budget);
                for &i in batch {
                    seen[i] += 1;
                }
            }
            proptest::prop_assert!(seen.iter().all(|&c| c == 1));
        }

        #[test]
        fn masking_never_panics_and_removes_every_occurrence(text in "\\PC{0,60}", word in "[a-z]{2,6}") {
            proptest::prop_assume!(word != "user");
            let masked = mask_brand_terms(&text, &[vec![word.clone()]]);
            let left = crate::text::tokenize(&masked);
            proptest::prop_assert!(left.iter().all(|t| t.text != word));
        }
    }
}
